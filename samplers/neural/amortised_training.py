r"""Training and evaluating an ``AmortisedAMP`` on fresh planted spiked-Wigner pairs.

Loss (``planted_denoising_loss``).  For a batch of I fresh instances (J, lam, x*) with R side observations
y = t x* + sqrt(t) z each (``PlantedSpikedWigner.draw``),

    L(theta) = (1 / (I R n)) sum_{instances, rows, sites} ( m_theta(J, y, t, lam)_i - x*_i )^2,

an unbiased estimate of E||m_theta - x*||^2 / n under the joint law, whose minimiser over all functions is
the posterior mean E[x | J, y_t] (``samplers.neural.planted_data``).  On the erasure channel
(``channel="erasure"`` data, an ``erasure=True`` network) the rows reveal x* on uniform subsets of
round(theta n) sites and the same loss, still averaged over all n sites (the revealed ones contribute 0, as
the network returns x* there), is minimised by E[x | J, x_S = x*_S].

Training (``train_amortised_denoiser``) reuses ``samplers.neural.training.fit`` unchanged: the "data" are
dummy rows (one per instance to draw), so a minibatch of ``TrainConfig.batch_size`` rows means
I = batch_size fresh instances drawn inside the loss with fit's CPU generator (``steps_per_epoch`` steps per
epoch).  The held-out loss is computed on ``val_instances`` instances drawn from fit's held-out generator,
which is re-seeded every epoch: the same held-out instances every epoch, so early stopping (patience,
best-epoch weights restored), checkpoints, the non-finite-loss error and the tqdm bar of ``fit`` apply as
documented there.

Warm starts (``WarmStarts``; the sampler's own queries).  Along a path the drivers run the network with a warm
start: a query continues from the final state of the previous one, at the earlier time t' < t, after up to
``max_passes`` passes (``AmortisedDenoiser``).  A network trained only from the prior start never sees such a
state, and its learned corrections may move an iterate that AMP would keep (measured in issue 17: the samples
of a warm-started trained network sit above AMP's in energy, while the untrained one equals AMP).  With
``warm=WarmStarts(...)`` a fraction of the rows of every instance starts instead from the network's own state
at an earlier time of the same planted path: t' = u t with u ~ U[ratio_min, 1], and

    y_t' = (t'/t) y_t + sqrt(t' (t - t') / t) xi,    xi ~ N(0, I_n)

(the Brownian bridge: given y_t, the earlier observation of the path y_s = s x* + W_s does not depend on x*),
the state being ``passes`` passes of the network at (y_t', t') from the random start f^0 = E_p0[x] +
init_scale z, v^0 = Var_p0[x], f^{-1} = 0, computed without gradient.  The loss row is then one pass at
(y_t, t) from that state, with gradient.  Since the state is a function of y_t' only, which given y_t is
independent of x*, the minimiser of the loss is still the posterior mean E[x | J, y_t]: the warm start is side
information that can only help to compute it.  Gaussian channel only.  Cost per step: ``passes`` forward passes
on the warm rows besides the usual pass with gradient.

Sign-invariant loss (``sign_invariant=True``).  For a sign-symmetric prior and an even interaction order the law
is invariant under x -> -x, and at small t the posterior is two mirror lobes of equal weight: its mean is near 0
although each lobe is far from it.  AMP run from a random start along a path commits to one lobe early (the drift
then follows it, and the samples fall in either lobe with probability 1/2), which is how the AMP-driven samplers
sample the mixture.  The plain loss teaches a network the opposite: to shrink a committed iterate back to the
mirror-symmetric mean, which a network of L layers cannot then undo.  The sign-invariant loss scores each row
against the nearer of x* and -x*, min(||m - x*||^2, ||m + x*||^2) / n.  Since ||m - s x||^2 = ||m||^2 + ||x||^2 -
2 s <m, x>, the nearer sign is s = sign(<m, x>), and a minimiser satisfies m = E[sign(<x, m>) x | J, y_t]: the
mean of the lobe it points to (either lobe, as AMP's branch), not the mirror-symmetric mean.  Where y_t already
fixes the sign (t n >> 1 in the scaling of this model) it is the plain loss.

Evaluation (``planted_mse``).  At each t of a grid, the MSE (1/n)||m_theta(J, y, t) - x*||^2 averaged over
``n_instances`` fresh instances (R rows each); the standard error is over instances (rows of one instance
are correlated through J and x*).  The Bayes-optimal reference (state evolution) lives in
``analysis.measures.learned``: this module stays below ``analysis`` in the layering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .amortised_amp import AmortisedAMP
from .planted_data import PlantedBatch, PlantedSpikedWigner, check_cpu_generator
from .training import TrainConfig, TrainHistory, check_positive_int, fit_on_fresh_draws, pick_device

__all__ = ["PlantedMSE", "WarmStarts", "planted_denoising_loss", "train_amortised_denoiser", "planted_mse"]


def _check_pair(network, data) -> None:
    if not isinstance(network, AmortisedAMP):
        raise TypeError(f"network must be an AmortisedAMP, got {type(network).__name__}")
    if not isinstance(data, PlantedSpikedWigner):
        raise TypeError(f"data must be a PlantedSpikedWigner, got {type(data).__name__}")
    if data.p != network.p:
        raise ValueError(f"data has interaction order p = {data.p} but the network was built for p = {network.p}")
    if data.prior != network.prior:
        raise ValueError(f"data has prior {data.prior.describe()} but the network was built for "
                         f"{network.prior.describe()}")
    if getattr(data, "channel", "gaussian") == "erasure" and not network.erasure:
        raise ValueError("data has channel='erasure' but the network was built with erasure=False (Gaussian channel "
                         "only): build the AmortisedAMP with erasure=True")


@dataclass(frozen=True)
class WarmStarts:
    """Rows trained from the network's own warm state at an earlier time of the planted path (module docstring).

    fraction : share of each instance's rows that start warm, in [0, 1]: the first max(1, floor(fraction R + 1/2))
        rows (none when fraction is 0).
    passes : passes of the network at the earlier time (>= 1), without gradient.
    ratio_min : t' / t is uniform on [ratio_min, 1], ratio_min in (0, 1].
    init_scale : size of the random start of those passes (>= 0; the drivers' default 1e-3).
    """

    fraction: float = 0.5
    passes: int = 4
    ratio_min: float = 0.7
    init_scale: float = 1e-3

    def __post_init__(self):
        for name, lo, hi in (("fraction", 0.0, 1.0), ("ratio_min", 0.0, 1.0), ("init_scale", 0.0, math.inf)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not lo <= v <= hi \
                    or (name == "ratio_min" and v == 0):
                rng = "(0, 1]" if name == "ratio_min" else ("[0, 1]" if name == "fraction" else ">= 0 and finite")
                raise ValueError(f"WarmStarts.{name} must be a real number in {rng}, got {v!r}")
        check_positive_int("WarmStarts.passes", self.passes, 1)

    def to_dict(self) -> dict:
        return {"fraction": self.fraction, "passes": self.passes, "ratio_min": self.ratio_min,
                "init_scale": self.init_scale}


def earlier_observation(y: torch.Tensor, t: torch.Tensor, u: torch.Tensor, xi: torch.Tensor
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """The observation of the same planted path at t' = u t, given y_t (the Brownian bridge of the module docstring):
    y_t' = (t'/t) y_t + sqrt(t' (t - t') / t) xi.  y (..., n) and xi (..., n); t and u (...), u in [0, 1].  Rows at
    t = 0 give t' = 0 and y_t' = 0.  t, u and xi may live on any device (the arithmetic runs in float64 on the CPU).
    Returns (y_t', t') in y's device and dtype."""
    dev, dt = y.device, y.dtype
    t = t.to(device="cpu", dtype=torch.float64)
    xi = xi.to(device="cpu", dtype=torch.float64)
    tw = u.to(device="cpu", dtype=torch.float64) * t
    safe = torch.where(t > 0, t, torch.ones_like(t))
    scale = torch.where(t > 0, tw / safe, torch.zeros_like(t))
    spread = torch.sqrt(torch.clamp(tw * (t - tw) / safe, min=0.0))
    yw = scale[..., None].to(dev, dt) * y + (spread[..., None] * xi).to(dev, dt)
    return yw, tw.to(dev, dt)


