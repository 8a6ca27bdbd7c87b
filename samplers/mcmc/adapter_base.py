"""What every MCMC kernel adapter shares: the chain-block thread pool, the adapter bases, and the checks
and reference arrays that the sequential, lattice and colour-class adapters all use.

The family adapters (:mod:`.adapters` for the sequential order, :mod:`.lattice_adapter` for
``order="checkerboard"``, :mod:`.chromatic_adapter` for ``order="chromatic"``) build on this module; it
imports none of them.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from numba import njit

from spinglass.scalar import PairwiseModel

from . import kernels_binary as kb
from .kernels_lattice import N_LANES

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    with _POOLS_LOCK:
        if threads not in _POOLS:
            _POOLS[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="spinglass-mcmc")
        return _POOLS[threads]


def run_chain_blocks(kernel, per_chain: tuple, n_chains: int, threads: int) -> None:
    """``kernel(*[a[lo:hi] for a in per_chain])`` over contiguous blocks of chains.

    The kernels are numba functions that release the GIL and treat chains independently (each has its own
    random stream), so with ``threads`` > 1 the blocks run at once on a thread pool and the result is the
    same, bit for bit, as one call on all chains.  ``per_chain``: arrays whose first axis is the chain.
    """
    blocks = min(threads, n_chains)
    if blocks <= 1:
        kernel(*per_chain)
        return
    edges = np.linspace(0, n_chains, blocks + 1).astype(int)
    futures = [_pool(blocks).submit(kernel, *[a[lo:hi] for a in per_chain])
               for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    for f in futures:
        f.result()


class AdapterBase:
    """What every adapter shares: the chain state's alphabet indices in natural site order."""

    def alphabet_indices(self, chains: dict) -> np.ndarray:
        """(C, n) alphabet indices of the chains' current configurations."""
        return chains["s"]


class PackedSpinsAdapter(AdapterBase):
    """What the colour-class adapters (``order="checkerboard"`` / ``"chromatic"``) share: the chain state
    keeps the spins ±1 as ``spin_dtype`` in the kernel's packed site order (``xs``, natural site
    ``order[p]`` at packed position p), with ``N_LANES`` random lanes per chain seeded on the first run."""

    observables = ("energy", "magnetization", "overlap_planted")
    spin_dtype = np.int8
    order: np.ndarray
    model: PairwiseModel

    def init_state(self, s: np.ndarray) -> dict:
        C = s.shape[0]
        lanes = {"lanes": np.zeros((C, 4, N_LANES), dtype=np.uint64), "seeded": np.zeros(C, dtype=np.int64)}
        start = self._integer_start(s)
        if start is not None:
            return {**start, **lanes}
        x = 2.0 * s - 1.0  # a fresh C-contiguous float64 array on {-1, +1}: nothing for model.energy to check
        energy = np.asarray(self.model._energy(x), dtype=np.float64).reshape(-1).copy()
        return {"xs": np.ascontiguousarray((2 * s[:, self.order] - 1).astype(self.spin_dtype)), "energy": energy,
                "sums": spin_sums(x, reference_spins(self.model)), **lanes}

    def _integer_start(self, s: np.ndarray) -> dict | None:
        """``xs``, ``energy`` and ``sums`` of the start from one compiled pass where the adapter has one
        (exact integer arithmetic: the same doubles as the generic path), else None."""
        return None

    def alphabet_indices(self, chains: dict) -> np.ndarray:
        s = np.empty(chains["xs"].shape, dtype=np.int64)
        s[:, self.order] = (chains["xs"].astype(np.int64) + 1) // 2
        return s

    def configurations(self, chains: dict, alphabet: np.ndarray) -> np.ndarray:
        """(C, n) configurations on ``alphabet`` = (-1, +1) in natural site order: the packed spins are the
        values themselves, so no index array is built."""
        out = np.empty(chains["xs"].shape, dtype=alphabet.dtype)
        unpack_spins(chains["xs"], self.order, out)
        return out


@njit(cache=True, nogil=True)
def unpack_spins(xs, order, out):  # pragma: no cover - numba
    """out[c, order[p]] = xs[c, p]: packed spins back to natural site order (as out's dtype)."""
    C, n = xs.shape
    for c in range(C):
        for p in range(n):
            out[c, order[p]] = xs[c, p]


