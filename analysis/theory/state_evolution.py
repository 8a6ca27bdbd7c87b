r"""State evolution of Bayes-optimal AMP for spiked Wigner / spiked tensor models along denoising paths.

Conventions (docs/physics.md §1, §4).  A ``StateEvolution`` describes the large-N limit of the posterior of
a rank-one spiked model of order p (p = 2: spiked Wigner with Delta = 1/lam; p >= 3: spiked tensor /
planted p-spin, Delta = 2 T^2 / p) with a scalar prior p0 of unit second moment.  The prior sees the
scalar Gaussian channel at SNR

    snr(m) = m^(p-1) / Delta,

where m = E[x f] / 1 is the overlap (= the MMSE complement, by Nishimori).  Along a denoising path with
parameter u the state-evolution (SE) map T_u and its fixed points are

    Gaussian path (diffusion / flows), side SNR u = s >= 0:        m = F(snr(m) + s)
    erasure path (autoregressive), revealed fraction u = theta:    m = theta + (1 - theta) F(snr(m))
    signal path (the model itself, s = 0), u = lam = 1 / Delta:     m = F(lam m^(p-1))

with F the prior's overlap function.  Every map is increasing in m and in u, so iteration from m = 0+
converges to the smallest fixed point (the *uninformed* / algorithmic branch) and iteration from m = 1 to
the largest (the *informed* branch).

Fixed-point curves in closed form.  Each path writes its whole fixed-point set as an explicit curve
g -> (m(g), u(g)) in the scalar-channel SNR g seen by the prior at the fixed point:

    Gaussian:  m = F(g),                 s = g - snr(m)
    signal:    m = F(g),                 lam = g / m^(p-1)
    erasure:   m = (Delta g)^(1/(p-1)),  theta = (m - F(g)) / (1 - F(g)),   0 <= g <= 1/Delta

so no fixed point is ever missed by an iteration that converges to one branch only.  A fixed point is
stable under the SE map iff du/dg > 0 (dm/dg > 0 on every curve), spinodals are the interior
extrema of u(g) (``analysis.theory.transitions``).  The centred priors also have the trivial fixed point m = 0
on the signal path for every lam (stable iff lam F'(0) < 1 for p = 2, always for p >= 3).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from spinglass._validate import check_int, check_real
from spinglass.priors import Prior

from . import free_entropy


@dataclass(frozen=True)
class StateEvolution:
    """Large-N limit of a rank-one spiked model: prior p0, tensor order p, noise variance Delta.

    ``snr(m) = m^(p-1) / Delta`` is the SNR the prior sees at overlap m (docs/physics.md §4).
    """

    prior: Prior
    p: int = 2
    Delta: float = 1.0

    def __post_init__(self):
        if not isinstance(self.prior, Prior):
            raise TypeError(f"prior must be a spinglass.priors.Prior, got {type(self.prior).__name__}")
        object.__setattr__(self, "p", check_int("p", self.p, minimum=2))
        object.__setattr__(self, "Delta", check_real("Delta", self.Delta, minimum=0.0, strict_min=True))

    # -- constructors -------------------------------------------------------------------------------------
    @classmethod
    def wigner(cls, prior: Prior, lam: float) -> StateEvolution:
        """Spiked Wigner at SNR lam (Delta = 1/lam)."""
        lam = check_real("lam", lam, minimum=0.0, strict_min=True)
        return cls(prior, 2, 1.0 / lam)

    @classmethod
    def tensor_at_temperature(cls, prior: Prior, p: int, T: float) -> StateEvolution:
        """Planted p-spin at temperature T: Delta = 2 T^2 / p."""
        T = check_real("T", T, minimum=0.0, strict_min=True)
        p = check_int("p", p, minimum=2)
        return cls(prior, p, 2.0 * T**2 / p)

    @classmethod
    def from_model(cls, model) -> StateEvolution:
        """The SE of a ``SpikedWigner`` or ``SpikedTensor`` instance."""
        from spinglass.spiked import SpikedTensor, SpikedWigner

        if isinstance(model, SpikedWigner):
            return cls.wigner(model.prior, model.lam)
        if isinstance(model, SpikedTensor):
            return cls(model.prior, model.p, model.Delta)
        raise TypeError(f"model must be a SpikedWigner or SpikedTensor, got {type(model).__name__}")

    # -- scalar quantities ----------------------------------------------------------------------------------
    @property
    def lam(self) -> float:
        """Signal strength 1/Delta."""
        return 1.0 / self.Delta

    @property
    def temperature(self) -> float:
        """Planted p-spin temperature T = sqrt(p Delta / 2)."""
        return math.sqrt(self.p * self.Delta / 2.0)

    def snr(self, m):
        """snr(m) = m^(p-1) / Delta (m >= 0)."""
        return np.power(np.maximum(np.asarray(m, dtype=float), 0.0), self.p - 1) / self.Delta

    def dsnr(self, m):
        """d snr / d m = (p-1) m^(p-2) / Delta."""
        m = np.maximum(np.asarray(m, dtype=float), 0.0)
        return (self.p - 1) * np.power(m, self.p - 2) / self.Delta

    def with_Delta(self, Delta: float) -> StateEvolution:
        return StateEvolution(self.prior, self.p, Delta)

    def describe(self) -> dict:
        return {"prior": self.prior.describe(), "p": self.p, "Delta": self.Delta, "lam": self.lam,
                "T": self.temperature}

    # -- iteration ------------------------------------------------------------------------------------------
    def iterate(self, path: Path | str, u, m0=1e-6, *, damping: float = 0.0, tol: float = 1e-13,
                max_iter: int = 100_000) -> IterationResult:
        """Iterate m <- (1-damping) T_u(m) + damping m from ``m0``, vectorised over ``u`` (and ``m0``).

        This is the plain SE iteration (the iteration AMP follows); ``analysis.theory.transitions`` finds all
        branches from the closed-form fixed-point curves instead.  Near a spinodal the iteration slows down
        (critical slowing down): rows that miss ``tol`` within ``max_iter`` have ``converged`` False.
        """
        path = as_path(path)
        damping = check_real("damping", damping, minimum=0.0, maximum=1.0)
        if damping == 1.0:
            raise ValueError("damping must be < 1")
        max_iter = check_int("max_iter", max_iter, minimum=1)
        u = path.check_parameter(u)
        m = np.broadcast_to(np.asarray(m0, dtype=float), np.broadcast(u, np.asarray(m0)).shape).copy()
        u = np.broadcast_to(u, m.shape)
        converged = np.zeros(m.shape, dtype=bool)
        iterations = np.zeros(m.shape, dtype=np.int64)
        for k in range(1, max_iter + 1):
            active = ~converged
            if not active.any():
                break
            new = path.fixed_point_map(self, m[active], u[active])
            new = (1.0 - damping) * new + damping * m[active]
            done = np.abs(new - m[active]) <= tol
            m[active] = new
            idx = np.flatnonzero(active.ravel())
            converged.ravel()[idx[done]] = True
            iterations.ravel()[idx] = k
        return IterationResult(m=m, converged=converged, iterations=iterations)


@dataclass
class IterationResult:
    """Result of plain SE iteration: final overlaps, whether each met the tolerance, iterations used."""

    m: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray


class Path(ABC):
    """A one-parameter family of denoising problems and its SE fixed-point curve (module docstring).

    Every path parameterises its fixed-point curve by the scalar SNR g seen by the prior: the curve's
    m, u, du/dg and potential are algebraic in (g, F(g), F'(g), psi(g)), so one table of the prior's
    F, F', psi on a g-grid (``prior_table``, cached) serves every Delta.
    """

    #: short name and the symbol of the path parameter
    name: str = ""
    symbol: str = "u"
    #: allowed parameter range
    lower: float = 0.0
    upper: float = math.inf

    def check_parameter(self, u) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        if np.any(np.isnan(u)) or np.any(u < self.lower) or np.any(u > self.upper):
            raise ValueError(f"{self.symbol} must lie in [{self.lower}, {self.upper}] for the {self.name} path, "
                             f"got values in [{np.nanmin(u) if u.size else 'empty'}, "
                             f"{np.nanmax(u) if u.size else 'empty'}]")
        return u

    @abstractmethod
    def fixed_point_map(self, se: StateEvolution, m, u) -> np.ndarray:
        """The SE map T_u(m)."""

    @abstractmethod
    def map_slope(self, se: StateEvolution, m, u) -> np.ndarray:
        """d T_u / d m (a fixed point is stable iff the slope is < 1)."""

    @abstractmethod
    def potential(self, se: StateEvolution, m, u) -> np.ndarray:
        """The replica-symmetric potential Phi(m; u), whose stationary points are the fixed points."""

    @abstractmethod
    def curve_from(self, se: StateEvolution, g, F, dF, psi) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(m, u, du/dg, Phi) on the fixed-point curve at scalar SNR g, given the prior's F, F', psi at g."""

    def g_max(self, se: StateEvolution) -> float:
        """Largest g on the curve (inf when unbounded)."""
        return math.inf

    def curve(self, se: StateEvolution, g) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(m, u, du/dg, Phi) at ``g`` with the prior's functions evaluated exactly (quadrature)."""
        g = np.asarray(g, dtype=float)
        return self.curve_from(se, g, *se.prior.moments(g))

    def curve_grid(self, se: StateEvolution, g_needed: float = 0.0) -> tuple[np.ndarray, ...]:
        """(g, m, u, du/dg, Phi) on a g-grid covering the curve, from the cached prior table."""
        gm = self.g_max(se)
        g, F, dF, psi = prior_table(se.prior, gm if math.isfinite(gm) else g_needed)
        keep = g <= gm
        g, F, dF, psi = g[keep], F[keep], dF[keep], psi[keep]
        if math.isfinite(gm) and (g.size == 0 or g[-1] < gm):
            g = np.append(g, gm)
            F, dF, psi = (np.append(a, float(v)) for a, v in zip((F, dF, psi), se.prior.moments(gm), strict=True))
        return (g, *self.curve_from(se, g, F, dF, psi))

    def trivial_branch(self, se: StateEvolution) -> bool:
        """Whether m = 0 is a fixed point for every u off the curve (signal path, centred prior)."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


_TABLE_CACHE: dict = {}


def prior_table(prior: Prior, g_needed: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """g-grid (fine near 0, up to max(3000, g_needed)) with F(g), F'(g), psi(g) of ``prior`` (cached)."""
    key = (repr(sorted(prior.describe().items())), type(prior).__name__)
    hit = _TABLE_CACHE.get(key)
    if hit is None or hit[0][-1] < g_needed:
        top = max(3e3, 1.5 * g_needed) if math.isfinite(g_needed) else 3e3
        g = np.unique(np.concatenate([[0.0], np.geomspace(1e-9, 1e-2, 250), np.linspace(1e-2, 30.0, 3000),
                                      np.geomspace(30.0, top, 400)]))
        hit = (g, *prior.moments(g))
        for a in hit:
            a.flags.writeable = False
        if len(_TABLE_CACHE) > 64:
            _TABLE_CACHE.clear()
        _TABLE_CACHE[key] = hit
    return hit


class GaussianPath(Path):
    """Diffusion / stochastic-localisation / flow path: side Gaussian channel at SNR s (docs/physics.md §2).

    Curve: m = F(g), s = g - snr(m); ds/dg = 1 - snr'(m) F'(g).
    """

    name = "gaussian"
    symbol = "s"

    def fixed_point_map(self, se, m, u):
        return se.prior.F(se.snr(m) + u)

    def map_slope(self, se, m, u):
        return se.prior.dF(se.snr(m) + u) * se.dsnr(m)

    def potential(self, se, m, u):
        return free_entropy.gaussian_path_potential(se.prior, se.p, se.Delta, m, u)

    def curve_from(self, se, g, F, dF, psi):
        m = F
        return m, g - se.snr(m), 1.0 - se.dsnr(m) * dF, psi - (se.p - 1) * np.power(m, se.p) / (2 * se.p * se.Delta)


class ErasurePath(Path):
    """Autoregressive / decimation path: a fraction theta of the variables revealed (docs/physics.md §2).

    Curve in g = snr(m): m = (Delta g)^(1/(p-1)), theta = (m - F(g)) / (1 - F(g)), g in [0, 1/Delta];
    d theta / d g has the sign of 1 - (1-theta) F'(g) snr'(m), i.e. of 1 - (map slope).
    """

    name = "erasure"
    symbol = "theta"
    upper = 1.0

    def fixed_point_map(self, se, m, u):
        u = np.asarray(u, dtype=float)
        return u + (1.0 - u) * se.prior.F(se.snr(m))

    def map_slope(self, se, m, u):
        return (1.0 - np.asarray(u, dtype=float)) * se.prior.dF(se.snr(m)) * se.dsnr(m)

    def potential(self, se, m, u):
        return free_entropy.erasure_path_potential(se.prior, se.p, se.Delta, m, u)

    def g_max(self, se):
        return 1.0 / se.Delta

    def curve_from(self, se, g, F, dF, psi):
        g = np.asarray(g, dtype=float)
        m = np.minimum(np.power(se.Delta * g, 1.0 / (se.p - 1)), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            one_minus = 1.0 - F
            theta = np.where(one_minus > 0, (m - F) / one_minus, 1.0)
            dm_dg = np.where(m > 0, 1.0 / (se.dsnr(m)), np.inf) if se.p > 2 else se.Delta * np.ones_like(g)
            dtheta_dm = ((1.0 - dF * se.dsnr(m)) * one_minus + (m - F) * dF * se.dsnr(m)) / one_minus**2
            slope = np.where(one_minus > 0, dtheta_dm * np.where(np.isfinite(dm_dg), dm_dg, 1.0), 1.0)
        phi = (1.0 - theta) * psi + 0.5 * theta * g - (se.p - 1) * np.power(m, se.p) / (2 * se.p * se.Delta)
        return m, theta, slope, phi


class SignalPath(Path):
    """The model's own signal-strength axis at s = 0: u = lam = 1/Delta (``se.Delta`` is ignored).

    Curve: m = F(g), lam = g / m^(p-1); d lam / d g = (F - (p-1) g F') / F^p.  Used for the thresholds
    of the model itself: the dynamical / MCMC threshold (the informed branch appears), the IT threshold
    (first-order point) and the algorithmic threshold (the uninformed branch vanishes).
    """

    name = "signal"
    symbol = "lam"

    def fixed_point_map(self, se, m, u):
        m = np.maximum(np.asarray(m, dtype=float), 0.0)
        return se.prior.F(np.asarray(u, dtype=float) * m ** (se.p - 1))

    def map_slope(self, se, m, u):
        m = np.maximum(np.asarray(m, dtype=float), 0.0)
        u = np.asarray(u, dtype=float)
        return se.prior.dF(u * m ** (se.p - 1)) * u * (se.p - 1) * m ** (se.p - 2)

    def potential(self, se, m, u):
        return free_entropy.signal_path_potential(se.prior, se.p, m, u)

    def curve_from(self, se, g, F, dF, psi):
        g = np.asarray(g, dtype=float)
        p = se.p
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = g / F ** (p - 1)
            slope = (F - (p - 1) * g * dF) / F**p
        # g -> 0: lam -> 1/F'(0) for p = 2 (the bifurcation point), +inf for p >= 3
        lam = np.where(g > 0, lam, (1.0 / float(se.prior.dF(0.0))) if p == 2 else np.inf)
        slope = np.where(g > 0, slope, np.nan)
        lam_f = np.where(np.isfinite(lam), lam, 0.0)
        phi = psi - (p - 1) * lam_f * np.power(F, p) / (2 * p)
        return F, lam, slope, phi

    def curve_grid(self, se, g_needed=0.0):
        # below g ~ 1e-6 the slope F - (p-1) g F' = O(g^2) drowns in rounding (relative 1e-16 / g)
        out = super().curve_grid(se, g_needed)
        keep = out[0] >= 1e-6
        return tuple(a[keep] for a in out)

    def trivial_branch(self, se):
        return bool(abs(float(se.prior.F(0.0))) < 1e-14)


GAUSSIAN = GaussianPath()
ERASURE = ErasurePath()
SIGNAL = SignalPath()

_PATH_NAMES = {"gaussian": GAUSSIAN, "diffusion": GAUSSIAN, "flow": GAUSSIAN, "s": GAUSSIAN,
               "erasure": ERASURE, "autoregressive": ERASURE, "theta": ERASURE,
               "signal": SIGNAL, "lam": SIGNAL}


def as_path(path: Path | str) -> Path:
    """A ``Path`` from an instance or a name: 'gaussian' ('diffusion', 'flow'), 'erasure'
    ('autoregressive') or 'signal'."""
    if isinstance(path, Path):
        return path
    if isinstance(path, str) and path.lower() in _PATH_NAMES:
        return _PATH_NAMES[path.lower()]
    raise ValueError(f"path must be a Path or one of {sorted(_PATH_NAMES)}, got {path!r}")


__all__ = ["StateEvolution", "IterationResult", "Path", "GaussianPath", "ErasurePath", "SignalPath",
           "GAUSSIAN", "ERASURE", "SIGNAL", "as_path"]
