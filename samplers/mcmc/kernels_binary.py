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
