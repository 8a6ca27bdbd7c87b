r"""Chromatic single-spin-flip kernel for binary pairwise models on sparse graphs.

A proper colouring of the coupling graph (colour(i) != colour(j) whenever J_ij != 0) splits the sites
into classes with no coupling inside a class.  Given the other classes, the sites of one class are
conditionally independent, so updating all of them at once is a product of independent single-site
updates, each satisfying detailed balance for the Gibbs law; one sweep = class 0, then class 1, ..., then
class K - 1 (n attempted updates).  The stationary law is the same as the sequential sweep's; the chain
(and so every number) is another.  ``greedy_colouring`` colours sites in index order with the smallest
colour unused by earlier neighbours (at most max degree + 1 colours; two on a periodic lattice with even
sides, which is then the checkerboard).

**Layout (sliced ELLPACK).**  Sites are relabelled so that each class is contiguous, sorted inside the
class by degree (largest first), and cut into blocks of ``BLOCK`` = 64 sites.  Block b holds sites
``start[b] .. start[b] + size[b] - 1`` (packed labels) and a ``width[b]`` x ``size[b]`` table of their
neighbours (packed labels) and couplings, column-major (entry (t, k) at ``offset[b] + t size[b] + k``),
padded with zero couplings (width[b] = the largest degree in the block, its first site's).  The tables
hold nnz(J) entries plus that padding (none on a regular graph).  The order pays off when the classes
are large (sparse graphs): every block draws 64 random numbers, and a class of one site is a block.  The
local fields of a block are ``width[b]`` vector loops of gathers, with no dependency between its sites.

**Update.**  Flipping x_i changes E = -sum_{i<j} J_ij x_i x_j - sum_i h_i x_i by dE = 2 x_i f_i,
f_i = sum_j J_ij x_j + h_i.  The flip is accepted with probability P(dE) (``kernels_lattice``:
Metropolis min(1, exp(-beta dE)), heat bath 1 / (1 + exp(beta dE)), the beta = 0 and beta = inf limits):
the site's 64 random bits u flip it when u >> 11 < ceil(P 2^53).  With integer couplings and fields,
x_i f_i is an integer in [-F, F], F = max_i (sum_j |J_ij| + |h_i|), and when F is at most
``kernels_binary.TABLE_MAX_FIELD`` the thresholds are tabulated per chain at every call
(``table[x_i f_i + F]``, 2F + 1 values); otherwise P is computed per site (the same numbers), for
0 < beta < inf in vector loops (``kernels_lattice.float_flips``: the same flips as the per-site exp; a
block's energy change is added in a fixed order of eight partial sums, ``kernels_lattice.lane_sum``).

**Random numbers.**  Each chain owns ``kernels_lattice.N_LANES`` = ``BLOCK`` xoshiro256** lanes; the site
in position k of a block takes the next draw of lane k (surplus draws of a partial block are discarded).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels_lattice import N_LANES, _draw, _threshold, float_flips, lane_sum

#: Sites per block: one draw of every random lane per block.
BLOCK = N_LANES


@njit(cache=True)
def greedy_colouring(indptr, indices, n):
    """Colour of every site: sites in index order take the smallest colour unused by their coloured
    neighbours (a proper colouring with at most max degree + 1 colours).  The CSR pattern must be
    symmetric (i ~ j both ways), else a one-sided pair can share a colour."""
    colour = np.full(n, -1, dtype=np.int64)
    seen = np.full(n + 1, -1, dtype=np.int64)  # seen[c] = i: colour c is taken by a neighbour of i
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            c = colour[indices[p]]
            if c >= 0:
                seen[c] = i
        c = 0
        while seen[c] == i:
            c += 1
        colour[i] = c
    return colour


def sliced_layout(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, colour: np.ndarray) -> dict:
    """The packed, blocked layout of a coloured sparse graph (see the module docstring).

    Returns ``order`` (n,): natural index of packed site p; ``class_ptr`` (K + 1,): blocks of class c are
    ``class_ptr[c] .. class_ptr[c + 1] - 1``; per block ``start``, ``size``, ``width``, ``offset``; and the
    tables ``neighbours`` (uint32 packed labels) and ``couplings`` (float64), of length
    sum_b width[b] size[b].
    """
    n = colour.size
    if n >= 2**32:
        raise ValueError(f"n must be below 2^32 for the chromatic layout (uint32 labels), got {n}")
    degree = np.diff(indptr)
    # class by class, largest degree first (stable, so ties keep index order)
    order = np.lexsort((-degree, colour)).astype(np.int64)
    packed = np.empty(n, dtype=np.int64)
    packed[order] = np.arange(n)
    n_classes = int(colour.max()) + 1 if n else 0
    counts = np.bincount(colour, minlength=n_classes)
    starts, sizes, class_ptr = [], [], [0]
    first = 0
    for c in range(n_classes):
        for s in range(first, first + int(counts[c]), BLOCK):
            starts.append(s)
            sizes.append(min(BLOCK, first + int(counts[c]) - s))
        first += int(counts[c])
        class_ptr.append(len(starts))
    start = np.array(starts, dtype=np.int64)
    size = np.array(sizes, dtype=np.int64)
    width = np.array([int(degree[order[s]]) if z else 0 for s, z in zip(start, size, strict=True)], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(width * size)]).astype(np.int64)
    total = int(offset[-1])
    offset = offset[:-1]
    neighbours = np.zeros(total, dtype=np.uint32)
    couplings = np.zeros(total, dtype=np.float64)
    _fill_tables(indptr, indices, np.asarray(data, dtype=np.float64), order, packed, start, size, offset,
                 neighbours, couplings)
    return {"order": order, "class_ptr": np.array(class_ptr, dtype=np.int64), "start": start, "size": size,
            "width": width, "offset": offset, "neighbours": neighbours, "couplings": couplings}


@njit(cache=True)
def _fill_tables(indptr, indices, data, order, packed, start, size, offset, neighbours, couplings):
    """Entry (t, k) of block b: the t-th neighbour (packed label) and coupling of the block's k-th site;
    entries past a site's degree keep neighbour 0 and coupling 0."""
    for b in range(start.size):
        for k in range(size[b]):
            i = order[start[b] + k]
            for t in range(indptr[i + 1] - indptr[i]):
                p = indptr[i] + t
                neighbours[offset[b] + t * size[b] + k] = np.uint32(packed[indices[p]])
                couplings[offset[b] + t * size[b] + k] = data[p]


