r"""Shared training utilities for the torch networks of ``samplers.neural``.

One loop, :func:`fit`, trains any ``torch.nn.Module`` by minimising a user loss over minibatches of a
data set, with a held-out split, early stopping and checkpointing.  The networks (MADE, denoisers,
flow-matching velocities) only provide the loss.

Conventions
-----------
* ``loss_fn(module, batch, generator) -> scalar tensor``: ``batch`` is a tuple of tensors (the rows of
  each tensor of ``data`` selected for this minibatch, already on the training device) and
  ``generator`` is a ``torch.Generator`` **on the CPU** seeded from ``TrainConfig.seed``; losses that draw
  noise (denoising, flow matching) draw it on the CPU with this generator and move it to the device, so
  that the numbers do not depend on the device's random streams.
* Optimiser: ``torch.optim.AdamW(lr, weight_decay)``; with ``weight_decay = 0`` this is exactly Adam.
* Minibatches: every epoch draws a fresh permutation of the training rows with the generator, and cuts it
  into ``ceil(N_train / batch_size)`` batches (the last one may be smaller).  The epoch's training loss
  is the batch-size-weighted mean of the batch losses.
* Held-out loss: computed under ``torch.no_grad()`` in ``eval()`` mode with a *separate* generator
  re-seeded to the same value every epoch, so the held-out loss is a deterministic function of the
  weights (noise-drawing losses see the same noise every epoch).  When ``val_data`` is not given, a
  fraction ``val_fraction`` of the rows (chosen with the seed) is held out; ``val_fraction = 0`` means no
  held-out set and no early stopping (the final weights are kept).
* Early stopping: an epoch improves when its held-out loss is below ``best - min_delta``; after
  ``patience`` epochs without improvement training stops, and in every case the weights of the best
  epoch are restored at the end.
* Reproducibility: on the CPU, the same module state, data and config give bit-for-bit the same weights
  and losses (nothing reads torch's global random state).
* A non-finite loss (nan / inf) raises :class:`NonFiniteLossError` naming the epoch and batch.

Checkpoints (:func:`save_checkpoint` / :func:`load_checkpoint`) hold the ``state_dict``, the
``TrainConfig`` (as a dict), a user ``extra`` dict of plain values and the package version; they load with
``torch.load(weights_only=True)``.

:func:`as_index_tensor` maps configurations on a model's alphabet (``model.alphabet``: sorted reals for
scalar models, colours 0..q-1 for Potts models) to alphabet indices 0..K-1, the networks' input format;
:func:`index_to_alphabet` is its inverse.
"""

from __future__ import annotations

import copy
import math
import numbers
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "pick_device", "TrainConfig", "TrainHistory", "NonFiniteLossError", "fit", "save_checkpoint",
    "load_checkpoint", "count_parameters", "as_index_tensor", "index_to_alphabet", "torch_seed", "NetworkModule",
    "fit_on_fresh_draws",
]

_DEVICE_RE = re.compile(r"^(cpu|cuda(:\d+)?|mps)$")


class NonFiniteLossError(ValueError):
    """A training loss (or the quantity it is computed from) became nan or inf; training was stopped."""


