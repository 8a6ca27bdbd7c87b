r"""Checkerboard single-spin-flip kernel for binary models on periodic hypercubic lattices (EA, Ising).

A periodic lattice L_1 x ... x L_d with every side even is bipartite: colour(site) = (sum of coordinates)
mod 2.  Sites of one colour interact only with sites of the other, so updating every site of one colour
given the other is a product of independent single-site updates, each satisfying detailed balance; one
sweep = all colour-0 sites, then all colour-1 sites (n attempted updates).

**Packed layout.** Row r indexes the first d - 1 coordinates (row-major), so the lattice is H = n / W rows
of W = L_d sites with row parity p(r) = (sum of those coordinates) mod 2.  Colour c of row r holds the
W/2 sites j = 2k + q, q = (p(r) + c) mod 2, k = 0 .. W/2 - 1, stored contiguously at packed index
``(c H + r) W/2 + k``.  The neighbours of packed site (c, r, k), all of colour 1 - c, are then

* (1 - c, r, k) and (1 - c, r, k - 1 + 2q mod W/2): the two neighbours along the last axis;
* (1 - c, r', k) for each neighbouring row r' (the other axes),

so every neighbour read of a row is a contiguous run: the local fields of a whole row are vector
operations, with no dependency between the sites of the row.

**Update.** Flipping x_i changes the energy E = -sum_<ij> J_ij x_i x_j - sum_i h_i x_i by
dE = 2 x_i (sum_j J_ij x_j + h_i).  The flip is accepted with probability P(dE): Metropolis
min(1, exp(-beta dE)) (at beta = 0, 1/2: the lazy step of ``kernels_scalar``), heat bath
1 / (1 + exp(beta dE)); at beta = inf, 1 / 1/2 / 0 for dE < 0 / = 0 / > 0 (1 at dE = 0 for Metropolis).
Each site draws 64 random bits x and flips when m = x >> 11 < ceil(P 2^53), which is exactly the event
m 2^-53 < P of a 53-bit uniform.  With integer couplings and fields, dE takes few values (the
*levels*: dE in {0, ±4, ±8} on the 2D ±J lattice); their thresholds are computed once per chain and a
site's threshold is selected by comparing dE with each level, a vector operation (a table gather does not
vectorise); otherwise P is computed per site, in vector loops too (``float_flips``: a polynomial exp
with an error bound, the few sites near their threshold decided again by the exact P; the same flips as the
per-site exp, hence the same chain; the energy trace adds a row's dE in a fixed order of eight partial
sums, so it may differ from a flip-by-flip sum in the last bits).

**Random numbers.** Each chain owns ``N_LANES`` xoshiro256** streams (``lanes[c]``, shape (4, N_LANES)),
seeded once from the chain's own stream; a row's W/2 draws come from the lanes in turn (lane l gives
draws l, l + N_LANES, ...), so they are generated in SIMD registers.  Draws past W/2 in the last block of
a row are discarded.  The numbers differ from the sequential kernels' (another visiting order and
stream); the law is the same.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import _xoshiro_step

#: Independent xoshiro256** lanes per chain (a multiple of the SIMD width in 64-bit words).
N_LANES = 64
_U = np.uint64
_ONE53 = 9007199254740992  # 2^53


def packing(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The packed layout of a periodic lattice ``shape`` (row-major site indices, every side even).

    Returns ``order`` (n,): ``order[p]`` = the natural index of packed site p; ``row_parity`` (H,); and
    ``row_neighbours`` (H, 2(d - 1)): rows one step down / up along each of the first d - 1 axes.
    """
    shape = tuple(int(s) for s in shape)
    W = shape[-1]
    rows_shape = shape[:-1]
    H = int(np.prod(rows_shape)) if rows_shape else 1
    rcoords = np.array(np.unravel_index(np.arange(H), rows_shape)) if rows_shape else np.zeros((0, 1), int)
    row_parity = (rcoords.sum(axis=0) % 2).astype(np.int64) if rows_shape else np.zeros(1, np.int64)
    nbrs = []
    for axis, length in enumerate(rows_shape):
        for step in (-1, 1):
            shifted = rcoords.copy()
            shifted[axis] = (shifted[axis] + step) % length
            nbrs.append(np.ravel_multi_index(tuple(shifted), rows_shape))
    row_neighbours = (np.stack(nbrs, axis=1).astype(np.int64) if nbrs else np.zeros((H, 0), np.int64))
    Wh = W // 2
    c = np.arange(2)[:, None, None]
    r = np.arange(H)[None, :, None]
    k = np.arange(Wh)[None, None, :]
    j = 2 * k + (row_parity[r] + c) % 2
    order = (r * W + j).reshape(-1).astype(np.int64)
    return order, row_parity, np.ascontiguousarray(row_neighbours)


