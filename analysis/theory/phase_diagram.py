r"""Phase diagrams of the denoising lens: grids of ``PathReport`` verdicts and threshold curves.

* ``sparse_rademacher_phase_diagram``: the sparse-Rademacher spiked Wigner model in the plane
  (rho, Delta/rho^2) of Ghio et al. (PNAS 2024), where Delta/rho^2 (the paper's unnormalised prior) equals
  our Delta = 1/lam (docs/physics.md §1).  Curves: IT, algorithmic (AMP from an uninformed start succeeds
  below it in Delta), dynamical (MCMC) thresholds, and the diffusion / flow and autoregressive failure
  boundaries (tricritical points of the Gaussian and erasure paths); grids: where each generative sampler
  is predicted to fail.
* ``pspin_thresholds``: the same thresholds for a spiked tensor of order p in temperature T (= sqrt(p
  Delta / 2)): T_d (dynamical), T_IT (= T_K for the planted p-spin), T below which diffusion / flows and
  autoregressive sampling fail.
* ``delta_s_plane``: the spinodal lines sp1, sp2 and the IT line of a path in the (Delta, u) plane, meeting
  at the tricritical point.

The failure boundary of a path is its tricritical Delta when the tricritical point lies on the path
(u >= 0); the grids are computed independently from full path reports, so the two can be cross-checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spinglass._validate import check_int
from spinglass.priors import Prior, SparseRademacher

from .state_evolution import StateEvolution, as_path
from .transitions import analyze_path, model_thresholds, tricritical_point


@dataclass
class PhaseDiagram:
    """Sparse-Rademacher phase diagram (x = Delta/rho^2 = 1/lam).

    Attributes: ``rho`` (R,), ``x`` (X,), boolean grids ``diffusion_fails`` and ``autoregressive_fails``
    (R, X), and curves (R,) in x: ``x_IT``, ``x_alg``, ``x_dyn``, ``x_diffusion`` (tricritical point of
    the Gaussian path), ``x_autoregressive`` (tricritical point of the erasure path).  Reading the
    diagram at fixed rho, from large noise to small: the informed branch appears at x_dyn (the MCMC /
    dynamical threshold), becomes Bayes-optimal at x_IT, and AMP from an uninformed start reaches it below
    x_alg (the hard phase is x_alg < x < x_IT).  Diffusion / flows are predicted to fail for
    x_alg < x < x_diffusion and autoregression for x_alg < x < x_autoregressive.  Where the transition is
    continuous all curves meet.
    """

    rho: np.ndarray
    x: np.ndarray
    diffusion_fails: np.ndarray
    autoregressive_fails: np.ndarray
    x_IT: np.ndarray
    x_alg: np.ndarray
    x_dyn: np.ndarray
    x_diffusion: np.ndarray
    x_autoregressive: np.ndarray
    meta: dict = field(default_factory=dict)

    def curves(self) -> dict[str, np.ndarray]:
        return {"IT": self.x_IT, "algorithmic": self.x_alg, "dynamical (MCMC)": self.x_dyn,
                "diffusion / flow": self.x_diffusion, "autoregressive": self.x_autoregressive}

    def to_rows(self) -> list[dict]:
        """One tidy row per rho with every threshold (both x = Delta/rho^2 and lam = 1/x)."""
        rows = []
        for i, r in enumerate(self.rho):
            row = {"rho": float(r)}
            for name, arr in (("IT", self.x_IT), ("alg", self.x_alg), ("dyn", self.x_dyn),
                              ("diffusion", self.x_diffusion), ("autoregressive", self.x_autoregressive)):
                row[f"Delta_over_rho2_{name}"] = float(arr[i])
                row[f"lam_{name}"] = 1.0 / float(arr[i])
            rows.append(row)
        return rows

    def plot(self, ax=None):
        """Failure regions (shaded) and threshold curves in the (rho, Delta/rho^2) plane."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4.5))
        R, X = np.meshgrid(self.rho, self.x, indexing="ij")
        ax.contourf(R, X, self.diffusion_fails.astype(float), levels=[0.5, 1.5], colors=["tab:red"], alpha=0.18)
        ax.contourf(R, X, self.autoregressive_fails.astype(float), levels=[0.5, 1.5], colors=["tab:blue"],
                    alpha=0.12)
        styles = {"IT": ("k", "-"), "algorithmic": ("tab:green", "--"), "dynamical (MCMC)": ("tab:purple", ":"),
                  "diffusion / flow": ("tab:red", "-"), "autoregressive": ("tab:blue", "-.")}
        for name, arr in self.curves().items():
            c, ls = styles[name]
            ax.plot(self.rho, arr, color=c, ls=ls, label=name)
        ax.set_xlabel(r"$\rho$")
        ax.set_ylabel(r"$\Delta/\rho^2$ (= 1/$\lambda$)")
        ax.set_title("sparse Rademacher spiked Wigner")
        ax.legend(fontsize=8)
        return ax


