r"""Planted k-NAE-SAT and q-colouring along the generative denoising paths: coexistence planes and
generative thresholds.

Population dynamics of ``analysis.theory.population_naesat`` (``naesat_*``) and
``analysis.theory.population_potts`` (``potts_*``: planted q-colouring / Potts at average degree c, which
takes the place of the clause density alpha below; the Gaussian channel acts on the one-hot colours, see
that module's "Side information") with side information on every variable (docs/physics.md §2, §4; Ghio,
Dandi, Krzakala & Zdeborová, PNAS 121 (2024), arXiv:2308.14085):

* ``path="gaussian"`` (diffusion = stochastic localisation, and flows, which visit the same denoising
  problems): a Gaussian channel y_i = gamma x*_i + sqrt(gamma) z_i at SNR u = gamma, i.e. the node
  factor e^{h x} with h = gamma + sqrt(gamma) z in the planted gauge;
* ``path="erasure"`` (autoregressive sampling = decimation in a random order): a fraction u = theta of
  the variables is revealed (message = the planted value).

The lens' criterion (docs/physics.md §4), at each clause density alpha and path value u, runs the population
from the **informed** start (every member on the planted value) and from the **uninformed** start
(uniform messages plus the kernel's small noise; the side information then drives it) and compares the
mean overlaps m_inf(alpha, u) and m_unf(alpha, u) reached after ``sweeps`` sweeps.  Where
m_inf - m_unf > ``overlap_gap`` two branches coexist.  At fixed alpha:

* sp1 = the lower edge (in u) of the coexistence window: below it the informed start falls onto the
  low-overlap branch, i.e. the informed branch appears at sp1 (NaN when the window already starts at
  the first grid value, e.g. for alpha > alpha_d where the informed branch exists at u = 0);
* sp2 = the upper edge: the uninformed branch jumps onto the informed one (NaN when the window reaches
  the last grid value);
* IT = the first-order line inside the window where the two Bethe free entropies are equal
  (Delta Phi_inf = Delta Phi_unf, linear interpolation of the difference between grid values; NaN when
  the difference does not change sign between grid values inside the window, e.g. for alpha > alpha_c
  where the informed branch dominates already at u = 0, or when the crossing lies between the window's
  last grid value and sp2, unresolved by the grid).  The Bethe free entropy with side information is described in
  ``analysis.theory.population_naesat`` ("Side information") and checked there against BP on large graphs.

Each edge is the midpoint between the last grid value on one side and the first on the other, so its
resolution is half the grid spacing.  The three lines meet at the tricritical point; its density
alpha_tri is the **generative threshold**: for alpha > alpha_tri the path crosses a first-order
transition and the Bayes-optimal diffusion / autoregressive sampler is predicted to fail.
``naesat_generative_threshold`` locates it by bisection on "some u > 0 of the grid (refined around the
steepest rise of the uninformed overlap) shows coexistence".

Biases (both are reported in the docstrings of the results): the gap criterion misses a window whose
overlap jump is below ``overlap_gap`` or narrower than the (refined) grid spacing, which moves alpha_tri
up; finite ``sweeps`` near a spinodal, where relaxation is slow, leave the two starts apart although
only one branch exists, which moves it down.  Finite populations add noise of order 1/sqrt(population)
to each overlap.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from spinglass._validate import SeedLike, check_int, check_real, make_rng, seed_repr

from .population_core import check_beta
from .population_naesat import check_k, naesat_kesten_stigum, naesat_population_pair
from .population_potts import potts_kesten_stigum, potts_population_pair

_PATHS = ("gaussian", "erasure")
_FAMILIES = ("naesat", "potts")
_LABELS = {"gaussian": r"$\gamma$ (SNR)", "erasure": r"$\theta$ (revealed fraction)"}


def _check_path(path) -> str:
    if path not in _PATHS:
        raise ValueError(f"path must be one of {_PATHS}, got {path!r}")
    return path


def _check_grid(path: str, grid) -> np.ndarray:
    g = np.asarray(grid, dtype=float).ravel()
    top = 1.0 if path == "erasure" else math.inf
    if g.size == 0 or np.any(~np.isfinite(g)) or np.any(g < 0) or np.any(g > top):
        where = "[0, 1]" if path == "erasure" else "[0, inf)"
        raise ValueError(f"grid must be a non-empty array of finite values in {where}, got {grid!r}")
    if np.any(np.diff(g) <= 0):
        raise ValueError("grid must be strictly increasing")
    return g


def default_grid(path: str) -> np.ndarray:
    """Default path values: gamma in 0.05..1.5 (Gaussian), theta in 0.02..0.5 (erasure), 15 points each."""
    path = _check_path(path)
    return np.linspace(0.05, 1.5, 15) if path == "gaussian" else np.linspace(0.02, 0.5, 15)


def _side(path: str, u: float) -> dict:
    return {"side_snr": u} if path == "gaussian" else {"revealed_fraction": u}


@dataclass
class PathPoint:
    """Both starts at one (alpha, u): mean overlaps, their errors and Delta Phi (free entropy minus the
    reference of ``naesat_reference_free_entropy``, the same for both starts)."""

    alpha: float
    u: float
    overlap_informed: float
    overlap_uninformed: float
    overlap_err_informed: float
    overlap_err_uninformed: float
    dphi_informed: float
    dphi_uninformed: float
    dphi_err_informed: float
    dphi_err_uninformed: float

    @property
    def gap(self) -> float:
        return self.overlap_informed - self.overlap_uninformed

    def row(self) -> dict:
        return {"alpha": self.alpha, "u": self.u, "overlap_informed": self.overlap_informed,
                "overlap_uninformed": self.overlap_uninformed, "overlap_err_informed": self.overlap_err_informed,
                "overlap_err_uninformed": self.overlap_err_uninformed, "dphi_informed": self.dphi_informed,
                "dphi_uninformed": self.dphi_uninformed, "dphi_err_informed": self.dphi_err_informed,
                "dphi_err_uninformed": self.dphi_err_uninformed}


def _point(family: str, size: int, density: float, path: str, u: float, beta: float, population: int,
           sweeps: int, measure: int, seed: SeedLike) -> PathPoint:
    pair = naesat_population_pair if family == "naesat" else potts_population_pair
    i, n = pair(size, density, beta, population=population, sweeps=sweeps, measure=measure, seed=seed,
                **_side(path, u))
    return PathPoint(float(density), float(u), i.overlap, n.overlap, i.overlap_err, n.overlap_err,
                     i.delta_free_entropy, n.delta_free_entropy, i.delta_free_entropy_err,
                     n.delta_free_entropy_err)


def naesat_path_point(k: int, alpha: float, path: str, u: float, *, beta: float = math.inf,
                      population: int = 5000, sweeps: int = 200, measure: int = 50,
                      seed: SeedLike = None) -> PathPoint:
    """Run the informed and the uninformed start at (alpha, u) with ``naesat_population_pair`` (the two
    starts share the random environment, so that they agree to rounding wherever one branch exists)."""
    return _point("naesat", k, alpha, _check_path(path), u, beta, population, sweeps, measure, seed)


def potts_path_point(q: int, c: float, path: str, u: float, *, beta: float = math.inf,
                     population: int = 5000, sweeps: int = 200, measure: int = 50,
                     seed: SeedLike = None) -> PathPoint:
    """Planted q-colouring at average degree c: both starts at (c, u) with ``potts_population_pair``.  The
    returned ``PathPoint.alpha`` holds c (the density axis of the plane)."""
    return _point("potts", q, c, _check_path(path), u, beta, population, sweeps, measure, seed)


def _lines(u: np.ndarray, gap: np.ndarray, ddphi: np.ndarray, overlap_gap: float) -> tuple[float, float, float]:
    """(sp1, sp2, IT) at one alpha from the path values u (increasing), the overlap gaps and the
    free-entropy differences Delta Phi_inf - Delta Phi_unf (module docstring)."""
    co = np.flatnonzero(gap > overlap_gap)
    if co.size == 0:
        return math.nan, math.nan, math.nan
    a, b = int(co[0]), int(co[-1])
    sp1 = math.nan if a == 0 else 0.5 * (u[a - 1] + u[a])
    sp2 = math.nan if b == u.size - 1 else 0.5 * (u[b] + u[b + 1])
    it = math.nan
    for j in range(a, b):
        d0, d1 = ddphi[j], ddphi[j + 1]
        if d0 < 0.0 <= d1:
            it = float(u[j] + (u[j + 1] - u[j]) * (-d0) / (d1 - d0))
            break
    return float(sp1), float(sp2), it


@dataclass
class PathPlane:
    """Coexistence of the informed and uninformed branches in the (alpha, u) plane of one path.

    Attributes
    ----------
    k, path : clause size k (NAE-SAT) or number of colours q (Potts), and "gaussian" (u = gamma) or
        "erasure" (u = theta).
    alpha (A,), grid (G,) : the densities (clause density alpha, or average degree c for Potts) and the
        path values.
    overlap_informed, overlap_uninformed, *_err (A, G) : mean overlaps of the two starts.
    dphi_informed, dphi_uninformed, *_err (A, G) : Delta Phi of the two starts (same reference).
    sp1, sp2, it (A,) : the lines of the module docstring (NaN where absent or outside the grid).
    overlap_gap : the coexistence criterion m_inf - m_unf > overlap_gap.
    tricritical : rough estimate (alpha, u) from the grid: the smallest alpha of the plane with a
        coexistence window, and the window's middle (NaN if none); ``naesat_generative_threshold`` refines.
    params, seconds : run settings and wall time.
    family : "naesat" or "potts".
    """

    k: int
    path: str
    alpha: np.ndarray
    grid: np.ndarray
    overlap_informed: np.ndarray
    overlap_uninformed: np.ndarray
    overlap_err_informed: np.ndarray
    overlap_err_uninformed: np.ndarray
    dphi_informed: np.ndarray
    dphi_uninformed: np.ndarray
    dphi_err_informed: np.ndarray
    dphi_err_uninformed: np.ndarray
    sp1: np.ndarray
    sp2: np.ndarray
    it: np.ndarray
    overlap_gap: float
    tricritical: tuple[float, float]
    params: dict = field(default_factory=dict)
    seconds: float = 0.0
    family: str = "naesat"

    @property
    def coexistence(self) -> np.ndarray:
        """(A, G) boolean: the two starts differ by more than ``overlap_gap``."""
        return (self.overlap_informed - self.overlap_uninformed) > self.overlap_gap

    def to_rows(self) -> list[dict]:
        rows = []
        for i, a in enumerate(self.alpha):
            for j, u in enumerate(self.grid):
                rows.append({"alpha": float(a), "u": float(u),
                             "overlap_informed": float(self.overlap_informed[i, j]),
                             "overlap_uninformed": float(self.overlap_uninformed[i, j]),
                             "dphi_informed": float(self.dphi_informed[i, j]),
                             "dphi_uninformed": float(self.dphi_uninformed[i, j]),
                             "coexistence": bool(self.coexistence[i, j])})
        return rows

    def plot(self, ax=None):
        """sp1, sp2, IT lines and the tricritical estimate in the (alpha, u) plane, coexistence cells shaded."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4))
        A, U = np.meshgrid(self.alpha, self.grid, indexing="ij")
        co = self.coexistence
        ax.scatter(A[co], U[co], s=12, color="tab:orange", alpha=0.5, label="coexistence")
        ax.plot(self.alpha, self.sp1, "g--", label="sp1 (informed branch appears)")
        ax.plot(self.alpha, self.sp2, "b--", label="sp2 (uninformed branch vanishes)")
        ax.plot(self.alpha, self.it, "k-", label="IT (first order)")
        if np.all(np.isfinite(self.tricritical)):
            ax.plot(*self.tricritical, "ro", label="tricritical (grid)")
        ax.set_xlabel(r"$\alpha$" if self.family == "naesat" else "$c$ (average degree)")
        ax.set_ylabel(_LABELS[self.path])
        what = f"{self.k}-NAE-SAT" if self.family == "naesat" else f"{self.k}-colouring"
        ax.set_title(f"planted {what}, {self.path} path")
        ax.legend(fontsize=8)
        return ax


