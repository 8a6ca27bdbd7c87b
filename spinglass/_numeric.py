"""Small numerical helpers of the models layer, kept free of scipy.special so that ``import spinglass`` stays cheap
(scipy.special alone costs about 0.1 s of start-up, a third of the package's import)."""

from __future__ import annotations

import numpy as np


def logsumexp(a, axis: int | None = None) -> np.ndarray | float:
    """log sum exp(a) over ``axis`` (all entries when None), stable: max(a) + log sum exp(a - max(a)).

    Entries may be -inf (zero weight); a slice whose entries are all -inf gives -inf.  Same values as
    ``scipy.special.logsumexp(a, axis=axis)`` for finite and -inf inputs.
    """
    a = np.asarray(a, dtype=float)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis) if axis is not None else out.reshape(())[()]
