r"""The N-trend of the generative samplers' energy gap on the planted Ising 3-spin model.

``finite_size`` runs the Ising 3-spin model at one N (80), where the diffusion and autoregressive energy
gaps at T = 0.8 — above both generative thresholds (T_diffusion = 0.741, T_autoregressive = 0.759), where
the lens predicts both samplers to work — are still 0.18-0.21.  Whether that is finite-N bias or failure is
a question of the trend with N, which this module measures: the energy-form Nishimori gap
E(x)/N - E(x*)/N of diffusion (stochastic localisation) and autoregressive decimation, both over the
damped tensor AMP of ``finite_size``, at T = 0.8 and at T = 0.6 (below T_K, inside both failure ranges),
for several N, on the same instances as ``finite_size`` (``run_finite_size`` with replaced sizes; instance
seeds 1000 k + i).  One JSON-lines file per N keeps the rows (resumable).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import finite_size

MODEL = "ising_3spin"
SAMPLERS = ("diffusion", "autoregressive")
#: sizes per mode: ``ns`` the sizes, ``temperatures`` the T values, ``instances`` and ``n_samples`` per point.
SETTINGS = {
    "full": {"ns": (40, 60, 80, 120), "temperatures": (0.6, 0.8), "instances": 4, "n_samples": 4},
    "quick": {"ns": (16, 24), "temperatures": (0.6, 0.8), "instances": 2, "n_samples": 2},
}


def run_tensor_trend(out: str | Path, mode: str = "full", *, settings: dict | None = None, seed: int = 0) -> list[dict]:
    """Run (or resume) the rows of every N into ``out/tensor_trend_n<N>.jsonl``; returns all rows."""
    cfg = SETTINGS[mode] if settings is None else settings
    out = Path(out)
    rows = []
    for n in cfg["ns"]:
        fs = {MODEL: {"n": int(n), "axis": tuple(cfg["temperatures"]), "instances": cfg["instances"],
                      "n_samples": cfg["n_samples"], "mcmc": 1}}
        rows += finite_size.run_finite_size(out / f"tensor_trend_n{int(n)}.jsonl", settings=fs,
                                            samplers=SAMPLERS, seed=seed)
    return rows


def summarize(rows: list[dict]) -> list[dict]:
    """Mean energy gap and its standard error over instances, per (T, N, sampler)."""
    groups: dict[tuple, list[float]] = {}
    for r in rows:
        if r["failed"] is None and math.isfinite(r["energy_gap"]):
            groups.setdefault((float(r["value"]), int(r["n"]), r["sampler"]), []).append(float(r["energy_gap"]))
    out = []
    for (T, n, s), gaps in sorted(groups.items()):
        a = np.array(gaps)
        out.append({"T": T, "n": n, "sampler": s, "instances": int(a.size), "energy_gap": float(a.mean()),
                    "energy_gap_err": float(a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else math.nan})
    return out


def trend(summary: list[dict]) -> list[dict]:
    """Per (T, sampler): least-squares slope of the mean gap against 1/N and the gap's change from the
    smallest to the largest N (in units of the two standard errors added in quadrature)."""
    out = []
    for T in sorted({r["T"] for r in summary}):
        for s in SAMPLERS:
            rs = sorted((r for r in summary if r["T"] == T and r["sampler"] == s), key=lambda r: r["n"])
            if len(rs) < 2:
                continue
            inv = np.array([1.0 / r["n"] for r in rs])
            g = np.array([r["energy_gap"] for r in rs])
            slope, intercept = np.polyfit(inv, g, 1)
            first, last = rs[0], rs[-1]
            err = math.hypot(first["energy_gap_err"], last["energy_gap_err"])
            out.append({"T": T, "sampler": s, "n_min": first["n"], "n_max": last["n"],
                        "gap_n_min": first["energy_gap"], "gap_n_max": last["energy_gap"],
                        "change": last["energy_gap"] - first["energy_gap"],
                        "change_in_errors": (last["energy_gap"] - first["energy_gap"]) / err if err > 0 else math.nan,
                        "slope_in_inverse_n": float(slope), "extrapolated_inf_n": float(intercept)})
    return out


def plot_tensor_trend(summary: list[dict], ax=None):
    """Energy gap against N, one line per (T, sampler), with standard errors."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4))
    for T in sorted({r["T"] for r in summary}):
        for s, ls in zip(SAMPLERS, ("-", "--"), strict=True):
            rs = sorted((r for r in summary if r["T"] == T and r["sampler"] == s), key=lambda r: r["n"])
            if rs:
                ax.errorbar([r["n"] for r in rs], [r["energy_gap"] for r in rs],
                            yerr=[0.0 if not math.isfinite(r["energy_gap_err"]) else r["energy_gap_err"] for r in rs],
                            ls=ls, marker="o", ms=3, capsize=2, label=f"{s}, T = {T:g}")
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel("N")
    ax.set_ylabel("Nishimori gap, energy form\n" + r"$E(x)/N - E(x^*)/N$ (mean over instances)", fontsize=8)
    ax.set_title("Ising 3-spin: generative samplers over AMP", fontsize=9)
    ax.legend(fontsize=7)
    return ax


__all__ = ["SETTINGS", "plot_tensor_trend", "run_tensor_trend", "summarize", "trend"]
