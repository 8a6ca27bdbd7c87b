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


def gap_flagged(mean: float, stderr: float) -> bool:
    """The energy-form Nishimori check's verdict on a mean gap E(x)/N - E(x*)/N over instances: flagged when it
    exceeds both 0.05 and 3 standard errors (a finite, positive excess; a nan error counts as 0)."""
    return bool(mean > max(0.05, 3.0 * (stderr if math.isfinite(stderr) else 0.0)))


def sparse_targets(sparse: dict, tol: float) -> list[dict]:
    """The sparse-Rademacher statements of ``learned_at_scale.py``, from its record's ``sparse`` block alone.

    Per setting (Delta/rho^2 = 0.8 easy, 1.2 hard) and driver (SL, SI), over the instance seeds:

    * easy: each learned denoiser's mean overlap with x* within ``tol`` of the AMP-driven sampler's, and every
      sampler's (AMP-driven too) within ``tol`` of m*_Bayes, the overlap of posterior samples (Nishimori): AMP
      itself can stay stuck on an instance at finite N, and a learned sampler that does better misses the first
      statement while it meets the second;
    * hard (where m*_Bayes > ``tol``, else there is nothing to miss): each learned driver ends uninformed like AMP
      (within ``tol`` of AMP's mean overlap, and both below m*_Bayes - tol), and the number of samples that found
      x* (overlap above m*_Bayes / 2) for the learned and the AMP-driven sampler (recorded, no target: at
      N = 2000 the samples there are a mixture of uninformed ones and a few that found x*, which makes the mean
      over 4 seeds noisier than ``tol``);
    * both: the energy-form Nishimori check (``gap_flagged`` on the mean gap over seeds) against the lens, which
      says the sampler fails at the hard point and works at the easy one.
    """
    out = []
    for block in sparse.values():
        x, se = block["Delta_over_rho2"], block["se"]
        hard = bool(se["sampler_predicted_to_fail"])
        rows = block["samplers"]

        def sel(d, k, rows=rows):
            return sorted((r for r in rows if (r["driver"], r["denoiser"]) == (d, k)), key=lambda r: r["instance_seed"])

        where = f"sparse Delta/rho^2={x} ({'hard' if hard else 'easy'})"
        if not hard:
            for d in ("SL", "SI"):
                for k in ("learned", "learned+warm", "AMP"):
                    a = float(np.mean([r["overlap_planted"] for r in sel(d, k)]))
                    out.append({"target": f"{where} {d}/{k}: |ov - m*_Bayes| <= {tol:.4f} (m*_Bayes = "
                                          f"{se['m_bayes']:.4f})", "value": abs(a - se["m_bayes"]),
                                "met": bool(abs(a - se["m_bayes"]) <= tol)})
        for d in ("SL", "SI"):
            amp = sel(d, "AMP")
            b = float(np.mean([r["overlap_planted"] for r in amp]))
            for k in ("learned", "learned+warm"):
                mine = sel(d, k)
                a = float(np.mean([r["overlap_planted"] for r in mine]))
                close = abs(a - b) <= tol
                if not hard:
                    out.append({"target": f"{where} {d}/{k}: |ov - ov_AMP| <= {tol:.4f}", "value": abs(a - b),
                                "met": bool(close)})
                    continue
                if se["m_bayes"] <= tol:  # the posterior is (nearly) uninformative at t = 0: nothing to miss
                    continue
                out.append({"target": f"{where} {d}/{k}: ends uninformed like AMP (|ov - ov_AMP| <= {tol:.4f} and "
                                      f"both < m*_Bayes - tol = {se['m_bayes'] - tol:.4f})",
                            "value": [a, b], "met": bool(close and max(a, b) < se["m_bayes"] - tol)})
                half = se["m_bayes"] / 2
                n_mine = sum(v > half for r in mine for v in r["overlap_planted_per_sample"])
                n_amp = sum(v > half for r in amp for v in r["overlap_planted_per_sample"])
                total_mine = sum(len(r["overlap_planted_per_sample"]) for r in mine)
                total_amp = sum(len(r["overlap_planted_per_sample"]) for r in amp)
                out.append({"target": f"{where} {d}/{k}: samples that found x* (overlap > m*_Bayes / 2), learned and "
                                      "AMP (recorded)", "value": f"{n_mine} / {total_mine}, {n_amp} / {total_amp}",
                            "met": None})
        gaps = {(g["driver"], g["denoiser"]): g
                for g in group_mean_se(rows, ("driver", "denoiser"), ("energy_nishimori_gap",))}
        for d in ("SL", "SI"):
            for k in ("learned", "learned+warm", "AMP"):
                g = gaps[(d, k)]
                mean, err = g["energy_nishimori_gap"], g["energy_nishimori_gap_err"]
                out.append({"target": f"{where} {d}/{k}: energy-form Nishimori gap flagged (> 0.05 and 3 SE over "
                                      f"seeds) where the lens says {'fails' if hard else 'works'}",
                            "value": [mean, err], "met": gap_flagged(mean, err) == hard})
    return out


def merged_record(out: Path, stems: Sequence[str], name: str, merge, what: str) -> dict:
    """The record ``merge(records)`` of the JSON records ``<out>/<stem>.json``, for a script's ``--merge``: raises
    ``ValueError`` with the message its CLI prints when ``<out>/<name>.json`` or ``.png`` already exists (a
    finished record is never replaced), a record cannot be read, or ``merge`` rejects them (``what``: the kind
    of record the script merges)."""
    existing = [p for p in (out / f"{name}.json", out / f"{name}.png") if p.exists()]
    if existing:
        raise ValueError(f"{existing[0]} exists; move it away or pick another --name")
    records = []
    for stem in stems:
        try:
            records.append(json.loads((out / f"{stem}.json").read_text()))
        except (OSError, ValueError) as err:
            raise ValueError(f"cannot read {out / f'{stem}.json'}: {err}") from err
    try:
        return merge(records)
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"not {what} ({type(err).__name__}: {err})") from err


def check_replaceable(path: Path, settings: dict, legacy: dict | None = None) -> None:
    """Refuse (``ValueError``) to let a run write ``path`` when it already holds a record of *other* settings: a
    rerun with the same settings regenerates its own record (the committed one stays in git), a different run
    must pick another ``--name``.  Settings are compared as JSON (tuples as lists); a key missing on one side
    takes its value from ``legacy`` (settings added to the scripts after a record was written)."""
    if not path.exists():
        return
    try:
        old = json.loads(path.read_text()).get("settings")
    except (OSError, ValueError, AttributeError):
        old = None
    new = json.loads(json.dumps(settings))
    if isinstance(old, dict):
        legacy = legacy or {}
        keys = set(old) | set(new)
        if all(old.get(k, legacy.get(k)) == new.get(k, legacy.get(k)) for k in keys):
            return
    raise ValueError(f"{path} holds a run with other settings; move it away or pick another --name")
