"""The vectorised acceptance test of the checkerboard and chromatic float paths (Gaussian couplings).

``kernels_lattice.float_flips`` must take exactly the decisions of the per-site float path,
bits < ceil(P(dE) 2^53) with P from ``np.exp`` (``kernels_lattice._threshold``), including the draws at and
next to each threshold; a mutant that trusts the polynomial exp alone is caught by the same comparison.
``exp_approx`` stays within its stated error on a fine grid.  The two kernels' float paths are checked in
law against exact enumeration (marginal law of a few sites, so that the number of cells stays small beside
the number of samples), with a doubled-beta mutant that must fail, and their traced energies against the
energies recomputed from the final states.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from numba import njit

import spinglass as sg
from samplers import HeatBath, Metropolis
from samplers.mcmc import kernels_lattice as kl

N_SAMPLES = 12000
SWEEPS = 60


@njit(cache=False)
def _decisions(beta, heat_bath, dE, bits):
    m = dE.size
    flip = np.empty(m, np.int64)
    unsure = np.empty(m, np.int64)
    n_unsure = kl.float_flips(beta, heat_bath, dE, bits, flip, unsure, m)
    return flip, n_unsure


@njit(cache=False)
def _thresholds(beta, heat_bath, dE):
    out = np.empty(dE.size, np.int64)
    for k in range(dE.size):
        out[k] = kl._threshold(beta, heat_bath, dE[k])
    return out


@njit(cache=False)
def _approx_only(beta, heat_bath, dE, bits):
    """Mutant: decide with the polynomial exp alone (no exact re-decision near the threshold)."""
    out = np.empty(dE.size, np.int64)
    for k in range(dE.size):
        if heat_bath:
            z = beta * dE[k]
            w = kl.exp_approx(max(-abs(z), -kl.EXP_CLAMP))
            p = (w if z > 0 else 1.0) / (1.0 + w)
        else:
            p = 1.0 if dE[k] <= 0 else kl.exp_approx(max(-beta * dE[k], -kl.EXP_CLAMP))
        out[k] = bits[k] < p * 9007199254740992.0
    return out


@njit(cache=False)
def _exp_grid(a):
    out = np.empty(a.size)
    for k in range(a.size):
        out[k] = kl.exp_approx(a[k])
    return out


def test_exp_approx_is_within_its_stated_error():
    a = np.linspace(-kl.EXP_CLAMP, 0.0, 2_000_001)
    rel = np.abs(_exp_grid(a) / np.exp(a) - 1.0)
    assert rel.max() < 4e-7
    assert 40 * rel.max() < kl.EXP_TOL


def _cases(seed: int):
    """dE from every regime (negative, zero, tiny, typical, past the clamp, huge) and draws at, next to and
    around each exact threshold T, plus uniform draws."""
    rng = np.random.default_rng(seed)
    dE = np.concatenate([rng.normal(0.0, 3.0, 400), [0.0, -0.0, 1e-300, 5e-17, 1e-9, 30.0, 80.0, 800.0, 1e5, -1e5],
                         rng.uniform(0.0, 60.0, 200)])
    return rng, dE


@pytest.mark.parametrize("heat_bath", [False, True])
@pytest.mark.parametrize("beta", [0.05, 0.7, 1.0, 3.3])
def test_float_flips_take_the_exact_decisions(beta, heat_bath):
    rng, dE = _cases(int(beta * 100) + heat_bath)
    T = _thresholds(beta, heat_bath, dE)
    offsets = np.array([-3, -2, -1, 0, 1, 2, 3])
    near = np.clip(T[:, None] + offsets[None, :], 0, 2**53 - 1)
    rel = np.clip((T[:, None] * (1.0 + np.array([-2, -1, 1, 2])[None, :] * kl.EXP_TOL)).astype(np.int64), 0,
                  2**53 - 1)
    uniform = rng.integers(0, 2**53, size=(dE.size, 8))
    bits = np.concatenate([near, rel, uniform], axis=1)
    dEs = np.repeat(dE, bits.shape[1])
    bits = bits.ravel().astype(np.int64)
    flip, n_unsure = _decisions(beta, heat_bath, dEs, bits)
    expected = (bits < np.repeat(T, near.shape[1] + rel.shape[1] + uniform.shape[1])).astype(np.int64)
    np.testing.assert_array_equal(flip, expected)
    assert 0 < n_unsure < bits.size  # the exact re-decision is exercised, and rare enough to matter
    # the same comparison rejects decisions from the polynomial alone (the draws next to a threshold)
    assert not np.array_equal(_approx_only(beta, heat_bath, dEs, bits), expected)


def test_uniform_draws_are_rarely_re_decided():
    rng = np.random.default_rng(0)
    dE = rng.normal(0.0, 4.0, 200_000)
    bits = rng.integers(0, 2**53, size=dE.size)
    _, n_unsure = _decisions(1.0, False, dE, bits)
    # probability about 2 EXP_TOL P per site: a handful per 2e5 uniform draws
    assert n_unsure < 200_000 * 4 * kl.EXP_TOL + 20


def _marginal_test(model, samples, sites, reps=200, seed=0):
    """(TV of the empirical marginal law of ``sites`` to the exact one, its 0.999 null quantile x 1.1)."""
    ex = model.exact()
    conf = np.asarray(ex.configurations)
    w = 1 << np.arange(len(sites))
    idx_exact = ((conf[:, sites] > 0) * w).sum(axis=1)
    p = np.bincount(idx_exact, weights=np.asarray(ex.probabilities), minlength=w.sum() + 1)
    p = p / p.sum()
    idx = ((np.asarray(samples)[:, sites] > 0) * w).sum(axis=1)
    q = np.bincount(idx, minlength=p.size) / len(samples)
    counts = np.random.default_rng(seed).multinomial(len(samples), p, size=reps)
    null = 0.5 * np.abs(counts / len(samples) - p).sum(axis=1)
    return 0.5 * np.abs(q - p).sum(), 1.1 * float(np.quantile(null, 0.999))


CASES = {
    "checkerboard": (lambda beta: sg.EdwardsAnderson((4, 4), "gaussian", beta=beta, seed=2), "checkerboard"),
    "chromatic": (lambda beta: sg.EdwardsAnderson((3, 5), "gaussian", beta=beta, seed=3), "chromatic"),
}


@pytest.mark.parametrize("cls", [Metropolis, HeatBath])
@pytest.mark.parametrize("case", list(CASES))
def test_float_paths_in_law_with_a_doubled_beta_mutant(case, cls):
    make, order = CASES[case]
    model = make(0.8)
    sites = [0, 1, 2, 5, 6, 9, 10, 13]
    res = cls(sweeps=SWEEPS, order=order).sample(model, N_SAMPLES, seed=5)
    assert res.sampler["order_used"] == order
    tv, bound = _marginal_test(model, res.x, sites)
    assert tv < bound, f"{cls.__name__} {order}: TV {tv:.4f} >= {bound:.4f}"
    mutant = copy.copy(model)
    mutant.beta = 2.0 * model.beta
    bad = cls(sweeps=SWEEPS, order=order).sample(mutant, N_SAMPLES, seed=5)
    tv_bad, _ = _marginal_test(model, bad.x, sites)
    assert tv_bad > bound, f"doubled-beta mutant passed: TV {tv_bad:.4f} <= {bound:.4f}"


@pytest.mark.parametrize("case", list(CASES))
def test_float_paths_trace_the_recomputed_energy(case):
    make, order = CASES[case]
    model = make(0.9)
    for cls in (Metropolis, HeatBath):
        res = cls(sweeps=20, order=order).sample(model, 4, seed=1)
        np.testing.assert_allclose(res.trace["energy"][:, -1], model.energy(res.x), rtol=1e-12, atol=1e-10)
