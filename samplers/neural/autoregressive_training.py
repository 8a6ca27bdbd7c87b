r"""Training an autoregressive network (a MADE, or a PixelCNN on a lattice) on a model: maximum likelihood on
samples (MADE), or VAN from the energy alone (either network).

Notation: the target is mu(x) = w(x) / Z with log w(x) = ``model.log_weight(x)``
= sum_i log p0(x_i) - beta E(x) (``spinglass.base``; p0 = 1 on the support for the physics models with
counting measure, the normalised prior for posterior models), and q is the MADE's law on alphabet
indices, read on the alphabet through ``model.alphabet``.

Maximum likelihood (:func:`train_made_ml`).  Given samples x^(1..M) ~ mu, minimise the mean negative
log-likelihood  L(q) = -(1/M) sum_m log q(x^(m))  (nats per sample), i.e. the cross entropy
H(mu, q) = H(mu) + KL(mu || q) estimated on the data, with :func:`samplers.neural.training.fit`.

Variational autoregressive network (:func:`train_van`; Wu, Wang & Zhang, PRL 122, 080602 (2019)).
Without samples, minimise the variational free energy (dimensionless, "beta F")

    F_q = E_{x~q}[ log q(x) - log w(x) ] = -log Z + KL(q || mu)  >=  -log Z,

whose gradient is estimated by REINFORCE with the batch-mean baseline: for a batch x^(1..B) ~ q with
R_b = log q(x^(b)) - log w(x^(b)) and b = (1/B) sum_b R_b,

    grad F_q ≈ (1/B) sum_b (R_b - b) grad log q(x^(b))

(the score-function identity E_q[grad log q] = 0 makes the baseline unbiased up to O(1/B) and removes
the "+1" of d(q log q)).  Annealing: at step t the target is

    log w_t(x) = sum_i log p0(x_i) - s_t · beta · E(x),

i.e. **only the energy term is annealed**, the single-site prior (the reference measure of posterior
models, 0 for counting measure) is kept at full strength; s_t rises linearly from ``beta0`` to 1 over the
first ``anneal_fraction`` of the steps and stays at 1 (or follows an explicit ``beta_schedule``).  For
SK / Curie-Weiss this is ordinary inverse-temperature annealing beta_t = s_t beta; for posterior models
it anneals the likelihood (couplings, fields and global terms) while the prior stays exact.
Models at beta = inf (hard constraints) are refused: log w = -inf off the solutions makes F_q infinite.

Every step records the estimate of F_q at the *full* target (s = 1), its standard error
std(R)/sqrt(B), and the annealed objective.

Importance sampling (:func:`importance_log_z`).  With x^(1..S) ~ q and log w_s = log w(x^(s)) - log q(x^(s)),

    log Z_hat = logsumexp_s(log w_s) - log S,

a consistent estimator (biased low by Jensen, by about Var(w)/(2 S E[w]^2)); its delta-method standard
error is  std(w) / (sqrt(S) mean(w)),  and the effective sample size ESS = (sum w)^2 / sum w^2.
:func:`importance_summary` returns, from one batch of draws, log Z_hat with its standard error, ESS and
ESS / S, the variational free energy F_q = mean_s(log q - log w) with std / sqrt(S), E_q[E] and the
self-normalised IS energy sum_s w_s E_s / sum_s w_s.

Checkpoints: ``train_van(..., checkpoint=path)`` saves the network, the optimiser, the step and the sample
generator every ``checkpoint_every`` steps and resumes from the file when it exists (same settings).
"""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from .made import MADE
from .training import (
    NonFiniteLossError,
    TrainConfig,
    TrainHistory,
    as_index_tensor,
    check_positive_int,
    fit,
    index_to_alphabet,
    optimizer_step,
    pick_device,
)

__all__ = ["train_made_ml", "train_van", "VANResult", "importance_log_z", "ImportanceEstimate",
           "check_network_fits_model", "log_weight_of_index", "importance_summary", "ImportanceSummary"]


