r"""Exact reference curves and threshold lines for a results table, where the model has them.

A sweep's figure means most beside the answer it should reproduce.  For a metric against a swept
parameter, :func:`references` returns the curves known in closed form or from state evolution and the
labelled threshold lines of the model, read from the table's constant columns (family, couplings, prior...):

* 2D Ising ferromagnet (``EdwardsAnderson``, ``couplings = "ferro"``, dim 2, h = 0), x = T or beta: Onsager's
  energy per spin and Yang's spontaneous magnetisation (both for L = inf), and T_c = 2 / ln(1 + sqrt 2).
* Curie-Weiss (h = 0): the n = inf magnetisation m = tanh(beta m), and T_c = 1.
* SK (h = 0): the annealed energy -beta / 2, exact at n = inf in the paramagnet (T >= 1), and T_c = 1.
* Spiked Wigner, x = lam or Delta, metric ``overlap``: state evolution's overlap from an uninformed start
  (what AMP reaches) and from an informed start, and the algorithmic / IT thresholds
  (:func:`analysis.theory.model_thresholds`; one line when the transition is continuous).

Anything else gets no reference (empty lists).  Conventions: ``docs/physics.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spinglass.closed_forms import (
    ISING_2D_TC,
    curie_weiss_magnetization,
    onsager_energy,
    sk_annealed_energy,
    yang_magnetization,
)
from spinglass.priors import prior_from_name

#: Axis labels with units, per metric and parameter name (others are shown as their name).
LABELS = {
    "energy": "energy per variable E / n", "energy_trace": "energy per variable E / n (trace mean)",
    "magnetization": "magnetisation per variable", "abs_magnetization": "|magnetisation| per variable",
    "overlap": "overlap with the planted configuration", "nishimori_gap": "Nishimori gap (overlap form)",
    "energy_gap": "Nishimori gap (energy form, per variable)", "acceptance": "acceptance rate",
    "tau_int_energy": "tau_int of the energy (sweeps)", "ess_energy": "ESS of the energy (samples)",
    "ess_per_second": "ESS of the energy per second (1/s)", "rhat_energy": "split R-hat of the energy",
    "tv_exact": "TV distance to the exact law", "denoiser_calls": "denoiser calls",
    "denoiser_iterations": "denoiser iterations", "wall_time": "sampling wall time (s)",
    "task_time": "task wall time (s)", "updates": "attempted single-variable updates",
    "T": "temperature T", "beta": "inverse temperature beta", "lam": "signal-to-noise ratio lam",
    "Delta": "noise variance Delta", "c": "average degree c", "alpha": "clause density alpha",
    "n": "number of variables n", "L": "lattice side L", "rho": "prior density rho",
}


def label(name: str) -> str:
    """The axis label of a metric or parameter (with its unit), or the name itself."""
    return LABELS.get(name, name)


@dataclass(frozen=True)
class Curve:
    """A reference curve y(x) to draw with its legend label."""

    label: str
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Line:
    """A threshold at x = ``at``, drawn as a labelled vertical line."""

    label: str
    at: float


def _constant(df: pd.DataFrame, column: str, default=None):
    if column not in df.columns:
        return default
    values = df[column].dropna().unique()
    return values[0] if len(values) == 1 else None


def _temperatures(x: str, grid: np.ndarray) -> np.ndarray:
    return grid if x == "T" else 1.0 / grid


def _to_x(x: str, temperature: float) -> float:
    return temperature if x == "T" else 1.0 / temperature


def references(df: pd.DataFrame, x: str, metric: str, n_points: int = 200) -> tuple[list[Curve], list[Line]]:
    """The reference curves and threshold lines for ``metric`` against ``x`` in ``df`` (module docstring)."""
    family = _constant(df, "family")
    if family is None or x not in df.columns:
        return [], []
    xs = pd.to_numeric(df[x], errors="coerce").dropna()
    if xs.empty or xs.min() <= 0:
        return [], []
    grid = np.linspace(float(xs.min()), float(xs.max()), n_points)
    if x in ("T", "beta") and _constant(df, "h", 0.0) == 0.0:
        return _thermal(df, family, x, metric, grid)
    if family == "SpikedWigner" and x in ("lam", "Delta") and metric == "overlap":
        return _spiked_wigner(df, x, grid)
    return [], []


def _thermal(df, family, x, metric, grid) -> tuple[list[Curve], list[Line]]:
    temps = _temperatures(x, grid)
    if family == "EdwardsAnderson" and _constant(df, "couplings") == "ferro" and _constant(df, "dim", 2) == 2:
        line = [Line("T_c (Onsager)", _to_x(x, ISING_2D_TC))]
        if metric in ("energy", "energy_trace"):
            return [Curve("Onsager, L = inf", grid, np.array([onsager_energy(1 / t) for t in temps]))], line
        if metric == "abs_magnetization":
            return [Curve("Yang, L = inf", grid, np.array([yang_magnetization(1 / t) for t in temps]))], line
        return [], line
    if family == "CurieWeiss":
        line = [Line("T_c", _to_x(x, 1.0))]
        if metric == "abs_magnetization":
            return [Curve("m = tanh(beta m), n = inf", grid,
                          np.array([curie_weiss_magnetization(1 / t) for t in temps]))], line
        return [], line
    if family == "SK":
        line = [Line("T_c", _to_x(x, 1.0))]
        if metric in ("energy", "energy_trace"):
            keep = temps >= 1.0
            if keep.any():
                y = np.array([sk_annealed_energy(1 / t) for t in temps[keep]])
                return [Curve("annealed -beta/2 (exact for T >= 1, n = inf)", grid[keep], y)], line
        return [], line
    return [], []


def _spiked_wigner(df, x, grid) -> tuple[list[Curve], list[Line]]:
    from analysis.theory import StateEvolution, model_thresholds

    name = _constant(df, "prior")
    if name is None:
        return [], []
    rho = _constant(df, "rho")
    prior = prior_from_name(name, **({"rho": float(rho)} if rho is not None and not pd.isna(rho) else {}))
    lams = grid if x == "lam" else 1.0 / grid
    curves = []
    for start, m0 in (("uninformed start (AMP)", 1e-6), ("informed start", 1.0)):
        m = [float(np.squeeze(StateEvolution.wigner(prior, float(lam)).iterate("gaussian", 0.0, m0=m0).m))
             for lam in lams]
        curves.append(Curve(f"state evolution, {start}", grid, np.array(m)))
    th = model_thresholds(prior, 2)
    at = (lambda lam: lam) if x == "lam" else (lambda lam: 1.0 / lam if lam else math.inf)
    if th.continuous:
        lines = [Line("lam_c (continuous)", at(th.lam_IT))]
    else:
        lines = [Line("lam_IT", at(th.lam_IT)), Line("lam_alg", at(th.lam_alg))]
    lo, hi = float(grid.min()), float(grid.max())
    return curves, [ln for ln in lines if math.isfinite(ln.at) and lo <= ln.at <= hi]


__all__ = ["LABELS", "label", "Curve", "Line", "references"]
