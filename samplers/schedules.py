r"""Time grids of the Gaussian channel (stochastic localisation) and the interpolants of flow samplers.

A generative sampler walks a denoising path; the *schedule* says where it stops along the path, the
*integrator* how it steps and the *denoiser* what it asks (docs/architecture.md: path, scheduler and solver are
three small objects).  This module holds the first kind.

Time schedules (SNR t of y_t = t x + B_t, from 0 to T)
------------------------------------------------------
* ``UniformSchedule(T, n_steps)``: t_k = k T / K.
* ``GeometricSchedule(T, n_steps, t_min)``: t_0 = 0, then t_k geometric from t_min to T (dense where the
  posterior is broad and changes fastest in log t, sparse at large t where it is nearly frozen).
* ``AdaptiveSchedule(T, tol, dt_init, dt_min, dt_max)``: the step follows the path's SNR where the
  posterior moves: after each step the root-mean-square change c of the denoiser output is compared with
  ``tol`` and the next step is dt' = dt · clip(tol / c, 1/2, 2) within [dt_min, dt_max].  The choice of
  dt_k uses only the past (it is non-anticipating), so each step stays a valid Euler-Maruyama step; the
  steps shrink around a jump of the denoiser (a spinodal of the algorithmic branch).

All schedules give ``dt(k, t, dt_prev, change)``, the length of step k (the last step is clipped so the
grid ends exactly at T), and ``describe()``.

Interpolants (flow samplers, docs/physics.md §2)
-------------------------------------------
I_tau = alpha(tau) z + beta(tau) x with alpha(0) = beta(1) = 1, alpha(1) = beta(0) = 0.  The denoising
problem at tau is the Gaussian channel at SNR t(tau) = beta^2 / alpha^2 with y = beta u / alpha^2.

* ``LinearInterpolant``: alpha = 1 - tau, beta = tau (flow matching / rectified flow).
* ``TrigonometricInterpolant``: alpha = cos(pi tau / 2), beta = sin(pi tau / 2).

Each gives alpha, beta, their derivatives, and ``tau_at_snr(T)``, the tau at which t(tau) = T (where a
sampler stops, since the path reaches t = inf only at tau = 1).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from spinglass._validate import check_int, check_real


def _check_T(T) -> float:
    T = check_real("T", T, minimum=0.0, strict_min=True)
    if not math.isfinite(T):
        raise ValueError(f"T must be finite, got {T}")
    return T


class TimeSchedule(ABC):
    """Where a Gaussian-channel sampler stops between t = 0 and t = T (module docstring)."""

    T: float

    @abstractmethod
    def dt(self, k: int, t: float, dt_prev: float, change: float) -> float:
        """Length of step k, taken from time t; ``dt_prev`` and ``change`` describe the previous step."""

    @abstractmethod
    def describe(self) -> dict:
        """Name and settings (JSON-friendly)."""

    @property
    def max_steps(self) -> int:
        """An upper bound on the number of steps (guards the driver's loop)."""
        return 10**7


class _FixedGrid(TimeSchedule):
    times: np.ndarray

    def dt(self, k, t, dt_prev, change):
        return float(self.times[k + 1] - self.times[k])

    @property
    def max_steps(self) -> int:
        return len(self.times) - 1


class UniformSchedule(_FixedGrid):
    """t_k = k T / K for k = 0..K."""

    def __init__(self, T: float = 30.0, n_steps: int = 200):
        self.T = _check_T(T)
        self._n = check_int("n_steps", n_steps, minimum=1)
        self.times = np.linspace(0.0, self.T, self._n + 1)

    def describe(self) -> dict:
        return {"name": "uniform", "T": self.T, "n_steps": self._n}


class GeometricSchedule(_FixedGrid):
    """t_0 = 0 and t_1..t_K geometric from ``t_min`` to T (K = ``n_steps``)."""

    def __init__(self, T: float = 30.0, n_steps: int = 100, t_min: float = 2e-2):
        self.T = _check_T(T)
        self._n = check_int("n_steps", n_steps, minimum=2)
        self.t_min = check_real("t_min", t_min, minimum=0.0, strict_min=True)
        if self.t_min >= self.T:
            raise ValueError(f"t_min must be < T = {self.T}, got {self.t_min}")
        self.times = np.concatenate([[0.0], np.geomspace(self.t_min, self.T, self._n)])

    def describe(self) -> dict:
        return {"name": "geometric", "T": self.T, "n_steps": self._n, "t_min": self.t_min}


class AdaptiveSchedule(TimeSchedule):
    """Steps that keep the rms change of the denoiser output near ``tol`` (module docstring)."""

    def __init__(self, T: float = 30.0, tol: float = 0.05, dt_init: float = 0.01, dt_min: float = 1e-4,
                 dt_max: float = 1.0, max_steps: int = 100_000):
        self.T = _check_T(T)
        self.tol = check_real("tol", tol, minimum=0.0, strict_min=True)
        self.dt_min = check_real("dt_min", dt_min, minimum=0.0, strict_min=True)
        self.dt_max = check_real("dt_max", dt_max, minimum=0.0, strict_min=True)
        if self.dt_max < self.dt_min:
            raise ValueError(f"dt_max must be >= dt_min = {self.dt_min}, got {self.dt_max}")
        self.dt_init = check_real("dt_init", dt_init, minimum=0.0, strict_min=True)
        if not (self.dt_min <= self.dt_init <= self.dt_max):
            raise ValueError(f"dt_init must be in [dt_min, dt_max] = [{self.dt_min}, {self.dt_max}], got {dt_init}")
        self._max_steps = check_int("max_steps", max_steps, minimum=1)

    def dt(self, k, t, dt_prev, change):
        if k == 0 or not math.isfinite(change):
            return self.dt_init
        factor = 2.0 if change <= 0 else min(2.0, max(0.5, self.tol / change))
        return min(self.dt_max, max(self.dt_min, dt_prev * factor))

    @property
    def max_steps(self) -> int:
        return self._max_steps

    def describe(self) -> dict:
        return {"name": "adaptive", "T": self.T, "tol": self.tol, "dt_init": self.dt_init, "dt_min": self.dt_min,
                "dt_max": self.dt_max}


def make_time_schedule(schedule, T: float | None = None, n_steps: int | None = None) -> TimeSchedule:
    """A ``TimeSchedule`` from an instance or a name ("uniform", "geometric", "adaptive")."""
    if isinstance(schedule, TimeSchedule):
        return schedule
    kwargs = {k: v for k, v in (("T", T), ("n_steps", n_steps)) if v is not None}
    if schedule == "uniform":
        return UniformSchedule(**kwargs)
    if schedule == "geometric":
        return GeometricSchedule(**kwargs)
    if schedule == "adaptive":
        if "n_steps" in kwargs:
            raise ValueError("n_steps does not apply to the adaptive schedule (it sets its own steps; see tol)")
        return AdaptiveSchedule(**kwargs)
    raise ValueError(f"schedule must be 'uniform', 'geometric', 'adaptive' or a TimeSchedule, got {schedule!r}")


# ----------------------------------------------------------------------------------------------------
# interpolants
# ----------------------------------------------------------------------------------------------------
class Interpolant(ABC):
    """I_tau = alpha(tau) z + beta(tau) x on tau in [0, 1] (module docstring)."""

    name: str

    @abstractmethod
    def alpha(self, tau: float) -> float: ...

    @abstractmethod
    def beta(self, tau: float) -> float: ...

    @abstractmethod
    def dalpha(self, tau: float) -> float: ...

    @abstractmethod
    def dbeta(self, tau: float) -> float: ...

    @abstractmethod
    def tau_at_snr(self, T: float) -> float:
        """tau with beta^2 / alpha^2 = T."""

    def snr(self, tau: float) -> float:
        """t(tau) = beta^2 / alpha^2 (inf at tau = 1)."""
        a = self.alpha(tau)
        return math.inf if a == 0 else self.beta(tau) ** 2 / a**2


class LinearInterpolant(Interpolant):
    """alpha = 1 - tau, beta = tau; t = tau^2 / (1 - tau)^2, so tau(T) = sqrt(T) / (1 + sqrt(T))."""

    name = "linear"

    def alpha(self, tau):
        return 1.0 - tau

    def beta(self, tau):
        return tau

    def dalpha(self, tau):
        return -1.0

    def dbeta(self, tau):
        return 1.0

    def tau_at_snr(self, T):
        r = math.sqrt(T)
        return r / (1.0 + r)


class TrigonometricInterpolant(Interpolant):
    """alpha = cos(pi tau / 2), beta = sin(pi tau / 2); t = tan^2(pi tau / 2), tau(T) = (2/pi) atan(sqrt T)."""

    name = "trigonometric"

    def alpha(self, tau):
        return math.cos(0.5 * math.pi * tau)

    def beta(self, tau):
        return math.sin(0.5 * math.pi * tau)

    def dalpha(self, tau):
        return -0.5 * math.pi * math.sin(0.5 * math.pi * tau)

    def dbeta(self, tau):
        return 0.5 * math.pi * math.cos(0.5 * math.pi * tau)

    def tau_at_snr(self, T):
        return 2.0 / math.pi * math.atan(math.sqrt(T))


def make_interpolant(interpolant) -> Interpolant:
    """An ``Interpolant`` from an instance or a name ("linear", "trigonometric" / "trig")."""
    if isinstance(interpolant, Interpolant):
        return interpolant
    if interpolant == "linear":
        return LinearInterpolant()
    if interpolant in ("trigonometric", "trig"):
        return TrigonometricInterpolant()
    raise ValueError(f"interpolant must be 'linear', 'trigonometric' or an Interpolant, got {interpolant!r}")


__all__ = ["TimeSchedule", "UniformSchedule", "GeometricSchedule", "AdaptiveSchedule", "make_time_schedule",
           "Interpolant", "LinearInterpolant", "TrigonometricInterpolant", "make_interpolant"]
