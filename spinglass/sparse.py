r"""Sparse planted models on random (hyper)graphs: planted colouring / Potts and planted NAE-SAT.

Potts / colouring (docs/physics.md §1): sigma in {0..q-1}^N on a graph G = (V, E),
    E(sigma) = #{(ij) in E : sigma_i = sigma_j},   mu ∝ exp(-beta E),
beta = inf meaning uniform over proper colourings.  ``PlantedColoring``: draw sigma* uniform, then
M = round(cN/2) distinct edges uniformly among pairs, an equal-colour pair having relative weight
e^{-beta} (0 at beta = inf).  c is the average degree; Kesten-Stigum at c = (q-1)^2 (beta = inf).

NAE-SAT / hypergraph bicolouring: x in {±1}^N, clauses a = (i_1..i_k) with literal signs s_{a,r};
clause a is violated when the literals s_{a,r} x_{i_r} are all equal.  E(x) = #violated clauses.
``PlantedNAESAT``: draw x* uniform, then M = round(alpha N) clauses, each k distinct variables chosen
uniformly with uniform signs (all +1 when ``signed=False``: planted hypergraph bicolouring), a clause
violated by x* having relative weight e^{-beta}.  alpha is the clause density.

Both use counting measure (log Z = log sum_x exp(-beta E(x)), the number of solutions at beta = inf).
Instances are generated with vectorised numpy rejection sampling (exactly the laws above) and exported to
networkx with ``to_networkx()``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ._validate import SeedLike, check_int, check_real, make_rng, readonly, seed_repr
from .base import Model

#: Most random draws an instance generator may need before it refuses (guards against endless loops).
_MAX_DRAWS = 2e8


def _check_beta(beta) -> float:
    return check_real("beta", beta, minimum=0.0, allow_inf=True)


class PottsModel(Model):
    """Antiferromagnetic Potts model (colouring) on an undirected simple graph given by ``edges`` (E, 2)."""

    def __init__(self, n: int, q: int, edges, beta: float = math.inf, planted=None,
                 description: dict | None = None):
        self.n = check_int("n", n, minimum=1)
        self.q = check_int("q", q, minimum=2, maximum=127)
        self.beta = _check_beta(beta)
        edges = np.asarray(edges)
        if edges.size and not np.issubdtype(edges.dtype, np.integer):
            raise TypeError(f"edges must hold integers, got dtype {edges.dtype}")
        if edges.ndim != 2 or edges.shape[1] != 2:
            raise ValueError(f"edges must have shape (E, 2), got {edges.shape}")
        if edges.size and (edges.min() < 0 or edges.max() >= self.n):
            raise ValueError(f"edges must index nodes in [0, {self.n - 1}]")
        if np.any(edges[:, 0] == edges[:, 1]):
            raise ValueError("edges must not contain self-loops")
        self.edges = readonly(np.sort(edges, axis=1).astype(np.int32))
        m = len(self.edges)
        adj = sp.coo_matrix((np.ones(2 * m), (np.concatenate([self.edges[:, 0], self.edges[:, 1]]),
                                              np.concatenate([self.edges[:, 1], self.edges[:, 0]]))),
                            shape=(self.n, self.n)).tocsr()
        adj.sum_duplicates()
        if adj.nnz != 2 * m:
            raise ValueError("edges must not contain duplicates")
        adj.sort_indices()
        self.adjacency = adj
        self.alphabet = readonly(np.arange(self.q))
        if planted is not None:
            planted = np.array(planted)
            if planted.shape != (self.n,) or planted.min() < 0 or planted.max() >= self.q \
                    or not np.all(planted == np.round(planted)):
                raise ValueError(f"planted must be ({self.n},) colours in [0, {self.q - 1}]")
            planted = readonly(planted.astype(np.int64))
        self.planted = planted
        self._description = description or {"family": "PottsModel", "n": self.n, "q": self.q,
                                            "beta": self.beta, "edges": m}

    def _energy(self, x):
        return (x[:, self.edges[:, 0]] == x[:, self.edges[:, 1]]).sum(axis=1).astype(float)

    def _fingerprint_arrays(self) -> list:
        return [self.edges, np.array([self.q]), np.array([]) if self.planted is None else self.planted]

    def _log_prior(self, x):
        ok = np.all((x >= 0) & (x < self.q) & (x == np.round(x)), axis=1)
        return np.where(ok, 0.0, -np.inf)

    def _sample_prior(self, rng, shape):
        return rng.integers(0, self.q, size=shape)

    @property
    def degrees(self) -> np.ndarray:
        return np.diff(self.adjacency.indptr)

    def to_networkx(self):
        """The graph as a ``networkx.Graph`` with the planted colour as node attribute ``colour``."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(map(tuple, self.edges.tolist()))
        if self.planted is not None:
            nx.set_node_attributes(g, dict(enumerate(self.planted.tolist())), "colour")
        return g


