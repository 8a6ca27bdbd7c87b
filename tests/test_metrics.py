"""Tests of analysis.measures.metrics: hand-computed cases, known laws (AR(1), normals, exact enumeration),
bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.signal import lfilter

import spinglass as sg
from analysis.measures import metrics as M

# -- helpers -----------------------------------------------------------------------------------------


def ar1(a: float, n_steps: int, n_chains: int = 1, seed: int = 0) -> np.ndarray:
    """Stationary AR(1) chains y_t = a y_{t-1} + e_t, e_t ~ N(0, 1), shape (n_chains, n_steps)."""
    rng = np.random.default_rng(seed)
    start = rng.standard_normal((n_chains, 1)) / math.sqrt(1.0 - a * a)
    noise = rng.standard_normal((n_chains, n_steps))
    y, _ = lfilter([1.0], [1.0, -a], noise, axis=1, zi=a * start)
    return y


def relabel(x: np.ndarray, q: int, seed: int) -> np.ndarray:
    perm = np.random.default_rng(seed).permutation(q)
    return perm[x]


# -- observables -------------------------------------------------------------------------------------


def test_energy_per_variable_hand_values():
    cw = sg.CurieWeiss(8, 0.5)
    up = np.ones(8)
    # E = -(1/N) * C(8, 2) for all spins up; per variable divide by N = 8
    assert M.energy_per_variable(cw, up) == pytest.approx(-28.0 / 8 / 8)
    alt = np.array([1.0, -1.0] * 4)  # M = 0: sum_{i<j} x_i x_j = (M^2 - N)/2 = -4
    batch = np.stack([up, alt, -up])
    np.testing.assert_allclose(M.energy_per_variable(cw, batch), [-3.5 / 8, 0.5 / 8, -3.5 / 8])
    assert M.energy_per_variable(cw, batch.reshape(3, 1, 8)).shape == (3, 1)
    potts = sg.PottsModel(3, 3, [[0, 1], [1, 2], [0, 2]])
    np.testing.assert_allclose(M.energy_per_variable(potts, np.array([[0, 0, 1], [0, 1, 2], [2, 2, 2]])),
                               [1 / 3, 0.0, 1.0])


def test_energy_matches_exact_mean_energy():
    ex = sg.SK(8, 0.7, seed=1).exact()
    e = M.energy_per_variable(ex.model, ex.configurations)
    assert np.dot(ex.probabilities, e) == pytest.approx(ex.mean_energy / 8)


def test_magnetization():
    x = np.array([[1.0, 1.0, -1.0, 1.0], [-1.0, -1.0, -1.0, -1.0]])
    np.testing.assert_allclose(M.magnetization(x), [0.5, -1.0])
    assert M.magnetization(np.ones((2, 3, 5))).shape == (2, 3)
    assert M.magnetization([1, 0, 0, 0]) == pytest.approx(0.25)


# -- overlaps ----------------------------------------------------------------------------------------


def test_scalar_overlap_hand_values():
    x = np.array([1.0, 1.0, -1.0, -1.0])
    y = np.array([1.0, -1.0, -1.0, -1.0])
    assert M.overlap(x, y, symmetry="none") == pytest.approx(0.5)
    assert M.overlap(x, -y, symmetry="none") == pytest.approx(-0.5)
    assert M.overlap(x, -y, symmetry="sign") == pytest.approx(0.5)
    assert M.overlap(x, -y) == pytest.approx(0.5)  # "sign" is the default
    batch = np.stack([x, -x, y])
    np.testing.assert_allclose(M.overlap(batch, x, symmetry="none"), [1.0, -1.0, 0.5])
    np.testing.assert_allclose(M.overlap(x, batch, symmetry="none"), [1.0, -1.0, 0.5])
    np.testing.assert_allclose(M.overlap(batch, batch[::-1], symmetry="sign"), [0.5, 1.0, 0.5])
    # sparse Rademacher values: (1/N) sum x_i y_i with the normalised alphabet
    a = 1 / math.sqrt(0.25)
    assert M.overlap([a, 0.0, -a, 0.0], [a, a, -a, 0.0], symmetry="none") == pytest.approx(2 * a * a / 4)


def test_permutation_overlap_hand_value_and_relabelling():
    x = np.array([0, 0, 1, 1, 2, 2])
    y = np.array([0, 0, 1, 1, 1, 1])
    # best relabelling agrees on 4 of 6 sites: (3 * 4/6 - 1)/(3 - 1) = 1/2
    assert M.overlap(x, y, symmetry="permutation", q=3) == pytest.approx(0.5)
    assert M.overlap(x, relabel(y, 3, seed=1), symmetry="permutation", q=3) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    for q in (2, 3, 5, 7, 12):  # enumeration (q <= 5) and Hungarian (q > 5) paths
        c = rng.integers(0, q, size=(4, 300))
        relabelled = np.stack([relabel(row, q, seed=s) for s, row in enumerate(c)])
        np.testing.assert_allclose(M.overlap(c, relabelled, symmetry="permutation", q=q), 1.0)


@pytest.mark.parametrize("q", [3, 4, 8])
def test_permutation_overlap_of_independent_colourings_is_small(q):
    rng = np.random.default_rng(q)
    n = 20000
    x = rng.integers(0, q, size=(5, n))
    y = rng.integers(0, q, size=(5, n))
    r = M.overlap(x, y, symmetry="permutation", q=q)
    # each agreement fraction has sd sqrt((1/q)(1 - 1/q)/N); the max over q! labelings adds a few sd
    bound = 6 * math.sqrt((1 / q) * (1 - 1 / q) / n) * q / (q - 1)
    assert np.all(r >= 0.0) and np.all(r < bound)


def test_best_agreement_enumeration_matches_hungarian():
    rng = np.random.default_rng(3)
    for q in (2, 3, 4, 5):
        counts = rng.integers(0, 50, size=(40, q, q))
        got = M._best_agreement(counts)
        want = [c[linear_sum_assignment(c, maximize=True)].sum() for c in counts]
        np.testing.assert_array_equal(got, want)
        brute = [max(sum(c[p[b], b] for b in range(q)) for p in itertools.permutations(range(q))) for c in counts]
        np.testing.assert_array_equal(got, brute)


def test_default_symmetry():
    assert M.default_symmetry(sg.SpikedWigner(10, 1.0, sg.Rademacher(), seed=0)) == "sign"
    assert M.default_symmetry(sg.SpikedWigner(10, 1.0, sg.SparseRademacher(0.3), seed=0)) == "sign"
    assert M.default_symmetry(sg.SpikedWigner(10, 1.0, sg.Gaussian(), seed=0)) == "sign"
    assert M.default_symmetry(sg.SpikedTensor(8, 4, 1.0, sg.Rademacher(), seed=0)) == "sign"
    assert M.default_symmetry(sg.SpikedTensor(8, 3, 1.0, sg.Rademacher(), seed=0)) == "none"
    assert M.default_symmetry(sg.SK(8, 0.5, seed=0)) == "sign"
    assert M.default_symmetry(sg.CurieWeiss(8, 0.5, h=0.1)) == "none"
    assert M.default_symmetry(sg.PlantedNAESAT(20, 3, 1.0, seed=0)) == "sign"
    assert M.default_symmetry(sg.PlantedColoring(20, 3, 2.0, seed=0)) == "permutation"
    asym = sg.PairwiseModel(np.zeros((3, 3)), prior=sg.DiscretePrior([-1.0, 1.0], [0.3, 0.7]))
    assert M.default_symmetry(asym) == "none"


def test_overlap_with_planted():
    wig = sg.SpikedWigner(50, 2.0, sg.Rademacher(), seed=0)
    xs = np.stack([wig.planted, -wig.planted])
    np.testing.assert_allclose(M.overlap_with_planted(wig, xs), [1.0, 1.0])
    np.testing.assert_allclose(M.overlap_with_planted(wig, xs, symmetry="none"), [1.0, -1.0])
    ten = sg.SpikedTensor(8, 3, 1.0, sg.Rademacher(), seed=0)  # odd p: x and -x are different states
    np.testing.assert_allclose(M.overlap_with_planted(ten, -ten.planted[None, :]), [-1.0])
    col = sg.PlantedColoring(60, 4, 3.0, seed=2)
    relabelled = relabel(col.planted, 4, seed=5)
    np.testing.assert_allclose(M.overlap_with_planted(col, np.stack([col.planted, relabelled])), [1.0, 1.0])
    assert M.overlap_with_planted(col, relabelled, symmetry="none") != pytest.approx(1.0)
    with pytest.raises(ValueError, match="planted"):
        M.overlap_with_planted(sg.SK(8, 0.5, seed=0), np.ones((2, 8)))
    with pytest.raises(ValueError, match="x"):
        M.overlap_with_planted(wig, np.ones((2, 49)))


def test_replica_overlaps_hand_values_and_chains():
    x = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, -1.0, -1.0], [-1.0, 1.0, 1.0, 1.0]])
    r, i, j = M.replica_overlaps(x, return_pairs=True)
    np.testing.assert_array_equal(i, [0, 0, 1])
    np.testing.assert_array_equal(j, [1, 2, 2])
    np.testing.assert_allclose(r, [0.0, 0.5, -0.5])
    np.testing.assert_allclose(M.replica_overlaps(x, symmetry="sign"), [0.0, 0.5, 0.5])
    r, i, j = M.replica_overlaps(x, chain=[0, 0, 1], return_pairs=True)
    np.testing.assert_array_equal(i, [0, 1])
    np.testing.assert_array_equal(j, [2, 2])
    np.testing.assert_allclose(r, [0.5, -0.5])
    with pytest.raises(ValueError, match="chain"):
        M.replica_overlaps(x, chain=[1, 1, 1])


def test_replica_overlaps_paths_agree_with_direct_computation():
    rng = np.random.default_rng(4)
    x = rng.choice([-1.0, 1.0], size=(300, 40))
    chain = np.repeat(np.arange(6), 50)
    full, i, j = M.replica_overlaps(x, chain=chain, return_pairs=True)  # dense Gram path
    assert np.all(i < j) and np.all(chain[i] != chain[j])
    assert full.size == 300 * 299 // 2 - 6 * (50 * 49 // 2)
    np.testing.assert_allclose(full, np.einsum("pi,pi->p", x[i], x[j]) / 40)
    sub, i2, j2 = M.replica_overlaps(x, chain=chain, max_pairs=500, seed=7, return_pairs=True)  # gather path
    assert sub.size == 500 and np.unique(i2 * 300 + j2).size == 500
    assert np.all(chain[i2] != chain[j2])
    np.testing.assert_allclose(sub, np.einsum("pi,pi->p", x[i2], x[j2]) / 40)
    again = M.replica_overlaps(x, chain=chain, max_pairs=500, seed=7)
    np.testing.assert_array_equal(sub, again)
    # many rows: pairs drawn by rejection instead of from the full list
    big = rng.choice([-1.0, 1.0], size=(3000, 16))
    big_chain = np.arange(3000) % 3
    r, a, b = M.replica_overlaps(big, chain=big_chain, max_pairs=2000, seed=1, return_pairs=True)
    assert np.unique(a * 3000 + b).size == 2000 and np.all(a < b) and np.all(big_chain[a] != big_chain[b])
    np.testing.assert_allclose(r, np.einsum("pi,pi->p", big[a], big[b]) / 16)
    # colourings
    c = rng.integers(0, 3, size=(30, 50))
    rp, a, b = M.replica_overlaps(c, symmetry="permutation", q=3, return_pairs=True)
    np.testing.assert_allclose(rp, M.overlap(c[a], c[b], symmetry="permutation", q=3))


def test_overlap_distribution_of_independent_spins():
    rng = np.random.default_rng(5)
    n = 100
    x = rng.choice([-1.0, 1.0], size=(400, n))
    centres, density = M.overlap_distribution(x, bins=40)
    width = centres[1] - centres[0]
    assert centres[0] == pytest.approx(-1.0 + width / 2) and centres[-1] == pytest.approx(1.0 - width / 2)
    assert density.sum() * width == pytest.approx(1.0)
    # independent uniform spins: q = (1/N) sum of N signs, mean 0, variance 1/N
    mean = np.sum(centres * density) * width
    var = np.sum(centres**2 * density) * width - mean**2
    assert abs(mean) < 0.01
    assert var == pytest.approx(1.0 / n, rel=0.1)  # binning adds ~ width^2/12 = 2% of 1/N
    centres, density = M.overlap_distribution(x, bins=10, symmetry="sign")
    assert centres[0] == pytest.approx(0.05) and density.sum() * 0.1 == pytest.approx(1.0)


def test_overlap_distribution_of_two_clusters():
    # samples concentrated on +s and -s: P(q) has all its mass near q = ±1
    rng = np.random.default_rng(6)
    s = rng.choice([-1.0, 1.0], size=64)
    x = np.where(rng.random((200, 1)) < 0.5, 1.0, -1.0) * s
    centres, density = M.overlap_distribution(x, bins=[-1.05, -0.95, 0.95, 1.05])
    np.testing.assert_allclose(density[1], 0.0)
    assert density[0] > 0 and density[2] > 0


# -- distances between laws --------------------------------------------------------------------------


def test_tv_and_kl_hand_values():
    p = np.array([0.5, 0.5])
    q = np.array([0.9, 0.1])
    assert M.total_variation(p, q) == pytest.approx(0.4)
    assert M.total_variation(q, p) == pytest.approx(0.4)
    assert M.kl_divergence(p, q) == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1))
    assert M.kl_divergence(q, p) == pytest.approx(0.9 * math.log(1.8) + 0.1 * math.log(0.2))
    assert M.kl_divergence(p, p) == 0.0 and M.total_variation(p, p) == 0.0
    # 0 log 0 = 0, and +inf where q = 0 < p
    assert M.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2.0))
    assert M.kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert M.total_variation([1.0, 0.0, 0.0], [0.0, 0.5, 0.5]) == pytest.approx(1.0)
    table = np.full((2, 3), 1 / 6)
    assert M.total_variation(table, table) == 0.0


def test_empirical_tv_of_exact_samples_is_below_null_quantile():
    ex = sg.SK(8, 0.7, seed=1).exact()
    bounds = [M.tv_null_quantile(ex, n, seed=0) for n in (200, 2000, 20000)]
    assert bounds[0] > bounds[1] > bounds[2]
    for seed in range(3):
        assert M.empirical_tv(ex, ex.sample(2000, seed=seed)) < bounds[1]
    # the null quantile ~ TV scale 0.5 sum sqrt(2 p (1 - p) / (pi n)) for large n
    p = ex.probabilities
    typical = 0.5 * np.sum(np.sqrt(2 * p * (1 - p) / (math.pi * 20000)))
    assert M.tv_null_quantile(ex, 20000, quantile=0.5, seed=1) == pytest.approx(typical, rel=0.05)
    # samples from a different law are detected
    wrong = sg.SK(8, 0.7, seed=2).exact().sample(2000, seed=0)
    assert M.empirical_tv(ex, wrong) > bounds[1]
    hot = sg.SK(8, 0.0, seed=1).random_configuration(2000, seed=0)
    assert M.empirical_tv(ex, hot) > bounds[1]


def test_empirical_kl():
    ex = sg.CurieWeiss(8, 0.5).exact()
    n = 20000
    kl = M.empirical_kl(ex, ex.sample(n, seed=1))
    # 2 n KL(p_hat || p) is asymptotically chi^2 with (#states - 1) degrees of freedom
    assert 0.0 < kl < 2.0 * (ex.n_states - 1) / (2 * n)
    assert M.empirical_kl(ex, ex.sample(50, seed=1), direction="exact||empirical") == math.inf
    assert M.empirical_kl(ex, ex.sample(n, seed=1)) == pytest.approx(
        M.kl_divergence(ex.histogram(ex.sample(n, seed=1)), ex.probabilities))


def test_wasserstein1():
    assert M.wasserstein1([0.0, 1.0], [1.0, 2.0]) == pytest.approx(1.0)
    assert M.wasserstein1([0.0, 0.0, 3.0], [0.0, 3.0, 0.0]) == 0.0
    rng = np.random.default_rng(7)
    a = rng.standard_normal(20000)
    b = rng.standard_normal(20000) + 0.7
    # W1 of two normals with equal variance is the shift; sampling error O(1/sqrt(n))
    assert M.wasserstein1(a, b) == pytest.approx(0.7, abs=0.04)


# -- MCMC efficiency ---------------------------------------------------------------------------------


@pytest.mark.parametrize("a", [0.5, 0.9])
def test_tau_int_of_ar1(a):
    n_steps = 200_000
    y = ar1(a, n_steps, seed=11)[0]
    tau, window = M.integrated_autocorrelation_time(y, return_window=True)
    exact = (1 + a) / (1 - a)
    assert window >= 5 * tau and window < 10 * exact
    # relative sd of the windowed estimator ≈ sqrt(2 (2M + 1) / T) (Sokal); allow 4 sd
    tol = 4 * math.sqrt(2 * (2 * window + 1) / n_steps)
    assert tau == pytest.approx(exact, rel=tol)
    rho = M.autocorrelation(y)
    assert rho[0] == 1.0
    np.testing.assert_allclose(rho[1:6], a ** np.arange(1, 6), atol=0.02)


def test_tau_int_of_ar1_chains_and_per_chain_centring():
    a = 0.9
    y = ar1(a, 25_000, n_chains=8, seed=12)
    tau, window = M.integrated_autocorrelation_time(y, return_window=True)
    tol = 4 * math.sqrt(2 * (2 * window + 1) / y.size)
    assert tau == pytest.approx((1 + a) / (1 - a), rel=tol)
    shifted = y + 10.0 * np.arange(8)[:, None]  # each chain is centred by its own mean
    np.testing.assert_allclose(M.autocorrelation(shifted), M.autocorrelation(y), atol=1e-9)
    assert M.integrated_autocorrelation_time(shifted) == pytest.approx(tau)


def test_ess_of_iid_draws():
    rng = np.random.default_rng(8)
    x = rng.standard_normal(100_000)
    tau, window = M.integrated_autocorrelation_time(x, return_window=True)
    tol = 4 * math.sqrt(2 * (2 * window + 1) / x.size)
    assert tau == pytest.approx(1.0, abs=tol)
    assert M.effective_sample_size(x) == pytest.approx(x.size, rel=tol)
    chains = rng.standard_normal((4, 20_000))
    assert M.effective_sample_size(chains) == pytest.approx(80_000, rel=tol)
    assert M.effective_sample_size(ar1(0.9, 100_000, seed=3)) == pytest.approx(100_000 / 19, rel=0.25)


def test_tau_int_warns_on_short_series_and_is_nan_for_constant():
    with pytest.warns(RuntimeWarning, match="too short"):
        M.integrated_autocorrelation_time(ar1(0.995, 100, seed=1))
    assert math.isnan(M.integrated_autocorrelation_time(np.ones(100)))
    assert math.isnan(M.effective_sample_size(np.ones((2, 100))))
    assert np.all(np.isnan(M.autocorrelation(np.ones(10))))


def test_rhat_hand_value():
    chains = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0]])
    # halves [1,2] [3,4] [2,3] [4,5]: n = 2, W = 1/2, B = 2 var(1.5, 3.5, 2.5, 4.5) = 10/3
    var_plus = 0.5 * 0.5 + (10 / 3) / 2
    assert M.rhat(chains) == pytest.approx(math.sqrt(var_plus / 0.5))
    odd = np.array([[1.0, 2.0, 99.0, 3.0, 4.0], [2.0, 3.0, -99.0, 4.0, 5.0]])  # the middle draw is dropped
    assert M.rhat(odd) == pytest.approx(M.rhat(chains))


def test_rhat_detects_unmixed_chains():
    rng = np.random.default_rng(9)
    same = rng.standard_normal((4, 2000))
    assert M.rhat(same) == pytest.approx(1.0, abs=0.01)
    assert M.rhat(ar1(0.5, 4000, n_chains=4, seed=2)) == pytest.approx(1.0, abs=0.02)
    shifted = same + np.array([0.0, 0.0, 0.0, 1.0])[:, None]
    assert M.rhat(shifted) > 1.1
    drifting = same + np.linspace(0.0, 2.0, 2000)  # every chain drifts: only the split catches it
    assert M.rhat(drifting) > 1.1
    assert math.isnan(M.rhat(np.ones((3, 10))))


# -- planted models: Nishimori gap -------------------------------------------------------------------


def test_nishimori_gap_vanishes_for_exact_posterior_samples():
    gaps, frozen_gaps = [], []
    for seed in range(12):
        model = sg.SpikedWigner(10, 3.0, sg.Rademacher(), seed=seed)
        ex = model.exact()
        x = ex.sample(1500, seed=100 + seed)
        gaps.append(M.nishimori_gap(model, x, max_pairs=5000, seed=seed))
        # a "sampler" stuck on one configuration: replica overlap 1, overlap with x* below 1
        frozen = np.repeat(x[:1], 200, axis=0)
        frozen_gaps.append(M.nishimori_gap(model, frozen))
    gaps = np.array(gaps)
    # the identity holds on average over instances; each instance fluctuates by O(N^-1/2)
    assert abs(gaps.mean()) < 4 * gaps.std(ddof=1) / math.sqrt(gaps.size) + 0.01
    assert np.mean(frozen_gaps) < -0.1


def test_nishimori_gap_potts_and_chains():
    # the Potts Gibbs measure is the planted-colouring posterior only up to finite-size corrections,
    # so the identity is approximate here; the test checks the permutation-invariant path end to end
    gaps, frozen_gaps = [], []
    for seed in range(6):
        model = sg.PlantedColoring(7, 3, 2.0, beta=1.5, seed=seed)
        x = model.exact().sample(600, seed=seed)
        chain = np.arange(600) % 4
        gaps.append(M.nishimori_gap(model, x, chain=chain, max_pairs=3000, seed=seed))
        frozen_gaps.append(M.nishimori_gap(model, np.repeat(x[:1], 50, axis=0)))
    gaps = np.array(gaps)
    assert abs(gaps.mean()) < 4 * gaps.std(ddof=1) / math.sqrt(gaps.size) + 0.01
    assert np.mean(frozen_gaps) < -0.1
    with pytest.raises(ValueError, match="planted"):
        M.nishimori_gap(sg.CurieWeiss(6, 0.5), np.ones((4, 6)))


# -- bad input ---------------------------------------------------------------------------------------


def test_bad_inputs_raise():
    x = np.ones((3, 4))
    ex = sg.CurieWeiss(4, 0.5).exact()
    cases = [
        (TypeError, "model", lambda: M.energy_per_variable("SK", x)),
        (ValueError, "x", lambda: M.energy_per_variable(sg.CurieWeiss(5, 0.5), x)),
        (TypeError, "x", lambda: M.magnetization(np.array(["a", "b"]))),
        (ValueError, "x", lambda: M.magnetization(np.empty((2, 0)))),
        (ValueError, "x", lambda: M.magnetization([1.0, np.nan])),
        (ValueError, "symmetry", lambda: M.overlap(x, x, symmetry="gauge")),
        (TypeError, "symmetry", lambda: M.overlap(x, x, symmetry=1)),
        (ValueError, "last axis", lambda: M.overlap(x, np.ones(5))),
        (ValueError, "broadcast", lambda: M.overlap(x, np.ones((2, 4)))),
        (ValueError, "q", lambda: M.overlap(x, x, symmetry="sign", q=3)),
        (ValueError, "colours", lambda: M.overlap([0, 1, 3], [0, 1, 2], symmetry="permutation", q=3)),
        (ValueError, "integer", lambda: M.overlap([0, 0.5, 1], [0, 1, 1], symmetry="permutation", q=2)),
        (ValueError, "q", lambda: M.overlap([0, 0, 0], [0, 0, 0], symmetry="permutation", q=1)),
        (TypeError, "q", lambda: M.overlap([0, 1], [0, 1], symmetry="permutation", q=2.0)),
        (ValueError, "x", lambda: M.replica_overlaps(np.ones(4))),
        (ValueError, "at least 2", lambda: M.replica_overlaps(np.ones((1, 4)))),
        (ValueError, "chain", lambda: M.replica_overlaps(x, chain=[0, 1])),
        (TypeError, "chain", lambda: M.replica_overlaps(x, chain=[0.5, 1, 2])),
        (ValueError, "max_pairs", lambda: M.replica_overlaps(x, max_pairs=0)),
        (ValueError, "bins", lambda: M.overlap_distribution(x, bins=0)),
        (ValueError, "bins", lambda: M.overlap_distribution(x, bins=[0.0, 0.0, 1.0])),
        (ValueError, "value_range", lambda: M.overlap_distribution(x, value_range=(1.0, 0.0))),
        (ValueError, "sum to 1", lambda: M.total_variation([0.5, 0.6], [0.5, 0.5])),
        (ValueError, "non-negative", lambda: M.kl_divergence([1.5, -0.5], [0.5, 0.5])),
        (ValueError, "same shape", lambda: M.total_variation([1.0], [0.5, 0.5])),
        (TypeError, "p", lambda: M.kl_divergence(["a"], [1.0])),
        (TypeError, "exact", lambda: M.empirical_tv(ex.probabilities, x)),
        (ValueError, "direction", lambda: M.empirical_kl(ex, x, direction="both")),
        (ValueError, "n_samples", lambda: M.tv_null_quantile(ex, 0)),
        (TypeError, "n_samples", lambda: M.tv_null_quantile(ex, 10.0)),
        (ValueError, "quantile", lambda: M.tv_null_quantile(ex, 10, quantile=1.5)),
        (ValueError, "repeats", lambda: M.tv_null_quantile(ex, 10, repeats=0)),
        (ValueError, "a ", lambda: M.wasserstein1(np.ones((2, 2)), np.ones(3))),
        (ValueError, "series", lambda: M.autocorrelation(np.ones((2, 2, 2)))),
        (ValueError, "series", lambda: M.autocorrelation(np.ones(1))),
        (ValueError, "c ", lambda: M.integrated_autocorrelation_time(np.arange(10.0), c=0.0)),
        (ValueError, "series", lambda: M.integrated_autocorrelation_time(np.arange(3.0))),
        (ValueError, "series", lambda: M.rhat(np.ones((2, 3)))),
        (ValueError, "series", lambda: M.rhat([1.0, math.inf, 2.0, 3.0])),
    ]
    for exc, match, call in cases:
        with pytest.raises(exc, match=match):
            call()
