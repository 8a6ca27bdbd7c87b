"""Autoregressive sampling with ``on_contradiction="restart"``: BP-guided decimation at beta = inf can declare
a contradiction; restarted samples are proper solutions, an exact oracle is unaffected, and the restart budget
is enforced."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import spinglass as sg
from samplers import Autoregressive
from samplers.denoisers import BPDenoiser, ContradictionError, ExactDenoiser

BP = functools.partial(BPDenoiser, tol=1e-4, max_iter=200)


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def test_exact_oracle_gives_the_same_samples_in_both_modes():
    """An exact oracle never contradicts: same seed, same samples, zero restarts."""
    model = sg.PlantedNAESAT(12, 3, 1.5, seed=0)
    a = Autoregressive(ExactDenoiser).sample(model, 50, seed=3)
    b = Autoregressive(ExactDenoiser, on_contradiction="restart").sample(model, 50, seed=3)
    assert np.array_equal(a.x, b.x)
    assert b.work["restarts"] == 0 and np.all(b.trace["restarts"] == 0)


def test_restarts_turn_bp_contradictions_into_solutions():
    """Planted 5-NAE-SAT, n = 200, alpha = 6.5 (below the lens' alpha_autoregressive = 8.5), 10 variables per
    query: plain decimation stops on a BP contradiction (this seed: in the first batch); with restarts every
    sample satisfies all clauses (energy = number of violated clauses = 0) and the restarts are counted."""
    model = sg.PlantedNAESAT(200, 5, 6.5, seed=1)
    with pytest.raises(ContradictionError, match="contradiction in batch row"):
        _quiet(lambda: Autoregressive(BP, reveal_per_step=10).sample(model, 4, seed=0))
    res = _quiet(lambda: Autoregressive(BP, reveal_per_step=10, on_contradiction="restart").sample(model, 4, seed=0))
    assert np.all(model.energy(res.x) == 0)
    assert res.trace["restarts"].shape == (4,)
    assert res.work["restarts"] == int(res.trace["restarts"].sum()) > 0
    assert res.sampler["on_contradiction"] == "restart" and res.sampler["max_restarts"] == 10


def test_restart_budget_is_enforced():
    """Above the threshold (alpha = 9) decimation over BP keeps contradicting: the error names the budget."""
    model = sg.PlantedNAESAT(150, 5, 9.0, seed=1)
    sampler = Autoregressive(BP, reveal_per_step=10, on_contradiction="restart", max_restarts=2)
    with pytest.raises(ContradictionError, match="max_restarts = 2"):
        _quiet(lambda: sampler.sample(model, 2, seed=0))


def test_bad_arguments():
    with pytest.raises(ValueError, match="on_contradiction must be"):
        Autoregressive(ExactDenoiser, on_contradiction="skip")
    with pytest.raises(ValueError, match="trajectory"):
        Autoregressive(ExactDenoiser, on_contradiction="restart", trajectory=True)
    with pytest.raises(ValueError, match="max_restarts"):
        Autoregressive(ExactDenoiser, on_contradiction="restart", max_restarts=0)
    assert issubclass(ContradictionError, ValueError)
