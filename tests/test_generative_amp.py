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
