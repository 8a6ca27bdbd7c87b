"""MCMC against closed forms and exact laws at sizes beyond enumeration; chain-state behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest

import spinglass as sg
from samplers import HeatBath, Metropolis, ParallelTempering
from spinglass.closed_forms import onsager_energy


@pytest.mark.slow
@pytest.mark.parametrize("beta", [0.8, 1.2])
def test_curie_weiss_magnetisation_law_n200(beta):
    """Histogram of M from independent chains vs the exact law P(M) at N = 200, both sides of beta = 1.

    Bound: 0.999 quantile of TV for the same number of exact i.i.d. draws, times 1.1.
    """
    model = sg.CurieWeiss(200, beta)
    m_values, probs = model.magnetization_law()
    n_chains = 2000
    result = HeatBath(sweeps=150).sample(model, n_chains, seed=5)
    k = np.rint((result.x.sum(axis=1) + model.n) / 2).astype(int)
    emp = np.bincount(k, minlength=model.n + 1) / n_chains
    rng = np.random.default_rng(0)
    null = [0.5 * np.abs(rng.multinomial(n_chains, probs) / n_chains - probs).sum() for _ in range(300)]
    bound = 1.1 * np.quantile(null, 0.999)
    tv = 0.5 * np.abs(emp - probs).sum()
    assert tv < bound, (tv, bound)
    # the law is bimodal exactly when beta > 1: |m| concentrates away from 0
    mean_abs_m = np.abs(result.x.mean(axis=1)).mean()
    exact_abs_m = float(np.dot(np.abs(m_values), probs))
    assert abs(mean_abs_m - exact_abs_m) < 5 * np.sqrt(np.dot(m_values**2, probs) / n_chains)


@pytest.mark.parametrize("temperature", [2.0, 3.0])
def test_2d_ferromagnet_energy_vs_onsager(temperature):
    """L = 32 periodic 2D Ising ferromagnet: energy per spin vs Onsager's infinite-volume value.

    Tolerance 0.01: finite-size corrections at L = 32 away from T_c are < 1e-3, and the statistical error
    of 8 chains x 1000 recorded sweeps is < 3e-3.
    """
    model = sg.EdwardsAnderson((32, 32), "ferro", beta=1.0 / temperature)
    result = Metropolis(sweeps=1500, trace_every=1).sample(model, 8, seed=1, init="random" if temperature > 2.2
                                                           else np.ones(model.n))
    e = result.trace["energy"][:, 500:] / model.n
    assert abs(e.mean() - onsager_energy(1.0 / temperature)) < 0.01
    # a factor-2 error in beta would move the energy far outside the tolerance
    assert abs(onsager_energy(2.0 / temperature) - onsager_energy(1.0 / temperature)) > 0.05


def test_sk_paramagnet_energy():
    """SK at h = 0, beta = 0.5: E[H]/N -> -beta/2; averaged over 6 instances at N = 400.

    Finite-N: E[H]/N = -beta/2 (1 - 1/N) exactly in the annealed region up to O(1/N); instance-to-instance
    fluctuations are O(1/N).  Tolerance 0.01.
    """
    beta = 0.5
    energies = []
    for seed in range(6):
        model = sg.SK(400, beta, seed=seed)
        result = Metropolis(sweeps=300).sample(model, 4, seed=seed)
        energies.append(result.trace["energy"][:, 100:].mean() / model.n)
    assert abs(np.mean(energies) + beta / 2) < 0.01


@pytest.mark.parametrize("sampler", [Metropolis(sweeps=20), HeatBath(sweeps=20)])
def test_zero_temperature_constraints_keep_planted_valid(sampler):
    """At beta = inf, dynamics started at the planted solution never violates a constraint."""
    for model in (sg.PlantedColoring(500, 5, 6.0, seed=1), sg.PlantedNAESAT(500, 5, 3.0, seed=2)):
        assert model.energy(model.planted) == 0
        result = sampler.sample(model, 4, seed=0, init="planted")
        assert np.all(result.trace["energy"] == 0)
        assert np.all(model.energy(result.x) == 0)
        assert result.acceptance["mean"] > 0  # it moves
        assert len({tuple(row) for row in result.x}) == len(result.x)  # and the chains are random


def test_tempering_at_infinite_beta_with_explicit_ladder():
    model = sg.PlantedColoring(200, 3, 3.0, seed=4)
    pt = ParallelTempering(betas=[0.5, 1.0, 2.0, math.inf], sweeps=50)
    result = pt.sample(model, 3, seed=2, init="planted")
    assert np.all(model.energy(result.x) == 0)
    assert result.acceptance["swap"].shape == (3,)
    with pytest.raises(ValueError, match="betas"):
        ParallelTempering(sweeps=5).sample(model, 2, seed=0)


@pytest.mark.parametrize("sampler", [Metropolis(sweeps=30), ParallelTempering(n_temps=3, sweeps=30)])
def test_resume_is_bit_for_bit(sampler):
    """Running 30 + 30 sweeps through Samples.state equals one run of 60 sweeps."""
    model = sg.SpikedWigner(40, 2.0, sg.SparseRademacher(0.3), seed=1)
    once = type(sampler)(**{**_kwargs(sampler), "sweeps": 60}).sample(model, 5, seed=9)
    first = sampler.sample(model, 5, seed=9)
    second = sampler.sample(model, 5, state=first.state)
    np.testing.assert_array_equal(second.x, once.x)
    np.testing.assert_array_equal(np.concatenate([first.trace["energy"], second.trace["energy"]], axis=1),
                                  once.trace["energy"])
    assert second.work["total_sweeps"] == 60


def _kwargs(sampler):
    s = sampler.settings()
    s.pop("name")
    if isinstance(sampler, ParallelTempering):
        return {k: s[k] for k in ("n_temps", "beta_min_ratio", "swap_every", "local", "sweeps", "thin")}
    return {k: s[k] for k in ("sweeps", "thin", "trace_every")}


def test_same_seed_same_numbers_and_thinning_layout():
    model = sg.SK(30, 1.0, seed=0)
    a = Metropolis(sweeps=10, thin=3).sample(model, 12, n_chains=4, seed=3)
    b = Metropolis(sweeps=10, thin=3).sample(model, 12, n_chains=4, seed=3)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.chain, np.repeat(np.arange(4), 3))
    assert a.work["sweeps"] == 10 + 2 * 3
    c = Metropolis(sweeps=10, thin=3).sample(model, 12, n_chains=4, seed=4)
    assert not np.array_equal(a.x, c.x)


def test_init_modes_and_record():
    model = sg.SpikedWigner(30, 4.0, sg.Rademacher(), seed=2)
    r = Metropolis(sweeps=0).sample(model, 3, seed=1, init="planted")
    np.testing.assert_array_equal(r.x, np.broadcast_to(model.planted, (3, 30)))
    given = np.ones(30)
    r = HeatBath(sweeps=0).sample(model, 2, seed=1, init=given)
    np.testing.assert_array_equal(r.x, np.ones((2, 30)))
    assert r.sampler["name"] == "HeatBath" and r.model["family"] == "SpikedWigner"
    assert r.version and r.seed == 1
    np.testing.assert_array_equal(r.planted, model.planted)


def test_progress_bar_runs(capsys):
    model = sg.CurieWeiss(50, 0.5)
    Metropolis(sweeps=20).sample(model, 2, seed=0, progress=True)
    assert "Metropolis" in capsys.readouterr().err


def test_bad_inputs():
    model = sg.SK(10, 0.5, seed=0)
    with pytest.raises(ValueError, match="sweeps"):
        Metropolis(sweeps=-1)
    with pytest.raises(TypeError, match="thin"):
        Metropolis(thin=1.5)
    with pytest.raises(ValueError, match="n_samples"):
        Metropolis().sample(model, 0)
    with pytest.raises(ValueError, match="multiple of n_chains"):
        Metropolis().sample(model, 5, n_chains=2)
    with pytest.raises(ValueError, match="init"):
        Metropolis().sample(model, 2, init="planted")
    with pytest.raises(ValueError, match="init"):
        Metropolis().sample(model, 2, init=np.ones(7))
    with pytest.raises(ValueError, match="alphabet"):
        Metropolis().sample(model, 2, init=np.full(10, 0.5))
    with pytest.raises(TypeError, match="continuous prior"):
        Metropolis().sample(sg.SpikedWigner(10, 1.0, sg.Gaussian(), seed=0), 2)
    with pytest.raises(TypeError, match="model"):
        Metropolis().sample("SK", 2)
    with pytest.raises(ValueError, match="local"):
        ParallelTempering(local="wolff")
    with pytest.raises(ValueError, match="betas"):
        ParallelTempering(betas=[1.0, 0.5])
    with pytest.raises(ValueError, match="betas must end"):
        ParallelTempering(betas=[0.1, 0.2]).sample(model, 2)
    first = Metropolis(sweeps=2).sample(model, 2, seed=0)
    with pytest.raises(ValueError, match="different model"):
        Metropolis().sample(sg.SK(10, 0.5, seed=1), 2, state=first.state)


@pytest.mark.parametrize("sweeps,thin,swap_every", [(7, 5, 5), (10, 3, 4), (9, 1, 2)])
def test_tempering_never_skips_a_swap_round(sweeps, thin, swap_every):
    model = sg.SK(20, 1.0, seed=0)
    pt = ParallelTempering(n_temps=4, sweeps=sweeps, thin=thin, swap_every=swap_every)
    res = pt.sample(model, 2 * 20, n_chains=2, seed=1)
    total = sweeps + 19 * thin
    assert res.work["sweeps"] == total
    assert res.work["swap_rounds"] == total // swap_every
    assert np.all(res.acceptance["swap"] > 0)  # swaps happen


def test_tempering_resume_with_uneven_split_is_bit_for_bit():
    model = sg.SK(25, 1.2, seed=3)
    kw = {"n_temps": 4, "swap_every": 2}
    once = ParallelTempering(sweeps=10, **kw).sample(model, 3, seed=4)
    a = ParallelTempering(sweeps=3, **kw).sample(model, 3, seed=4)
    b = ParallelTempering(sweeps=3, **kw).sample(model, 3, state=a.state)
    c = ParallelTempering(sweeps=4, **kw).sample(model, 3, state=b.state)
    np.testing.assert_array_equal(c.x, once.x)
    np.testing.assert_array_equal(c.state.perm, once.state.perm)
    assert a.work["swap_rounds"] + b.work["swap_rounds"] + c.work["swap_rounds"] == 5


def _folded_tv_and_bound(exact, x, fold):
    """TV between folded empirical and folded exact laws, and the 0.999 null quantile (x 1.1)."""
    keys = fold(exact.configurations)
    uniq, inverse = np.unique(keys, return_inverse=True)
    p = np.bincount(inverse, weights=exact.probabilities, minlength=uniq.size)
    pos = np.searchsorted(uniq, fold(x))
    assert np.all(uniq[pos] == fold(x))
    emp = np.bincount(pos, minlength=uniq.size) / len(x)
    rng = np.random.default_rng(0)
    null = [0.5 * np.abs(rng.multinomial(len(x), p) / len(x) - p).sum() for _ in range(200)]
    return 0.5 * np.abs(emp - p).sum(), 1.1 * np.quantile(null, 0.999)


def _fold_sign(x):
    """Index of a ±1 configuration up to the global flip (first spin set to +1)."""
    x = np.asarray(x) * np.asarray(x)[:, :1]
    return ((x > 0).astype(np.int64) * (2 ** np.arange(x.shape[1]))[::-1]).sum(axis=1)


def _fold_none(x):
    x = np.asarray(x, dtype=np.int64)
    q = x.max() + 1
    return (x * (q ** np.arange(x.shape[1]))[::-1]).sum(axis=1)


@pytest.mark.parametrize("sampler", [Metropolis(sweeps=60), HeatBath(sweeps=60),
                                     ParallelTempering(betas=[0.5, 1.0, 2.0, math.inf], sweeps=60)])
def test_infinite_beta_chains_sample_uniformly_over_solutions(sampler):
    """At beta = inf, chains started from the planted solution sample the uniform law on solutions.

    NAE-SAT solutions come in mirror pairs that single flips cannot connect at n = 10, so its laws are
    compared up to the global flip.  The Metropolis kernel must be random on ties (a deterministic sweep
    would give one state for all chains, TV ~ 1).
    """
    nae = sg.PlantedNAESAT(10, 3, 1.0, seed=7)
    res = sampler.sample(nae, 4000, seed=1, init="planted")
    tv, bound = _folded_tv_and_bound(nae.exact(), res.x, _fold_sign)
    assert tv < bound, (tv, bound)
    col = sg.PlantedColoring(8, 4, 3.0, seed=2)
    res = sampler.sample(col, 4000, seed=1, init="planted")
    tv, bound = _folded_tv_and_bound(col.exact(), res.x, _fold_none)
    assert tv < bound, (tv, bound)


def test_infinite_beta_from_random_start_warns_about_violations():
    model = sg.PlantedNAESAT(300, 5, 8.0, seed=1)
    with pytest.warns(RuntimeWarning, match="violated constraints"):
        Metropolis(sweeps=3).sample(model, 4, seed=0)


def test_state_cannot_continue_on_an_unseeded_twin():
    a, b = sg.SK(30, 1.0), sg.SK(30, 1.0)
    assert a.describe() == b.describe() and a.fingerprint() != b.fingerprint()
    first = Metropolis(sweeps=2).sample(a, 2, seed=0)
    with pytest.raises(ValueError, match="different model"):
        Metropolis(sweeps=2).sample(b, 2, state=first.state)


@pytest.mark.parametrize("model", [sg.SpikedWigner(40, 3.0, sg.SparseRademacher(0.3), seed=1),
                                   sg.SpikedTensor(12, 3, 0.5, sg.Rademacher(), seed=2),
                                   sg.PlantedNAESAT(60, 4, 2.0, beta=2.0, seed=3)])
def test_traced_observables_match_the_states(model):
    """Incrementally traced magnetisation and planted overlap equal those of the final states."""
    res = ParallelTempering(n_temps=3, sweeps=15).sample(model, 6, seed=0)
    np.testing.assert_allclose(res.trace["magnetization"][:, -1], res.x.mean(axis=1), atol=1e-10)
    np.testing.assert_allclose(res.trace["overlap_planted"][:, -1], res.x @ model.planted / model.n, atol=1e-10)
    np.testing.assert_allclose(res.trace["energy"][:, -1], model.energy(res.x), atol=1e-9)
    assert "overlap_planted" not in Metropolis(sweeps=2).sample(sg.SK(10, 1.0, seed=0), 2, seed=0).trace


def _se_fixed_point(prior, lam: float) -> float:
    """Informed fixed point of the spiked-Wigner state evolution m = F(lam m) (docs/physics.md §4)."""
    m = 1.0
    for _ in range(5000):
        m = float(prior.F(lam * m))
    return m


@pytest.mark.slow
@pytest.mark.parametrize("lam", [2.0, 0.5])
def test_spiked_wigner_overlap_matches_state_evolution_and_nishimori(lam):
    """Rademacher spiked Wigner at N = 1500: the overlap of MCMC samples with the planted signal is the
    state-evolution overlap (0.618 at lam = 2, 0 below lam = 1) and equals the replica overlap (Nishimori).

    Tolerances: 4 standard errors of the mean over 10 instances (the instance-to-instance spread is
    measured, ~0.03 at this N) plus 0.01 for finite-N bias; below the transition the overlap is
    O(N^-1/2) ≈ 0.03.
    """
    from analysis.measures.metrics import overlap_with_planted, replica_overlaps

    prior = sg.Rademacher()
    m_se = _se_fixed_point(prior, lam)
    ov, rep = [], []
    for seed in range(10):
        model = sg.SpikedWigner(1500, lam, prior, seed=200 + seed)
        res = Metropolis(sweeps=300).sample(model, 4, seed=seed)
        ov.append(overlap_with_planted(model, res.x).mean())
        rep.append(replica_overlaps(res.x, symmetry="sign").mean())
    ov, rep = np.array(ov), np.array(rep)
    if lam > 1:
        assert abs(ov.mean() - m_se) < 4 * ov.std(ddof=1) / np.sqrt(len(ov)) + 0.01, (ov.mean(), m_se)
        diff = ov - rep
        assert abs(diff.mean()) < 4 * diff.std(ddof=1) / np.sqrt(len(diff)) + 0.005
    else:
        assert m_se == pytest.approx(0.0, abs=1e-6)
        assert ov.mean() < 0.06 and rep.mean() < 0.06
