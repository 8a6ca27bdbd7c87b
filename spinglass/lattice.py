r"""Edwards-Anderson spin glasses on periodic hypercubic lattices (2D, 3D).

E(x) = -sum_{<ij>} J_ij x_i x_j - h sum_i x_i over nearest-neighbour pairs of an L_1 x ... x L_d torus,
x in {±1}^N, mu ∝ exp(-beta E).  Couplings: ``"pm1"`` (J = ±1 with probability 1/2), ``"gaussian"``
(J ~ N(0, 1)) or ``"ferro"`` (all J = 1, the 2D Ising ferromagnet: T_c = 2/ln(1 + sqrt 2), Onsager's
energy).  Site (c_1, ..., c_d) has index ``numpy.ravel_multi_index`` (row-major).  Side lengths must be
>= 3 so that the torus has no double edges.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._validate import SeedLike, check_int, check_real, make_rng, seed_repr
from .priors import Rademacher
from .scalar import PairwiseModel

COUPLING_KINDS = ("pm1", "gaussian", "ferro")


def torus_edges(shape: tuple[int, ...]) -> np.ndarray:
    """Nearest-neighbour edges (E, 2) of the periodic lattice ``shape`` (each edge once, d·N edges)."""
    n = int(np.prod(shape))
    coords = np.array(np.unravel_index(np.arange(n), shape))
    edges = []
    for d, length in enumerate(shape):
        shifted = coords.copy()
        shifted[d] = (shifted[d] + 1) % length
        edges.append(np.stack([np.arange(n), np.ravel_multi_index(tuple(shifted), shape)], axis=1))
    return np.concatenate(edges)


class EdwardsAnderson(PairwiseModel):
    """Edwards-Anderson model on a periodic lattice of the given ``shape`` (2 or 3 side lengths)."""

    def __init__(self, shape, couplings: str = "pm1", beta: float = 1.0, h: float = 0.0,
                 seed: SeedLike = None):
        if isinstance(shape, int | np.integer):
            raise TypeError("shape must be a tuple of 2 or 3 side lengths, e.g. (32, 32)")
        try:
            shape = tuple(shape)
        except TypeError:
            raise TypeError(f"shape must be a tuple of 2 or 3 side lengths, got {type(shape).__name__}") from None
        shape = tuple(check_int("shape", s, minimum=3) for s in shape)
        if len(shape) not in (2, 3):
            raise ValueError(f"shape must have 2 or 3 side lengths, got {len(shape)}")
        if couplings not in COUPLING_KINDS:
            raise ValueError(f"couplings must be one of {COUPLING_KINDS}, got {couplings!r}")
        beta = check_real("beta", beta, minimum=0.0)
        h = check_real("h", h)
        rng = make_rng(seed)
        edges = torus_edges(shape)
        if couplings == "pm1":
            w = rng.choice([-1.0, 1.0], size=len(edges))
        elif couplings == "gaussian":
            w = rng.standard_normal(len(edges))
        else:
            w = np.ones(len(edges))
        n = int(np.prod(shape))
        J = sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([edges[:, 0], edges[:, 1]]),
                                                     np.concatenate([edges[:, 1], edges[:, 0]]))),
                          shape=(n, n)).tocsr()
        super().__init__(
            J, prior=Rademacher(), fields=h, beta=beta, counting=True,
            description={"family": "EdwardsAnderson", "shape": list(shape), "couplings": couplings,
                         "beta": beta, "h": h, "seed": seed_repr(seed), "n": n},
        )
        self.shape = shape
        self.edges = edges
        self.edge_couplings = w

    def to_networkx(self):
        """The lattice as a ``networkx.Graph`` with the coupling as edge attribute ``J``."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        g.add_weighted_edges_from(((int(a), int(b), float(j)) for (a, b), j in
                                   zip(self.edges, self.edge_couplings, strict=True)), weight="J")
        return g
