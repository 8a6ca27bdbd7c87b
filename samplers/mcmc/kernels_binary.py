r"""Specialised numba kernel for binary pairwise models: x_i in {-1, +1}, no global (mean-field) terms.

This is the hot path of the ±J / Gaussian Edwards-Anderson lattices, SK and sparse Ising graphs.  It
performs *exactly* the arithmetic of the general scalar kernel (``kernels_scalar.scalar_sweeps``) on the
same chain state and consumes the same random numbers in the same order, so both produce identical
chains bit for bit (the tests check this); it is only faster:

* the chain's xoshiro256** state lives in registers for a whole chain (``rng.xoshiro_next``), instead of
  a load and a store of the (C, 4) state array per draw;
* the value set is hard-wired: with alphabet index a in {0, 1} (x = -1, +1) the move a -> b = 1 - a has
  dv = x_b - x_a = 2 - 4a, and dE = -dv (lf_i + h_i);
* for a dense coupling matrix the local-field update lf_j += J_ij dv runs over contiguous rows (SIMD);
  ``dense_blocked_sweeps`` (what the samplers run on dense models) delays it: the sites of a block are
  decided with the block's own fields kept current, and the accepted rows are then streamed sixteen at a
  time into the whole field vector, with the same additions in the same order (the same chain, bit for
  bit); J may be float32 there (``coupling_dtype="float32"``: half the bytes per accepted flip);
* when every coupling and field is an integer and the local fields are bounded (|lf_i + h_i| <= 64, e.g.
  ±J couplings on a lattice), the Metropolis acceptance exp(dlogw) with dlogw = 0 - beta dE, dE in
  2 Z, is read from a table exp(-beta k), k = 0 .. 2 max|field|, computed by the same ``np.exp`` in
  numba, hence the same doubles.

Metropolis (uniform proposal of the other value) accepts with probability min(1, exp(dlogw)),
dlogw = (log p0(b) - log p0(a)) - beta dE, with the lazy step at beta = 0 of the general kernel; heat bath
draws b with probability ∝ p0(b) exp(beta x_b field).  Sweeps visit sites 0..n-1 in order.

Every kernel here releases the GIL (``nogil=True``), so that disjoint blocks of chains can run on
several threads at once (``samplers.mcmc.samplers``' ``threads``): chains are independent streams, so
the split never changes a number.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import xoshiro_next

#: Largest |lf_i + h_i| for which integer-valued models use the acceptance table.
TABLE_MAX_FIELD = 64


@njit(cache=True, nogil=True)
def acceptance_table(beta, max_field):
    """table[k] = exp(0.0 - beta k) for k = 0 .. 2 max_field (the Metropolis acceptance at dE = k)."""
    table = np.empty(2 * max_field + 1)
    for k in range(2 * max_field + 1):
        table[k] = np.exp(0.0 - beta * float(k))
    return table


@njit(cache=True, nogil=True)
def binary_pairwise_sweeps(dense, s, lf, energy, sums, J, indptr, indices, data, h, logp, ref, betas, rng, n_sweeps,
                           heat_bath, max_field, trace, accepted):
    """Run ``n_sweeps`` sweeps on every chain (state arrays as ``kernels_scalar.scalar_sweeps``).

    ``dense``: J (n, n) holds the couplings, else the CSR triple (indptr, indices, data).  ``max_field``:
    an integer bound on |lf_i + h_i| when couplings and fields are integers (the acceptance table is
    used for a uniform prior), or -1.  trace[c, :, k] = (energy, sum_i x_i, sum_i x_i ref_i) after sweep k.
    """
    C, n = s.shape
    dlp0 = logp[1] - logp[0]  # log p0(b) - log p0(a) for a = 0 -> b = 1
    dlp1 = logp[0] - logp[1]
    for c in range(C):
        beta = betas[c]
        # at beta = 0 every move has dlogw = 0 (the lazy step), which the table does not express
        use_table = max_field >= 0 and logp[0] == logp[1] and not heat_bath and beta > 0.0
        table = acceptance_table(beta, max_field if use_table else 0)
        r0 = rng[c, 0]
        r1 = rng[c, 1]
        r2 = rng[c, 2]
        r3 = rng[c, 3]
        sc = s[c]
        lfc = lf[c]
        e = energy[c]
        m1 = sums[c, 0]
        m2 = sums[c, 1]
        acc = 0
        for sweep in range(n_sweeps):
            for i in range(n):
                a = sc[i]
                field = lfc[i] + h[i]
                if heat_bath:
                    # the general kernel's arithmetic for K = 2, vals = (-1, +1), no global terms
                    w0 = logp[0] - beta * field
                    w1 = logp[1] - beta * (-field)
                    best = -np.inf
                    if w0 > best:
                        best = w0
                    if w1 > best:
                        best = w1
                    w0 = np.exp(w0 - best)
                    w1 = np.exp(w1 - best)
                    total = 0.0
                    total += w0
                    total += w1
                    u, r0, r1, r2, r3 = xoshiro_next(r0, r1, r2, r3)
                    rr = u * total
                    b = 0 if rr < w0 else 1
                    if b == a:
                        continue
                else:
                    b = 1 - a
                dv = 2.0 - 4.0 * a
                dE = -dv * field
                if not heat_bath:
                    if use_table:
                        if dE > 0.0:
                            u, r0, r1, r2, r3 = xoshiro_next(r0, r1, r2, r3)
                            if u >= table[int(dE)]:
                                continue
                    else:
                        dlogw = (dlp0 if a == 0 else dlp1) - beta * dE
                        if dlogw < 0.0:
                            u, r0, r1, r2, r3 = xoshiro_next(r0, r1, r2, r3)
                            if u >= np.exp(dlogw):
                                continue
                        elif dlogw == 0.0 and beta == 0.0:
                            u, r0, r1, r2, r3 = xoshiro_next(r0, r1, r2, r3)
                            if u < 0.5:
                                continue
                if dense:
                    Ji = J[i]
                    for j in range(n):
                        lfc[j] += Ji[j] * dv
                else:
                    for k in range(indptr[i], indptr[i + 1]):
                        lfc[indices[k]] += data[k] * dv
                sc[i] = b
                e += dE
                m1 += dv
                m2 += dv * ref[i]
                acc += 1
            trace[c, 0, sweep] = e
            trace[c, 1, sweep] = m1
            trace[c, 2, sweep] = m2
        energy[c] = e
        sums[c, 0] = m1
        sums[c, 1] = m2
        accepted[c] += acc
        rng[c, 0] = r0
        rng[c, 1] = r1
        rng[c, 2] = r2
        rng[c, 3] = r3


#: Sites decided per block by ``dense_blocked_sweeps`` (the delayed field update streams the accepted rows of
#: a block together).
DENSE_BLOCK = 32

#: Pending accepted flips are applied to the whole field vector in groups of this many rows (``_delayed_rows``
#: streams sixteen rows side by side); fewer wait for the next block.
FLUSH_ROWS = 16


@njit(cache=True, nogil=True, fastmath={"contract"})
def _delayed_rows(lfc, J, rows, dvs, nf):
    """lf_j += sum_f J[rows[f], j] dvs[f] for every j, the terms added one by one in the order f = 0 ..
    nf - 1 (the sequential kernel's order, hence its roundings); sixteen rows (then eight, four, one) are
    streamed at a time, so the field vector is read and written once per sixteen rows and enough rows are
    in flight to keep the memory busy.

    ``dvs`` are +-2, so every product J_ij dv is exact and a fused multiply-add (``contract``) rounds
    exactly as the multiply and then the add: the same numbers, fewer instructions."""
    f = 0
    while f + 16 <= nf:
        a0 = J[rows[f]]
        a1 = J[rows[f + 1]]
        a2 = J[rows[f + 2]]
        a3 = J[rows[f + 3]]
        a4 = J[rows[f + 4]]
        a5 = J[rows[f + 5]]
        a6 = J[rows[f + 6]]
        a7 = J[rows[f + 7]]
        a8 = J[rows[f + 8]]
        a9 = J[rows[f + 9]]
        a10 = J[rows[f + 10]]
        a11 = J[rows[f + 11]]
        a12 = J[rows[f + 12]]
        a13 = J[rows[f + 13]]
        a14 = J[rows[f + 14]]
        a15 = J[rows[f + 15]]
        d0 = dvs[f]
        d1 = dvs[f + 1]
        d2 = dvs[f + 2]
        d3 = dvs[f + 3]
        d4 = dvs[f + 4]
        d5 = dvs[f + 5]
        d6 = dvs[f + 6]
        d7 = dvs[f + 7]
        d8 = dvs[f + 8]
        d9 = dvs[f + 9]
        d10 = dvs[f + 10]
        d11 = dvs[f + 11]
        d12 = dvs[f + 12]
        d13 = dvs[f + 13]
        d14 = dvs[f + 14]
        d15 = dvs[f + 15]
        for j in range(lfc.size):
            t = lfc[j]
            t += a0[j] * d0
            t += a1[j] * d1
            t += a2[j] * d2
            t += a3[j] * d3
            t += a4[j] * d4
            t += a5[j] * d5
            t += a6[j] * d6
            t += a7[j] * d7
            t += a8[j] * d8
            t += a9[j] * d9
            t += a10[j] * d10
            t += a11[j] * d11
            t += a12[j] * d12
            t += a13[j] * d13
            t += a14[j] * d14
            t += a15[j] * d15
            lfc[j] = t
        f += 16
    while f + 8 <= nf:
        a0 = J[rows[f]]
        a1 = J[rows[f + 1]]
        a2 = J[rows[f + 2]]
        a3 = J[rows[f + 3]]
        a4 = J[rows[f + 4]]
        a5 = J[rows[f + 5]]
        a6 = J[rows[f + 6]]
        a7 = J[rows[f + 7]]
        d0 = dvs[f]
        d1 = dvs[f + 1]
        d2 = dvs[f + 2]
        d3 = dvs[f + 3]
        d4 = dvs[f + 4]
        d5 = dvs[f + 5]
        d6 = dvs[f + 6]
        d7 = dvs[f + 7]
        for j in range(lfc.size):
            t = lfc[j]
            t += a0[j] * d0
            t += a1[j] * d1
            t += a2[j] * d2
            t += a3[j] * d3
            t += a4[j] * d4
            t += a5[j] * d5
            t += a6[j] * d6
            t += a7[j] * d7
            lfc[j] = t
        f += 8
    while f + 4 <= nf:
        a0 = J[rows[f]]
        a1 = J[rows[f + 1]]
        a2 = J[rows[f + 2]]
        a3 = J[rows[f + 3]]
        d0 = dvs[f]
        d1 = dvs[f + 1]
        d2 = dvs[f + 2]
        d3 = dvs[f + 3]
        for j in range(lfc.size):
            t = lfc[j]
            t += a0[j] * d0
            t += a1[j] * d1
            t += a2[j] * d2
            t += a3[j] * d3
            lfc[j] = t
        f += 4
    while f < nf:
        a0 = J[rows[f]]
        d0 = dvs[f]
        for j in range(lfc.size):
            lfc[j] += a0[j] * d0
        f += 1


@njit(cache=True, nogil=True)
def dense_blocked_sweeps(s, lf, energy, sums, J, Jd, h, logp, ref, betas, rng, n_sweeps, heat_bath, max_field, trace,
                         accepted):
    r"""Dense ``binary_pairwise_sweeps`` with a delayed (blocked) local-field update: the same chain.

    The sweep is cut into blocks B = [i0, i0 + k) (k = ``Jd.shape[1]``; ``DENSE_BLOCK`` in the samplers).
    Sites of B are decided in order, each with its current field, read from a copy ``near`` of the fields
    of B made at the start of the block: lf_j plus the terms J_pj dv_p of the flips p still pending
    (accepted in earlier blocks, not yet applied to lf), in flip order; an accepted flip of site i then
    updates at once only that copy (near_j += J_ij dv, j in B: the k x k diagonal block of J) and joins
    the pending flips.  At the end of a block, whole groups of ``FLUSH_ROWS`` pending flips (the oldest
    first) update every field, lf_j += sum_p J_pj dv_p (``_delayed_rows``: the rows streamed side by side,
    the field vector read and written once per sixteen rows instead of once per row); the others wait for
    the next block, and none is left at the end of a sweep.  Every field receives the terms of the
    sequential kernel in its order (floating-point additions in flip order, from the same start), so
    ``near`` equals the sequential fields of B at every decision, lf equals them after each sweep, and the
    chain, the fields and the traces are those of ``binary_pairwise_sweeps`` bit for bit.

    ``Jd`` = ``diagonal_blocks(J, k)``: the diagonal blocks J[B, B] stored one after the other, so that
    the decisions read them as one sequential stream (J's rows are then read only by the grouped update,
    whose streams the hardware prefetcher follows undisturbed); the same values, so no number changes.
    Bytes streamed: each accepted row once (8n bytes, 4n with float32), the block-sized pieces read while
    it is pending being parts of it; ``Jd`` once per sweep (8 n k bytes, 4 n k with float32); the field
    vector (8n bytes) and ``near`` stay in cache.

    ``J`` (n, n) float64, or float32 (``coupling_dtype="float32"``: half the bytes streamed per accepted
    flip; the terms J_ij dv are formed in float64, so the chain is the float64 kernel's on the couplings
    rounded to float32).  Other arguments as ``binary_pairwise_sweeps``.
    """
    C, n = s.shape
    block = Jd.shape[1]
    dlp0 = logp[1] - logp[0]
    dlp1 = logp[0] - logp[1]
    rows = np.empty(block + FLUSH_ROWS, dtype=np.int64)  # the pending flips: sites and dv, in flip order
    dvs = np.empty(block + FLUSH_ROWS, dtype=np.float64)
    near = np.empty(block, dtype=np.float64)
    for c in range(C):
        beta = betas[c]
        use_table = max_field >= 0 and logp[0] == logp[1] and not heat_bath and beta > 0.0
        table = acceptance_table(beta, max_field if use_table else 0)
        r0 = rng[c, 0]
        r1 = rng[c, 1]
        r2 = rng[c, 2]
        r3 = rng[c, 3]
        sc = s[c]
        lfc = lf[c]
        e = energy[c]
        m1 = sums[c, 0]
        m2 = sums[c, 1]
        acc = 0
        for sweep in range(n_sweeps):
            nf = 0
            for i0 in range(0, n, block):
                i1 = min(i0 + block, n)
                for j in range(i0, i1):
                    near[j - i0] = lfc[j]
                for p in range(nf):  # flips still pending from earlier blocks, in flip order
                    Jp = J[rows[p]]
                    d = dvs[p]
                    for j in range(i0, i1):
                        near[j - i0] += Jp[j] * d
                Db = Jd[i0 // block]
                for i in range(i0, i1):
                    # the decision of binary_pairwise_sweeps, on the field of site i
                    a = sc[i]
                    field = near[i - i0] + h[i]
                    if heat_bath:
                        w0 = logp[0] - beta * field
                        w1 = logp[1] - beta * (-field)
                        best = -np.inf
                        if w0 > best:
                            best = w0
                        if w1 > best:
                            best = w1
                        w0 = np.exp(w0 - best)
                        w1 = np.exp(w1 - best)
                        total = 0.0
                        total += w0
                        total += w1
                        u, r0, r1, r2, r3 = xoshiro_next(r0, r1, r2, r3)
                        rr = u * total
                        b = 0 if rr < w0 else 1
                        if b == a:
                            continue
                    else:
                        b = 1 - a
                    dv = 2.0 - 4.0 * a
                    dE = -dv * field
                    if not heat_bath:
                        if use_table:
                            if dE > 0.0:
                                u, r0, r1, r2, r3 = xoshiro_next(r0, r1, r2, r3)
                                if u >= table[int(dE)]:
                                    continue
                        else:
                            dlogw = (dlp0 if a == 0 else dlp1) - beta * dE
                            if dlogw < 0.0:
                                u, r0, r1, r2, r3 = xoshiro_next(r0, r1, r2, r3)
                                if u >= np.exp(dlogw):
                                    continue
                            elif dlogw == 0.0 and beta == 0.0:
                                u, r0, r1, r2, r3 = xoshiro_next(r0, r1, r2, r3)
                                if u < 0.5:
                                    continue
                    Di = Db[i - i0]
                    for j in range(i1 - i0):
                        near[j] += Di[j] * dv
                    rows[nf] = i
                    dvs[nf] = dv
                    nf += 1
                    sc[i] = b
                    e += dE
                    m1 += dv
                    m2 += dv * ref[i]
                    acc += 1
                if nf >= FLUSH_ROWS:  # whole groups of FLUSH_ROWS pending flips to every field, the rest waits
                    done = nf - nf % FLUSH_ROWS
                    _delayed_rows(lfc, J, rows, dvs, done)
                    for p in range(done, nf):
                        rows[p - done] = rows[p]
                        dvs[p - done] = dvs[p]
                    nf -= done
            _delayed_rows(lfc, J, rows, dvs, nf)
            trace[c, 0, sweep] = e
            trace[c, 1, sweep] = m1
            trace[c, 2, sweep] = m2
        energy[c] = e
        sums[c, 0] = m1
        sums[c, 1] = m2
        accepted[c] += acc
        rng[c, 0] = r0
        rng[c, 1] = r1
        rng[c, 2] = r2
        rng[c, 3] = r3


def diagonal_blocks(J: np.ndarray, block: int) -> np.ndarray:
    """(ceil(n / block), block, block) array in J's dtype: entry b is J[B, B], B = [b block, (b + 1) block),
    zero-padded past n (the ``Jd`` of ``dense_blocked_sweeps``; n block entries, a small fraction of J)."""
    n = J.shape[0]
    nb = -(-n // block)
    out = np.zeros((nb, block, block), dtype=J.dtype)
    for b in range(nb):
        i0, i1 = b * block, min((b + 1) * block, n)
        out[b, :i1 - i0, :i1 - i0] = J[i0:i1, i0:i1]
    return out


@njit(cache=True, nogil=True)
def dense_local_fields(x, J):
    """lf[c, j] = sum_i x[c, i] J[i, j] accumulated in float64 in the order i = 0 .. n - 1 (J float64 or
    float32; the initial fields of the float32 option, without a float64 copy of J)."""
    C, n = x.shape
    lf = np.zeros((C, n))
    for c in range(C):
        lc = lf[c]
        for i in range(n):
            xi = x[c, i]
            Ji = J[i]
            for j in range(n):
                lc[j] += Ji[j] * xi
    return lf
