r"""Flow matching against denoising (score matching) on the same footing: one network, one data stream, one budget.

The question (issue 17, item 3): do flow-matching objectives train faster and more stably than the denoising
(diffusion) objective?  To compare the *objectives* and nothing else, both runs here train the same network
class, ``AmortisedAMP`` (a denoiser x_hat(J, y, t, lam)), from the same initial weights, on the same planted
instances (J, x*) at every step (``PlantedSpikedWigner.instances``, one draw shared by both), with the same
optimiser (Adam), learning rate, number of steps and batch; they differ only in the loss.

Initial weights.  At its AMP initialisation the untrained ``AmortisedAMP`` is L iterations of AMP, already within
noise of the Bayes-optimal MMSE on the Rademacher spiked Wigner model (``docs/figures/learned_at_scale.json``): there
is no gap to close and no training speed to measure.  :func:`generic_initialisation` redraws the zero-initialised
output layers (scale ``init_scale``), so that both runs start from the same generic, non-AMP network.

Conventions: interpolant time tau and channel time t
----------------------------------------------------
The linear interpolant of ``samplers.flow`` (alpha = 1 - tau, beta = tau) is

    I_tau = (1 - tau) z + tau x,       z ~ N(0, I_n),  tau in [0, 1).

Dividing by (1 - tau)^2 / tau turns it into the Gaussian channel of stochastic localisation, with the *same* z:

    y := tau I_tau / (1 - tau)^2 = t x + sqrt(t) z,        t := tau^2 / (1 - tau)^2,   i.e.  sqrt(t) = tau / (1 - tau),

and the inverse map tau(t) = sqrt(t) / (1 + sqrt(t)) (:func:`channel_time`, :func:`channel_observation`,
:func:`interpolant_time`).  Since (y, t) is an invertible function of (I_tau, tau), E[x | I_tau = u] =
m(y(u, tau), t(tau)) with m(y, t) = E[x | y_t = y] the channel denoiser: both objectives target one function.
The velocity of the interpolant is the conditional mean of d I / d tau = x - z,

    b(u, tau) = E[x - z | I_tau = u] = (m(y, t) - u) / (1 - tau)           (:func:`velocity_from_mean`)

(from z = (u - tau x) / (1 - tau): x - z = (x - u) / (1 - tau)).  These are the maps ``StochasticInterpolant``
uses (y = beta u / alpha^2, t = beta^2 / alpha^2), so a velocity built here drives it unchanged.

The two objectives (per row; means over sites, rows and instances)
------------------------------------------------------------------
* Denoising (diffusion), :func:`denoising_objective`:  t ~ p_zero δ_0 + (1 - p_zero) LogUniform[t_min, t_max]
  (the law of ``PlantedSpikedWigner`` and ``train_amortised_denoiser``), y = t x + sqrt(t) z,

      L_DSM = || x_hat(J, y, t) - x* ||^2 / n.

* Conditional flow matching, :func:`flow_matching_objective`: tau ~ U[0, tau_max] with tau_max = tau(t_max) (the
  same largest SNR), u = (1 - tau) z + tau x*, the network's velocity b_theta = (x_hat(J, y(u, tau), t(tau)) - u)
  / (1 - tau), and

      L_FM = || b_theta - (x* - z) ||^2 / n   =   || x_hat - x* ||^2 / (n (1 - tau)^2).

  The identity on the right is exact (x* - z - b_theta = (x* - x_hat) / (1 - tau)); the code evaluates the
  velocity form.  So, with the velocity expressed through the denoiser, flow matching *is* a denoising loss with
  another law of t (the image of U[0, tau_max]: density ∝ 1 / (sqrt(t) (1 + sqrt(t))^2)) and the weight
  (1 + sqrt(t))^2 = 1 / (1 - tau)^2.  Both are minimised by the Bayes posterior mean at every t, and the
  comparison measures what this re-weighting does to training speed and noise.

What is reported (:func:`compare_training`, :func:`sample_quality`)
------------------------------------------------------------------
* Per step and method: the loss, the global gradient 2-norm (before the Adam step) and the CPU time
  (``time.process_time``) and wall time of the step, the two methods' steps interleaved (diffusion, flow,
  diffusion, ...) so that both see the same machine load; the shared instance draw is timed once and added to
  both.  Stability: the coefficient of variation std / mean of the per-step loss over the last half of training
  (scale free: the two losses have different units), and of the gradient norm (plus its variance).
* Every ``eval_every`` steps (not timed): the MSE(t) of the network on fixed held-out instances (the same for
  both methods and all evaluations) at a t grid, and its excess over the Bayes-optimal MMSE(t) supplied by the
  caller (state evolution, ``analysis.measures.learned.state_evolution_mmse``; this module stays below
  ``analysis``): ``excess`` = mean over the grid of MSE(t) / MMSE(t) - 1.  ``PathTraining.time_to`` gives the
  first evaluation at which it is <= a level, with the steps, CPU and wall seconds spent by then.
* Samples at equal numbers of network evaluations (NFE): ``StochasticLocalization`` over the denoiser (geometric
  schedule with NFE - 1 steps: NFE - 1 queries plus the final one at T) and ``StochasticInterpolant`` (ODE, Heun,
  NFE / 2 steps, two evaluations each) over the velocity :class:`AmortisedVelocity`; each driver over each
  trained network.  Overlap |<x, x*>| / n and two-sample overlap |<x_a, x_b>| / n (mean over pairs) per
  instance, to be compared with the state-evolution m* by the caller.

Everything is seeded (one CPU generator for the instances, one per method for its times and noise, seeded
alike); on the CPU a run is reproducible bit for bit (timings aside).
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from spinglass.priors import Rademacher
from spinglass.spiked import SpikedWigner

from .amortised_amp import AmortisedAMP
from .denoiser import _draw_t, _pos_real, check_time_law
from .planted_data import PlantedSpikedWigner
from .training import check_positive_int, pick_device

__all__ = [
    "channel_time", "interpolant_time", "channel_observation", "velocity_from_mean", "denoising_objective",
    "flow_matching_objective", "generic_initialisation", "PathTraining", "FlowDiffusionTraining", "compare_training",
    "AmortisedVelocity", "sample_quality", "METHODS",
]

#: The two training objectives compared.
METHODS = ("diffusion", "flow")


# -- the time map ------------------------------------------------------------------------------------------------
def _tau_array(tau):
    if isinstance(tau, torch.Tensor):
        if bool(torch.any((tau < 0) | (tau >= 1))):
            raise ValueError("tau must lie in [0, 1) (the interpolant reaches t = inf only at tau = 1)")
        return tau
    arr = np.asarray(tau, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr >= 1):
        raise ValueError(f"tau must lie in [0, 1) (the interpolant reaches t = inf only at tau = 1), got {tau!r}")
    return arr


def channel_time(tau):
    """t(tau) = tau^2 / (1 - tau)^2, the Gaussian-channel SNR of the linear interpolant at tau in [0, 1)."""
    tau = _tau_array(tau)
    return (tau / (1.0 - tau)) ** 2


def interpolant_time(t):
    """tau(t) = sqrt(t) / (1 + sqrt(t)), the inverse of :func:`channel_time` (t >= 0)."""
    if isinstance(t, torch.Tensor):
        if bool(torch.any(t < 0)):
            raise ValueError("t must be >= 0")
        s = torch.sqrt(t)
        return s / (1.0 + s)
    arr = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"t must be finite and >= 0, got {t!r}")
    s = np.sqrt(arr)
    return s / (1.0 + s)


def channel_observation(u, tau):
    """y(u, tau) = tau u / (1 - tau)^2 = t x + sqrt(t) z for u = (1 - tau) z + tau x (module docstring).

    u : array or tensor (..., n); tau : a scalar or an array / tensor broadcasting against u[..., 0] (one value
    per row), in [0, 1)."""
    tau = _tau_array(tau)
    scale = tau / (1.0 - tau) ** 2
    if isinstance(u, torch.Tensor):
        scale = torch.as_tensor(scale, dtype=u.dtype, device=u.device)
        return scale[..., None] * u if scale.ndim else scale * u
    scale = np.asarray(scale, dtype=float)
    return scale[..., None] * np.asarray(u, dtype=float) if scale.ndim else scale * np.asarray(u, dtype=float)


def velocity_from_mean(mean, u, tau):
    """b = (mean - u) / (1 - tau): the interpolant velocity E[x - z | I_tau = u] from the posterior mean
    E[x | I_tau = u]."""
    tau = _tau_array(tau)
    if isinstance(u, torch.Tensor):
        inv = torch.as_tensor(1.0 / (1.0 - tau), dtype=u.dtype, device=u.device)
        return (mean - u) * (inv[..., None] if inv.ndim else inv)
    inv = np.asarray(1.0 / (1.0 - tau), dtype=float)
    return (np.asarray(mean) - np.asarray(u)) * (inv[..., None] if inv.ndim else inv)


# -- the two objectives -------------------------------------------------------------------------------------------
Denoise = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def denoising_objective(denoise: Denoise, x: torch.Tensor, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """L_DSM = mean (denoise(y, t) - x)^2 with y = t x + sqrt(t) z.

    denoise : callable (y (..., R, n), t (..., R)) -> x_hat of y's shape.  x : (..., n) (broadcast over the rows
    R) or (..., R, n); t : (..., R) channel times >= 0; z : (..., R, n) standard normal."""
    xr = x[..., None, :] if x.ndim == z.ndim - 1 else x
    y = t[..., None] * xr + torch.sqrt(t)[..., None] * z
    return ((denoise(y, t) - xr) ** 2).mean()


def flow_matching_objective(denoise: Denoise, x: torch.Tensor, tau: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """L_FM = mean (b_theta - (x - z))^2 with u = (1 - tau) z + tau x and b_theta = (denoise(y(u, tau), t(tau)) - u)
    / (1 - tau) (module docstring).  Shapes as :func:`denoising_objective`, tau (..., R) in [0, 1)."""
    xr = x[..., None, :] if x.ndim == z.ndim - 1 else x
    u = (1.0 - tau)[..., None] * z + tau[..., None] * xr
    t = channel_time(tau)
    b = velocity_from_mean(denoise(channel_observation(u, tau), t), u, tau)
    return ((b - (xr - z)) ** 2).mean()


# -- training -------------------------------------------------------------------------------------------------------
def generic_initialisation(network: AmortisedAMP, scale: float, seed: int = 0) -> AmortisedAMP:
    """Redraw the zero-initialised output layers of every layer of ``network`` (the (a, b, c) head and the per-site
    correction head) as U(-scale / sqrt(H), scale / sqrt(H)) (H = hidden width; biases stay 0), in place, so that the
    untrained network is *not* AMP and training has a gap to close.  scale = 0 leaves the AMP initialisation."""
    if not isinstance(network, AmortisedAMP):
        raise TypeError(f"network must be an AmortisedAMP, got {type(network).__name__}")
    scale = _pos_real("scale", scale, allow_zero=True)
    gen = torch.Generator(device="cpu").manual_seed(check_positive_int("seed", seed, 0))
    with torch.no_grad():
        for layer in network.layers:
            for lin in (layer.coef_out, layer.site_out):
                bound = scale / math.sqrt(lin.weight.shape[1])
                w = (torch.rand(lin.weight.shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound
                lin.weight.copy_(w.to(lin.weight.dtype))
    return network


@dataclass
class PathTraining:
    """One method's run in :func:`compare_training`.

    method : "diffusion" or "flow".  loss, grad_norm : (S,) per-step loss and gradient 2-norm (before the step).
    cpu_seconds, wall_seconds : (S,) cumulative CPU / wall time after each step (the step plus the shared draw).
    eval_steps : (E,) steps after which the network was evaluated (0 = the initial weights).
    eval_mse : (E, T) MSE at the grid ``t_grid`` on the fixed held-out rows.  eval_excess : (E,) mean over the grid
    of MSE / MMSE - 1 (nan without an MMSE reference).  network : the trained ``AmortisedAMP``.
    """

    method: str
    loss: np.ndarray
    grad_norm: np.ndarray
    cpu_seconds: np.ndarray
    wall_seconds: np.ndarray
    eval_steps: np.ndarray
    eval_mse: np.ndarray
    eval_excess: np.ndarray
    network: AmortisedAMP | None = None

    @staticmethod
    def _cv(a: np.ndarray) -> float:
        half = a[len(a) // 2:]
        return float(half.std(ddof=1) / half.mean()) if half.size > 1 and half.mean() != 0 else math.nan

    def loss_cv(self) -> float:
        """std / mean of the per-step loss over the last half of the steps."""
        return self._cv(self.loss)

    def grad_norm_cv(self) -> float:
        """std / mean of the gradient norm over the last half of the steps."""
        return self._cv(self.grad_norm)

    def grad_norm_var(self) -> float:
        """Variance of the gradient norm over the last half of the steps."""
        half = self.grad_norm[len(self.grad_norm) // 2:]
        return float(half.var(ddof=1)) if half.size > 1 else math.nan

    def time_to(self, level: float) -> dict | None:
        """The first evaluation with ``eval_excess <= level``: {"step", "cpu_seconds", "wall_seconds", "excess"}, or
        None if never reached (the times are those of the training steps done by then; step 0 costs 0)."""
        hit = np.flatnonzero(self.eval_excess <= level)
        if hit.size == 0:
            return None
        k = int(hit[0])
        s = int(self.eval_steps[k])
        cpu = float(self.cpu_seconds[s - 1]) if s > 0 else 0.0
        wall = float(self.wall_seconds[s - 1]) if s > 0 else 0.0
        return {"step": s, "cpu_seconds": cpu, "wall_seconds": wall, "excess": float(self.eval_excess[k])}

    def summary(self, levels: Sequence[float] = ()) -> dict:
        """JSON-friendly numbers (no per-step arrays)."""
        return {"method": self.method, "steps": int(self.loss.size), "loss_cv_last_half": self.loss_cv(),
                "grad_norm_cv_last_half": self.grad_norm_cv(), "grad_norm_var_last_half": self.grad_norm_var(),
                "cpu_seconds": float(self.cpu_seconds[-1]), "wall_seconds": float(self.wall_seconds[-1]),
                "final_excess": float(self.eval_excess[-1]),
                "time_to": {f"{lv:g}": self.time_to(lv) for lv in levels}}


@dataclass
class FlowDiffusionTraining:
    """Result of :func:`compare_training`: one ``PathTraining`` per method, the evaluation grid and its MMSE, and
    (with ``reference_layers``) converged AMP's MSE and excess on the same held-out rows."""

    t_grid: np.ndarray
    mmse: np.ndarray
    runs: dict[str, PathTraining] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    reference_mse: np.ndarray | None = None
    reference_excess: float = math.nan