def _x_of(lam: float) -> float:
    return math.inf if lam == 0 else (0.0 if math.isinf(lam) else 1.0 / lam)


def _generative_boundary(prior: Prior, p: int, path: str, Delta_alg: float, tol: float = 1e-12) -> float:
    """Largest Delta at which ``path`` fails: its tricritical Delta if that point lies on the path."""
    try:
        tri = tricritical_point(prior, p, path, tol=tol)
    except ValueError:
        return Delta_alg
    return tri.Delta if tri.u >= 0 else Delta_alg


def sparse_rademacher_phase_diagram(rho, x, *, progress: bool = False) -> PhaseDiagram:
    """Evaluate the lens on the grid rho × x (x = Delta/rho^2 = 1/lam) for the sparse Rademacher prior.

    Every cell gets a Gaussian-path and an erasure-path report (``refine=False``: first-order points by
    interpolation of the tabulated potentials); every rho gets its model thresholds and tricritical
    points, refined to ~1e-12.
    """
    rho = np.asarray(rho, dtype=float).ravel()
    x = np.asarray(x, dtype=float).ravel()
    if rho.size == 0 or np.any(~np.isfinite(rho)) or np.any(rho <= 0) or np.any(rho > 1):
        raise ValueError("rho must be a non-empty array of values in (0, 1]")
    if x.size == 0 or np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise ValueError("x (Delta/rho^2) must be a non-empty array of finite values > 0")
    shape = (rho.size, x.size)
    diff_fail = np.zeros(shape, dtype=bool)
    ar_fail = np.zeros(shape, dtype=bool)
    curves = {k: np.empty(rho.size) for k in ("IT", "alg", "dyn", "diffusion", "autoregressive")}
    rows = range(rho.size)
    if progress:
        from tqdm.auto import tqdm

        rows = tqdm(rows, desc="phase diagram", unit="rho")
    for i in rows:
        prior = SparseRademacher(float(rho[i]))
        th = model_thresholds(prior, 2)
        curves["IT"][i], curves["alg"][i], curves["dyn"][i] = (_x_of(v) for v in (th.lam_IT, th.lam_alg, th.lam_dyn))
        curves["diffusion"][i] = _generative_boundary(prior, 2, "gaussian", th.Delta_alg)
        curves["autoregressive"][i] = _generative_boundary(prior, 2, "erasure", th.Delta_alg)
        for j, xj in enumerate(x):
            se = StateEvolution(prior, 2, float(xj))
            diff_fail[i, j] = analyze_path(se, "gaussian", n_points=2, refine=False).sampler_predicted_to_fail
            ar_fail[i, j] = analyze_path(se, "erasure", n_points=2, refine=False).sampler_predicted_to_fail
    return PhaseDiagram(rho=rho, x=x, diffusion_fails=diff_fail, autoregressive_fails=ar_fail,
                        x_IT=curves["IT"], x_alg=curves["alg"], x_dyn=curves["dyn"],
                        x_diffusion=curves["diffusion"], x_autoregressive=curves["autoregressive"],
                        meta={"prior": "SparseRademacher", "units": "x = Delta/rho^2 = 1/lam"})


