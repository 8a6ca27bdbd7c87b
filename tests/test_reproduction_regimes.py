"""The opposite-regime measurement, the 3-spin gap trend and the seed fractions (analysis.reproduction)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import spinglass as sg
from analysis.reproduction import opposite_regime, seeds, tensor_trend
from analysis.reproduction.run import write_opposite_regime, write_tensor_trend

TINY = {"rho": 0.05, "xs": (0.75,), "ns": (200, 300), "instances": 2, "chains": 2, "max_sweeps": 300,
        "chunk": 100, "trace_every": 5, "diffusion_ns": (200,), "diffusion_samples": 2, "sl_steps": 10}


def test_se_overlap_and_x_alg():
    # lam = 1/x with the prior normalised to E x^2 = 1: the sparse prior has unit second moment
    prior = sg.SparseRademacher(0.05)
    assert math.isclose(float(np.sum(np.asarray(prior.values) ** 2 * np.asarray(prior.weights))), 1.0)
    assert opposite_regime.x_alg(0.05) == pytest.approx(0.9946, abs=1e-3)
    m = [opposite_regime.se_overlap(0.05, x) for x in (0.6, 0.75, 0.85)]
    assert m[0] > m[1] > m[2] > 0.9


@pytest.mark.slow
def test_opposite_regime_records_times(tmp_path):
    rows = opposite_regime.run_opposite_regime(settings=TINY, seed=3)
    assert len(rows) == 4
    for r in rows:
        assert len(r["mcmc_times"]) == TINY["chains"]
        for t in r["mcmc_times"]:  # censored (None) or a traced sweep within the cap
            assert t is None or (t % TINY["trace_every"] == 0 and 0 < t <= TINY["max_sweeps"])
        assert ("diffusion_overlaps" in r) == (r["n"] in TINY["diffusion_ns"])
        assert r["threshold"] == pytest.approx(0.5 * r["m_star"])
    summary = opposite_regime.summarize(rows)
    assert [(s["x"], s["n"]) for s in summary] == [(0.75, 200), (0.75, 300)]
    for s in summary:
        assert s["chains"] == TINY["instances"] * TINY["chains"]
        assert 0.0 <= s["mcmc_censored"] <= 1.0
        med = s["mcmc_median_sweeps"]
        if med is None:
            assert s["mcmc_censored"] >= 0.5
        else:
            assert 0 < med <= TINY["max_sweeps"]
    assert summary[0]["diffusion_samples"] == 4 and summary[1]["diffusion_success"] is None
    rec = write_opposite_regime(tmp_path, rows, "quick")
    assert (tmp_path / "opposite_regime.json").exists() and (tmp_path / "opposite_regime.png").exists()
    assert rec["summary"] == summary


def test_chain_seed_is_not_the_instance_seed():
    # the pitfall the module avoids: a chain seeded with the instance seed starts on the planted configuration
    inst = 101
    model = sg.SpikedWigner(400, lam=1 / 0.75, prior=sg.SparseRademacher(0.05), seed=inst)
    thr = 0.5 * opposite_regime.se_overlap(0.05, 0.75)
    kw = {"chains": 4, "max_sweeps": 5, "chunk": 5, "trace_every": 5}
    assert opposite_regime.mcmc_times(model, thr, seed=inst, **kw)[0] == 5  # mutant: informed from the start
    assert opposite_regime._seed(0, inst, 1) != inst
    times = opposite_regime.mcmc_times(model, thr, seed=opposite_regime._seed(0, inst, 1), **kw)
    assert all(t is None for t in times)  # random starts: 5 sweeps are far too few at this size


def test_median_time_counts_censored_chains():
    assert opposite_regime.median_time([10, 20, 30]) == 20
    assert opposite_regime.median_time([10, None, None]) is None  # censored majority: only a lower bound
    assert opposite_regime.median_time([10, 20, None]) == 20
    # mutant: dropping the censored chains would report 10 for the second case
    assert np.median([t for t in [10, None, None] if t is not None]) == 10


def test_recovery_fractions_easy_and_hard():
    # N = 600, 4 seeds each.  Well inside the hard phase (x = 1.2) plain AMP recovers on no seed; well
    # inside the easy phase (x = 0.6) it recovers on seeds 0 and 2 only: on seeds 1 and 3 undamped AMP does
    # not converge (500 iterations) and stays near overlap 0 -- the instance dependence this function reports
    easy = seeds.recovery_fractions(0.6, 600, range(4), diffusion=False)
    hard = seeds.recovery_fractions(1.2, 600, range(4), diffusion=False)
    assert [r["amp_recovers"] for r in easy["seeds"]] == [True, False, True, False]
    assert easy["amp_fraction"] == 0.5
    assert hard["amp_fraction"] == 0.0
    assert all(r["amp_overlap"] > 0.6 for r in easy["seeds"] if r["amp_recovers"])
    assert all(r["amp_overlap"] < 0.3 for r in hard["seeds"])
    # mutant: with the threshold at 0 every hard seed would count as a recovery
    assert hard["threshold"] > max(r["amp_overlap"] for r in hard["seeds"])
    assert sum(r["amp_overlap"] >= 0.0 for r in hard["seeds"]) == 4


@pytest.mark.slow
def test_tensor_trend_tiny(tmp_path):
    cfg = {"ns": (12, 16), "temperatures": (0.6, 0.8), "instances": 2, "n_samples": 2}
    rows = tensor_trend.run_tensor_trend(tmp_path, settings=cfg)
    assert len(rows) == 2 * 2 * 2 * 2
    again = tensor_trend.run_tensor_trend(tmp_path, settings=cfg)  # resumed: nothing recomputed
    assert len(again) == len(rows)
    summary = tensor_trend.summarize(rows)
    assert len(summary) == 8 and all(s["instances"] == 2 and math.isfinite(s["energy_gap"]) for s in summary)
    tr = tensor_trend.trend(summary)
    assert len(tr) == 4
    for t in tr:
        assert (t["n_min"], t["n_max"]) == (12, 16)
        assert t["change"] == pytest.approx(t["gap_n_max"] - t["gap_n_min"])
    rec = write_tensor_trend(tmp_path, rows, "quick")
    assert (tmp_path / "tensor_trend.png").exists() and rec["trend"] == tr