def _warm_state(network: AmortisedAMP, batch: PlantedBatch, warm: WarmStarts, generator: torch.Generator):
    """(f, v, f_prev) of shape (I, R, n): the warm rows' own state at t' = u t (module docstring), the prior start
    on the other rows.  None when no row starts warm."""
    I, R, n = batch.y.shape
    if warm.fraction == 0:
        return None
    k = max(1, math.floor(warm.fraction * R + 0.5))
    dev, dt = batch.y.device, batch.y.dtype
    u = warm.ratio_min + (1.0 - warm.ratio_min) * torch.rand((I, k), generator=generator, dtype=torch.float64)
    xi = torch.randn((I, k, n), generator=generator, dtype=torch.float64)
    z = torch.randn((I, k, n), generator=generator, dtype=torch.float64)
    yw, tw = earlier_observation(batch.y[:, :k], batch.t[:, :k], u, xi)
    f = (network.prior_mean + warm.init_scale * z).to(dev, dt)
    state = (f, torch.full_like(f, network.prior_var), torch.zeros_like(f))
    with torch.no_grad():
        for _ in range(warm.passes):
            _, _, state = network.iterate(batch.J, yw, tw, batch.lam, state)
    cold = (torch.full((I, R - k, n), network.prior_mean, device=dev, dtype=dt),
            torch.full((I, R - k, n), network.prior_var, device=dev, dtype=dt),
            torch.zeros((I, R - k, n), device=dev, dtype=dt))
    return tuple(torch.cat([w.detach(), c], dim=1) for w, c in zip(state, cold, strict=True))


