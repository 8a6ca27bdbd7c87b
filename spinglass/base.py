r"""The common model interface.

A model is an immutable instance of a distribution on x in A^n for a finite (or, for Gaussian priors,
continuous) alphabet A:

    mu(x) ∝ prod_i p0(x_i) · exp(-beta · E(x)),

with ``energy(x) = E(x)`` batched over a leading axis, ``log_weight(x) = sum_i log p0(x_i) - beta E(x)``
(unnormalised), and ``beta = inf`` meaning the uniform measure (times the prior) over zero-energy
configurations.  Posterior (planted) models have ``beta = 1`` and carry the hidden configuration in
``planted``.  The reference measure (normalised prior for posterior models, counting measure for
physics models) is documented in ``spinglass.scalar`` and ``spinglass.sparse``.

Global terms.  Mean-field models contain terms that depend on x only through power sums; we write them as
``coef · e_p(x^r)``, where e_p is the elementary symmetric polynomial of order p of the n numbers x_i^r:

* Curie-Weiss:      -(1/N) sum_{i<j} x_i x_j                       = -(1/N) e_2(x)
* spiked Wigner:    +lam/(2N) sum_{i<j} x_i^2 x_j^2                = lam/(2N) e_2(x^2)
* spiked tensor:    +(p-1)!/(2 Delta N^(p-1)) sum_{i1<..<ip} prod x^2 = ... e_p(x^2)

A single-site change x_i: a -> b changes e_p(w) by (w_b - w_a) e_{p-1}(w without i), which the MCMC
kernels evaluate in O(p) per move.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ._validate import check_int, check_real, make_rng
from .exact import MAX_EXACT_STATES, ExactDistribution


@dataclass(frozen=True)
class GlobalTerm:
    """An energy term ``coef · e_order(x^power)`` (see module docstring)."""

    coef: float
    power: int
    order: int

    def __post_init__(self):
        check_real("coef", self.coef)
        check_int("power", self.power, minimum=1)
        check_int("order", self.order, minimum=1)


def elementary_symmetric(w: np.ndarray, order: int) -> np.ndarray:
    """e_order of the entries of ``w`` along its last axis (batched), from the power sums
    P_j = sum_i w_i^j by Newton's identities  k e_k = sum_{j=1}^{k} (-1)^(j-1) e_{k-j} P_j."""
    w = np.asarray(w, dtype=float)
    powers = [np.sum(w**j, axis=-1) for j in range(1, order + 1)]
    e = [np.ones(w.shape[:-1])]
    for k in range(1, order + 1):
        acc = np.zeros(w.shape[:-1])
        for j in range(1, k + 1):
            acc = acc + (-1) ** (j - 1) * e[k - j] * powers[j - 1]
        e.append(acc / k)
    return e[order]


