r"""Diffusion sampling by stochastic localisation over a denoiser (docs/physics.md §2).

The observation process y_t = t x + B_t (x ~ mu, B a standard Brownian motion in R^n, or R^{n x q} for
one-hot Potts variables) solves

    dy_t = m(y_t, t) dt + dB_t,        y_0 = 0,        m(y, t) = E[x | y_t = y] = E_{mu_{y,t}}[x],

with mu_{y,t}(x) ∝ mu(x) exp(<y, x> - t |x|^2 / 2) (El Alaoui, Montanari, Sellke, FOCS 2022; Montanari,
"Sampling, diffusions, and stochastic localization", 2023).  As t -> inf, y_t / t -> x ~ mu.  The
sampler integrates the SDE with Euler-Maruyama on a time grid 0 = t_0 < ... < t_K = T,

    y_{k+1} = y_k + m(y_k, t_k) (t_{k+1} - t_k) + sqrt(t_{k+1} - t_k) xi_k,      xi_k ~ N(0, I),

and rounds at T: x_i is drawn from the denoiser's marginals of mu_{y_K, T} (``samplers.generative``).
With the exact denoiser the only errors are the Euler discretisation (O(max dt) in law) and the
rounding at finite T; with AMP / BP the denoiser follows the algorithmic branch, and the sampler is
predicted to fail exactly where that branch leaves the Bayes-optimal one along the path (docs/physics.md §4).
"""

from __future__ import annotations

import math

import numpy as np

from .generative import (
    GenerativeDriver,
    Trajectory,
    check_rounding,
    denoiser_description,
    round_to_alphabet,
    site_shape,
)
from .schedules import AdaptiveSchedule, TimeSchedule, make_time_schedule


class StochasticLocalization(GenerativeDriver):
    """Stochastic-localisation (diffusion) sampler: Euler-Maruyama on dy = m(y, t) dt + dB (module docstring).

    Parameters
    ----------
    denoiser : a ``Denoiser`` bound to the model, or a callable ``model -> Denoiser`` (e.g. ``ExactDenoiser``,
        ``functools.partial(AMPDenoiser, warm_start=True)``).
    schedule : "geometric" (default: 100 steps from t = 0.02 to T = 30), "uniform", "adaptive" or a
        ``TimeSchedule`` (``samplers.schedules``).
    T : final SNR (used when ``schedule`` is a name).  n_steps : number of steps of a fixed grid.
    rounding : "sample" (draw from the final marginals) or "argmax".
    trajectory : record the denoiser's self-overlap and overlap with the planted configuration along t
        (``Samples.trace``: "t", "self_overlap" (B, K+1), "overlap_planted", "jump_t", "jump_size").
    batch_size : trajectories integrated at once (default: all).

    ``sample(model, n_samples, seed=...)`` returns ``Samples`` with ``work`` = steps and denoiser counters
    (calls, rows, iterations, unconverged queries, time).
    """

    name = "StochasticLocalization"

    def __init__(self, denoiser, schedule: str | TimeSchedule = "geometric", *, T: float | None = None,
                 n_steps: int | None = None, rounding: str = "sample", trajectory: bool = False,
                 batch_size: int | None = None):
        self._init_common(denoiser, trajectory, batch_size)
        if not isinstance(schedule, str) and (T is not None or n_steps is not None):
            raise ValueError("T and n_steps set up a named schedule; a TimeSchedule instance carries its own")
        self.schedule = make_time_schedule(schedule, T=T, n_steps=n_steps)
        self.rounding = check_rounding(rounding)

    def settings(self) -> dict:
        return {"name": self.name, "schedule": self.schedule.describe(), "rounding": self.rounding,
                "denoiser": denoiser_description(self.denoiser), "batch_size": self.batch_size}

    def _check_run(self, model, n_samples, batch):
        if self.trajectory and isinstance(self.schedule, AdaptiveSchedule) and batch < n_samples:
            raise ValueError("trajectory=True with an adaptive schedule needs batch_size >= n_samples "
                             "(each batch would have its own time grid)")

    def _run_batch(self, model, client, b, rng, progress):
        sched = self.schedule
        T = sched.T
        shape = (b,) + site_shape(model)
        y = np.zeros(shape)
        traj = Trajectory(model, self.trajectory)
        t, dt, change, k = 0.0, 0.0, math.inf, 0
        m_prev = None
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=T, desc=self.name, unit="t")
        while T - t > 1e-12 * T:
            if k >= sched.max_steps:
                raise RuntimeError(f"{self.name}: the schedule used its {sched.max_steps} steps before t = T = {T}")
            out = client.ask(y=y, t=t, where=f"at t = {t:.6g}")
            m = out.mean
            traj.record(t, m)
            if m_prev is not None:
                change = float(np.sqrt(np.mean((m - m_prev) ** 2)))
            dt = min(sched.dt(k, t, dt, change), T - t)
            y += m * dt + math.sqrt(dt) * rng.standard_normal(shape)
            t = T if T - (t + dt) <= 1e-12 * T else t + dt
            m_prev = m
            k += 1
            if bar is not None:
                bar.update(dt)
        if bar is not None:
            bar.close()
        out = client.ask(y=y, t=T, where=f"at t = T = {T:.6g}")
        traj.record(T, out.mean)
        return round_to_alphabet(model, out, self.rounding, rng), traj.as_trace("t"), k


__all__ = ["StochasticLocalization"]
