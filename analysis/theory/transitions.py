r"""Phase transitions along denoising paths: all fixed-point branches, spinodals, first-order points.

The lens of Ghio, Dandi, Krzakala, Zdeborová (PNAS 2024), docs/physics.md §4.  For a ``StateEvolution`` and a
``Path`` (``analysis.theory.state_evolution``), the fixed points form the explicit curve xi -> (m(xi), u(xi));
it is cut at the interior extrema of u(xi) into monotone *pieces*: stable where du/dxi > 0, unstable
where du/dxi < 0.  Then, at every path parameter u,

* the fixed points are the points of each piece with u(xi) = u (found by bracketing, never missed);
* the **uninformed / algorithmic branch** is the smallest stable fixed point: the limit of SE iteration
  from m = 0+, which, the SE map being increasing in m and u, is also the branch that iteration follows
  when continued along the path from its start;
* the **informed branch** is the largest stable fixed point (iteration from m = 1);
* the **Bayes-optimal branch** is the stable fixed point with the largest potential Phi(m; u);
* a **spinodal** is an interior extremum of u(xi) (a saddle-node: T_u(m) = m and T_u'(m) = 1), refined
  by Brent's method on du/dxi to ~1e-14 in xi;
* a **first-order point** is where the Bayes-optimal branch jumps: two stable branches with equal
  potential, refined by Brent's method on their potential difference.

A Bayes-optimal generative sampler following the path is **predicted to fail** iff the algorithmic branch
differs from the Bayes-optimal branch somewhere on the path; the set where they differ is the failure
set, reported as intervals of u.  Along the signal path (s = 0, u = lam) the same construction gives the
model's own thresholds (``model_thresholds``): the dynamical / MCMC threshold (the informed branch
appears), the information-theoretic threshold (first-order point) and the algorithmic threshold (the
uninformed branch joins the informed one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from spinglass._validate import check_int, check_real

from .state_evolution import SIGNAL, Path, StateEvolution, as_path

_XTOL = 1e-15


@dataclass
class Piece:
    """A monotone piece of the fixed-point curve between two spinodals (or the curve's ends)."""

    index: int
    stable: bool
    xi_lo: float
    xi_hi: float
    u_lo: float
    u_hi: float
    trivial: bool = False  # the m = 0 branch of the signal path

    def covers(self, u) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        return (u >= self.u_lo) & (u <= self.u_hi)


@dataclass
class Spinodal:
    """A saddle-node point: where a pair of fixed points (one stable) appears or vanishes.

    ``kind`` is "appears" when the stable branch exists for u above ``u`` (a local minimum of u(xi)) and
    "vanishes" when it exists below (a local maximum).  Residuals: |T_u(m) - m| and |T_u'(m) - 1|.
    """

    u: float
    m: float
    xi: float
    kind: str
    residual_fixed_point: float
    residual_marginal: float


@dataclass
class FirstOrderPoint:
    """A jump of the Bayes-optimal branch from overlap ``m_low`` to ``m_high`` at parameter ``u``.

    ``potential`` is the common value Phi of both branches; ``residual_potential`` = |Phi_low - Phi_high|,
    ``residual_fixed_point`` the larger of |T_u(m) - m| over the two branches.
    """

    u: float
    m_low: float
    m_high: float
    potential: float
    residual_potential: float
    residual_fixed_point: float


@dataclass
class PathReport:
    """Everything the lens says about one path for one model (see module docstring).

    Arrays on the path grid ``u`` (K,): ``m_uninformed`` (algorithmic), ``m_informed``, ``m_bayes`` and
    the matching potentials ``phi_*``.  ``pieces`` describe the whole fixed-point curve; ``curve`` holds
    it sampled for plots (``xi``, ``m``, ``u``, ``phi``, ``stable``).
    """

    model: dict
    path: str
    parameter: str
    u_range: tuple[float, float]
    u: np.ndarray
    m_uninformed: np.ndarray
    m_informed: np.ndarray
    m_bayes: np.ndarray
    phi_uninformed: np.ndarray
    phi_informed: np.ndarray
    phi_bayes: np.ndarray
    spinodals: list[Spinodal]
    first_order: list[FirstOrderPoint]
    failure_intervals: list[tuple[float, float]]
    pieces: list[Piece]
    curve: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    @property
    def m_algorithmic(self) -> np.ndarray:
        """The algorithmic branch (= the uninformed branch for monotone SE maps)."""
        return self.m_uninformed

    @property
    def sampler_predicted_to_fail(self) -> bool:
        """True iff the algorithmic branch leaves the Bayes-optimal branch somewhere on the path."""
        return bool(self.failure_intervals)

    @property
    def failure_interval(self) -> tuple[float, float] | None:
        """The smallest interval of u containing every failure interval (None if the sampler works)."""
        if not self.failure_intervals:
            return None
        return (self.failure_intervals[0][0], self.failure_intervals[-1][1])

    def summary(self) -> dict:
        """A JSON-friendly summary (no arrays)."""
        return {
            "model": self.model, "path": self.path, "parameter": self.parameter, "u_range": list(self.u_range),
            "spinodals": [{"u": s.u, "m": s.m, "kind": s.kind} for s in self.spinodals],
            "first_order": [{"u": f.u, "m_low": f.m_low, "m_high": f.m_high} for f in self.first_order],
            "sampler_predicted_to_fail": self.sampler_predicted_to_fail,
            "failure_intervals": [list(iv) for iv in self.failure_intervals],
        }


# ---------------------------------------------------------------------------------------------------------
# the curve and its pieces
# ---------------------------------------------------------------------------------------------------------
class _Curve:
    """The fixed-point curve of (se, path) in the coordinate g, its pieces, and root-finding on it."""

    def __init__(self, se: StateEvolution, path: Path, u_hi: float, refine: bool = True):
        self.se, self.path, self.refine = se, path, refine
        g_needed = 2.0 * (u_hi + 1.0 / se.Delta) + 10.0 if math.isfinite(u_hi) else 0.0
        self.xi, self.m, self.u, self.slope, self.phi = path.curve_grid(se, g_needed)
        self._refine_near_tangencies()
        self.pieces, self.spinodals = self._cut()

    def at(self, xi):
        """(m, u, du/dg, Phi) evaluated exactly at ``xi``."""
        return self.path.curve(self.se, xi)

    def u_at(self, xi: float) -> float:
        return float(self.at(xi)[1])

    def slope_at(self, xi: float) -> float:
        return float(self.at(xi)[2])

    def _refine_near_tangencies(self) -> None:
        """Insert the exact minimum of du/dxi between grid points where the grid cannot tell its sign.

        Just below a tricritical point the coexistence window is narrower than the table's spacing in xi
        (about 0.01): du/dxi is negative only between two grid points, the grid sees no sign change and the
        window, its spinodals and its first-order point would be missed.  At every interior local minimum of
        the tabulated slope that is positive but not larger than its second difference (a parabola through
        the three points could reach zero), the slope is minimised by bounded Brent between the
        neighbours, as ``tricritical_point`` does at the global minimum; a negative minimum is added to the
        grid, so that ``_cut`` brackets both spinodals around it.
        """
        from scipy.optimize import minimize_scalar

        s = self.slope
        if s.size < 3:
            return
        left, mid, right = s[:-2], s[1:-1], s[2:]
        with np.errstate(invalid="ignore"):
            cand = (np.isfinite(left) & np.isfinite(mid) & np.isfinite(right) & (mid > 0) & (mid <= left)
                    & (mid < right) & (mid <= left + right - 2.0 * mid))
        new = []
        for j in np.flatnonzero(cand) + 1:
            a, b = float(self.xi[j - 1]), float(self.xi[j + 1])
            r = minimize_scalar(self.slope_at, bounds=(a, b), method="bounded", options={"xatol": 1e-13})
            if np.isfinite(r.fun) and r.fun < 0 and a < r.x < b:
                new.append(float(r.x))
        if not new:
            return
        x_new = np.asarray(new)
        m_new, u_new, s_new, phi_new = (np.atleast_1d(np.asarray(v, dtype=float)) for v in self.at(x_new))
        order = np.argsort(np.concatenate([self.xi, x_new]), kind="stable")
        self.xi, self.m, self.u, self.slope, self.phi = (
            np.concatenate([a, b])[order] for a, b in ((self.xi, x_new), (self.m, m_new), (self.u, u_new),
                                                       (self.slope, s_new), (self.phi, phi_new)))

    def _cut(self):
        xi, slope = self.xi, self.slope
        ok = np.isfinite(slope)
        sign = np.sign(np.where(ok, slope, np.nan))
        cuts, spinodals = [], []
        nz = np.flatnonzero(ok & (sign != 0))  # a zero at a grid point is bracketed by its neighbours
        change = sign[nz[:-1]] * sign[nz[1:]] < 0
        for k, k2 in zip(nz[:-1][change], nz[1:][change], strict=True):
            a, b = xi[k], xi[k2]
            if np.sign(self.slope_at(a)) * np.sign(self.slope_at(b)) >= 0:
                continue  # a tabulation artefact at a tangency: no crossing in exact arithmetic
            xc = brentq(self.slope_at, a, b, xtol=_XTOL, rtol=4 * np.finfo(float).eps, maxiter=500)
            mc, uc, _, _ = (float(v) for v in self.at(xc))
            kind = "appears" if sign[k] < 0 else "vanishes"  # slope - then +: local min of u
            res_fp = abs(float(self.path.fixed_point_map(self.se, mc, uc)) - mc)
            res_marg = abs(float(self.path.map_slope(self.se, mc, uc)) - 1.0)
            cuts.append(xc)
            spinodals.append(Spinodal(u=uc, m=mc, xi=float(xc), kind=kind, residual_fixed_point=res_fp,
                                      residual_marginal=res_marg))
        bounds = [float(xi[0])] + cuts + [float(xi[-1])]
        pieces = []
        for i in range(len(bounds) - 1):
            a, b = bounds[i], bounds[i + 1]
            inside = (xi > a) & (xi < b) & ok
            s = np.nanmedian(sign[inside]) if inside.any() else np.sign(self.slope_at(0.5 * (a + b)))
            ua, ub = self.u_at(a), self.u_at(b)
            pieces.append(Piece(index=i, stable=bool(s > 0), xi_lo=a, xi_hi=b,
                                u_lo=float(np.nanmin([ua, ub])), u_hi=float(np.nanmax([ua, ub]))))
        if self.path.trivial_branch(self.se):
            # m = 0 for every lam; stable iff lam * F'(0) < 1 (p = 2) or always (p >= 3)
            lam_c = 1.0 / float(self.se.prior.dF(0.0)) if self.se.p == 2 else math.inf
            n = len(pieces)
            pieces.append(Piece(index=n, stable=True, xi_lo=0.0, xi_hi=0.0, u_lo=0.0, u_hi=lam_c, trivial=True))
            if math.isfinite(lam_c):
                pieces.append(Piece(index=n + 1, stable=False, xi_lo=0.0, xi_hi=0.0, u_lo=lam_c, u_hi=math.inf,
                                    trivial=True))
        return pieces, spinodals

    def solve(self, piece: Piece, u, exact: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """xi, m, phi of the fixed point on ``piece`` at each u (NaN where the piece does not reach u).

        Interpolation on the tabulated curve, then (``exact``) four Newton steps in xi with exact
        evaluations of the prior's functions.
        """
        u = np.atleast_1d(np.asarray(u, dtype=float))
        inside = piece.covers(u)
        if piece.trivial:
            z = np.where(inside, 0.0, np.nan)
            return z, z.copy(), z.copy()
        sel = (self.xi > piece.xi_lo) & (self.xi < piece.xi_hi) & np.isfinite(self.u)
        lo_vals, hi_vals = self.at(piece.xi_lo), self.at(piece.xi_hi)
        xs = np.concatenate([[piece.xi_lo], self.xi[sel], [piece.xi_hi]])
        us = np.concatenate([[lo_vals[1]], self.u[sel], [hi_vals[1]]])
        ms = np.concatenate([[lo_vals[0]], self.m[sel], [hi_vals[0]]])
        ps = np.concatenate([[lo_vals[3]], self.phi[sel], [hi_vals[3]]])
        good = np.isfinite(us)
        xs, us, ms, ps = xs[good], us[good], ms[good], ps[good]
        order = np.argsort(us, kind="stable")
        x = np.interp(u, us[order], xs[order])
        if not exact:
            m = np.interp(u, us[order], ms[order])
            phi = np.interp(u, us[order], ps[order])
        else:
            x = self._polish(piece, u, x, inside)
            m, _, _, phi = self.at(x)
        nan = np.where(inside, 1.0, np.nan)
        return x * nan, m * nan, phi * nan

    def _polish(self, piece: Piece, u: np.ndarray, x: np.ndarray, inside: np.ndarray,
                max_iter: int = 60) -> np.ndarray:
        """Safeguarded Newton in xi for u(xi) = u on ``piece`` (monotone: increasing iff stable), from ``x``.

        Each iterate narrows a bracket [lo, hi] of the root; a Newton step leaving it is replaced by
        bisection.  Near a spinodal u(xi) is flat and the table coarse (a coexistence window narrower than
        its spacing holds no table point at all), so a fixed number of plain Newton steps from the
        interpolated start may stop far from the root; this iterates each value until it stops moving
        (each iteration evaluates only the values still moving).
        """
        sgn = 1.0 if piece.stable else -1.0
        x = np.clip(np.where(np.isfinite(x), x, piece.xi_lo), piece.xi_lo, piece.xi_hi)
        lo = np.full_like(x, piece.xi_lo)
        hi = np.full_like(x, piece.xi_hi)
        idx = np.flatnonzero(inside)
        eps = 4 * np.finfo(float).eps
        for _ in range(max_iter):
            if idx.size == 0:
                break
            xa, ua = x[idx], u[idx]
            _, uu, d, _ = self.at(xa)
            r = sgn * (uu - ua)
            la = np.where(r < 0, xa, lo[idx])
            ha = np.where(r > 0, xa, hi[idx])
            with np.errstate(divide="ignore", invalid="ignore"):
                xn = xa - (uu - ua) / d
            bad = ~np.isfinite(xn) | (xn <= la) | (xn >= ha)
            xn = np.where(bad, 0.5 * (la + ha), xn)
            xn = np.where(r != 0, xn, xa)
            x[idx], lo[idx], hi[idx] = xn, la, ha
            scale = eps * np.maximum(1.0, np.abs(xa))
            idx = idx[(np.abs(xn - xa) > scale) & (ha - la > scale)]
        return x

    def solve_scalar(self, piece: Piece, u: float) -> tuple[float, float, float]:
        """Precise fixed point on ``piece`` at scalar u (Brent on u(xi) - u); returns (xi, m, phi)."""
        if piece.trivial:
            return 0.0, 0.0, float(self.path.potential(self.se, 0.0, u))
        if not self.refine:
            x, m, phi = self.solve(piece, u, exact=False)
            return float(x[0]), float(m[0]), float(phi[0])
        a, b = piece.xi_lo, piece.xi_hi
        fa, fb = self.u_at(a) - u, self.u_at(b) - u
        if fa == 0.0 or not np.isfinite(fa):
            x = a if fa == 0.0 else None
        else:
            x = None
        if x is None:
            if fb == 0.0:
                x = b
            else:
                if not np.isfinite(fa):  # lam = inf at g = 0 on the signal path (p >= 3): step inside
                    a = float(self.xi[np.searchsorted(self.xi, a, side="right")])
                x = brentq(lambda t: self.u_at(t) - u, a, b, xtol=_XTOL, rtol=4 * np.finfo(float).eps, maxiter=500)
        m, _, _, phi = self.at(x)
        return float(x), float(m), float(phi)


def _default_u_hi(path: Path, spinodals: list[Spinodal], se: StateEvolution) -> float:
    if math.isfinite(path.upper):
        return path.upper
    top = max([s.u for s in spinodals if math.isfinite(s.u)] + [0.0])
    if path is SIGNAL:
        return max(3.0, 1.5 * top, 1.5 / float(se.prior.dF(0.0)))
    return max(3.0 / se.Delta, 1.5 * top + 1.0)


def analyze_path(se: StateEvolution, path: Path | str, u_range: tuple[float, float] | None = None,
                 n_points: int = 401, refine: bool = True) -> PathReport:
    """Follow every fixed-point branch of ``se`` along ``path`` and locate its transitions.

    Parameters
    ----------
    se : the model's state evolution (prior, p, Delta).
    path : 'gaussian' (diffusion / flow, parameter s >= 0), 'erasure' (autoregressive, theta in [0, 1]) or
        'signal' (the model itself at s = 0, parameter lam = 1/Delta).
    u_range : (u_lo, u_hi) within the path's domain; default: the whole erasure path, s in
        [0, max(3/Delta, 1.5 × the largest spinodal)] on the Gaussian path (beyond its last spinodal the
        fixed point is unique), lam in [0, max(3, 1.5 × largest spinodal)] on the signal path.
    n_points : size of the reporting grid (transitions are located exactly, not on the grid).
    refine : locate first-order points by Brent's method with exact quadrature (default).  ``False``
        interpolates the tabulated curve instead (first-order points to ~1e-6, ~50x faster), which is
        what phase-diagram grids use for their verdicts; spinodals are always refined.
    """
    if not isinstance(se, StateEvolution):
        raise TypeError(f"se must be an analysis.theory.state_evolution.StateEvolution, got {type(se).__name__}")
    path = as_path(path)
    n_points = check_int("n_points", n_points, minimum=2)
    if u_range is not None:
        if len(u_range) != 2:
            raise ValueError(f"u_range must be a pair (u_lo, u_hi), got {u_range!r}")
        lo = float(path.check_parameter(u_range[0]))
        hi = float(path.check_parameter(u_range[1]))
        if not lo < hi:
            raise ValueError(f"u_range must have u_lo < u_hi, got {u_range!r}")
        if not math.isfinite(hi):
            raise ValueError("u_range must be finite")
        curve = _Curve(se, path, hi, refine)
    else:
        curve = _Curve(se, path, path.upper if math.isfinite(path.upper) else 0.0, refine)
        lo, hi = path.lower, _default_u_hi(path, curve.spinodals, se)
        if 2.0 * (hi + 1.0 / se.Delta) + 10.0 > curve.xi[-1] and not math.isfinite(path.upper):
            curve = _Curve(se, path, hi, refine)
    u = np.linspace(lo, hi, n_points)
    stable = [p for p in curve.pieces if p.stable]

    # branches on the reporting grid
    ms = np.full((len(stable), n_points), np.nan)
    phis = np.full_like(ms, np.nan)
    for k, piece in enumerate(stable):
        _, ms[k], phis[k] = curve.solve(piece, u, exact=refine)
    m_unin, phi_unin, m_inf, phi_inf, m_bo, phi_bo = (np.full(n_points, np.nan) for _ in range(6))
    for j in range(n_points):
        ok = np.isfinite(ms[:, j])
        if not ok.any():
            continue
        ks = np.flatnonzero(ok)
        lo_k, hi_k = ks[np.argmin(ms[ks, j])], ks[np.argmax(ms[ks, j])]
        bo_k = ks[np.argmax(phis[ks, j])]
        m_unin[j], phi_unin[j] = ms[lo_k, j], phis[lo_k, j]
        m_inf[j], phi_inf[j] = ms[hi_k, j], phis[hi_k, j]
        m_bo[j], phi_bo[j] = ms[bo_k, j], phis[bo_k, j]

    spinodals = sorted((s for s in curve.spinodals if lo <= s.u <= hi), key=lambda s: s.u)
    first_order = _first_order_points(curve, stable, lo, hi)
    failures = _failure_intervals(curve, stable, lo, hi, spinodals, first_order)
    samples = {"g": curve.xi, "m": curve.m, "u": curve.u, "phi": curve.phi, "stable": curve.slope > 0}
    return PathReport(
        model=se.describe(), path=path.name, parameter=path.symbol, u_range=(lo, hi), u=u,
        m_uninformed=m_unin, m_informed=m_inf, m_bayes=m_bo, phi_uninformed=phi_unin, phi_informed=phi_inf,
        phi_bayes=phi_bo, spinodals=spinodals, first_order=first_order, failure_intervals=failures,
        pieces=curve.pieces, curve=samples,
    )


def _stable_at(curve: _Curve, stable: list[Piece], u: float) -> list[tuple[Piece, float, float]]:
    """(piece, m, phi) of every stable fixed point at scalar u."""
    out = []
    for piece in stable:
        if piece.u_lo <= u <= piece.u_hi:
            _, m, phi = curve.solve_scalar(piece, u)
            out.append((piece, m, phi))
    return out


def _first_order_points(curve: _Curve, stable: list[Piece], lo: float, hi: float) -> list[FirstOrderPoint]:
    points = []
    for i in range(len(stable)):
        for j in range(i + 1, len(stable)):
            a, b = stable[i], stable[j]
            u0, u1 = max(a.u_lo, b.u_lo, lo), min(a.u_hi, b.u_hi, hi)
            if not u0 < u1:
                continue
            grid = np.linspace(u0, u1, 257)
            _, _, pa = curve.solve(a, grid, exact=curve.refine)
            _, _, pb = curve.solve(b, grid, exact=curve.refine)
            d = pa - pb
            # sign changes between consecutive finite non-zero values (a difference that rounds to exactly 0
            # at a grid point, next to a tricritical point, must not hide the crossing)
            nz = np.flatnonzero(np.isfinite(d) & (d != 0))
            change = np.sign(d[nz[:-1]]) * np.sign(d[nz[1:]]) < 0
            found: list[float] = []
            for k, k2 in zip(nz[:-1][change], nz[1:][change], strict=True):
                def diff(t, a=a, b=b):
                    return curve.solve_scalar(a, t)[2] - curve.solve_scalar(b, t)[2]

                if curve.refine:
                    bracket = _exact_bracket(diff, grid, k, k2)
                    if bracket is None:
                        continue  # rounding noise of the tabulated potentials, no crossing in exact arithmetic
                    ustar = brentq(diff, *bracket, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
                    if any(abs(ustar - v) <= 1e-12 * max(1.0, abs(ustar)) for v in found):
                        continue  # the same crossing, reached from a neighbouring grid sign change
                    found.append(ustar)
                else:
                    ustar = grid[k] - d[k] * (grid[k2] - grid[k]) / (d[k2] - d[k])
                _, ma, fa = curve.solve_scalar(a, ustar)
                _, mb, fb = curve.solve_scalar(b, ustar)
                if abs(ma - mb) < 1e-6:
                    continue  # the branches touch: a continuous transition, not a jump
                # a jump of the global maximiser only if no third stable branch lies above both
                others = [phi for piece, _, phi in _stable_at(curve, stable, ustar) if piece not in (a, b)]
                if others and max(others) > max(fa, fb) + 1e-12:
                    continue
                res_fp = max(abs(float(curve.path.fixed_point_map(curve.se, mm, ustar)) - mm) for mm in (ma, mb))
                points.append(FirstOrderPoint(u=float(ustar), m_low=min(ma, mb), m_high=max(ma, mb),
                                              potential=0.5 * (fa + fb), residual_potential=abs(fa - fb),
                                              residual_fixed_point=res_fp))
    return sorted(points, key=lambda p: p.u)


def _exact_bracket(diff, grid: np.ndarray, k: int, k2: int, reach: int = 4) -> tuple[float, float] | None:
    """A bracket [grid[i], grid[i + 1]] near [grid[k], grid[k2]] where the exactly evaluated ``diff`` changes
    sign.

    The grid values of the potential difference come from polished interpolation, whose rounding near a
    spinodal (and in a coexistence window narrower than the table spacing, i.e. next to a tricritical
    point) can misplace the sign change by a grid step or two: the exact values are checked from k to k2
    and then outwards, up to ``reach`` steps on each side.  None when no sign change is found.
    """
    vals = {}

    def at(i):
        if i not in vals:
            vals[i] = diff(grid[i])
        return vals[i]

    n = len(grid)
    for j in range(reach + 1):
        lo, hi = max(k - j, 0), min(k2 + j, n - 1)
        for i in range(lo, hi):
            if np.sign(at(i)) * np.sign(at(i + 1)) < 0:
                return float(grid[i]), float(grid[i + 1])
            if at(i + 1) == 0.0 and at(i) != 0.0:
                return float(grid[i]), float(grid[i + 1])
    return None


def _failure_intervals(curve, stable, lo, hi, spinodals, first_order) -> list[tuple[float, float]]:
    """Intervals of u where the smallest stable fixed point is not the Bayes-optimal one."""
    breaks = sorted({lo, hi, *[s.u for s in spinodals], *[f.u for f in first_order],
                     *[p.u_lo for p in stable if lo < p.u_lo < hi], *[p.u_hi for p in stable if lo < p.u_hi < hi]})
    out: list[tuple[float, float]] = []
    for a, b in zip(breaks[:-1], breaks[1:], strict=True):
        if b - a <= 0:
            continue
        fps = _stable_at(curve, stable, 0.5 * (a + b))
        if len(fps) < 2:
            continue
        alg = min(fps, key=lambda t: t[1])
        bo = max(fps, key=lambda t: t[2])
        if alg[0] is not bo[0] and abs(alg[1] - bo[1]) > 1e-9:
            if out and abs(out[-1][1] - a) <= 1e-12 * max(1.0, abs(a)):
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
    return out


# ---------------------------------------------------------------------------------------------------------
# the model's own thresholds and the tricritical points
# ---------------------------------------------------------------------------------------------------------
@dataclass
class ModelThresholds:
    """Thresholds of a spiked model at s = 0, in lam = 1/Delta (and Delta, and T for p-spins).

    ``lam_dyn`` (where sp1, the (Delta, s) plane's lower spinodal, meets s = 0): the informed branch
    appears — the dynamical / MCMC threshold.  ``lam_IT``: the Bayes-optimal overlap jumps (or becomes
    non-zero, for a continuous transition).  ``lam_alg`` (where sp2, the upper spinodal, meets s = 0):
    the uninformed branch joins the informed one — AMP from an uninformed start succeeds above it (inf
    when it never does, e.g. p >= 3).  ``continuous`` is True when all three coincide (second-order
    transition).  lam_dyn <= lam_IT <= lam_alg.
    """

    prior: dict
    p: int
    lam_dyn: float
    lam_IT: float
    lam_alg: float
    continuous: bool

    @staticmethod
    def _inv(x: float) -> float:
        return 0.0 if x == math.inf else (math.inf if x == 0 else 1.0 / x)

    @property
    def Delta_dyn(self) -> float:
        return self._inv(self.lam_dyn)

    @property
    def Delta_IT(self) -> float:
        return self._inv(self.lam_IT)

    @property
    def Delta_alg(self) -> float:
        return self._inv(self.lam_alg)

    def temperature(self, Delta: float) -> float:
        """T = sqrt(p Delta / 2) (planted p-spin units)."""
        return math.sqrt(self.p * Delta / 2.0)

    def summary(self) -> dict:
        out = {"prior": self.prior, "p": self.p, "continuous": self.continuous}
        for name in ("dyn", "IT", "alg"):
            lam = getattr(self, f"lam_{name}")
            Delta = self._inv(lam)
            out.update({f"lam_{name}": lam, f"Delta_{name}": Delta, f"T_{name}": self.temperature(Delta)})
        return out


def model_thresholds(prior, p: int = 2, lam_max: float | None = None) -> ModelThresholds:
    """Thresholds of the spiked model (prior, p) along its signal axis at s = 0 (see ``ModelThresholds``).

    Computed from the signal-path report: the dynamical threshold is the lowest lam at which the informed
    (largest) stable fixed point exists apart from the uninformed one, the IT threshold the last jump of
    the Bayes-optimal branch, the algorithmic one the end of the last failure interval.
    """
    se = StateEvolution(prior, p, 1.0)
    rep = analyze_path(se, SIGNAL, None if lam_max is None else (0.0, float(lam_max)))
    lam_c = 1.0 / float(prior.dF(0.0)) if p == 2 else math.inf
    top = max((pc for pc in rep.pieces if pc.stable and not pc.trivial), key=lambda pc: pc.xi_hi)
    appears = [s for s in rep.spinodals if s.kind == "appears" and abs(s.xi - top.xi_lo) < 1e-12]
    lam_dyn = appears[0].u if appears else top.u_lo
    lam_IT = rep.first_order[-1].u if rep.first_order else lam_c
    if p == 2 and not rep.first_order and not appears:
        lam_dyn = lam_IT = lam_c
    lam_alg = rep.failure_intervals[-1][1] if rep.failure_intervals else lam_IT
    if p >= 3:
        lam_alg = math.inf  # m = 0 stays stable for every lam
    continuous = not rep.first_order
    return ModelThresholds(prior=prior.describe(), p=p, lam_dyn=float(lam_dyn), lam_IT=float(lam_IT),
                           lam_alg=float(lam_alg), continuous=continuous)


@dataclass
class TricriticalPoint:
    """Where the coexistence region of a path shrinks to a point: u(xi) has an inflection with zero slope.

    For Delta > ``Delta`` the path's fixed-point curve is monotone (no transition); ``u`` and ``m`` locate
    the point on the path.  ``Delta`` is the generative threshold in noise units when ``u`` lies in the
    path's domain (docs/physics.md §4).
    """

    path: str
    Delta: float
    u: float
    m: float

    @property
    def lam(self) -> float:
        return 1.0 / self.Delta


def tricritical_point(prior, p: int, path: Path | str, Delta_bracket: tuple[float, float] = (1e-4, 1e3),
                      tol: float = 1e-12) -> TricriticalPoint:
    """The largest Delta at which ``path``'s fixed-point curve is not monotone (bisection in log Delta on
    min_xi du/dxi < 0, the minimum found on the curve grid and refined by bounded Brent minimisation)."""
    from scipy.optimize import minimize_scalar

    path = as_path(path)
    if path is SIGNAL:
        raise ValueError("path must be 'gaussian' or 'erasure' for a tricritical point")
    check_real("tol", tol, minimum=0.0, strict_min=True)

    def min_slope(Delta: float) -> tuple[float, float]:
        se = StateEvolution(prior, p, Delta)
        xi, _, _, slope, _ = path.curve_grid(se)
        k = int(np.nanargmin(slope))
        a, b = xi[max(k - 1, 0)], xi[min(k + 1, len(xi) - 1)]
        if b <= a:
            return float(slope[k]), float(xi[k])
        r = minimize_scalar(lambda t: float(path.curve(se, t)[2]), bounds=(a, b), method="bounded",
                            options={"xatol": 1e-13})
        return (float(r.fun), float(r.x)) if r.fun < slope[k] else (float(slope[k]), float(xi[k]))

    lo, hi = (float(v) for v in Delta_bracket)
    if min_slope(lo)[0] >= 0:
        raise ValueError(f"the {path.name} curve is monotone already at Delta = {lo}: no tricritical point")
    if min_slope(hi)[0] < 0:
        raise ValueError(f"the {path.name} curve is still non-monotone at Delta = {hi}; widen Delta_bracket")
    while hi - lo > tol * hi:
        mid = math.sqrt(lo * hi)
        if min_slope(mid)[0] < 0:
            lo = mid
        else:
            hi = mid
    Delta = 0.5 * (lo + hi)
    se = StateEvolution(prior, p, Delta)
    _, x = min_slope(Delta)
    m, u, _, _ = path.curve(se, x)
    return TricriticalPoint(path=path.name, Delta=Delta, u=float(u), m=float(m))


__all__ = ["Piece", "Spinodal", "FirstOrderPoint", "PathReport", "analyze_path", "ModelThresholds",
           "model_thresholds", "TricriticalPoint", "tricritical_point"]
