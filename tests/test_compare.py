"""analysis.measures.compare: one instance, several samplers, quality against cost."""

from __future__ import annotations

import numpy as np
import pytest

import spinglass as sg
from analysis.measures.compare import compare
from samplers import Autoregressive, Metropolis, StochasticLocalization
from samplers.denoisers import ExactDenoiser


@pytest.fixture(scope="module")
def result():
    model = sg.SpikedWigner(7, 3.0, sg.SparseRademacher(0.4), seed=3)
    samplers = [Metropolis(sweeps=30), StochasticLocalization(ExactDenoiser, n_steps=60), Autoregressive(ExactDenoiser),
                Metropolis(sweeps=1)]
    return model, compare(model, samplers, 3000, seed=5)


def test_table_rows_columns_and_exactness(result):
    model, cmp = result
    t = cmp.table
    assert list(t["sampler"]) == ["Metropolis", "StochasticLocalization", "Autoregressive", "Metropolis_2"]
    for col in ("energy", "energy_sem", "overlap_planted", "two_sample_overlap", "nishimori_gap", "energy_gap",
                "tv_exact", "tv_bound", "wall_time"):
        assert col in t.columns
    good = t.iloc[:3]
    assert np.all(good["tv_exact"] < 1.1 * good["tv_bound"]), t[["sampler", "tv_exact", "tv_bound"]]
    # one sweep from a random start is far from equilibrium: the TV check can fail
    assert t.iloc[3]["tv_exact"] > 1.1 * t.iloc[3]["tv_bound"]
    # exact samplers satisfy the Nishimori identity within sampling noise (instance fluctuations at n = 7
    # are O(1), so compare the samplers with each other, not with 0)
    assert abs(good["overlap_planted"].iloc[0] - good["overlap_planted"].iloc[2]) < 0.05
    assert t.loc[1, "denoiser_calls"] == 61  # 60 steps + the final query at T
    assert t.loc[2, "denoiser_calls"] == 7  # one query per variable
    assert t.loc[0, "sweeps"] == 30
    assert set(cmp.samples) == set(t["sampler"])


def test_seeds_are_per_position_and_reproducible(result):
    """Each sampler's seed depends on (seed, position) only: a shorter list reproduces the first rows."""
    model, cmp = result
    again = compare(model, [Metropolis(sweeps=30)], 3000, seed=5)
    assert again.table.loc[0, "sampler_seed"] == cmp.table.loc[0, "sampler_seed"]
    np.testing.assert_array_equal(again.samples["Metropolis"].x, cmp.samples["Metropolis"].x)
    assert len(set(cmp.table["sampler_seed"])) == 4


def test_bad_arguments():
    model = sg.SK(5, 0.5, seed=0)
    with pytest.raises(ValueError, match="at least one sampler"):
        compare(model, [], 10)
    with pytest.raises(TypeError, match="is not a sampler: it lacks name, sample, settings"):
        compare(model, {"a": object()}, 10)
    with pytest.raises(ValueError, match="n_samples must be >= 2"):
        compare(model, [Metropolis()], 1)
    with pytest.raises(TypeError, match="model must be a spinglass Model"):
        compare("SK", [Metropolis()], 10)
