"""Planted 5-NAE-SAT population dynamics along the generative paths (side information in the kernel,
coexistence planes, generative thresholds): the default kernel is unchanged, the limits of the channels,
agreement of the two starts at an easy density,
coexistence between the generative threshold and alpha_d, monotonicity along the path, validation.

Populations are small (1000-5000 members); the informed and uninformed starts share their random
environment (``naesat_population_pair``), so where one branch exists they agree to ~1e-4 or better and
the coexistence test needs no statistical margin.  Reference numbers (measured, see the final report of
the generative thresholds in ``analysis.theory.population_paths``): alpha_d ≈ 9.47 for k = 5.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from analysis.theory.population_naesat import (
    gaussian_log2cosh_mean,
    naesat_population_dynamics,
    naesat_population_pair,
    naesat_reference_free_entropy,
)
from analysis.theory.population_paths import (
    default_grid,
    naesat_generative_threshold,
    naesat_path_plane,
    naesat_path_point,
)

ALPHA_D_K5 = 9.47  # dynamical threshold of planted 5-NAE-SAT (literature, also naesat_thresholds)


# --------------------------------------------------------------------------------------------------
# defaults reproduce the kernel without side information
# --------------------------------------------------------------------------------------------------
def test_default_arguments_reproduce_the_plain_kernel():
    """Numbers recorded with the kernel before side information was added (same machine: identical to
    the last digit; the relative tolerance 1e-12 only allows for a different libm)."""
    old = {"informed": (0.8982847572956427, 0.925, 0.01894915855223022),
           "uninformed": (3.84244475970905e-05, 0.05625000000000002, 6.0167729129360904e-09)}
    for init, (ov, om, dphi) in old.items():
        for extra in ({}, {"side_snr": 0.0, "revealed_fraction": 0.0}):
            r = naesat_population_dynamics(5, 10.0, population=400, sweeps=12, measure=4, init=init, seed=11,
                                           **extra)
            assert r.overlap == pytest.approx(ov, rel=1e-12, abs=1e-15)
            assert r.overlap_map == pytest.approx(om, rel=1e-12)
            assert r.delta_free_entropy == pytest.approx(dphi, rel=1e-12, abs=1e-15)
            assert "side_snr" not in r.params
    r = naesat_population_dynamics(3, 4.0, 2.0, population=300, sweeps=10, measure=3, init="uninformed", seed=5)
    assert r.overlap == pytest.approx(0.6682216610171428, rel=1e-12)
    assert r.delta_free_entropy == pytest.approx(0.0012853115206837805, rel=1e-10)


# --------------------------------------------------------------------------------------------------
# channel limits and the reference free entropy
# --------------------------------------------------------------------------------------------------
def test_log2cosh_mean_and_reference_free_entropy():
    assert gaussian_log2cosh_mean(0.0) == math.log(2.0)
    def integrand(z: float, g: float) -> float:
        h = abs(g + math.sqrt(g) * z)
        return math.exp(-z * z / 2) / math.sqrt(2 * math.pi) * (h + math.log1p(math.exp(-2 * h)))

    for g in (0.01, 0.7, 5.0, 80.0):
        exact, _ = integrate.quad(integrand, -40, 40, args=(g,), points=[-math.sqrt(g)], limit=400, epsabs=1e-13)
        assert gaussian_log2cosh_mean(g) == pytest.approx(exact, abs=1e-10)
    assert naesat_reference_free_entropy(5, 9.0, revealed_fraction=0.25) == pytest.approx(
        0.75 * math.log(2) + 9.0 * math.log(1 - 2.0**-4))


def test_channel_limits():
    # alpha = 0: the Gaussian channel alone, overlap E tanh(h) and free entropy E log 2cosh h (exact)
    r = naesat_population_dynamics(5, 0.0, population=20000, sweeps=20, measure=10, side_snr=1.0, seed=0)
    z, w = np.polynomial.hermite_e.hermegauss(80)
    assert r.overlap == pytest.approx(np.sum(w * np.tanh(1.0 + z)) / w.sum(), abs=2e-3)
    assert abs(r.delta_free_entropy) < 1e-12
    # all variables revealed: one configuration, overlap 1, free entropy log 1 = 0
    for init in ("informed", "uninformed"):
        r = naesat_population_dynamics(5, 9.0, population=500, sweeps=5, measure=2, init=init,
                                       revealed_fraction=1.0, seed=1)
        assert r.overlap == 1.0 and r.overlap_map == 1.0
        assert r.free_entropy == pytest.approx(0.0, abs=1e-12)
    # strong Gaussian channel: both starts go to overlap ~1
    inf, unf = naesat_population_pair(5, 9.0, population=1000, sweeps=30, measure=10, side_snr=30.0, seed=2)
    assert inf.overlap > 0.9999 and unf.overlap > 0.9999


# --------------------------------------------------------------------------------------------------
# the lens: agreement at an easy density, coexistence in the hard region, monotonicity
# --------------------------------------------------------------------------------------------------
def test_starts_agree_at_an_easy_density():
    """alpha = 6, well below the generative thresholds (~8.5-8.8): one branch everywhere."""
    for path, us in (("gaussian", (0.1, 0.4, 1.5)), ("erasure", (0.05, 0.2, 0.5))):
        for u in us:
            p = naesat_path_point(5, 6.0, path, u, population=1500, sweeps=60, measure=20, seed=3)
            assert abs(p.gap) < 1e-3
            assert abs(p.dphi_informed - p.dphi_uninformed) < 1e-4
            assert p.overlap_uninformed > 0.02
    # independent (uncoupled) runs agree within their sampling noise
    a = naesat_population_dynamics(5, 6.0, population=3000, sweeps=60, measure=20, init="informed",
                                   side_snr=0.4, seed=5)
    b = naesat_population_dynamics(5, 6.0, population=3000, sweeps=60, measure=20, init="uninformed",
                                   side_snr=0.4, seed=6)
    assert a.overlap == pytest.approx(b.overlap, abs=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("path, grid", [("gaussian", np.linspace(0.1, 0.3, 9)),
                                        ("erasure", np.linspace(0.04, 0.2, 9))])
def test_coexistence_between_generative_threshold_and_alpha_d(path, grid):
    """alpha = 9.1 lies between the measured generative thresholds and alpha_d: along both paths there is
    a window where the informed start keeps a large overlap and the uninformed one does not, with the
    spinodals sp1 < sp2 inside the grid; at gamma = theta = 0 the informed start falls back (alpha < alpha_d)."""
    plane = naesat_path_plane(5, [9.1], path, grid, population=2000, sweeps=100, measure=30, overlap_gap=0.05,
                              seed=1)
    gap = plane.overlap_informed[0] - plane.overlap_uninformed[0]
    assert gap.max() > 0.2
    assert plane.coexistence[0].any() and not plane.coexistence[0, 0] and not plane.coexistence[0, -1]
    assert grid[0] < plane.sp1[0] < plane.sp2[0] < grid[-1]
    assert plane.tricritical[0] == 9.1
    p0 = naesat_path_point(5, 9.1, path, 0.0, population=2000, sweeps=100, measure=30, seed=2)
    assert p0.overlap_informed < 0.01
    import matplotlib

    matplotlib.use("Agg")
    ax = plane.plot()
    assert ax.get_ylabel()
    assert len(plane.to_rows()) == grid.size


def test_informed_overlap_is_monotone_along_the_path():
    """alpha = 10 > alpha_d: the informed branch exists from u = 0 and its overlap grows with gamma / theta."""
    for path, us in (("gaussian", (0.0, 0.1, 0.4, 1.0, 3.0)), ("erasure", (0.0, 0.1, 0.3, 0.6, 0.9))):
        ov = [naesat_path_point(5, 10.0, path, u, population=1500, sweeps=40, measure=15, seed=4).overlap_informed
              for u in us]
        assert ov[0] > 0.85
        assert np.all(np.diff(ov) > 0.0), (path, ov)


@pytest.mark.slow
def test_generative_threshold_is_below_alpha_d():
    """Coarse, cheap version of the measurement (1000 members, 80 sweeps, bisection width 0.3, Gaussian
    path): the tricritical density lies in (7.5, alpha_d)."""
    res = naesat_generative_threshold(5, "gaussian", alpha_range=(7.5, 9.3), grid=np.linspace(0.05, 0.35, 7),
                                      tol=0.3, population=1000, sweeps=80, measure=20, overlap_gap=0.05,
                                      refine=1, seed=0)
    assert res.found
    assert 7.5 < res.alpha - res.alpha_err and res.alpha + res.alpha_err < ALPHA_D_K5
    assert res.alpha_err <= 0.15
    assert any(r["coexistence"] for r in res.rows)


# --------------------------------------------------------------------------------------------------
# reproducibility and validation
# --------------------------------------------------------------------------------------------------
def test_pair_is_reproducible_and_coupled():
    a = naesat_population_pair(5, 8.0, population=300, sweeps=10, measure=5, side_snr=0.5, seed=9)
    b = naesat_population_pair(5, 8.0, population=300, sweeps=10, measure=5, side_snr=0.5, seed=9)
    np.testing.assert_array_equal(a[0].population, b[0].population)
    np.testing.assert_array_equal(a[1].trace["overlap"], b[1].trace["overlap"])
    assert a[0].init == "informed" and a[1].init == "uninformed"
    assert a[0].params["side_snr"] == 0.5


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: naesat_population_dynamics(5, 8.0, side_snr=-0.1), r"^side_snr must be >= 0"),
        (lambda: naesat_population_dynamics(5, 8.0, side_snr=math.inf), r"^side_snr must be finite"),
        (lambda: naesat_population_dynamics(5, 8.0, revealed_fraction=1.5), r"^revealed_fraction must be <= 1"),
        (lambda: naesat_population_dynamics(5, 8.0, revealed_fraction=-0.5), r"^revealed_fraction must be >= 0"),
        (lambda: naesat_population_pair(5, 8.0, side_snr=math.nan), r"^side_snr must not be NaN"),
        (lambda: naesat_path_plane(5, [8.0], "diffusion", [0.1]), r"^path must be one of"),
        (lambda: naesat_path_plane(5, [8.0], "erasure", [0.1, 1.2]), r"^grid must be"),
        (lambda: naesat_path_plane(5, [8.0], "gaussian", [0.2, 0.1]), r"^grid must be strictly increasing"),
        (lambda: naesat_path_plane(5, [-1.0], "gaussian", [0.1]), r"^alphas must be"),
        (lambda: naesat_path_plane(5, [8.0], "gaussian", [0.1], overlap_gap=0.0), r"^overlap_gap must be > 0"),
        (lambda: naesat_generative_threshold(5, "gaussian", tol=0.0), r"^tol must be > 0"),
        (lambda: naesat_generative_threshold(5, "erasure", alpha_range=(9.0, 8.0)), r"^alpha_range must be"),
        (lambda: naesat_generative_threshold(5, "erasure", grid=[0.0]), r"^grid must contain values > 0"),
        (lambda: naesat_generative_threshold(5, "erasure", refine=-1), r"^refine must be >= 0"),
        (lambda: default_grid("flow"), r"^path must be one of"),
    ],
)
def test_bad_arguments_name_the_parameter(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
