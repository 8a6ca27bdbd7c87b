r"""Scalar models: real-valued variables with a single-site prior p0 and pair or p-body couplings.

Energy convention (the Hamiltonian, *not* multiplied by beta):

    E(x) = - sum_{i<j} J_ij x_i x_j            (PairwiseModel: J dense symmetric or scipy CSR)
           - sum_{e} w_e prod_{i in e} x_i       (PSpinModel: hyperedges e = (i1 < ... < ip))
           - sum_i h_i x_i
           + sum_t c_t e_{p_t}(x^{r_t})           (global terms, see ``spinglass.base``)

and mu(x) ∝ prod_i p0(x_i) exp(-beta E(x)).

Reference measure.  Posterior models (spiked Wigner / tensor) weight configurations by the normalised
prior, so log Z = log E_{x~p0}[exp(-beta E(x))] is the evidence.  Physics models (Curie-Weiss, SK,
Edwards-Anderson) set ``counting=True``: the reference measure is counting measure on the prior's
support (log p0 = 0 there), here {±1}^N, so that
log Z = log sum_x exp(-beta E(x)) as in the literature (e.g. SK: log Z/N -> ln 2 + beta^2/4).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ._validate import check_finite_array, check_int, check_real, readonly
from .base import GlobalTerm, Model, elementary_symmetric
from .priors import DiscretePrior, Prior, Rademacher


class ScalarModel(Model):
    """Common part of the scalar models: prior, fields, global terms, beta."""

    prior: Prior
    fields: np.ndarray
    global_terms: tuple[GlobalTerm, ...]

    def _init_scalar(self, n, prior, fields, beta, global_terms, planted, counting=False):
        self.n = check_int("n", n, minimum=1)
        self.counting = bool(counting)
        if not isinstance(prior, Prior):
            raise TypeError(f"prior must be a spinglass.priors.Prior, got {type(prior).__name__}")
        self.prior = prior
        self.alphabet = prior.values if isinstance(prior, DiscretePrior) else None
        self.beta = check_real("beta", beta, minimum=0.0)
        if fields is not None and np.iscomplexobj(np.asarray(fields)):
            raise TypeError("fields must be real, got complex values (their imaginary part would be dropped)")
        if fields is None:
            fields = np.zeros(self.n)
        try:
            fields = np.array(np.broadcast_to(np.asarray(fields, dtype=float), (self.n,)))
        except (TypeError, ValueError):
            raise ValueError(f"fields must be a real scalar or have shape ({self.n},), "
                             f"got {np.shape(fields)}") from None
        check_finite_array("fields", fields)
        self.fields = readonly(fields)
        self.global_terms = tuple(global_terms)
        for t in self.global_terms:
            if not isinstance(t, GlobalTerm):
                raise TypeError("global_terms must be GlobalTerm instances")
        if planted is not None:
            planted = np.array(planted, dtype=float)
            if planted.shape != (self.n,):
                raise ValueError(f"planted must have shape ({self.n},), got {planted.shape}")
            planted = readonly(planted)
        self.planted = planted

    def _alphabet_log_prior(self) -> np.ndarray:
        if not isinstance(self.prior, DiscretePrior):
            raise TypeError(f"{self.family} has a continuous prior: no finite alphabet")
        lw = np.asarray(self.prior.log_weights)
        return np.zeros_like(lw) if self.counting else lw

    def _sample_prior(self, rng, shape):
        return self.prior.sample(shape, seed=rng)

    def _log_prior(self, x):
        lp = self.prior.log_density(x).sum(axis=-1)
        if self.counting:  # counting measure on the prior's support
            lp = np.where(np.isfinite(lp), 0.0, -np.inf)
        return lp

    def _fingerprint_arrays(self) -> list:
        terms = np.array([[t.coef, t.power, t.order] for t in self.global_terms], dtype=float)
        prior = np.array([]) if self.alphabet is None else np.concatenate([self.prior.values, self.prior.weights])
        planted = np.array([]) if self.planted is None else self.planted
        return [self.fields, terms, prior, planted, np.array([self.counting])]

    def _global_energy(self, x):
        out = np.zeros(x.shape[0])
        for t in self.global_terms:
            out += t.coef * elementary_symmetric(x**t.power, t.order)
        return out


class PairwiseModel(ScalarModel):
    """E(x) = -sum_{i<j} J_ij x_i x_j - sum_i h_i x_i + global terms.

    ``couplings`` is a dense (n, n) array or a scipy.sparse matrix (stored as CSR), symmetric with zero
    diagonal; ``J_ij`` for i != j is the coupling of the pair (each pair counted once in the energy).
    """

    def __init__(self, couplings, prior: Prior | None = None, fields=None, beta: float = 1.0,
                 global_terms=(), planted=None, description: dict | None = None, counting: bool = False):
        if couplings is None:
            raise ValueError("couplings must be given (use a sparse zero matrix for none)")
        if np.iscomplexobj(couplings.data if sp.issparse(couplings) else np.asarray(couplings)):
            raise TypeError("couplings must be real, got a complex matrix (its imaginary part would be dropped)")
        if not sp.issparse(couplings):
            try:
                couplings = np.asarray(couplings, dtype=float)
            except (TypeError, ValueError):
                raise TypeError("couplings must be a real (n, n) array or a scipy.sparse matrix, "
                                f"got {type(couplings).__name__}") from None
        if couplings.ndim != 2 or couplings.shape[0] != couplings.shape[1]:
            raise ValueError(f"couplings must be a square matrix, got shape {couplings.shape}")
        n = couplings.shape[0]
        self._init_scalar(n, prior or Rademacher(), fields, beta, global_terms, planted, counting)
        if sp.issparse(couplings):
            J = sp.csr_matrix(couplings, dtype=float)
            J.sum_duplicates()
            J.sort_indices()
            check_finite_array("couplings", J.data)
            if J.diagonal().any():
                raise ValueError("couplings must have a zero diagonal")
            if J.nnz and abs(J - J.T).max() > 1e-12 * (1 + abs(J).max()):
                raise ValueError("couplings must be symmetric")
            J.data.flags.writeable = False
        else:
            J = np.array(couplings, dtype=float)
            check_finite_array("couplings", J)
            if np.any(np.diag(J) != 0):
                raise ValueError("couplings must have a zero diagonal")
            if not np.allclose(J, J.T, rtol=0, atol=1e-12 * (1 + np.abs(J).max())):
                raise ValueError("couplings must be symmetric")
            J = readonly(J)
        self.couplings = J
        self._description = description or {"family": self.family, "n": self.n}

    def _fingerprint_arrays(self) -> list:
        return super()._fingerprint_arrays() + [self.couplings]

    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self.couplings)

    def local_fields(self, x) -> np.ndarray:
        """sum_j J_ij x_j for a batch (B, n) -> (B, n)."""
        x = np.asarray(x, dtype=float)
        return np.asarray(self.couplings @ x.T).T if self.is_sparse else x @ self.couplings

    def _energy(self, x):
        pair = -0.5 * np.einsum("bi,bi->b", x, self.local_fields(x))
        return pair - x @ self.fields + self._global_energy(x)


class PSpinModel(ScalarModel):
    """E(x) = -sum_e w_e prod_{i in e} x_i - sum_i h_i x_i + global terms, e = (i_1 < ... < i_p)."""

    def __init__(self, n, hyperedges, weights, prior: Prior | None = None, fields=None, beta: float = 1.0,
                 global_terms=(), planted=None, description: dict | None = None, counting: bool = False):
        self._init_scalar(n, prior or Rademacher(), fields, beta, global_terms, planted, counting)
        hyperedges = np.asarray(hyperedges)
        weights = np.asarray(weights, dtype=float)
        if hyperedges.ndim != 2 or hyperedges.shape[1] < 1:
            raise ValueError(f"hyperedges must be an (M, p) integer array, got shape {hyperedges.shape}")
        if not np.issubdtype(hyperedges.dtype, np.integer):
            raise TypeError("hyperedges must hold integers")
        if weights.shape != (hyperedges.shape[0],):
            raise ValueError(f"weights must have shape ({hyperedges.shape[0]},), got {weights.shape}")
        check_finite_array("weights", weights)
        if hyperedges.size and (hyperedges.min() < 0 or hyperedges.max() >= self.n):
            raise ValueError(f"hyperedges must index variables in [0, {self.n - 1}]")
        if hyperedges.shape[1] > 1 and np.any(np.diff(np.sort(hyperedges, axis=1), axis=1) == 0):
            raise ValueError("each hyperedge must hold distinct variables")
        self.p = hyperedges.shape[1]
        self.hyperedges = readonly(hyperedges.astype(np.int32))
        self.weights = readonly(weights)
        self._description = description or {"family": self.family, "n": self.n, "p": self.p}

    def _fingerprint_arrays(self) -> list:
        return super()._fingerprint_arrays() + [self.hyperedges, self.weights]

    def _energy(self, x):
        prods = np.ones((x.shape[0], self.hyperedges.shape[0]))
        for k in range(self.p):
            prods *= x[:, self.hyperedges[:, k]]
        return -(prods @ self.weights) - x @ self.fields + self._global_energy(x)


def all_subsets(n: int, p: int) -> np.ndarray:
    """All p-subsets i_1 < ... < i_p of range(n) in lexicographic order, shape (C(n, p), p)."""
    from itertools import combinations

    m = math.comb(n, p)
    out = np.fromiter((i for c in combinations(range(n), p) for i in c), dtype=np.int32, count=m * p)
    return out.reshape(m, p)
