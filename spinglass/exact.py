r"""Exact ground truth by enumeration of all |A|^n configurations (small n).

Configurations are indexed in base |A| with site 0 the most significant digit:
index(x) = sum_i a_i |A|^(n-1-i), a_i the alphabet index of x_i.  From the unnormalised log weights
log w(x) = sum_i log p0(x_i) - beta E(x) we get log Z = logsumexp_x log w(x) (computed stably), the
probability table p(x) = w(x)/Z, single-site marginals P(x_i = a) and exact i.i.d. samples (inverse-CDF
sampling from the table).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ._numeric import logsumexp
from ._validate import SeedLike, check_int, make_rng
from .priors import alphabet_lookup

#: Largest number of configurations |A|^n that ``Model.exact()`` enumerates by default (2^20: n = 20 Ising spins).
MAX_EXACT_STATES = 2**20

_CHUNK = 1 << 15


class EnumerableModel(Protocol):
    """What enumeration needs of a model (``spinglass.base.Model`` provides it): n variables on a finite
    alphabet of ``n_values`` values, batched energies and log weights over a leading axis."""

    family: str
    n: int
    n_values: int
    alphabet: np.ndarray | None

    def energy(self, x: np.ndarray) -> np.ndarray: ...

    def log_weight(self, x: np.ndarray) -> np.ndarray: ...


def _digits(indices: np.ndarray, n: int, k: int) -> np.ndarray:
    out = np.empty((indices.size, n), dtype=np.int8)
    rem = indices.copy()
    for i in range(n - 1, -1, -1):
        out[:, i] = rem % k
        rem //= k
    return out


class ExactDistribution:
    """The exact law of a small model.

    Attributes
    ----------
    model : the model enumerated.
    configurations : (S, n) array of all configurations on the alphabet, in index order.
    log_weights : (S,) unnormalised log weights (-inf for forbidden configurations).
    energies : (S,) energies E(x).
    log_Z : log partition function.
    probabilities : (S,) normalised probabilities.
    marginals : (n, |A|) single-site marginals P(x_i = A[a]).
    """

    def __init__(self, model: EnumerableModel, max_states: int = MAX_EXACT_STATES):
        if model.alphabet is None:
            raise TypeError(f"{model.family} has a continuous prior: exact enumeration needs a finite alphabet")
        max_states = check_int("max_states", max_states, minimum=1)
        k = model.n_values
        n = model.n
        n_states = k**n
        if n_states > max_states:
            raise ValueError(
                f"exact enumeration needs |A|^n = {k}^{n} = {n_states} <= max_states = {max_states}; "
                f"n = {n} is too large for exact() (use n <= {int(np.log(max_states) / np.log(k))})"
            )
        self.model = model
        self.n_states = n_states
        alphabet = np.asarray(model.alphabet)
        idx = _digits(np.arange(n_states, dtype=np.int64), n, k)
        self.configurations = alphabet[idx]
        self.configurations.flags.writeable = False
        energies = np.empty(n_states)
        log_w = np.empty(n_states)
        for start in range(0, n_states, _CHUNK):
            block = self.configurations[start : start + _CHUNK]
            energies[start : start + _CHUNK] = model.energy(block)
            log_w[start : start + _CHUNK] = model.log_weight(block)
        self.energies = energies
        self.log_weights = log_w
        self.log_Z = float(logsumexp(log_w))
        if not np.isfinite(self.log_Z):
            raise ValueError(f"{model.family} has no configuration of positive weight (log Z = -inf)")
        self.probabilities = np.exp(log_w - self.log_Z)
        self.marginals = np.stack(
            [np.bincount(idx[:, i], weights=self.probabilities, minlength=k) for i in range(n)]
        )
        self._cdf = np.cumsum(self.probabilities)
        self._k = k

    # -- queries ---------------------------------------------------------------------------------
    def index(self, x) -> np.ndarray:
        """Table index of each configuration in ``x`` (shape (..., n)) -> shape (...)."""
        x = np.asarray(x)
        if x.shape[-1] != self.model.n:
            raise ValueError(f"x must have last axis n = {self.model.n}, got shape {x.shape}")
        digits = check_configurations_on_alphabet(self.model, x.reshape(-1, self.model.n)).astype(np.int64)
        powers = self._k ** np.arange(self.model.n - 1, -1, -1, dtype=np.int64)
        return (digits @ powers).reshape(x.shape[:-1])

    def probability(self, x) -> np.ndarray:
        """Exact probability of each configuration in ``x``."""
        return self.probabilities[self.index(x)]

    def sample(self, n_samples: int, seed: SeedLike = None) -> np.ndarray:
        """``n_samples`` exact i.i.d. configurations, shape (n_samples, n)."""
        n_samples = check_int("n_samples", n_samples, minimum=1)
        rng = make_rng(seed)
        u = rng.random(n_samples) * self._cdf[-1]
        picks = np.minimum(np.searchsorted(self._cdf, u, side="right"), self.n_states - 1)
        return self.configurations[picks].copy()

    def expectation(self, values: np.ndarray) -> float:
        """sum_x p(x) values[x] for a per-configuration array ``values`` of shape (S,)."""
        return float(np.dot(self.probabilities, values))

    @property
    def mean_energy(self) -> float:
        """E_mu[E(x)]."""
        finite = self.probabilities > 0
        return float(np.dot(self.probabilities[finite], self.energies[finite]))

    @property
    def free_entropy(self) -> float:
        """log Z / n."""
        return self.log_Z / self.model.n

    def histogram(self, x) -> np.ndarray:
        """Empirical distribution of the configurations ``x`` over the table (sums to 1)."""
        counts = np.bincount(self.index(x).ravel(), minlength=self.n_states)
        return counts / counts.sum()

    def __repr__(self) -> str:
        return f"ExactDistribution({self.model!r}, states={self.n_states}, log_Z={self.log_Z:.6g})"


def check_configurations_on_alphabet(model: EnumerableModel, x: np.ndarray) -> np.ndarray:
    """Alphabet indices of a (B, n) array of configurations; ``ValueError`` for entries off the alphabet."""
    if model.alphabet is None:
        raise TypeError(f"{model.family} has a continuous prior: configurations have no alphabet index")
    a = np.asarray(model.alphabet, dtype=float)
    idx, hit = alphabet_lookup(a, x)
    if not np.all(hit):
        raise ValueError(f"configuration has entries off the alphabet {a.tolist()}")
    return idx.astype(np.int8)