def check_network_fits_model(made, model) -> None:
    """``TypeError`` / ``ValueError`` unless ``made`` is an autoregressive network (a ``MADE`` or a
    ``PixelCNN``) with the model's n and alphabet size (and, for a PixelCNN, the model's 2D lattice shape)."""
    from spinglass.base import Model

    from .pixelcnn import PixelCNN

    if not isinstance(made, MADE | PixelCNN):
        raise TypeError(f"network must be a samplers.neural.MADE or PixelCNN, got {type(made).__name__}")
    if not isinstance(model, Model):
        raise TypeError(f"model must be a spinglass Model, got {type(model).__name__}")
    if model.alphabet is None:
        raise TypeError(f"{model.family} has a continuous prior: an autoregressive network needs a finite alphabet")
    if made.n != model.n or made.n_values != model.n_values:
        raise ValueError(f"the network has n = {made.n}, n_values = {made.n_values}, but the model has "
                         f"n = {model.n}, n_values = {model.n_values}")
    shape = getattr(model, "shape", None)
    if isinstance(made, PixelCNN) and shape is not None and tuple(shape) != (made.L, made.M):
        raise ValueError(f"the PixelCNN is a {made.L} x {made.M} lattice but the model's shape is {tuple(shape)}")


def log_weight_of_index(model, idx, energy_factor: float = 1.0) -> np.ndarray:
    """log p0(x) - energy_factor · beta · E(x) for alphabet indices ``idx`` (B, n); float64 array (B,).

    ``energy_factor = 1`` gives ``model.log_weight``; at beta = inf the hard constraint is kept
    (-inf off the zero-energy set) whatever the factor.
    """
    x = index_to_alphabet(model, idx)
    if energy_factor == 1.0 or math.isinf(model.beta):
        return np.asarray(model.log_weight(x), dtype=np.float64)
    return np.asarray(model.log_prior(x), dtype=np.float64) - energy_factor * model.beta * np.asarray(
        model.energy(x), dtype=np.float64)


# -- maximum likelihood ------------------------------------------------------------------------------------
def _nll(module, batch, generator):
    return -module.log_prob(batch[0]).mean()


def train_made_ml(made: MADE, model, x, config: TrainConfig | None = None, *, val_x=None) -> TrainHistory:
    """Maximum-likelihood training of ``made`` on samples ``x`` (B, n) on the model's alphabet (module docstring).

    The loss is the mean negative log-likelihood -(1/|batch|) sum log q(x) in nats per sample;
    ``val_x`` (optional) are held-out samples, otherwise ``config.val_fraction`` of ``x`` is held out.
    Returns the :class:`TrainHistory` of :func:`fit`; ``made`` keeps the best weights.
    """
    check_network_fits_model(made, model)
    config = TrainConfig() if config is None else config
    data = as_index_tensor(model, x)
    val = None if val_x is None else as_index_tensor(model, val_x)
    return fit(made, _nll, data, config, val_data=val)


# -- VAN -------------------------------------------------------------------------------------------------------
@dataclass
class VANResult:
    """Per-step record of :func:`train_van` (arrays of length n_steps).

    free_energy : estimate of F_q = E_q[log q - log w] at the full target (>= -log Z).
    free_energy_stderr : its standard error std(R)/sqrt(batch_size).
    objective : the annealed objective E_q[log q - log w_t] that was minimised.
    energy_factor : the annealing factor s_t multiplying beta·E.
    energy : batch mean of E(x).
    """

    free_energy: np.ndarray
    free_energy_stderr: np.ndarray
    objective: np.ndarray
    energy_factor: np.ndarray
    energy: np.ndarray
    n_steps: int
    batch_size: int
    lr: float
    seed: int
    seconds: float
    device: str
    settings: dict = field(default_factory=dict)

    def final_free_energy(self, last: int = 20) -> tuple[float, float]:
        """Mean of the F_q estimates of the last ``last`` steps and its standard error (steps taken as
        independent: each step draws a fresh batch; the weights change little over the window)."""
        if isinstance(last, bool) or not isinstance(last, numbers.Integral) or not 1 <= last <= self.n_steps:
            raise ValueError(f"last must be an integer in [1, n_steps = {self.n_steps}], got {last!r}")
        f = self.free_energy[-last:]
        se = self.free_energy_stderr[-last:]
        return float(f.mean()), float(np.sqrt(np.sum(se**2)) / last)


