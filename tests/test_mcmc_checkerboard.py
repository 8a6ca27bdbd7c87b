"""The checkerboard kernel (``order="checkerboard"``, samplers.mcmc.kernels_lattice) against ground truth.

* the packed layout's neighbours are the lattice's (2D and 3D);
* the law of (energy, magnetisation) on 4 x 4 lattices against exact enumeration, for Metropolis, heat
  bath and tempering, on the integer (±J, ferro with field) and float (Gaussian with field) paths; the
  bound is the 0.999 quantile of the same distance for exact i.i.d. samples, x 1.1, and a mutant at
  doubled beta must break it;
* the traced energy and magnetisation equal the ones recomputed from the final states (3D lattices);
* the integer and float paths give the same chains bit for bit; a continued run equals an uninterrupted
  one; ``threads`` changes no number.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from law_checks import assert_law_and_mutant, assert_resume_and_threads_change_no_number

import spinglass as sg
from samplers import HeatBath, Metropolis, ParallelTempering
from samplers.mcmc import kernels_lattice as kl
from spinglass.lattice import torus_edges

N_SAMPLES = 20000


@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (4, 6, 4)])
def test_packed_neighbours_are_the_lattice_neighbours(shape):
    order, parity, rows = kl.packing(shape)
    n = int(np.prod(shape))
    assert np.array_equal(np.sort(order), np.arange(n))
    colour = np.array(np.unravel_index(order, shape)).sum(axis=0) % 2
    assert np.all(colour[: n // 2] == 0) and np.all(colour[n // 2:] == 1)
    table = kl.neighbour_table(shape, order, parity, rows)
    assert table.shape == (2 * len(shape), n)
    edges = torus_edges(shape)
    expected = [set() for _ in range(n)]
    for a, b in edges:
        expected[a].add(int(b))
        expected[b].add(int(a))
    for p in range(n):
        assert set(table[:, p].tolist()) == expected[order[p]]


def test_attainable_energy_changes_by_brute_force():
    rng = np.random.default_rng(0)
    Jp = rng.choice([-2, -1, 1, 3], size=(4, 10))
    hp = rng.choice([0, 1], size=10)
    levels = kl.attainable_energy_changes(Jp, hp)
    brute = set()
    for i in range(10):
        for bits in range(32):
            x = 1 - 2 * ((bits >> np.arange(5)) & 1)
            brute.add(int(2 * x[4] * (x[:4] @ Jp[:, i] + hp[i])))
    assert levels.tolist() == sorted(brute)
    ea = sg.EdwardsAnderson((4, 4), "pm1", seed=0)
    adapter = kl_adapter(ea)
    assert adapter.levels.tolist() == [-8, -4, 0, 4, 8]


def kl_adapter(model):
    from samplers.mcmc.lattice_adapter import CheckerboardAdapter

    return CheckerboardAdapter(model)


MODELS = {
    "pm1": lambda: sg.EdwardsAnderson((4, 4), "pm1", beta=0.7, seed=1),
    "ferro_field": lambda: sg.EdwardsAnderson((4, 4), "ferro", beta=0.35, h=1.0),
    "gaussian_field": lambda: sg.EdwardsAnderson((4, 4), "gaussian", beta=0.8, h=0.3, seed=2),
}
SAMPLERS = {
    "metropolis": lambda: Metropolis(sweeps=40, order="checkerboard"),
    "heat_bath": lambda: HeatBath(sweeps=40, order="checkerboard"),
    "tempering": lambda: ParallelTempering(n_temps=3, beta_min_ratio=0.4, sweeps=30, order="checkerboard"),
}


@pytest.mark.parametrize("sampler_name", list(SAMPLERS))
@pytest.mark.parametrize("model_name", list(MODELS))
def test_law_matches_exact_enumeration(model_name, sampler_name):
    assert_law_and_mutant(MODELS[model_name](), SAMPLERS[sampler_name], N_SAMPLES, mutant=sampler_name != "tempering")


@pytest.mark.parametrize("couplings", ["pm1", "gaussian"])
@pytest.mark.parametrize("cls", [Metropolis, HeatBath])
def test_traced_energy_and_magnetisation_match_recomputed(couplings, cls):
    model = sg.EdwardsAnderson((4, 6, 8), couplings, beta=0.9, h=0.2 if couplings == "gaussian" else 1.0, seed=3)
    r = cls(sweeps=25, order="checkerboard").sample(model, 6, seed=1)
    np.testing.assert_allclose(r.trace["energy"][:, -1], model.energy(r.x), atol=1e-8)
    np.testing.assert_allclose(r.trace["magnetization"][:, -1], r.x.mean(axis=1), atol=1e-12)
    assert r.trace["energy"].shape == (6, 25)
    assert 0.05 < r.acceptance["mean"] < 0.95
    assert r.sampler["order"] == "checkerboard"


def test_float_path_reproduces_integer_path(monkeypatch):
    model = sg.EdwardsAnderson((6, 8), "pm1", beta=0.6, h=1.0, seed=4)
    integer = Metropolis(sweeps=30, order="checkerboard").sample(model, 4, seed=2)
    monkeypatch.setattr(kl, "MAX_LEVELS", 0)
    assert kl_adapter(model).levels.size == 0  # the float path
    floating = Metropolis(sweeps=30, order="checkerboard").sample(model, 4, seed=2)
    np.testing.assert_array_equal(integer.x, floating.x)
    np.testing.assert_array_equal(integer.trace["energy"], floating.trace["energy"])


@pytest.mark.parametrize("sampler", [Metropolis(sweeps=25, order="checkerboard"),
                                     ParallelTempering(n_temps=3, sweeps=25, order="checkerboard")])
def test_continued_run_and_threads_change_no_number(sampler):
    model = sg.EdwardsAnderson((8, 8), "pm1", beta=0.8, seed=5)
    assert_resume_and_threads_change_no_number(sampler, model)


def test_beta_zero_is_lazy_and_beta_inf_descends():
    model = sg.EdwardsAnderson((4, 4), "pm1", beta=0.0, seed=6)
    r = Metropolis(sweeps=20, order="checkerboard").sample(model, 500, seed=3)
    # every flip is accepted with probability 1/2: acceptance 0.5 within 5 standard errors
    assert abs(r.acceptance["mean"] - 0.5) < 5 * np.sqrt(0.25 / (20 * 16 * 500))
    cold = sg.EdwardsAnderson((8, 8), "ferro", beta=1.0)
    cold.beta = np.inf  # a zero-temperature quench (EdwardsAnderson itself takes finite beta)
    q = Metropolis(sweeps=30, order="checkerboard").sample(cold, 4, seed=3)
    e = q.trace["energy"]
    assert np.all(np.diff(e, axis=1) <= 0)
    assert np.all(e[:, -1] < e[:, 0])


def test_bad_input():
    with pytest.raises(ValueError, match="order must be one of"):
        Metropolis(order="random")
    with pytest.raises(ValueError, match="odd side"):
        Metropolis(sweeps=1, order="checkerboard").sample(sg.EdwardsAnderson((5, 4), "pm1", seed=0), 1, seed=0)
    with pytest.raises(ValueError, match="not a sparse pairwise model"):
        Metropolis(sweeps=1, order="checkerboard").sample(sg.SK(8, 0.5, seed=0), 1, seed=0)
    sparse = sg.PairwiseModel(sp.csr_matrix(sg.SK(8, 0.5, seed=0).couplings), beta=0.5)
    with pytest.raises(ValueError, match="no lattice shape"):
        Metropolis(sweeps=1, order="checkerboard").sample(sparse, 1, seed=0)
    bent = sg.EdwardsAnderson((4, 4), "pm1", seed=0)
    bent.shape = (2, 8)  # the couplings are not the bonds of a 2 x 8 torus
    with pytest.raises(ValueError, match="outside the nearest-neighbour bonds"):
        Metropolis(sweeps=1, order="checkerboard").sample(bent, 1, seed=0)
    with pytest.raises(ValueError, match="order='checkerboard' needs"):
        Metropolis(sweeps=1, order="checkerboard").sample(sg.PlantedColoring(20, 3, 2.0, seed=0), 1, seed=0)
    model = sg.EdwardsAnderson((4, 4), "pm1", seed=0)
    seq = Metropolis(sweeps=2, order="sequential").sample(model, 2, seed=0)
    with pytest.raises(ValueError, match="order = 'sequential'"):
        Metropolis(sweeps=2, order="checkerboard").sample(model, 2, state=seq.state)
