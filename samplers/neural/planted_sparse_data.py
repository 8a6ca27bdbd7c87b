r"""Training data for the amortised sparse denoiser: fresh planted pairs (G, x*) of colouring and NAE-SAT.

Why planted pairs are posterior data
------------------------------------
``spinglass.PlantedColoring(n, q, c, beta, seed)`` draws sigma* uniform in {0..q-1}^n and then M = round(cn/2)
distinct edges, an edge between equal planted colours having relative weight e^{-beta};
``spinglass.PlantedNAESAT(n, k, alpha, beta, signed, seed)`` draws x* uniform in {±1}^n and M = round(alpha n)
clauses, one violated by x* having relative weight e^{-beta}.  The pair (G, x*) returned by the constructor
(``model``, ``model.planted``) is one *exact* draw of the joint planted law, so x* is an exact sample of the
planted posterior P(x | G) (no MCMC needed), and for any set R of variables chosen independently of (G, x*),
x*_{not R} is an exact sample of P(x | G, x_R = x*_R): the target of the erasure-channel denoiser.  Likewise
x* given (G, y) with y = t x* + sqrt(t) z is a posterior sample for the Gaussian channel.  The cross-entropy
of a network's marginals against x* is therefore a proper scoring rule for the posterior marginals
(``message_passing_training``).

Where the planted posterior is the model's Gibbs measure, and where it is the uniform-solution ensemble
----------------------------------------------------------------------------------------------------------
* Signed NAE-SAT: each clause is drawn with a weight that sums to the same number for every x (exactly 2 of
  the 2^k sign patterns of a k-set are violated by any x), so P(G | x) ∝ prod_a w_a(x) and the planted
  posterior *is* the Gibbs measure mu_G ∝ exp(-beta E) exactly (Nishimori).
* Colouring and unsigned NAE-SAT (hypergraph bicolouring): the number of allowed pairs / clauses depends on the
  class sizes of x, so P(x | G) = mu_G(x) times a tilt of the class-size profile; the marginals agree up to
  O(1/n) (``PlantedColoring``'s docstring).
* Quiet planting (Krzakala & Zdeborová, PRL 102, 238701 (2009); Achlioptas & Coja-Oghlan 2008): below the
  condensation density (c < c_c, alpha < alpha_c; c_c = c_KS = 4 for q = 3 colouring, c_c ≈ 13.23 for q = 5,
  docs/physics.md §8) the planted ensemble (G, x*) is contiguous to the random ensemble (G uniform random
  graph / formula, x uniform solution of G, or a Gibbs sample at finite beta).  There, a denoiser trained on
  planted pairs is trained on the uniform-solution ensemble as well and transfers to random instances.  Above
  c_c the two ensembles differ (the planted solution's cluster is atypically large), but the planted pairs
  remain exact posterior data *for planted graphs*, which are the instances this project samples.

Queries
-------
Each instance carries R = ``rows_per_instance`` queries.  Erasure channel (``channel="erasure"``, the
autoregressive path): per row, theta ~ U[theta_lo, theta_hi] and each variable is revealed (at its planted
value) independently with probability theta.  Under an exact autoregressive sampler the query after k steps
is (G, x_S) with S a uniform k-set and x_S an exact conditional sample, i.e. the law of (G, x*_S): with theta
uniform on [0, 1] the training queries cover the sampler's queries.  Gaussian channel (``channel="gaussian"``):
t = 0 with probability ``p_zero``, else log t ~ U[log t_min, log t_max] (or a fixed t), and y = t x* + sqrt(t) z
in the drivers' site representation (one-hot (n, q) for Potts, spins (n,) for NAE-SAT), nothing revealed.

A batch joins its I instances into one disjoint ``SparseGraph`` (all rows share it; the row axis is the batch
axis of the network).  Randomness: from one CPU ``torch.Generator``, in order: the sizes and the densities
(ranges only), one 63-bit seed per instance (the spinglass constructor's seed), then per channel theta and the
reveal uniforms, or t and z.  The same generator state gives the same batch on any machine.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from spinglass.sparse import PlantedColoring, PlantedNAESAT

from .denoiser import _pos_real, check_time_law
from .message_passing import FAMILIES, SparseGraph, site_field
from .planted_data import check_cpu_generator, positive_range
from .training import check_positive_int

__all__ = ["SparseBatch", "PlantedSparsePairs", "planted_indices", "CHANNELS"]

CHANNELS = ("erasure", "gaussian")


def planted_indices(model) -> np.ndarray:
    """The planted configuration as value indices (n,): the colour (Potts), 0 for x = -1 and 1 for +1 (NAE-SAT)."""
    x = model.planted
    if x is None:
        raise ValueError("model has no planted configuration (model.planted is None)")
    x = np.asarray(x)
    if getattr(model, "q", None) is not None:
        return x.astype(np.int64)
    return (x > 0).astype(np.int64)


@dataclass
class SparseBatch:
    """I planted instances joined into one graph, with R rows of queries.

    graph : the disjoint union (N = sum of the instances' n variables).  x : (N,) planted value indices.
    revealed : (R, N) value indices, -1 = free.  y : (R, N, q) (Potts) or (R, N) (NAE-SAT) Gaussian side observation
    (0 on the erasure channel).  t : (R, N) path time of each variable's instance.  instance : (N,) instance index
    of each variable.  models : the I spinglass models (for references such as ``BPDenoiser``).
    """

    graph: SparseGraph
    x: torch.Tensor
    revealed: torch.Tensor
    y: torch.Tensor
    t: torch.Tensor
    instance: torch.Tensor
    models: list = field(default_factory=list)

    @property
    def field(self) -> torch.Tensor:
        """The log node factors (R, N, K) of y (``message_passing.site_field``)."""
        return site_field(self.graph.family, self.y)

    def to(self, device) -> SparseBatch:
        return SparseBatch(self.graph.to(device), self.x.to(device), self.revealed.to(device), self.y.to(device),
                           self.t.to(device), self.instance.to(device), self.models)


class PlantedSparsePairs:
    r"""Fresh planted colouring / NAE-SAT instances with erasure or Gaussian queries (module docstring).

    Parameters
    ----------
    family : "potts" (``PlantedColoring``) or "naesat" (``PlantedNAESAT``).  n : variables per instance (>= 2), or a
        range (lo, hi) drawn uniformly per instance (amortising over n: no finite-size effect of one n is learned).
    q, c : colours and average degree (Potts); c a number or a range (lo, hi) drawn uniformly per instance.
    k, alpha, signed : clause size, clause density (number or range) and literal signs (NAE-SAT).
    beta : inverse temperature (inf: hard constraints).
    channel : "erasure" or "gaussian".  rows_per_instance : R (>= 1).
    theta : (lo, hi) range of the revealed fraction, 0 <= lo <= hi <= 1 (erasure).
    t_min, t_max, p_zero : the law of t (Gaussian; 0 < t_min < t_max, 0 <= p_zero < 1).
    dtype : torch.float32 (default) or torch.float64 for y and t.
    """

    def __init__(self, family: str, n: int, *, q: int = 3, c=None, k: int = 5, alpha=None, beta: float = math.inf,
                 signed: bool = True, channel: str = "erasure", rows_per_instance: int = 4,
                 theta: tuple[float, float] = (0.0, 1.0), t_min: float = 1e-2, t_max: float = 30.0,
                 p_zero: float = 0.05, dtype: torch.dtype = torch.float32):
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
        self.family = family
        if isinstance(n, Sequence) and not isinstance(n, str | bytes):
            if len(n) != 2:
                raise ValueError(f"n must be an integer >= 2 or a range (lo, hi), got {n!r}")
            lo, hi = (check_positive_int("n", v, 2) for v in n)
            if hi < lo:
                raise ValueError(f"n range must have lo <= hi, got ({lo}, {hi})")
            self.n_range = (lo, hi)
        else:
            v = check_positive_int("n", n, 2)
            self.n_range = (v, v)
        self.n = self.n_range[0]
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or math.isnan(beta) or beta < 0:
            raise ValueError(f"beta must be a real number >= 0 (inf allowed), got {beta!r}")
        self.beta = float(beta)
        if family == "potts":
            self.q = check_positive_int("q", q, 2)
            if c is None:
                raise ValueError("c (average degree) is required for family 'potts'")
            self.density = positive_range("c", c)
            self.K = self.q
        else:
            self.k = check_positive_int("k", k, 2)
            if self.k > self.n:
                raise ValueError(f"k must be <= n = {self.n} (the smallest n), got {self.k}")
            if alpha is None:
                raise ValueError("alpha (clause density) is required for family 'naesat'")
            self.density = positive_range("alpha", alpha)
            if not isinstance(signed, bool):
                raise TypeError(f"signed must be a bool, got {type(signed).__name__}")
            self.signed = signed
            self.K = 2
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
        self.channel = channel
        self.rows_per_instance = check_positive_int("rows_per_instance", rows_per_instance, 1)
        if (not isinstance(theta, Sequence) or isinstance(theta, str) or len(theta) != 2
                or any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in theta)
                or not 0.0 <= float(theta[0]) <= float(theta[1]) <= 1.0):
            raise ValueError(f"theta must be a range (lo, hi) with 0 <= lo <= hi <= 1, got {theta!r}")
        self.theta = (float(theta[0]), float(theta[1]))
        self.t_min, self.t_max, self.p_zero = check_time_law(t_min, t_max, p_zero)
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.dtype = dtype

    def describe(self) -> dict:
        lo, hi = self.density
        n_lo, n_hi = self.n_range
        d = {"name": "PlantedSparsePairs", "family": self.family, "n": n_lo if n_lo == n_hi else [n_lo, n_hi],
             "beta": self.beta,
             "channel": self.channel, "rows_per_instance": self.rows_per_instance}
        dens = lo if lo == hi else [lo, hi]
        if self.family == "potts":
            d.update(q=self.q, c=dens)
        else:
            d.update(k=self.k, alpha=dens, signed=self.signed)
        if self.channel == "erasure":
            d["theta"] = list(self.theta)
        else:
            d.update(t_min=self.t_min, t_max=self.t_max, p_zero=self.p_zero)
        return d

    # -- instances ----------------------------------------------------------------------------------------------
    def model(self, density: float, seed: int, n: int | None = None):
        """One planted instance from the spinglass constructor at this density and seed (n: default the smallest)."""
        n = self.n if n is None else check_positive_int("n", n, 2)
        if self.family == "potts":
            return PlantedColoring(n, self.q, density, beta=self.beta, seed=seed)
        return PlantedNAESAT(n, self.k, density, beta=self.beta, signed=self.signed, seed=seed)

    def instances(self, count: int, generator: torch.Generator) -> list:
        """``count`` fresh planted models drawn with ``generator`` (CPU): sizes (range only), densities (range only),
        then one seed each."""
        count = check_positive_int("count", count, 1)
        gen = check_cpu_generator(generator)
        n_lo, n_hi = self.n_range
        ns = [n_lo] * count if n_lo == n_hi else torch.randint(n_lo, n_hi + 1, (count,), generator=gen).tolist()
        lo, hi = self.density
        dens = [lo] * count if lo == hi else (lo + (hi - lo) * torch.rand(count, generator=gen,
                                                                          dtype=torch.float64)).tolist()
        seeds = torch.randint(0, 2**63 - 1, (count,), generator=gen, dtype=torch.int64).tolist()
        return [self.model(d, int(s), int(n)) for d, s, n in zip(dens, seeds, ns, strict=True)]

    def batch(self, models: Sequence, generator: torch.Generator, *, theta: float | None = None,
              t: float | None = None) -> SparseBatch:
        """Queries (``rows_per_instance`` rows) on given planted models, drawn with ``generator`` (module docstring).

        theta : None (drawn per row and instance) or a fixed revealed fraction in [0, 1] (erasure).
        t : None (drawn per row and instance) or a fixed t >= 0 (Gaussian).
        """
        gen = check_cpu_generator(generator)
        models = list(models)
        if not models:
            raise ValueError("models must hold at least one planted model")
        graphs = [SparseGraph.from_model(m) for m in models]
        graph = SparseGraph.union(graphs)
        if graph.family != self.family or graph.K != self.K or graph.beta != self.beta:
            raise ValueError("models must be of this data set's family, K and beta")
        x = torch.as_tensor(np.concatenate([planted_indices(m) for m in models]))
        sizes = torch.as_tensor([m.n for m in models])
        inst = torch.repeat_interleave(torch.arange(len(models)), sizes)
        R, N, I = self.rows_per_instance, graph.n, len(models)
        site = (R, N, self.K) if self.family == "potts" else (R, N)
        if self.channel == "erasure":
            if t is not None:
                raise ValueError("t: the erasure channel has no path time (use theta)")
            if theta is None:
                lo, hi = self.theta
                th = lo + (hi - lo) * torch.rand((R, I), generator=gen, dtype=torch.float64)
            else:
                if isinstance(theta, bool) or not isinstance(theta, numbers.Real) or not 0.0 <= float(theta) <= 1.0:
                    raise ValueError(f"theta must be a real number in [0, 1], got {theta!r}")
                th = torch.full((R, I), float(theta), dtype=torch.float64)
            u = torch.rand((R, N), generator=gen, dtype=torch.float64)
            revealed = torch.where(u < th[:, inst], x[None, :], torch.full_like(u, -1, dtype=torch.int64))
            y = torch.zeros(site, dtype=self.dtype)
            tt = torch.zeros((R, N), dtype=self.dtype)
        else:
            if theta is not None:
                raise ValueError("theta: the Gaussian channel reveals no variable (use t)")
            if t is None:
                from .denoiser import _draw_t

                t_ri = _draw_t(R * I, gen, self.t_min, self.t_max, self.p_zero, torch.float64).reshape(R, I)
            else:
                t_ri = torch.full((R, I), _pos_real("t", t, allow_zero=True), dtype=torch.float64)
            t_node = t_ri[:, inst]
            z = torch.randn(site, generator=gen, dtype=torch.float64)
            xs = (torch.nn.functional.one_hot(x, self.K).to(torch.float64)[None] if self.family == "potts"
                  else (2.0 * x.to(torch.float64) - 1.0)[None])
            tb = t_node[..., None] if self.family == "potts" else t_node
            y = (tb * xs + torch.sqrt(tb) * z).to(self.dtype)
            revealed = torch.full((R, N), -1, dtype=torch.int64)
            tt = t_node.to(self.dtype)
        return SparseBatch(graph=graph, x=x, revealed=revealed, y=y, t=tt, instance=inst, models=models)

    def draw(self, count: int, generator: torch.Generator, *, theta: float | None = None,
             t: float | None = None) -> SparseBatch:
        """``count`` fresh instances with their queries (``instances`` then ``batch``), on the CPU."""
        return self.batch(self.instances(count, generator), generator, theta=theta, t=t)
