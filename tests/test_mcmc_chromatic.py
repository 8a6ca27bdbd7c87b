"""The chromatic kernel (``order="chromatic"``, samplers.mcmc.kernels_chromatic) against ground truth.

* the greedy colouring is proper, and the blocked layout holds every coupling once (irregular degrees);
* the law of (energy, magnetisation) on small models (an odd 3 x 5 lattice, a sparse random graph with
  irregular degrees and fields, integer and Gaussian couplings) against exact enumeration, for
  Metropolis, heat bath and tempering; the bound is the 0.999 quantile of the same distance for exact
  i.i.d. samples, x 1.1, and a mutant at doubled beta must break it;
* beyond enumeration, on random trees of 600 sites (many full blocks, hubs): the bond variables
  x_i x_j of a tree in zero field are independent with mean tanh(beta J_ij), so
  sum_e (mean_e - tanh(beta J_e))^2 / ((1 - tanh^2) / N) over N independent chains is chi-squared with
  E = n - 1 degrees of freedom; it must lie below the 0.999 quantile, and a mutant at doubled beta must
  exceed it; the sample variance of the energy must match its closed form within the 0.999 two-sided
  normal quantile of standard errors (it sees correlations between bonds, which the means do not);
* the traced energy and magnetisation equal the ones recomputed from the final states; the integer and
  float paths give the same chains bit for bit; a continued run equals an uninterrupted one; ``threads``
  changes no number.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.sparse as sp
from law_checks import assert_law_and_mutant, assert_resume_and_threads_change_no_number
from scipy import stats

import spinglass as sg
from samplers import HeatBath, Metropolis, ParallelTempering
from samplers.mcmc import kernels_binary as kb
from samplers.mcmc import kernels_chromatic as kc
from samplers.mcmc.chromatic_adapter import ChromaticAdapter

N_SAMPLES = 20000


def _symmetric(n: int, edges: np.ndarray, weights: np.ndarray) -> sp.csr_matrix:
    i, j = edges[:, 0], edges[:, 1]
    return sp.csr_matrix((np.r_[weights, weights], (np.r_[i, j], np.r_[j, i])), shape=(n, n))


def random_graph_model(n: int, p: float, couplings: str, beta: float, h: float, seed: int) -> sg.PairwiseModel:
    """Ising model on an Erdos-Renyi graph G(n, p): ±1 / {±1, ±2} / Gaussian couplings, uniform field h."""
    rng = np.random.default_rng(seed)
    iu, ju = np.triu_indices(n, 1)
    keep = rng.random(iu.size) < p
    edges = np.stack([iu[keep], ju[keep]], axis=1)
    if couplings == "gaussian":
        w = rng.standard_normal(len(edges))
    else:
        w = rng.choice([-2.0, -1.0, 1.0, 2.0] if couplings == "int" else [-1.0, 1.0], size=len(edges))
    return sg.PairwiseModel(_symmetric(n, edges, w), fields=np.full(n, h), beta=beta, counting=True)


def random_tree_model(n: int, couplings: str, beta: float, seed: int) -> tuple[sg.PairwiseModel, np.ndarray,
                                                                                np.ndarray]:
    """Ising model in zero field on a random recursive tree (site i > 0 joins a uniform earlier site),
    relabelled at random; returns (model, edges, couplings)."""
    rng = np.random.default_rng(seed)
    parent = np.array([rng.integers(0, i) for i in range(1, n)])
    label = rng.permutation(n)
    edges = np.stack([label[np.arange(1, n)], label[parent]], axis=1)
    w = rng.standard_normal(n - 1) if couplings == "gaussian" else rng.choice([-2.0, -1.0, 1.0, 2.0], size=n - 1)
    return sg.PairwiseModel(_symmetric(n, edges, w), beta=beta, counting=True), edges, w


def test_colouring_is_proper_and_layout_holds_every_coupling():
    model = random_graph_model(300, 0.02, "gaussian", 1.0, 0.0, seed=0)
    J = model.couplings
    indptr, indices = J.indptr.astype(np.int64), J.indices.astype(np.int64)
    colour = kc.greedy_colouring(indptr, indices, model.n)
    coo = J.tocoo()
    assert np.all(colour[coo.row] != colour[coo.col])
    assert colour.max() + 1 <= np.diff(indptr).max() + 1
    lay = kc.sliced_layout(indptr, indices, J.data, colour)
    order = lay["order"]
    assert np.array_equal(np.sort(order), np.arange(model.n))
    # blocks tile the packed labels class by class, at most BLOCK sites, degrees non-increasing in a class
    assert lay["start"][0] == 0 and np.array_equal(lay["start"][1:], np.cumsum(lay["size"])[:-1])
    assert np.all((lay["size"] >= 1) & (lay["size"] <= kc.BLOCK))
    rebuilt = np.zeros((model.n, model.n))
    for cls in range(lay["class_ptr"].size - 1):
        blocks = range(lay["class_ptr"][cls], lay["class_ptr"][cls + 1])
        sites = np.concatenate([lay["start"][b] + np.arange(lay["size"][b]) for b in blocks])
        assert np.all(colour[order[sites]] == cls)
        assert np.all(np.diff(np.diff(indptr)[order[sites]]) <= 0)
        for b in blocks:
            for k in range(lay["size"][b]):
                for t in range(lay["width"][b]):
                    entry = lay["offset"][b] + t * lay["size"][b] + k
                    rebuilt[order[lay["start"][b] + k], order[lay["neighbours"][entry]]] += lay["couplings"][entry]
    np.testing.assert_array_equal(rebuilt, J.toarray())


def test_one_sided_coupling_separates_colours_and_tables_hold_nnz():
    # PairwiseModel accepts asymmetry up to rounding: the colouring reads the symmetric pattern
    J = sp.csr_matrix(([1e-13], ([0], [1])), shape=(3, 3))
    assert ChromaticAdapter(sg.PairwiseModel(J, beta=1.0)).n_colours == 2
    # a complete graph stored sparse: n classes of one site, and the tables hold exactly nnz entries
    dense = sg.PairwiseModel(sp.csr_matrix(sg.SK(40, 0.5, seed=0).couplings), beta=0.5)
    adapter = ChromaticAdapter(dense)
    assert adapter.n_colours == 40 and adapter.neighbours.size == dense.couplings.nnz


def test_even_torus_takes_two_colours():
    assert ChromaticAdapter(sg.EdwardsAnderson((6, 8), "pm1", seed=0)).n_colours == 2
    # an odd cycle needs three colours; greedy in index order takes at most degree + 1 = 5
    assert 3 <= ChromaticAdapter(sg.EdwardsAnderson((3, 5), "pm1", seed=0)).n_colours <= 5


MODELS = {
    "odd_lattice_pm1": lambda: sg.EdwardsAnderson((3, 5), "pm1", beta=0.7, h=0.5, seed=1),
    "graph_int_field": lambda: random_graph_model(13, 0.3, "int", 0.3, 1.0, seed=2),
    "graph_gaussian_field": lambda: random_graph_model(13, 0.3, "gaussian", 0.6, 0.4, seed=3),
}
SAMPLERS = {
    "metropolis": lambda: Metropolis(sweeps=40, order="chromatic"),
    "heat_bath": lambda: HeatBath(sweeps=40, order="chromatic"),
    "tempering": lambda: ParallelTempering(n_temps=3, beta_min_ratio=0.4, sweeps=30, order="chromatic"),
}


@pytest.mark.parametrize("sampler_name", list(SAMPLERS))
@pytest.mark.parametrize("model_name", list(MODELS))
def test_law_matches_exact_enumeration(model_name, sampler_name):
    assert_law_and_mutant(MODELS[model_name](), SAMPLERS[sampler_name], N_SAMPLES, mutant=sampler_name != "tempering")


def _bond_chi2(x: np.ndarray, edges: np.ndarray, w: np.ndarray, beta: float) -> float:
    """sum_e z_e^2, z_e = (mean over rows of x_i x_j - tanh(beta J_e)) / sqrt((1 - tanh^2) / rows)."""
    t = np.tanh(beta * w)
    mean = (x[:, edges[:, 0]] * x[:, edges[:, 1]]).mean(axis=0)
    return float((((mean - t) ** 2) / ((1.0 - t**2) / x.shape[0])).sum())


def _energy_variance_z(energies: np.ndarray, w: np.ndarray, beta: float) -> float:
    """(sample variance of E - Var E) / its standard error, for independent draws of a tree in zero field.

    E = -sum_e J_e tau_e with independent bonds tau_e = ±1 of mean t_e = tanh(beta J_e), so
    Var E = sum_e J_e^2 v_e (v_e = 1 - t_e^2) and the fourth cumulant is sum_e J_e^4 4 v_e (1 - 3 v_e / 2);
    the sample variance of N draws has variance (kappa_4 + 2 Var(E)^2) / N to leading order.  The bond
    means alone cannot see correlations between bonds (e.g. sites sharing a random number); this can.
    """
    v = 1.0 - np.tanh(beta * w) ** 2
    var = float(np.sum(w**2 * v))
    kappa4 = float(np.sum(w**4 * 4.0 * v * (1.0 - 1.5 * v)))
    return (float(np.var(energies, ddof=1)) - var) / np.sqrt((kappa4 + 2.0 * var**2) / energies.size)


TREE_CASES = {
    "int-metropolis": ("int", lambda: Metropolis(sweeps=100, order="chromatic")),
    "int-heat_bath": ("int", lambda: HeatBath(sweeps=100, order="chromatic")),
    "int-tempering": ("int", lambda: ParallelTempering(n_temps=3, beta_min_ratio=0.5, sweeps=100,
                                                       order="chromatic")),
    "gaussian-metropolis": ("gaussian", lambda: Metropolis(sweeps=100, order="chromatic")),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(TREE_CASES))
def test_tree_bonds_match_closed_form(case):
    couplings, make = TREE_CASES[case]
    sampler = make()
    beta = 0.4  # |beta J| <= 0.8: 100 sweeps mix the bonds (chi2 at 50, 100 and 400 sweeps agree)
    model, edges, w = random_tree_model(600, couplings, beta, seed=7)
    assert ChromaticAdapter(model).start.size > 2 * 2  # several blocks per class
    bound = stats.chi2.ppf(0.999, len(w))
    chains = 2000
    x = sampler.sample(model, chains, seed=11).x
    chi2 = _bond_chi2(x, edges, w, beta)
    assert chi2 < bound, f"chi2 {chi2:.1f} >= {bound:.1f} with {len(w)} bonds"
    z = _energy_variance_z(model.energy(x), w, beta)
    assert abs(z) < stats.norm.ppf(0.9995), f"energy variance off by {z:.2f} standard errors"
    if not isinstance(sampler, ParallelTempering):
        mutant = copy.copy(model)
        mutant.beta = 2 * beta
        wrong = _bond_chi2(sampler.sample(mutant, chains, seed=11).x, edges, w, beta)
        assert wrong > bound, f"mutant not detected: chi2 {wrong:.1f} <= {bound:.1f}"


@pytest.mark.parametrize("couplings", ["int", "gaussian"])
@pytest.mark.parametrize("cls", [Metropolis, HeatBath])
def test_traced_energy_and_magnetisation_match_recomputed(couplings, cls):
    model = random_graph_model(500, 0.008, couplings, 0.9, 0.3 if couplings == "gaussian" else 1.0, seed=4)
    r = cls(sweeps=25, order="chromatic").sample(model, 6, seed=1)
    np.testing.assert_allclose(r.trace["energy"][:, -1], model.energy(r.x), atol=1e-8)
    np.testing.assert_allclose(r.trace["magnetization"][:, -1], r.x.mean(axis=1), atol=1e-12)
    assert r.trace["energy"].shape == (6, 25)
    assert 0.05 < r.acceptance["mean"] < 0.95
    assert r.sampler["order"] == "chromatic"


def test_planted_overlap_is_traced():
    ea = sg.EdwardsAnderson((6, 6), "pm1", beta=0.8, seed=2)
    planted = np.where(np.arange(ea.n) % 3, 1.0, -1.0)
    model = sg.PairwiseModel(ea.couplings, beta=0.8, planted=planted, counting=True)
    r = Metropolis(sweeps=10, order="chromatic").sample(model, 4, seed=0)
    np.testing.assert_allclose(r.trace["overlap_planted"][:, -1], r.x @ planted / model.n, atol=1e-12)


def test_float_path_reproduces_integer_path(monkeypatch):
    model = random_graph_model(200, 0.02, "int", 0.6, 1.0, seed=5)
    integer = Metropolis(sweeps=30, order="chromatic").sample(model, 4, seed=2)
    assert ChromaticAdapter(model).F >= 0
    monkeypatch.setattr(kb, "TABLE_MAX_FIELD", -1)
    assert ChromaticAdapter(model).F == -1  # the float path
    floating = Metropolis(sweeps=30, order="chromatic").sample(model, 4, seed=2)
    np.testing.assert_array_equal(integer.x, floating.x)
    np.testing.assert_array_equal(integer.trace["energy"], floating.trace["energy"])


@pytest.mark.parametrize("sampler", [Metropolis(sweeps=25, order="chromatic"),
                                     ParallelTempering(n_temps=3, sweeps=25, order="chromatic")])
def test_continued_run_and_threads_change_no_number(sampler):
    model = random_graph_model(150, 0.03, "int", 0.8, 0.0, seed=6)
    assert_resume_and_threads_change_no_number(sampler, model)


def test_beta_zero_is_lazy_and_beta_inf_descends():
    model = random_graph_model(40, 0.1, "int", 0.0, 0.0, seed=7)
    r = Metropolis(sweeps=20, order="chromatic").sample(model, 500, seed=3)
    # every flip is accepted with probability 1/2: acceptance 0.5 within 5 standard errors
    assert abs(r.acceptance["mean"] - 0.5) < 5 * np.sqrt(0.25 / (20 * 40 * 500))
    cold = random_graph_model(300, 0.01, "gaussian", 1.0, 0.0, seed=8)
    cold.beta = np.inf  # a zero-temperature quench
    q = Metropolis(sweeps=30, order="chromatic").sample(cold, 4, seed=3)
    e = q.trace["energy"]
    assert np.all(np.diff(e, axis=1) <= 1e-9)
    assert np.all(e[:, -1] < e[:, 0])


def test_bad_input():
    with pytest.raises(ValueError, match="order='chromatic' needs.*not a sparse pairwise model"):
        Metropolis(sweeps=1, order="chromatic").sample(sg.SK(8, 0.5, seed=0), 1, seed=0)
    with pytest.raises(ValueError, match="order='chromatic' needs"):
        Metropolis(sweeps=1, order="chromatic").sample(sg.PlantedColoring(20, 3, 2.0, seed=0), 1, seed=0)
    tilted = sg.PairwiseModel(sg.EdwardsAnderson((4, 4), "pm1", seed=0).couplings, prior=sg.SparseRademacher(0.5))
    with pytest.raises(ValueError, match="alphabet"):
        Metropolis(sweeps=1, order="chromatic").sample(tilted, 1, seed=0)
    with pytest.raises(ValueError, match="global term"):
        Metropolis(sweeps=1, order="chromatic").sample(sg.CurieWeiss(10, 0.5), 1, seed=0)
    model = sg.EdwardsAnderson((4, 4), "pm1", seed=0)
    board = Metropolis(sweeps=2, order="checkerboard").sample(model, 2, seed=0)
    with pytest.raises(ValueError, match="order = 'checkerboard'"):
        Metropolis(sweeps=2, order="chromatic").sample(model, 2, state=board.state)