class Model(ABC):
    """Base class of every distribution; subclasses set the attributes below in ``__init__``.

    Attributes
    ----------
    n : number of variables.
    alphabet : the finite alphabet A as a 1-d array (None for continuous priors).
    beta : inverse temperature multiplying the energy (``inf`` for hard constraints).
    planted : the hidden configuration (on the alphabet) or None.
    """

    n: int
    alphabet: np.ndarray | None
    beta: float
    planted: np.ndarray | None

    # -- to implement -------------------------------------------------------------------------------
    @abstractmethod
    def _energy(self, x: np.ndarray) -> np.ndarray:
        """E(x) for a (B, n) float array already validated; returns (B,)."""

    @abstractmethod
    def _log_prior(self, x: np.ndarray) -> np.ndarray:
        """sum_i log p0(x_i) for a (B, n) array; returns (B,)."""

    def describe(self) -> dict:
        """JSON-friendly description: family name and every parameter (seed included).

        Subclasses store it in ``self._description`` at construction; beta, the one setting that may be
        changed afterwards, is read from the instance.
        """
        d = dict(self._description)
        if "beta" in d:
            d["beta"] = self.beta
        return d

    def _fingerprint_arrays(self) -> list:
        """The arrays that define the instance (couplings, fields, edges, ...); see ``fingerprint``."""
        return []

    # -- common behaviour ----------------------------------------------------------------------------
    def derived(self) -> dict:
        """A per-instance cache for what samplers derive from the model once and reuse on every call: the
        fingerprint, kernel adapters, ...  Setting any attribute (e.g. ``model.beta = 1.0``) empties it (the
        arrays are read-only); it is not pickled (rebuilt on demand)."""
        return self.__dict__.setdefault("_derived", {})

    def __setattr__(self, name: str, value) -> None:
        self.__dict__.pop("_derived", None)
        object.__setattr__(self, name, value)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_derived", None)
        return state

    def fingerprint(self) -> str:
        """A SHA-1 digest of the family, n, beta and every array defining the instance (computed once).

        Two models with equal fingerprints define the same distribution; MCMC states record it so that a
        run cannot be continued on a different instance.
        """
        cache = self.derived()
        if "fingerprint" not in cache:
            cache["fingerprint"] = self._compute_fingerprint()
        return cache["fingerprint"]

    def _compute_fingerprint(self) -> str:
        import hashlib

        import scipy.sparse as sp

        h = hashlib.sha1(f"{self.family}|{self.n}|{self.beta!r}".encode())
        for a in self._fingerprint_arrays():
            if sp.issparse(a):
                a = sp.csr_matrix(a)
                parts = (a.indptr, a.indices, a.data)
            else:
                parts = (a,)
            for part in parts:
                part = np.ascontiguousarray(part)
                h.update(f"{part.dtype}{part.shape}".encode())
                h.update(part.tobytes())
        return h.hexdigest()

    @property
    def family(self) -> str:
        return type(self).__name__

    @property
    def n_values(self) -> int:
        """Size of the alphabet."""
        if self.alphabet is None:
            raise TypeError(f"{self.family} has a continuous prior: no finite alphabet")
        return int(self.alphabet.size)

    def _batch(self, x) -> tuple[np.ndarray, bool]:
        x = np.asarray(x)
        if x.ndim == 0 or x.shape[-1] != self.n:
            raise ValueError(f"x must have last axis of length n = {self.n}, got shape {x.shape}")
        single = x.ndim == 1
        xb = np.atleast_2d(x).reshape(-1, self.n).astype(float)
        if not np.isfinite(xb).all():
            bad = np.argwhere(~np.isfinite(xb))[0]
            raise ValueError(f"x must be finite, got {xb[tuple(bad)]} at row {bad[0]}, site {bad[1]}")
        return xb, single

    def energy(self, x) -> np.ndarray | float:
        """Energy E(x) of one configuration (shape (n,)) or a batch (shape (..., n))."""
        xb, single = self._batch(x)
        e = self._energy(xb)
        x_shape = np.shape(x)
        return float(e[0]) if single else e.reshape(x_shape[:-1])

    def log_prior(self, x) -> np.ndarray | float:
        """sum_i log p0(x_i) (-inf off the alphabet)."""
        xb, single = self._batch(x)
        lp = self._log_prior(xb)
        return float(lp[0]) if single else lp.reshape(np.shape(x)[:-1])

    def log_weight(self, x) -> np.ndarray | float:
        """Unnormalised log mu(x) = sum_i log p0(x_i) - beta E(x); at beta = inf, -inf unless E(x) = 0."""
        xb, single = self._batch(x)
        e = self._energy(xb)
        lp = self._log_prior(xb)
        if math.isinf(self.beta):
            lw = np.where(e <= 1e-9, lp, -np.inf)
        else:
            lw = lp - self.beta * e
        return float(lw[0]) if single else lw.reshape(np.shape(x)[:-1])

    def random_configuration(self, size: int, seed=None) -> np.ndarray:
        """``size`` configurations with i.i.d. entries drawn from the single-site prior."""
        rng = make_rng(seed)
        size = check_int("size", size, minimum=1)
        return self._sample_prior(rng, (size, self.n))

    def _sample_prior(self, rng: np.random.Generator, shape) -> np.ndarray:
        probs = np.exp(self._alphabet_log_prior())
        return rng.choice(self.alphabet, size=shape, p=probs / probs.sum())

    def _alphabet_log_prior(self) -> np.ndarray:
        """log p0 on each alphabet value (uniform unless overridden)."""
        return np.full(self.n_values, -math.log(self.n_values))

    def exact(self, max_states: int = MAX_EXACT_STATES):
        """Exact enumeration of the distribution (log Z, probabilities, marginals, i.i.d. sampling).

        Raises ``ValueError`` when |A|^n exceeds ``max_states``.
        """
        return ExactDistribution(self, max_states=max_states)

    def __repr__(self) -> str:
        d = self.describe()
        inner = ", ".join(f"{k}={v!r}" for k, v in d.items() if k != "family")
        return f"{self.family}({inner})"
