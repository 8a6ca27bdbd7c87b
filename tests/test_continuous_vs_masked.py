"""samplers.neural.continuous_vs_masked: the per-density summaries and the verdicts against the lens, and the part-B
record of benchmarks/learned_comparisons.py (per-density layout, migration of the single-density layout, the
``--from-json`` path).

Ground truth: at beta = inf a sample's energy is its number of violated clauses and a solution has none; the
autoregressive sampler over BP on a small planted 5-NAE-SAT far below its threshold (alpha = 3) returns solutions,
while uniformly random assignments violate each clause with probability 2 / 2^5 (about 19 of M = 300 clauses: 1 - e^-19
chance of a solution is nil), so the verdict must call the first "works" and the second (the mutant sampler) "fails".
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import samplers.neural.continuous_vs_masked as cvm
import spinglass as sg
from samplers.autoregressive import Autoregressive
from samplers.denoisers.bp import BPDenoiser
from samplers.neural.continuous_vs_masked import (
    SAMPLER_DRIVERS,
    channel_samplers,
    lens_expectation,
    lens_verdicts,
    observed_failure,
    paired_bad_difference,
    sample_violations,
    summarise_violations,
)

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = {"alpha_autoregressive": 8.47, "alpha_diffusion": 8.67, "precision": 0.2, "alpha_d": 9.49}


def _bench():
    spec = importlib.util.spec_from_file_location("learned_comparisons", ROOT / "benchmarks" / "learned_comparisons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _raw(values, failed=None, restarts=None):
    n = len(values)
    return {"violations": [float(v) for v in values], "failed": failed or [False] * n, "seconds": [1.0] * n,
            "restarts": restarts or [0] * n}


def test_lens_expectation_bands_and_bad_input():
    assert lens_expectation(8.0, 8.47, 0.2) == "works"
    assert lens_expectation(9.2, 8.47, 0.2) == "fails"
    assert lens_expectation(8.5, 8.47, 0.2) == "undecided"
    assert lens_expectation(8.3, 8.47, 0.2) == "undecided"
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="alpha"):
            lens_expectation(bad, 8.47, 0.2)
    with pytest.raises(ValueError, match="precision"):
        lens_expectation(8.0, 8.47, -0.1)


def test_summary_fields_solved_fraction_bad_restarts():
    raw = {"a": _raw([0, 0, 2, math.nan], failed=[False, False, False, True], restarts=[0, 1, 2, -1])}
    s = summarise_violations(raw)["a"]
    assert s["samples"] == 4 and s["failed"] == 1 and s["bad"] == 2 and s["restarts"] == 3
    assert s["solved_fraction"] == pytest.approx(0.5)
    assert s["violations"]["mean"] == pytest.approx(2 / 3) and s["violations"]["count"] == 3
    # a record without restarts (older layout) reads as none
    old = {"violations": [0.0, 1.0], "failed": [False, False], "seconds": [1.0, 1.0]}
    assert summarise_violations({"b": old})["b"]["restarts"] == 0


def test_paired_bad_difference_counts_failed_samples():
    """A failed sample (no violation count) is bad: learned fails on 3 of 4 where the reference fails on none, so
    the paired difference is 0.75 and not within 2 standard errors (se = 0.25).  Mutant: dropping the failed flag
    (counting only violations) would give 0 and call it not worse."""
    raw = {"L": _raw([math.nan, math.nan, 0, math.nan], failed=[True, True, False, True]), "R": _raw([0, 0, 0, 0])}
    d = paired_bad_difference(raw, "L", "R")
    assert d["mean"] == pytest.approx(0.75) and d["stderr"] == pytest.approx(0.25) and d["count"] == 4
    assert d["not_worse_2se"] is False
    same = {"L": _raw([1, 0]), "R": _raw([2, 0])}  # bad on the same instance: equal everywhere
    assert paired_bad_difference(same, "L", "R")["not_worse_2se"] is True
    assert paired_bad_difference({"L": _raw([]), "R": _raw([])}, "L", "R") is None
    with pytest.raises(ValueError, match="one sample per instance"):
        paired_bad_difference({"L": _raw([0, 1]), "R": _raw([0])}, "L", "R")


def test_channel_samplers_are_the_four_drivers_and_filter_by_driver():
    """One sampler per ``SAMPLER_DRIVERS`` label, of the driver it names, over the network of its channel (or BP);
    ``drivers`` keeps a subset.  Mutant: swapping the two networks would put the erasure network under diffusion."""
    from samplers.autoregressive import Autoregressive
    from samplers.diffusion import StochasticLocalization

    tr = cvm.train_channels("potts", 30, steps=1, q=3, c=2.0)
    all_four = channel_samplers(tr, BPDenoiser, sl_steps=5, sl_T=10.0, reveal_per_step=2, max_restarts=1)
    assert list(all_four) == list(SAMPLER_DRIVERS)
    kinds = {"SL": StochasticLocalization, "AR": Autoregressive}
    assert all(isinstance(all_four[k], kinds[d]) for k, d in SAMPLER_DRIVERS.items())
    model = sg.PlantedColoring(30, 3, 2.0, seed=0)
    assert all_four["SL/learned-gaussian"].denoiser(model).network is tr.networks["gaussian"]
    assert all_four["AR/learned-erasure"].denoiser(model).network is tr.networks["erasure"]
    only_sl = channel_samplers(tr, BPDenoiser, sl_steps=5, sl_T=10.0, reveal_per_step=2, max_restarts=1,
                               drivers=("SL",))
    assert list(only_sl) == ["SL/learned-gaussian", "SL/BP"]


def test_observed_failure_rule():
    def row(values, failed=None):
        return summarise_violations({"x": _raw(values, failed)})["x"]

    assert not observed_failure(row([0] * 8))
    assert not observed_failure(row([0] * 7 + [1]))  # one stray violation: mean 0.125 = 1 s.e., noise
    assert observed_failure(row([3, 5, 2, 4, 6, 3, 4, 5]))
    assert observed_failure(row([1] * 8))  # s.e. 0 with a positive mean
    assert observed_failure(row([math.nan] * 4 + [0] * 4, failed=[True] * 4 + [False] * 4))  # half failed
    assert not observed_failure(row([math.nan] + [0] * 7, failed=[True] + [False] * 7))
    assert observed_failure(row([15, 3]))  # every sample violates: mean 9 < 2 s.e. = 12 with two instances
    assert observed_failure(row([math.nan, 2, 0, 0], failed=[True, False, False, False]))  # half not solutions
    assert not observed_failure(row([math.nan, 0, 0, 0], failed=[True, False, False, False]))


def test_lens_verdicts_agreement_and_bad_input():
    raw = {"SL/x": _raw([0] * 8), "AR/x": _raw([4, 6, 5, 3, 7, 5, 4, 6])}
    summ = summarise_violations(raw)
    v = lens_verdicts(summ, 8.0, 8000, THRESHOLDS, {"SL/x": "SL", "AR/x": "AR"})
    assert v["SL/x"]["observed"] == "works" and v["SL/x"]["agrees"] is True
    assert v["AR/x"]["observed"] == "fails" and v["AR/x"]["agrees"] is False
    assert v["AR/x"]["energy_gap_per_clause"] == pytest.approx(5.0 / 8000)
    v = lens_verdicts(summ, 9.2, 9200, THRESHOLDS, {"SL/x": "SL", "AR/x": "AR"})
    assert v["SL/x"]["agrees"] is False and v["AR/x"]["agrees"] is True
    assert lens_verdicts(summ, 8.6, 8600, THRESHOLDS, {"SL/x": "SL"})["SL/x"]["agrees"] is None
    with pytest.raises(ValueError, match="drivers"):
        lens_verdicts(summ, 8.0, 8000, THRESHOLDS, {"SL/x": "MCMC"})
    with pytest.raises(ValueError, match="n_clauses"):
        lens_verdicts(summ, 8.0, 0, THRESHOLDS, {"SL/x": "SL"})


class _UniformSampler:
    """The mutant: ignores the instance, returns a uniform random assignment."""

    name = "uniform"

    def settings(self):
        return {"name": self.name}

    def sample(self, model, n_samples, *, seed=None):
        rng = np.random.default_rng(seed)
        return SimpleNamespace(x=rng.choice(np.array([-1, 1], dtype=np.int8), size=(n_samples, model.n)), work={})


def _verdicts_small(samplers):
    models = [sg.PlantedNAESAT(100, 5, 3.0, seed=50 + i) for i in range(4)]
    raw = sample_violations(models, samplers, seed=0)
    summ = summarise_violations(raw)
    return raw, lens_verdicts(summ, 3.0, 300, THRESHOLDS, {k: "AR" for k in samplers})


def test_bp_autoregressive_works_far_below_threshold_and_uniform_mutant_fails():
    ar = Autoregressive(BPDenoiser, reveal_per_step=10, on_contradiction="restart", max_restarts=3)
    raw, v = _verdicts_small({"AR/BP": ar, "uniform": _UniformSampler()})
    assert raw["AR/BP"]["violations"] == [0.0] * 4  # exact: solutions
    assert v["AR/BP"]["observed"] == "works" and v["AR/BP"]["agrees"] is True
    assert min(raw["uniform"]["violations"]) > 0
    assert v["uniform"]["observed"] == "fails" and v["uniform"]["agrees"] is False


def test_observed_failure_mutant_that_ignores_the_standard_error_is_rejected(monkeypatch):
    # a verdict that calls any positive mean a failure flags a single stray violation at a density the lens passes
    row = summarise_violations({"SL/x": _raw([0] * 7 + [1])})
    assert lens_verdicts(row, 6.0, 6000, THRESHOLDS, {"SL/x": "SL"})["SL/x"]["agrees"] is True
    monkeypatch.setattr(cvm, "observed_failure", lambda r: r["violations"]["mean"] > 0)
    assert cvm.lens_verdicts(row, 6.0, 6000, THRESHOLDS, {"SL/x": "SL"})["SL/x"]["agrees"] is False


def _old_layout_b():
    raw = {"SL/learned-gaussian": _raw([0, 0]), "AR/learned-erasure": _raw([0, 1]), "SL/BP": _raw([0, 0]),
           "AR/BP": _raw([0, 0])}
    marg = {c: {"mad": m, "mad_stderr": 0.001, "ce_network": 0.4, "ce_bp": 0.4} for c, m in (("gaussian", 0.001),
                                                                                             ("erasure", 0.03))}
    return {"settings": {"n": 1000, "alpha": 6.0, "instances": 2, "thresholds": THRESHOLDS}, "training": {},
            "marginals": marg, "violations": summarise_violations(raw), "raw": raw,
            "continuous_minus_masked_learned": {"mean": -0.5, "stderr": 0.5, "count": 2}}


def test_migrate_single_density_layout_is_clean_and_idempotent():
    bench = _bench()
    B = bench.migrate_b(_old_layout_b())
    assert set(B) >= {"settings", "by_alpha"} and "raw" not in B and "violations" not in B
    assert B["settings"]["alphas"] == [6.0]
    row = B["by_alpha"]["6"]
    assert row["violations"]["AR/learned-erasure"]["solved_fraction"] == 0.5
    assert row["violations"]["AR/learned-erasure"]["minus_AR/BP"]["mean"] == 0.5
    assert row["continuous_minus_masked_learned"]["mean"] == -0.5
    assert row["marginals_within_0.02"] == {"gaussian": True, "erasure": False}
    assert row["verdicts"]["SL/BP"]["lens"] == "works"
    # not-a-solution indicator, learned - BP, paired: instance 2 violates for the learned sampler only
    bad = row["verdicts"]["AR/learned-erasure"]["bad_minus_bp"]
    assert bad["mean"] == 0.5 and bad["stderr"] == pytest.approx(0.5) and bad["not_worse_2se"]
    assert row["verdicts"]["SL/learned-gaussian"]["bad_minus_bp"]["mean"] == 0.0
    again = bench.migrate_b(json.loads(json.dumps(B)))
    assert again["by_alpha"]["6"]["verdicts"] == row["verdicts"]


def test_from_json_path_on_both_layouts(tmp_path, capsys):
    bench = _bench()
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"B": _old_layout_b(), "meta": {"wall_seconds": 1.0, "cpu_seconds": 1.0}}))
    assert bench.main(["--from-json", str(old), "--out", str(tmp_path / "o1")]) == 0
    new = json.loads((tmp_path / "o1" / "learned_comparisons.json").read_text())
    assert "6" in new["B"]["by_alpha"] and (tmp_path / "o1" / "learned_comparisons.png").exists()
    assert "| 6 | AR/learned-erasure |" in capsys.readouterr().out
    # the migrated file reads back unchanged
    assert bench.main(["--from-json", str(tmp_path / "o1" / "learned_comparisons.json"),
                       "--out", str(tmp_path / "o2")]) == 0
    again = json.loads((tmp_path / "o2" / "learned_comparisons.json").read_text())
    assert again["B"]["by_alpha"]["6"]["verdicts"] == new["B"]["by_alpha"]["6"]["verdicts"]


def test_alphas_bad_input():
    bench = _bench()
    with pytest.raises(ValueError, match="--alphas"):
        bench.main(["--only", "B", "--alphas", "6", "11", "--out", "/nonexistent-never-written"])


def test_only_b_keeps_the_other_part_and_checkpoints(tmp_path, monkeypatch):
    bench = _bench()
    committed = json.loads((ROOT / "docs" / "figures" / "learned_comparisons.json").read_text())
    (tmp_path / "learned_comparisons.json").write_text(json.dumps({"A": committed["A"], "meta": committed["meta"]}))
    seen = []

    def fake_part_b(cfg, checkpoint=None):
        assert cfg["alphas"] == (6.0,)
        B = bench.migrate_b(_old_layout_b())
        checkpoint(B)
        seen.append(json.loads((tmp_path / "learned_comparisons.json").read_text()))
        return B

    monkeypatch.setattr(bench, "part_b", fake_part_b)
    assert bench.main(["--only", "B", "--alphas", "6", "--out", str(tmp_path)]) == 0
    out = json.loads((tmp_path / "learned_comparisons.json").read_text())
    assert out["A"] == committed["A"] and out["meta"] == committed["meta"]
    assert seen and seen[0]["A"] == committed["A"] and "6" in seen[0]["B"]["by_alpha"]
    assert out["B"]["meta"]["command"].endswith("--only B --alphas 6")


def test_committed_record_is_self_consistent_and_says_what_the_report_quotes():
    bench = _bench()
    record = json.loads((ROOT / "docs" / "figures" / "learned_comparisons.json").read_text())
    B = record["B"]
    assert B["settings"]["n"] >= 1000 and B["settings"]["instances"] >= 8
    assert {8.0, 9.2} <= set(B["settings"]["alphas"]) and B["settings"]["train_alpha"] == [3.0, 10.0]
    again = bench.migrate_b(json.loads(json.dumps(B)))
    for key, row in B["by_alpha"].items():
        assert row["instances_done"] == B["settings"]["instances"]
        # the summaries are those of the stored raw samples (compared as JSON: nan == nan there)
        assert json.dumps(again["by_alpha"][key]["verdicts"], sort_keys=True) == json.dumps(row["verdicts"],
                                                                                              sort_keys=True)
        assert all(len(s["values"]) == B["settings"]["instances"] for s in row["violations"].values())
    hi, mid = B["by_alpha"]["9.2"]["verdicts"], B["by_alpha"]["8"]["verdicts"]
    assert all(v["observed"] == "fails" and v["agrees"] for v in hi.values())  # above both thresholds: all fail
    assert mid["SL/learned-gaussian"]["not_worse_than_bp_2se"] and mid["SL/learned-gaussian"]["observed"] == "works"
    assert not mid["AR/learned-erasure"]["bad_minus_bp"]["not_worse_2se"]  # the masked learned sampler is worse
