"""Sweep specifications: parsing, grids, alternatives, capability checks, task expansion and ids."""

from __future__ import annotations

import math

import pytest

from analysis.experiments.sweep import Task, expand
from analysis.experiments.sweep_spec import METRICS, SAMPLERS, SpecError, parse_spec, parse_spec_text

BASE = """
name = "t"
seeds = [0, 1]
metrics = ["energy", "tau_int_energy"]
[model]
family = "EdwardsAnderson"
L = 4
couplings = "ferro"
[grid]
T = {start = 2.0, stop = 3.0, num = 3}
[[samplers]]
name = "Metropolis"
n_samples = 8
n_chains = 4
sweeps = 20
"""


def test_spec_expands_grid_seeds_and_samplers():
    heat_bath = '[[samplers]]\nname = "HeatBath"\nn_samples = 4\nsweeps = 20\ngrid = {thin = [1, 3]}\n'
    spec = parse_spec_text(BASE + heat_bath)
    assert spec.grid == {"T": (2.0, 2.5, 3.0)}
    assert spec.seeds == (0, 1)
    tasks = expand(spec)
    assert len(tasks) == spec.n_tasks == 3 * 2 * (1 + 2)
    # defaults are resolved into the task: every parameter that determines the run is recorded
    t = tasks[0]
    assert t.model == {"L": 4, "dim": 2, "couplings": "ferro", "T": 2.0, "h": 0.0}
    assert t.settings == {"sweeps": 20, "thin": 1, "trace_every": 1, "order": "auto"}
    assert t.run == {"n_samples": 8, "n_chains": 4, "init": "random", "burn_in": (20 + 1 * 1) // 2}
    ids = [t.task_id for t in tasks]
    assert len(set(ids)) == len(ids)
    assert len({t.sampler_seed for t in tasks}) == len(tasks)


def test_task_id_is_a_stable_hash_of_the_parameters():
    a = expand(parse_spec_text(BASE))
    b = expand(parse_spec_text(BASE.replace('L = 4\ncouplings = "ferro"', 'couplings = "ferro"\nL = 4')))
    assert [t.task_id for t in a] == [t.task_id for t in b]  # key order does not matter
    t = Task("CurieWeiss", {"n": 8, "beta": 0.5, "h": 0.0}, 3, "Metropolis", "Metropolis",
             {"sweeps": 10, "thin": 1, "trace_every": 1}, {"n_samples": 2, "n_chains": 2, "init": "random",
                                                           "burn_in": 5}, ("energy",))
    assert t.task_id == Task(**{**t.__dict__, "metrics": ("energy", "wall_time")}).task_id  # metrics excluded
    relabelled = Task(**{**t.__dict__, "sampler": "M2"})
    assert relabelled.task_id != t.task_id and relabelled.sampler_seed == t.sampler_seed
    assert len(t.task_id) == 16 and int(t.task_id, 16) >= 0


def test_range_scales_and_integer_grids():
    spec = parse_spec({"model": {"family": "SK", "beta": 0.5}, "grid": {"n": {"start": 8, "stop": 32, "num": 3,
                                                                                 "scale": "log"}},
                       "samplers": [{"name": "HeatBath", "n_samples": 2}], "metrics": ["energy"]})
    assert spec.grid["n"] == (8, 16, 32)
    with pytest.raises(SpecError, match=r"grid\.n: integer parameter"):
        parse_spec({"model": {"family": "SK", "beta": 0.5}, "grid": {"n": {"start": 8, "stop": 9, "num": 3}},
                    "samplers": [{"name": "HeatBath", "n_samples": 2}], "metrics": ["energy"]})


def test_alternative_parameters_and_defaults():
    spec = parse_spec({"model": {"family": "PlantedColoring", "n": 30, "q": 3, "c": 2.0},
                       "samplers": [{"name": "Metropolis", "n_samples": 2, "init": "planted"}],
                       "metrics": ["overlap"]})
    assert spec.model_points() == [{"n": 30, "q": 3, "c": 2.0, "beta": math.inf}]
    with pytest.raises(SpecError, match=r"model\.T: give either beta or T, not both"):
        parse_spec({"model": {"family": "CurieWeiss", "n": 8, "beta": 1.0}, "grid": {"T": [1.0, 2.0]},
                    "samplers": [{"name": "Metropolis", "n_samples": 2}], "metrics": ["energy"]})
    with pytest.raises(SpecError, match=r"model\.lam: missing"):
        parse_spec({"model": {"family": "SpikedWigner", "n": 8},
                    "samplers": [{"name": "Metropolis", "n_samples": 2}], "metrics": ["energy"]})
    with pytest.raises(SpecError, match=r"model\.rho: prior 'sparse_rademacher' needs rho"):
        parse_spec({"model": {"family": "SpikedWigner", "n": 8, "Delta": 0.5, "prior": "sparse_rademacher"},
                    "samplers": [{"name": "Metropolis", "n_samples": 2}], "metrics": ["energy"]})


def test_capabilities_are_checked_up_front():
    base = {"samplers": [{"name": "Metropolis", "n_samples": 4, "n_chains": 2}]}
    with pytest.raises(SpecError, match=r"metrics: 'overlap' needs a planted configuration"):
        parse_spec({**base, "model": {"family": "CurieWeiss", "n": 8, "T": 2.0}, "metrics": ["overlap"]})
    with pytest.raises(SpecError, match=r"samplers\[0\]\.name: Metropolis needs a finite alphabet"):
        parse_spec({**base, "model": {"family": "SpikedWigner", "n": 8, "lam": 2.0, "prior": "gaussian"},
                    "metrics": ["energy"]})
    with pytest.raises(SpecError, match=r"'tv_exact' needs exact enumeration"):
        parse_spec({**base, "model": {"family": "SK", "n": 40, "T": 2.0}, "metrics": ["tv_exact"]})
    with pytest.raises(SpecError, match=r"n_chains: metric 'nishimori_gap' needs at least 2 chains, got 1"):
        parse_spec({"samplers": [{"name": "Metropolis", "n_samples": 4, "n_chains": 1}],
                    "model": {"family": "SpikedWigner", "n": 8, "lam": 2.0}, "metrics": ["nishimori_gap"]})


def test_all_metrics_resolves_to_what_applies():
    spec = parse_spec({"model": {"family": "SpikedWigner", "n": 8, "lam": 2.0},
                       "samplers": [{"name": "HeatBath", "n_samples": 8, "n_chains": 4, "sweeps": 20}],
                       "metrics": "all"})
    assert "overlap" in spec.metrics and "nishimori_gap" in spec.metrics and "tau_int_energy" in spec.metrics
    assert "tv_exact" not in spec.metrics  # costly: never implied by "all"
    assert set(spec.metrics) <= set(METRICS)


def test_registry_holds_the_mcmc_samplers_and_their_settings():
    assert {"Metropolis", "HeatBath", "ParallelTempering"} <= set(SAMPLERS)
    assert "n_temps" in SAMPLERS["ParallelTempering"].setting_names
    with pytest.raises(SpecError, match=r"samplers\[0\] \(ParallelTempering\): n_temps must be >= 2, got 1"):
        parse_spec({"model": {"family": "CurieWeiss", "n": 8, "T": 2.0}, "metrics": ["energy"],
                    "samplers": [{"name": "ParallelTempering", "n_samples": 2, "n_temps": 1}]})
