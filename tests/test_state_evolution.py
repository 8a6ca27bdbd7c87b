"""State evolution, RS potentials and the transition finder against closed forms (docs/physics.md §4).

Closed forms used (derived in the comments): the spherical (Gaussian-prior) spiked 3-tensor, where
F(g) = g/(1+g) makes every fixed-point curve rational, and the continuous transition of the Rademacher /
Gaussian spiked Wigner model at lam = 1.
"""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from analysis.theory.state_evolution import ERASURE, GAUSSIAN, SIGNAL, StateEvolution, as_path
from analysis.theory.transitions import analyze_path, model_thresholds, tricritical_point
from spinglass.priors import Gaussian, Rademacher, SparseRademacher, prior_from_name

SPHERICAL = Gaussian()


# --- spherical p = 3: closed forms -----------------------------------------------------------------------
# signal path: m = g/(1+g) with g = m^2/Delta  =>  m (1 - m) = Delta (m > 0): exists iff Delta <= 1/4.
# potential at that point: Phi = (3m - 2m^2) / (6 (1-m)) + log(1-m)/2, and Phi(m = 0) = 0.
def spherical_it_delta() -> float:
    m = brentq(lambda m: (3 * m - 2 * m**2) / (6 * (1 - m)) + 0.5 * math.log(1 - m), 0.5 + 1e-9, 0.999)
    return m * (1 - m)


def test_spherical_3spin_model_thresholds_match_closed_forms():
    th = model_thresholds(SPHERICAL, 3)
    assert th.Delta_dyn == pytest.approx(0.25, abs=1e-10)
    assert th.Delta_IT == pytest.approx(spherical_it_delta(), abs=1e-10)
    assert th.Delta_alg == 0.0 and not th.continuous
    assert th.temperature(th.Delta_dyn) == pytest.approx(math.sqrt(3 / 8), abs=1e-9)


def test_spherical_3spin_tricritical_points_match_closed_forms():
    # Gaussian path: s(g) = g - F^2/Delta, ds/dg = 0  <=>  Delta = 2 m (1-m)^2, maximal at m = 1/3:
    # Delta = 8/27, g = 1/2, s = 1/2 - (1/9)/(8/27) = 1/8.
    tri = tricritical_point(SPHERICAL, 3, "gaussian")
    assert tri.Delta == pytest.approx(8 / 27, abs=1e-10)
    assert tri.u == pytest.approx(1 / 8, abs=1e-7)
    assert tri.m == pytest.approx(1 / 3, abs=1e-4)  # flat maximum: m is determined to ~sqrt(tol)
    # erasure path: theta(m) = m + (m^3 - m^2)/Delta, theta' = 1 + (3m^2 - 2m)/Delta, min at m = 1/3:
    # Delta = 1/3, theta = 1/3 - 2/9 = 1/9.
    tri = tricritical_point(SPHERICAL, 3, "erasure")
    assert tri.Delta == pytest.approx(1 / 3, abs=1e-10)
    assert tri.u == pytest.approx(1 / 9, abs=1e-7)
    assert tri.m == pytest.approx(1 / 3, abs=1e-4)


@pytest.mark.parametrize("Delta", [0.26, 0.28, 0.29])
def test_spherical_3spin_gaussian_path_report(Delta):
    """Between T_d and the tricritical point: two spinodals at closed-form s, one first-order point."""
    rep = analyze_path(StateEvolution(SPHERICAL, 3, Delta), "gaussian")
    # spinodals: 2 m (1-m)^2 = Delta, s = m/(1-m) - m^2/Delta
    roots = np.sort([r.real for r in np.roots([2, -4, 2, -Delta]) if abs(r.imag) < 1e-12 and 0 < r.real < 1])
    expected = sorted(m / (1 - m) - m**2 / Delta for m in roots)
    assert [s.u for s in rep.spinodals] == pytest.approx(expected, abs=1e-9)
    assert len(rep.first_order) == 1
    fo = rep.first_order[0]
    assert expected[0] < fo.u < expected[1]
    # the potentials of both branches cross there (recomputed here from the potential formula)
    se = StateEvolution(SPHERICAL, 3, Delta)
    phi_lo = float(GAUSSIAN.potential(se, fo.m_low, fo.u))
    phi_hi = float(GAUSSIAN.potential(se, fo.m_high, fo.u))
    assert abs(phi_lo - phi_hi) < 1e-10
    # just before: low branch is optimal; just after: high branch
    near = analyze_path(se, "gaussian", u_range=(fo.u - 1e-6, fo.u + 1e-6), n_points=2)
    assert near.m_bayes[0] == pytest.approx(fo.m_low, abs=1e-4)
    assert near.m_bayes[1] == pytest.approx(fo.m_high, abs=1e-4)
    assert rep.sampler_predicted_to_fail
    (a, b), = rep.failure_intervals
    assert a == pytest.approx(fo.u, abs=1e-12) and b == pytest.approx(expected[1], abs=1e-12)


