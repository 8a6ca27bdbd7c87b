"""Every sampler family implements the protocol of samplers.base, and the users of the protocol rely on it."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import spinglass as sg
from analysis.measures import compare
from samplers import (
    MALA,
    WORK_COUNTERS,
    Autoregressive,
    HeatBath,
    Langevin,
    Metropolis,
    ParallelTempering,
    ResumableSampler,
    Sampler,
    StochasticInterpolant,
    StochasticLocalization,
    TorchMetropolis,
)
from samplers.base import check_sampler, is_resumable
from samplers.denoisers import ExactDenoiser

FAMILIES = [
    (Metropolis(sweeps=5), True), (HeatBath(sweeps=5), True), (ParallelTempering(n_temps=2, sweeps=5), True),
    (Langevin(n_steps=5), True), (MALA(n_steps=5), True), (TorchMetropolis(sweeps=2), False),
    (StochasticLocalization(ExactDenoiser, n_steps=4), False),
    (StochasticInterpolant(ExactDenoiser, n_steps=4), False), (Autoregressive(ExactDenoiser), False),
]


@pytest.mark.parametrize(("sampler", "resumable"), FAMILIES, ids=lambda v: type(v).__name__)
def test_every_family_is_a_sampler_with_settings_that_name_it(sampler, resumable):
    assert isinstance(sampler, Sampler)
    assert check_sampler(sampler) is sampler
    assert is_resumable(sampler) is resumable
    assert isinstance(sampler, ResumableSampler)       # same members at run time; resumable says which
    settings = sampler.settings()
    assert settings["name"] == sampler.name


def test_neural_samplers_are_samplers():
    from samplers.neural import MADE, NeuralAutoregressiveSampler, NeuralMCMC, VariationalAutoregressive

    net = MADE(4, 2, hidden=(8,), seed=0)
    for s in (NeuralAutoregressiveSampler(net), NeuralMCMC(net, n_steps=3), VariationalAutoregressive(n_steps=3)):
        assert check_sampler(s) is s and not is_resumable(s)
        assert s.settings()["name"] == s.name


def test_resumable_samplers_continue_from_state():
    model = sg.SK(6, 1.0, seed=0)
    s = Metropolis(sweeps=4)
    one = s.sample(model, 4, seed=3)
    more = s.sample(model, 4, state=one.state)
    assert more.x.shape == (4, 6)


def test_check_sampler_names_what_is_missing():
    class NoSettings:
        name = "x"

        def sample(self, model, n, seed=None):
            return None

    with pytest.raises(TypeError, match="lacks settings"):
        check_sampler(NoSettings())
    with pytest.raises(TypeError, match=r"samplers\['bad'\].*not a sampler"):
        compare(sg.SK(4, 1.0, seed=0), {"bad": object()}, 4)


def test_work_counters_come_from_the_driver_hook():
    """Autoregressive reports restarts through its own work_from_trace; the base driver knows no key."""
    model = sg.PlantedColoring(8, 3, 3.0, beta=2.0, seed=0)
    ar = Autoregressive(ExactDenoiser, on_contradiction="restart")
    res = ar.sample(model, 4, seed=1)
    assert res.work["restarts"] == 0 and set(res.work) <= set(WORK_COUNTERS)
    sl = StochasticLocalization(functools.partial(ExactDenoiser), n_steps=4)
    assert sl.work_from_trace({"restarts": np.array([2])}) == {}
    assert ar.work_from_trace({"restarts": np.array([1, 2])}) == {"restarts": 3}
