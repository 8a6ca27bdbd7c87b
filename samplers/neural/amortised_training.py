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
from .planted_data import PlantedBatch, PlantedSpikedWigner
from .training import TrainConfig, TrainHistory, check_positive_int, fit_on_fresh_draws, pick_device

__all__ = ["PlantedMSE", "planted_denoising_loss", "train_amortised_denoiser", "planted_mse"]


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


def planted_denoising_loss(network: AmortisedAMP, batch: PlantedBatch) -> torch.Tensor:
    """Mean over instances, rows and sites of (m_theta - x*)^2 (module docstring); batch on the network's device."""
    mean = network(batch.J, batch.y, batch.t, batch.lam) if batch.revealed is None else \
        network(batch.J, batch.y, batch.t, batch.lam, batch.revealed)
    return ((mean - batch.x[:, None, :]) ** 2).mean()


def train_amortised_denoiser(network: AmortisedAMP, data: PlantedSpikedWigner, config: TrainConfig | None = None, *,
                             steps_per_epoch: int = 50, val_instances: int = 8) -> TrainHistory:
    """Train ``network`` on fresh planted pairs from ``data`` with ``fit`` (module docstring).

    config : ``TrainConfig``; ``batch_size`` = instances per step, ``epochs`` x ``steps_per_epoch`` steps at most;
        ``val_fraction`` is ignored (the held-out instances are ``val_instances`` fresh ones; 0 = no held-out set,
        no early stopping).  steps_per_epoch : optimiser steps per epoch (>= 1).
    Returns the ``TrainHistory``; a non-finite loss raises ``NonFiniteLossError``.
    """
    _check_pair(network, data)
    return fit_on_fresh_draws(network, data, planted_denoising_loss, TrainConfig(batch_size=2) if config is None
                              else config, steps_per_epoch=steps_per_epoch, val_instances=val_instances)


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