def neighbour_table(shape: tuple[int, ...], order: np.ndarray, row_parity: np.ndarray,
                    row_neighbours: np.ndarray) -> np.ndarray:
    """(2d, n) natural index of the neighbour of each packed site in direction t (the kernel's order):
    t = 0: (1 - c, r, k); t = 1: (1 - c, r, k - 1 + 2q); t = 2 + m: (1 - c, row_neighbours[r, m], k)."""
    W = shape[-1]
    Wh = W // 2
    H = row_parity.size
    n = order.size
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)
    c = np.repeat(np.arange(2), H * Wh)
    r = np.tile(np.repeat(np.arange(H), Wh), 2)
    k = np.tile(np.arange(Wh), 2 * H)
    q = (row_parity[r] + c) % 2
    oc = 1 - c

    def packed(cc, rr, kk):
        return order[(cc * H + rr) * Wh + kk]

    cols = [packed(oc, r, k), packed(oc, r, (k - 1 + 2 * q) % Wh)]
    for m in range(row_neighbours.shape[1]):
        cols.append(packed(oc, row_neighbours[r, m], k))
    return np.stack(cols).astype(np.int64)


#: Most levels for the select of thresholds; beyond it the per-site (float) path is used.
MAX_LEVELS = 64


def attainable_energy_changes(Jp: np.ndarray, hp: np.ndarray) -> np.ndarray:
    """Sorted distinct dE = 2 x_i (sum_t J_t x_t + h_i) over all sites i and all x in {±1}^(2d + 1).

    ``Jp`` (2d, n), ``hp`` (n,) integer-valued.  The distinct coupling rows are enumerated, so the cost is
    (number of distinct (J_i, h_i) rows) x 2^(2d).
    """
    rows = np.unique(np.vstack([Jp, hp[None, :]]).T.astype(np.int64), axis=0)
    D = Jp.shape[0]
    signs = 1 - 2 * ((np.arange(2 ** D)[:, None] >> np.arange(D)[None, :]) & 1)  # (2^D, D)
    f = signs @ rows[:, :D].T + rows[:, D][None, :]  # (2^D, distinct rows)
    return np.unique(np.concatenate([2 * f.ravel(), -2 * f.ravel()])).astype(np.int64)


@njit(cache=True, nogil=True, inline="always")
def _flip_probability(beta, heat_bath, dE):
    if np.isinf(beta):
        if dE < 0.0:
            return 1.0
        if dE > 0.0:
            return 0.0
        return 0.5 if heat_bath else 1.0
    if heat_bath:
        z = beta * dE
        return 1.0 / (1.0 + np.exp(z)) if z < 700.0 else 0.0
    if beta == 0.0:
        return 0.5
    return 1.0 if dE <= 0.0 else np.exp(0.0 - beta * dE)


@njit(cache=True, nogil=True, inline="always")
def _threshold(beta, heat_bath, dE):
    return np.int64(np.ceil(_flip_probability(beta, heat_bath, dE) * 9007199254740992.0))


#: The vectorised float acceptance: exp(a), a in [-EXP_CLAMP, 0], as (Taylor_7(a / 2^7))^(2^7), a polynomial and
#: seven squarings (no libm call, so the loop over a row vectorises); its relative error is below 4e-7
#: (tests/test_mcmc_float_vector.py checks it on a fine grid), and EXP_TOL leaves a 40x margin.
EXP_CLAMP = 40.0
EXP_TOL = 2.0**-16


