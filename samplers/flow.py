r"""Flow sampling with stochastic interpolants (docs/physics.md §2; Albergo, Boffi, Vanden-Eijnden 2023).

The interpolant I_tau = alpha(tau) z + beta(tau) x, z ~ N(0, I), x ~ mu (``samplers.schedules``) has the
law of u_tau for the probability-flow ODE and for the family of SDEs

    ODE:  du = b(u, tau) dtau,
    SDE:  du = [b(u, tau) + eps(tau) s(u, tau)] dtau + sqrt(2 eps(tau)) dW,      u_0 ~ N(0, I),

with velocity b(u, tau) = alpha' E[z | I = u] + beta' E[x | I = u], score s(u, tau) = -E[z | I = u] / alpha,
and E[z | u] = (u - beta E[x | u]) / alpha.  The posterior mean is the stochastic-localisation denoiser,

    E[x | I_tau = u] = m(y, t),      y = beta u / alpha^2,      t = beta^2 / alpha^2,

so flows and diffusion visit the same denoising problems on different schedules.  This driver takes
eps(tau) = ``diffusion`` · alpha(tau), which keeps the drift bounded as alpha -> 0 (eps · s =
-``diffusion`` · E[z | u]); ``diffusion = 0`` is the ODE.

Integration: a uniform grid in tau on [0, tau_end], where tau_end is the tau of SNR t = T (the path
reaches t = inf only at tau = 1); "euler", "heun" (explicit trapezoid; for the SDE the stochastic Heun
scheme with one noise increment per step, the noise being additive) or "rk4" (ODE only).  At tau_end the
sample is rounded from the denoiser's marginals at (y, T) (``samplers.generative``).

A learned velocity field b(u, tau) can replace the denoiser (``velocity=callable``, ODE only); it is then
rounded to the nearest alphabet value of u / beta(tau_end).
"""

from __future__ import annotations

import math

import numpy as np

from spinglass._validate import check_int, check_real

from .generative import (
    GenerativeDriver,
    Trajectory,
    check_rounding,
    denoiser_description,
    nearest_value,
    round_to_alphabet,
    site_shape,
)
from .schedules import Interpolant, make_interpolant

METHODS = ("ode", "sde")
INTEGRATORS = ("euler", "heun", "rk4")


