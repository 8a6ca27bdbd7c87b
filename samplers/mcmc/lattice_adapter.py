"""The checkerboard adapter: binary pairwise models on periodic lattices, run by ``kernels_lattice``.

Used by the MCMC samplers' ``order="checkerboard"``.  The chain state keeps the spins in the kernel's
packed order (``xs``, int8 ±1) between calls, so a call costs nothing beyond its sweeps; the alphabet
indices in natural site order are read out with ``alphabet_indices``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

from . import kernels_lattice as kl
from .adapter_base import (
    PackedSpinsAdapter,
    all_integral,
    binary_uniform_refusal,
    reference_spins,
    run_chain_blocks,
)


@njit(cache=True, nogil=True)
def lattice_integer_start(s, order, Jp, hp, refp, row_parity, row_neighbours, xs):  # pragma: no cover - numba
    """Packed spins, energy and spin sums of the chains' start on a lattice with integer couplings, fields
    and reference spins, in one compiled pass of integer arithmetic.

    ``s`` (C, n) alphabet indices in natural order (x = 2 s - 1); fills ``xs[c, p] = x[c, order[p]]``.  With
    the packed layout of ``kernels_lattice`` (``Jp`` (2d, n) int: the coupling of packed site p to its
    neighbour in direction t), P = sum over bonds of J_ij x_i x_j is the sum over the colour-0 sites of
    x_p sum_t Jp[t, p] x_(neighbour t of p), each bond once.  Returns energy (C,) = (-0.5 (2P) -
    sum_i h_i x_i) + 0.0 and sums (C, 2) = (sum_i x_i, sum_i x_i ref_i): integers, exact in any order, hence
    the doubles that ``PairwiseModel.energy`` gives.
    """
    C, n = s.shape
    H = row_parity.size
    Wh = n // (2 * H)
    half = n // 2
    M = row_neighbours.shape[1]
    energy = np.empty(C)
    sums = np.empty((C, 2))
    for c in range(C):
        sc = s[c]
        xc = xs[c]
        for p in range(n):
            xc[p] = 2 * sc[order[p]] - 1
        pair = 0
        for r in range(H):
            base = r * Wh
            obase = half + base
            q = row_parity[r] & 1
            for k in range(Wh):
                kk = k - 1 + 2 * q
                if kk < 0:
                    kk += Wh
                elif kk >= Wh:
                    kk -= Wh
                f = np.int64(Jp[0, base + k]) * xc[obase + k] + np.int64(Jp[1, base + k]) * xc[obase + kk]
                for m in range(M):
                    f += np.int64(Jp[2 + m, base + k]) * xc[half + row_neighbours[r, m] * Wh + k]
                pair += f * xc[base + k]
        field = 0
        m1 = 0
        m2 = 0
        for p in range(n):
            xp = np.int64(xc[p])
            field += np.int64(hp[p]) * xp
            m1 += xp
            m2 += refp[p] * xp
        energy[c] = (-0.5 * float(2 * pair) - float(field)) + 0.0
        sums[c, 0] = float(m1)
        sums[c, 1] = float(m2)
    return energy, sums


def _distinct_columns(Jp: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct sites' (J_1 .. J_2d, h) columns of integer-valued ``Jp`` (2d, n) and ``h`` (n,), found by
    ``np.unique`` on one mixed-radix int64 key per site (``np.unique(axis=0)`` on n rows sorts them as
    records, 50 ms at n = 65536); ``kernels_lattice.attainable_energy_changes`` depends only on this set."""
    M = np.vstack([Jp, h[None, :]]).astype(np.int64)
    lo = M.min(axis=1)
    span = M.max(axis=1) - lo + 1
    if np.sum(np.log2(span.astype(np.float64))) >= 62:
        return Jp, h
    radix = np.concatenate([[1], np.cumprod(span[:-1])]).astype(np.int64)
    key = ((M - lo[:, None]) * radix[:, None]).sum(axis=0)
    _, first = np.unique(key, return_index=True)
    return M[:-1, first], M[-1, first]


