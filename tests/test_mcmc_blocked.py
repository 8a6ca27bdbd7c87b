"""The dense binary kernel with a delayed (blocked) local-field update, and its float32 couplings option.

``kernels_binary.dense_blocked_sweeps`` must be the sequential kernel's chain bit for bit (states, fields,
energies, traces, acceptance counts and random streams), for every block size, both local updates, the
acceptance-table path and the beta = 0 / inf limits.  Its law is checked against exact enumeration with a
small block (so that the diagonal-block correction matters), with a mutant that decides a block on the
fields of its start (no diagonal-block correction) and must be rejected by the same bound.  The float32
option samples the model with couplings rounded to float32: law against enumeration (mutant: doubled
beta), fields and energies consistent with the rounded couplings, validation and settings.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from numba import njit

import spinglass as sg
from analysis.measures.metrics import empirical_tv, tv_null_quantile
from samplers import HeatBath, Metropolis
from samplers.mcmc import kernels_binary as kb
from samplers.mcmc.adapters import adapter_for
from samplers.mcmc.rng import new_streams, xoshiro_next
from spinglass.scalar import PairwiseModel

N_SAMPLES = 20000
SWEEPS = 40


def _state(model, n_chains: int, seed: int, coupling_dtype: str = "float64"):
    ad = adapter_for(model, "sequential").with_coupling_dtype(coupling_dtype)
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, size=(n_chains, model.n))
    return ad, ad.init_state(s), new_streams(rng, n_chains)


def _run(kind: str, ad, st0, rng0, betas, n_sweeps, heat_bath, block=kb.DENSE_BLOCK):
    st = {k: v.copy() for k, v in st0.items()}
    rng = rng0.copy()
    trace = np.empty((len(betas), 3, n_sweeps))
    accepted = np.zeros(len(betas), dtype=np.int64)
    if kind == "sequential":
        kb.binary_pairwise_sweeps(True, st["s"], st["lf"], st["energy"], st["sums"], ad.J, ad.indptr, ad.indices,
                                  ad.data, ad.h, ad.logp, ad.ref, betas, rng, n_sweeps, heat_bath, ad.max_field,
                                  trace, accepted)
    elif kind == "blocked":
        kb.dense_blocked_sweeps(st["s"], st["lf"], st["energy"], st["sums"], ad.J, kb.diagonal_blocks(ad.J, block),
                                ad.h, ad.logp, ad.ref, betas, rng, n_sweeps, heat_bath, ad.max_field, trace, accepted)
    else:
        _no_block_correction(st["s"], st["lf"], ad.J, ad.h, betas, rng, n_sweeps, heat_bath, block)
    return st, rng, trace, accepted


def _integer_dense(n: int, seed: int) -> PairwiseModel:
    """A dense ±1-coupling model with integer fields (the acceptance-table path: max_field >= 0)."""
    rng = np.random.default_rng(seed)
    J = np.triu(rng.choice([-1.0, 1.0], size=(n, n)), 1)
    return PairwiseModel(J + J.T, fields=rng.integers(-1, 2, n).astype(float), beta=0.2)


@pytest.mark.parametrize("heat_bath", [False, True])
@pytest.mark.parametrize("block", [1, 7, 32, 200])
def test_blocked_kernel_is_the_sequential_chain_bit_for_bit(block, heat_bath):
    model = sg.SK(70, 0.9, h=0.2, seed=5)
    ad, st0, rng0 = _state(model, 4, seed=1)
    betas = np.array([0.0, 0.4, 1.7, np.inf])
    a = _run("sequential", ad, st0, rng0, betas, 6, heat_bath)
    b = _run("blocked", ad, st0, rng0, betas, 6, heat_bath, block)
    for key in ("s", "lf", "energy", "sums"):
        np.testing.assert_array_equal(a[0][key], b[0][key], err_msg=key)
    for x, y in zip(a[1:], b[1:], strict=True):
        np.testing.assert_array_equal(x, y)
    assert a[3].sum() > 0


def test_blocked_kernel_matches_on_the_acceptance_table_path():
    model = _integer_dense(45, seed=2)
    ad, st0, rng0 = _state(model, 3, seed=4)
    assert ad.max_field >= 0  # the tabulated acceptances are used
    betas = np.array([0.1, 0.2, 0.5])
    a = _run("sequential", ad, st0, rng0, betas, 5, False)
    b = _run("blocked", ad, st0, rng0, betas, 5, False, 8)
    np.testing.assert_array_equal(a[0]["s"], b[0]["s"])
    np.testing.assert_array_equal(a[0]["lf"], b[0]["lf"])
    np.testing.assert_array_equal(a[2], b[2])


def test_fields_at_the_end_of_a_run_are_the_recomputed_fields():
    model = sg.SK(90, 1.1, seed=3)
    res = Metropolis(sweeps=30).sample(model, 3, seed=2)
    st = res.state.chains
    x = 2.0 * st["s"] - 1.0
    np.testing.assert_allclose(st["lf"], x @ model.couplings, rtol=0, atol=1e-11)
    np.testing.assert_allclose(st["energy"], model.energy(x), rtol=1e-12, atol=1e-10)


@njit(cache=False)
def _no_block_correction(s, lf, J, h, betas, rng, n_sweeps, heat_bath, block):
    """Mutant: every site of a block is decided on the fields of the block's start (the k x k diagonal
    block of J is never applied inside the block, only with the delayed update).  Uniform prior, finite
    beta: Metropolis accepts with min(1, exp(-beta dE)), heat bath flips with 1 / (1 + exp(beta dE))."""
    C, n = s.shape
    rows = np.empty(block, dtype=np.int64)
    dvs = np.empty(block, dtype=np.float64)
    for c in range(C):
        beta = betas[c]
        r0, r1, r2, r3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
        sc = s[c]
        lfc = lf[c]
        for _ in range(n_sweeps):
            for i0 in range(0, n, block):
                nf = 0
                for i in range(i0, min(i0 + block, n)):
                    dv = 2.0 - 4.0 * sc[i]
                    dE = -dv * (lfc[i] + h[i])
                    p = 1.0 / (1.0 + np.exp(beta * dE)) if heat_bath else min(1.0, np.exp(-beta * dE))
                    u, r0, r1, r2, r3 = xoshiro_next(r0, r1, r2, r3)
                    if u < p:
                        rows[nf] = i
                        dvs[nf] = dv
                        nf += 1
                        sc[i] = 1 - sc[i]
                kb._delayed_rows(lfc, J, rows, dvs, nf)
        rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = r0, r1, r2, r3


def _bound(exact, n_samples=N_SAMPLES) -> float:
    return 1.1 * tv_null_quantile(exact, n_samples, quantile=0.999, repeats=100, seed=0)


@pytest.mark.parametrize("heat_bath", [False, True])
def test_blocked_kernel_law_and_its_mutant(heat_bath):
    model = sg.SK(10, 1.0, h=0.2, seed=7)
    exact = model.exact()
    bound = _bound(exact)
    ad, st0, rng0 = _state(model, N_SAMPLES, seed=3)
    betas = np.full(N_SAMPLES, model.beta)
    good = _run("blocked", ad, st0, rng0, betas, SWEEPS, heat_bath, 4)
    tv = empirical_tv(exact, 2.0 * good[0]["s"] - 1.0)
    assert tv < bound, f"blocked kernel: TV {tv:.4f} >= bound {bound:.4f}"
    bad = _run("mutant", ad, st0, rng0, betas, SWEEPS, heat_bath, 4)
    tv_bad = empirical_tv(exact, 2.0 * bad[0]["s"] - 1.0)
    assert tv_bad > bound, f"the mutant without the diagonal-block correction passed: TV {tv_bad:.4f}"


def test_float32_option_law_and_doubled_beta_mutant():
    model = sg.SK(10, 0.8, h=0.3, seed=3)
    exact = model.exact()
    bound = _bound(exact)
    res = Metropolis(sweeps=SWEEPS, coupling_dtype="float32").sample(model, N_SAMPLES, seed=11)
    tv = empirical_tv(exact, res.x)
    assert tv < bound, f"float32 couplings: TV {tv:.4f} >= bound {bound:.4f}"
    mutant = copy.copy(model)
    mutant.beta = 2.0 * model.beta
    bad = Metropolis(sweeps=SWEEPS, coupling_dtype="float32").sample(mutant, N_SAMPLES, seed=11)
    assert empirical_tv(exact, bad.x) > bound


@pytest.mark.parametrize("cls", [Metropolis, HeatBath])
def test_float32_chain_is_exact_for_the_rounded_couplings(cls):
    model = sg.SK(120, 1.3, h=0.1, seed=9)
    res = cls(sweeps=25, coupling_dtype="float32").sample(model, 3, seed=4)
    st = res.state.chains
    J32 = np.asarray(model.couplings, dtype=np.float32).astype(np.float64)
    x = 2.0 * st["s"] - 1.0
    np.testing.assert_allclose(st["lf"], x @ J32, rtol=0, atol=1e-11)
    e32 = -0.5 * np.einsum("bi,bi->b", x, x @ J32) - x @ model.fields
    np.testing.assert_allclose(st["energy"], e32, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(res.trace["energy"][:, -1], e32, rtol=1e-12, atol=1e-10)
    # a different model from the float64 one only by the rounding of J
    assert 0 < np.abs(J32 - model.couplings).max() <= 2.0**-24 * np.abs(model.couplings).max()


def test_float32_runs_resume_and_are_recorded():
    model = sg.SK(40, 0.7, seed=1)
    sampler = Metropolis(sweeps=10, coupling_dtype="float32")
    assert sampler.settings()["coupling_dtype"] == "float32"
    assert "coupling_dtype" not in Metropolis(sweeps=10).settings()  # the default keeps earlier identities
    assert Metropolis(**{k: v for k, v in sampler.settings().items() if k != "name"}).coupling_dtype == "float32"
    whole = Metropolis(sweeps=20, coupling_dtype="float32").sample(model, 2, seed=3)
    half = sampler.sample(model, 2, seed=3)
    rest = sampler.sample(model, 2, state=half.state)
    np.testing.assert_array_equal(whole.x, rest.x)
    assert rest.sampler["coupling_dtype"] == "float32"
    with pytest.raises(ValueError, match="coupling_dtype"):
        Metropolis(sweeps=10).sample(model, 2, state=half.state)


@pytest.mark.parametrize("bad", ["float16", "f4", 32, None])
def test_coupling_dtype_is_validated(bad):
    with pytest.raises(ValueError, match="coupling_dtype must be one of"):
        Metropolis(coupling_dtype=bad)


def test_float32_is_refused_where_no_dense_binary_kernel_runs():
    with pytest.raises(ValueError, match="coupling_dtype='float32' applies to dense binary"):
        Metropolis(sweeps=2, coupling_dtype="float32").sample(sg.EdwardsAnderson((4, 4), "pm1", seed=0), 2, seed=0)
    with pytest.raises(ValueError, match="coupling_dtype='float32' applies to dense binary"):
        Metropolis(sweeps=2, order="sequential", coupling_dtype="float32").sample(
            sg.EdwardsAnderson((4, 4), "pm1", seed=0), 2, seed=0)
    with pytest.raises(ValueError, match="coupling_dtype='float32' applies to dense binary"):
        Metropolis(sweeps=2, coupling_dtype="float32").sample(sg.CurieWeiss(6, 1.0), 2, seed=0)