class StochasticInterpolant(GenerativeDriver):
    """Flow sampler over a denoiser (or a velocity field) along a stochastic interpolant (module docstring).

    Parameters
    ----------
    denoiser : a ``Denoiser`` bound to the model or a callable ``model -> Denoiser``.
    velocity : instead of a denoiser, a callable b(u, tau) -> array of u's shape (ODE only).
    interpolant : "linear" (alpha = 1 - tau, beta = tau), "trigonometric" or an ``Interpolant``.
    method : "ode" (probability flow) or "sde".
    integrator : "euler", "heun" or "rk4" (ODE only).
    n_steps : number of tau steps.  T : final SNR beta^2 / alpha^2 (tau_end = interpolant.tau_at_snr(T)).
    diffusion : eps(tau) = diffusion · alpha(tau) for the SDE (> 0; default 1; an error with the ODE).
    rounding, trajectory, batch_size : as for ``StochasticLocalization`` (trajectory key "tau", plus "t").
    """

    name = "StochasticInterpolant"

    def __init__(self, denoiser=None, *, velocity=None, interpolant: str | Interpolant = "linear",
                 method: str = "ode", integrator: str = "heun", n_steps: int = 100, T: float = 400.0,
                 diffusion: float | None = None, rounding: str = "sample", trajectory: bool = False,
                 batch_size: int | None = None):
        if (denoiser is None) == (velocity is None):
            raise ValueError("give exactly one of denoiser and velocity")
        if velocity is not None and not callable(velocity):
            raise TypeError(f"velocity must be a callable b(u, tau), got {type(velocity).__name__}")
        self._init_common(denoiser, trajectory, batch_size, denoiser_optional=True)
        self.velocity = velocity
        self.interpolant = make_interpolant(interpolant)
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if integrator not in INTEGRATORS:
            raise ValueError(f"integrator must be one of {INTEGRATORS}, got {integrator!r}")
        if method == "sde" and integrator == "rk4":
            raise ValueError("integrator='rk4' is for method='ode'; use 'euler' or 'heun' with the SDE")
        if method == "sde" and velocity is not None:
            raise ValueError("method='sde' needs the score, i.e. a denoiser; a velocity field alone runs the ODE")
        self.method, self.integrator = method, integrator
        self.n_steps = check_int("n_steps", n_steps, minimum=1)
        self.T = check_real("T", T, minimum=0.0, strict_min=True)
        if method == "ode" and diffusion is not None:
            raise ValueError("diffusion is the SDE's noise level: it needs method='sde'")
        self.diffusion = 1.0 if diffusion is None else check_real("diffusion", diffusion, minimum=0.0, strict_min=True)
        self.rounding = check_rounding(rounding)
        if trajectory and velocity is not None:
            raise ValueError("trajectory=True records the denoiser's means: it needs a denoiser, not a velocity")
        self.tau_end = self.interpolant.tau_at_snr(self.T)

    def settings(self) -> dict:
        d = {"name": self.name, "interpolant": self.interpolant.name, "method": self.method,
             "integrator": self.integrator, "n_steps": self.n_steps, "T": self.T, "rounding": self.rounding,
             "batch_size": self.batch_size}
        if self.method == "sde":
            d["diffusion"] = self.diffusion
        d["denoiser"] = (denoiser_description(self.denoiser) if self.denoiser is not None
                         else {"name": "velocity", "callable": getattr(self.velocity, "__name__", "callable")})
        return d

    # -- the fields ---------------------------------------------------------------------------------------
    def _posterior_mean(self, client, u, tau, traj=None):
        it = self.interpolant
        a, b = it.alpha(tau), it.beta(tau)
        t = b * b / (a * a)
        out = client.ask(y=(b / (a * a)) * u, t=t, where=f"at tau = {tau:.6g} (t = {t:.6g})")
        if traj is not None:
            traj.record(tau, out.mean)
        return out.mean

    def _drift(self, client, u, tau, traj=None):
        if self.velocity is not None:
            v = np.asarray(self.velocity(u, tau), dtype=float)
            if v.shape != u.shape:
                raise ValueError(f"velocity returned shape {v.shape}, expected {u.shape}")
            if not np.all(np.isfinite(v)):
                raise FloatingPointError(f"velocity returned non-finite values at tau = {tau:.6g}")
            return v
        it = self.interpolant
        a, b = it.alpha(tau), it.beta(tau)
        m = self._posterior_mean(client, u, tau, traj)
        ez = (u - b * m) / a
        drift = it.dalpha(tau) * ez + it.dbeta(tau) * m
        if self.method == "sde":
            drift = drift - self.diffusion * ez  # eps s = diffusion · alpha · (-E[z|u] / alpha)
        return drift

    # -- sampling -----------------------------------------------------------------------------------------
    def _run_batch(self, model, client, rows, rng, progress):
        shape = (rows,) + site_shape(model)
        traj = Trajectory(model, self.trajectory and client is not None)
        u = rng.standard_normal(shape)
        h = self.tau_end / self.n_steps
        steps = range(self.n_steps)
        if progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc=self.name, unit="step")
        sde = self.method == "sde"
        it = self.interpolant
        for k in steps:
            tau = k * h
            f = self._drift
            noise = 0.0
            if sde:
                # additive noise: the increment of int_tau^{tau+h} sqrt(2 eps(s)) dW_s, eps evaluated at the midpoint
                eps_mid = self.diffusion * it.alpha(tau + 0.5 * h)
                noise = math.sqrt(2.0 * eps_mid * h) * rng.standard_normal(shape)
            k1 = f(client, u, tau, traj)  # the trajectory is recorded at the grid points only
            if self.integrator == "euler":
                u = u + h * k1 + noise
            elif self.integrator == "heun":
                k2 = f(client, u + h * k1 + noise, tau + h)
                u = u + 0.5 * h * (k1 + k2) + noise
            else:
                k2 = f(client, u + 0.5 * h * k1, tau + 0.5 * h)
                k3 = f(client, u + 0.5 * h * k2, tau + 0.5 * h)
                k4 = f(client, u + h * k3, tau + h)
                u = u + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
        tau = self.tau_end
        a, b = it.alpha(tau), it.beta(tau)
        if client is None:
            return nearest_value(model, u / b), {}, self.n_steps
        out = client.ask(y=(b / (a * a)) * u, t=self.T, where=f"at tau_end = {tau:.6g}")
        traj.record(tau, out.mean)
        trace = traj.as_trace("tau")
        if trace:
            trace["t"] = np.array([it.snr(s) for s in trace["tau"]])
            if "jump_t" in trace:  # report the jump in SNR units, like the diffusion driver; keep tau too
                trace["jump_tau"] = trace["jump_t"]
                trace["jump_t"] = np.array([it.snr(s) for s in trace["jump_tau"]])
        return round_to_alphabet(model, out, self.rounding, rng), trace, self.n_steps


__all__ = ["StochasticInterpolant", "METHODS", "INTEGRATORS"]
