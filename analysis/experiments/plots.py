r"""Figures from the tidy results table (:func:`analysis.experiments.results.load`).

Figures are plain ``matplotlib.figure.Figure`` objects, made without pyplot: no global state, no backend
switch (a notebook keeps its inline backend), and ``savefig`` renders PNGs with the Agg renderer on any
machine, headless included.

* :func:`plot_observable` / :func:`observable_figure`: a metric against a swept parameter, one line per
  sampler (and per value of any other swept setting), points at the mean over instance seeds with error
  bars of one standard error, std(ddof=1)/sqrt(#seeds); beside them the model's exact reference curves and
  labelled threshold lines where it has them (:mod:`analysis.experiments.references`: Onsager / Yang,
  Curie-Weiss, SK annealed, spiked-Wigner state evolution).  Series that coincide stay visible: each has
  its own marker, line style and a smaller marker than the one drawn before it.
* :func:`plot_efficiency` / :func:`efficiency_figure`: sampling efficiency, a quality metric (default the
  effective sample size of the energy trace) against a cost metric (default the sampling wall time), one
  series per sampler configuration, both averaged over seeds, log-log axes: up and to the left is better.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .references import label as axis_label
from .references import references
from .results import aggregate, parameter_columns

_MARKERS = "osD^v<>pXh"
_LINESTYLES = ("-", "--", "-.", ":")


def _check_columns(df: pd.DataFrame, x: str | None, metrics: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame) or "metric" not in df.columns or "value" not in df.columns:
        raise TypeError("df must be the tidy results table (analysis.experiments.results.load)")
    if x is not None and x not in df.columns:
        params = [c for c in parameter_columns(df) if not c.startswith("sampler") and c not in ("family", "seed")]
        raise ValueError(f"x: {x!r} is not a column of the results (parameters: {', '.join(params)})")
    available = set(df["metric"])
    for m in metrics:
        if m not in available:
            raise ValueError(f"metric: {m!r} is not in the results (available: {', '.join(sorted(available))})")


def _series_keys(table: pd.DataFrame, exclude: Sequence[str]) -> list[str]:
    """Configuration columns that vary within one sampler's rows (besides ``exclude``): one line per value."""
    skip = set(exclude) | {"family", "sampler", "sampler_name", "mean", "sem", "count"}
    cols = [c for c in table.columns if c not in skip]
    varying = table.groupby("sampler", sort=False)[cols].nunique(dropna=False).max() if cols else pd.Series()
    return [c for c in cols if varying.get(c, 1) > 1]


def _label(keys: Sequence[str], values: tuple) -> str:
    parts = []
    for k, v in zip(keys, values, strict=True):
        parts.append(str(v) if k == "sampler" else f"{k.removeprefix('sampler_')}={v}")
    return ", ".join(parts) or "all"


def plot_observable(ax: Axes, df: pd.DataFrame, metric: str, x: str, *, exact: bool = True) -> Axes:
    """Draw ``metric`` against the parameter column ``x`` on ``ax``: mean over seeds ± one standard error.

    ``exact``: also draw the model's reference curves (black) and threshold lines (grey, labelled).
    """
    _check_columns(df, x, [metric])
    table = aggregate(df, metric)
    if x not in table.columns:
        raise ValueError(f"x: {x!r} does not vary in the results for metric {metric!r}")
    keys = ["sampler", *_series_keys(table, [x, "sampler"])]
    groups = list(table.groupby(keys, dropna=False, sort=True))
    for i, (values, group) in enumerate(groups):
        group = group.sort_values(x)
        values = values if isinstance(values, tuple) else (values,)
        err = group["sem"].to_numpy(dtype=float)
        ax.errorbar(group[x], group["mean"], yerr=None if np.all(np.isnan(err)) else err,
                    fmt=_MARKERS[i % len(_MARKERS)], ls=_LINESTYLES[i % len(_LINESTYLES)],
                    ms=max(7.0 - 1.5 * i, 3.0), mfc="none", capsize=2, lw=1, label=_label(keys, values))
    if exact:
        curves, lines = references(df, x, metric)
        for k, curve in enumerate(curves):
            ax.plot(curve.x, curve.y, color="black", ls=("-", "--")[k % 2], lw=1, label=curve.label)
        for k, line in enumerate(lines):
            ax.axvline(line.at, color="grey", ls=(":", "-.")[k % 2], lw=1, label=f"{line.label} = {line.at:.4g}")
    ax.set_xlabel(axis_label(x))
    ax.set_ylabel(axis_label(metric))
    ax.legend(fontsize=7)
    return ax