def _check_common(k, path, beta, population, sweeps, measure, overlap_gap, family="naesat"):
    k = check_k(k) if family == "naesat" else check_int("q", k, minimum=2)
    path = _check_path(path)
    beta = check_beta(beta)
    population = check_int("population", population, minimum=10)
    sweeps = check_int("sweeps", sweeps, minimum=1)
    measure = check_int("measure", measure, minimum=1, maximum=sweeps)
    overlap_gap = check_real("overlap_gap", overlap_gap, minimum=0.0, maximum=2.0, strict_min=True)
    return k, path, beta, population, sweeps, measure, overlap_gap


def naesat_path_plane(k: int, alphas, path: str, grid=None, *, beta: float = math.inf, population: int = 5000,
                      sweeps: int = 200, measure: int = 50, overlap_gap: float = 0.05,
                      seed: SeedLike = None) -> PathPlane:
    r"""Informed / uninformed overlaps and free entropies on alphas × grid, and the sp1, sp2, IT lines.

    ``path`` is "gaussian" (grid of gamma >= 0) or "erasure" (grid of theta in [0, 1]); ``grid`` defaults to
    ``default_grid(path)``.  Every cell is two fresh ``naesat_population_dynamics`` runs (2 · population ·
    sweeps member updates, about 2.5 µs each at k = 5, alpha ≈ 9 on one core).  See the module docstring
    for the definitions and biases.
    """
    return _plane("naesat", k, alphas, "alphas", path, grid, beta, population, sweeps, measure, overlap_gap, seed)