def _refuse(model, why: str) -> ValueError:
    return ValueError(f"order='checkerboard' needs a binary (±1, uniform prior) pairwise model on a periodic "
                      f"lattice with every side even, such as EdwardsAnderson((L, L)) with L even; "
                      f"{model.family}: {why} (use order='sequential')")


class CheckerboardAdapter(PackedSpinsAdapter):
    """Binary pairwise models whose couplings are nearest-neighbour bonds of a periodic lattice.

    The lattice is read from ``model.shape`` (row-major site indices, as ``spinglass.EdwardsAnderson``);
    the coupling matrix must have no entry outside the lattice bonds.  Integer couplings and fields use
    the kernel's integer path (thresholds per attainable dE), others the per-site float path.
    """

    def __init__(self, model):
        why = binary_uniform_refusal(model)
        if why is not None:
            raise _refuse(model, why)
        shape = getattr(model, "shape", None)
        if not isinstance(shape, tuple) or not shape or int(np.prod(shape)) != model.n:
            raise _refuse(model, "the model has no lattice shape")
        if any(int(s) % 2 for s in shape):
            raise _refuse(model, f"shape {tuple(shape)} has an odd side (not bipartite)")
        self.model = model
        self.order, self.row_parity, self.row_neighbours = kl.packing(shape)
        nbr = kl.neighbour_table(shape, self.order, self.row_parity, self.row_neighbours)
        J = sp.csr_matrix(model.couplings)
        rows = np.broadcast_to(self.order, nbr.shape)
        Jp = np.asarray(J[rows.ravel(), nbr.ravel()]).reshape(nbr.shape)
        # the lattice bonds are distinct entries of J: equal |J| mass means J has no other entry
        if not np.isclose(np.abs(Jp).sum(), np.abs(J.data).sum(), rtol=1e-12, atol=0.0):
            raise _refuse(model, "the couplings have entries outside the nearest-neighbour bonds of the lattice")
        h = np.broadcast_to(np.asarray(model.fields, dtype=np.float64), (model.n,))[self.order]
        integer = bool(np.all(Jp == np.round(Jp)) and np.all(h == np.round(h))
                       and np.abs(Jp).sum(axis=0).max() + np.abs(h).max() < 2**28)
        levels = kl.attainable_energy_changes(*_distinct_columns(Jp, h)) if integer else np.zeros(0, np.int64)
        if levels.size > kl.MAX_LEVELS:
            integer, levels = False, np.zeros(0, np.int64)
        dtype = np.int32 if integer else np.float64
        self.Jp = np.ascontiguousarray(Jp, dtype=dtype)
        self.hp = np.ascontiguousarray(h, dtype=dtype)
        self.levels = levels
        ref = reference_spins(model)
        self.refp = np.ascontiguousarray(ref[self.order])
        self.has_ref = model.planted is not None
        # the start's energy in exact integer arithmetic: each bond once, from the colour-0 half of the
        # packed sites (every bond joins the two colours)
        self._start_ref = None
        if integer and all_integral(ref) and np.abs(Jp).sum() + np.abs(h).sum() + np.abs(ref).sum() + model.n < 2.0**52:
            self._start_ref = self.refp.astype(np.int64)

    def _integer_start(self, s: np.ndarray) -> dict | None:
        if self._start_ref is None:
            return None
        xs = np.empty(s.shape, dtype=self.spin_dtype)
        energy, sums = lattice_integer_start(np.ascontiguousarray(s), self.order, self.Jp, self.hp, self._start_ref,
                                             self.row_parity, self.row_neighbours, xs)
        return {"xs": xs, "energy": energy, "sums": sums}

    def run(self, st: dict, betas, rng, n_sweeps, heat_bath, trace, accepted, threads: int = 1) -> None:
        kl.seed_lanes(rng, st["lanes"], st["seeded"])
        run_chain_blocks(
            lambda xs, energy, sums, lanes, betas, trace, accepted: kl.checkerboard_sweeps(
                xs, energy, sums, lanes, self.Jp, self.hp, self.refp, self.has_ref, self.row_parity,
                self.row_neighbours, self.levels, betas, n_sweeps, heat_bath, trace, accepted),
            (st["xs"], st["energy"], st["sums"], st["lanes"], betas, trace, accepted), len(betas), threads)