@pytest.mark.parametrize("Delta", [0.26, 0.3, 0.33])
def test_spherical_3spin_erasure_path_report(Delta):
    rep = analyze_path(StateEvolution(SPHERICAL, 3, Delta), "erasure")
    # spinodals: 3 m^2 - 2 m + Delta = 0, theta = m + (m^3 - m^2)/Delta
    disc = 4 - 12 * Delta
    ms = [(2 - math.sqrt(disc)) / 6, (2 + math.sqrt(disc)) / 6]
    expected = sorted(m + (m**3 - m**2) / Delta for m in ms)
    expected = [t for t in expected if 0 <= t <= 1]
    assert sorted(s.u for s in rep.spinodals) == pytest.approx(expected, abs=1e-9)
    assert rep.sampler_predicted_to_fail
    assert len(rep.first_order) == 1


def test_spherical_no_transition_above_tricritical():
    for path, Delta in (("gaussian", 0.30), ("erasure", 0.34)):
        rep = analyze_path(StateEvolution(SPHERICAL, 3, Delta), path)
        assert not rep.spinodals and not rep.first_order and not rep.sampler_predicted_to_fail
        assert np.allclose(rep.m_uninformed, rep.m_bayes) and np.allclose(rep.m_informed, rep.m_bayes)


# --- residuals of every reported point ------------------------------------------------------------------
CASES = [(SPHERICAL, 3, 0.27), (Rademacher(), 3, 0.33), (Rademacher(), 3, 0.29), (SparseRademacher(0.08), 2, 1.03),
         (SparseRademacher(0.05), 2, 1.4), (SparseRademacher(0.05), 2, 1.2)]


@pytest.mark.parametrize(("prior", "p", "Delta"), CASES, ids=[f"{pr}-p{p}-D{d}" for pr, p, d in CASES])
def test_every_reported_point_solves_its_equations(prior, p, Delta):
    se = StateEvolution(prior, p, Delta)
    n_points = 0
    for path in (GAUSSIAN, ERASURE):
        rep = analyze_path(se, path)
        for s in rep.spinodals:
            assert s.residual_fixed_point < 1e-8 and s.residual_marginal < 1e-8
            # recomputed independently: T_u(m) = m and T_u'(m) = 1
            assert abs(float(path.fixed_point_map(se, s.m, s.u)) - s.m) < 1e-8
            assert abs(float(path.map_slope(se, s.m, s.u)) - 1.0) < 1e-8
            n_points += 1
        for f in rep.first_order:
            assert f.residual_potential < 1e-8 and f.residual_fixed_point < 1e-8
            assert abs(float(path.potential(se, f.m_low, f.u)) - float(path.potential(se, f.m_high, f.u))) < 1e-8
            n_points += 1
        # the branches are fixed points, the BO branch has the largest potential among them
        ok = np.isfinite(rep.m_bayes)
        for m in (rep.m_uninformed, rep.m_informed, rep.m_bayes):
            assert np.max(np.abs(path.fixed_point_map(se, m[ok], rep.u[ok]) - m[ok])) < 1e-9
        assert np.all(rep.phi_bayes[ok] >= np.maximum(rep.phi_uninformed[ok], rep.phi_informed[ok]) - 1e-12)
    assert n_points > 0


def test_iteration_agrees_with_branches():
    """Plain SE iteration from m = 1e-9 and m = 1 lands on the uninformed and informed branches."""
    se = StateEvolution(SparseRademacher(0.08), 2, 1.03)
    for path in (GAUSSIAN, ERASURE):
        rep = analyze_path(se, path, n_points=81)
        far = np.ones(rep.u.size, dtype=bool)
        for s in rep.spinodals:  # critical slowing down near spinodals
            far &= np.abs(rep.u - s.u) > 2e-3
        u = rep.u[far]
        lo = se.iterate(path, u, 1e-9, max_iter=200_000)
        hi = se.iterate(path, u, 1.0, max_iter=200_000)
        assert lo.converged.all() and hi.converged.all()
        assert np.max(np.abs(lo.m - rep.m_uninformed[far])) < 1e-7
        assert np.max(np.abs(hi.m - rep.m_informed[far])) < 1e-7