class PlantedColoring(PottsModel):
    """Planted q-colouring (beta = inf) or planted Potts (finite beta) with average degree ``c``.

    At finite beta the Gibbs measure is the posterior of the generating process only approximately (the
    edge count is fixed and the normalisation depends on the colour-class sizes), so the Nishimori
    identity holds up to O(1/N) corrections.
    """

    def __init__(self, n: int, q: int, c: float, beta: float = math.inf, seed: SeedLike = None):
        n = check_int("n", n, minimum=2)
        q = check_int("q", q, minimum=2, maximum=127)
        c = check_real("c", c, minimum=0.0)
        beta = _check_beta(beta)
        rng = make_rng(seed)
        sigma = rng.integers(0, q, size=n)
        m = int(round(c * n / 2))
        eq_weight = math.exp(-beta) if math.isfinite(beta) else 0.0
        counts = np.bincount(sigma, minlength=q)
        n_eq = int(np.sum(counts * (counts - 1) // 2))
        n_pairs = n * (n - 1) // 2
        available = n_pairs - (n_eq if eq_weight == 0.0 else 0)
        if m > available:
            raise ValueError(f"c = {c} asks for {m} edges but only {available} pairs are allowed; lower c")
        # expected number of uniform pair draws of the rejection sampler (different-colour pairs first)
        n_diff = n_pairs - n_eq
        t = np.arange(m, dtype=float)
        rate = np.where(t < n_diff, n_diff - t + eq_weight * n_eq, eq_weight * (n_eq - (t - n_diff)))
        expected_draws = float(np.sum(n_pairs / np.maximum(rate, 1e-300)))
        if expected_draws > _MAX_DRAWS:
            raise ValueError(f"c = {c} at beta = {beta} needs about {expected_draws:.3g} pair draws: more edges "
                             f"than the {n_diff} pairs of different planted colours; lower c or beta")
        edges = np.empty((0, 2), dtype=np.int64)
        codes = np.empty(0, dtype=np.int64)
        while len(edges) < m:
            batch = max(64, int(1.3 * (m - len(edges))) + 16)
            i = rng.integers(0, n, size=batch)
            j = rng.integers(0, n, size=batch)
            keep = i != j
            same = sigma[i] == sigma[j]
            keep &= ~same | (rng.random(batch) < eq_weight)
            a, b = np.minimum(i, j)[keep], np.maximum(i, j)[keep]
            new_codes = a * n + b
            _, first = np.unique(new_codes, return_index=True)
            first.sort()
            new_codes, a, b = new_codes[first], a[first], b[first]
            fresh = ~np.isin(new_codes, codes)
            codes = np.concatenate([codes, new_codes[fresh]])
            edges = np.concatenate([edges, np.stack([a[fresh], b[fresh]], axis=1)])
        edges = edges[:m]
        super().__init__(n, q, edges, beta=beta, planted=sigma,
                         description={"family": "PlantedColoring", "n": n, "q": q, "c": c, "beta": beta,
                                      "seed": seed_repr(seed)})
        self.c = c


class NAESATModel(Model):
    """Not-all-equal SAT on clauses (M, k) with literal signs (M, k) in {±1}; x in {±1}^n."""

    def __init__(self, n: int, clauses, signs=None, beta: float = math.inf, planted=None,
                 description: dict | None = None):
        self.n = check_int("n", n, minimum=1)
        self.beta = _check_beta(beta)
        clauses = np.asarray(clauses)
        if clauses.size and not np.issubdtype(clauses.dtype, np.integer):
            raise TypeError(f"clauses must hold integers, got dtype {clauses.dtype}")
        if clauses.ndim != 2 or clauses.shape[1] < 2:
            raise ValueError(f"clauses must have shape (M, k) with k >= 2, got {clauses.shape}")
        if clauses.size and (clauses.min() < 0 or clauses.max() >= self.n):
            raise ValueError(f"clauses must index variables in [0, {self.n - 1}]")
        if np.any(np.diff(np.sort(clauses, axis=1), axis=1) == 0):
            raise ValueError("each clause must hold k distinct variables")
        signs = np.ones(clauses.shape, dtype=np.int8) if signs is None else np.asarray(signs)
        if signs.shape != clauses.shape or not np.all(np.abs(signs) == 1):
            raise ValueError("signs must have the shape of clauses and entries ±1")
        self.k = clauses.shape[1]
        self.clauses = readonly(clauses.astype(np.int32))
        self.signs = readonly(signs.astype(np.int8))
        self.alphabet = readonly(np.array([-1.0, 1.0]))
        if planted is not None:
            planted = np.array(planted, dtype=float)
            if planted.shape != (self.n,) or not np.all(np.abs(planted) == 1):
                raise ValueError(f"planted must be ({self.n},) entries ±1")
            planted = readonly(planted)
        self.planted = planted
        self._description = description or {"family": "NAESATModel", "n": self.n, "k": self.k,
                                            "clauses": len(clauses), "beta": self.beta}

    def _fingerprint_arrays(self) -> list:
        return [self.clauses, self.signs, np.array([]) if self.planted is None else self.planted]

    def _energy(self, x):
        lits = x[:, self.clauses] * self.signs
        s = lits.sum(axis=2)
        return (np.abs(s) == self.k).sum(axis=1).astype(float)

    def _log_prior(self, x):
        ok = np.all(np.abs(x) == 1, axis=1)
        return np.where(ok, 0.0, -np.inf)

    def _sample_prior(self, rng, shape):
        return rng.choice([-1.0, 1.0], size=shape)

    @property
    def degrees(self) -> np.ndarray:
        return np.bincount(self.clauses.ravel(), minlength=self.n)

    def to_networkx(self):
        """The factor graph as a bipartite ``networkx.Graph``: variables 0..n-1, clauses ("c", a)."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(self.n), bipartite=0)
        g.add_nodes_from((("c", a) for a in range(len(self.clauses))), bipartite=1)
        for a, (vars_, sg) in enumerate(zip(self.clauses.tolist(), self.signs.tolist(), strict=True)):
            g.add_edges_from(((v, ("c", a), {"sign": s}) for v, s in zip(vars_, sg, strict=True)))
        return g


class PlantedNAESAT(NAESATModel):
    """Planted k-NAE-SAT (``signed=True``) or planted hypergraph bicolouring (``signed=False``)."""

    def __init__(self, n: int, k: int, alpha: float, beta: float = math.inf, signed: bool = True,
                 seed: SeedLike = None):
        n = check_int("n", n, minimum=2)
        k = check_int("k", k, minimum=2)
        if k > n:
            raise ValueError(f"k must be <= n = {n}, got {k}")
        alpha = check_real("alpha", alpha, minimum=0.0)
        beta = _check_beta(beta)
        if not isinstance(signed, bool):
            raise TypeError("signed must be a bool")
        rng = make_rng(seed)
        x_star = rng.choice([-1.0, 1.0], size=n)
        m = int(round(alpha * n))
        viol_weight = math.exp(-beta) if math.isfinite(beta) else 0.0
        # probability that one uniform draw of k variables (and signs) is kept
        p_distinct = math.prod((n - j) / n for j in range(k))
        if signed:
            p_equal = 2.0 ** (1 - k)
        else:
            n_plus = int(np.sum(x_star > 0))
            p_equal = (math.comb(n_plus, k) + math.comb(n - n_plus, k)) / math.comb(n, k)
        p_keep = p_distinct * (1.0 - p_equal + p_equal * viol_weight)
        if m and (p_keep == 0.0 or m / p_keep > _MAX_DRAWS):
            raise ValueError(f"alpha = {alpha} with k = {k}, beta = {beta}: the planted configuration keeps a "
                             f"random clause with probability {p_keep:.3g}, too small to draw {m} clauses "
                             "(a constant planted bicolouring admits no clause); change seed, n, k or beta")
        clauses, signs = [], []
        have = 0
        while have < m:
            batch = max(64, int(1.5 * (m - have)) + 16)
            cand = rng.integers(0, n, size=(batch, k))
            distinct = np.all(np.diff(np.sort(cand, axis=1), axis=1) != 0, axis=1)
            sg = rng.choice(np.array([-1, 1], dtype=np.int8), size=(batch, k)) if signed else \
                np.ones((batch, k), dtype=np.int8)
            lit_sum = np.abs((x_star[cand] * sg).sum(axis=1))
            ok = distinct & ((lit_sum != k) | (rng.random(batch) < viol_weight))
            clauses.append(cand[ok])
            signs.append(sg[ok])
            have += int(ok.sum())
        clauses = np.concatenate(clauses)[:m] if m else np.empty((0, k), dtype=np.int64)
        signs = np.concatenate(signs)[:m] if m else np.empty((0, k), dtype=np.int8)
        super().__init__(n, clauses, signs, beta=beta, planted=x_star,
                         description={"family": "PlantedNAESAT", "n": n, "k": k, "alpha": alpha, "beta": beta,
                                      "signed": signed, "seed": seed_repr(seed)})
        self.alpha = alpha
        self.signed = signed
