"""What the learned-sampler benchmark scripts share: per-group means and standard errors of their rows, and the
recorded thresholds of the study drawn on their figures."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def group_mean_se(rows: list[dict], keys: Sequence[str], quantities: Sequence[str]) -> list[dict]:
    """One entry per distinct value of ``keys`` (sorted): the keys, ``instances`` (rows in the group), and for each
    quantity present in the group's rows its mean and ``<quantity>_err``, the standard error over rows
    (std with ddof = 1 over sqrt(count); nan for a single row)."""
    out = []
    for group in sorted({tuple(r[k] for k in keys) for r in rows}):
        sel = [r for r in rows if tuple(r[k] for k in keys) == group]
        entry = {**dict(zip(keys, group, strict=True)), "instances": len(sel)}
        for q in quantities:
            if q in sel[0]:
                a = np.array([r[q] for r in sel], dtype=float)
                entry[q] = float(a.mean())
                entry[q + "_err"] = float(a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else math.nan
        out.append(entry)
    return out


def recorded_thresholds(model: str) -> dict:
    """The thresholds in temperature of ``model`` (e.g. "ising_3spin") as recorded by ``spinglass reproduce`` in
    docs/reproduction/thresholds.json: {name: computed value}."""
    path = Path(__file__).resolve().parent.parent / "docs" / "reproduction" / "thresholds.json"
    rows = json.loads(path.read_text())["rows"]
    return {r["threshold"]: r["computed"] for r in rows if r["model"] == model and r["units"] == "T"}


def print_sample_table(summary: list[dict], verdicts: Sequence[str], point_label: str = "T") -> None:
    """The markdown table of the sample summaries (overlap with x*, two-sample overlap, energy gap, each with its
    standard error where recorded), one row per (model, point, denoiser), then the verdicts, on stdout."""
    def cell(s: dict, q: str, digits: int, sign: str = "") -> str:
        err = s.get(q + "_err")
        return f"{s[q]:{sign}.{digits}f}" + ("" if err is None else f" ± {err:.{digits}f}")

    print(f"| model | {point_label} | denoiser | overlap with x* | two-sample overlap | energy gap |")
    print("|---|---|---|---|---|---|")
    for s in summary:
        point = s.get("T", s.get("lam"))
        print(f"| {s['model']} | {point} | {s['denoiser']} | {cell(s, 'overlap_planted', 3)} | "
              f"{cell(s, 'two_sample_overlap', 3)} | {cell(s, 'energy_gap', 4, '+')} |")
    for v in verdicts:
        print(v)
