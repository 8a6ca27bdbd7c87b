r"""The (Delta, s) and (Delta, theta) phase diagrams of the study's dense models, one figure per model.

For each noise level on a grid, state evolution along the Gaussian path (side SNR s, diffusion / flows)
and along the erasure path (revealed fraction theta, autoregressive) gives (``analysis.theory.phase_diagram.
delta_s_plane``, docs/physics.md §4):

* sp1 (the lower spinodal along the path): where the informed branch appears; it meets s = 0 at the
  dynamical threshold (``ModelThresholds.lam_dyn``);
* sp2 (the upper spinodal): where the uninformed (low-overlap) branch vanishes and iteration from the
  uninformed start jumps; it meets s = 0 at the algorithmic threshold (``lam_alg``);
* IT: where the two branches' RS potentials are equal (the Bayes-optimal overlap jumps);

the three meet at the tricritical point, whose noise level is the generative threshold: a path at a
noise level on the hard side of it crosses the coexistence region and the sampler fails.

The horizontal axis is in the study's units: temperature T = sqrt(3 Delta / 2) for the 3-spin models,
x = Delta/rho^2 (= 1/lam) for sparse Rademacher.  Thresholds of ``analysis.reproduction.thresholds`` are
drawn as vertical lines.  NAE-SAT's planes come from population dynamics (``naesat_plane`` below, when
the population-dynamics path module is present).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from analysis.theory.phase_diagram import delta_s_plane

from .thresholds import DENSE_MODELS

#: Axis range of each dense model in its own units, chosen to hold every threshold with margin.
AXES = {
    "spherical_3spin": (0.54, 0.76),
    "ising_3spin": (0.60, 0.80),
    "sparse_rademacher_0.08": (0.96, 1.10),
}
AXIS_LABEL = {"spherical_3spin": "T", "ising_3spin": "T", "sparse_rademacher_0.08": r"$\Delta/\rho^2$",
              "naesat_5": r"$\alpha$"}
TITLES = {"spherical_3spin": "planted spherical 3-spin", "ising_3spin": "planted Ising 3-spin",
          "sparse_rademacher_0.08": r"sparse Rademacher, $\rho = 0.08$", "naesat_5": "planted 5-NAE-SAT"}


def to_delta(model: str, x: np.ndarray) -> np.ndarray:
    """Model units -> Delta: Delta = 2 T^2 / 3 (3-spin), Delta = x (sparse Rademacher, x = Delta/rho^2 = 1/lam)."""
    x = np.asarray(x, dtype=float)
    return 2.0 * x**2 / 3.0 if model.endswith("3spin") else x


def from_delta(model: str, Delta) -> np.ndarray:
    """Delta -> model units (inverse of ``to_delta``)."""
    Delta = np.asarray(Delta, dtype=float)
    return np.sqrt(1.5 * Delta) if model.endswith("3spin") else Delta


@dataclass
class ModelPlanes:
    """The two planes of one model, in its units.

    ``x``: the axis grid; per path ("gaussian", "erasure"): ``sp1``, ``sp2``, ``IT`` (NaN where absent) and
    ``tricritical`` = (x, u).  ``thresholds``: name -> value drawn as vertical lines.
    """

    model: str
    x: np.ndarray
    lines: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        def clean(a):
            return [None if not math.isfinite(v) else float(v) for v in np.asarray(a, dtype=float)]

        return {"model": self.model, "x": clean(self.x), "thresholds": self.thresholds,
                "lines": {p: {k: (clean(v) if k != "tricritical" else [float(v[0]), float(v[1])])
                              for k, v in d.items()} for p, d in self.lines.items()}}

    def plot(self, axes=None):
        """Two panels: (x, s) and (x, theta)."""
        import matplotlib.pyplot as plt

        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(10, 4))
        colors = {"T_d": "tab:purple", "x_dyn": "tab:purple", "alpha_d": "tab:purple", "T_K": "tab:gray",
                  "x_IT": "tab:gray", "alpha_c": "tab:gray", "x_alg": "tab:brown"}
        for ax, path, ylabel in zip(axes, ("gaussian", "erasure"), ("s", r"$\theta$"), strict=True):
            d = self.lines[path]
            ax.plot(self.x, d["sp1"], "g--", label="sp1 (informed branch appears)")
            ax.plot(self.x, d["sp2"], "b--", label="sp2 (uninformed branch vanishes)")
            ax.plot(self.x, d["IT"], "k-", label="IT (first-order line)")
            tx, tu = d["tricritical"]
            if math.isfinite(tx):
                ax.plot([tx], [tu], "ro", label=f"tricritical ({tx:.4f}, {tu:.4f})")
            for name, v in self.thresholds.items():
                if v is not None and math.isfinite(v) and self.x.min() <= v <= self.x.max():
                    ax.axvline(v, color=colors.get(name, "tab:red"), lw=0.8, ls=":", label=f"{name} = {v:.4f}")
            ax.set_xlabel(AXIS_LABEL[self.model])
            ax.set_ylabel(ylabel)
            kind = "Gaussian (diffusion, flow)" if path == "gaussian" else "erasure (autoregressive)"
            ax.set_title(f"{TITLES[self.model]}: {kind} path", fontsize=9)
            ax.legend(fontsize=6)
            ax.set_ylim(bottom=0)
        return axes


def dense_planes(model: str, n_points: int = 60, thresholds: dict | None = None) -> ModelPlanes:
    """Both planes of a dense model on ``n_points`` axis values (see the module docstring)."""
    if model not in AXES:
        raise ValueError(f"model must be one of {sorted(AXES)}, got {model!r}")
    if not isinstance(n_points, int) or n_points < 3:
        raise ValueError(f"n_points must be an integer >= 3, got {n_points!r}")
    prior, p = DENSE_MODELS[model]
    x = np.linspace(*AXES[model], n_points)
    out = ModelPlanes(model=model, x=x, thresholds=dict(thresholds or {}))
    for path in ("gaussian", "erasure"):
        pl = delta_s_plane(prior, p, to_delta(model, x), path)
        out.lines[path] = {"sp1": pl.sp_low, "sp2": pl.sp_high, "IT": pl.first_order,
                           "tricritical": (float(from_delta(model, pl.tricritical[0])), float(pl.tricritical[1]))}
    return out


def threshold_lines(rows, model: str) -> dict:
    """The thresholds of ``model`` (from ``threshold_table`` rows) worth a vertical line, in its units."""
    keep = {"T_d", "T_K", "T_diffusion", "T_autoregressive", "x_IT", "x_dyn", "x_alg", "x_diffusion",
            "x_autoregressive", "alpha_d", "alpha_c", "alpha_diffusion", "alpha_autoregressive"}
    return {r.threshold: r.computed for r in rows if r.model == model and r.threshold in keep}


__all__ = ["AXES", "ModelPlanes", "dense_planes", "from_delta", "threshold_lines", "to_delta"]
