"""benchmarks/learned_colouring.py: the per-degree summaries and verdicts against the lens, ``--from-json`` and the
command line's bad input (the committed record itself is checked in tests/test_learned_record.py).

Ground truth: a synthetic record whose samplers all solve at c = 10 (below both generative thresholds of planted
5-colouring, 12.18 and 12.24) and all fail at c = 14 (above them): every verdict must agree with the lens.  Mutant:
the same record with one learned sampler failing at c = 10 must be called "fails" there, disagreeing with the lens,
and worse than BP in the paired count of bad samples.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LABELS = ("SL/learned-gaussian", "AR/learned-erasure", "SL/BP", "AR/BP")


def _bench():
    spec = importlib.util.spec_from_file_location("learned_colouring", ROOT / "benchmarks" / "learned_colouring.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _raw(values, failed=None):
    n = len(values)
    return {"violations": [float(v) for v in values], "failed": failed or [False] * n, "seconds": [1.0] * n,
            "restarts": [0] * n}


def _report(bench, broken_learned_at_10: bool = False) -> dict:
    nan = math.nan
    solved = {k: _raw([0, 0, 0, 0]) for k in LABELS}
    if broken_learned_at_10:
        solved["AR/learned-erasure"] = _raw([nan, nan, nan, 0], failed=[True, True, True, False])
    failing = {k: _raw([12, 9, 15, 11]) for k in LABELS}
    failing["AR/BP"] = _raw([nan] * 4, failed=[True] * 4)
    marg = {"gaussian": {"mad": 0.01}, "erasure": {"mad": 0.03}}
    return {"settings": {"n": 1000, "instances": 4}, "thresholds": dict(bench.THRESHOLDS),
            "by_c": {"10": {"c": 10.0, "raw": solved, "edges_mean": 5000.0, "marginals": marg},
                     "14": {"c": 14.0, "raw": failing, "edges_mean": 7000.0, "marginals": marg}}}


def test_verdicts_agree_with_the_lens_on_both_sides():
    bench = _bench()
    report = _report(bench)
    for c in (10.0, 14.0):
        row = bench.derive(report, c)
        for label in LABELS:
            assert row["verdicts"][label]["agrees"] is True, (c, label)
    low, high = report["by_c"]["10"], report["by_c"]["14"]
    assert all(v["lens"] == "works" and v["observed"] == "works" for v in low["verdicts"].values())
    assert all(v["lens"] == "fails" and v["observed"] == "fails" for v in high["verdicts"].values())
    assert low["verdicts"]["AR/learned-erasure"]["bad_minus_bp"]["not_worse_2se"] is True
    assert low["marginals_within_0.02"] == {"gaussian": True, "erasure": False}
    # the thresholds the verdicts use are the generative ones of planted 5-colouring (docs/physics.md §8)
    assert report["thresholds"]["alpha_diffusion"] == 12.18 and report["thresholds"]["alpha_autoregressive"] == 12.24


def test_mutant_learned_sampler_failing_below_threshold_is_caught():
    bench = _bench()
    report = _report(bench, broken_learned_at_10=True)
    v = bench.derive(report, 10.0)["verdicts"]["AR/learned-erasure"]
    assert v["observed"] == "fails" and v["agrees"] is False
    assert v["bad_minus_bp"]["mean"] == pytest.approx(0.75) and v["bad_minus_bp"]["not_worse_2se"] is False


def test_from_json_rewrites_summaries_and_figure(tmp_path):
    bench = _bench()
    src = tmp_path / "in.json"
    src.write_text(json.dumps(_report(bench)))
    out = tmp_path / "out"
    assert bench.main(["--from-json", str(src), "--out", str(out)]) == 0
    d = json.loads((out / "learned_colouring.json").read_text())
    assert d["by_c"]["14"]["verdicts"]["SL/BP"]["observed"] == "fails"
    assert (out / "learned_colouring.png").stat().st_size > 0
    # a record of the diffusion half only (``--drivers SL``) keeps its own name and summarises what it has
    one = _report(bench)
    one["settings"]["name"] = "learned_colouring_damped"
    for row in one["by_c"].values():
        row["raw"] = {k: v for k, v in row["raw"].items() if k.startswith("SL/")}
    src.write_text(json.dumps(one))
    assert bench.main(["--from-json", str(src), "--out", str(out)]) == 0
    d = json.loads((out / "learned_colouring_damped.json").read_text())
    assert set(d["by_c"]["10"]["verdicts"]) == {"SL/learned-gaussian", "SL/BP"}
    assert (out / "learned_colouring_damped.png").stat().st_size > 0


@pytest.mark.parametrize("argv, pattern", [
    (["--from-json", "/nonexistent/x.json"], "no such file"),
    (["--cs", "-1"], "--cs must be positive"),
    (["--instances", "0"], "--instances must be >= 1"),
    (["--threads", "0"], "--threads must be >= 1"),
    (["--damping", "1.0"], "--damping must be in [0, 1)"),
    (["--name", "../x"], "--name must be a plain file name"),
    (["--drivers", "MCMC"], "invalid choice"),
])
def test_bad_command_line_is_a_clear_error(argv, pattern, capsys):
    with pytest.raises(SystemExit) as e:
        _bench().main(argv)
    assert e.value.code == 2
    assert pattern in capsys.readouterr().err