def pspin_thresholds(prior: Prior, p: int = 3, *, tol: float = 1e-12) -> dict[str, float]:
    """Thresholds of the spiked p-tensor with ``prior`` in temperature units T = sqrt(p Delta / 2).

    Returns T_dyn (informed branch appears: MCMC threshold), T_IT (= T_K), T_alg (0 for p >= 3: AMP from
    an uninformed start never succeeds at s = 0), T_diffusion and T_autoregressive (below them the
    Bayes-optimal diffusion / flow and autoregressive samplers are predicted to fail), with the matching
    Delta values.  ``tol``: relative bisection width of the tricritical points (the generative thresholds).
    """
    p = check_int("p", p, minimum=2)
    th = model_thresholds(prior, p)
    out = {}
    for name, Delta in (("dyn", th.Delta_dyn), ("IT", th.Delta_IT), ("alg", th.Delta_alg),
                        ("diffusion", _generative_boundary(prior, p, "gaussian", th.Delta_alg, tol)),
                        ("autoregressive", _generative_boundary(prior, p, "erasure", th.Delta_alg, tol))):
        out[f"Delta_{name}"] = Delta
        out[f"T_{name}"] = math.sqrt(p * Delta / 2.0)
    return out


@dataclass
class PlaneLines:
    """Spinodal and first-order lines of one path in the (Delta, u) plane."""

    path: str
    Delta: np.ndarray
    sp_low: np.ndarray    # sp1, the lower spinodal along the path: the informed branch appears (NaN if none)
    sp_high: np.ndarray   # sp2, the upper spinodal: the uninformed branch vanishes
    first_order: np.ndarray
    tricritical: tuple[float, float]

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4))
        ax.plot(self.Delta, self.sp_low, "g--", label="sp1 (informed branch appears)")
        ax.plot(self.Delta, self.sp_high, "b--", label="sp2 (uninformed branch vanishes)")
        ax.plot(self.Delta, self.first_order, "k-", label="IT (first order)")
        ax.plot(*self.tricritical, "ro", label="tricritical")
        ax.set_xlabel(r"$\Delta$")
        ax.set_ylabel({"gaussian": "s", "erasure": r"$\theta$"}.get(self.path, "u"))
        ax.legend(fontsize=8)
        return ax


def spinodal_lines(spinodals) -> tuple[float, float]:
    """(sp1, sp2) from a path report's spinodals, by their ``kind``: sp1 = the lowest u at which a stable
    branch appears ("appears", the informed branch), sp2 = the highest u at which one vanishes
    ("vanishes", the uninformed branch); NaN for a kind that is absent from the path's domain (e.g. sp1
    when the informed branch already exists at u = 0)."""
    appears = [s.u for s in spinodals if s.kind == "appears"]
    vanishes = [s.u for s in spinodals if s.kind == "vanishes"]
    return (min(appears) if appears else math.nan), (max(vanishes) if vanishes else math.nan)


def delta_s_plane(prior: Prior, p: int, Delta, path: str = "gaussian") -> PlaneLines:
    """sp1, sp2 and IT lines of ``path`` at each Delta (NaN where absent), and the tricritical point."""
    path_obj = as_path(path)
    Delta = np.asarray(Delta, dtype=float).ravel()
    if Delta.size == 0 or np.any(~np.isfinite(Delta)) or np.any(Delta <= 0):
        raise ValueError("Delta must be a non-empty array of finite values > 0")
    lo, hi, fo = (np.full(Delta.size, np.nan) for _ in range(3))
    for k, D in enumerate(Delta):
        rep = analyze_path(StateEvolution(prior, p, float(D)), path_obj, n_points=2, refine=False)
        lo[k], hi[k] = spinodal_lines(rep.spinodals)
        if rep.first_order:
            fo[k] = rep.first_order[-1].u
    tri = tricritical_point(prior, p, path_obj)
    return PlaneLines(path=path_obj.name, Delta=Delta, sp_low=lo, sp_high=hi, first_order=fo,
                      tricritical=(tri.Delta, tri.u))


__all__ = ["PhaseDiagram", "sparse_rademacher_phase_diagram", "pspin_thresholds", "PlaneLines", "delta_s_plane",
           "spinodal_lines"]
