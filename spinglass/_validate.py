"""Argument checks shared by the model constructors.

Every public constructor validates its arguments with these helpers so that bad input raises a
``ValueError`` / ``TypeError`` naming the parameter and the allowed range, never a silent wrong number.
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

SeedLike = int | np.random.Generator | None


def check_int(name: str, value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` after checking its type and range (inclusive bounds)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_real(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    allow_inf: bool = False,
) -> float:
    """Return ``value`` as ``float`` after checking it is a finite (or +inf if allowed) real in range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    if math.isinf(value) and not (allow_inf and value > 0):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None:
        if strict_min and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value}")
        if not strict_min and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_finite_array(name: str, array: np.ndarray) -> None:
    """Raise ``ValueError`` if ``array`` holds NaN or infinite entries."""
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite entries")


def make_rng(seed: SeedLike) -> np.random.Generator:
    """Turn ``seed`` (int, Generator or None) into a ``numpy.random.Generator``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, a numpy.random.Generator or None, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng(int(seed))


def seed_repr(seed: SeedLike) -> int | str | None:
    """A JSON-friendly record of a seed argument (ints kept, Generators noted)."""
    if isinstance(seed, np.random.Generator):
        return "Generator"
    return None if seed is None else int(seed)


def readonly(array: np.ndarray) -> np.ndarray:
    """Return ``array`` with its write flag cleared (models are immutable)."""
    array.flags.writeable = False
    return array


def physical_memory() -> int | None:
    """This machine's physical memory in bytes (None where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _bytes_text(b: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if b < 1000 or unit == "PB":
            return f"{b:.3g} {unit}"
        b /= 1000
    return f"{b:.3g} PB"  # pragma: no cover


def check_dense_fits(family: str, n: int, arrays: float, memory: int | None = None) -> None:
    """``ValueError`` naming n and the bytes needed when building ``family``'s dense n x n float64 couplings
    (``arrays`` such matrices alive at the peak of its constructor) would not fit in ``memory`` bytes
    (default: this machine's physical memory), before anything is allocated."""
    need = arrays * 8.0 * n * n
    memory = physical_memory() if memory is None else memory
    if memory is not None and need > memory:
        n_max = int(math.sqrt(memory / (8.0 * arrays)))
        raise ValueError(f"n = {n} is too large for {family}: building its dense n x n couplings needs about "
                         f"{_bytes_text(need)} ({arrays:g} float64 n x n arrays at the peak), more than this "
                         f"machine's {_bytes_text(memory)} of memory; use n <= {n_max}")