def _grad_norm(net: torch.nn.Module) -> float:
    sq = sum(float((p.grad.detach() ** 2).sum()) for p in net.parameters() if p.grad is not None)
    return math.sqrt(sq)


def _eval_mse(net: AmortisedAMP, J, lam, x, y, t, T: int) -> np.ndarray:
    """MSE per grid time: rows are grouped as (I, T * R) with the grid index slowest inside an instance."""
    was = net.training
    net.eval()
    try:
        with torch.no_grad():
            m = net(J, y, t, lam)
    finally:
        net.train(was)
    err = ((m - x[:, None, :]) ** 2).mean(dim=-1)  # (I, T * R)
    I, TR = err.shape
    return err.reshape(I, T, TR // T).mean(dim=(0, 2)).double().cpu().numpy()


def compare_training(prior=None, n: int = 500, lam: float = 2.0, *, steps: int = 200, instances_per_step: int = 2,
                     rows_per_instance: int = 16, lr: float = 1e-3, n_layers: int = 16, hidden: int = 16,
                     t_min: float = 1e-3, t_max: float = 100.0, p_zero: float = 0.05, t_grid=(0.02, 5.0, 10),
                     mmse=None, eval_every: int | Sequence[int] = 20, eval_instances: int = 4, eval_rows: int = 8,
                     seed: int = 0, methods: Sequence[str] = METHODS, init_scale: float = 0.0,
                     reference_layers: int = 0, device="cpu", progress: bool = False) -> FlowDiffusionTraining:
    """Train one ``AmortisedAMP`` per method from the same initial weights on the same planted stream (module
    docstring), interleaving the steps, and record losses, gradient norms, times and held-out MSE.

    prior : the spiked-Wigner prior (default ``Rademacher()``).  n, lam : instance size (>= 2) and SNR (> 0).
    steps : optimiser steps per method (>= 1).  instances_per_step : fresh planted instances per step, shared by the
    methods (>= 1).  rows_per_instance : side observations per instance (>= 1).  lr : Adam learning rate (> 0).
    n_layers, hidden : the network (``AmortisedAMP``).  t_min, t_max, p_zero : the denoising law of t; flow matching
    draws tau ~ U[0, tau(t_max)].  t_grid : the evaluation times, an array or (lo, hi, k) for k geometric points.
    mmse : the Bayes-optimal MMSE at the grid (same length) or None (then ``eval_excess`` is nan).
    eval_every : steps between evaluations (>= 1), or the sequence of steps after which to evaluate (the initial and
    the final weights are always evaluated).
    eval_instances, eval_rows : the fixed held-out instances and rows per grid time.  seed : initial weights, the
    instance stream (and the held-out set, from seed + 1) and each method's noise.  methods : a non-empty subset of
    ``METHODS``.  init_scale : ``generic_initialisation`` scale of the common initial weights (0: the AMP
    initialisation, where the untrained network is already AMP).  reference_layers : if > 0, the MSE on the same
    held-out rows of an untrained ``AmortisedAMP`` with that many layers (= that many AMP iterations: converged AMP,
    Bayes-optimal where no hard phase exists), stored as ``reference_mse`` / ``reference_excess``: the floor that
    finite n and the held-out sample put under any network's excess.  device : where the networks train.
    progress : a tqdm bar over the steps.
    """
    prior = Rademacher() if prior is None else prior
    n = check_positive_int("n", n, 2)
    lam = _pos_real("lam", lam)
    steps = check_positive_int("steps", steps, 1)
    ipst = check_positive_int("instances_per_step", instances_per_step, 1)
    R = check_positive_int("rows_per_instance", rows_per_instance, 1)
    lr = _pos_real("lr", lr)
    t_min, t_max, p_zero = check_time_law(t_min, t_max, p_zero)
    if isinstance(eval_every, Sequence):
        eval_at = {check_positive_int("eval_every step", k, 1) for k in eval_every}
    else:
        every = check_positive_int("eval_every", eval_every, 1)
        eval_at = set(range(every, steps + 1, every))
    eval_at.add(steps)
    eval_instances = check_positive_int("eval_instances", eval_instances, 1)
    eval_rows = check_positive_int("eval_rows", eval_rows, 1)
    seed = check_positive_int("seed", seed, 0)
    methods = tuple(methods)
    if not methods or any(m not in METHODS for m in methods) or len(set(methods)) != len(methods):
        raise ValueError(f"methods must be a non-empty subset of {METHODS} without repeats, got {methods!r}")
    if isinstance(t_grid, tuple) and len(t_grid) == 3 and isinstance(t_grid[2], numbers.Integral):
        lo, hi, k = t_grid
        ts = np.geomspace(_pos_real("t_grid lo", lo), _pos_real("t_grid hi", hi), check_positive_int("t_grid k", k))
    else:
        ts = np.asarray(t_grid, dtype=float).ravel()
    if ts.size == 0 or not np.all(np.isfinite(ts)) or np.any(ts <= 0):
        raise ValueError("t_grid must hold finite times t > 0 (an array, or (lo, hi, k))")
    if mmse is None:
        ref = np.full(ts.size, np.nan)
    else:
        ref = np.asarray(mmse, dtype=float).ravel()
        if ref.shape != ts.shape or not np.all(np.isfinite(ref)) or np.any(ref <= 0):
            raise ValueError(f"mmse must hold {ts.size} finite values > 0 (one per grid time), got shape {ref.shape}")
    dev = pick_device(device)
    tau_max = float(interpolant_time(t_max))
    data = PlantedSpikedWigner(n, lam, prior, rows_per_instance=R, t_min=t_min, t_max=t_max, p_zero=p_zero)

    # the fixed held-out rows: eval_instances instances, eval_rows side observations per grid time
    eval_gen = torch.Generator(device="cpu").manual_seed(seed + 1)
    Je, lame, xe = data.instances(eval_instances, eval_gen)
    te = torch.as_tensor(np.repeat(ts, eval_rows), dtype=torch.float64).expand(eval_instances, -1).contiguous()
    ye = data.side_channel(xe, te, eval_gen)
    Je, lame, xe, ye, te = (a.to(dev) for a in (Je, lame, xe, ye, te.to(data.dtype)))

    nets = {m: generic_initialisation(AmortisedAMP(prior, n_layers=n_layers, hidden=hidden, seed=seed), init_scale,
                                      seed).to(dev) for m in methods}
    opts = {m: torch.optim.Adam(nets[m].parameters(), lr=lr) for m in methods}
    noise = {m: torch.Generator(device="cpu").manual_seed(seed + 2) for m in methods}
    inst_gen = torch.Generator(device="cpu").manual_seed(seed)
    rec = {m: {"loss": [], "grad": [], "cpu": [], "wall": [], "eval_steps": [], "eval_mse": []} for m in methods}
    cum = {m: [0.0, 0.0] for m in methods}

    def evaluate(step: int) -> None:
        for m in methods:
            rec[m]["eval_steps"].append(step)
            rec[m]["eval_mse"].append(_eval_mse(nets[m], Je, lame, xe, ye, te, ts.size))

    evaluate(0)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="flow vs diffusion", unit="step")
    try:
        for s in range(1, steps + 1):
            c0, w0 = time.process_time(), time.perf_counter()
            J, lams, x = data.instances(ipst, inst_gen)
            J, lams, x = J.to(dev), lams.to(dev), x.to(dev)
            c_draw, w_draw = time.process_time() - c0, time.perf_counter() - w0
            for m in methods:
                c0, w0 = time.process_time(), time.perf_counter()
                net, gen = nets[m], noise[m]

                def denoise(y, t, net=net, J=J, lams=lams):
                    return net(J, y, t, lams)

                if m == "diffusion":
                    t = _draw_t(ipst * R, gen, t_min, t_max, p_zero, torch.float64).reshape(ipst, R)
                    z = torch.randn((ipst, R, n), generator=gen, dtype=torch.float64)
                    loss = denoising_objective(denoise, x, t.to(dev, data.dtype), z.to(dev, data.dtype))
                else:
                    tau = torch.rand((ipst, R), generator=gen, dtype=torch.float64) * tau_max
                    z = torch.randn((ipst, R, n), generator=gen, dtype=torch.float64)
                    loss = flow_matching_objective(denoise, x, tau.to(dev, data.dtype), z.to(dev, data.dtype))
                if not bool(torch.isfinite(loss.detach())):
                    raise FloatingPointError(f"{m}: non-finite loss at step {s}; lower lr")
                opts[m].zero_grad(set_to_none=True)
                loss.backward()
                g = _grad_norm(net)
                opts[m].step()
                cum[m][0] += time.process_time() - c0 + c_draw
                cum[m][1] += time.perf_counter() - w0 + w_draw
                r = rec[m]
                r["loss"].append(float(loss.detach()))
                r["grad"].append(g)
                r["cpu"].append(cum[m][0])
                r["wall"].append(cum[m][1])
            if s in eval_at:
                evaluate(s)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    out = FlowDiffusionTraining(t_grid=ts, mmse=ref, settings={
        "prior": prior.describe(), "n": n, "lam": lam, "steps": steps, "instances_per_step": ipst,
        "rows_per_instance": R, "lr": lr, "optimiser": "Adam", "n_layers": n_layers, "hidden": hidden,
        "t_min": t_min, "t_max": t_max, "p_zero": p_zero, "tau_max": tau_max,
        "eval_steps": sorted(k for k in eval_at if k <= steps),
        "eval_instances": eval_instances, "eval_rows": eval_rows, "seed": seed, "init_scale": init_scale,
        "reference_layers": reference_layers, "device": str(dev)})
    if check_positive_int("reference_layers", reference_layers, 0) > 0:
        ref_net = AmortisedAMP(prior, n_layers=reference_layers, hidden=1, seed=seed).to(dev)
        out.reference_mse = _eval_mse(ref_net, Je, lame, xe, ye, te, ts.size)
        out.reference_excess = float((out.reference_mse / ref - 1.0).mean())
    for m in methods:
        r = rec[m]
        mse = np.array(r["eval_mse"])
        excess = (mse / ref[None, :] - 1.0).mean(axis=1)
        nets[m].eval()
        out.runs[m] = PathTraining(method=m, loss=np.array(r["loss"]), grad_norm=np.array(r["grad"]),
                                   cpu_seconds=np.array(r["cpu"]), wall_seconds=np.array(r["wall"]),
                                   eval_steps=np.array(r["eval_steps"]), eval_mse=mse, eval_excess=excess,
                                   network=nets[m])
    return out


