"""Per-chain random number streams for the numba kernels: xoshiro256** (Blackman & Vigna, 2018).

Each chain owns a 256-bit state (a row of a (C, 4) uint64 array), so chains are independent streams that
can be stored, resumed bit for bit, and later split over threads without changing any number.  States are
seeded from a ``numpy.random.Generator``; ``next_double`` returns (x >> 11) · 2^-53, uniform in [0, 1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_U = np.uint64


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << k) | (x >> (_U(64) - k))


@njit(cache=True, inline="always")
def _xoshiro_step(s0, s1, s2, s3):
    """One xoshiro256** step on a state held in four local variables: (64 random bits, s0, s1, s2, s3)."""
    result = _rotl(s1 * _U(5), _U(7)) * _U(9)
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, _U(45))
    return result, s0, s1, s2, s3


@njit(cache=True)
def next_u64(state, c):
    """Advance stream ``c`` of ``state`` (C, 4) uint64 and return 64 random bits."""
    result, state[c, 0], state[c, 1], state[c, 2], state[c, 3] = _xoshiro_step(state[c, 0], state[c, 1],
                                                                                state[c, 2], state[c, 3])
    return result


@njit(cache=True)
def next_double(state, c):
    """A uniform double in [0, 1) from stream ``c``."""
    return float(next_u64(state, c) >> _U(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def xoshiro_next(s0, s1, s2, s3):
    """``next_double`` on a state held in four local variables: returns (u, s0, s1, s2, s3).

    The same numbers as ``next_double`` on the same state; hot kernels keep a chain's state in registers
    this way and write it back to the (C, 4) array once per call.
    """
    result, s0, s1, s2, s3 = _xoshiro_step(s0, s1, s2, s3)
    return float(result >> _U(11)) * (1.0 / 9007199254740992.0), s0, s1, s2, s3


def new_streams(rng: np.random.Generator, n_streams: int) -> np.ndarray:
    """``n_streams`` xoshiro256** states drawn from ``rng`` (never the all-zero state)."""
    state = rng.integers(0, np.iinfo(np.uint64).max, size=(n_streams, 4), dtype=np.uint64, endpoint=True)
    zero = ~state.any(axis=1)
    state[zero, 0] = 1
    return state


@njit(cache=True, inline="always")
def categorical(weights, total, u):
    """The index b with W_{b-1} <= u·total < W_b, W_b = weights[0] + ... + weights[b] (u uniform in [0, 1))."""
    r = u * total
    cum = 0.0
    for b in range(weights.size):
        cum += weights[b]
        if r < cum:
            return b
    return weights.size - 1