def potts_path_plane(q: int, cs, path: str, grid=None, *, beta: float = math.inf, population: int = 5000,
                     sweeps: int = 200, measure: int = 50, overlap_gap: float = 0.05,
                     seed: SeedLike = None) -> PathPlane:
    r"""``naesat_path_plane`` for planted q-colouring / Potts at the average degrees ``cs`` (the plane's
    ``alpha`` axis holds c, its ``k`` holds q; ``family`` is "potts").  Every cell is two
    ``potts_population_dynamics`` runs sharing their random environment."""
    return _plane("potts", q, cs, "cs", path, grid, beta, population, sweeps, measure, overlap_gap, seed)


def _plane(family, k, alphas, alphas_name, path, grid, beta, population, sweeps, measure, overlap_gap,
           seed) -> PathPlane:
    k, path, beta, population, sweeps, measure, overlap_gap = _check_common(k, path, beta, population, sweeps,
                                                                            measure, overlap_gap, family)
    alphas = np.asarray(alphas, dtype=float).ravel()
    if alphas.size == 0 or np.any(~np.isfinite(alphas)) or np.any(alphas < 0):
        raise ValueError(f"{alphas_name} must be a non-empty array of finite values >= 0, got {alphas!r}")
    u = _check_grid(path, default_grid(path) if grid is None else grid)
    rng = make_rng(seed)
    t0 = time.perf_counter()
    shape = (alphas.size, u.size)
    arrays = {name: np.empty(shape) for name in (
        "overlap_informed", "overlap_uninformed", "overlap_err_informed", "overlap_err_uninformed",
        "dphi_informed", "dphi_uninformed", "dphi_err_informed", "dphi_err_uninformed")}
    sp1, sp2, it = (np.full(alphas.size, np.nan) for _ in range(3))
    tri = (math.nan, math.nan)
    for i, a in enumerate(alphas):
        for j, uj in enumerate(u):
            pt = _point(family, k, float(a), path, float(uj), beta, population, sweeps, measure,
                        int(rng.integers(0, 2**63 - 1)))
            for name in arrays:
                arrays[name][i, j] = getattr(pt, name)
        gap = arrays["overlap_informed"][i] - arrays["overlap_uninformed"][i]
        ddphi = arrays["dphi_informed"][i] - arrays["dphi_uninformed"][i]
        sp1[i], sp2[i], it[i] = _lines(u, gap, ddphi, overlap_gap)
    co = (arrays["overlap_informed"] - arrays["overlap_uninformed"]) > overlap_gap
    rows = np.flatnonzero(co.any(axis=1))
    if rows.size:
        i = int(rows[np.argmin(alphas[rows])])
        js = np.flatnonzero(co[i])
        tri = (float(alphas[i]), float(0.5 * (u[js[0]] + u[js[-1]])))
    params = {"beta": beta, "population": population, "sweeps": sweeps, "measure": measure,
              "seed": seed_repr(seed)}
    return PathPlane(k=k, path=path, alpha=alphas, grid=u, sp1=sp1, sp2=sp2, it=it, overlap_gap=overlap_gap,
                     tricritical=tri, params=params, seconds=time.perf_counter() - t0, family=family, **arrays)