# -- devices ----------------------------------------------------------------------------------------------
def pick_device(device: str | torch.device | None = "auto") -> torch.device:
    """The torch device to train / sample on.

    ``"auto"`` or ``None``: CUDA (``cuda:0``) when available, else the CPU.  ``"cpu"``; ``"cuda"`` /
    ``"cuda:k"`` (``ValueError`` when CUDA is not available or k is not a visible device); ``"mps"``;
    or a ``torch.device``.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if isinstance(device, str):
        if not _DEVICE_RE.match(device):
            raise ValueError(f"device must be 'auto', None, 'cpu', 'cuda', 'cuda:k' or 'mps', got {device!r}")
        device = torch.device(device)
    if not isinstance(device, torch.device):
        raise TypeError(f"device must be a str, a torch.device or None, got {type(device).__name__}")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device = {str(device)!r} requested, but CUDA is not available (use 'auto' or 'cpu')")
        k = 0 if device.index is None else device.index
        if k >= torch.cuda.device_count():
            raise ValueError(f"device = {str(device)!r}: only {torch.cuda.device_count()} CUDA device(s) visible")
        return torch.device("cuda", k)
    if device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError("device = 'mps' requested, but MPS is not available")
    return device


def torch_seed(seed) -> int:
    """A non-negative 63-bit torch seed derived from ``seed`` (int, ``numpy.random.Generator`` or None).

    An int seed s always gives the same torch seed (the first draw of ``numpy.random.default_rng(s)``);
    a Generator is advanced by one draw; None gives fresh entropy.
    """
    from spinglass._validate import make_rng

    return int(make_rng(seed).integers(0, 2**63 - 1))


# -- configuration and history -----------------------------------------------------------------------------
def check_positive_int(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``; TypeError for non-integers (bool included), ValueError below it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def batch_and_time(x, t, width: int, *, device, dtype, names: tuple[str, str, str] = ("y", "t", "n")):
    """Checked network inputs: ``x`` a (B, width) tensor and ``t`` a scalar (broadcast to every row) or a (B,)
    tensor, both moved to ``device`` / ``dtype``.  ``names`` = (name of x, name of t, symbol of the width),
    used in the error messages."""
    xn, tn, wn = names
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{xn} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"{xn} must have shape (B, {wn}) = (B, {width}), got {tuple(x.shape)}")
    x = x.to(device=device, dtype=dtype)
    t = torch.as_tensor(t, dtype=dtype, device=device)
    if t.ndim == 0:
        t = t.expand(x.shape[0])
    if t.ndim != 1 or t.shape[0] != x.shape[0]:
        raise ValueError(f"{tn} must be a scalar or have shape (B,) = ({x.shape[0]},), got {tuple(t.shape)}")
    return x, t


def _int_field(name, value, minimum):
    return check_positive_int(f"TrainConfig.{name}", value, minimum)


def _real_field(name, value, lo, hi, *, lo_open=False, hi_open=False):
    rng = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"TrainConfig.{name} must be a real number in {rng}, got {type(value).__name__} {value!r}")
    value = float(value)
    bad = (math.isnan(value) or value < lo or value > hi or (lo_open and value == lo) or (hi_open and value == hi)
           or (math.isinf(value)))
    if bad:
        raise ValueError(f"TrainConfig.{name} must be a finite real number in {rng}, got {value}")
    return value


@dataclass
class TrainConfig:
    """Settings of :func:`fit` (validated at construction; ranges in brackets).

    epochs : maximal number of passes over the training rows [1, inf).
    batch_size : rows per minibatch [1, inf).
    lr : AdamW learning rate (0, inf).
    weight_decay : AdamW decoupled weight decay [0, inf) (0 = Adam).
    val_fraction : fraction of the rows held out when ``val_data`` is not given [0, 1); 0 = no early stopping.
    patience : epochs without improvement of the held-out loss before stopping [1, inf).
    min_delta : improvement below which an epoch does not count as better [0, inf).
    max_grad_norm : clip the global gradient 2-norm to this value (0, inf), or None for no clipping.
    seed : seed of the CPU generator for the split, the shuffling and the loss's noise [0, 2^63).
    device : "auto" / None (CUDA if available), "cpu", "cuda", "cuda:k" or "mps".
    progress : show a tqdm bar over epochs.
    compile : wrap the module's forward with ``Module.compile()`` during this fit only (removed afterwards;
        falls back with a warning when compilation fails).
    """

    epochs: int = 200
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    val_fraction: float = 0.1
    patience: int = 20
    min_delta: float = 0.0
    max_grad_norm: float | None = None
    seed: int = 0
    device: str | None = "auto"
    progress: bool = False
    compile: bool = False

    def __post_init__(self):
        self.epochs = _int_field("epochs", self.epochs, 1)
        self.batch_size = _int_field("batch_size", self.batch_size, 1)
        self.lr = _real_field("lr", self.lr, 0.0, math.inf, lo_open=True, hi_open=True)
        self.weight_decay = _real_field("weight_decay", self.weight_decay, 0.0, math.inf, hi_open=True)
        self.val_fraction = _real_field("val_fraction", self.val_fraction, 0.0, 1.0, hi_open=True)
        self.patience = _int_field("patience", self.patience, 1)
        self.min_delta = _real_field("min_delta", self.min_delta, 0.0, math.inf, hi_open=True)
        if self.max_grad_norm is not None:
            self.max_grad_norm = _real_field("max_grad_norm", self.max_grad_norm, 0.0, math.inf,
                                             lo_open=True, hi_open=True)
        self.seed = _int_field("seed", self.seed, 0)
        if self.seed >= 2**63:
            raise ValueError(f"TrainConfig.seed must be < 2^63, got {self.seed}")
        if self.device is not None and not isinstance(self.device, str):
            raise TypeError(f"TrainConfig.device must be a str or None, got {type(self.device).__name__}")
        if isinstance(self.device, str) and self.device != "auto" and not _DEVICE_RE.match(self.device):
            raise ValueError(f"TrainConfig.device must be 'auto', None, 'cpu', 'cuda', 'cuda:k' or 'mps', "
                             f"got {self.device!r}")
        for name in ("progress", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"TrainConfig.{name} must be a bool, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class TrainHistory:
    """What :func:`fit` did.

    train_loss / val_loss : per-epoch mean losses (val_loss empty without a held-out set).
    best_epoch : 0-based epoch whose weights were kept (the last epoch without a held-out set).
    best_val_loss : its held-out loss (nan without a held-out set).
    epochs_run : epochs completed.  stopped_early : whether patience ran out before ``epochs``.
    seconds : wall-clock training time.  device : the device trained on.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    best_val_loss: float = math.nan
    epochs_run: int = 0
    stopped_early: bool = False
    seconds: float = 0.0
    device: str = "cpu"


