"""Kaufman's exact finite-torus 2D Ising solution: against enumeration, Onsager, and MCMC at L = 32."""

from __future__ import annotations

import math

import numpy as np
import pytest

import spinglass as sg
from samplers import HeatBath, Metropolis
from spinglass.closed_forms import ISING_2D_TC, ising_torus, onsager_energy

BETA_C = 1.0 / ISING_2D_TC


@pytest.mark.parametrize("shape", [(3, 3), (3, 4), (4, 3), (4, 4), (4, 5), (5, 4)])
@pytest.mark.parametrize("beta", [0.1, 0.3, BETA_C, 0.5, 1.0])
def test_matches_enumeration_to_1e10(shape, beta):
    L, M = shape
    ex = sg.EdwardsAnderson(shape, "ferro", beta=beta).exact()
    p, e = ex.probabilities, ex.energies
    u = p @ e / (L * M)
    c = beta**2 * (p @ e**2 - (p @ e) ** 2) / (L * M)
    got = ising_torus(L, M, beta)
    assert got.log_Z == pytest.approx(ex.log_Z, rel=1e-10)
    assert got.energy_per_spin == pytest.approx(u, rel=1e-10)
    assert got.specific_heat_per_spin == pytest.approx(c, rel=1e-8)    # a central difference: 1e-9 relative


def test_a_dropped_sign_term_is_caught():
    """Mutant check: Z_1 + Z_2 + Z_3 alone (without the signed Z_4) misses the enumeration."""
    from spinglass import closed_forms as cf

    logs, signs, _ = cf._log_terms(4, 4, 0.3)
    full = math.log(0.5) + 8 * math.log(2 * math.sinh(0.6)) + math.log(np.sum(signs * np.exp(logs)))
    partial = math.log(0.5) + 8 * math.log(2 * math.sinh(0.6)) + math.log(np.sum((signs * np.exp(logs))[:3]))
    exact = sg.EdwardsAnderson((4, 4), "ferro", beta=0.3).exact().log_Z
    assert full == pytest.approx(exact, rel=1e-12) and abs(partial - exact) > 1e-3


def test_large_tori_are_stable_and_approach_onsager():
    for beta in (0.3, 0.5):
        assert ising_torus(512, 512, beta).energy_per_spin == pytest.approx(onsager_energy(beta), abs=1e-12)
    at_c = [ising_torus(L, L, BETA_C) for L in (16, 64, 256, 1024)]
    assert all(np.isfinite([r.log_Z, r.energy_per_spin, r.specific_heat_per_spin]).all() for r in at_c)
    assert np.all(np.diff([r.specific_heat_per_spin for r in at_c]) > 0)        # c_v grows like log L at T_c
    assert at_c[-1].energy_per_spin == pytest.approx(-math.sqrt(2), abs=2e-3)
    with pytest.raises(ValueError, match="beta must be > 0"):
        ising_torus(4, 4, 0.0)


def _chain_estimates(res, model, beta, n_chains):
    e = np.asarray(model.energy(res.x))
    per_chain = np.stack([e[res.chain == k] for k in range(n_chains)])
    n = model.n
    return per_chain.mean(axis=1) / n, beta**2 * per_chain.var(axis=1, ddof=1) / n


@pytest.mark.slow
@pytest.mark.parametrize(("sampler", "beta"), [(Metropolis(sweeps=500, thin=10, order="checkerboard"), 0.3),
                                               (Metropolis(sweeps=500, thin=10, order="checkerboard"), 0.5),
                                               (HeatBath(sweeps=500, thin=10), 0.5)],
                         ids=["metropolis-0.3", "metropolis-0.5", "heatbath-0.5"])
def test_mcmc_on_l32_matches_energy_and_specific_heat(sampler, beta):
    """64 independent chains x 200 states 10 sweeps apart, ordered start; errors from the spread over chains."""
    L, C, per = 32, 64, 200
    model = sg.EdwardsAnderson((L, L), "ferro", beta=beta)
    res = sampler.sample(model, C * per, n_chains=C, seed=1, init=np.ones(L * L))
    u, c = _chain_estimates(res, model, beta, C)
    exact = ising_torus(L, L, beta)
    se_u, se_c = u.std(ddof=1) / math.sqrt(C), c.std(ddof=1) / math.sqrt(C)
    assert abs(u.mean() - exact.energy_per_spin) < 3 * se_u
    assert abs(c.mean() - exact.specific_heat_per_spin) < 3 * se_c
    # mutant: the exact answer at a 2 % different temperature is far outside the error bars
    wrong = ising_torus(L, L, 1.02 * beta)
    assert abs(u.mean() - wrong.energy_per_spin) > 5 * se_u