@dataclass
class GenerativeThresholdResult:
    """Tricritical density of one path: the generative threshold (module docstring).

    Attributes
    ----------
    k, path, family : as in ``PathPlane`` (for Potts, k is q and alpha is the average degree c).
    alpha, alpha_err : midpoint and half-width of the final bisection bracket [lo, hi]: no coexistence
        at lo, coexistence at hi (NaN, NaN when ``found`` is False).
    found : False when no coexistence was seen even at the upper end of ``alpha_range``.
    window : (u_low, u_high) of the coexistence window seen at hi (the grid values with coexistence):
        the tricritical path value lies close to it.
    rows : ``PathPoint.row()`` of every (alpha, u) evaluated, with ``"coexistence"`` added.
    params, seconds : settings and wall time.
    """

    k: int
    path: str
    alpha: float
    alpha_err: float
    found: bool
    window: tuple[float, float]
    rows: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    seconds: float = 0.0
    family: str = "naesat"


def naesat_generative_threshold(k: int, path: str, *, alpha_range: tuple[float, float] | None = None,
                                grid=None, tol: float = 0.05, beta: float = math.inf, population: int = 5000,
                                sweeps: int = 200, measure: int = 50, overlap_gap: float = 0.05,
                                refine: int = 2, n_refine: int = 3,
                                seed: SeedLike = None) -> GenerativeThresholdResult:
    r"""Smallest alpha at which the informed and uninformed starts differ by more than ``overlap_gap`` at some
    path value u > 0 (the tricritical density, the generative threshold of ``path``), by bisection to
    width ``tol``.

    At each alpha the grid values u > 0 of ``grid`` (default ``default_grid(path)``) are evaluated; when none
    shows coexistence, the interval between consecutive grid values where the uninformed overlap rises most
    is subdivided by ``n_refine`` new points, ``refine`` times (near the tricritical point the window is
    narrow and sits at the steepest rise).  ``alpha_range`` = (lo, hi), default (0.5, 0.995) · alpha_KS;
    lo must show no coexistence (else ``ValueError``); if hi shows none, ``found`` is False (e.g. a
    continuous transition, where no first-order line meets the path).
    """
    return _threshold("naesat", k, path, alpha_range, "alpha_range", grid, tol, beta, population, sweeps,
                      measure, overlap_gap, refine, n_refine, seed)


