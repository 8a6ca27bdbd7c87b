r"""Dense symmetric coupling matrices built in place, row block by row block (SK, spiked Wigner).

The constructors used to draw the whole noise matrix Z = ``rng.standard_normal((n, n))`` and then combine
n x n temporaries (``np.triu``, the outer product, ``upper + upper.T``, the scaled copy) and let
``PairwiseModel`` copy and re-check the result: 6 to 9 matrices of n^2 doubles alive at once.  Here the
output matrix is the only n x n array: Z is drawn ``block`` rows at a time (the same numbers in the same
order: a Generator fills ``standard_normal((b, n))`` row-major from its stream, so consecutive row blocks
are consecutive pieces of the same draw), the upper triangle of each block row is computed with the same
floating-point operations as before, and the lower triangle is copied from the upper one.  The matrix is
therefore equal, bit for bit, to the one of the full-matrix construction (tests/test_spiked_inplace.py).

Entry rule, i < j (the old construction's arithmetic, operation by operation):

* SK:             J_ij = (Z_ij + 0.0) / sqrt(n)                                  (``(g + g.T) / sqrt(n)``)
* spiked Wigner:  Y_ij = (sqrt(lam/n) (x_i x_j) + Z_ij) + 0.0,  J_ij = sqrt(lam/n) Y_ij
                                                  (``upper = signal + w``, ``Y = upper + upper.T``, ``J = c Y``)

with J_ji = J_ij, zero diagonal, and the lower-triangle draws Z_ij (i > j) drawn and discarded.  The
``+ 0.0`` is the addition of the zero lower triangle in ``g + g.T``: it turns a -0.0 into +0.0 and changes
nothing else.
"""

from __future__ import annotations

import numpy as np

from ._validate import readonly

#: Most rows of the noise drawn at a time: 256 rows of n doubles (16 MB at n = 8000).
BLOCK_ROWS = 256


def block_rows(n: int) -> int:
    """Rows per block: at most ``BLOCK_ROWS`` and at most n / 32, so that the two row blocks alive at once
    stay below 1/16 of the n x n output."""
    return max(1, min(BLOCK_ROWS, n // 32))


def _mirror_upper(out: np.ndarray, block: int) -> None:
    """Copy the strict upper triangle of ``out`` onto its lower triangle, block by block (no n x n temporary)."""
    n = out.shape[0]
    for i0 in range(0, n, block):
        i1 = min(i0 + block, n)
        if i0:
            out[i0:i1, :i0] = out[:i0, i0:i1].T
        diag = out[i0:i1, i0:i1]
        lo = np.tril_indices(i1 - i0, -1)
        diag[lo] = diag.T[lo]


def gaussian_symmetric(n: int, rng: np.random.Generator, scale: float, spike: np.ndarray | None = None,
                       spike_scale: float = 0.0, post_scale: float | None = None,
                       block: int | None = None) -> np.ndarray:
    r"""An n x n symmetric float64 matrix with zero diagonal from the row-major draw Z = standard_normal((n, n)).

    Without ``spike``: entry (i < j) = (Z_ij + 0.0) / ``scale`` (SK: scale = sqrt(n)).  With ``spike`` x:
    entry (i < j) = ``post_scale`` · ((``spike_scale`` · (x_i x_j) + Z_ij) + 0.0) (spiked Wigner:
    spike_scale = post_scale = sqrt(lam/n)), or the bracket itself when ``post_scale`` is None (the
    observations Y).  Consumes exactly n^2 normals from ``rng``, like the full draw; peak memory is the
    output plus two ``block`` x n row blocks (default ``block_rows(n)``); the block size changes no number.
    """
    block = block_rows(n) if block is None else int(block)
    out = np.empty((n, n))
    for i0 in range(0, n, block):
        i1 = min(i0 + block, n)
        z = rng.standard_normal((i1 - i0, n))
        # only columns >= i0 are used: row i needs j > i >= i0
        zc = z[:, i0:]
        if spike is None:
            zc += 0.0
            zc /= scale
        else:
            vals = np.multiply.outer(spike[i0:i1], spike[i0:])
            vals *= spike_scale
            vals += zc
            vals += 0.0
            if post_scale is not None:
                vals *= post_scale
            zc = vals
        for r in range(i1 - i0):
            i = i0 + r
            out[i, i] = 0.0
            out[i, i + 1:] = zc[r, r + 1:]
    _mirror_upper(out, block)
    return out


def init_dense_pairwise(model, couplings: np.ndarray, prior, fields, beta: float, global_terms, planted,
                        description: dict, counting: bool) -> None:
    """``PairwiseModel.__init__`` for a dense ``couplings`` that is symmetric, finite, float64 and has a
    zero diagonal by construction: the same attributes, without the copy and the n x n checks (a copy, an
    ``isfinite`` mask, ``allclose(J, J.T)`` and ``abs(J)``: several matrices of temporaries).  ``couplings``
    becomes the model's read-only ``couplings`` (no copy)."""
    if couplings.dtype != np.float64 or couplings.ndim != 2 or couplings.shape[0] != couplings.shape[1]:
        raise ValueError(f"couplings must be a square float64 matrix, got {couplings.dtype} {couplings.shape}")
    model._init_scalar(couplings.shape[0], prior, fields, beta, global_terms, planted, counting)
    model.couplings = readonly(couplings)
    model._description = description