def _check_options(warm, sign_invariant) -> None:
    """TypeError unless ``warm`` is None or a ``WarmStarts`` and ``sign_invariant`` a bool."""
    if warm is not None and not isinstance(warm, WarmStarts):
        raise TypeError(f"warm must be None or a WarmStarts, got {type(warm).__name__}")
    if not isinstance(sign_invariant, bool):
        raise TypeError(f"sign_invariant must be a bool, got {type(sign_invariant).__name__}")


def planted_denoising_loss(network: AmortisedAMP, batch: PlantedBatch, warm: WarmStarts | None = None,
                           generator: torch.Generator | None = None, *, sign_invariant: bool = False) -> torch.Tensor:
    """Mean over instances, rows and sites of (m_theta - x*)^2 (module docstring); batch on the network's device.

    warm : None (every row from the prior start) or ``WarmStarts`` (Gaussian channel; needs ``generator``, a CPU
    generator for the earlier observations and the random starts).
    sign_invariant : score each row against the nearer of x* and -x*, min(||m - x*||^2, ||m + x*||^2) / n (module
    docstring; for a law invariant under x -> -x only).
    """
    _check_options(warm, sign_invariant)
    if warm is not None and batch.revealed is None:
        check_cpu_generator(generator)  # the earlier observations and random starts are drawn from it
        state = _warm_state(network, batch, warm, generator)
        mean = network.iterate(batch.J, batch.y, batch.t, batch.lam, state)[0]
    elif batch.revealed is None:
        mean = network(batch.J, batch.y, batch.t, batch.lam)
    else:
        if warm is not None:
            raise ValueError("warm: warm starts are defined on the Gaussian channel only")
        mean = network(batch.J, batch.y, batch.t, batch.lam, batch.revealed)
    x = batch.x[:, None, :]
    if sign_invariant:
        return torch.minimum(((mean - x) ** 2).mean(dim=-1), ((mean + x) ** 2).mean(dim=-1)).mean()
    return ((mean - x) ** 2).mean()


def train_amortised_denoiser(network: AmortisedAMP, data: PlantedSpikedWigner, config: TrainConfig | None = None, *,
                             steps_per_epoch: int = 50, val_instances: int = 8,
                             warm: WarmStarts | None = None, sign_invariant: bool = False) -> TrainHistory:
    """Train ``network`` on fresh planted pairs from ``data`` with ``fit`` (module docstring).

    config : ``TrainConfig``; ``batch_size`` = instances per step, ``epochs`` x ``steps_per_epoch`` steps at most;
        ``val_fraction`` is ignored (the held-out instances are ``val_instances`` fresh ones; 0 = no held-out set,
        no early stopping).  steps_per_epoch : optimiser steps per epoch (>= 1).
    warm : None (every row from the prior start, the default) or ``WarmStarts``: some rows start from the
        network's own state at an earlier time of the path (module docstring; Gaussian channel only); the held-out
        loss uses the same rows.
    sign_invariant : train with the sign-invariant loss (module docstring); needs a law invariant under x -> -x
        (a sign-symmetric prior and an even interaction order p).
    Returns the ``TrainHistory``; a non-finite loss raises ``NonFiniteLossError``.
    """
    _check_pair(network, data)
    _check_options(warm, sign_invariant)
    if warm is not None and getattr(data, "channel", "gaussian") != "gaussian":
        raise ValueError("warm: warm starts are defined on the Gaussian channel only; the data have "
                         f"channel={data.channel!r}")
    if sign_invariant and getattr(data, "channel", "gaussian") != "gaussian":
        raise ValueError("sign_invariant: revealed variables break the x -> -x symmetry; the sign-invariant loss is "
                         f"defined on the Gaussian channel only, the data have channel={data.channel!r}")
    if sign_invariant and not (network.symmetric and network.p % 2 == 0):
        raise ValueError(f"sign_invariant: the law must be invariant under x -> -x, which needs a sign-symmetric "
                         f"prior and an even p; got prior {network.prior.describe()} and p = {network.p}")
    config = TrainConfig(batch_size=2) if config is None else config
    if warm is None and not sign_invariant:
        return fit_on_fresh_draws(network, data, planted_denoising_loss, config, steps_per_epoch=steps_per_epoch,
                                  val_instances=val_instances)

    def loss(module, batch, generator):
        return planted_denoising_loss(module, batch, warm, generator, sign_invariant=sign_invariant)

    return fit_on_fresh_draws(network, data, loss, config, steps_per_epoch=steps_per_epoch,
                              val_instances=val_instances, loss_takes_generator=True)