@njit(cache=True, nogil=True)
def integer_thresholds(beta, heat_bath, F, table):
    """table[a + F] = ceil(P(2 a) 2^53) for a = x_i f_i in [-F, F]."""
    for a in range(-F, F + 1):
        table[a + F] = _threshold(beta, heat_bath, 2.0 * a)


@njit(cache=True, nogil=True, inline="always")
def _block_fields(sc, hp, neighbours, couplings, field, s0, off, width, m):
    """field[k] = h_k + sum_t J_{k,t} x(neighbour t of k) for the m sites of a block."""
    hr = hp[s0:s0 + m]
    for k in range(m):
        field[k] = hr[k]
    for t in range(width):
        nb = neighbours[off + t * m:off + t * m + m]
        Jt = couplings[off + t * m:off + t * m + m]
        for k in range(m):
            field[k] += Jt[k] * sc[nb[k]]


@njit(cache=True, nogil=True)
def chromatic_sweeps(xs, energy, sums, lanes, class_ptr, start, size, width, offset, neighbours, couplings, hp,
                     refp, has_ref, F, betas, n_sweeps, heat_bath, trace, accepted):
    """Run ``n_sweeps`` chromatic sweeps on every chain (layout of ``sliced_layout``).

    xs (C, n): spins ±1 in packed order, int32 with integer couplings (``couplings`` and ``hp`` int32,
    ``F`` >= 0: tabulated thresholds) or float64 (``F`` = -1: P per site); energy (C,); sums (C, 2) =
    (sum_i x_i, sum_i x_i ref_i); lanes (C, 4, N_LANES) uint64 (seeded); refp (n,) float64 the reference in
    packed order (used when ``has_ref``).  After sweep s, trace[c, :, s] = (energy, sum_i x_i,
    sum_i x_i ref_i); accepted[c] += accepted flips.
    """
    C = xs.shape[0]
    n_classes = class_ptr.size - 1
    integer = F >= 0
    table = np.empty(2 * max(F, 0) + 1, dtype=np.int64)
    bits = np.empty(BLOCK, dtype=np.int64)
    field = np.empty(BLOCK, dtype=couplings.dtype)
    dEv = np.empty(BLOCK, dtype=np.float64)
    flipv = np.empty(BLOCK, dtype=np.int64)
    unsure = np.empty(BLOCK, dtype=np.int64)
    for c in range(C):
        beta = betas[c]
        vector_float = beta > 0.0 and beta < np.inf
        if integer:
            integer_thresholds(beta, heat_bath, F, table)
        sc = xs[c]
        ln = lanes[c]
        e = energy[c]
        m1 = sums[c, 0]
        m2 = sums[c, 1]
        acc = 0
        for sweep in range(n_sweeps):
            de_sweep = 0
            dm_sweep = 0
            for cls in range(n_classes):
                for b in range(class_ptr[cls], class_ptr[cls + 1]):
                    s0 = start[b]
                    m = size[b]
                    off = offset[b]
                    _draw(ln, bits, BLOCK)
                    f = field[:m]
                    _block_fields(sc, hp, neighbours, couplings, f, s0, off, width[b], m)
                    xr = sc[s0:s0 + m]
                    if integer:
                        flips = 0
                        de = 0
                        dm = 0
                        for k in range(m):
                            x = np.int64(xr[k])
                            a = x * np.int64(f[k])
                            flip = np.int64(bits[k] < table[a + F])
                            xr[k] = x - 2 * x * flip
                            flips += flip
                            de += 2 * a * flip
                            dm -= 2 * x * flip
                        acc += flips
                        de_sweep += de
                        dm_sweep += dm
                    elif vector_float:
                        # P per site without a libm call (kernels_lattice.float_flips: the same decisions)
                        for k in range(m):
                            dEv[k] = 2.0 * xr[k] * f[k]
                        float_flips(beta, heat_bath, dEv, bits, flipv, unsure, m)
                        flips = 0
                        dm = 0
                        for k in range(m):
                            x = xr[k]
                            fl = flipv[k]
                            xr[k] = x - 2.0 * x * fl
                            flips += fl
                            dm -= 2 * np.int64(x) * fl
                            dEv[k] = dEv[k] if fl else 0.0
                        acc += flips
                        dm_sweep += dm
                        e += lane_sum(dEv, m)
                    else:
                        for k in range(m):
                            x = xr[k]
                            dE = 2.0 * x * f[k]
                            if bits[k] < _threshold(beta, heat_bath, dE):
                                xr[k] = -x
                                acc += 1
                                e += dE
                                dm_sweep -= 2 * np.int64(x)
            e += float(de_sweep)
            m1 += float(dm_sweep)
            if has_ref:  # sum_i x_i ref_i, recomputed (a planted sparse binary model is rare)
                m2 = 0.0
                for i in range(sc.size):
                    m2 += sc[i] * refp[i]
            trace[c, 0, sweep] = e
            trace[c, 1, sweep] = m1
            trace[c, 2, sweep] = m2
        energy[c] = e
        sums[c, 0] = m1
        sums[c, 1] = m2
        accepted[c] += acc