# -- the loop ------------------------------------------------------------------------------------------------
def _as_tuple(name: str, data) -> tuple[torch.Tensor, ...]:
    if isinstance(data, torch.Tensor):
        data = (data,)
    if not isinstance(data, tuple | list) or len(data) == 0:
        raise TypeError(f"{name} must be a torch.Tensor or a non-empty tuple of tensors, got {type(data).__name__}")
    for k, t in enumerate(data):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name}[{k}] must be a torch.Tensor, got {type(t).__name__}")
        if t.ndim == 0:
            raise ValueError(f"{name}[{k}] must have a leading (row) axis, got a 0-d tensor")
    n = data[0].shape[0]
    if any(t.shape[0] != n for t in data):
        raise ValueError(f"all tensors of {name} must have the same number of rows, got "
                         f"{[int(t.shape[0]) for t in data]}")
    if n == 0:
        raise ValueError(f"{name} has no rows")
    return tuple(data)


def _check_loss(loss, where: str) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(f"loss_fn must return a scalar torch.Tensor ({where}), got {type(loss).__name__}"
                        + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else ""))
    loss = loss.reshape(())
    if not torch.isfinite(loss.detach()):
        raise NonFiniteLossError(f"non-finite loss {loss.item()} at {where}; training stopped")
    return loss


def optimizer_step(module: torch.nn.Module, optimiser: torch.optim.Optimizer, loss: torch.Tensor,
                   max_grad_norm: float | None, where: str) -> None:
    """One gradient step on ``loss`` (optional gradient-norm clipping); raises ``NonFiniteLossError`` when
    a parameter becomes non-finite (the learning rate is too large), naming ``where``."""
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(module.parameters(), max_grad_norm)
    optimiser.step()
    for p in module.parameters():
        if not torch.isfinite(p.detach()).all():
            raise NonFiniteLossError(f"parameters became non-finite after the update at {where} "
                                     f"(loss {loss.item():.6g}); lower the learning rate")


def _compile_in_place(module: torch.nn.Module) -> bool:
    try:
        module.compile()
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means "run uncompiled"
        warnings.warn(f"torch.compile failed ({type(exc).__name__}: {exc}); training uncompiled", RuntimeWarning,
                      stacklevel=3)
        return False


def _uncompile(module: torch.nn.Module) -> None:
    if getattr(module, "_compiled_call_impl", None) is not None:
        module._compiled_call_impl = None


