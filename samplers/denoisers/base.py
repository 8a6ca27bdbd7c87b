r"""The ``Denoiser`` protocol: Bayes-optimal (or learned) posterior means along a denoising path.

Every generative sampler is a thin driver over a denoiser (docs/architecture.md, docs/physics.md §2-§3).  A denoiser of
a model mu answers questions about the *tilted and conditioned* posterior

    mu_{y,t,R}(x) ∝ mu(x) · exp(<y, x> - t |x|^2 / 2) · 1[x_i = r_i for i in R],

which covers both channels:

* Gaussian channel (diffusion / stochastic localisation, flows): y = t x* + B_t, i.e. a side observation
  at signal-to-noise ratio t; the denoiser is m(y, t) = E_{mu_{y,t}}[x].
* Erasure channel (autoregressive samplers): the variables in R are revealed (``revealed`` holds their
  alphabet indices, -1 for the free ones); the denoiser returns the conditional single-site marginals.

For Potts / colouring models a variable is its one-hot vector in R^q (docs/physics.md §1): y has shape
(..., n, q), ``mean`` returns E[one-hot] of shape (..., n, q) and |x|^2 = 1 is constant.

Shapes: a single query is ``y`` of shape (n,) (scalar models) or (n, q) (Potts); a batch adds a leading
axis B.  ``t`` is a scalar or one value per batch row.  ``revealed`` is (n,) or (B, n) of int alphabet
indices with -1 meaning free.  The output always carries the batch axis.

Iterative denoisers (AMP, BP) report convergence per batch row; a caller must never receive a silent
number from a run that did not converge: ``DenoiserOutput.converged`` says which rows did, and
``Denoiser.posterior`` warns (``NonConvergenceWarning``) when some did not.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from spinglass.base import Model


class NonConvergenceWarning(RuntimeWarning):
    """An iterative denoiser stopped at its iteration cap before meeting its tolerance."""


class ContradictionError(ValueError):
    """Hard constraints (beta = inf) and the revealed values leave no configuration of positive weight, as far
    as the (possibly approximate) denoiser can tell; ``row`` is the batch row where it was found."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.row = row


@dataclass
class DenoiserOutput:
    """The answer of a denoiser to a batch of B queries.

    Attributes
    ----------
    mean : (B, n) posterior means E[x_i] (scalar models) or (B, n, q) one-hot means (Potts).
    marginals : (B, n, K) posterior probabilities of each alphabet value (K = |A|, or q for Potts), or
        None when the prior is continuous.
    converged : (B,) bool, whether the iteration met its tolerance (always True for exact denoisers).
    iterations : (B,) iterations used (0 for exact denoisers).
    residual : (B,) final max-abs change of the iterate (0 for exact denoisers).
    free_entropy : (B,) free entropy per variable of the tilted posterior (log normaliser / n, Bethe or
        TAP approximation for BP / AMP), or None when not computed.
    trace : per-iteration diagnostics, e.g. ``{"residual": (B, T)}`` (empty for exact denoisers).
    """

    mean: np.ndarray
    marginals: np.ndarray | None
    converged: np.ndarray
    iterations: np.ndarray
    residual: np.ndarray
    free_entropy: np.ndarray | None = None
    trace: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def all_converged(self) -> bool:
        return bool(np.all(self.converged))