def observable_figure(df: pd.DataFrame, x: str, metrics: Sequence[str], title: str | None = None, *,
                      exact: bool = True) -> Figure:
    """One panel per metric of :func:`plot_observable`, side by side; ``title`` defaults to the family and
    the number of instance seeds averaged."""
    metrics = list(metrics)
    if not metrics:
        raise ValueError("metrics: name at least one metric to plot, got []")
    _check_columns(df, x, metrics)
    fig = Figure(figsize=(4.8 * len(metrics), 3.8))
    axes = fig.subplots(1, len(metrics), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        plot_observable(ax, df, metric, x, exact=exact)
    if title is None:
        families = ", ".join(sorted(map(str, df["family"].dropna().unique()))) if "family" in df.columns else ""
        seeds = df["seed"].nunique() if "seed" in df.columns else 1
        title = f"{families}: mean over {seeds} instance seed{'s' if seeds != 1 else ''} ± 1 standard error"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def efficiency_table(df: pd.DataFrame, quality: str = "ess_energy", cost: str = "wall_time") -> pd.DataFrame:
    """Per configuration (seeds averaged): mean and standard error of the ``quality`` and ``cost`` metrics."""
    _check_columns(df, None, [quality, cost])
    q = aggregate(df, quality)
    c = aggregate(df, cost)
    keys = [k for k in q.columns if k not in ("mean", "sem", "count")]
    merged = q.merge(c, on=keys, suffixes=("_quality", "_cost"))
    return merged.rename(columns={"mean_quality": quality, "sem_quality": f"{quality}_sem",
                                  "mean_cost": cost, "sem_cost": f"{cost}_sem"})


def _log_labels(axis, values: np.ndarray) -> None:
    """On a log axis spanning under ~1.5 decades, label the minor ticks at 2 and 5 x 10^k (else none)."""
    values = values[np.isfinite(values) & (values > 0)]
    narrow = values.size and np.log10(values.max() / values.min()) < 1.5

    def fmt(v: float, pos=None) -> str:
        mantissa = round(v / 10 ** np.floor(np.log10(v)), 6)
        return f"{v:g}" if narrow and mantissa in (2.0, 5.0) else ""

    axis.set_minor_formatter(FuncFormatter(fmt))


def plot_efficiency(ax: Axes, df: pd.DataFrame, quality: str = "ess_energy", cost: str = "wall_time",
                    annotate: str | None = None) -> Axes:
    """Draw ``quality`` against ``cost`` per sampler on log-log axes (seed means, error bars = one s.e.).

    ``annotate``: a configuration column (e.g. the swept parameter) whose value labels each point.
    """
    table = efficiency_table(df, quality, cost)
    keys = ["sampler", *(k for k in _series_keys(table, []) if k.startswith("sampler_"))]
    for i, (values, group) in enumerate(table.groupby(keys, dropna=False, sort=True)):
        label = _label(keys, values if isinstance(values, tuple) else (values,))
        group = group.sort_values(cost)
        xerr = group[f"{cost}_sem"].to_numpy(dtype=float)
        yerr = group[f"{quality}_sem"].to_numpy(dtype=float)
        ax.errorbar(group[cost], group[quality], xerr=None if np.all(np.isnan(xerr)) else xerr,
                    yerr=None if np.all(np.isnan(yerr)) else yerr, fmt=_MARKERS[i % len(_MARKERS)],
                    mfc="none", capsize=2, lw=1, label=label)
    positive = (table[cost] > 0).all() and (table[quality] > 0).all()
    if positive:
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis, col in ((ax.xaxis, cost), (ax.yaxis, quality)):
            _log_labels(axis, table[col].to_numpy(dtype=float))
    if annotate is not None:
        if annotate not in table.columns:
            raise ValueError(f"annotate: {annotate!r} is not a configuration column of the results")
        for _, r in table.iterrows():
            ax.annotate(f"{r[annotate]:g}" if isinstance(r[annotate], float) else str(r[annotate]),
                        (r[cost], r[quality]), textcoords="offset points", xytext=(4, 3), fontsize=7)
    ax.set_xlabel(f"cost: {axis_label(cost)}")
    ax.set_ylabel(f"quality: {axis_label(quality)}")
    ax.legend(fontsize=8)
    return ax


def efficiency_figure(df: pd.DataFrame, quality: str = "ess_energy", cost: str = "wall_time",
                      title: str | None = None, annotate: str | None = None) -> Figure:
    """A single-panel figure of :func:`plot_efficiency`."""
    _check_columns(df, None, [quality, cost])
    fig = Figure(figsize=(5.6, 4.2))
    ax = fig.subplots()
    plot_efficiency(ax, df, quality, cost, annotate=annotate)
    ax.set_title(title or "sampling efficiency (each point: one configuration, mean over seeds)", fontsize=9)
    fig.tight_layout()
    return fig


def save(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save ``fig`` to ``path`` (parent folders created; the format from the suffix, PNG by Agg)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
