r"""Scalar priors p0 and their scalar Gaussian channel (docs/physics.md §3).

For a prior p0 on the reals with E[x^2] = 1 and signal-to-noise ratio g >= 0, the scalar channel is

    r = g x + sqrt(g) z,   x ~ p0,  z ~ N(0, 1),

whose posterior is p(x | r) ∝ p0(x) exp(r x - g x^2 / 2).  Every prior exposes, with one naming scheme
(after tramp's priors):

* ``log_partition(r, g)``  log Z(r, g) = log ∫ p0(dx) exp(r x - g x^2/2)
* ``f(r, g)``              posterior mean  E[x | r]             = d log Z / dr
* ``df(r, g)``             its r-derivative = posterior variance Var[x | r]
* ``F(g)``                 overlap  E_{x, z}[x f(r; g)]  (= E[f^2] by the Nishimori identity)
* ``dF(g)``                its derivative dF/dg = E[df(r; g)^2]  (the I-MMSE relation d mmse/dg = -E[Var^2])
* ``psi(g)``               free entropy  E_{x, z}[log Z(r; g)]

All of them are vectorised over numpy arrays and numerically stable at large g (log-sum-exp for
discrete priors).  ``F``, ``dF`` and ``psi`` use trapezoid quadrature over z (exact sums over x for discrete
priors); the Gaussian prior has closed forms F(g) = g/(1+g), psi(g) = g/2 - log(1+g)/2.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
from numba import njit

from ._numeric import logsumexp
from ._validate import SeedLike, check_real, make_rng

#: Gaussian expectations E[h(z)] use the trapezoid rule on z in [-12, 12] with step 0.05 (481 nodes).
#: For integrands analytic in a strip around the real axis the trapezoid rule converges geometrically in
#: 1/step (Trefethen & Weideman, SIAM Rev. 2014); the posterior mean of a discrete prior is a sum of
#: logistic steps of width 1/(sqrt(g) |v_j - v_k|), which 161-node Gauss-Hermite resolves only to ~1e-6
#: (dF of SparseRademacher(0.1) at g = 5), while this rule agrees with adaptive quadrature to ~1e-14.
_Z_STEP = 0.05
_Z_HALF_WIDTH = 12.0


def _gaussian_trapezoid(step: float = _Z_STEP, half_width: float = _Z_HALF_WIDTH) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z_k and weights w_k with sum_k w_k h(z_k) ≈ E[h(z)], z ~ N(0, 1) (weights sum to 1)."""
    nodes = np.arange(-half_width, half_width + step / 2, step)
    weights = np.exp(-0.5 * nodes**2)
    return nodes, weights / weights.sum()


_Z_NODES, _Z_WEIGHTS = _gaussian_trapezoid()


@njit(cache=True)
def _discrete_channel_moments(values, weights, log_weights, g, z_nodes, z_weights):  # pragma: no cover - numba
    """F(g), dF(g) and psi(g) of a discrete prior for every entry of ``g`` (1-d), by the trapezoid rule.

    For x = v_k and node z: r = g v_k + sqrt(g) z, posterior logits l_j = log w_j + r v_j - g v_j^2 / 2,
    f = E[x | r], Var = E[x^2 | r] - f^2, log Z = logsumexp(l).  F = E[x f], dF = E[Var^2], psi = E[log Z].
    """
    K = values.size
    out = np.zeros((3, g.size))
    logits = np.empty(K)
    for a in range(g.size):
        ga = g[a]
        sg = np.sqrt(ga)
        sF = 0.0
        sdF = 0.0
        spsi = 0.0
        for k in range(K):
            xk = values[k]
            accF = 0.0
            accdF = 0.0
            accpsi = 0.0
            for b in range(z_nodes.size):
                r = ga * xk + sg * z_nodes[b]
                mx = -np.inf
                for j in range(K):
                    lj = log_weights[j] + r * values[j] - 0.5 * ga * values[j] * values[j]
                    logits[j] = lj
                    if lj > mx:
                        mx = lj
                tot = 0.0
                m1 = 0.0
                m2 = 0.0
                for j in range(K):
                    e = np.exp(logits[j] - mx)
                    tot += e
                    m1 += e * values[j]
                    m2 += e * values[j] * values[j]
                f = m1 / tot
                var = max(m2 / tot - f * f, 0.0)
                wz = z_weights[b]
                accF += wz * xk * f
                accdF += wz * var * var
                accpsi += wz * (mx + np.log(tot))
            sF += weights[k] * accF
            sdF += weights[k] * accdF
            spsi += weights[k] * accpsi
        out[0, a] = sF
        out[1, a] = sdF
        out[2, a] = spsi
    return out