def potts_generative_threshold(q: int, path: str, *, c_range: tuple[float, float] | None = None,
                               grid=None, tol: float = 0.05, beta: float = math.inf, population: int = 5000,
                               sweeps: int = 200, measure: int = 50, overlap_gap: float = 0.05,
                               refine: int = 2, n_refine: int = 3,
                               seed: SeedLike = None) -> GenerativeThresholdResult:
    r"""``naesat_generative_threshold`` for planted q-colouring / Potts: the smallest average degree c at which
    the two starts coexist at some path value u > 0, by bisection in ``c_range`` (default (0.5, 0.995) ·
    c_KS, c_KS = ((q - 1 + e^{-beta}) / (1 - e^{-beta}))^2).  The result's ``alpha`` holds c.
    For q = 3 colouring the transition at u = 0 is continuous (c_d = c_c = c_KS = 4) and ``found`` may be
    False."""
    return _threshold("potts", q, path, c_range, "c_range", grid, tol, beta, population, sweeps, measure,
                      overlap_gap, refine, n_refine, seed)


def _threshold(family, k, path, alpha_range, range_name, grid, tol, beta, population, sweeps, measure,
               overlap_gap, refine, n_refine, seed) -> GenerativeThresholdResult:
    k, path, beta, population, sweeps, measure, overlap_gap = _check_common(k, path, beta, population, sweeps,
                                                                            measure, overlap_gap, family)
    tol = check_real("tol", tol, minimum=0.0, strict_min=True)
    refine = check_int("refine", refine, minimum=0)
    n_refine = check_int("n_refine", n_refine, minimum=1)
    u0 = _check_grid(path, default_grid(path) if grid is None else grid)
    u0 = u0[u0 > 0]
    if u0.size == 0:
        raise ValueError("grid must contain values > 0")
    ks = naesat_kesten_stigum(k, beta) if family == "naesat" else potts_kesten_stigum(k, beta)
    if alpha_range is None:
        if not math.isfinite(ks):
            raise ValueError(f"beta = 0 carries no information: give {range_name}")
        lo, hi = 0.5 * ks, 0.995 * ks
    else:
        lo, hi = float(alpha_range[0]), float(alpha_range[1])
        check_real(f"{range_name}[0]", lo, minimum=0.0)
        if not hi > lo:
            raise ValueError(f"{range_name} must be (lo, hi) with hi > lo, got {alpha_range}")
    rng = make_rng(seed)
    t0 = time.perf_counter()
    rows: list[dict] = []

    def point(a: float, u: float) -> PathPoint:
        pt = _point(family, k, a, path, u, beta, population, sweeps, measure, int(rng.integers(0, 2**63 - 1)))
        rows.append(dict(pt.row(), coexistence=bool(pt.gap > overlap_gap)))
        return pt

    def coexists(a: float) -> tuple[bool, tuple[float, float]]:
        pts = [point(a, float(u)) for u in u0]
        for level in range(refine + 1):
            hits = [p.u for p in pts if p.gap > overlap_gap]
            if hits:
                return True, (min(hits), max(hits))
            if level == refine or len(pts) < 2:
                break
            # subdivide the interval where the uninformed overlap rises most
            rise = np.diff([p.overlap_uninformed for p in pts])
            j = int(np.argmax(rise))
            new = np.linspace(pts[j].u, pts[j + 1].u, n_refine + 2)[1:-1]
            pts = sorted(pts + [point(a, float(u)) for u in new], key=lambda p: p.u)
        return False, (math.nan, math.nan)

    params = {"beta": beta, "population": population, "sweeps": sweeps, "measure": measure, "tol": tol,
              "overlap_gap": overlap_gap, "refine": refine, "n_refine": n_refine, range_name: (lo, hi),
              "grid": u0.tolist(), "seed": seed_repr(seed)}
    found_hi, window = coexists(hi)
    if not found_hi:
        return GenerativeThresholdResult(k, path, math.nan, math.nan, False, (math.nan, math.nan), rows, params,
                                         time.perf_counter() - t0, family)
    if coexists(lo)[0]:
        what = "alpha" if family == "naesat" else "c"
        raise ValueError(f"the two starts already differ at the lower end {what} = {lo:g}; lower {range_name}")
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        hit, win = coexists(mid)
        if hit:
            hi, window = mid, win
        else:
            lo = mid
    return GenerativeThresholdResult(k, path, 0.5 * (lo + hi), 0.5 * (hi - lo), True, window, rows, params,
                                     time.perf_counter() - t0, family)


__all__ = ["GenerativeThresholdResult", "PathPlane", "PathPoint", "default_grid", "naesat_generative_threshold",
           "naesat_path_plane", "naesat_path_point", "potts_generative_threshold", "potts_path_plane",
           "potts_path_point"]
