"""TorchMetropolis and the learned VAN sampler run from sweep specs and spinglass sample, and sample right."""

from __future__ import annotations

import math

import numpy as np
import pytest

import spinglass as sg
from analysis.cli import main
from analysis.experiments import results
from analysis.experiments.sweep import run_sweep
from analysis.experiments.sweep_spec import SpecError, parse_spec_text
from samplers.neural import VariationalAutoregressive

pytestmark = pytest.mark.usefixtures("torch_one_thread")

SPEC = """
name = "learned"
seeds = [0]
metrics = ["energy", "wall_time"]
[model]
family = "SK"
n = 8
T = {T}
[[samplers]]
name = "{name}"
n_samples = {n_samples}
{settings}
"""


def _exact_energy(T: float) -> tuple[float, float]:
    """Mean and standard deviation of the energy per variable of SK(8, seed 0) at temperature T."""
    ex = sg.SK(8, 1.0 / T, seed=0).exact()
    e = ex.energies / 8
    mean = float(ex.probabilities @ e)
    return mean, math.sqrt(float(ex.probabilities @ (e - mean) ** 2))


def _energy_row(tmp_path, name, n_samples, settings, T):
    spec = parse_spec_text(SPEC.format(name=name, n_samples=n_samples, settings=settings, T=T))
    summary = run_sweep(spec, workers=1, progress=False, output=tmp_path / name)
    assert summary.ok, summary.failures
    df = results.load(tmp_path / name)
    return float(df[df.metric == "energy"].value.iloc[0])


def test_torch_metropolis_in_a_sweep_matches_the_exact_energy(tmp_path):
    n = 400
    got = _energy_row(tmp_path, "TorchMetropolis", n, "sweeps = 200\nn_chains = 400", 1.0)
    mean, sd = _exact_energy(1.0)
    assert abs(got - mean) < 4 * sd / math.sqrt(n)
    # mutant: the same chains at the wrong temperature are far off
    wrong = _energy_row(tmp_path / "w", "TorchMetropolis", n, "sweeps = 200\nn_chains = 400", 0.5)
    assert abs(wrong - mean) > 8 * sd / math.sqrt(n)


def test_van_in_a_sweep_learns_the_high_temperature_energy(tmp_path):
    n = 2000
    got = _energy_row(tmp_path, "VAN", n, "n_steps = 300\nbatch_size = 256\nhidden = 16", 2.0)
    mean, sd = _exact_energy(2.0)
    # the variational bias of a trained network at this easy temperature is below the sampling error's scale
    assert abs(got - mean) < 5 * sd / math.sqrt(n) + 0.01
    untrained = _energy_row(tmp_path / "u", "VAN", n, "n_steps = 1\nbatch_size = 2\nhidden = 16\nlr = 1e-9", 2.0)
    assert abs(untrained - mean) > abs(got - mean)


def test_van_settings_are_checked_and_recorded():
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1"):
        VariationalAutoregressive(n_steps=0)
    with pytest.raises(SpecError, match="batch_size"):
        parse_spec_text(SPEC.format(name="VAN", n_samples=4, settings="batch_size = 1", T=1.0))
    s = VariationalAutoregressive(hidden=[8, 8], n_steps=5)
    assert s.settings()["hidden"] == [8, 8] and s.settings()["name"] == "VAN"
    res = s.sample(sg.SK(5, 1.0, seed=1), 10, seed=3)
    assert res.x.shape == (10, 5) and res.work["training_steps"] == 5 and res.trace["free_energy"].shape == (5,)
    again = s.sample(sg.SK(5, 1.0, seed=1), 10, seed=3)
    np.testing.assert_array_equal(res.x, again.x)


def test_learned_and_torch_samplers_from_the_command_line(capsys):
    assert main(["sample", "SK", "VAN", "-p", "n=6", "-p", "T=1", "-s", "n_steps=5", "--no-progress"]) == 0
    assert "energy" in capsys.readouterr().out
    assert main(["sample", "--list"]) == 0
    assert "TorchMetropolis" in capsys.readouterr().out
