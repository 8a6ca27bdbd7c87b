"""Set-up once per model: the fingerprint and the MCMC adapters are derived once and reused, never pickled."""

from __future__ import annotations

import pickle

import numpy as np

import spinglass as sg
from samplers import Metropolis
from samplers.mcmc.adapters import adapter_for


def test_adapters_and_fingerprint_are_built_once_per_model_and_order():
    model = sg.EdwardsAnderson((8, 8), "pm1", beta=0.7, seed=0)
    assert adapter_for(model) is adapter_for(model)
    assert adapter_for(model, "checkerboard") is adapter_for(model, "checkerboard")
    assert adapter_for(model, "checkerboard") is not adapter_for(model)
    fp = model.fingerprint()
    assert model.derived()["fingerprint"] == fp == model._compute_fingerprint()
    other = sg.EdwardsAnderson((8, 8), "pm1", beta=0.7, seed=1)
    assert adapter_for(other) is not adapter_for(model) and other.fingerprint() != fp


def test_cached_set_up_gives_the_same_samples_and_stays_out_of_pickles():
    model = sg.SK(30, 1.0, seed=2)
    first = Metropolis(sweeps=20).sample(model, 6, seed=5)          # builds the cache
    again = Metropolis(sweeps=20).sample(model, 6, seed=5)          # reuses it
    fresh = Metropolis(sweeps=20).sample(pickle.loads(pickle.dumps(model)), 6, seed=5)
    np.testing.assert_array_equal(first.x, again.x)
    np.testing.assert_array_equal(first.x, fresh.x)
    assert "_derived" in model.__dict__
    assert "_derived" not in pickle.loads(pickle.dumps(model)).__dict__
    # a resumed run checks the (cached) fingerprint against the state's
    more = Metropolis(sweeps=5).sample(model, 6, state=first.state)
    assert more.x.shape == (6, 30)


def test_changing_an_attribute_empties_the_cache():
    model = sg.SK(6, 0.5, seed=0)
    fp, ad = model.fingerprint(), adapter_for(model)
    model.beta = 1.0
    assert model.fingerprint() != fp and adapter_for(model) is not ad
    cold = Metropolis(sweeps=10).sample(sg.SK(6, 1.0, seed=0), 4, seed=2)
    warm = Metropolis(sweeps=10).sample(model, 4, seed=2)
    np.testing.assert_array_equal(cold.x, warm.x)


def test_auto_order_picks_the_fastest_kernel_that_applies_and_is_recorded():
    from samplers.mcmc.adapters import resolve_order

    cases = {"checkerboard": sg.EdwardsAnderson((8, 8), "pm1", beta=0.5, seed=0),
             "chromatic": sg.EdwardsAnderson((5, 5), "pm1", beta=0.5, seed=0),
             "sequential": sg.SK(12, 1.0, seed=0)}
    for expected, model in cases.items():
        assert resolve_order(model, "auto") == expected
        res = Metropolis(sweeps=3).sample(model, 2, seed=0)
        assert res.sampler["order"] == "auto" and res.sampler["order_used"] == expected
        # a run with "auto" continues with the explicit order it resolved to, and vice versa
        explicit = Metropolis(sweeps=3, order=expected).sample(model, 2, state=res.state)
        assert explicit.x.shape == (2, model.n)
    assert resolve_order(sg.PlantedColoring(30, 3, 2.0, seed=0), "auto") == "sequential"
    assert resolve_order(sg.CurieWeiss(10, 1.0), "auto") == "sequential"       # a global (mean-field) term
    # auto is the explicit order's chain: same seed, same numbers
    lattice = cases["checkerboard"]
    np.testing.assert_array_equal(Metropolis(sweeps=4).sample(lattice, 4, seed=9).x,
                                  Metropolis(sweeps=4, order="checkerboard").sample(lattice, 4, seed=9).x)
