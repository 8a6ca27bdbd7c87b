r"""Mean-field Ising models: Curie-Weiss and Sherrington-Kirkpatrick (docs/physics.md §1).

Curie-Weiss:  E(x) = -(1/N) sum_{i<j} x_i x_j - h sum_i x_i,  mu ∝ exp(-beta E), x in {±1}^N.
With M = sum_i x_i this is P(M) ∝ C(N, (N+M)/2) exp(beta (M^2 - N)/(2N) + beta h M) for every N
(``CurieWeiss.magnetization_law``).  Large N: m = tanh(beta (m + h)), beta_c = 1 at h = 0.
The pair term is stored as the global term -(1/N) e_2(x), so the model costs O(N) memory.

SK:  E(x) = -sum_{i<j} g_ij x_i x_j / sqrt(N) - h sum_i x_i, g_ij ~ N(0, 1) i.i.d.  At h = 0 and
beta < 1 the free entropy per spin tends to ln 2 + beta^2/4 and the energy per spin to -beta/2.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._numeric import logsumexp
from ._validate import SeedLike, check_dense_fits, check_int, check_real, make_rng, seed_repr
from .base import GlobalTerm
from .dense_build import gaussian_symmetric, init_dense_pairwise
from .priors import Rademacher
from .scalar import PairwiseModel


class CurieWeiss(PairwiseModel):
    """Curie-Weiss ferromagnet on N Ising spins at inverse temperature ``beta`` and field ``h``."""

    def __init__(self, n: int, beta: float, h: float = 0.0):
        n = check_int("n", n, minimum=1)
        beta = check_real("beta", beta, minimum=0.0)
        h = check_real("h", h)
        super().__init__(
            sp.csr_matrix((n, n)), prior=Rademacher(), fields=h, beta=beta, counting=True,
            global_terms=(GlobalTerm(-1.0 / n, 1, 2),),
            description={"family": "CurieWeiss", "n": n, "beta": beta, "h": h},
        )
        self.h = h

    def _log_weights_of_m(self) -> tuple[np.ndarray, np.ndarray]:
        """M = -N, -N+2, ..., N and log[C(N, (N+M)/2) exp(beta (M^2 - N)/(2N) + beta h M)]."""
        n = self.n
        M = np.arange(-n, n + 1, 2, dtype=float)
        k = (n + M) / 2
        from scipy.special import gammaln  # here, not at import: scipy.special is slow to load

        log_binom = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
        return M, log_binom + self.beta * (M**2 - n) / (2 * n) + self.beta * self.h * M

    def magnetization_law(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact law of m = M/N: returns (m values, probabilities), M = -N, -N+2, ..., N."""
        M, logw = self._log_weights_of_m()
        return M / self.n, np.exp(logw - logsumexp(logw))

    def log_partition(self) -> float:
        """Exact log Z = log sum_x exp(-beta E(x)) for any N (sum over magnetisations)."""
        return float(logsumexp(self._log_weights_of_m()[1]))


#: n x n float64 arrays alive at the peak of ``SK.__init__``: the couplings, built in place, and a row block
#: of the noise (``dense_build``); tests/test_spiked_inplace.py measures it with tracemalloc.
SK_PEAK_ARRAYS = 1.25


class SK(PairwiseModel):
    """Sherrington-Kirkpatrick spin glass with J_ij = g_ij/sqrt(N), field ``h``, inverse temperature ``beta``.

    J is built in place from the row-major draw of g (``spinglass.dense_build``): the same numbers as
    ``(triu(g, 1) + triu(g, 1).T) / sqrt(N)``, with J the only N x N array."""

    def __init__(self, n: int, beta: float, h: float = 0.0, seed: SeedLike = None):
        n = check_int("n", n, minimum=2)
        beta = check_real("beta", beta, minimum=0.0)
        h = check_real("h", h)
        check_dense_fits("SK", n, SK_PEAK_ARRAYS)
        rng = make_rng(seed)
        J = gaussian_symmetric(n, rng, np.sqrt(n))
        init_dense_pairwise(
            self, J, prior=Rademacher(), fields=h, beta=beta, global_terms=(), planted=None,
            description={"family": "SK", "n": n, "beta": beta, "h": h, "seed": seed_repr(seed)}, counting=True,
        )
        self.h = h