def alphabet_lookup(alphabet: np.ndarray, x) -> tuple[np.ndarray, np.ndarray]:
    """Index into the sorted ``alphabet`` of each entry of ``x`` and whether the entry is on it (to 1e-9)."""
    x = np.asarray(x, dtype=float)
    idx = np.clip(np.searchsorted(alphabet, x), 0, alphabet.size - 1)
    below = np.clip(idx - 1, 0, alphabet.size - 1)
    closer = np.abs(alphabet[below] - x) < np.abs(alphabet[idx] - x)
    idx = np.where(closer, below, idx)
    return idx, np.abs(alphabet[idx] - x) <= 1e-9


class Prior(ABC):
    """A scalar prior p0 with unit second moment and its scalar-channel quantities."""

    #: True when the prior is a finite alphabet (usable by the discrete MCMC kernels).
    discrete: bool = False

    @abstractmethod
    def log_partition(self, r, g):
        """log Z(r, g) = log ∫ p0(dx) exp(r x - g x^2 / 2)."""

    @abstractmethod
    def f(self, r, g):
        """Posterior mean E[x | r] of the scalar channel at SNR g."""

    @abstractmethod
    def df(self, r, g):
        """d f / d r, the posterior variance Var[x | r]."""

    @abstractmethod
    def sample(self, size, seed: SeedLike = None) -> np.ndarray:
        """Draw i.i.d. values from p0."""

    @abstractmethod
    def log_density(self, x) -> np.ndarray:
        """Elementwise log p0(x) (log probability mass for discrete priors, -inf off the alphabet)."""

    @abstractmethod
    def describe(self) -> dict:
        """A JSON-friendly description (name and parameters)."""

    def _expect(self, func, g):
        """E_{x~p0, z}[func(r, g, x)] with r = g x + sqrt(g) z; vectorised over g."""
        raise NotImplementedError

    def F(self, g):
        """Overlap F(g) = E[x f(g x + sqrt(g) z; g)]."""
        return self._expect(lambda r, gg, x: x * self.f(r, gg), g)

    def dF(self, g):
        """dF/dg = E[Var(x | r)^2] (Guo, Shamai, Verdú 2005: d mmse / d snr = -E[Var(x | r)^2])."""
        return self._expect(lambda r, gg, x: self.df(r, gg) ** 2, g)

    def psi(self, g):
        """Free entropy psi(g) = E[log Z(g x + sqrt(g) z; g)]; d psi / dg = F / 2."""
        return self._expect(lambda r, gg, x: self.log_partition(r, gg), g)

    def moments(self, g) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(F(g), dF(g), psi(g)) together (discrete priors compute them in one numba pass)."""
        return self.F(g), self.dF(g), self.psi(g)

    def mmse(self, g):
        """Minimum mean squared error E[(x - f)^2] = 1 - F(g) (unit second moment)."""
        return 1.0 - self.F(g)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.describe().items() if k != "name")
        return f"{self.describe()['name']}({params})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Prior) and self.describe() == other.describe()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.describe().items())))


def _check_snr(g):
    g = np.asarray(g, dtype=float)
    if np.any(np.isnan(g)) or np.any(g < 0):
        raise ValueError("g (signal-to-noise ratio) must be >= 0 and not NaN")
    return g


class DiscretePrior(Prior):
    """A prior on a finite alphabet ``values`` with probabilities ``weights`` (normalised to 1)."""

    discrete = True

    def __init__(self, values, weights):
        values = np.asarray(values, dtype=float)
        weights = np.asarray(weights, dtype=float)
        if values.ndim != 1 or values.size < 1:
            raise ValueError("values must be a non-empty 1-d array")
        if weights.shape != values.shape:
            raise ValueError(f"weights must have the shape of values {values.shape}, got {weights.shape}")
        if np.any(~np.isfinite(values)) or np.any(~np.isfinite(weights)) or np.any(weights <= 0):
            raise ValueError("values must be finite and weights finite and > 0")
        if np.unique(values).size != values.size:
            raise ValueError("values must be distinct")
        order = np.argsort(values)
        self.values = values[order]
        self.weights = weights[order] / weights.sum()
        self.values.flags.writeable = False
        self.weights.flags.writeable = False
        self.log_weights = np.log(self.weights)
        self.log_weights.flags.writeable = False

    def _terms(self, r, g):
        r = np.asarray(r, dtype=float)
        g = np.asarray(g, dtype=float)
        v = self.values
        return self.log_weights + r[..., None] * v - 0.5 * g[..., None] * v**2

    def log_partition(self, r, g):
        return logsumexp(self._terms(r, g), axis=-1)

    def posterior(self, r, g) -> np.ndarray:
        """Posterior probabilities of each alphabet value, shape ``broadcast(r, g).shape + (K,)``."""
        t = self._terms(r, g)
        t = t - t.max(axis=-1, keepdims=True)
        p = np.exp(t)
        return p / p.sum(axis=-1, keepdims=True)

    def f(self, r, g):
        return self.posterior(r, g) @ self.values

    def df(self, r, g):
        p = self.posterior(r, g)
        mean = p @ self.values
        return np.maximum(p @ self.values**2 - mean**2, 0.0)

    def _expect(self, func, g):
        g = _check_snr(g)
        gg = g[..., None, None]
        x = self.values[:, None]
        r = gg * x + np.sqrt(gg) * _Z_NODES
        vals = func(r, np.broadcast_to(gg, r.shape), np.broadcast_to(x, r.shape))
        return np.einsum("...kz,k,z->...", vals, self.weights, _Z_WEIGHTS)

    def moments(self, g) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(F(g), dF(g), psi(g)) in one pass (numba kernel, same trapezoid rule as ``_expect``)."""
        g = _check_snr(g)
        flat = np.ascontiguousarray(g, dtype=float).ravel()
        out = _discrete_channel_moments(self.values, self.weights, self.log_weights, flat, _Z_NODES, _Z_WEIGHTS)
        return tuple(out[i].reshape(g.shape) for i in range(3))

    def F(self, g):
        return self.moments(g)[0]

    def dF(self, g):
        return self.moments(g)[1]

    def psi(self, g):
        return self.moments(g)[2]

    def sample(self, size, seed: SeedLike = None) -> np.ndarray:
        rng = make_rng(seed)
        return rng.choice(self.values, size=size, p=self.weights)

    def index_of(self, x) -> np.ndarray:
        """Alphabet index of each entry of ``x``; raises ``ValueError`` for values off the alphabet."""
        idx, hit = alphabet_lookup(self.values, x)
        if not np.all(hit):
            raise ValueError(f"x has entries off the alphabet {self.values.tolist()}")
        return idx

    def log_density(self, x) -> np.ndarray:
        idx, hit = alphabet_lookup(self.values, x)
        return np.where(hit, self.log_weights[idx], -np.inf)

    def describe(self) -> dict:
        return {"name": "DiscretePrior", "values": self.values.tolist(), "weights": self.weights.tolist()}


