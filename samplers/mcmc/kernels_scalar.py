r"""numba kernel for scalar models: single-site Metropolis and heat-bath sweeps on many chains.

State of chain c: ``s[c, i]`` alphabet index of x_i; ``lf[c, i] = sum_j J_ij x_j`` (pairwise) or
``sum_{e ∋ i} w_e prod_{j in e, j != i} x_j`` (p-body), kept incrementally; ``gsym[c, t, k]`` the
elementary symmetric polynomials e_k(x^{r_t}), k = 0..p_t, of each global term; ``energy[c]``.

For site i at value a, the energy of putting value b there (up to an i-independent constant) is

    eps(b) = -v_b (lf_i + h_i) + sum_t c_t v_b^{r_t} e_{p_t - 1}(x^{r_t} without i),

with e_k(without i) = e_k - u e_{k-1}(without i), u = v_a^{r_t}.  Metropolis proposes b uniformly among
the other values and accepts with probability min(1, p0(b)/p0(a) exp(-beta (eps(b) - eps(a)))); heat bath
draws b from p0(b) exp(-beta eps(b)) / norm.  At beta = 0 a Metropolis move with no change in log weight
is accepted with probability 1/2 (a lazy step): otherwise a binary uniform-prior chain would flip every
spin every sweep, a periodic chain.  A sweep visits sites 0..n-1 in order (each update satisfies
detailed balance, so the sweep leaves mu invariant).

One kernel serves the three coupling layouts (``KIND_DENSE``, ``KIND_CSR``, ``KIND_PSPIN``); they differ
only in how an accepted move updates the local fields.  Arrays of the unused layouts are passed empty.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import categorical, next_double

KIND_DENSE, KIND_CSR, KIND_PSPIN = 0, 1, 2


@njit(cache=True, nogil=True)
def scalar_sweeps(kind, s, lf, gsym, energy, sums, J, indptr, indices, data, edges, weights, h, vals, logp, vpow,
                  gcoef, gorder, ref, betas, rng, n_sweeps, heat_bath, trace, accepted):
    """Run ``n_sweeps`` sweeps on every chain; accepted[c] += accepted moves.

    ``sums[c] = (sum_i x_i, sum_i x_i ref_i)`` are kept incrementally; after sweep k,
    trace[c, :, k] = (energy, sum_i x_i, sum_i x_i ref_i).
    """
    C, n = s.shape
    K = vals.size
    T = gorder.size
    p = edges.shape[1]
    em = np.zeros((T, gsym.shape[2]))
    w = np.empty(K)
    for c in range(C):
        beta = betas[c]
        for sweep in range(n_sweeps):
            for i in range(n):
                a = s[c, i]
                field = lf[c, i] + h[i]
                for t in range(T):  # e_k of the global terms without site i
                    u = vpow[t, a]
                    em[t, 0] = 1.0
                    for k in range(1, gorder[t] + 1):
                        em[t, k] = gsym[c, t, k] - u * em[t, k - 1]
                if heat_bath:
                    best = -np.inf
                    for b in range(K):
                        eb = -vals[b] * field
                        for t in range(T):
                            eb += gcoef[t] * vpow[t, b] * em[t, gorder[t] - 1]
                        w[b] = logp[b] - beta * eb
                        if w[b] > best:
                            best = w[b]
                    total = 0.0
                    for b in range(K):
                        w[b] = np.exp(w[b] - best)
                        total += w[b]
                    b = categorical(w, total, next_double(rng, c))
                    if b == a:
                        continue
                else:
                    b = 1 - a if K == 2 else (a + 1 + int(next_double(rng, c) * (K - 1))) % K
                dv = vals[b] - vals[a]
                dE = -dv * field
                for t in range(T):
                    dE += gcoef[t] * (vpow[t, b] - vpow[t, a]) * em[t, gorder[t] - 1]
                if not heat_bath:
                    dlogw = logp[b] - logp[a] - beta * dE
                    if dlogw < 0.0:
                        if next_double(rng, c) >= np.exp(dlogw):
                            continue
                    elif dlogw == 0.0 and beta == 0.0 and next_double(rng, c) < 0.5:
                        continue  # lazy step at beta = 0 (see module docstring)
                # accept a -> b
                if kind == KIND_DENSE:
                    for j in range(n):
                        lf[c, j] += J[i, j] * dv
                elif kind == KIND_CSR:
                    for k in range(indptr[i], indptr[i + 1]):
                        lf[c, indices[k]] += data[k] * dv
                else:
                    for k in range(indptr[i], indptr[i + 1]):
                        e = indices[k]
                        for r1 in range(p):
                            j = edges[e, r1]
                            if j == i:
                                continue
                            prod = weights[e] * dv
                            for r2 in range(p):
                                jj = edges[e, r2]
                                if jj != i and jj != j:
                                    prod *= vals[s[c, jj]]
                            lf[c, j] += prod
                for t in range(T):
                    v = vpow[t, b]
                    for k in range(1, gorder[t] + 1):
                        gsym[c, t, k] = em[t, k] + v * em[t, k - 1]
                s[c, i] = b
                energy[c] += dE
                sums[c, 0] += dv
                sums[c, 1] += dv * ref[i]
                accepted[c] += 1
            trace[c, 0, sweep] = energy[c]
            trace[c, 1, sweep] = sums[c, 0]
            trace[c, 2, sweep] = sums[c, 1]


@njit(cache=True)
def global_symmetric(s, vpow, gorder, pmax):
    """gsym[c, t, k] = e_k(x^{r_t}) for every chain, by e_k <- e_k + w_i e_{k-1}."""
    C, n = s.shape
    T = gorder.size
    gsym = np.zeros((C, T, pmax + 1))
    for c in range(C):
        for t in range(T):
            gsym[c, t, 0] = 1.0
            for i in range(n):
                w = vpow[t, s[c, i]]
                for k in range(gorder[t], 0, -1):
                    gsym[c, t, k] += w * gsym[c, t, k - 1]
    return gsym


@njit(cache=True)
def pspin_local_fields(s, vals, edges, weights, n):
    """lf[c, i] = sum_{e ∋ i} w_e prod_{j in e, j != i} x_j."""
    C = s.shape[0]
    M, p = edges.shape
    lf = np.zeros((C, n))
    for c in range(C):
        for e in range(M):
            for r in range(p):
                prod = weights[e]
                for rr in range(p):
                    if rr != r:
                        prod *= vals[s[c, edges[e, rr]]]
                lf[c, edges[e, r]] += prod
    return lf
