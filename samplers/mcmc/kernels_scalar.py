r"""numba kernels for scalar models: single-site Metropolis and heat-bath sweeps on many chains.

State of chain c: ``s[c, i]`` alphabet index of x_i; ``lf[c, i] = sum_j J_ij x_j`` (pairwise) or
``sum_{e ∋ i} w_e prod_{j in e, j != i} x_j`` (p-body), kept incrementally; ``gsym[c, t, k]`` the
elementary symmetric polynomials e_k(x^{r_t}), k = 0..p_t, of each global term; ``energy[c]``.

For site i at value a, the energy of putting value b there (up to an i-independent constant) is

    eps(b) = -v_b (lf_i + h_i) + sum_t c_t v_b^{r_t} e_{p_t - 1}(x^{r_t} without i),

with e_k(without i) = e_k - u e_{k-1}(without i), u = v_a^{r_t}.  Metropolis proposes b uniformly among
the other values and accepts with probability min(1, p0(b)/p0(a) exp(-beta (eps(b) - eps(a)))); heat bath
draws b from p0(b) exp(-beta eps(b)) / norm.  A sweep visits sites 0..n-1 in order (each update satisfies
detailed balance, so the sweep leaves mu invariant).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import next_double


@njit(cache=True)
def _global_minus_i(gsym_c, vpow, gorder, a, em):
    """em[t, k] = e_k(x^{r_t} without the site holding value index a)."""
    for t in range(gorder.size):
        u = vpow[t, a]
        em[t, 0] = 1.0
        for k in range(1, gorder[t] + 1):
            em[t, k] = gsym_c[t, k] - u * em[t, k - 1]


@njit(cache=True)
def _eps(b, field, vals, vpow, gcoef, gorder, em):
    e = -vals[b] * field
    for t in range(gorder.size):
        e += gcoef[t] * vpow[t, b] * em[t, gorder[t] - 1]
    return e


@njit(cache=True)
def _choose(a, field, beta, vals, logp, vpow, gcoef, gorder, em, logw, rng, c, heat_bath):
    """Pick the new value index b at a site (may equal a); returns (b, dE)."""
    K = vals.size
    if heat_bath:
        best = -np.inf
        for b in range(K):
            logw[b] = logp[b] - beta * _eps(b, field, vals, vpow, gcoef, gorder, em)
            if logw[b] > best:
                best = logw[b]
        total = 0.0
        for b in range(K):
            logw[b] = np.exp(logw[b] - best)
            total += logw[b]
        u = next_double(rng, c) * total
        b = K - 1
        acc = 0.0
        for bb in range(K):
            acc += logw[bb]
            if u < acc:
                b = bb
                break
    else:
        if K == 2:
            b = 1 - a
        else:
            b = (a + 1 + int(next_double(rng, c) * (K - 1))) % K
        ea = _eps(a, field, vals, vpow, gcoef, gorder, em)
        eb = _eps(b, field, vals, vpow, gcoef, gorder, em)
        dlogw = logp[b] - logp[a] - beta * (eb - ea)
        if dlogw < 0.0 and next_double(rng, c) >= np.exp(dlogw):
            return a, 0.0
        return b, eb - ea
    if b == a:
        return a, 0.0
    return b, _eps(b, field, vals, vpow, gcoef, gorder, em) - _eps(a, field, vals, vpow, gcoef, gorder, em)


@njit(cache=True)
def _accept_global(gsym_c, vpow, gorder, b, em):
    for t in range(gorder.size):
        v = vpow[t, b]
        for k in range(1, gorder[t] + 1):
            gsym_c[t, k] = em[t, k] + v * em[t, k - 1]


@njit(cache=True)
def pairwise_dense_sweeps(s, lf, gsym, energy, J, h, vals, logp, vpow, gcoef, gorder, betas, rng,
                          n_sweeps, heat_bath, trace, accepted):
    """Run ``n_sweeps`` sweeps on every chain of a dense pairwise model; trace[c, k] = energy after sweep k."""
    C, n = s.shape
    em = np.zeros((gorder.size, gsym.shape[2]))
    logw = np.empty(vals.size)
    for c in range(C):
        beta = betas[c]
        for sweep in range(n_sweeps):
            for i in range(n):
                a = s[c, i]
                _global_minus_i(gsym[c], vpow, gorder, a, em)
                b, dE = _choose(a, lf[c, i] + h[i], beta, vals, logp, vpow, gcoef, gorder, em, logw, rng, c,
                                heat_bath)
                if b != a:
                    dv = vals[b] - vals[a]
                    row = J[i]
                    lfc = lf[c]
                    for j in range(n):
                        lfc[j] += row[j] * dv
                    _accept_global(gsym[c], vpow, gorder, b, em)
                    s[c, i] = b
                    energy[c] += dE
                    accepted[c] += 1
            trace[c, sweep] = energy[c]


@njit(cache=True)
def pairwise_csr_sweeps(s, lf, gsym, energy, indptr, indices, data, h, vals, logp, vpow, gcoef, gorder,
                        betas, rng, n_sweeps, heat_bath, trace, accepted):
    """As ``pairwise_dense_sweeps`` for couplings in CSR form (indptr, indices, data)."""
    C, n = s.shape
    em = np.zeros((gorder.size, gsym.shape[2]))
    logw = np.empty(vals.size)
    for c in range(C):
        beta = betas[c]
        for sweep in range(n_sweeps):
            for i in range(n):
                a = s[c, i]
                _global_minus_i(gsym[c], vpow, gorder, a, em)
                b, dE = _choose(a, lf[c, i] + h[i], beta, vals, logp, vpow, gcoef, gorder, em, logw, rng, c,
                                heat_bath)
                if b != a:
                    dv = vals[b] - vals[a]
                    for k in range(indptr[i], indptr[i + 1]):
                        lf[c, indices[k]] += data[k] * dv
                    _accept_global(gsym[c], vpow, gorder, b, em)
                    s[c, i] = b
                    energy[c] += dE
                    accepted[c] += 1
            trace[c, sweep] = energy[c]


@njit(cache=True)
def pspin_sweeps(s, lf, gsym, energy, edges, weights, inc_ptr, inc_edge, h, vals, logp, vpow, gcoef, gorder,
                 betas, rng, n_sweeps, heat_bath, trace, accepted):
    """Sweeps for a p-body model with hyperedges ``edges`` (M, p) and variable->edge incidence CSR."""
    C, n = s.shape
    p = edges.shape[1]
    em = np.zeros((gorder.size, gsym.shape[2]))
    logw = np.empty(vals.size)
    for c in range(C):
        beta = betas[c]
        for sweep in range(n_sweeps):
            for i in range(n):
                a = s[c, i]
                _global_minus_i(gsym[c], vpow, gorder, a, em)
                b, dE = _choose(a, lf[c, i] + h[i], beta, vals, logp, vpow, gcoef, gorder, em, logw, rng, c,
                                heat_bath)
                if b != a:
                    dv = vals[b] - vals[a]
                    for k in range(inc_ptr[i], inc_ptr[i + 1]):
                        e = inc_edge[k]
                        for r in range(p):
                            j = edges[e, r]
                            if j == i:
                                continue
                            prod = weights[e] * dv
                            for rr in range(p):
                                jj = edges[e, rr]
                                if jj != i and jj != j:
                                    prod *= vals[s[c, jj]]
                            lf[c, j] += prod
                    _accept_global(gsym[c], vpow, gorder, b, em)
                    s[c, i] = b
                    energy[c] += dE
                    accepted[c] += 1
            trace[c, sweep] = energy[c]


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
