r"""Planted (spiked) models: spiked Wigner and the spiked tensor / planted p-spin (docs/physics.md §1).

Spiked Wigner: x* ~ p0^N with E[x^2] = 1,  Y_ij = sqrt(lam/N) x*_i x*_j + W_ij (i < j), W_ij ~ N(0, 1).
Posterior  mu(x) ∝ prod_i p0(x_i) exp( sum_{i<j} [ sqrt(lam/N) Y_ij x_i x_j - lam/(2N) x_i^2 x_j^2 ] ),
i.e. a ``PairwiseModel`` with J_ij = sqrt(lam/N) Y_ij, beta = 1 and the global term lam/(2N) e_2(x^2).
The noise parameter of the literature is Delta = 1/lam.

Spiked tensor of order p: for i_1 < ... < i_p,
Y = sqrt((p-1)!/N^(p-1)) x*_{i_1}...x*_{i_p} + sqrt(Delta) W, and the posterior is a ``PSpinModel`` with
w_e = sqrt((p-1)!/N^(p-1)) Y_e / Delta and the global term (p-1)!/(2 Delta N^(p-1)) e_p(x^2).
Rademacher prior: the planted Ising p-spin glass; Gaussian prior: ≈ the planted spherical p-spin.  The
planted p-spin at temperature T is this model at Delta = 2 T^2 / p (``SpikedTensor.from_temperature``).
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import SeedLike, check_dense_fits, check_int, check_real, make_rng, seed_repr
from .base import GlobalTerm
from .dense_build import gaussian_symmetric, init_dense_pairwise
from .priors import Prior
from .scalar import PairwiseModel, PSpinModel, all_subsets

#: Largest number of p-subsets a dense spiked tensor may hold (memory guard: ~0.6 GB).
MAX_TENSOR_ENTRIES = 40_000_000


#: n x n float64 arrays alive at the peak of ``SpikedWigner.__init__``: the couplings, built in place, and
#: two row blocks of the noise (``dense_build``); tests/test_spiked_inplace.py measures it with tracemalloc.
SPIKED_WIGNER_PEAK_ARRAYS = 1.25


class SpikedWigner(PairwiseModel):
    """Posterior of the rank-one spiked Wigner model at SNR ``lam`` with prior ``prior``.

    The couplings J = sqrt(lam/N) Y are built in place (``spinglass.dense_build``: the same numbers as the
    full-matrix construction, with J the only N x N array); the observations Y are not kept but rebuilt on
    first access from the saved state of the random stream (``observations``), bit for bit.
    """

    def __init__(self, n: int, lam: float, prior: Prior, seed: SeedLike = None):
        n = check_int("n", n, minimum=2)
        lam = check_real("lam", lam, minimum=0.0)
        if not isinstance(prior, Prior):
            raise TypeError(f"prior must be a spinglass.priors.Prior, got {type(prior).__name__}")
        check_dense_fits("SpikedWigner", n, SPIKED_WIGNER_PEAK_ARRAYS)
        rng = make_rng(seed)
        x_star = prior.sample(n, seed=rng)
        # the noise is drawn after x*: keep the stream's state there, to redraw Y on demand
        noise_state = (type(rng.bit_generator), rng.bit_generator.state)
        c = np.sqrt(lam / n)
        J = gaussian_symmetric(n, rng, 1.0, spike=np.asarray(x_star, dtype=np.float64), spike_scale=c,
                               post_scale=c)
        init_dense_pairwise(
            self, J, prior=prior, fields=None, beta=1.0,
            global_terms=(GlobalTerm(lam / (2.0 * n), 2, 2),), planted=x_star,
            description={"family": "SpikedWigner", "n": n, "lam": lam, "Delta": (1.0 / lam if lam else math.inf),
                         "prior": prior.describe(), "seed": seed_repr(seed)},
            counting=False,
        )
        self.lam = lam
        self._noise_state = noise_state

    @property
    def observations(self) -> np.ndarray:
        """The observed matrix Y (N x N, symmetric, zero diagonal, read-only): Y_ij = sqrt(lam/N) x*_i x*_j +
        W_ij.  Redrawn from the saved random stream on first access (N^2 doubles) and then kept with the
        instance's derived data (``Model.derived``)."""
        cache = self.derived()
        if "observations" not in cache:
            kind, state = self._noise_state
            bit_generator = kind()
            bit_generator.state = state
            Y = gaussian_symmetric(self.n, np.random.Generator(bit_generator), 1.0,
                                   spike=np.asarray(self.planted, dtype=np.float64),
                                   spike_scale=np.sqrt(self.lam / self.n))
            Y.flags.writeable = False
            cache["observations"] = Y
        return cache["observations"]

    @property
    def Delta(self) -> float:
        """Noise variance Delta = 1/lam."""
        return 1.0 / self.lam if self.lam else math.inf


class SpikedTensor(PSpinModel):
    """Posterior of the order-p spiked tensor model (planted p-spin) at noise ``Delta``."""

    def __init__(self, n: int, p: int, Delta: float, prior: Prior, seed: SeedLike = None):
        n = check_int("n", n, minimum=2)
        p = check_int("p", p, minimum=2)
        if p > n:
            raise ValueError(f"p must be <= n = {n}, got {p}")
        Delta = check_real("Delta", Delta, minimum=0.0, strict_min=True)
        if not isinstance(prior, Prior):
            raise TypeError(f"prior must be a spinglass.priors.Prior, got {type(prior).__name__}")
        m = math.comb(n, p)
        if m > MAX_TENSOR_ENTRIES:
            raise ValueError(f"n = {n} with p = {p} needs C(n, p) = {m} tensor entries > {MAX_TENSOR_ENTRIES}; "
                             "reduce n")
        rng = make_rng(seed)
        x_star = prior.sample(n, seed=rng)
        edges = all_subsets(n, p)
        scale = math.sqrt(math.factorial(p - 1) / n ** (p - 1))
        signal = scale * np.prod(x_star[edges], axis=1)
        Y = signal + math.sqrt(Delta) * rng.standard_normal(m)
        super().__init__(
            n, edges, scale * Y / Delta, prior=prior, beta=1.0,
            global_terms=(GlobalTerm(math.factorial(p - 1) / (2.0 * Delta * n ** (p - 1)), 2, p),),
            planted=x_star,
            description={"family": "SpikedTensor", "n": n, "p": p, "Delta": Delta,
                         "T": math.sqrt(p * Delta / 2.0), "prior": prior.describe(), "seed": seed_repr(seed)},
        )
        self.Delta = Delta
        self.observations = Y
        self.observations.flags.writeable = False

    @classmethod
    def from_temperature(cls, n: int, p: int, T: float, prior: Prior, seed: SeedLike = None) -> SpikedTensor:
        """The planted p-spin at temperature T (couplings of variance p!/(2N^(p-1))): Delta = 2 T^2 / p."""
        T = check_real("T", T, minimum=0.0, strict_min=True)
        p = check_int("p", p, minimum=2)
        return cls(n, p, 2.0 * T**2 / p, prior, seed=seed)

    @property
    def temperature(self) -> float:
        """T = sqrt(p Delta / 2)."""
        return math.sqrt(self.p * self.Delta / 2.0)