class Rademacher(DiscretePrior):
    """x = ±1 with probability 1/2 each.  f(r, g) = tanh(r), F(g) = E tanh(g + sqrt(g) z)."""

    def __init__(self):
        super().__init__([-1.0, 1.0], [0.5, 0.5])

    @staticmethod
    def _r(r, g):
        # f does not depend on g for ±1 spins, but the output still has the broadcast shape of (r, g)
        r = np.asarray(r, dtype=float)
        return r if g is None else np.broadcast_arrays(r, np.asarray(g, dtype=float))[0]

    def f(self, r, g=None):
        return np.tanh(self._r(r, g))

    def df(self, r, g=None):
        return 1.0 - np.tanh(self._r(r, g)) ** 2

    def log_partition(self, r, g):
        # log cosh r - g/2, written as |r| + log1p(exp(-2|r|)) - log 2 - g/2 to stay finite at large r.
        a = np.abs(np.asarray(r, dtype=float))
        return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0) - 0.5 * np.asarray(g, dtype=float)

    def describe(self) -> dict:
        return {"name": "Rademacher"}


class SparseRademacher(DiscretePrior):
    """x = 0 w.p. 1 - rho and ±1/sqrt(rho) w.p. rho/2 each (unit second moment), 0 < rho <= 1.

    The PNAS study writes this prior unnormalised (x in {0, ±1}); see docs/physics.md §1 for the map.
    """

    def __init__(self, rho: float):
        self.rho = check_real("rho", rho, minimum=0.0, maximum=1.0, strict_min=True)
        a = 1.0 / math.sqrt(self.rho)
        if self.rho == 1.0:
            super().__init__([-1.0, 1.0], [0.5, 0.5])
        else:
            super().__init__([-a, 0.0, a], [self.rho / 2, 1.0 - self.rho, self.rho / 2])

    def describe(self) -> dict:
        return {"name": "SparseRademacher", "rho": self.rho}