def _schedule(n_steps, beta0, anneal_fraction, beta_schedule) -> np.ndarray:
    if beta_schedule is not None:
        s = np.asarray(beta_schedule, dtype=float)
        if s.ndim != 1 or s.size < 1:
            raise ValueError("beta_schedule must be a non-empty 1-d sequence of energy factors")
        if not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError("beta_schedule entries must be finite and >= 0")
        return s
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral):
        raise TypeError(f"n_steps must be an integer >= 1, got {type(n_steps).__name__}")
    if n_steps < 1:
        raise ValueError(f"n_steps must be an integer >= 1, got {n_steps}")
    for name, v in (("beta0", beta0), ("anneal_fraction", anneal_fraction)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (0.0 <= float(v) <= 1.0):
            raise ValueError(f"{name} must be a real number in [0, 1], got {v!r}")
    t = np.arange(n_steps, dtype=float)
    n_anneal = anneal_fraction * n_steps
    ramp = np.ones(n_steps) if n_anneal <= 0 else np.minimum(1.0, t / n_anneal)
    return beta0 + (1.0 - beta0) * ramp


def train_van(made: MADE, model, *, n_steps: int = 1000, batch_size: int = 1000, lr: float = 1e-3,
              beta0: float = 0.1, anneal_fraction: float = 0.5, beta_schedule: Sequence[float] | None = None,
              weight_decay: float = 0.0, max_grad_norm: float | None = None, seed: int = 0,
              device: str | None = "auto", progress: bool = False, checkpoint: str | Path | None = None,
              checkpoint_every: int = 100) -> VANResult:
    """Variational (VAN) training of ``made`` towards ``model`` from its energy alone (module docstring).

    Parameters
    ----------
    n_steps : optimisation steps (ignored when ``beta_schedule`` is given: its length is used).
    batch_size : samples x ~ q per step (>= 2, for the baseline and the standard error).
    lr, weight_decay, max_grad_norm : AdamW settings and optional gradient clipping.
    beta0, anneal_fraction : the energy factor rises linearly from beta0 to 1 over the first
        anneal_fraction · n_steps steps.
    beta_schedule : explicit energy factors s_t, one per step (overrides the three above).
    seed : seed (int >= 0) of the CPU generator of the samples.
    device : "auto" / None, "cpu", "cuda[:k]"; ``made`` is moved there.
    progress : a tqdm bar when tqdm is installed (silently none otherwise).
    checkpoint : a file path; every ``checkpoint_every`` steps and at the end, ``torch.save`` writes there
        (atomically) the network's and the optimiser's state, the step reached, the sample generator's
        state and the per-step record.  When the file exists at the call, training *resumes* from it
        (its settings must equal this call's, else ``ValueError``), so an interrupted run continued with
        the same arguments ends with the same weights as an uninterrupted one (on the CPU).

    Raises :class:`NonFiniteLossError` when log q - log w_t or the weights become nan / inf.
    """
    check_network_fits_model(made, model)
    if math.isinf(model.beta):
        raise ValueError(f"train_van needs a finite model.beta, got beta = inf ({model.family}): the variational "
                         "free energy is infinite for any q giving weight to violated constraints")
    schedule = _schedule(n_steps, beta0, anneal_fraction, beta_schedule)
    n_steps = int(schedule.size)
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every, 1)
    if checkpoint is not None and not isinstance(checkpoint, str | Path):
        raise TypeError(f"checkpoint must be a path (str or pathlib.Path) or None, got {type(checkpoint).__name__}")
    cfg = TrainConfig(batch_size=batch_size, lr=lr, weight_decay=weight_decay, max_grad_norm=max_grad_norm,
                      seed=seed, device=device, progress=progress, epochs=1, val_fraction=0.0)
    if cfg.batch_size < 2:
        raise ValueError(f"batch_size must be an integer >= 2, got {batch_size}")
    dev = pick_device(cfg.device)
    made.to(dev)
    made.train()
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    opt = torch.optim.AdamW(made.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    F_full = np.empty(n_steps)
    F_se = np.empty(n_steps)
    obj = np.empty(n_steps)
    energy = np.empty(n_steps)
    settings = {"n_steps": n_steps, "batch_size": cfg.batch_size, "lr": cfg.lr, "beta0": beta0,
                "anneal_fraction": anneal_fraction, "explicit_schedule": beta_schedule is not None,
                "weight_decay": cfg.weight_decay, "max_grad_norm": cfg.max_grad_norm, "seed": cfg.seed}
    start, seconds_before = 0, 0.0
    if checkpoint is not None and Path(checkpoint).exists():
        start, seconds_before = _load_van_checkpoint(Path(checkpoint), made, opt, gen, settings, schedule,
                                                     (F_full, F_se, obj, energy))
    bar = None
    if cfg.progress:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=n_steps, initial=start, desc=f"VAN {model.family}", unit="step")
    B = cfg.batch_size
    t0 = time.perf_counter()
    try:
        for t in range(start, n_steps):
            s_t = float(schedule[t])
            idx = made.sample(B, gen)
            log_q = made.log_prob(idx)
            idx_np = idx.cpu().numpy()
            x = index_to_alphabet(model, idx_np)
            lp = np.asarray(model.log_prior(x), dtype=np.float64)
            e = np.asarray(model.energy(x), dtype=np.float64)
            lq = log_q.detach().to(torch.float64).cpu().numpy()
            r_full = lq - (lp - model.beta * e)
            r_t = lq - (lp - s_t * model.beta * e)
            if not (np.all(np.isfinite(r_full)) and np.all(np.isfinite(r_t))):
                raise NonFiniteLossError(f"step {t}: log q(x) - log w(x) is not finite for some samples "
                                         "(the network or the model's weights diverged)")
            adv = torch.as_tensor(r_t - r_t.mean(), dtype=log_q.dtype, device=dev)
            surrogate = (adv * log_q).mean()
            if not torch.isfinite(surrogate.detach()):
                raise NonFiniteLossError(f"step {t}: non-finite REINFORCE surrogate loss")
            optimizer_step(made, opt, surrogate, cfg.max_grad_norm, f"step {t} (lr = {cfg.lr})")
            F_full[t] = r_full.mean()
            F_se[t] = r_full.std(ddof=1) / math.sqrt(B)
            obj[t] = r_t.mean()
            energy[t] = e.mean()
            if bar is not None:
                bar.set_postfix({"F_q": f"{F_full[t]:.4g}", "s": f"{s_t:.3g}"})
                bar.update(1)
            if checkpoint is not None and ((t + 1) % checkpoint_every == 0 or t + 1 == n_steps):
                _save_van_checkpoint(Path(checkpoint), made, opt, gen, t + 1, settings, schedule,
                                     (F_full, F_se, obj, energy), seconds_before + time.perf_counter() - t0)
    finally:
        if bar is not None:
            bar.close()
    made.eval()
    return VANResult(free_energy=F_full, free_energy_stderr=F_se, objective=obj, energy_factor=schedule,
                     energy=energy, n_steps=n_steps, batch_size=B, lr=cfg.lr, seed=cfg.seed,
                     seconds=seconds_before + time.perf_counter() - t0, device=str(dev), settings=settings)