@njit(cache=True, nogil=True)
def csr_integer_start(s, order, indptr, indices, data, h, ref, xs):  # pragma: no cover - numba
    """Packed spins, energy and spin sums of the chains' start for integer couplings (CSR ``indptr``,
    ``indices``, ``data`` as int64, natural order), fields ``h`` and reference spins ``ref`` (int64), in one
    compiled pass of integer arithmetic.

    ``s`` (C, n) alphabet indices (x = 2 s - 1); fills ``xs[c, p] = x[c, order[p]]`` and returns energy (C,)
    = (-0.5 S - sum_i h_i x_i) + 0.0 with S = sum_i x_i sum_k J_ik x_k, and sums (C, 2) = (sum_i x_i,
    sum_i x_i ref_i): integers, exact in any order, hence the doubles of ``PairwiseModel.energy``.
    """
    C, n = s.shape
    energy = np.empty(C)
    sums = np.empty((C, 2))
    x = np.empty(n, dtype=np.int8)  # small, so that the neighbour reads stay in cache
    for c in range(C):
        sc = s[c]
        field = 0
        m1 = 0
        m2 = 0
        for i in range(n):
            xi = 2 * np.int64(sc[i]) - 1
            x[i] = xi
            field += h[i] * xi
            m1 += xi
            m2 += ref[i] * xi
        pair = 0
        for i in range(n):
            f = 0
            for k in range(indptr[i], indptr[i + 1]):
                f += np.int64(data[k]) * x[indices[k]]
            pair += f * x[i]
        energy[c] = (-0.5 * float(pair) - float(field)) + 0.0
        sums[c, 0] = float(m1)
        sums[c, 1] = float(m2)
        xc = xs[c]
        for p in range(n):
            xc[p] = x[order[p]]
    return energy, sums


def integer_start_tables(model) -> tuple | None:
    """(indptr, indices, data, h, ref) for ``csr_integer_start`` (compact integer types: the pass streams
    them) when the model's energy is ``PairwiseModel``'s with sparse integer couplings, integer fields and
    reference spins and no global term, every partial sum below 2^52 in magnitude; else None."""
    cls = type(model)
    if not (isinstance(model, PairwiseModel) and model.is_sparse and cls._energy is PairwiseModel._energy
            and cls.local_fields is PairwiseModel.local_fields and not len(model.global_terms)):
        return None
    J = model.couplings
    h = np.broadcast_to(np.asarray(model.fields, dtype=np.float64), (model.n,))
    ref = reference_spins(model)
    if not (all_integral(J.data) and all_integral(h) and all_integral(ref)):
        return None
    if np.abs(J.data).sum() + np.abs(h).sum() + np.abs(ref).sum() + model.n >= 2.0**52:
        return None
    index = np.int32 if model.n < 2**31 else np.int64
    data = J.data.astype(np.int8 if np.abs(J.data).max(initial=0) < 128 else np.int64)
    return (J.indptr.astype(np.int64), J.indices.astype(index), data, h.astype(np.int64), ref.astype(np.int64))


def all_integral(a: np.ndarray) -> bool:
    """Whether every entry of ``a`` is an integer."""
    a = np.asarray(a)
    return bool(np.all(a == np.round(a)))


def integer_field_bound(couplings, fields) -> int:
    """F = max_i (sum_j |J_ij| + |h_i|) when every coupling and field is an integer and F is at most
    ``kernels_binary.TABLE_MAX_FIELD``, else -1.

    With x in {-1, +1}, x_i f_i (f_i = sum_j J_ij x_j + h_i) is then an integer in [-F, F], and the binary
    kernels tabulate their acceptances per chain over those 2F + 1 values (a table rebuilt at every call,
    hence the small cap; beyond it they compute P per site, with the same numbers).
    """
    data = couplings.data if sp.issparse(couplings) else np.asarray(couplings)
    h = np.asarray(fields, dtype=np.float64)
    if not (np.all(data == np.round(data)) and np.all(h == np.round(h))):
        return -1
    row = np.asarray(abs(couplings).sum(axis=1)).ravel() + np.abs(h)
    bound = float(row.max()) if row.size else 0.0
    return int(bound) if bound <= kb.TABLE_MAX_FIELD else -1


def binary_uniform_refusal(model) -> str | None:
    """Why ``model`` is not a sparse pairwise model with alphabet (-1, +1), a uniform prior and no global
    terms (what the colour-class kernels sample exactly), or None when it is."""
    if not isinstance(model, PairwiseModel) or not model.is_sparse:
        return "not a sparse pairwise model"
    if model.alphabet is None or not np.array_equal(np.asarray(model.alphabet, dtype=float), [-1.0, 1.0]):
        return f"alphabet {model.alphabet!r} is not (-1, +1)"
    if len(model.global_terms):
        return f"the model has {len(model.global_terms)} global term(s) (a mean-field coupling of every pair)"
    logp = np.asarray(model._alphabet_log_prior(), dtype=float)
    if logp[0] != logp[1]:
        return f"the prior is not uniform (log p0(-1), log p0(+1) = {logp[0]:.4g}, {logp[1]:.4g})"
    return None


def reference_spins(model) -> np.ndarray:
    """The planted configuration as float64 (the overlap reference of the traces), zeros without one."""
    return np.zeros(model.n) if model.planted is None else np.ascontiguousarray(model.planted, dtype=np.float64)


def spin_sums(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """(C, 2): per chain, sum_i x_i and sum_i x_i ref_i (magnetisation and planted overlap, unnormalised)."""
    return np.ascontiguousarray(np.stack([x.sum(axis=1), x @ ref], axis=1), dtype=np.float64)