@dataclass
class PlantedMSE:
    """MSE(t) of a denoiser on fresh planted instances (``planted_mse``).

    t : (T,) path times, or revealed fractions theta on the erasure channel (``channel``).  mse : (T,) mean over
    instances of the per-instance MSE (over all n sites).  stderr : (T,) its standard
    error over instances.  per_instance : (T, I) the per-instance MSEs.  n : variables.  rows_per_instance : R.
    """

    t: np.ndarray
    mse: np.ndarray
    stderr: np.ndarray
    per_instance: np.ndarray
    n: int
    rows_per_instance: int
    channel: str = "gaussian"


def planted_mse(network: AmortisedAMP, data: PlantedSpikedWigner, ts, n_instances: int = 8, seed: int = 0, *,
                device="auto", chunk: int = 1, zero_couplings: bool = False) -> PlantedMSE:
    """MSE(t) of ``network`` on ``n_instances`` fresh instances of ``data`` at every t of ``ts`` (module docstring).

    On ``channel="erasure"`` data, ``ts`` are revealed fractions theta in [0, 1] (MSE(theta)).
    seed : seed of the CPU generator (the instances differ between t values).  chunk : instances per
    forward pass.  zero_couplings : replace J by 0 (the network then sees no instance: an ablation).
    """
    _check_pair(network, data)
    ts = np.asarray(ts, dtype=float).ravel()
    erasure = getattr(data, "channel", "gaussian") == "erasure"
    if ts.size == 0 or not np.all(np.isfinite(ts)) or np.any(ts < 0):
        raise ValueError("ts must be a non-empty array of finite path times t >= 0")
    if erasure and np.any(ts > 1):
        raise ValueError("ts: on the erasure channel the grid holds revealed fractions theta in [0, 1]")
    n_instances = check_positive_int("n_instances", n_instances, 1)
    chunk = check_positive_int("chunk", chunk, 1)
    dev = pick_device(device)
    network.to(dev)
    gen = torch.Generator(device="cpu").manual_seed(check_positive_int("seed", seed, 0))
    was_training = network.training
    network.eval()
    per = np.zeros((ts.size, n_instances))
    try:
        with torch.no_grad():
            for k, t in enumerate(ts):
                for lo in range(0, n_instances, chunk):
                    count = min(chunk, n_instances - lo)
                    pb = (data.draw(count, gen, theta=float(t)) if erasure else data.draw(count, gen, t=float(t)))
                    pb = pb.to(dev)
                    J = torch.zeros_like(pb.J) if zero_couplings else pb.J
                    m = (network(J, pb.y, pb.t, pb.lam) if pb.revealed is None
                         else network(J, pb.y, pb.t, pb.lam, pb.revealed))
                    err = ((m - pb.x[:, None, :]) ** 2).mean(dim=(1, 2))
                    per[k, lo:lo + err.shape[0]] = err.double().cpu().numpy()
    finally:
        network.train(was_training)
    se = per.std(axis=1, ddof=1) / math.sqrt(n_instances) if n_instances > 1 else np.full(ts.size, np.nan)
    return PlantedMSE(t=ts, mse=per.mean(axis=1), stderr=se, per_instance=per, n=data.n,
                      rows_per_instance=data.rows_per_instance, channel="erasure" if erasure else "gaussian")