def _save_van_checkpoint(path: Path, made, opt, gen, step: int, settings: dict, schedule: np.ndarray,
                         records: tuple, seconds: float) -> None:
    """Write the resumable state of :func:`train_van` at ``step`` (steps done) to ``path``, atomically."""
    state = {"format": "train_van/1", "step": step, "settings": settings, "seconds": seconds,
             "schedule": torch.as_tensor(schedule), "network": made.state_dict(), "optimizer": opt.state_dict(),
             "generator": gen.get_state(), "records": [torch.as_tensor(r[:step].copy()) for r in records]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _load_van_checkpoint(path: Path, made, opt, gen, settings: dict, schedule: np.ndarray,
                         records: tuple) -> tuple[int, float]:
    """Restore a :func:`train_van` checkpoint into ``made``, ``opt``, ``gen`` and ``records``; returns
    (steps done, seconds spent)."""
    state = torch.load(path, map_location=made.device, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != "train_van/1":
        raise ValueError(f"checkpoint {str(path)!r} is not a train_van checkpoint")
    if state["settings"] != settings or not np.array_equal(state["schedule"].cpu().numpy(), schedule):
        raise ValueError(f"checkpoint {str(path)!r} was written with other settings ({state['settings']}) than "
                         f"this call ({settings}); remove it or call train_van with the same arguments")
    made.load_state_dict(state["network"])
    opt.load_state_dict(state["optimizer"])
    gen.set_state(state["generator"].cpu())
    step = int(state["step"])
    for dst, src in zip(records, state["records"], strict=True):
        dst[:step] = src.cpu().numpy()
    return step, float(state["seconds"])


# -- importance sampling -----------------------------------------------------------------------------------
class ImportanceEstimate(NamedTuple):
    """log Z_hat, its delta-method standard error and the effective sample size (module docstring)."""

    log_z: float
    stderr: float
    ess: float


def importance_log_z(made: MADE, model, n_samples: int, seed: int = 0, *,
                     batch_size: int = 65536) -> ImportanceEstimate:
    """Estimate log Z by importance sampling with proposal q = ``made`` (module docstring).

    Returns ``(log_z, stderr, ess)``; when no sample has positive weight, ``(-inf, inf, 0.0)``.
    """
    check_network_fits_model(made, model)
    for name, v, lo in (("n_samples", n_samples, 1), ("seed", seed, 0), ("batch_size", batch_size, 1)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name} must be an integer >= {lo}, got {type(v).__name__}")
        if v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v}")
    log_w, _ = _importance_draws(made, model, n_samples, seed, batch_size)
    return _log_z_from_weights(log_w)


def _importance_draws(made, model, n_samples: int, seed: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """log w(x) - log q(x) and E(x) for ``n_samples`` draws x ~ q (CPU generator seeded with ``seed``)."""
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    was_training = made.training
    made.eval()
    parts, energies = [], []
    with torch.no_grad():
        for start in range(0, n_samples, batch_size):
            b = min(batch_size, n_samples - start)
            idx = made.sample(b, gen)
            lq = made.log_prob(idx).to(torch.float64).cpu().numpy()
            idx_np = idx.cpu().numpy()
            parts.append(log_weight_of_index(model, idx_np) - lq)
            energies.append(np.asarray(model.energy(index_to_alphabet(model, idx_np)), dtype=np.float64))
    made.train(was_training)
    return np.concatenate(parts), np.concatenate(energies)


def _log_z_from_weights(log_w: np.ndarray) -> ImportanceEstimate:
    n_samples = log_w.size
    if np.any(np.isnan(log_w)) or np.any(log_w == np.inf):
        raise NonFiniteLossError("importance log-weights are nan or +inf")
    top = float(np.max(log_w))
    if not math.isfinite(top):
        return ImportanceEstimate(-math.inf, math.inf, 0.0)
    w = np.exp(log_w - top)
    mean = w.mean()
    log_z = top + math.log(mean)
    stderr = float(w.std(ddof=1) / (math.sqrt(n_samples) * mean)) if n_samples > 1 else math.inf
    ess = float(w.sum() ** 2 / np.sum(w**2))
    return ImportanceEstimate(float(log_z), stderr, ess)


@dataclass(frozen=True)
class ImportanceSummary:
    """What one batch of S draws x ~ q tells about the target (:func:`importance_summary`).

    log_z, log_z_stderr, ess : as :func:`importance_log_z` (ESS = (sum w)^2 / sum w^2).
    ess_fraction : ESS / S, in (0, 1]; 1 when q = mu.
    free_energy, free_energy_stderr : F_q = E_q[log q - log w] (dimensionless, >= -log Z) and std / sqrt(S).
    energy_q, energy_q_stderr : E_q[E] and its standard error (the network's own mean energy).
    energy_is : the self-normalised importance estimate sum_s w_s E_s / sum_s w_s of E_mu[E].
    n_samples : S.
    """

    log_z: float
    log_z_stderr: float
    ess: float
    ess_fraction: float
    free_energy: float
    free_energy_stderr: float
    energy_q: float
    energy_q_stderr: float
    energy_is: float
    n_samples: int


def importance_summary(made, model, n_samples: int, seed: int = 0, *, batch_size: int = 65536) -> ImportanceSummary:
    """IS log Z (with standard error and ESS), the variational free energy F_q and the energies, all from the
    same ``n_samples`` draws of ``made`` (module docstring for the estimators)."""
    check_network_fits_model(made, model)
    for name, v, lo in (("n_samples", n_samples, 2), ("seed", seed, 0), ("batch_size", batch_size, 1)):
        check_positive_int(name, v, lo)
    log_w, energy = _importance_draws(made, model, n_samples, seed, batch_size)
    est = _log_z_from_weights(log_w)
    finite = np.isfinite(log_w)
    r = -log_w
    if finite.any():
        w = np.exp(log_w[finite] - log_w[finite].max())
        e_is = float(np.sum(w * energy[finite]) / np.sum(w))
    else:
        e_is = math.nan
    sq = math.sqrt(n_samples)
    return ImportanceSummary(log_z=est.log_z, log_z_stderr=est.stderr, ess=est.ess, ess_fraction=est.ess / n_samples,
                             free_energy=float(r.mean()), free_energy_stderr=float(r.std(ddof=1) / sq),
                             energy_q=float(energy.mean()), energy_q_stderr=float(energy.std(ddof=1) / sq),
                             energy_is=e_is, n_samples=int(n_samples))