@njit(cache=True, nogil=True, inline="always")
def exp_approx(a):
    """exp(a) to relative error < 4e-7 for a in [-EXP_CLAMP, 0], with multiplies and adds only."""
    r = a * (1.0 / 128.0)
    p = 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    for _ in range(7):
        p = p * p
    return p


@njit(cache=True, nogil=True, error_model="numpy")  # no zero-divisor check: the loop vectorises
def float_flips(beta, heat_bath, dE, bits, flip, unsure, m):
    r"""flip[k] = 1 exactly when bits[k] < ``_threshold``(beta, heat_bath, dE[k]), k < m, for 0 < beta < inf:
    the decisions of the per-site float path, bit for bit, in vector loops.

    P(dE) is first approximated without a libm call (``exp_approx`` of the clamped exponent: Metropolis
    exp(-beta dE) for dE > 0, 1 at dE <= 0; heat bath w / (1 + w) or 1 / (1 + w), w = exp(-beta |dE|)),
    y = P 2^53 to relative error below ``EXP_TOL``.  With m_k = bits[k] an integer and T = ceil(P 2^53) the
    exact threshold, m_k < y (1 - EXP_TOL) - 2 implies m_k < T (flip) and m_k > y (1 + EXP_TOL) + 2 implies
    m_k >= T (stay); only the sites in between (probability about 2 EXP_TOL P + 5 / 2^53 each; those
    with P < 2^-53 e^40 after the clamp, where y is an upper bound) are decided again by the exact
    ``_threshold``.  ``unsure`` (m,) int64 scratch.  Returns the number of sites decided exactly."""
    n_unsure = 0
    for k in range(m):
        d = dE[k]
        if heat_bath:
            z = beta * d
            a = -z if z > 0.0 else z
            a = a if a > -EXP_CLAMP else -EXP_CLAMP
            w = exp_approx(a)
            y = (w if z > 0.0 else 1.0) / (1.0 + w) * 9007199254740992.0
            lo = y * (1.0 - EXP_TOL) - 2.0
            hi = y * (1.0 + EXP_TOL) + 2.0
        else:
            a = 0.0 - beta * d
            a = a if a > -EXP_CLAMP else -EXP_CLAMP
            a = a if a < 0.0 else 0.0
            y = exp_approx(a) * 9007199254740992.0
            lo = y * (1.0 - EXP_TOL) - 2.0 if d > 0.0 else 18014398509481984.0
            hi = y * (1.0 + EXP_TOL) + 2.0 if d > 0.0 else 18014398509481984.0
        u = float(bits[k])
        f = np.int64(u < lo)
        q = np.int64(u <= hi) - f
        flip[k] = f
        unsure[k] = q
        n_unsure += q
    if n_unsure:
        for k in range(m):
            if unsure[k]:
                flip[k] = np.int64(bits[k] < _threshold(beta, heat_bath, dE[k]))
    return n_unsure


@njit(cache=True, nogil=True)
def lane_sum(v, m):
    """sum_k v[k], k < m, in a fixed order (eight partial sums over k mod 8, then added in turn), so that
    it vectorises and gives the same double on every machine."""
    p0 = p1 = p2 = p3 = p4 = p5 = p6 = p7 = 0.0
    k = 0
    while k + 8 <= m:
        p0 += v[k]
        p1 += v[k + 1]
        p2 += v[k + 2]
        p3 += v[k + 3]
        p4 += v[k + 4]
        p5 += v[k + 5]
        p6 += v[k + 6]
        p7 += v[k + 7]
        k += 8
    while k < m:
        p0 += v[k]
        k += 1
    return ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))


@njit(cache=True, nogil=True)
def seed_lanes(rng, lanes, seeded):
    """Seed the lanes of every chain with ``seeded[c] == 0`` from its own stream ``rng[c]``."""
    C = rng.shape[0]
    for c in range(C):
        if seeded[c]:
            continue
        r0, r1, r2, r3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
        for w in range(4):
            for lane in range(lanes.shape[2]):
                x, r0, r1, r2, r3 = _xoshiro_step(r0, r1, r2, r3)
                lanes[c, w, lane] = x
        for lane in range(lanes.shape[2]):  # never the all-zero state
            if (lanes[c, 0, lane] | lanes[c, 1, lane] | lanes[c, 2, lane] | lanes[c, 3, lane]) == _U(0):
                lanes[c, 0, lane] = _U(1)
        rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = r0, r1, r2, r3
        seeded[c] = 1


