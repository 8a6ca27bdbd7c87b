"""Model energies, log weights and instance statistics against formulas written from docs/physics.md §1.

Every energy is recomputed here by an explicit per-configuration loop over pairs / edges / clauses /
triples (never through the model's own vectorised code), and random instances are checked against
the laws they are drawn from with tolerances of 5 standard errors derived from the sample sizes.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

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

N_SE = 5.0


def random_pm1(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


def check_batched(model, x, loop_energy):
    """energy over a (2, 3, n) batch equals the loop, and a single configuration returns a float."""
    e = model.energy(x)
    assert e.shape == x.shape[:-1]
    for idx in np.ndindex(*x.shape[:-1]):
        assert e[idx] == pytest.approx(loop_energy(x[idx]), rel=1e-12, abs=1e-10)
    single = model.energy(x[0, 0])
    assert isinstance(single, float)
    assert single == pytest.approx(loop_energy(x[0, 0]), rel=1e-12, abs=1e-10)


def check_log_weight_differences(model, x, log_prior=None):
    """log w(x) - log w(y) = -beta (E(x) - E(y)) + (log p0(x) - log p0(y))."""
    flat = x.reshape(-1, model.n)
    lw = model.log_weight(flat)
    e = model.energy(flat)
    lp = np.zeros(len(flat)) if log_prior is None else np.array([log_prior(c) for c in flat])
    for a in range(len(flat)):
        for b in range(len(flat)):
            expected = -model.beta * (e[a] - e[b]) + lp[a] - lp[b]
            assert lw[a] - lw[b] == pytest.approx(expected, rel=1e-10, abs=1e-9)


# --------------------------------------------------------------------------------------------------
# mean-field Ising
# --------------------------------------------------------------------------------------------------
def test_sk_energy_matches_pair_sum():
    n, beta, h = 9, 0.7, 0.35
    model = SK(n, beta=beta, h=h, seed=3)
    J = np.asarray(model.couplings)

    def loop(x):
        pair = sum(J[i, j] * x[i] * x[j] for i in range(n) for j in range(i + 1, n))
        return -pair - h * sum(x)

    x = random_pm1(np.random.default_rng(0), (2, 3, n))
    check_batched(model, x, loop)
    check_log_weight_differences(model, x)
    # counting measure: log w(x) = -beta E(x) exactly
    assert model.log_weight(x[1, 2]) == pytest.approx(-beta * loop(x[1, 2]), rel=1e-12)


def test_sk_couplings_are_gaussian_over_sqrt_n():
    n = 300
    J = np.asarray(SK(n, beta=1.0, seed=12).couplings)
    assert np.array_equal(J, J.T)
    assert np.all(np.diag(J) == 0)
    g = J[np.triu_indices(n, 1)] * math.sqrt(n)  # should be i.i.d. N(0, 1)
    m = g.size
    assert abs(g.mean()) < N_SE / math.sqrt(m)
    assert abs(g.var() - 1.0) < N_SE * math.sqrt(2.0 / m)
    assert abs(np.mean(g**4) - 3.0) < N_SE * math.sqrt(96.0 / m)  # Var[g^4] = 105 - 9


def test_curie_weiss_energy_matches_formula():
    n, beta, h = 8, 1.2, -0.4
    model = CurieWeiss(n, beta=beta, h=h)

    def loop(x):
        pair = sum(x[i] * x[j] for i in range(n) for j in range(i + 1, n))
        return -pair / n - h * sum(x)

    x = random_pm1(np.random.default_rng(1), (2, 3, n))
    check_batched(model, x, loop)
    check_log_weight_differences(model, x)


# --------------------------------------------------------------------------------------------------
# Edwards-Anderson
# --------------------------------------------------------------------------------------------------
def lattice_neighbour_pairs(shape):
    """Set of unordered nearest-neighbour pairs of the periodic lattice, written from coordinates."""
    pairs = set()
    for coord in itertools.product(*(range(length) for length in shape)):
        site = int(np.ravel_multi_index(coord, shape))
        for d, length in enumerate(shape):
            nb = list(coord)
            nb[d] = (nb[d] + 1) % length
            pairs.add(frozenset((site, int(np.ravel_multi_index(tuple(nb), shape)))))
    return pairs


@pytest.mark.parametrize("shape", [(3, 3), (4, 5), (3, 4, 5), (3, 3, 3)])
@pytest.mark.parametrize("kind", ["pm1", "gaussian", "ferro"])
def test_edwards_anderson_lattice(shape, kind):
    model = EdwardsAnderson(shape, couplings=kind, beta=0.9, seed=4)
    n = int(np.prod(shape))
    d = len(shape)
    assert model.n == n
    assert len(model.edges) == d * n
    pairs = lattice_neighbour_pairs(shape)
    assert len(pairs) == d * n
    assert {frozenset(map(int, e)) for e in model.edges} == pairs
    J = model.couplings.toarray()
    assert np.array_equal(J, J.T)
    assert np.all((J != 0).sum(axis=1) == 2 * d)  # every node has degree 2d
    assert sorted(model.to_networkx().degree[v] for v in range(n)) == [2 * d] * n
    w = model.edge_couplings
    for (a, b), j in zip(model.edges, w, strict=True):
        assert J[a, b] == j
    if kind == "ferro":
        assert np.all(w == 1.0)
    elif kind == "pm1":
        assert set(np.unique(w)) <= {-1.0, 1.0}


def test_edwards_anderson_energy_on_torus_edges():
    shape, beta, h = (4, 3), 0.6, 0.2
    model = EdwardsAnderson(shape, couplings="gaussian", beta=beta, h=h, seed=9)
    J = model.couplings.toarray()
    pairs = [tuple(sorted(p)) for p in lattice_neighbour_pairs(shape)]

    def loop(x):
        return -sum(J[i, j] * x[i] * x[j] for i, j in pairs) - h * sum(x)

    x = random_pm1(np.random.default_rng(2), (2, 3, model.n))
    check_batched(model, x, loop)
    check_log_weight_differences(model, x)


def test_edwards_anderson_coupling_statistics():
    pm1 = EdwardsAnderson((40, 40), couplings="pm1", seed=1).edge_couplings
    m = pm1.size
    assert abs(pm1.mean()) < N_SE / math.sqrt(m)
    gauss = EdwardsAnderson((40, 40), couplings="gaussian", seed=1).edge_couplings
    assert abs(gauss.mean()) < N_SE / math.sqrt(m)
    assert abs(gauss.var() - 1.0) < N_SE * math.sqrt(2.0 / m)


def test_edwards_anderson_ferro_ground_state():
    model = EdwardsAnderson((5, 4), couplings="ferro", beta=1.0)
    assert model.energy(np.ones(model.n)) == -2 * model.n
    assert model.energy(-np.ones(model.n)) == -2 * model.n


# --------------------------------------------------------------------------------------------------
# spiked Wigner
# --------------------------------------------------------------------------------------------------
PRIORS = [Rademacher(), SparseRademacher(0.3), SparseRademacher(0.05), Gaussian()]
PRIOR_IDS = ["rademacher", "sparse-0.3", "sparse-0.05", "gaussian"]


@pytest.mark.parametrize("prior", PRIORS, ids=PRIOR_IDS)
def test_spiked_wigner_log_weight_from_observations(prior):
    n, lam = 7, 1.7
    model = SpikedWigner(n, lam, prior, seed=5)
    Y = model.observations

    def log_weight(x):
        total = 0.0
        for i in range(n):
            for j in range(i + 1, n):
                total += math.sqrt(lam / n) * Y[i, j] * x[i] * x[j] - lam / (2 * n) * x[i] ** 2 * x[j] ** 2
        return total + float(np.sum(prior.log_density(x)))

    rng = np.random.default_rng(3)
    x = prior.sample((2, 3, n), seed=rng)
    lw = model.log_weight(x)
    assert lw.shape == (2, 3)
    for idx in np.ndindex(2, 3):
        assert lw[idx] == pytest.approx(log_weight(x[idx]), rel=1e-12, abs=1e-10)
        # beta = 1 posterior: log w = log p0 - E
        assert model.energy(x[idx]) == pytest.approx(
            float(np.sum(prior.log_density(x[idx]))) - log_weight(x[idx]), rel=1e-12, abs=1e-10)
    check_log_weight_differences(model, x, log_prior=lambda c: float(np.sum(prior.log_density(c))))


@pytest.mark.parametrize("lam", [2.0, 100.0])
@pytest.mark.parametrize("prior", PRIORS, ids=PRIOR_IDS)
def test_spiked_wigner_observation_statistics(prior, lam):
    # the amplitude sqrt(lam/N) is estimated to relative precision ~ sqrt(2/(lam N)): large lam resolves 1%
    n = 600
    model = SpikedWigner(n, lam, prior, seed=21)
    Y = model.observations
    x = model.planted
    assert x.shape == (n,)
    assert np.array_equal(Y, Y.T)
    assert np.all(np.diag(Y) == 0)
    assert model.lam == lam and model.Delta == pytest.approx(1 / lam)
    iu = np.triu_indices(n, 1)
    s = np.outer(x, x)[iu]
    y = Y[iu]
    # given x*, Y_ij = a x*_i x*_j + W_ij: least-squares a has mean sqrt(lam/N) and sd 1/sqrt(sum s^2)
    a_hat = float(y @ s / (s @ s))
    assert abs(a_hat - math.sqrt(lam / n)) < N_SE / math.sqrt(s @ s)
    w = y - math.sqrt(lam / n) * s
    assert abs(w.mean()) < N_SE / math.sqrt(w.size)
    assert abs(w.var() - 1.0) < N_SE * math.sqrt(2.0 / w.size)
    if isinstance(prior, Rademacher):
        # the mean of Y_ij x*_i x*_j over pairs itself estimates sqrt(lam/N)
        assert abs(float(np.mean(y * s)) - math.sqrt(lam / n)) < N_SE / math.sqrt(s.size)
    if prior.discrete:
        assert np.all(np.isin(x, prior.values))
    J = np.asarray(model.couplings)
    assert np.allclose(J, math.sqrt(lam / n) * Y, rtol=1e-14, atol=0)


def test_spiked_wigner_planted_follows_prior():
    prior = SparseRademacher(0.3)
    x = SpikedWigner(2000, 1.0, prior, seed=8).planted
    nonzero = np.mean(x != 0)
    assert abs(nonzero - 0.3) < N_SE * math.sqrt(0.3 * 0.7 / x.size)


# --------------------------------------------------------------------------------------------------
# spiked tensor
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("prior", [Rademacher(), SparseRademacher(0.3), Gaussian()],
                         ids=["rademacher", "sparse-0.3", "gaussian"])
def test_spiked_tensor_p3_log_weight_from_observations(prior):
    n, p, Delta = 6, 3, 0.8
    model = SpikedTensor(n, p, Delta, prior, seed=6)
    triples = list(itertools.combinations(range(n), 3))
    assert [tuple(e) for e in model.hyperedges.tolist()] == triples
    Y = dict(zip(triples, model.observations, strict=True))
    c = math.sqrt(2.0 / n**2)  # sqrt((p-1)!/N^(p-1)) at p = 3

    def log_weight(x):
        total = 0.0
        for i, j, k in triples:
            total += c * Y[i, j, k] * x[i] * x[j] * x[k] / Delta
            total -= 2.0 / (2 * Delta * n**2) * x[i] ** 2 * x[j] ** 2 * x[k] ** 2
        return total + float(np.sum(prior.log_density(x)))

    x = prior.sample((2, 3, n), seed=np.random.default_rng(4))
    lw = model.log_weight(x)
    for idx in np.ndindex(2, 3):
        assert lw[idx] == pytest.approx(log_weight(x[idx]), rel=1e-12, abs=1e-10)
    check_log_weight_differences(model, x, log_prior=lambda cfg: float(np.sum(prior.log_density(cfg))))


@pytest.mark.parametrize("prior", [Rademacher(), Gaussian()], ids=["rademacher", "gaussian"])
def test_spiked_tensor_observation_statistics(prior):
    # the signal amplitude sqrt(2)/N is estimated to relative precision ~ sqrt(3 Delta / N): small Delta
    n, p, Delta = 120, 3, 0.005
    model = SpikedTensor(n, p, Delta, prior, seed=13)
    x = model.planted
    e = model.hyperedges
    assert e.shape == (math.comb(n, 3), 3)
    s = x[e[:, 0]] * x[e[:, 1]] * x[e[:, 2]]
    scale = math.sqrt(2.0 / n**2)
    a_hat = float(model.observations @ s / (s @ s))
    assert abs(a_hat - scale) < N_SE * math.sqrt(Delta / (s @ s))
    w = (model.observations - scale * s) / math.sqrt(Delta)
    assert abs(w.var() - 1.0) < N_SE * math.sqrt(2.0 / w.size)
    assert np.allclose(model.weights, scale * model.observations / Delta, rtol=1e-14)


@pytest.mark.parametrize(("p", "T"), [(3, 0.5), (3, 1.2), (4, 0.9), (2, 1.0)])
def test_spiked_tensor_from_temperature(p, T):
    model = SpikedTensor.from_temperature(8, p, T, Rademacher(), seed=0)
    assert model.Delta == pytest.approx(2 * T**2 / p, rel=1e-14)
    assert model.temperature == pytest.approx(T, rel=1e-14)
    assert model.p == p
    if p == 3:
        assert T == pytest.approx(math.sqrt(3 * model.Delta / 2), rel=1e-14)


# --------------------------------------------------------------------------------------------------
# planted colouring / Potts
# --------------------------------------------------------------------------------------------------
def test_potts_energy_counts_monochromatic_edges():
    model = PlantedColoring(12, 3, 3.0, beta=0.8, seed=2)
    A = model.adjacency.toarray()

    def loop(x):
        return float(sum(A[i, j] for i in range(model.n) for j in range(i + 1, model.n) if x[i] == x[j]))

    x = np.random.default_rng(5).integers(0, 3, size=(2, 3, model.n))
    check_batched(model, x, loop)
    check_log_weight_differences(model, x)


@pytest.mark.parametrize(("n", "q", "c"), [(500, 3, 4.0), (301, 5, 7.0), (1000, 4, 2.5), (50, 3, 0.0)])
def test_planted_coloring_at_zero_temperature(n, q, c):
    model = PlantedColoring(n, q, c, seed=31)
    m = int(round(c * n / 2))
    assert len(model.edges) == m
    assert model.degrees.sum() == 2 * m
    assert model.degrees.mean() == pytest.approx(2 * m / n, rel=1e-14)
    edges = {tuple(sorted(map(int, e))) for e in model.edges}
    assert len(edges) == m  # no duplicates
    assert all(a != b for a, b in edges)  # no self-loops
    sigma = model.planted
    assert sigma.min() >= 0 and sigma.max() < q
    assert all(sigma[a] != sigma[b] for a, b in edges)
    assert model.energy(sigma) == 0.0
    assert model.log_weight(sigma) == 0.0
    bad = sigma.copy()
    if m:
        a, b = model.edges[0]
        bad[a] = bad[b]
        assert model.energy(bad) >= 1
        assert model.log_weight(bad) == -math.inf
    assert model.to_networkx().number_of_edges() == m


@pytest.mark.parametrize(("beta", "seed"), [(0.0, 1), (1.0, 2), (2.5, 3)])
def test_planted_potts_monochromatic_rate(beta, seed):
    n, q, c = 10_000, 3, 8.0
    model = PlantedColoring(n, q, c, beta=beta, seed=seed)
    m = len(model.edges)
    counts = np.bincount(model.planted, minlength=q)
    pairs_eq = float(np.sum(counts * (counts - 1) / 2))
    p_eq = pairs_eq / (n * (n - 1) / 2)
    # each edge is an independent pair with equal-colour pairs down-weighted by e^{-beta}
    rate = p_eq * math.exp(-beta) / (p_eq * math.exp(-beta) + 1.0 - p_eq)
    mono = model.energy(model.planted)
    assert mono > 0
    assert abs(mono / m - rate) < N_SE * math.sqrt(rate * (1 - rate) / m)


# --------------------------------------------------------------------------------------------------
# planted NAE-SAT / hypergraph bicolouring
# --------------------------------------------------------------------------------------------------
def test_naesat_energy_counts_violated_clauses():
    model = PlantedNAESAT(10, 3, 2.0, beta=1.3, seed=4)

    def loop(x):
        violated = 0
        for clause, signs in zip(model.clauses, model.signs, strict=True):
            lits = [s * x[v] for v, s in zip(clause, signs, strict=True)]
            violated += all(lit == lits[0] for lit in lits)
        return float(violated)

    x = random_pm1(np.random.default_rng(6), (2, 3, model.n))
    check_batched(model, x, loop)
    check_log_weight_differences(model, x)


@pytest.mark.parametrize(("k", "alpha", "signed"), [(3, 1.5, True), (4, 3.0, True), (3, 2.2, False),
                                                     (5, 0.7, False)])
def test_planted_naesat_at_zero_temperature(k, alpha, signed):
    n = 400
    model = PlantedNAESAT(n, k, alpha, signed=signed, seed=17)
    m = int(round(alpha * n))
    assert model.clauses.shape == (m, k)
    assert model.degrees.mean() == pytest.approx(k * m / n, rel=1e-14)
    assert np.all(np.diff(np.sort(model.clauses, axis=1), axis=1) > 0)
    if not signed:
        assert np.all(model.signs == 1)
    else:
        assert set(np.unique(model.signs)) == {-1, 1}
    x = model.planted
    assert model.energy(x) == 0.0
    assert model.log_weight(x) == 0.0
    lits = x[model.clauses] * model.signs
    assert np.all(np.abs(lits.sum(axis=1)) < k)


@pytest.mark.parametrize(("beta", "seed"), [(0.0, 5), (1.0, 6), (3.0, 7)])
def test_planted_naesat_violation_rate(beta, seed):
    n, k, alpha = 10_000, 3, 4.0
    model = PlantedNAESAT(n, k, alpha, beta=beta, signed=True, seed=seed)
    m = len(model.clauses)
    p_viol = 2.0 / 2**k  # random literal signs: the k literals are i.i.d. uniform ±1
    rate = p_viol * math.exp(-beta) / (p_viol * math.exp(-beta) + 1.0 - p_viol)
    viol = model.energy(model.planted)
    assert abs(viol / m - rate) < N_SE * math.sqrt(rate * (1 - rate) / m)


def test_planted_bicolouring_violation_rate():
    n, k, alpha, beta = 2000, 3, 3.0, 0.5
    model = PlantedNAESAT(n, k, alpha, beta=beta, signed=False, seed=9)
    x = model.planted
    npos, nneg = int(np.sum(x > 0)), int(np.sum(x < 0))
    # k distinct variables chosen uniformly: all-equal probability by counting ordered k-tuples
    p_viol = (math.perm(npos, k) + math.perm(nneg, k)) / math.perm(n, k)
    rate = p_viol * math.exp(-beta) / (p_viol * math.exp(-beta) + 1.0 - p_viol)
    m = len(model.clauses)
    assert abs(model.energy(x) / m - rate) < N_SE * math.sqrt(rate * (1 - rate) / m)


# --------------------------------------------------------------------------------------------------
# seeds and immutability
# --------------------------------------------------------------------------------------------------
FACTORIES = {
    "SK": (lambda s: SK(10, 1.0, seed=s), lambda m: np.asarray(m.couplings)),
    "EA-pm1": (lambda s: EdwardsAnderson((4, 4), "pm1", seed=s), lambda m: m.edge_couplings),
    "EA-gauss": (lambda s: EdwardsAnderson((3, 3, 3), "gaussian", seed=s), lambda m: m.edge_couplings),
    "SpikedWigner": (lambda s: SpikedWigner(10, 1.0, SparseRademacher(0.3), seed=s),
                     lambda m: np.concatenate([m.observations.ravel(), m.planted])),
    "SpikedTensor": (lambda s: SpikedTensor(8, 3, 1.0, Gaussian(), seed=s),
                     lambda m: np.concatenate([m.observations, m.planted])),
    "PlantedColoring": (lambda s: PlantedColoring(60, 3, 3.0, seed=s),
                        lambda m: np.concatenate([m.edges.ravel(), m.planted])),
    "PlantedPotts": (lambda s: PlantedColoring(60, 3, 3.0, beta=1.0, seed=s),
                     lambda m: np.concatenate([m.edges.ravel(), m.planted])),
    "PlantedNAESAT": (lambda s: PlantedNAESAT(60, 3, 2.0, seed=s),
                      lambda m: np.concatenate([m.clauses.ravel(), m.signs.ravel(), m.planted])),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_seed_determines_instance(name):
    make, content = FACTORIES[name]
    a, b, c = content(make(123)), content(make(123)), content(make(124))
    assert np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)
    g1, g2 = content(make(np.random.default_rng(77))), content(make(np.random.default_rng(77)))
    assert np.array_equal(g1, g2)
    assert make(123).describe() == make(123).describe()


def test_models_are_immutable():
    model = SK(6, 1.0, seed=0)
    with pytest.raises(ValueError):
        model.couplings[0, 1] = 5.0
    wig = SpikedWigner(6, 1.0, Rademacher(), seed=0)
    with pytest.raises(ValueError):
        wig.observations[0, 1] = 1.0
    with pytest.raises(ValueError):
        wig.planted[0] = 1.0


def test_random_configuration_on_alphabet():
    for model in (SK(6, 1.0, seed=0), SpikedWigner(6, 1.0, SparseRademacher(0.3), seed=0),
                  PlantedColoring(20, 4, 2.0, seed=0), PlantedNAESAT(20, 3, 1.0, seed=0)):
        x = model.random_configuration(50, seed=1)
        assert x.shape == (50, model.n)
        assert np.all(np.isin(x, model.alphabet))
        assert np.array_equal(x, model.random_configuration(50, seed=1))
