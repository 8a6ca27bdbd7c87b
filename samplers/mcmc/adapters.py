"""Bridges from models to the numba kernels: array preparation, chain state, and one call to run sweeps.

Each adapter turns a model into flat arrays once, builds the incremental chain state from alphabet
indices ``s`` (C, n), and runs sweeps on it.  The chain state is a dict of arrays (``s``, ``energy`` and
the family's incremental fields) that the samplers store in ``MCMCState`` to resume runs bit for bit.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp

from spinglass.base import Model
from spinglass.scalar import PairwiseModel, PSpinModel, ScalarModel
from spinglass.sparse import NAESATModel, PottsModel

from . import kernels_binary as kb
from . import kernels_scalar as ks
from . import kernels_sparse as kp
from .adapter_base import (
    AdapterBase,
    binary_uniform_refusal,
    integer_field_bound,
    reference_spins,
    run_chain_blocks,
    spin_sums,
)
from .chromatic_adapter import ChromaticAdapter
from .lattice_adapter import CheckerboardAdapter


def _incidence(members: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR incidence of a (M, k) membership table: for each variable, the (row, position) pairs."""
    flat = members.ravel()
    order = np.argsort(flat, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(flat, minlength=n), out=ptr[1:])
    rows = (order // members.shape[1]).astype(np.int64)
    pos = (order % members.shape[1]).astype(np.int64)
    return ptr, rows, pos


class ScalarAdapter(AdapterBase):
    """Pairwise (dense or CSR) and p-body scalar models with a finite alphabet."""

    #: traced observables: energy, sum_i x_i, sum_i x_i x*_i
    observables = ("energy", "magnetization", "overlap_planted")

    def __init__(self, model: ScalarModel):
        if model.alphabet is None:
            raise TypeError(f"{model.family} has a continuous prior ({model.prior!r}); the discrete MCMC kernels "
                            "need a finite alphabet (use a Langevin sampler)")
        self.model = model
        self.vals = np.ascontiguousarray(model.alphabet, dtype=np.float64)
        self.logp = np.ascontiguousarray(model._alphabet_log_prior(), dtype=np.float64)
        terms = model.global_terms
        self.gcoef = np.array([t.coef for t in terms], dtype=np.float64)
        self.gorder = np.array([t.order for t in terms], dtype=np.int64)
        self.vpow = np.array([self.vals**t.power for t in terms], dtype=np.float64).reshape(len(terms),
                                                                                            self.vals.size)
        self.pmax = int(self.gorder.max()) if len(terms) else 0
        self.h = np.ascontiguousarray(model.fields, dtype=np.float64)
        self.ref = reference_spins(model)
        self.J = np.zeros((0, 0))
        self.indptr = self.indices = np.zeros(1, dtype=np.int64)
        self.data = self.weights = np.zeros(0)
        self.edges = np.zeros((0, 1), dtype=np.int64)
        if isinstance(model, PairwiseModel):
            if model.is_sparse:
                J = model.couplings
                self.kind = ks.KIND_CSR
                self.indptr = J.indptr.astype(np.int64)
                self.indices = J.indices.astype(np.int64)
                self.data = np.asarray(J.data, dtype=np.float64)
            else:
                self.kind = ks.KIND_DENSE
                self.J = np.ascontiguousarray(model.couplings, dtype=np.float64)
        elif isinstance(model, PSpinModel):
            self.kind = ks.KIND_PSPIN
            self.edges = np.ascontiguousarray(model.hyperedges, dtype=np.int64)
            self.weights = np.ascontiguousarray(model.weights, dtype=np.float64)
            self.indptr, self.indices, _ = _incidence(self.edges, model.n)
        else:
            raise TypeError(f"no MCMC kernel for {type(model).__name__}")
        # the specialised binary kernel (same numbers, faster): x in {-1, +1}, pairwise, no global terms
        self.binary = (self.kind in (ks.KIND_DENSE, ks.KIND_CSR) and not len(terms)
                       and np.array_equal(self.vals, [-1.0, 1.0]))
        self.max_field = self._integer_field_bound() if self.binary else -1
        # the initial energy can reuse the initial local fields when the model keeps PairwiseModel's energy
        cls = type(model)
        self._energy_from_fields = (isinstance(model, PairwiseModel) and cls._energy is PairwiseModel._energy
                                    and cls.local_fields is PairwiseModel.local_fields
                                    and cls._global_energy is ScalarModel._global_energy)

    def _integer_field_bound(self) -> int:
        """``integer_field_bound`` of the model's couplings and fields (-1: no acceptance table)."""
        coupl = self.model.couplings if self.kind == ks.KIND_CSR else self.J
        return integer_field_bound(coupl, self.h)

    def init_state(self, s: np.ndarray) -> dict:
        if self.J.dtype == np.float32:
            return self._float32_start(s)
        x = self.vals[s]
        model = self.model
        if self.kind == ks.KIND_PSPIN:
            lf = ks.pspin_local_fields(s, self.vals, self.edges, self.weights, model.n)
            energy = model._energy(x)
        elif self._energy_from_fields:
            # one product J x (an O(n^2) pass over a dense J) serves both the fields and the energy:
            # PairwiseModel._energy's own arithmetic, -1/2 <x, Jx> - <x, h> + global terms, on the same
            # operands, so the same doubles as model.energy(x)
            raw = model.local_fields(x)
            energy = -0.5 * np.einsum("bi,bi->b", x, raw) - x @ model.fields + model._global_energy(x)
            lf = np.ascontiguousarray(raw, dtype=np.float64)
        else:
            lf = np.ascontiguousarray(model.local_fields(x), dtype=np.float64)
            energy = model._energy(x)
        gsym = ks.global_symmetric(s, self.vpow, self.gorder, self.pmax)
        energy = np.asarray(energy, dtype=np.float64).reshape(-1).copy()
        return {"s": s, "lf": lf, "gsym": gsym, "energy": energy, "sums": spin_sums(x, self.ref)}

    def with_coupling_dtype(self, coupling_dtype: str) -> ScalarAdapter:
        """This adapter (``"float64"``) or, for ``"float32"``, a twin whose dense binary kernel streams the
        couplings rounded to float32 (built once and kept on this adapter).  The twin samples exactly the
        model with J rounded to float32: its initial fields and energies come from the rounded J
        (``kernels_binary.dense_local_fields``, accumulated in float64).  ValueError where there is no dense
        binary kernel to feed."""
        if coupling_dtype == "float64":
            return self
        if coupling_dtype != "float32":
            raise ValueError(f"coupling_dtype must be 'float64' or 'float32', got {coupling_dtype!r}")
        if not (self.binary and self.kind == ks.KIND_DENSE):
            raise ValueError("coupling_dtype='float32' applies to dense binary pairwise models (x in {-1, +1}, "
                             f"dense couplings, no global terms, such as SK); {self.model.family} is not one "
                             "(use coupling_dtype='float64')")
        twin = self.__dict__.get("_float32_twin")
        if twin is None:
            twin = copy.copy(self)
            twin.__dict__.pop("compiled", None)  # another specialisation of the kernel
            twin.__dict__.pop("_diagonal", None)
            twin.J = np.ascontiguousarray(self.J, dtype=np.float32)
            self._float32_twin = twin
        return twin

    def _float32_start(self, s: np.ndarray) -> dict:
        """The chain state of the float32 twin: fields and energies of the rounded couplings (no global
        terms: the twin exists for binary pairwise models only)."""
        x = self.vals[s]
        lf = kb.dense_local_fields(np.ascontiguousarray(x), self.J)
        energy = -0.5 * np.einsum("bi,bi->b", x, lf) - x @ self.h
        gsym = ks.global_symmetric(s, self.vpow, self.gorder, self.pmax)
        return {"s": s, "lf": lf, "gsym": gsym, "energy": energy, "sums": spin_sums(x, self.ref)}

    def diagonal_blocks(self) -> np.ndarray:
        """``kernels_binary.diagonal_blocks`` of the dense J (in its dtype), built once."""
        if "_diagonal" not in self.__dict__:
            self._diagonal = kb.diagonal_blocks(self.J, kb.DENSE_BLOCK)
        return self._diagonal

    def run(self, st: dict, betas, rng, n_sweeps, heat_bath, trace, accepted, threads: int = 1) -> None:
        if self.binary and self.kind == ks.KIND_DENSE:
            # the delayed field update: the sequential kernel's chain bit for bit, fewer passes over the fields
            Jd = self.diagonal_blocks()
            run_chain_blocks(
                lambda s, lf, energy, sums, betas, rng, trace, accepted: kb.dense_blocked_sweeps(
                    s, lf, energy, sums, self.J, Jd, self.h, self.logp, self.ref, betas, rng, n_sweeps, heat_bath,
                    self.max_field, trace, accepted),
                (st["s"], st["lf"], st["energy"], st["sums"], betas, rng, trace, accepted), len(betas), threads)
            return
        if self.binary:
            run_chain_blocks(
                lambda s, lf, energy, sums, betas, rng, trace, accepted: kb.binary_pairwise_sweeps(
                    self.kind == ks.KIND_DENSE, s, lf, energy, sums, self.J, self.indptr, self.indices, self.data,
                    self.h, self.logp, self.ref, betas, rng, n_sweeps, heat_bath, self.max_field, trace, accepted),
                (st["s"], st["lf"], st["energy"], st["sums"], betas, rng, trace, accepted), len(betas), threads)
            return
        run_chain_blocks(
            lambda s, lf, gsym, energy, sums, betas, rng, trace, accepted: ks.scalar_sweeps(
                self.kind, s, lf, gsym, energy, sums, self.J, self.indptr, self.indices, self.data, self.edges,
                self.weights, self.h, self.vals, self.logp, self.vpow, self.gcoef, self.gorder, self.ref, betas, rng,
                n_sweeps, heat_bath, trace, accepted),
            (st["s"], st["lf"], st["gsym"], st["energy"], st["sums"], betas, rng, trace, accepted), len(betas),
            threads)


class PottsAdapter(AdapterBase):
    """Antiferromagnetic Potts / colouring models."""

    observables = ("energy",)

    def __init__(self, model: PottsModel):
        self.model = model
        adj = sp.csr_matrix(model.adjacency)
        self.indptr = adj.indptr.astype(np.int64)
        self.indices = adj.indices.astype(np.int64)
        self.q = model.q

    def init_state(self, s: np.ndarray) -> dict:
        counts, energy = kp.potts_counts(s, self.indptr, self.indices, self.q)
        return {"s": s, "counts": counts, "energy": energy}

    def run(self, st, betas, rng, n_sweeps, heat_bath, trace, accepted, threads: int = 1) -> None:
        run_chain_blocks(
            lambda s, counts, energy, betas, rng, trace, accepted: kp.potts_sweeps(
                s, counts, energy, self.indptr, self.indices, self.q, betas, rng, n_sweeps, heat_bath, trace,
                accepted),
            (st["s"], st["counts"], st["energy"], betas, rng, trace, accepted), len(betas), threads)


class NAESATAdapter(AdapterBase):
    """NAE-SAT / hypergraph bicolouring models."""

    observables = ("energy", "magnetization", "overlap_planted")

    def __init__(self, model: NAESATModel):
        self.model = model
        self.clauses = np.ascontiguousarray(model.clauses, dtype=np.int64)
        self.signs = np.ascontiguousarray(model.signs, dtype=np.int64)
        self.inc_ptr, self.inc_clause, pos = _incidence(self.clauses, model.n)
        self.inc_sign = self.signs[self.inc_clause, pos].astype(np.int64)
        self.ref = reference_spins(model)

    def init_state(self, s: np.ndarray) -> dict:
        npos, energy = kp.naesat_counts(s, self.clauses, self.signs)
        return {"s": s, "npos": npos, "energy": energy, "sums": spin_sums(2.0 * s - 1.0, self.ref)}

    def run(self, st, betas, rng, n_sweeps, heat_bath, trace, accepted, threads: int = 1) -> None:
        run_chain_blocks(
            lambda s, npos, energy, sums, betas, rng, trace, accepted: kp.naesat_sweeps(
                s, npos, energy, sums, self.inc_ptr, self.inc_clause, self.inc_sign, self.model.k, self.ref, betas,
                rng, n_sweeps, heat_bath, trace, accepted),
            (st["s"], st["npos"], st["energy"], st["sums"], betas, rng, trace, accepted), len(betas), threads)


#: ``order="auto"`` tries the chromatic kernel only when the coupling graph is this sparse (stored entries per
#: site): on denser graphs a colour class holds few sites and the vectorised kernel gains nothing.
AUTO_CHROMATIC_MAX_DEGREE = 32


def resolve_order(model: Model, order: str) -> str:
    """The concrete sweep order that ``order`` means on ``model``: ``"auto"`` is ``"checkerboard"`` on
    periodic lattices with even sides, ``"chromatic"`` on other sparse +-1 pairwise models with a uniform
    prior (degree <= ``AUTO_CHROMATIC_MAX_DEGREE``), ``"sequential"`` otherwise; the others are themselves.
    Deterministic in the model, so a seeded run with ``"auto"`` is reproducible."""
    if order != "auto":
        return order
    cache = model.derived()
    if "auto_order" not in cache:
        cache["auto_order"] = _auto_order(model)
    return cache["auto_order"]


def _auto_order(model: Model) -> str:
    if binary_uniform_refusal(model) is not None:
        return "sequential"
    for candidate in ("checkerboard", "chromatic"):
        if candidate == "chromatic" and model.couplings.nnz > AUTO_CHROMATIC_MAX_DEGREE * model.n:
            break
        try:
            adapter_for(model, candidate)
        except ValueError:
            continue
        return candidate
    return "sequential"


def adapter_for(model: Model, order: str = "sequential"):
    """The kernel adapter of a model family (TypeError for models without a discrete kernel).

    ``order="checkerboard"``: the lattice adapter (``lattice_adapter``); ``order="chromatic"``: the
    colour-class adapter (``chromatic_adapter``); both raise ValueError for models they cannot sample;
    ``order="auto"``: the fastest of them that applies (:func:`resolve_order`).
    Adapters only read the model and are built once per model and order (cached in ``model.derived()``),
    so repeated ``sample`` calls on one instance pay their set-up once."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a spinglass Model, got {type(model).__name__}")
    order = resolve_order(model, order)
    cache = model.derived().setdefault("mcmc_adapters", {})
    if order not in cache:
        cache[order] = _build_adapter(model, order)
    return cache[order]


def _build_adapter(model: Model, order: str):
    if order == "checkerboard":
        return CheckerboardAdapter(model)
    if order == "chromatic":
        return ChromaticAdapter(model)
    if isinstance(model, ScalarModel):
        return ScalarAdapter(model)
    if isinstance(model, PottsModel):
        return PottsAdapter(model)
    if isinstance(model, NAESATModel):
        return NAESATAdapter(model)
    raise TypeError(f"no MCMC kernel for {type(model).__name__}")