@njit(cache=True, nogil=True, inline="always")
def _draw(lanes, bits, m):
    """bits[i] = (next 64 random bits of lane i mod N_LANES) >> 11 for i < ceil(m / N_LANES) N_LANES."""
    l0 = lanes[0]
    l1 = lanes[1]
    l2 = lanes[2]
    l3 = lanes[3]
    for b in range(0, m, N_LANES):
        out = bits[b:b + N_LANES]
        for lane in range(N_LANES):  # independent lanes: one SIMD loop
            x, l0[lane], l1[lane], l2[lane], l3[lane] = _xoshiro_step(l0[lane], l1[lane], l2[lane], l3[lane])
            out[lane] = np.int64(x >> _U(11))


@njit(cache=True, nogil=True, inline="always")
def _row_fields(sc, Jp, field, base, obase, q, nb_bases, Wh):
    """field[k] = sum_t Jp[t, base + k] x(neighbour t of packed site base + k), k < Wh.

    Written over slices (non-negative loop indices) so that the loops vectorise."""
    x_same = sc[obase:obase + Wh]
    J0 = Jp[0, base:base + Wh]
    J1 = Jp[1, base:base + Wh]
    for k in range(Wh):
        field[k] = J0[k] * x_same[k]
    if q == 0:  # the left neighbour: k - 1, wrapping at k = 0
        field[0] += J1[0] * x_same[Wh - 1]
        x_left = sc[obase:obase + Wh - 1]
        J1r = J1[1:]
        f1 = field[1:]
        for k in range(Wh - 1):
            f1[k] += J1r[k] * x_left[k]
    else:  # the right neighbour: k + 1, wrapping at k = Wh - 1
        x_right = sc[obase + 1:obase + Wh]
        for k in range(Wh - 1):
            field[k] += J1[k] * x_right[k]
        field[Wh - 1] += J1[Wh - 1] * x_same[0]
    for t in range(2, Jp.shape[0]):
        Jt = Jp[t, base:base + Wh]
        xt = sc[nb_bases[t - 2]:nb_bases[t - 2] + Wh]
        for k in range(Wh):
            field[k] += Jt[k] * xt[k]


