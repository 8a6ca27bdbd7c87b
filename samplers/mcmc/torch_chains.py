r"""Batched chromatic Metropolis chains in torch, on CUDA when present and on the CPU otherwise.

Model class.  Binary pairwise models ``spinglass.scalar.PairwiseModel`` on the alphabet {-1, +1}:

    E(x) = - sum_{i<j} J_ij x_i x_j - sum_i h_i x_i,     mu(x) ∝ prod_i p0(x_i) exp(-beta E(x)),

(``EdwardsAnderson``, ``SK``, ``SpikedWigner`` with a Rademacher prior, or any ``PairwiseModel`` with
couplings, fields and a ±1 prior).  The single-site prior enters through its log weights
``model._alphabet_log_prior()`` = (log p0(-1), log p0(+1)) (zero for counting-measure physics models); a
non-uniform prior is handled exactly.  Global terms ``c e_p(x^r)`` with r even are constant on {±1}^n
and are ignored; global terms with r odd (Curie-Weiss's -(1/N) e_2(x)) couple every pair of sites and
are rejected (use ``samplers.Metropolis``).

Chromatic sweep.  The coupling graph (i ~ j iff J_ij != 0) is coloured greedily
(``networkx.greedy_color``, strategy ``"largest_first"``, deterministic: ties keep the site order) so
that no two sites of one colour class are coupled; on a periodic L x L lattice with L even this is the
checkerboard.  One sweep updates the classes in colour order; within a class every site of every chain
is updated at once.  For site i of the class, with the other sites fixed,

    f_i = sum_j J_ij x_j + h_i,      dE_i = E(x with x_i -> -x_i) - E(x) = 2 x_i f_i,
    log r_i = log p0(-x_i) - log p0(x_i) - beta dE_i = -x_i delta - 2 beta x_i f_i,
    delta = log p0(+1) - log p0(-1),

and the flip is accepted when u < exp(log r_i), u ~ U[0, 1) (probability min(1, exp(log r_i))).  Sites
of one class share no coupling, so their f_i do not depend on one another and the simultaneous updates
are independent single-site Metropolis steps, each leaving mu invariant: so does the sweep.  A sweep is
n attempted updates per chain, as for the CPU kernels.  Conventions shared with
``samplers.mcmc.kernels_scalar``:

* at beta = 0 a move with no change in log weight (uniform prior) is accepted with probability 1/2 (a
  lazy step; otherwise every spin would flip every sweep, a periodic chain);
* at beta = inf a move is accepted when dE < 0, rejected when dE > 0, and when dE = 0 accepted with
  probability min(1, p0(-x_i)/p0(x_i)) (a zero-temperature quench; the CPU kernel accepts dE = 0 moves
  always, which agrees for a uniform prior).

Local fields: for sparse (CSR) couplings, a padded neighbour table (ELL format: (n, d_max) neighbour
indices and weights, padded with index 0 and weight 0) gathered from the current state; for dense
couplings a matmul x_C @ J[C, :]^T over the class C.  A dense SK graph is complete, so every class holds
one site and the sweep is the sequential sweep, batched over chains.  Sites are relabelled internally
so that each class is a contiguous block (colour order, then site order); results are returned in the
model's site order.

Random numbers: torch uniforms from one ``torch.Generator`` on the sampling device, seeded from the
user's seed (after the initial states are drawn from it with numpy), one (chains, n) draw per sweep; on
the CPU the chains are swept in blocks of about 2^18 spins (so that a block stays in cache) and the draw
is made per block.  The same seed, device type, dtype and number of chains give the same samples bit for
bit; CPU and CUDA streams differ.

Energies: each chain's energy is tracked incrementally (float64 accumulation of the accepted dE, from the
exact initial energies) and recorded every ``trace_every`` sweeps; at the end the final states' energies
are recomputed exactly on the CPU with ``model.energy`` (``trace["energy_final"]``) and the difference
reported (``trace["energy_drift"]``; a ``RuntimeWarning`` when it exceeds the dtype's tolerance).
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from spinglass._validate import SeedLike, check_int, make_rng, seed_repr
from spinglass.base import Model
from spinglass.exact import check_configurations_on_alphabet
from spinglass.scalar import PairwiseModel

from ..samples import Samples
from .initial import initial_configurations

__all__ = ["TorchMetropolis", "chromatic_classes", "check_binary_pairwise"]

#: Largest C * |class| * d_max gathered at once by the ELL field computation (else one gather per column).
_GATHER_ELEMENTS = 1 << 24
#: On the CPU, chains are swept in blocks of about this many spins (a block's state stays in cache).
_CPU_BLOCK_ELEMENTS = 1 << 18
_DTYPES = ("float32", "float64")


def check_binary_pairwise(model) -> float:
    """Check that ``model`` is a ±1 pairwise model the chromatic sweep samples exactly.

    Returns delta = log p0(+1) - log p0(-1).  ``TypeError`` for a model that is not a ``PairwiseModel``;
    ``ValueError`` for another alphabet or a global term that is not constant on {±1}^n.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a spinglass Model, got {type(model).__name__}")
    if not isinstance(model, PairwiseModel):
        raise TypeError(f"TorchMetropolis needs a spinglass.scalar.PairwiseModel (pair couplings only), got "
                        f"{model.family}: use samplers.Metropolis for p-body, Potts and NAE-SAT models")
    if model.alphabet is None or not np.array_equal(np.asarray(model.alphabet, dtype=float), [-1.0, 1.0]):
        alpha = None if model.alphabet is None else np.asarray(model.alphabet).tolist()
        raise ValueError(f"TorchMetropolis needs the binary alphabet (-1, +1), {model.family} has {alpha}")
    for t in model.global_terms:
        if t.power % 2:
            raise ValueError(f"{model.family} has the global term {t.coef:g} e_{t.order}(x^{t.power}), which couples "
                             "every pair of sites: the chromatic sweep needs pair couplings only "
                             "(use samplers.Metropolis)")
    lp = np.asarray(model._alphabet_log_prior(), dtype=float)
    if lp.shape != (2,) or not np.all(np.isfinite(lp)):
        raise ValueError(f"{model.family}: the prior must give both values -1 and +1 a positive weight")
    return float(lp[1] - lp[0])


