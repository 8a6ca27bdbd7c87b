r"""Metropolis, heat-bath (Glauber) and parallel-tempering samplers over the numba kernels.

Samplers are stateless configuration objects (after NetKet); the chain state is an explicit value,
``Samples.state`` (an ``MCMCState``), that ``sample(..., state=...)`` takes to continue a run bit for bit.

Schedule of one call: every chain runs ``sweeps`` sweeps (a sweep = n attempted single-site updates; the
default ``order="auto"`` picks the fastest of the orders below that applies to the model (checkerboard, then
chromatic, else sequential; ``Samples.sampler["order_used"]``; the choice depends only on the model, so seeded
runs stay reproducible); with ``order="sequential"`` sites 0..n-1 in turn; with ``order="checkerboard"``, for
binary models on periodic lattices with even sides (EdwardsAnderson), every site of one checkerboard colour
and then of the other, on the vectorised lattice kernel ``kernels_lattice``; with ``order="chromatic"``, for
binary pairwise models with sparse couplings (EA on any lattice, Ising models on sparse graphs), every site of
one class of a greedy colouring of the coupling graph, class after class, on the vectorised kernel
``kernels_chromatic``: the same law, other numbers), then keeps its state; with
k = n_samples / n_chains > 1 it keeps k states spaced by ``thin`` sweeps.  Row ``c * k + j`` of
``Samples.x`` is the j-th state kept by chain c.  Every ``trace_every``
sweeps each chain (at the target temperature) records ``trace["energy"]`` and, for scalar and NAE-SAT
models, ``trace["magnetization"]`` = (1/n) sum_i x_i and, when the model is planted,
``trace["overlap_planted"]`` = (1/n) sum_i x_i x*_i (signed), all of shape (n_chains, n_records) at the
sweeps ``trace["sweep"]``.

Parallel tempering runs, for each of the n_chains independent chains, one replica per inverse temperature
of the ladder beta_1 < ... < beta_R = model.beta (the prior is not tempered: replica r samples
∝ prod p0(x_i) exp(-beta_r E(x))).  After every ``swap_every`` sweeps, adjacent temperatures (alternately
even and odd pairs) exchange replicas with probability min(1, exp((beta_r - beta_{r+1})(E_r - E_{r+1}))).
Samples are the states at beta_R.

``threads`` (default 1) runs disjoint blocks of chains (for tempering, of all replicas) at once on a
thread pool; the kernels release the GIL and every chain has its own random stream, so the samples do not
depend on ``threads``.  Binary pairwise models (x in {-1, +1}, no mean-field terms: EA, SK, sparse Ising)
run on a specialised kernel (``kernels_binary``) that reproduces the general one bit for bit, faster; with
dense couplings (SK) it delays the local-field update of the accepted flips of a block of sites to one pass
(``kernels_binary.dense_blocked_sweeps``, still the same chain bit for bit), and ``coupling_dtype="float32"``
halves the bytes it streams (the model with couplings rounded to float32, see ``Metropolis``).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from spinglass._validate import SeedLike, check_int, check_real, make_rng, seed_repr
from spinglass.base import Model

from ..samples import Samples
from .adapters import adapter_for, resolve_order
from .initial import initial_indices
from .kernels_sparse import tempering_swaps
from .rng import new_streams

#: Site visiting orders of a sweep: "auto" (the default) picks the fastest of the three below that applies
#: (``adapters.resolve_order``; the order used is in ``Samples.sampler["order_used"]``); sites 0..n-1 in turn;
#: (periodic lattices with even sides) all sites of one checkerboard colour, then all of the other
#: (``kernels_lattice``); (binary models with sparse couplings) the classes of a greedy colouring of the
#: coupling graph, one after the other (``kernels_chromatic``).
SWEEP_ORDERS = ("auto", "sequential", "checkerboard", "chromatic")

#: Storage of the couplings streamed by the dense binary kernel: "float64" (the default, the model's J) or
#: "float32" (half the bytes per accepted flip; the chain samples the model with J rounded to float32).
COUPLING_DTYPES = ("float64", "float32")


def _no_float32(model: Model, order: str):
    raise ValueError(f"coupling_dtype='float32' applies to dense binary pairwise models (such as SK) with "
                     f"order='sequential'; {model.family} runs order={order!r} (use coupling_dtype='float64')")


@dataclass
class MCMCState:
    """Everything needed to continue an MCMC run exactly: kernel arrays, RNG streams, temperatures."""

    chains: dict[str, np.ndarray]
    rng: np.ndarray
    betas: np.ndarray
    perm: np.ndarray
    swap_rng: np.ndarray
    ladder: np.ndarray
    sweeps_done: int
    model: dict
    fingerprint: str = ""
    parity: int = 0
    order: str = "auto"
    coupling_dtype: str = "float64"

    def copy(self) -> MCMCState:
        return MCMCState({k: v.copy() for k, v in self.chains.items()}, self.rng.copy(), self.betas.copy(),
                         self.perm.copy(), self.swap_rng.copy(), self.ladder.copy(), self.sweeps_done,
                         dict(self.model), self.fingerprint, self.parity, self.order, self.coupling_dtype)


class _MCMC:
    """Shared driver; subclasses fix the local update and the temperature ladder."""

    name = "MCMC"
    resumable = True
    heat_bath = False

    def __init__(self, sweeps: int = 1000, thin: int = 1, trace_every: int = 1, threads: int = 1,
                 order: str = "auto", coupling_dtype: str = "float64"):
        self.sweeps = check_int("sweeps", sweeps, minimum=0)
        self.thin = check_int("thin", thin, minimum=1)
        self.trace_every = check_int("trace_every", trace_every, minimum=1)
        self.threads = check_int("threads", threads, minimum=1)
        if not isinstance(order, str) or order not in SWEEP_ORDERS:
            raise ValueError(f"order must be one of {SWEEP_ORDERS}, got {order!r}")
        self.order = order
        if not isinstance(coupling_dtype, str) or coupling_dtype not in COUPLING_DTYPES:
            raise ValueError(f"coupling_dtype must be one of {COUPLING_DTYPES}, got {coupling_dtype!r}")
        self.coupling_dtype = coupling_dtype

    def settings(self) -> dict:
        # ``threads`` is left out: it does not change a number, so it is not part of a run's identity
        s = {"name": self.name, "sweeps": self.sweeps, "thin": self.thin, "trace_every": self.trace_every,
             "order": self.order}
        if self.coupling_dtype != "float64":  # recorded when used, so earlier runs keep their identity
            s["coupling_dtype"] = self.coupling_dtype
        return s

    def __repr__(self) -> str:
        s = self.settings()
        return f"{s.pop('name')}({', '.join(f'{k}={v!r}' for k, v in s.items())})"

    def _ladder(self, model: Model) -> np.ndarray:
        return np.array([model.beta])

    def _swap_every(self) -> int:
        return 0

    # -- the run ---------------------------------------------------------------------------------------
    def sample(self, model: Model, n_samples: int, *, seed: SeedLike = None, n_chains: int | None = None,
               init: str | np.ndarray = "random", state: MCMCState | None = None,
               progress: bool = False) -> Samples:
        """Draw ``n_samples`` samples of ``model``.

        Parameters
        ----------
        n_samples : number of rows of ``Samples.x``; a multiple of ``n_chains``.
        seed : int or Generator for the initial states and the chains' random streams.
        n_chains : independent chains (default ``n_samples``: one sample per chain).
        init : "random" (i.i.d. from the prior), "planted", or an array of shape (n,) or (n_chains, n).
        state : an ``MCMCState`` from a previous ``Samples.state`` to continue (``init``/``seed`` ignored).
        progress : show a tqdm progress bar over sweeps.
        """
        if not isinstance(model, Model):
            raise TypeError(f"model must be a spinglass Model, got {type(model).__name__}")
        n_samples = check_int("n_samples", n_samples, minimum=1)
        adapter = adapter_for(model, self.order)
        if self.coupling_dtype != "float64":
            if not hasattr(adapter, "with_coupling_dtype"):
                _no_float32(model, resolve_order(model, self.order))
            adapter = adapter.with_coupling_dtype(self.coupling_dtype)
        if state is not None:
            if not isinstance(state, MCMCState):
                raise TypeError("state must be an MCMCState (Samples.state of an earlier run)")
            if state.fingerprint != model.fingerprint():
                raise ValueError("state belongs to a different model instance (its fingerprint differs)")
            if state.order != resolve_order(model, self.order):
                raise ValueError(f"state was run with order = {state.order!r}, this sampler has order = "
                                 f"{self.order!r} (here {resolve_order(model, self.order)!r})")
            if state.coupling_dtype != self.coupling_dtype:
                raise ValueError(f"state was run with coupling_dtype = {state.coupling_dtype!r}, this sampler has "
                                 f"coupling_dtype = {self.coupling_dtype!r}")
            st = state.copy()
            n_chains_state, R = st.perm.shape
            if n_chains is not None and n_chains != n_chains_state:
                raise ValueError(f"n_chains = {n_chains} differs from the state's {n_chains_state} chains")
            n_chains = n_chains_state
            if not np.array_equal(st.ladder, self._ladder(model)):
                raise ValueError("state was run with a different temperature ladder")
        else:
            n_chains = n_samples if n_chains is None else check_int("n_chains", n_chains, minimum=1)
        if n_samples % n_chains:
            raise ValueError(f"n_samples = {n_samples} must be a multiple of n_chains = {n_chains}")
        per_chain = n_samples // n_chains
        if state is None:
            st = self._fresh_state(model, adapter, n_chains, seed, init)
        R = st.ladder.size
        C = n_chains
        accepted = np.zeros(C * R, dtype=np.int64)
        swaps_attempted = np.zeros(max(R - 1, 1), dtype=np.int64)
        swaps_accepted = np.zeros(max(R - 1, 1), dtype=np.int64)
        swap_rounds = 0
        x_out = np.empty((n_samples, model.n), dtype=np.asarray(model.alphabet).dtype)
        alphabet = np.asarray(model.alphabet)
        traces, trace_sweeps = [], []
        # compile (or load from cache) outside the timed region, once per adapter (a repeated call on the
        # same model finds the kernel compiled: the types of its arguments do not change)
        n_obs = len(adapter.observables)
        if not getattr(adapter, "compiled", False):
            adapter.run({k: v.copy() for k, v in st.chains.items()}, st.betas.copy(), st.rng.copy(), 0,
                        self.heat_bath, np.empty((C * R, n_obs, 0)), np.zeros(C * R, dtype=np.int64), self.threads)
            adapter.compiled = True
        total = self.sweeps + (per_chain - 1) * self.thin
        swap_every = self._swap_every()
        # one kernel call per tempering round; without tempering, one call per ``advance`` (about 1% of the
        # run per call only to move a progress bar): the kernels keep their whole state in the chain arrays,
        # so the split changes no number, but every call has a fixed cost
        unit = swap_every if R > 1 else (max(1, math.ceil(total / 100)) if progress else max(total, 1))
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc=f"{self.name} {model.family}", unit="sweep")
        start_sweeps = st.sweeps_done
        t0 = time.perf_counter()

        def advance(n_sweeps: int) -> None:
            nonlocal swap_rounds
            done = 0
            while done < n_sweeps:
                # with tempering, stop each chunk at the next multiple of swap_every so no round is skipped
                k = min(unit - st.sweeps_done % unit if R > 1 else unit, n_sweeps - done)
                buf = np.empty((C * R, n_obs, k))
                adapter.run(st.chains, st.betas, st.rng, k, self.heat_bath, buf, accepted, self.threads)
                g = st.sweeps_done + np.arange(1, k + 1)
                keep = (g % self.trace_every) == 0
                if keep.any():
                    traces.append(buf[st.perm[:, R - 1]][:, :, keep])
                    trace_sweeps.append(g[keep])
                st.sweeps_done += k
                if R > 1 and (st.sweeps_done % swap_every) == 0:
                    tempering_swaps(st.perm, st.betas, st.chains["energy"], st.ladder, st.swap_rng, st.parity,
                                    swaps_attempted, swaps_accepted)
                    st.parity = 1 - st.parity
                    swap_rounds += 1
                done += k
                if bar is not None:
                    bar.update(k)

        def collect(j: int) -> None:
            rows = np.arange(C) * per_chain + j
            if hasattr(adapter, "configurations"):  # packed ±1 spins: the values themselves
                x_out[rows] = adapter.configurations(st.chains, alphabet)[st.perm[:, R - 1]]
            else:
                x_out[rows] = alphabet[adapter.alphabet_indices(st.chains)[st.perm[:, R - 1]]]

        advance(self.sweeps)
        collect(0)
        for j in range(1, per_chain):
            advance(self.thin)
            collect(j)
        wall = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        run_sweeps = st.sweeps_done - start_sweeps
        attempted = max(run_sweeps * model.n, 1)
        acc_per_chain = accepted.reshape(C, R).sum(axis=1) / (attempted * R)
        acceptance: dict[str, Any] = {"mean": float(acc_per_chain.mean()), "per_chain": acc_per_chain}
        if R > 1:
            acceptance["swap"] = swaps_accepted / np.maximum(swaps_attempted, 1)
            acceptance["ladder"] = st.ladder.copy()
        if math.isinf(model.beta):
            violating = int(np.count_nonzero(st.chains["energy"][st.perm[:, R - 1]] > 0))
            if violating:
                warnings.warn(f"{violating} of {C} chains end with violated constraints (energy > 0): at beta = inf "
                              "a chain cannot climb out of a local minimum; start from init='planted' or use "
                              "ParallelTempering with a finite-beta ladder", RuntimeWarning, stacklevel=2)
        traced = np.concatenate(traces, axis=2) if traces else np.empty((C, n_obs, 0))
        trace = {"sweep": np.concatenate(trace_sweeps) if trace_sweeps else np.empty(0, dtype=np.int64),
                 "energy": traced[:, 0]}
        for j, name in enumerate(adapter.observables[1:], start=1):
            if name != "overlap_planted" or model.planted is not None:
                trace[name] = traced[:, j] / model.n
        settings = self.settings()
        settings.update({"n_chains": C, "init": init if isinstance(init, str) else "given",
                         "continued": state is not None, "threads": self.threads,
                         "order_used": resolve_order(model, self.order)})
        return Samples(
            x=x_out, planted=None if model.planted is None else np.asarray(model.planted).copy(),
            model=model.describe(), sampler=settings, seed=seed_repr(seed) if state is None else "state",
            chain=np.repeat(np.arange(C), per_chain), trace=trace, wall_time=wall,
            work={"sweeps": run_sweeps, "attempted_updates": run_sweeps * model.n * C * R, "chains": C,
                  "replicas": R, "total_sweeps": st.sweeps_done, "swap_rounds": swap_rounds},
            acceptance=acceptance, state=st,
        )

    def _fresh_state(self, model, adapter, n_chains, seed, init) -> MCMCState:
        ladder = self._ladder(model)
        R = ladder.size
        rng = make_rng(seed)
        s = initial_indices(model, n_chains, init, rng, copies=R)
        chains = adapter.init_state(s)
        perm = np.arange(n_chains * R, dtype=np.int64).reshape(n_chains, R)
        betas = np.tile(ladder, n_chains).astype(np.float64)
        return MCMCState(chains=chains, rng=new_streams(rng, n_chains * R), betas=betas, perm=perm,
                         swap_rng=new_streams(rng, n_chains), ladder=ladder, sweeps_done=0,
                         model=model.describe(), fingerprint=model.fingerprint(),
                         order=resolve_order(model, self.order), coupling_dtype=self.coupling_dtype)


class Metropolis(_MCMC):
    """Single-site Metropolis: propose a uniformly chosen different value, accept with min(1, w'/w).

    Parameters (all samplers here)
    ------------------------------
    sweeps, thin, trace_every, threads, order : see the module docstring.
    coupling_dtype : "float64" (default) or "float32".  Dense binary pairwise models (SK: x in {-1, +1},
        dense J, no global terms) run on a kernel that streams one row of J per accepted flip
        (``kernels_binary.dense_blocked_sweeps``); "float32" stores that J rounded to float32 (half the
        bytes; fields still accumulated in float64), so the chain samples exactly the model whose couplings
        are fl32(J_ij) (|fl32(J) - J| <= 2^-24 |J|), energies included.  Recorded in ``settings()`` when
        not the default; ValueError on any other value, and in ``sample`` for a model without that kernel.
    """

    name = "Metropolis"
    heat_bath = False


class HeatBath(_MCMC):
    """Single-site heat bath (Glauber / Gibbs): redraw each site from its conditional law.

    Parameters as ``Metropolis`` (``coupling_dtype`` included)."""

    name = "HeatBath"
    heat_bath = True


class ParallelTempering(_MCMC):
    """Replica exchange over an inverse-temperature ladder ending at the model's beta.

    Parameters
    ----------
    betas : explicit increasing ladder whose last entry must equal ``model.beta`` (to relative precision
        1e-9; required when model.beta is inf, the other entries then finite).  When given, ``n_temps``
        and ``beta_min_ratio`` are not used.  Default: ``n_temps`` geometrically spaced values from
        ``beta_min_ratio * model.beta`` to ``model.beta``.
    swap_every : sweeps between replica-exchange rounds.
    local : "metropolis" or "heat_bath" local updates.
    sweeps, thin, trace_every, threads, order, coupling_dtype : as ``Metropolis``.
    """

    name = "ParallelTempering"

    def __init__(self, betas=None, n_temps: int = 8, beta_min_ratio: float = 0.2, swap_every: int = 1,
                 local: str = "metropolis", sweeps: int = 1000, thin: int = 1, trace_every: int = 1,
                 threads: int = 1, order: str = "auto", coupling_dtype: str = "float64"):
        super().__init__(sweeps=sweeps, thin=thin, trace_every=trace_every, threads=threads, order=order,
                         coupling_dtype=coupling_dtype)
        self.n_temps = check_int("n_temps", n_temps, minimum=2)
        self.beta_min_ratio = check_real("beta_min_ratio", beta_min_ratio, minimum=0.0, maximum=1.0,
                                         strict_min=True)
        if self.beta_min_ratio == 1.0:
            raise ValueError("beta_min_ratio must be < 1 (a ladder of distinct temperatures)")
        self.swap_every = check_int("swap_every", swap_every, minimum=1)
        if local not in ("metropolis", "heat_bath"):
            raise ValueError(f"local must be 'metropolis' or 'heat_bath', got {local!r}")
        self.local = local
        self.heat_bath = local == "heat_bath"
        if betas is not None:
            b = np.asarray(betas, dtype=float)
            if b.ndim != 1 or b.size < 2:
                raise ValueError("betas must be a 1-d ladder of at least 2 inverse temperatures")
            if np.any(np.isnan(b)) or np.any(b < 0) or np.any(np.isinf(b[:-1])) or np.any(np.diff(b) <= 0):
                raise ValueError("betas must be increasing, >= 0, finite except possibly the last")
            self.betas = b
        else:
            self.betas = None

    def settings(self) -> dict:
        s = super().settings()
        s.update({"betas": None if self.betas is None else self.betas.tolist(), "n_temps": self.n_temps,
                  "beta_min_ratio": self.beta_min_ratio, "swap_every": self.swap_every, "local": self.local})
        return s

    def _swap_every(self) -> int:
        return self.swap_every

    def _ladder(self, model: Model) -> np.ndarray:
        if self.betas is not None:
            last = self.betas[-1]
            same = last == model.beta or (math.isfinite(last) and math.isfinite(model.beta)
                                          and math.isclose(last, model.beta, rel_tol=1e-9))
            if not same:
                raise ValueError(f"betas must end at the model's beta = {model.beta}, got {last}")
            ladder = self.betas.copy()
            ladder[-1] = model.beta
            return ladder
        if math.isinf(model.beta):
            raise ValueError("betas must be given explicitly for a model at beta = inf")
        if model.beta == 0:
            raise ValueError("parallel tempering needs model.beta > 0")
        return np.geomspace(self.beta_min_ratio * model.beta, model.beta, self.n_temps)