@njit(cache=True, nogil=True)
def checkerboard_sweeps(xs, energy, sums, lanes, Jp, hp, refp, has_ref, row_parity, row_neighbours, levels,
                        betas, n_sweeps, heat_bath, trace, accepted):
    """Run ``n_sweeps`` checkerboard sweeps on every chain (packed layout, see the module docstring).

    xs (C, n) int8: spins ±1 in packed order; energy (C,); sums (C, 2) = (sum_i x_i, sum_i x_i ref_i);
    lanes (C, 4, N_LANES) uint64 (seeded); Jp (2d, n): couplings to the neighbour in each direction
    (int32 when ``levels`` is not empty, else float64); hp (n,): fields in packed order (Jp's dtype);
    ``levels``: every attainable dE for integer couplings and fields (``attainable_energy_changes``), whose
    thresholds are computed once per chain, or empty (P computed per site); refp (n,) float64: the
    reference (used when ``has_ref``).  After sweep k, trace[c, :, k] = (energy, sum_i x_i,
    sum_i x_i ref_i); accepted[c] += accepted flips.

    Random draws are made for ``rows_per_draw`` = ceil(N_LANES / (W/2)) rows at a time (rounded up to a
    multiple of N_LANES; the surplus is discarded).
    """
    C, n = xs.shape
    H = row_parity.size
    Wh = n // (2 * H)
    n_nb = row_neighbours.shape[1]
    rows_per_draw = (N_LANES + Wh - 1) // Wh
    per_draw = rows_per_draw * Wh
    bits = np.empty((per_draw + N_LANES - 1) // N_LANES * N_LANES, dtype=np.int64)
    field = np.zeros(Wh, dtype=Jp.dtype)
    nb_bases = np.empty(max(n_nb, 1), dtype=np.int64)
    integer = levels.size > 0
    n_levels = levels.size
    dE = np.empty(Wh, dtype=np.int64)
    thr_row = np.empty(Wh, dtype=np.int64)
    thr = np.empty(n_levels, dtype=np.int64)
    dEv = np.empty(Wh, dtype=np.float64)
    flip = np.empty(Wh, dtype=np.int64)
    unsure = np.empty(Wh, dtype=np.int64)
    for c in range(C):
        beta = betas[c]
        vector_float = beta > 0.0 and beta < np.inf
        for m in range(n_levels):
            thr[m] = _threshold(beta, heat_bath, float(levels[m]))
        sc = xs[c]
        ln = lanes[c]
        e = energy[c]
        m1 = sums[c, 0]
        m2 = sums[c, 1]
        acc = 0
        for sweep in range(n_sweeps):
            de_sweep = 0
            dm_sweep = 0
            for colour in range(2):
                for r in range(H):
                    j = r % rows_per_draw
                    if j == 0:
                        _draw(ln, bits, min(per_draw, (H - r) * Wh))
                    q = (row_parity[r] + colour) & 1
                    base = (colour * H + r) * Wh
                    obase = ((1 - colour) * H + r) * Wh
                    for t in range(n_nb):
                        nb_bases[t] = ((1 - colour) * H + row_neighbours[r, t]) * Wh
                    _row_fields(sc, Jp, field, base, obase, q, nb_bases, Wh)
                    xr = sc[base:base + Wh]
                    hr = hp[base:base + Wh]
                    br = bits[j * Wh:(j + 1) * Wh]
                    if integer:
                        # dE per site, its threshold by a select over the attainable levels (no gather),
                        # then the flips: three vector loops over the row
                        for k in range(Wh):
                            dE[k] = 2 * np.int64(xr[k]) * (np.int64(field[k]) + np.int64(hr[k]))
                            thr_row[k] = 0
                        for m in range(n_levels):
                            d = levels[m]
                            t = thr[m]
                            for k in range(Wh):
                                if dE[k] == d:
                                    thr_row[k] = t
                        flips = 0
                        de = 0
                        dm = 0
                        for k in range(Wh):
                            x = np.int64(xr[k])
                            f = np.int64(br[k] < thr_row[k])
                            xr[k] = np.int8(x - 2 * x * f)
                            flips += f
                            de += f * dE[k]
                            dm -= 2 * x * f
                        acc += flips
                        de_sweep += de
                        dm_sweep += dm
                    elif vector_float:
                        # P per site without a libm call (float_flips: the same decisions), then the flips
                        for k in range(Wh):
                            dEv[k] = 2.0 * np.int64(xr[k]) * (field[k] + hr[k])
                        float_flips(beta, heat_bath, dEv, br, flip, unsure, Wh)
                        flips = 0
                        dm = 0
                        for k in range(Wh):
                            x = np.int64(xr[k])
                            f = flip[k]
                            xr[k] = np.int8(x - 2 * x * f)
                            flips += f
                            dm -= 2 * x * f
                            dEv[k] = dEv[k] if f else 0.0
                        acc += flips
                        dm_sweep += dm
                        e += lane_sum(dEv, Wh)
                    else:
                        for k in range(Wh):
                            x = np.int64(xr[k])
                            dEf = 2.0 * x * (field[k] + hr[k])
                            if br[k] < _threshold(beta, heat_bath, dEf):
                                xr[k] = np.int8(-x)
                                acc += 1
                                e += dEf
                                dm_sweep -= 2 * x
            e += float(de_sweep)
            m1 += float(dm_sweep)
            if has_ref:  # sum_i x_i ref_i, recomputed (a planted lattice model is rare)
                m2 = 0.0
                for i in range(n):
                    m2 += sc[i] * refp[i]
            trace[c, 0, sweep] = e
            trace[c, 1, sweep] = m1
            trace[c, 2, sweep] = m2
        energy[c] = e
        sums[c, 0] = m1
        sums[c, 1] = m2
        accepted[c] += acc
