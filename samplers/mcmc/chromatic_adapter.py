"""The chromatic adapter: binary pairwise models on sparse graphs, run by ``kernels_chromatic``.

Used by the MCMC samplers' ``order="chromatic"``.  The coupling graph is coloured greedily
(``kernels_chromatic.greedy_colouring``) and laid out class by class in blocks; the chain state keeps the
spins in that packed order (``xs``) between calls, and ``alphabet_indices`` reads them out in natural site
order.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import kernels_chromatic as kc
from . import kernels_lattice as kl
from .adapter_base import (
    PackedSpinsAdapter,
    binary_uniform_refusal,
    csr_integer_start,
    integer_field_bound,
    integer_start_tables,
    reference_spins,
    run_chain_blocks,
)


class ChromaticAdapter(PackedSpinsAdapter):
    """Binary (±1, uniform prior) pairwise models with sparse couplings: EA on any lattice, Ising models on
    sparse random graphs.  Integer couplings and fields with F = max_i (sum_j |J_ij| + |h_i|) at most
    ``kernels_binary.TABLE_MAX_FIELD`` use the tabulated thresholds (``adapter_base.integer_field_bound``),
    others the per-site float path (the same numbers).
    """

    def __init__(self, model):
        why = binary_uniform_refusal(model)
        if why is not None:
            raise ValueError(f"order='chromatic' needs a binary (±1, uniform prior) pairwise model with sparse "
                             f"couplings, such as EdwardsAnderson or an Ising model on a sparse graph; "
                             f"{model.family}: {why} (use order='sequential')")
        self.model = model
        J = sp.csr_matrix(model.couplings, copy=True)
        J.eliminate_zeros()  # a stored zero is no edge
        indptr = J.indptr.astype(np.int64)
        indices = J.indices.astype(np.int64)
        # colour the symmetric pattern of J (PairwiseModel allows asymmetry up to rounding)
        pattern = (abs(J) + abs(J).T).tocsr()
        colour = kc.greedy_colouring(pattern.indptr.astype(np.int64), pattern.indices.astype(np.int64), model.n)
        layout = kc.sliced_layout(indptr, indices, J.data, colour)
        self.order = layout["order"]
        self.n_colours = int(layout["class_ptr"].size - 1)
        self.class_ptr, self.start, self.size = layout["class_ptr"], layout["start"], layout["size"]
        self.width, self.offset, self.neighbours = layout["width"], layout["offset"], layout["neighbours"]
        fields = np.broadcast_to(np.asarray(model.fields, dtype=np.float64), (model.n,))
        F = integer_field_bound(J, fields)
        self.F = F
        self.spin_dtype = np.int32 if F >= 0 else np.float64
        self.couplings = np.ascontiguousarray(layout["couplings"], dtype=self.spin_dtype)
        self.hp = np.ascontiguousarray(fields[self.order], dtype=self.spin_dtype)
        self.refp = np.ascontiguousarray(reference_spins(model)[self.order])
        self.has_ref = model.planted is not None
        self._start_tables = integer_start_tables(model) if F >= 0 else None

    def _integer_start(self, s: np.ndarray) -> dict | None:
        if self._start_tables is None:
            return None
        xs = np.empty(s.shape, dtype=self.spin_dtype)
        energy, sums = csr_integer_start(np.ascontiguousarray(s), self.order, *self._start_tables, xs)
        return {"xs": xs, "energy": energy, "sums": sums}

    def run(self, st: dict, betas, rng, n_sweeps, heat_bath, trace, accepted, threads: int = 1) -> None:
        kl.seed_lanes(rng, st["lanes"], st["seeded"])
        run_chain_blocks(
            lambda xs, energy, sums, lanes, betas, trace, accepted: kc.chromatic_sweeps(
                xs, energy, sums, lanes, self.class_ptr, self.start, self.size, self.width, self.offset,
                self.neighbours, self.couplings, self.hp, self.refp, self.has_ref, self.F, betas, n_sweeps,
                heat_bath, trace, accepted),
            (st["xs"], st["energy"], st["sums"], st["lanes"], betas, trace, accepted), len(betas), threads)
