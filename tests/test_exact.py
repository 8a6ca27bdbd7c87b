"""Exact enumeration (spinglass.exact) against independent brute-force computations and closed forms."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from spinglass import (
    SK,
    CurieWeiss,
    EdwardsAnderson,
    Gaussian,
    PlantedColoring,
    PlantedNAESAT,
    Rademacher,
    SparseRademacher,
    SpikedTensor,
    SpikedWigner,
)


def all_configurations(alphabet, n):
    """Every configuration, site 0 the most significant digit (itertools.product order)."""
    return np.array(list(itertools.product(list(alphabet), repeat=n)), dtype=float)


# --------------------------------------------------------------------------------------------------
# Curie-Weiss, SK, 2D ferromagnet
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta", [0.5, 1.5])
@pytest.mark.parametrize("h", [0.15, -0.3])
def test_curie_weiss_magnetization_law_matches_enumeration(beta, h):
    n = 12
    model = CurieWeiss(n, beta=beta, h=h)
    ex = model.exact()
    m_values, law = model.magnetization_law()
    assert m_values.shape == (n + 1,) and law.shape == (n + 1,)
    assert law.sum() == pytest.approx(1.0, abs=1e-13)
    M = ex.configurations.sum(axis=1)
    for m, p in zip(m_values, law, strict=True):
        assert ex.probabilities[np.isclose(M, m * n)].sum() == pytest.approx(p, rel=1e-10, abs=1e-15)
    assert model.log_partition() == pytest.approx(ex.log_Z, rel=1e-12)
    # site marginals follow from the magnetisation law: P(x_i = +1) = (1 + E[m]) / 2
    mean_m = float(law @ m_values)
    assert np.allclose(ex.marginals[:, 1], (1 + mean_m) / 2, rtol=1e-10)
    # the field breaks the symmetry in its own direction
    assert np.sign(mean_m) == np.sign(h)


def test_curie_weiss_log_partition_closed_form_small_n():
    # n = 2: configurations ++, --, +-, -+ with E = -1/2 - 2h, -1/2 + 2h, 1/2, 1/2
    beta, h = 0.9, 0.25
    expected = math.log(math.exp(beta * (0.5 + 2 * h)) + math.exp(beta * (0.5 - 2 * h)) + 2 * math.exp(-beta / 2))
    model = CurieWeiss(2, beta=beta, h=h)
    assert model.log_partition() == pytest.approx(expected, rel=1e-13)
    assert model.exact().log_Z == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("h", [0.0, 0.7])
def test_sk_at_infinite_temperature(h):
    n = 10
    ex = SK(n, beta=0.0, h=h, seed=1).exact()
    assert ex.log_Z == pytest.approx(n * math.log(2), rel=1e-13)
    assert np.allclose(ex.probabilities, 2.0**-n, rtol=1e-12)
    assert np.allclose(ex.marginals, 0.5, rtol=1e-12)


def test_sk_log_partition_by_brute_force():
    n, beta, h = 8, 1.3, 0.2
    model = SK(n, beta=beta, h=h, seed=4)
    J = np.asarray(model.couplings)
    log_w = []
    for x in itertools.product((-1.0, 1.0), repeat=n):
        e = -sum(J[i, j] * x[i] * x[j] for i in range(n) for j in range(i + 1, n)) - h * sum(x)
        log_w.append(-beta * e)
    ex = model.exact()
    assert ex.log_Z == pytest.approx(float(logsumexp(log_w)), rel=1e-12)
    assert np.allclose(ex.probabilities, np.exp(np.array(log_w) - logsumexp(log_w)), rtol=1e-10)
    assert ex.free_entropy == pytest.approx(ex.log_Z / n, rel=1e-14)


def torus_4x4_brute_force(beta):
    """(log Z, mean energy, <|m|>) of the 4x4 periodic Ising ferromagnet from a direct enumeration."""
    codes = np.arange(2**16)
    bits = (codes[:, None] >> np.arange(16)[None, :]) & 1
    s = (2.0 * bits - 1.0).reshape(-1, 4, 4)
    energy = -(s * np.roll(s, 1, axis=1)).sum(axis=(1, 2)) - (s * np.roll(s, 1, axis=2)).sum(axis=(1, 2))
    log_w = -beta * energy
    log_z = float(logsumexp(log_w))
    p = np.exp(log_w - log_z)
    return log_z, float(p @ energy), float(p @ np.abs(s.mean(axis=(1, 2))))


@pytest.mark.parametrize("beta", [0.2, 0.4406868, 0.8])
def test_edwards_anderson_ferro_4x4_torus(beta):
    model = EdwardsAnderson((4, 4), couplings="ferro", beta=beta)
    ex = model.exact()
    log_z, mean_e, mean_abs_m = torus_4x4_brute_force(beta)
    assert ex.log_Z == pytest.approx(log_z, rel=1e-12)
    assert ex.mean_energy == pytest.approx(mean_e, rel=1e-10)
    assert ex.expectation(np.abs(ex.configurations.mean(axis=1))) == pytest.approx(mean_abs_m, rel=1e-10)
    assert np.allclose(ex.marginals, 0.5, rtol=1e-10)  # Z2 symmetry at h = 0


def test_edwards_anderson_ferro_4x4_known_limits():
    # beta -> 0: log Z = N ln 2, <E> = 0;  large beta: the two ground states with E = -2N dominate
    hot = EdwardsAnderson((4, 4), couplings="ferro", beta=0.0).exact()
    assert hot.log_Z == pytest.approx(16 * math.log(2), rel=1e-13)
    assert hot.mean_energy == pytest.approx(0.0, abs=1e-12)
    cold = EdwardsAnderson((4, 4), couplings="ferro", beta=5.0).exact()
    assert cold.mean_energy == pytest.approx(-32.0, rel=1e-6)
    assert cold.log_Z == pytest.approx(math.log(2) + 5.0 * 32, rel=1e-6)


# --------------------------------------------------------------------------------------------------
# reference measures of posterior and constraint models
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("prior", [Rademacher(), SparseRademacher(0.3)], ids=["rademacher", "sparse-0.3"])
def test_spiked_wigner_log_z_is_the_evidence(prior):
    n, lam = 6, 1.4
    model = SpikedWigner(n, lam, prior, seed=2)
    Y = model.observations
    terms = []
    for x in itertools.product(range(prior.values.size), repeat=n):
        v = prior.values[list(x)]
        log_p0 = float(np.sum(np.log(prior.weights[list(x)])))
        quad = sum(math.sqrt(lam / n) * Y[i, j] * v[i] * v[j] - lam / (2 * n) * v[i] ** 2 * v[j] ** 2
                   for i in range(n) for j in range(i + 1, n))
        terms.append(log_p0 + quad)
    ex = model.exact()
    assert ex.log_Z == pytest.approx(float(logsumexp(terms)), rel=1e-12, abs=1e-12)
    assert np.allclose(ex.configurations, all_configurations(prior.values, n))


def test_spiked_tensor_exact_at_zero_signal_limit():
    # Delta -> large: posterior -> prior, log Z -> 0 (normalised prior)
    ex = SpikedTensor(6, 3, 1e8, Rademacher(), seed=0).exact()
    assert ex.log_Z == pytest.approx(0.0, abs=1e-4)
    assert np.allclose(ex.probabilities, 2.0**-6, rtol=1e-3)


def test_planted_coloring_log_z_counts_proper_colourings():
    model = PlantedColoring(8, 3, 2.5, seed=3)
    edges = [tuple(map(int, e)) for e in model.edges]
    count = sum(all(s[a] != s[b] for a, b in edges) for s in itertools.product(range(3), repeat=8))
    ex = model.exact()
    assert count > 0
    assert ex.log_Z == pytest.approx(math.log(count), rel=1e-12)
    assert np.count_nonzero(ex.probabilities) == count
    assert ex.probability(model.planted) == pytest.approx(1.0 / count, rel=1e-12)
    assert ex.mean_energy == 0.0


def test_planted_potts_finite_beta_log_z():
    beta = 1.1
    model = PlantedColoring(7, 3, 3.0, beta=beta, seed=5)
    edges = [tuple(map(int, e)) for e in model.edges]
    log_w = [-beta * sum(s[a] == s[b] for a, b in edges) for s in itertools.product(range(3), repeat=7)]
    assert model.exact().log_Z == pytest.approx(float(logsumexp(log_w)), rel=1e-12)


def test_planted_naesat_log_z_counts_solutions():
    model = PlantedNAESAT(10, 3, 1.5, seed=8)
    n_sol = 0
    for x in itertools.product((-1, 1), repeat=10):
        ok = all(len({s * x[v] for v, s in zip(c, sg, strict=True)}) > 1
                 for c, sg in zip(model.clauses.tolist(), model.signs.tolist(), strict=True))
        n_sol += ok
    ex = model.exact()
    assert ex.log_Z == pytest.approx(math.log(n_sol), rel=1e-12)
    # NAE is symmetric under global flip: marginals are exactly 1/2
    assert np.allclose(ex.marginals, 0.5, rtol=1e-12)


# --------------------------------------------------------------------------------------------------
# table, marginals, index, sampling
# --------------------------------------------------------------------------------------------------
TABLE_MODELS = {
    "SK": lambda: SK(7, beta=1.1, h=0.3, seed=5),
    "sparse-wigner": lambda: SpikedWigner(5, 2.0, SparseRademacher(0.3), seed=1),
    "potts": lambda: PlantedColoring(6, 3, 2.0, beta=0.7, seed=4),
    "coloring": lambda: PlantedColoring(7, 3, 2.0, seed=5),
    "naesat": lambda: PlantedNAESAT(8, 3, 1.0, beta=0.9, seed=3),
}


@pytest.mark.parametrize("name", list(TABLE_MODELS))
def test_table_order_normalisation_and_marginals(name):
    model = TABLE_MODELS[name]()
    ex = model.exact()
    alphabet = np.asarray(model.alphabet, dtype=float)
    n, k = model.n, alphabet.size
    assert ex.n_states == k**n
    assert np.array_equal(ex.configurations, all_configurations(alphabet, n))
    assert ex.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(ex.probabilities >= 0)
    lw = np.array([model.log_weight(c) for c in ex.configurations])
    assert np.allclose(ex.log_weights, lw, rtol=1e-12, atol=1e-12, equal_nan=False)
    with np.errstate(divide="ignore"):
        assert np.allclose(np.exp(lw - ex.log_Z), ex.probabilities, rtol=1e-10, atol=1e-300)
    marg = np.zeros((n, k))
    for c, p in zip(ex.configurations, ex.probabilities, strict=True):
        for i in range(n):
            marg[i, int(np.flatnonzero(alphabet == c[i])[0])] += p
    assert np.allclose(ex.marginals, marg, rtol=1e-10, atol=1e-15)
    assert np.allclose(ex.marginals.sum(axis=1), 1.0, rtol=1e-12)
    energies = np.array([model.energy(c) for c in ex.configurations])
    assert np.allclose(ex.energies, energies)
    assert ex.mean_energy == pytest.approx(float(ex.probabilities @ energies), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", list(TABLE_MODELS))
def test_index_inverts_configuration_order(name):
    ex = TABLE_MODELS[name]().exact()
    assert np.array_equal(ex.index(ex.configurations), np.arange(ex.n_states))
    rng = np.random.default_rng(0)
    pick = rng.integers(0, ex.n_states, size=(3, 4))
    batch = ex.configurations[pick]
    assert np.array_equal(ex.index(batch), pick)
    assert np.allclose(ex.probability(batch), ex.probabilities[pick])
    assert int(ex.index(ex.configurations[-1])) == ex.n_states - 1


@pytest.mark.parametrize("name", list(TABLE_MODELS))
def test_sample_frequencies_match_table(name):
    ex = TABLE_MODELS[name]().exact()
    n_samples = 60_000
    x = ex.sample(n_samples, seed=11)
    assert x.shape == (n_samples, ex.model.n)
    assert np.array_equal(x, ex.sample(n_samples, seed=11))
    counts = np.bincount(ex.index(x), minlength=ex.n_states)
    p = ex.probabilities
    assert np.all(counts[p == 0] == 0)  # forbidden configurations never appear
    # Pearson chi-square over cells with expected count >= 5, the rest pooled into one cell
    expected = n_samples * p
    big = expected >= 5
    obs = np.append(counts[big], counts[~big].sum())
    exp_ = np.append(expected[big], expected[~big].sum())
    keep = exp_ > 0
    chi2 = float(np.sum((obs[keep] - exp_[keep]) ** 2 / exp_[keep]))
    assert stats.chi2.sf(chi2, df=int(keep.sum()) - 1) > 1e-6
    # histogram is the empirical law; its TV distance from p is below 5x its expectation bound
    tv = 0.5 * np.abs(ex.histogram(x) - p).sum()
    assert tv < 5 * 0.5 * np.sum(np.sqrt(p * (1 - p) / n_samples))


def test_sample_cdf_dkw_bound():
    """Empirical CDF in table order within the Dvoretzky-Kiefer-Wolfowitz band at level 1e-6."""
    ex = SK(7, beta=1.1, h=0.3, seed=5).exact()
    n_samples = 400_000
    counts = np.bincount(ex.index(ex.sample(n_samples, seed=21)), minlength=ex.n_states)
    sup = float(np.max(np.abs(np.cumsum(counts) / n_samples - np.cumsum(ex.probabilities))))
    assert sup < math.sqrt(math.log(2 / 1e-6) / (2 * n_samples))


def test_sample_marginals_within_standard_errors():
    ex = SK(10, beta=0.8, h=0.2, seed=6).exact()
    n_samples = 20_000
    x = ex.sample(n_samples, seed=np.random.default_rng(3))
    p_plus = ex.marginals[:, 1]
    freq = (x > 0).mean(axis=0)
    assert np.all(np.abs(freq - p_plus) < 5 * np.sqrt(p_plus * (1 - p_plus) / n_samples))


# --------------------------------------------------------------------------------------------------
# limits and errors
# --------------------------------------------------------------------------------------------------
def test_exact_above_the_limit_raises():
    with pytest.raises(ValueError, match="max_states") as info:
        SK(21, beta=1.0, seed=0).exact()
    assert "n = 21" in str(info.value)
    with pytest.raises(ValueError, match="max_states"):
        SK(5, beta=1.0, seed=0).exact(max_states=31)
    assert SK(5, beta=1.0, seed=0).exact(max_states=32).n_states == 32
    with pytest.raises(ValueError, match=r"n = 13"):
        SpikedWigner(13, 1.0, SparseRademacher(0.5), seed=0).exact()  # 3^13 > 2^20


def test_exact_continuous_prior_raises_type_error():
    with pytest.raises(TypeError, match="continuous"):
        SpikedWigner(4, 1.0, Gaussian(), seed=0).exact()
    with pytest.raises(TypeError, match="continuous"):
        SpikedTensor(4, 3, 1.0, Gaussian(), seed=0).exact()