def fit(module: torch.nn.Module, loss_fn: Callable[..., torch.Tensor],
        data: torch.Tensor | tuple[torch.Tensor, ...], config: TrainConfig, *,
        val_data: torch.Tensor | tuple[torch.Tensor, ...] | None = None) -> TrainHistory:
    """Train ``module`` in place by minimising ``loss_fn`` over minibatches of ``data`` (module docstring).

    Parameters
    ----------
    module : the network; it is moved to the training device and left there with the best weights.
    loss_fn : ``loss_fn(module, batch, generator) -> scalar tensor`` (batch: tuple of tensors on the device,
        generator: a CPU ``torch.Generator``).
    data : a tensor or a tuple of tensors with the same number of rows N.
    config : a :class:`TrainConfig`.
    val_data : held-out rows in the same format (then ``config.val_fraction`` is not used).

    Returns
    -------
    A :class:`TrainHistory`.  Raises :class:`NonFiniteLossError` when a loss is nan / inf.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if not callable(loss_fn):
        raise TypeError("loss_fn must be callable as loss_fn(module, batch, generator)")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    data = _as_tuple("data", data)
    device = pick_device(config.device)
    gen = torch.Generator(device="cpu").manual_seed(config.seed)
    n_rows = int(data[0].shape[0])
    if val_data is not None:
        val = _as_tuple("val_data", val_data)
        if len(val) != len(data):
            raise ValueError(f"val_data must hold {len(data)} tensor(s) like data, got {len(val)}")
        train = data
    elif config.val_fraction > 0:
        n_val = max(1, int(round(config.val_fraction * n_rows)))
        if n_rows - n_val < 1:
            raise ValueError(f"data has {n_rows} row(s): too few to hold out val_fraction = {config.val_fraction} "
                             "and keep a training row (set val_fraction = 0 or pass val_data)")
        perm = torch.randperm(n_rows, generator=gen)
        val = tuple(t[perm[:n_val]] for t in data)
        train = tuple(t[perm[n_val:]] for t in data)
    else:
        val = None
        train = data
    module.to(device)
    train = tuple(t.to(device) for t in train)
    if val is not None:
        val = tuple(t.to(device) for t in val)
    n_train = int(train[0].shape[0])
    optimiser = torch.optim.AdamW(module.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    compiled = _compile_in_place(module) if config.compile else False

    hist = TrainHistory(device=str(device))
    best_state = None
    best = math.inf
    bad_epochs = 0
    bar = None
    epochs = range(config.epochs)
    if config.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.epochs, desc=f"fit {type(module).__name__}", unit="epoch")
    t0 = time.perf_counter()
    try:
        for epoch in epochs:
            module.train()
            perm = torch.randperm(n_train, generator=gen).to(device)
            total, count = 0.0, 0
            for b, start in enumerate(range(0, n_train, config.batch_size)):
                rows = perm[start:start + config.batch_size]
                batch = tuple(t[rows] for t in train)
                where = f"epoch {epoch}, batch {b}"
                try:
                    loss = loss_fn(module, batch, gen)
                except NonFiniteLossError:
                    raise
                except Exception as exc:
                    if not compiled or epoch or b:
                        raise
                    warnings.warn(f"torch.compile'd forward failed ({type(exc).__name__}: {exc}); "
                                  "training uncompiled", RuntimeWarning, stacklevel=2)
                    _uncompile(module)
                    compiled = False
                    loss = loss_fn(module, batch, gen)
                loss = _check_loss(loss, where)
                optimizer_step(module, optimiser, loss, config.max_grad_norm, where)
                total += loss.item() * rows.numel()
                count += rows.numel()
            hist.train_loss.append(total / count)
            hist.epochs_run = epoch + 1
            if val is not None:
                v = _evaluate(module, loss_fn, val, config, epoch)
                hist.val_loss.append(v)
                if v < best - config.min_delta:
                    best = v
                    hist.best_epoch = epoch
                    hist.best_val_loss = v
                    best_state = copy.deepcopy(module.state_dict())
                    bad_epochs = 0
                else:
                    bad_epochs += 1
            if bar is not None:
                post = {"train": f"{hist.train_loss[-1]:.4g}"}
                if val is not None:
                    post["val"] = f"{hist.val_loss[-1]:.4g}"
                bar.set_postfix(post)
                bar.update(1)
            if val is not None and bad_epochs >= config.patience:
                hist.stopped_early = epoch + 1 < config.epochs
                break
    finally:
        if bar is not None:
            bar.close()
        if compiled:
            _uncompile(module)
    if best_state is not None:
        module.load_state_dict(best_state)
    if val is None:
        hist.best_epoch = hist.epochs_run - 1
    module.eval()
    hist.seconds = time.perf_counter() - t0
    return hist


def _evaluate(module, loss_fn, val, config: TrainConfig, epoch: int) -> float:
    gen = torch.Generator(device="cpu").manual_seed((config.seed + 0x9E3779B97F4A7C15) % 2**63)
    n_val = int(val[0].shape[0])
    module.eval()
    total = 0.0
    with torch.no_grad():
        for b, start in enumerate(range(0, n_val, config.batch_size)):
            batch = tuple(t[start:start + config.batch_size] for t in val)
            loss = _check_loss(loss_fn(module, batch, gen), f"epoch {epoch}, validation batch {b}")
            total += loss.item() * batch[0].shape[0]
    return total / n_val


# -- checkpoints ------------------------------------------------------------------------------------------------
_PLAIN = (str, int, float, bool, type(None), torch.Tensor)


def _check_plain(name: str, value) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str | int):
                raise TypeError(f"{name} keys must be str or int, got {type(k).__name__}")
            _check_plain(f"{name}[{k!r}]", v)
    elif isinstance(value, list | tuple):
        for k, v in enumerate(value):
            _check_plain(f"{name}[{k}]", v)
    elif not isinstance(value, _PLAIN):
        raise TypeError(f"{name} must hold only dicts, lists, str, int, float, bool, None and tensors "
                        f"(loadable with weights_only=True), got {type(value).__name__}")


def save_checkpoint(path, module: torch.nn.Module, *, config: TrainConfig | None = None,
                    extra: dict | None = None) -> None:
    """Write ``module.state_dict()`` (moved to the CPU), ``config`` as a dict, ``extra`` and the package version.

    ``extra`` must hold plain values (dict / list / str / int / float / bool / None / tensors) so that
    the file loads with ``torch.load(weights_only=True)``; anything else raises ``TypeError``.
    Modules with a ``hparams`` attribute (e.g. ``MADE``) also store it, for reference.
    """
    from ..samples import package_version

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if config is not None and not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig or None, got {type(config).__name__}")
    if extra is not None and not isinstance(extra, dict):
        raise TypeError(f"extra must be a dict or None, got {type(extra).__name__}")
    if extra is not None:
        _check_plain("extra", extra)
    hparams = getattr(module, "hparams", None)
    payload: dict[str, Any] = {
        "format": "spinglass-neural-checkpoint/1",
        "module_class": type(module).__name__,
        "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()},
        "config": None if config is None else config.to_dict(),
        "extra": extra,
        "hparams": copy.deepcopy(hparams) if isinstance(hparams, dict) else None,
        "version": package_version(),
    }
    torch.save(payload, Path(path))


def load_checkpoint(path, module: torch.nn.Module) -> dict:
    """Load the weights saved by :func:`save_checkpoint` into ``module`` (on the module's device).

    Returns ``{"config": TrainConfig | None, "extra": dict | None, "version": str, "module_class": str,
    "hparams": dict | None}``.  Raises ``ValueError`` when the file is not such a checkpoint or the
    weights do not fit ``module`` (different shapes or keys).
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    try:
        payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    except OSError:
        raise
    except Exception as exc:  # unpickling / zip errors of a file that is not a torch checkpoint
        raise ValueError(f"{path} is not a checkpoint written by save_checkpoint (unreadable: "
                         f"{type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != "spinglass-neural-checkpoint/1":
        raise ValueError(f"{path} is not a checkpoint written by save_checkpoint")
    try:
        module.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise ValueError(f"checkpoint weights do not fit the {type(module).__name__} given: {exc}") from None
    cfg = payload.get("config")
    return {"config": None if cfg is None else TrainConfig.from_dict(cfg), "extra": payload.get("extra"),
            "version": payload.get("version"), "module_class": payload.get("module_class"),
            "hparams": payload.get("hparams")}


def count_parameters(module: torch.nn.Module) -> int:
    """Number of trainable scalars, sum of ``p.numel()`` over parameters with ``requires_grad``."""
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


class NetworkModule(torch.nn.Module):
    """What every network of this package reports: the device and dtype of its parameters and the number of
    trainable scalars (``count_parameters``)."""

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    @property
    def n_parameters(self) -> int:
        return count_parameters(self)


def fit_on_fresh_draws(network: torch.nn.Module, data, loss: Callable[..., torch.Tensor],
                       config: TrainConfig, *, steps_per_epoch: int, val_instances: int,
                       loss_takes_generator: bool = False) -> TrainHistory:
    """``fit`` on data drawn afresh at every step (planted pairs): ``data.draw(count, generator)`` returns a
    batch of ``count`` instances with ``.to(device)``, and ``loss(network, batch)`` is minimised.

    The rows ``fit`` shuffles are placeholders, one per instance (``steps_per_epoch`` x ``batch_size`` an
    epoch); the held-out set is ``val_instances`` fresh instances drawn with ``fit``'s validation generator (0:
    none, and then no early stopping; ``config.val_fraction`` is ignored).  With ``loss_takes_generator`` the
    loss is called as ``loss(network, batch, generator)`` with the generator that drew the batch (for randomness
    of its own, e.g. warm starts).
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    steps_per_epoch = check_positive_int("steps_per_epoch", steps_per_epoch, 1)
    val_instances = check_positive_int("val_instances", val_instances, 0)
    device = pick_device(config.device)
    rows = torch.zeros(steps_per_epoch * config.batch_size)
    val = torch.zeros(val_instances) if val_instances else None
    if val is None and config.val_fraction > 0:
        config = TrainConfig.from_dict({**config.to_dict(), "val_fraction": 0.0})

    def loss_fn(module, batch, gen):
        drawn = data.draw(int(batch[0].shape[0]), gen).to(device)
        return loss(module, drawn, gen) if loss_takes_generator else loss(module, drawn)

    return fit(network, loss_fn, rows, config, val_data=val)


# -- data on the alphabet -------------------------------------------------------------------------------------
def _alphabet(model) -> np.ndarray:
    from spinglass.base import Model

    if not isinstance(model, Model):
        raise TypeError(f"model must be a spinglass Model, got {type(model).__name__}")
    if model.alphabet is None:
        raise TypeError(f"{model.family} has a continuous prior: configurations have no alphabet index")
    return np.asarray(model.alphabet, dtype=float)


def as_index_tensor(model, x) -> torch.Tensor:
    """Alphabet indices of configurations ``x`` of shape (B, n) as a ``torch.LongTensor`` (B, n).

    Index a of entry x_bi is the position of x_bi in ``model.alphabet`` (sorted values for scalar
    models, e.g. Ising -1 -> 0, +1 -> 1; colour c -> c for Potts models), matched to 1e-9.
    ``x`` may be a numpy array, a tensor or a nested list.  Raises ``ValueError`` for a wrong shape, nan
    or entries off the alphabet, ``TypeError`` for non-numeric input or a continuous-prior model.
    """
    from spinglass.priors import alphabet_lookup

    alphabet = _alphabet(model)
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"x must hold real numbers on the alphabet {alphabet.tolist()}, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != model.n:
        raise ValueError(f"x must have shape (B, n) = (B, {model.n}), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("x has no rows")
    if not np.all(np.isfinite(arr)):
        raise ValueError("x contains nan or infinite entries")
    idx, hit = alphabet_lookup(alphabet, arr)
    if not np.all(hit):
        bad = arr[~hit][:5]
        raise ValueError(f"x has entries off the alphabet {alphabet.tolist()}: e.g. {bad.tolist()}")
    return torch.from_numpy(np.ascontiguousarray(idx, dtype=np.int64))


def index_to_alphabet(model, idx) -> np.ndarray:
    """Inverse of :func:`as_index_tensor`: ``model.alphabet[idx]`` as a numpy array (B, n)."""
    _alphabet(model)
    if isinstance(idx, torch.Tensor):
        idx = idx.detach().cpu().numpy()
    idx = np.asarray(idx)
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"idx must hold integers, got dtype {idx.dtype}")
    if idx.ndim != 2 or idx.shape[1] != model.n:
        raise ValueError(f"idx must have shape (B, n) = (B, {model.n}), got {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= model.n_values):
        raise ValueError(f"idx entries must lie in [0, {model.n_values - 1}]")
    return np.asarray(model.alphabet)[idx]
