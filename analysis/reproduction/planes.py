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
drawn as vertical lines.  NAE-SAT's planes come from population dynamics
(``analysis.theory.population_paths.naesat_path_plane``;
``naesat_plane_from_rows`` rebuilds them from the rows that ``spinglass reproduce`` records).

Convention of every figure (this module, ``analysis.theory.phase_diagram.PlaneLines.plot`` and
``analysis.theory.population_paths.PathPlane.plot``; ``tests/test_record.py`` checks it): sp1 is drawn
green and dashed with the label "sp1 (informed branch appears)", sp2 blue and dashed with the label
"sp2 (uninformed branch vanishes)".
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

    @classmethod
    def from_dict(cls, d: dict) -> ModelPlanes:
        """The planes back from ``to_dict`` (None -> NaN)."""
        def arr(a):
            return np.array([math.nan if v is None else v for v in a], dtype=float)

        lines = {p: {k: (arr(v) if k != "tricritical" else (float(v[0]), float(v[1]))) for k, v in dd.items()}
                 for p, dd in d["lines"].items()}
        return cls(model=d["model"], x=arr(d["x"]), lines=lines, thresholds=dict(d["thresholds"]))

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


def naesat_plane_from_rows(rows: list[dict], path: str, k: int = 5, overlap_gap: float = 0.05):
    """A ``PathPlane`` rebuilt from its ``to_rows()`` records (as stored in ``planes.json``), for redrawing.

    The overlaps and free entropies are those recorded; sp1, sp2, IT and the grid estimate of the
    tricritical point are derived from them exactly as ``naesat_path_plane`` does.  The error arrays are not
    recorded and come back as NaN.
    """
    from analysis.theory.population_paths import PathPlane, _lines

    alphas = np.array(sorted({float(r["alpha"]) for r in rows}))
    grid = np.array(sorted({float(r["u"]) for r in rows}))
    shape = (alphas.size, grid.size)
    names = ("overlap_informed", "overlap_uninformed", "dphi_informed", "dphi_uninformed")
    arrays = {n: np.full(shape, np.nan) for n in names}
    for r in rows:
        i, j = int(np.searchsorted(alphas, float(r["alpha"]))), int(np.searchsorted(grid, float(r["u"])))
        for n in names:
            arrays[n][i, j] = float(r[n])
    gap = arrays["overlap_informed"] - arrays["overlap_uninformed"]
    ddphi = arrays["dphi_informed"] - arrays["dphi_uninformed"]
    sp1, sp2, it = (np.array(v) for v in zip(*(_lines(grid, gap[i], ddphi[i], overlap_gap)
                                              for i in range(alphas.size)), strict=True))
    co = gap > overlap_gap
    tri = (math.nan, math.nan)
    hit = np.flatnonzero(co.any(axis=1))
    if hit.size:
        i = int(hit[np.argmin(alphas[hit])])
        js = np.flatnonzero(co[i])
        tri = (float(alphas[i]), float(0.5 * (grid[js[0]] + grid[js[-1]])))
    nan = np.full(shape, np.nan)
    return PathPlane(k=k, path=path, alpha=alphas, grid=grid, overlap_err_informed=nan,
                     overlap_err_uninformed=nan.copy(), dphi_err_informed=nan.copy(),
                     dphi_err_uninformed=nan.copy(), sp1=sp1, sp2=sp2, it=it, overlap_gap=overlap_gap,
                     tricritical=tri, params={"rebuilt_from": "PathPlane.to_rows()"}, **arrays)


def threshold_lines(rows, model: str) -> dict:
    """The thresholds of ``model`` (from ``threshold_table`` rows) worth a vertical line, in its units."""
    keep = {"T_d", "T_K", "T_diffusion", "T_autoregressive", "x_IT", "x_dyn", "x_alg", "x_diffusion",
            "x_autoregressive", "alpha_d", "alpha_c", "alpha_diffusion", "alpha_autoregressive"}
    return {r.threshold: r.computed for r in rows if r.model == model and r.threshold in keep}


__all__ = ["AXES", "ModelPlanes", "dense_planes", "from_delta", "naesat_plane_from_rows", "threshold_lines",
           "to_delta"]