# --- continuous transitions -------------------------------------------------------------------------------
@pytest.mark.parametrize("prior", [Rademacher(), Gaussian()], ids=["rademacher", "gaussian"])
def test_wigner_continuous_transition_at_lam_one(prior):
    th = model_thresholds(prior, 2)
    assert th.continuous
    assert th.lam_IT == pytest.approx(1.0, abs=1e-12) and th.lam_dyn == th.lam_alg == th.lam_IT
    for lam in (0.5, 0.8, 0.99, 1.01, 1.5, 2.0, 3.0):
        se = StateEvolution.wigner(prior, lam)
        for path in ("gaussian", "erasure"):
            rep = analyze_path(se, path)
            assert not rep.first_order, (lam, path)
            assert not rep.sampler_predicted_to_fail, (lam, path)
        # at s = 0 the overlap is 0 below lam = 1 and positive above
        m0 = analyze_path(se, "gaussian").m_bayes[0]
        assert (m0 > 1e-6) == (lam > 1)


def test_gaussian_prior_wigner_closed_form_overlap():
    # Gaussian prior, p = 2, s = 0: m = lam m/(1 + lam m)  =>  m = 1 - 1/lam for lam > 1
    for lam in (1.5, 2.0, 4.0):
        rep = analyze_path(StateEvolution.wigner(Gaussian(), lam), "gaussian", n_points=11)
        assert rep.m_bayes[0] == pytest.approx(1 - 1 / lam, abs=1e-10)


# --- sparse Rademacher: first order ---------------------------------------------------------------------
@pytest.mark.parametrize("rho", [0.05, 0.08])
def test_sparse_rademacher_hard_phase(rho):
    th = model_thresholds(SparseRademacher(rho), 2)
    assert not th.continuous
    assert th.lam_dyn < th.lam_IT < th.lam_alg
    assert th.lam_alg > 1.0  # m = 0 loses stability at lam = 1 onto a small-m branch (docs/physics.md §4)
    rep = analyze_path(StateEvolution(SparseRademacher(rho), 2, 1.0), SIGNAL, u_range=(0.5, 1.5), n_points=2001)
    # the algorithmic branch jumps at the spinodal lam_alg, from small to large m
    spin = [s for s in rep.spinodals if s.kind == "vanishes"]
    assert any(abs(s.u - th.lam_alg) < 1e-12 for s in spin)
    k = np.searchsorted(rep.u, th.lam_alg)
    assert rep.m_uninformed[k - 1] < 0.2 and rep.m_uninformed[k] > 0.5
    # and the Bayes-optimal branch jumps at lam_IT, below it
    near = analyze_path(rep_se := StateEvolution(SparseRademacher(rho), 2, 1.0), SIGNAL,
                        u_range=(th.lam_IT - 1e-7, th.lam_IT + 1e-7), n_points=2)
    assert near.m_bayes[1] - near.m_bayes[0] > 0.2
    assert analyze_path(rep_se, SIGNAL, u_range=(0.5, 1.5)).first_order[-1].u == pytest.approx(th.lam_IT, abs=1e-12)
    # in between, the path starts in the hard phase: diffusion fails from s = 0
    mid = StateEvolution.wigner(SparseRademacher(rho), 0.5 * (th.lam_IT + th.lam_alg))
    rep = analyze_path(mid, "gaussian")
    assert rep.sampler_predicted_to_fail and rep.failure_intervals[0][0] == 0.0


# --- bad input --------------------------------------------------------------------------------------------
def test_bad_inputs():
    se = StateEvolution.wigner(Rademacher(), 2.0)
    with pytest.raises(ValueError, match="s must lie"):
        analyze_path(se, "gaussian", u_range=(-0.1, 1.0))
    with pytest.raises(ValueError, match="theta must lie"):
        analyze_path(se, "erasure", u_range=(0.0, 1.2))
    with pytest.raises(ValueError, match="theta must lie"):
        se.iterate("erasure", [0.5, -0.1])
    with pytest.raises(ValueError, match="path must be"):
        as_path("bogus")
    with pytest.raises(ValueError, match="prior must be one of"):
        prior_from_name("bernoulli")
    with pytest.raises(TypeError, match="prior must be"):
        StateEvolution("rademacher", 2, 1.0)
    with pytest.raises(ValueError, match="Delta must be > 0"):
        StateEvolution(Rademacher(), 2, 0.0)
    with pytest.raises(ValueError, match="p must be >= 2"):
        StateEvolution(Rademacher(), 1, 1.0)
    with pytest.raises(ValueError, match="u_lo < u_hi"):
        analyze_path(se, "gaussian", u_range=(1.0, 1.0))
    with pytest.raises(TypeError, match="se must be"):
        analyze_path(Rademacher(), "gaussian")
    with pytest.raises(ValueError, match="damping"):
        se.iterate("gaussian", 0.1, damping=1.0)
    it = se.iterate("gaussian", 0.0, 1e-9, max_iter=3)
    assert not it.converged.any()  # reported, never a silent number
