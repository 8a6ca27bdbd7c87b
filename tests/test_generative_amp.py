"""The generative drivers over AMP at N = 2000 against state evolution (PHYSICS.md §4).

Rademacher spiked Wigner at lam = 2 is in the easy phase: the diffusion and erasure paths have no
first-order transition, AMP along them is Bayes-optimal, and the samples are posterior samples.  So
(Nishimori) the overlap of a sample with the planted signal and the overlap between two independent
samples both equal the state-evolution overlap m* = F(lam m*) = 0.6184 at s = 0.  Tolerance: 3/sqrt(N) =
0.067 for the mean over samples (a sample's overlap fluctuates by O(1/sqrt(N)) around its instance value,
which itself deviates from m* by O(1/sqrt(N))); the observed deviations are below 0.04.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import spinglass as sg
from analysis.state_evolution import StateEvolution
from samplers import Autoregressive, GeometricSchedule, StochasticInterpolant, StochasticLocalization
from samplers.denoisers import AMPDenoiser

N = 2000
LAM = 2.0
N_SAMPLES = 4
TOL = 3.0 / np.sqrt(N)

AMP = functools.partial(AMPDenoiser, warm_start=True, tol=1e-5, max_iter=400, seed=0)

DRIVERS = {
    "diffusion": lambda: StochasticLocalization(AMP, GeometricSchedule(T=30, n_steps=40)),
    "flow": lambda: StochasticInterpolant(AMP, n_steps=20, integrator="heun", T=900),
    "autoregressive": lambda: Autoregressive(AMP, reveal_per_step=40),
}


@pytest.fixture(scope="module")
def model():
    return sg.SpikedWigner(N, LAM, sg.Rademacher(), seed=0)


@pytest.fixture(scope="module")
def m_se():
    return StateEvolution.wigner(sg.Rademacher(), LAM).iterate("gaussian", 0.0, m0=1.0).m


def test_state_evolution_value(m_se):
    assert abs(m_se - 0.6184475) < 1e-6


@pytest.mark.parametrize("driver", list(DRIVERS))
def test_overlaps_match_state_evolution_and_nishimori(driver, model, m_se):
    res = DRIVERS[driver]().sample(model, N_SAMPLES, seed=1)
    x = res.x
    assert np.all(np.abs(x) == 1)
    with_planted = np.abs(x @ model.planted) / N
    pairs = np.abs(x @ x.T / N)[np.triu_indices(N_SAMPLES, 1)]
    assert abs(with_planted.mean() - m_se) < TOL, f"{driver}: overlap with planted {with_planted}"
    assert abs(pairs.mean() - m_se) < TOL, f"{driver}: overlap between samples {pairs}"
    assert abs(with_planted.mean() - pairs.mean()) < TOL
    assert res.work["denoiser_unconverged"] == 0


def test_a_wrong_snr_breaks_the_identity(model, m_se):
    """Control: diffusion with the denoiser of a weaker model (lam = 1.5, m = 0.44) gives overlaps far from m*."""
    weak = sg.SpikedWigner(N, 1.5, sg.Rademacher(), seed=0)
    res = StochasticLocalization(AMP, GeometricSchedule(T=30, n_steps=40)).sample(weak, N_SAMPLES, seed=1)
    with_planted = np.abs(res.x @ model.planted) / N
    assert abs(with_planted.mean() - m_se) > 2 * TOL


# ---------------------------------------------------------------------------------------------------------
# where the lens predicts failure: sparse Rademacher rho = 0.05 (x = Delta/rho^2 = 1/lam)
# ---------------------------------------------------------------------------------------------------------
RHO = 0.05


def _energy_tolerance(lam: float) -> float:
    """Instance fluctuation of E(x*)/N = -(lam/4)(|x*|^2/N)^2 - sqrt(lam/N) sum_{i<j} W_ij x*_i x*_j / N:
    (lam/2) sqrt((1 - rho)/(rho N)) from the norm of the sparse signal plus sqrt(lam/(2N)) from the noise."""
    return lam / 2 * np.sqrt((1 - RHO) / (RHO * N)) + np.sqrt(lam / (2 * N))


@pytest.mark.parametrize("x, fails", [(1.2, True), (0.9, False)])
def test_diffusion_fails_where_the_lens_predicts_it(x, fails):
    """x = 1.2 lies in the hard phase (x_alg = 0.995 < x < x_IT = 1.338): the diffusion path has a
    first-order transition, AMP follows the uninformed branch, and the samples miss the posterior: their
    overlap with x* is ~0 while the Bayes-optimal overlap is 0.74, their energy sits far above E(x*)
    (energy form of the Nishimori identity), and the denoiser's self-overlap jumps along t while its
    overlap with x* stays ~0.  x = 0.9 (lam above lam_alg): no transition on the path, samples at the
    state-evolution overlap and at the planted energy, no jump."""
    from analysis.metrics import energy_nishimori_gap
    from analysis.transitions import analyze_path

    lam = 1.0 / x
    se = StateEvolution.wigner(sg.SparseRademacher(RHO), lam)
    assert analyze_path(se, "gaussian").sampler_predicted_to_fail is fails
    m_bo = se.iterate("gaussian", 0.0, m0=1.0).m
    model = sg.SpikedWigner(N, lam, sg.SparseRademacher(RHO), seed=0)
    amp = functools.partial(AMPDenoiser, warm_start=True, tol=1e-5, max_iter=150, seed=0)
    sampler = StochasticLocalization(amp, GeometricSchedule(T=30, n_steps=40), trajectory=True)
    with pytest.warns() if fails else _no_warning():
        res = sampler.sample(model, N_SAMPLES, seed=1)
    with_planted = np.abs(res.x @ model.planted) / N
    gap = energy_nishimori_gap(model, res.x)
    tol_e = _energy_tolerance(lam)
    tr = res.trace
    if fails:
        assert np.all(with_planted < 0.1) and m_bo > 0.7
        assert gap > 2 * tol_e, f"energy gap {gap:.3f} vs tolerance {tol_e:.3f}"
        # on this 40-step grid the rise of q (0.1 -> 0.7 over t in [0.08, 0.35]) shows as steps of > 0.1
        assert np.all(tr["jump_size"] > 0.1) and np.all(tr["jump_t"] < 1.0)
        assert np.all(tr["self_overlap"][:, -1] - np.abs(tr["overlap_planted"][:, -1]) > 0.5)
    else:
        assert abs(with_planted.mean() - m_bo) < TOL * np.sqrt(1 / RHO) / 2
        assert abs(gap) < tol_e, f"energy gap {gap:.3f} vs tolerance {tol_e:.3f}"
        assert np.all(tr["jump_size"] < 0.05)


class _no_warning:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
