"""The checkerboard adapter: binary pairwise models on periodic lattices, run by ``kernels_lattice``.

Used by the MCMC samplers' ``order="checkerboard"``.  The chain state keeps the spins in the kernel's
packed order (``xs``, int8 ±1) between calls, so a call costs nothing beyond its sweeps; the alphabet
indices in natural site order are read out with ``alphabet_indices``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import kernels_lattice as kl
from .adapter_base import PackedSpinsAdapter, binary_uniform_refusal, reference_spins, run_chain_blocks


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
        levels = kl.attainable_energy_changes(Jp, h) if integer else np.zeros(0, np.int64)
        if levels.size > kl.MAX_LEVELS:
            integer, levels = False, np.zeros(0, np.int64)
        dtype = np.int32 if integer else np.float64
        self.Jp = np.ascontiguousarray(Jp, dtype=dtype)
        self.hp = np.ascontiguousarray(h, dtype=dtype)
        self.levels = levels
        ref = reference_spins(model)
        self.refp = np.ascontiguousarray(ref[self.order])
        self.has_ref = model.planted is not None

    def run(self, st: dict, betas, rng, n_sweeps, heat_bath, trace, accepted, threads: int = 1) -> None:
        kl.seed_lanes(rng, st["lanes"], st["seeded"])
        run_chain_blocks(
            lambda xs, energy, sums, lanes, betas, trace, accepted: kl.checkerboard_sweeps(
                xs, energy, sums, lanes, self.Jp, self.hp, self.refp, self.has_ref, self.row_parity,
                self.row_neighbours, self.levels, betas, n_sweeps, heat_bath, trace, accepted),
            (st["xs"], st["energy"], st["sums"], st["lanes"], betas, trace, accepted), len(betas), threads)