# -- sampling at equal network evaluations ----------------------------------------------------------------------------
class AmortisedVelocity:
    """The velocity b(u, tau) = (x_hat(J, y(u, tau), t(tau)) - u) / (1 - tau) of an ``AmortisedAMP`` on one
    ``SpikedWigner`` instance, as the ``velocity=`` callable of ``StochasticInterpolant`` (linear interpolant).

    One call is one network evaluation (``n_evaluations``); the network runs one pass of its L layers from the
    prior start (as ``AmortisedDenoiser`` without warm start), under ``torch.no_grad()``, in eval mode.
    """

    def __init__(self, network: AmortisedAMP, model: SpikedWigner):
        if not isinstance(network, AmortisedAMP):
            raise TypeError(f"network must be an AmortisedAMP, got {type(network).__name__}")
        self.bound = network.bind(model)
        self.n = model.n
        self.n_evaluations = 0
        self.__name__ = "AmortisedVelocity"

    def __call__(self, u, tau) -> np.ndarray:
        arr = np.asarray(u, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != self.n:
            raise ValueError(f"u must have shape (B, n) = (B, {self.n}), got {arr.shape}")
        if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or not 0.0 <= float(tau) < 1.0:
            raise ValueError(f"tau must be a real number in [0, 1), got {tau!r}")
        tau = float(tau)
        net = self.bound
        was = net.training
        net.eval()
        try:
            with torch.no_grad():
                y = torch.as_tensor(channel_observation(arr, tau), dtype=net.core.dtype).to(net.core.device)
                mean, _ = net.posterior(y, float(channel_time(tau)))
        finally:
            net.train(was)
        self.n_evaluations += 1
        return velocity_from_mean(mean.double().cpu().numpy(), arr, tau)


def _overlaps(x: np.ndarray, planted: np.ndarray) -> tuple[float, float]:
    n = x.shape[1]
    ov = float(np.mean(np.abs(x @ planted) / n))
    B = x.shape[0]
    if B < 2:
        return ov, math.nan
    q = np.abs(x @ x.T) / n
    return ov, float(q[np.triu_indices(B, 1)].mean())


def sample_quality(networks: dict[str, AmortisedAMP], lam: float, n: int, *, nfe: Sequence[int] = (10, 20, 50),
                   instance_seeds: Sequence[int] = (0, 1), n_samples: int = 8, sl_T: float = 30.0,
                   si_T: float = 100.0, seed: int = 1000, device="cpu") -> list[dict]:
    """Overlaps of samples at equal network evaluations (module docstring) on ``SpikedWigner(n, lam, prior, s)``.

    networks : {label: trained AmortisedAMP} (one prior for all).  nfe : evaluation budgets (each >= 4): SL runs
    NFE - 1 geometric steps to ``sl_T`` (NFE - 1 queries plus the final one), SI runs NFE // 2 Heun steps to ``si_T``
    over :class:`AmortisedVelocity`.  instance_seeds : the instances.  n_samples : samples per instance and run
    (>= 2).  seed : the drivers' seed (seed + instance seed).  Returns one row per (network, driver, NFE, instance):
    {"network", "driver", "nfe", "nfe_used", "instance_seed", "overlap", "two_sample_overlap", "seconds"}.
    """
    from ..diffusion import StochasticLocalization
    from ..flow import StochasticInterpolant

    if not networks or not all(isinstance(v, AmortisedAMP) for v in networks.values()):
        raise TypeError("networks must be a non-empty dict of AmortisedAMP")
    prior = next(iter(networks.values())).prior
    if any(v.prior != prior for v in networks.values()):
        raise ValueError("networks must share one prior")
    budgets = [check_positive_int("nfe", k, 4) for k in nfe]
    n_samples = check_positive_int("n_samples", n_samples, 2)
    rows = []
    for s in instance_seeds:
        model = SpikedWigner(check_positive_int("n", n, 2), _pos_real("lam", lam), prior,
                             seed=check_positive_int("instance seed", s, 0))
        planted = np.asarray(model.planted, dtype=float)
        for label, net in networks.items():
            for k in budgets:
                den = net.factory(device=device)(model)
                vel = AmortisedVelocity(net, model)
                runs = {"SL": (StochasticLocalization(den, n_steps=k - 1, T=sl_T), den),
                        "SI": (StochasticInterpolant(velocity=vel, n_steps=k // 2, T=si_T), vel)}
                for drv, (sampler, counter) in runs.items():
                    before = counter.n_evaluations
                    start = time.perf_counter()
                    res = sampler.sample(model, n_samples, seed=seed + s)
                    secs = time.perf_counter() - start
                    ov, q = _overlaps(np.asarray(res.x, dtype=float), planted)
                    rows.append({"network": label, "driver": drv, "nfe": k, "nfe_used": counter.n_evaluations - before,
                                 "instance_seed": int(s), "overlap": ov, "two_sample_overlap": q, "seconds": secs})
    return rows
