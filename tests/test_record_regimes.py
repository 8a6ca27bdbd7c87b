"""The record's statements on the 3-spin gap trend, the opposite regime and the seed fractions, checked
against the committed JSON under docs/reproduction (written by analysis.reproduction)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "docs" / "reproduction"
DOC = ROOT / "docs" / "reproduction.md"


def test_tensor_trend_table_and_statements():
    rec = json.loads((RECORD / "tensor_trend.json").read_text())
    summary = {(r["T"], r["sampler"], r["n"]): r for r in rec["summary"]}
    text = DOC.read_text()
    for T in (0.8, 0.6):
        for s in ("diffusion", "autoregressive"):
            cells = " | ".join(f"{summary[T, s, n]['energy_gap']:.2f} ± {summary[T, s, n]['energy_gap_err']:.2f}"
                               for n in (40, 60, 80, 120))
            assert f"| {T} | {s} | {cells} |" in text
            assert summary[T, s, 40]["instances"] == 4 and summary[T, s, 120]["instances"] == 4
    trend = {(t["T"], t["sampler"]): t for t in rec["trend"]}
    # T = 0.8: smaller at N = 120 than at N = 40, by fewer than 2 combined standard errors
    d, a = trend[0.8, "diffusion"], trend[0.8, "autoregressive"]
    assert d["change"] < 0 and a["change"] < 0
    assert (round(-d["change"], 2), round(-a["change"], 2)) == (0.16, 0.07)
    assert (round(-d["change_in_errors"], 1), round(-a["change_in_errors"], 1)) == (1.9, 0.9)
    assert "by 0.16 and 0.07, 1.9 and 0.9 combined\n    standard errors" in text
    # T = 0.6: no trend, all gaps large
    for s in ("diffusion", "autoregressive"):
        assert abs(trend[0.6, s]["change_in_errors"]) < 0.5
    gaps06 = [r["energy_gap"] for r in rec["summary"] if r["T"] == 0.6]
    assert (round(min(gaps06), 2), round(max(gaps06), 2)) == (0.42, 0.66)
    n80 = [summary[0.8, s, 80]["energy_gap"] for s in ("diffusion", "autoregressive")]
    assert (round(min(n80), 2), round(max(n80), 2)) == (0.07, 0.12)
    # mutant: a gap that stayed at 0.8 would show a change of at least 0 there
    assert max(d["change"], a["change"]) < 0.0


def test_seed_fraction_table():
    rec = json.loads((RECORD / "seed_fractions.json").read_text())
    assert rec["settings"]["n"] == 2000 and rec["settings"]["seeds"] == list(range(8))
    text = DOC.read_text()
    pts = {p["x"]: p for p in rec["points"]}
    for x, phase in ((0.75, "easy"), (0.9, "easy (x_alg = 0.995)"), (1.2, "hard (x_alg < x < x_IT = 1.338)")):
        p = pts[x]
        amp = sum(s["amp_recovers"] for s in p["seeds"])
        dif = sum(s["diffusion_recovers"] for s in p["seeds"])
        assert amp == round(8 * p["amp_fraction"]) and dif == round(8 * p["diffusion_fraction"])
        assert f"| {x} | {phase} | {amp} of 8 seeds | {dif} of 8 seeds |" in text
        # the threshold is half the SE overlap, and every recovery clears it
        assert p["threshold"] == pytest.approx(0.5 * p["m_star"])
        assert all((s["amp_overlap"] >= p["threshold"]) == s["amp_recovers"] for s in p["seeds"])
    # the statements on single seeds
    assert [s["seed"] for s in pts[0.75]["seeds"] if not s["amp_recovers"]] == [1, 7]
    assert [round(pts[0.75]["seeds"][k]["planted_norm"], 2) for k in (1, 7)] == [0.87, 0.9]
    assert [s["seed"] for s in pts[1.2]["seeds"] if s["amp_recovers"]] == [5]
    assert round(pts[1.2]["seeds"][5]["planted_norm"], 2) == 1.19
    assert pts[0.9]["seeds"][0]["amp_recovers"] and not pts[1.2]["seeds"][0]["amp_recovers"]
    # mutant: had every easy seed recovered, the fraction would read 8 of 8
    assert pts[0.75]["amp_fraction"] < 1.0


def test_opposite_regime_table_and_conclusion():
    rec = json.loads((RECORD / "opposite_regime.json").read_text())
    cfg = rec["settings"]
    assert cfg["instances"] >= 4 and cfg["max_sweeps"] == 20000 and rec["threshold_fraction"] == 0.5
    summary = {(s["x"], s["n"]): s for s in rec["summary"]}
    assert len(summary) == len(cfg["xs"]) * len(cfg["ns"]) - len(cfg["skip"])
    text = DOC.read_text()
    for (x, n), s in summary.items():
        med = "> 20000" if s["mcmc_median_sweeps"] is None else str(round(s["mcmc_median_sweeps"]))
        cens = f"{round(s['mcmc_censored'] * s['chains'])}/{s['chains']}"
        dif = "not run" if s["diffusion_success"] is None else f"{round(s['diffusion_success'] * 8)}/8"
        assert f"| {x:g} | {n} | {med} | {cens} | {dif} |" in text, (x, n)
        assert s["chains"] == 16
        if s["mcmc_median_sweeps"] is None:
            assert s["mcmc_censored"] >= 0.5
    # the conclusion: every chain reaches the informed state at N = 500, most are censored at the largest N
    for x in cfg["xs"]:
        ns = sorted(n for (xx, n) in summary if xx == x)
        assert summary[x, ns[0]]["mcmc_censored"] == 0.0
        big = summary[x, ns[-1]]
        small = summary[x, ns[0]]["mcmc_median_sweeps"]
        assert big["mcmc_median_sweeps"] is None or big["mcmc_median_sweeps"] > 10 * small
    rates = [s["diffusion_success"] for s in summary.values() if s["diffusion_success"] is not None]
    assert min(rates) == 0.75
    # mutant: a time that did not grow would leave the N = 8000 medians finite
    assert summary[0.6, 8000]["mcmc_median_sweeps"] is None and summary[0.85, 8000]["mcmc_median_sweeps"] is None
    assert "the opposite regime exists" in text