class Denoiser(ABC):
    """Posterior means and marginals of ``model`` under a side Gaussian channel and/or revealed variables.

    Subclasses implement ``_posterior(y, t, revealed)`` on validated, batched inputs (y: (B, n) or
    (B, n, q) float, t: (B,) float >= 0, revealed: (B, n) int with -1 for free variables).
    """

    model: Model

    @abstractmethod
    def _posterior(self, y: np.ndarray, t: np.ndarray, revealed: np.ndarray) -> DenoiserOutput:
        """The posterior summary for validated batched inputs."""

    def describe(self) -> dict:
        """Name and settings of the denoiser (JSON-friendly)."""
        return {"name": type(self).__name__}

    def reset(self, rng: np.random.Generator | None = None) -> None:
        """Forget any state carried from one query to the next (warm starts); drivers call it per batch.

        ``rng``: the sampler's run generator, from which an iterative denoiser draws its random starts
        for the run, so that the samples depend on the sampler's seed only.
        """
        return None

    # -- public API -------------------------------------------------------------------------------------
    @property
    def n_values(self) -> int:
        """Number of values a variable takes (|A|, or q for Potts)."""
        q = getattr(self.model, "q", None)
        if q is not None:
            return int(q)
        return int(self.model.n_values)

    @property
    def one_hot(self) -> bool:
        """True for Potts models, whose variables enter the Gaussian channel as one-hot vectors."""
        return getattr(self.model, "q", None) is not None

    def posterior(self, y=None, t=0.0, revealed=None) -> DenoiserOutput:
        """Summary of mu_{y,t,R} (module docstring); ``y = None`` means no side observation (y = 0)."""
        y_arr, t_arr, rev = self._validate(y, t, revealed)
        out = self._posterior(y_arr, t_arr, rev)
        if not out.all_converged:
            bad = int(np.sum(~np.asarray(out.converged)))
            warnings.warn(f"{type(self).__name__}: {bad} of {len(out.converged)} queries did not converge "
                          "(see DenoiserOutput.converged / residual)", NonConvergenceWarning, stacklevel=2)
        return out

    def mean(self, y, t) -> np.ndarray:
        """Gaussian-channel denoiser m(y, t) = E[x | y_t = y]; shape (B, n) or (B, n, q)."""
        return self.posterior(y=y, t=t).mean

    def marginals(self, revealed) -> np.ndarray:
        """Erasure-channel denoiser: conditional single-site marginals given ``revealed``, shape (B, n, K)."""
        out = self.posterior(revealed=revealed)
        if out.marginals is None:
            raise TypeError(f"{type(self).__name__} has no finite alphabet: marginals are undefined")
        return out.marginals

    # -- validation -------------------------------------------------------------------------------------
    def _validate(self, y, t, revealed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.model.n
        site_shape = (n, self.n_values) if self.one_hot else (n,)
        batch = None
        if y is not None:
            y = np.asarray(y, dtype=float)
            if y.shape == site_shape:
                y = y[None]
            if y.ndim != len(site_shape) + 1 or y.shape[1:] != site_shape:
                raise ValueError(f"y must have shape {site_shape} or (B, {', '.join(map(str, site_shape))}), "
                                 f"got {y.shape}")
            if not np.all(np.isfinite(y)):
                raise ValueError("y must be finite")
            batch = y.shape[0]
        if revealed is not None:
            revealed = np.asarray(revealed)
            if revealed.size and not np.issubdtype(revealed.dtype, np.integer):
                raise TypeError(f"revealed must hold integer alphabet indices (-1 = free), got {revealed.dtype}")
            if revealed.shape == (n,):
                revealed = revealed[None]
            if revealed.ndim != 2 or revealed.shape[1] != n:
                raise ValueError(f"revealed must have shape ({n},) or (B, {n}), got {revealed.shape}")
            if revealed.size and (revealed.min() < -1 or revealed.max() >= self.n_values):
                raise ValueError(f"revealed entries must be -1 (free) or alphabet indices in [0, {self.n_values - 1}]")
            if batch is not None and revealed.shape[0] != batch:
                if revealed.shape[0] == 1:
                    revealed = np.repeat(revealed, batch, axis=0)
                elif batch == 1:
                    y = np.repeat(y, revealed.shape[0], axis=0)
                    batch = revealed.shape[0]
                else:
                    raise ValueError(f"y and revealed have different batch sizes {batch} and {revealed.shape[0]}")
            batch = revealed.shape[0]
        t_arr = np.asarray(t, dtype=float)
        if t_arr.ndim > 1 or np.any(np.isnan(t_arr)) or np.any(t_arr < 0) or np.any(np.isinf(t_arr)):
            raise ValueError("t (side-channel SNR) must be a finite scalar or 1-d array with entries >= 0")
        if t_arr.ndim == 1:
            if batch is None:
                batch = t_arr.size
            elif t_arr.size != batch:
                raise ValueError(f"t has {t_arr.size} entries but the batch has {batch} rows")
        batch = 1 if batch is None else batch
        t_arr = np.broadcast_to(t_arr, (batch,)).astype(float)
        if y is None:
            y = np.zeros((batch,) + site_shape)
        if revealed is None:
            revealed = np.full((batch, n), -1, dtype=np.int64)
        return y, t_arr, revealed.astype(np.int64)


__all__ = ["ContradictionError", "Denoiser", "DenoiserOutput", "NonConvergenceWarning"]
