"""Peer and hardware baselines measured in the same run as our kernels (issue: benchmarks side by side).

* ``neal_updates_per_s``: dwave-neal's simulated annealing (``neal.SimulatedAnnealingSampler``, PyPI
  ``dwave-neal``; optional, ``pip install -e ".[bench]"``) at a fixed beta on the same couplings, attempted
  single-spin updates per second, from the slope of the wall time of ``sample`` in the number of sweeps
  (its fixed set-up excluded).  Returns None when the package is missing.
* ``neal_call_seconds``: neal's whole call (set-up included), wall and CPU, for a short and a long run.
* ``numpy_metropolis_updates_per_s``: the naive vectorised baseline, a checkerboard Metropolis sweep of
  the 2D ±J lattice in plain numpy (each half-sweep updates one sublattice at once).
* ``matvec_seconds``: one BLAS matrix-vector product J @ f of size n (float64 or float32).
* ``copy_bandwidth``: measured memory bandwidth of a large array copy, bytes read + written per second.
* ``read_bandwidth``: measured bandwidth of a read-only stream over a large array (a numba sum with four
  accumulators), bytes read per second: the bound of a kernel that streams a matrix row and updates a
  cache-resident vector, like the dense local-field update.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import scipy.sparse as sp


def _median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _neal_problem(couplings: sp.spmatrix):
    """(neal sampler, dimod BQM) of our Ising couplings, or None without dwave-neal.  neal minimises
    E = sum h s + sum J s s; our H = -sum_{i<j} J_ij s_i s_j, so J_neal = -J."""
    try:
        import dimod
        import neal
    except ImportError:
        return None
    upper = sp.triu(sp.csr_matrix(couplings), 1).tocoo()
    n = couplings.shape[0]
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(np.zeros(n), (upper.row, upper.col, -upper.data), 0.0,
                                                        dimod.SPIN)
    return neal.SimulatedAnnealingSampler(), bqm


def neal_updates_per_s(couplings: sp.spmatrix, beta: float, sweeps: int, repeats: int = 3) -> float | None:
    """dwave-neal attempted updates per second on ``couplings`` (symmetric, zero diagonal) at fixed beta.

    The model is built once as a ``dimod.BinaryQuadraticModel``; every ``sample`` call still pays a fixed
    set-up (about 0.2-1 s at n = 10^5, and noisy), so the rate is the slope between ``sweeps // 4`` and
    ``sweeps`` sweeps: n (S_hi - S_lo) / (median t(S_hi) - median t(S_lo)).
    """
    built = _neal_problem(couplings)
    if built is None:
        return None
    sampler, bqm = built
    n = couplings.shape[0]
    lo, hi = max(1, sweeps // 4), max(2, sweeps)

    def seconds(n_sweeps: int) -> float:
        return _median_time(lambda: sampler.sample(bqm, num_reads=1, num_sweeps=n_sweeps, beta_range=(beta, beta),
                                                   seed=1), repeats)

    t_lo, t_hi = seconds(lo), seconds(hi)
    return n * (hi - lo) / max(t_hi - t_lo, 1e-9)


def neal_call_seconds(couplings: sp.spmatrix, beta: float, sweeps: tuple[int, ...] = (1, 100),
                      repeats: int = 3) -> dict | None:
    """What a neal user feels: the whole ``SimulatedAnnealingSampler.sample`` call (set-up included) on
    ``couplings`` at fixed beta, one read, as {"sweeps": [...], "wall_s": [...], "cpu_s": [...]} (medians
    over ``repeats``, after one untimed call), with the BQM built once beforehand (as a user reusing it
    would).  None when dwave-neal is missing."""
    built = _neal_problem(couplings)
    if built is None:
        return None
    sampler, bqm = built
    out = {"sweeps": list(sweeps), "wall_s": [], "cpu_s": []}
    for n_sweeps in sweeps:
        def call(n_sweeps=n_sweeps):
            sampler.sample(bqm, num_reads=1, num_sweeps=n_sweeps, beta_range=(beta, beta), seed=1)

        call()
        walls, cpus = [], []
        for _ in range(repeats):
            w, c = time.perf_counter(), time.process_time()
            call()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        out["wall_s"].append(statistics.median(walls))
        out["cpu_s"].append(statistics.median(cpus))
    return out


def numpy_metropolis_updates_per_s(L: int, beta: float, sweeps: int, seed: int = 0) -> float:
    """Checkerboard Metropolis on the L x L ±J torus in plain numpy (the naive vectorised baseline)."""
    rng = np.random.default_rng(seed)
    s = rng.choice([-1.0, 1.0], size=(L, L))
    jr = rng.choice([-1.0, 1.0], size=(L, L))  # bond (i, j) - (i, j+1)
    jd = rng.choice([-1.0, 1.0], size=(L, L))  # bond (i, j) - (i+1, j)
    ii, jj = np.indices((L, L))
    masks = [((ii + jj) % 2) == c for c in (0, 1)]

    def sweep():
        for mask in masks:
            field = (jr * np.roll(s, -1, 1) + np.roll(jr, 1, 1) * np.roll(s, 1, 1)
                     + jd * np.roll(s, -1, 0) + np.roll(jd, 1, 0) * np.roll(s, 1, 0))
            dE = 2.0 * s * field
            accept = mask & (rng.random((L, L)) < np.exp(-beta * dE))
            s[accept] *= -1.0

    sweep()
    t0 = time.perf_counter()
    for _ in range(sweeps):
        sweep()
    return L * L * sweeps / (time.perf_counter() - t0)


def matvec_seconds(n: int, dtype=np.float64, repeats: int = 20, seed: int = 0) -> float:
    """Median wall time of one dense J @ f with J (n, n) symmetric."""
    rng = np.random.default_rng(seed)
    J = rng.standard_normal((n, n)).astype(dtype)
    f = rng.standard_normal(n).astype(dtype)
    return _median_time(lambda: J @ f, repeats)


def copy_bandwidth(n_bytes: int = 1 << 28, repeats: int = 5) -> float:
    """Bytes read + written per second by ``np.copyto`` of an ``n_bytes`` float64 array."""
    a = np.ones(n_bytes // 8)
    b = np.empty_like(a)
    t = _median_time(lambda: np.copyto(b, a), repeats)
    return 2.0 * a.nbytes / t


def read_bandwidth(n_bytes: int = 1 << 28, repeats: int = 5) -> float:
    """Bytes read per second by a streaming sum over an ``n_bytes`` float64 array (numba, four partial sums
    so that the adds do not bind)."""
    from numba import njit

    @njit(cache=True)
    def stream_sum(a):
        s0 = s1 = s2 = s3 = 0.0
        for i in range(0, a.size - 3, 4):
            s0 += a[i]
            s1 += a[i + 1]
            s2 += a[i + 2]
            s3 += a[i + 3]
        return s0 + s1 + s2 + s3

    a = np.ones(n_bytes // 8)
    t = _median_time(lambda: stream_sum(a), repeats)
    return a.nbytes / t


__all__ = ["neal_updates_per_s", "neal_call_seconds", "numpy_metropolis_updates_per_s", "matvec_seconds",
           "copy_bandwidth", "read_bandwidth"]