def _energies(model: Model, x: np.ndarray) -> np.ndarray:
    """model.energy of the rows of x (C, n), exactly in float64 on the CPU, in chunks of about 2^22 entries."""
    step = max(1, (1 << 22) // model.n)
    return np.concatenate([np.asarray(model.energy(x[c:c + step]), dtype=float).reshape(-1)
                           for c in range(0, x.shape[0], step)])


def _coupling_edges(model: PairwiseModel) -> np.ndarray:
    """Pairs i < j with J_ij != 0, shape (E, 2), in row-major order."""
    J = model.couplings
    if sp.issparse(J):
        coo = sp.triu(J, k=1, format="coo")
        keep = coo.data != 0
        rows, cols = coo.row[keep], coo.col[keep]
        order = np.lexsort((cols, rows))
        return np.stack([rows[order], cols[order]], axis=1).astype(np.int64)
    rows, cols = np.nonzero(np.triu(np.asarray(J) != 0, k=1))
    return np.stack([rows, cols], axis=1).astype(np.int64)


def chromatic_classes(model: PairwiseModel) -> list[np.ndarray]:
    """Colour classes of the coupling graph: sorted site-index arrays, no coupled pair inside a class.

    Greedy colouring ``networkx.greedy_color(G, strategy="largest_first")`` of the graph on the n sites
    (added in order) with an edge for every J_ij != 0; classes are listed by colour.  A complete graph
    (dense SK) gives n classes of one site, in site order (the greedy result, computed directly).
    """
    check_binary_pairwise(model)
    n = model.n
    edges = _coupling_edges(model)
    if len(edges) == n * (n - 1) // 2:
        return [np.array([i], dtype=np.int64) for i in range(n)]
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(map(tuple, edges.tolist()))
    colour = nx.greedy_color(g, strategy="largest_first")
    col = np.array([colour[i] for i in range(n)], dtype=np.int64)
    return [np.flatnonzero(col == k) for k in range(int(col.max()) + 1)]


def _resolve_device(device):
    import torch

    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if isinstance(device, str):
        if device == "mps" or not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:k', got {device!r}")
    elif isinstance(device, torch.device):
        if device.type not in ("cpu", "cuda"):
            raise ValueError(f"device must be a CPU or CUDA device, got {device}")
    else:
        raise TypeError("device must be 'auto', 'cpu', 'cuda', 'cuda:k' or a torch.device, "
                        f"got {type(device).__name__}")
    from ..neural.training import pick_device

    return pick_device(device)


class _Plan:
    """Device tensors of one model: relabelled couplings, fields, class blocks."""

    def __init__(self, model: PairwiseModel, delta: float, device, dtype, layout: str):
        import torch

        classes = chromatic_classes(model)
        n = model.n
        perm = np.concatenate(classes)  # internal position p holds site perm[p]
        inv = np.empty(n, dtype=np.int64)
        inv[perm] = np.arange(n)
        self.n, self.perm, self.inv, self.delta = n, perm, inv, delta
        self.bounds = np.cumsum([0] + [c.size for c in classes]).tolist()
        self.n_colours = len(classes)
        self.h = torch.as_tensor(np.asarray(model.fields, dtype=float)[perm], dtype=dtype, device=device)
        J = model.couplings
        self.layout = ("dense" if not sp.issparse(J) else "ell") if layout == "auto" else layout
        if self.layout == "dense":
            Jd = J.toarray() if sp.issparse(J) else np.asarray(J)
            self.J = torch.as_tensor(np.ascontiguousarray(Jd[np.ix_(perm, perm)]), dtype=dtype, device=device)
        else:
            Jc = sp.csr_matrix(J)[perm][:, perm].tocsr()
            Jc.eliminate_zeros()
            deg = np.diff(Jc.indptr)
            dmax = max(int(deg.max(initial=0)), 1)
            nbr = np.zeros((n, dmax), dtype=np.int64)
            wts = np.zeros((n, dmax))
            slot = np.arange(Jc.nnz) - np.repeat(Jc.indptr[:-1], deg)
            rows = np.repeat(np.arange(n), deg)
            nbr[rows, slot] = Jc.indices
            wts[rows, slot] = Jc.data
            self.dmax = dmax
            self.nbr = torch.as_tensor(nbr, device=device)
            self.wts = torch.as_tensor(wts, dtype=dtype, device=device)

    def fields(self, x, a: int, b: int):
        """f_i = sum_j J_ij x_j + h_i for the internal positions a..b-1, all chains: (C, b - a)."""
        if self.layout == "dense":
            return x @ self.J[a:b].T + self.h[a:b]
        nbr, w = self.nbr[a:b], self.wts[a:b]
        C = x.shape[0]
        if C * (b - a) * self.dmax <= _GATHER_ELEMENTS:
            return (x[:, nbr] * w).sum(-1) + self.h[a:b]
        f = self.h[a:b].expand(C, b - a).clone()
        for k in range(self.dmax):
            f.addcmul_(x.index_select(1, nbr[:, k]), w[:, k])
        return f


class TorchMetropolis:
    """Chromatic single-site Metropolis on many ±1 chains at once, in torch (see the module docstring).

    Parameters
    ----------
    sweeps : sweeps before the first sample of each chain (a sweep = n attempted updates per chain).
    thin : sweeps between successive samples of one chain.
    trace_every : record energy / magnetisation / planted overlap every this many sweeps.
    device : "auto" (CUDA if available, else CPU), "cpu", "cuda", "cuda:k" or a torch.device;
        ``ValueError`` when CUDA is asked for but not available.
    dtype : "float32" or "float64", the precision of spins, couplings, fields and uniforms.
    layout : "auto" (dense matmul for dense couplings, ELL neighbour table for sparse ones), "dense"
        or "ell".

    Schedule and rows as ``samplers.Metropolis``: with k = n_samples / n_chains, chain c runs ``sweeps``
    sweeps then keeps k states spaced by ``thin`` sweeps; row c * k + j of ``Samples.x`` is the j-th state
    kept by chain c.  ``Samples.state`` is None (runs cannot be continued).
    """

    name = "TorchMetropolis"
    resumable = False

    def __init__(self, sweeps: int = 1000, thin: int = 1, trace_every: int = 1, device="auto",
                 dtype: str = "float32", layout: str = "auto"):
        import torch

        self.sweeps = check_int("sweeps", sweeps, minimum=0)
        self.thin = check_int("thin", thin, minimum=1)
        self.trace_every = check_int("trace_every", trace_every, minimum=1)
        self.device = _resolve_device(device)
        if isinstance(dtype, torch.dtype):
            dtype = str(dtype).removeprefix("torch.")
        if not isinstance(dtype, str):
            raise TypeError(f"dtype must be 'float32' or 'float64', got {type(dtype).__name__}")
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype = dtype
        if not isinstance(layout, str) or layout not in ("auto", "dense", "ell"):
            raise ValueError(f"layout must be 'auto', 'dense' or 'ell', got {layout!r}")
        self.layout = layout

    def settings(self) -> dict:
        return {"name": self.name, "sweeps": self.sweeps, "thin": self.thin, "trace_every": self.trace_every,
                "device": str(self.device), "dtype": self.dtype, "layout": self.layout}

    def __repr__(self) -> str:
        s = self.settings()
        return f"{s.pop('name')}({', '.join(f'{k}={v!r}' for k, v in s.items())})"

    # -- the run ---------------------------------------------------------------------------------------
    def _initial(self, model, init, C: int, rng) -> np.ndarray:
        n = model.n
        x0 = initial_configurations(model, C, init, rng)
        idx = check_configurations_on_alphabet(model, np.asarray(x0).reshape(C, n))
        return 2.0 * idx.astype(float) - 1.0

    def sample(self, model: Model, n_samples: int, *, seed: SeedLike = None, n_chains: int | None = None,
               init: str | np.ndarray = "random") -> Samples:
        """Draw ``n_samples`` samples of ``model``.

        Parameters
        ----------
        n_samples : number of rows of ``Samples.x``; a multiple of ``n_chains``.
        seed : int or Generator for the initial states and the torch random stream.
        n_chains : independent chains run at once (default ``n_samples``: one sample per chain).
        init : "random" (i.i.d. from the prior), "planted", or an array of shape (n,) or (n_chains, n).
        """
        import torch

        delta = check_binary_pairwise(model)
        n_samples = check_int("n_samples", n_samples, minimum=1)
        C = n_samples if n_chains is None else check_int("n_chains", n_chains, minimum=1)
        if n_samples % C:
            raise ValueError(f"n_samples = {n_samples} must be a multiple of n_chains = {C}")
        per_chain = n_samples // C
        rng = make_rng(seed)
        x0 = self._initial(model, init, C, rng)
        tseed = int(rng.integers(0, 2**63 - 1))
        dev = self.device
        dtype = getattr(torch, self.dtype)
        beta = float(model.beta)
        n = model.n
        plan = _Plan(model, delta, dev, dtype, self.layout)

        x = torch.as_tensor(x0[:, plan.perm], dtype=dtype, device=dev)
        energy = torch.as_tensor(_energies(model, x0), device=dev)
        accepted = torch.zeros(C, dtype=torch.int64, device=dev)
        planted = None
        if model.planted is not None:
            planted = torch.as_tensor(np.asarray(model.planted, dtype=float)[plan.perm], dtype=dtype, device=dev)
        n_obs = 2 if planted is None else 3
        total = self.sweeps + (per_chain - 1) * self.thin
        record_at = np.arange(self.trace_every, total + 1, self.trace_every)
        trace_buf = torch.empty((C, n_obs, record_at.size), dtype=torch.float64, device=dev)
        x_buf = torch.empty((C, per_chain, n), dtype=torch.int8, device=dev)
        gen = torch.Generator(device=dev)

        # on the CPU, run the classes on blocks of chains whose state fits in cache (chains are independent)
        block = C if dev.type == "cuda" else max(1, min(C, _CPU_BLOCK_ELEMENTS // n))

        def sweep(x, energy, accepted, gen) -> None:
            for c0 in range(0, C, block):
                xb = x[c0:c0 + block]
                ub = torch.rand((xb.shape[0], n), generator=gen, device=dev, dtype=dtype)
                eb, nb = energy[c0:c0 + block], accepted[c0:c0 + block]
                for a, b in zip(plan.bounds[:-1], plan.bounds[1:], strict=True):
                    xc = xb[:, a:b]
                    s = xc * plan.fields(xb, a, b)  # x_i f_i = dE_i / 2
                    uc = ub[:, a:b]
                    if math.isinf(beta):
                        acc = (s < 0) | ((s == 0) & (uc < torch.exp(-delta * xc)))
                    elif beta == 0.0:
                        acc = uc < (0.5 if delta == 0.0 else torch.exp(-delta * xc))
                    else:
                        logr = s * (-2.0 * beta) if delta == 0.0 else s * (-2.0 * beta) - delta * xc
                        acc = uc < torch.exp(logr)
                    eb += (s * acc).sum(1, dtype=torch.float64) * 2.0
                    nb += acc.sum(1)
                    xb[:, a:b] = torch.where(acc, -xc, xc)

        # warm-up (kernel selection, allocator, CUDA context) on scratch copies, outside the timed region
        sweep(x.clone(), energy.clone(), accepted.clone(), torch.Generator(device=dev).manual_seed(0))
        gen.manual_seed(tseed)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        t0 = time.perf_counter()
        done, r = 0, 0
        for j in range(per_chain):
            for _ in range(self.sweeps if j == 0 else self.thin):
                sweep(x, energy, accepted, gen)
                done += 1
                if r < record_at.size and record_at[r] == done:
                    trace_buf[:, 0, r] = energy
                    trace_buf[:, 1, r] = x.sum(1, dtype=torch.float64)
                    if planted is not None:
                        trace_buf[:, 2, r] = (x @ planted).to(torch.float64)
                    r += 1
            x_buf[:, j] = x.to(torch.int8)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        wall = time.perf_counter() - t0

        x_int = x_buf.cpu().numpy()[:, :, plan.inv].reshape(n_samples, n)
        x_out = x_int.astype(np.asarray(model.alphabet).dtype)
        traced = trace_buf.cpu().numpy()
        final = x_out[np.arange(C) * per_chain + per_chain - 1]
        e_final = _energies(model, final)
        e_tracked = energy.cpu().numpy()
        drift = np.abs(e_tracked - e_final)
        tol = (1e-3 if self.dtype == "float32" else 1e-8) * (1.0 + np.abs(e_final))
        if np.any(drift > tol):
            warnings.warn(f"tracked energies drift from the recomputed ones by up to {drift.max():.3g} "
                          f"({self.dtype}); trace['energy'] is approximate", RuntimeWarning, stacklevel=2)
        trace: dict[str, np.ndarray] = {"sweep": record_at.astype(np.int64), "energy": traced[:, 0],
                                        "magnetization": traced[:, 1] / n}
        if planted is not None:
            trace["overlap_planted"] = traced[:, 2] / n
        trace["energy_final"] = e_final
        trace["energy_drift"] = drift
        if math.isinf(beta):
            violating = int(np.count_nonzero(e_final > 1e-9))
            if violating:
                warnings.warn(f"{violating} of {C} chains end with energy > 0 at beta = inf (a zero-temperature "
                              "quench stops in local minima)", RuntimeWarning, stacklevel=2)
        attempted = max(done * n, 1)
        acc_per_chain = accepted.cpu().numpy() / attempted
        acceptance: dict[str, Any] = {"mean": float(acc_per_chain.mean()), "per_chain": acc_per_chain}
        settings = self.settings()
        settings.update({"n_chains": C, "init": init if isinstance(init, str) else "given",
                         "layout": plan.layout, "colours": plan.n_colours, "torch_seed": tseed})
        return Samples(
            x=x_out, planted=None if model.planted is None else np.asarray(model.planted).copy(),
            model=model.describe(), sampler=settings, seed=seed_repr(seed),
            chain=np.repeat(np.arange(C), per_chain), trace=trace, wall_time=wall,
            work={"sweeps": done, "attempted_updates": done * n * C, "chains": C, "colours": plan.n_colours},
            acceptance=acceptance, state=None,
        )