class Gaussian(Prior):
    """Standard normal prior N(0, 1): f = r/(1+g), df = 1/(1+g), F = g/(1+g), dF = 1/(1+g)^2,
    psi = g/2 - log(1+g)/2."""

    discrete = False

    def log_partition(self, r, g):
        r = np.asarray(r, dtype=float)
        g = np.asarray(g, dtype=float)
        return r**2 / (2.0 * (1.0 + g)) - 0.5 * np.log1p(g)

    def f(self, r, g):
        return np.asarray(r, dtype=float) / (1.0 + np.asarray(g, dtype=float))

    def df(self, r, g):
        return np.broadcast_to(1.0 / (1.0 + np.asarray(g, dtype=float)), np.broadcast(r, g).shape).copy()

    def F(self, g):
        g = _check_snr(g)
        return g / (1.0 + g)

    def dF(self, g):
        g = _check_snr(g)
        return 1.0 / (1.0 + g) ** 2

    def psi(self, g):
        g = _check_snr(g)
        return 0.5 * g - 0.5 * np.log1p(g)

    def sample(self, size, seed: SeedLike = None) -> np.ndarray:
        return make_rng(seed).standard_normal(size)

    def log_density(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return -0.5 * x**2 - 0.5 * math.log(2.0 * math.pi)

    def describe(self) -> dict:
        return {"name": "Gaussian"}


def prior_from_name(name: str, **params) -> Prior:
    """Build a prior from its name: ``"rademacher"``, ``"sparse_rademacher"`` (needs ``rho``), ``"gaussian"``."""
    key = name.lower().replace("-", "_")
    if key == "rademacher":
        return Rademacher()
    if key in ("sparse_rademacher", "sparserademacher"):
        if "rho" not in params:
            raise ValueError("prior 'sparse_rademacher' needs the parameter rho in (0, 1]")
        return SparseRademacher(params["rho"])
    if key == "gaussian":
        return Gaussian()
    raise ValueError(f"prior must be one of 'rademacher', 'sparse_rademacher', 'gaussian'; got {name!r}")


__all__ = ["Prior", "DiscretePrior", "Rademacher", "SparseRademacher", "Gaussian", "prior_from_name"]
