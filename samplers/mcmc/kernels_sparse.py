r"""numba kernels for the Potts / colouring and NAE-SAT models (energies count violated constraints).

Potts: ``counts[c, i, b]`` = number of neighbours of i with colour b, kept incrementally; moving i from a
to b changes the energy by counts[i, b] - counts[i, a].  NAE-SAT: ``npos[c, m]`` = number of literals of
clause m equal to +1, kept incrementally; clause m is violated when npos is 0 or k.

Metropolis accepts with probability min(1, exp(-beta dE)); at beta = inf it accepts dE < 0, rejects
dE > 0 and accepts dE = 0 with probability 1/2 (a lazy step: with the deterministic proposal of a binary
variable, accepting every tie would make the sweep a deterministic map of the state); heat bath draws the
new value with probability ∝ exp(-beta E(b)), which at beta = inf is uniform over the values of minimal
energy (the beta -> inf limit).  Sweeps visit sites in order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rng import categorical, next_double


@njit(cache=True, inline="always")
def _accept(dE, beta, rng, c):
    if dE < 0.0:
        return True
    if np.isinf(beta):  # lazy on ties: keeps the flip chain random (and aperiodic) on the solution set
        return dE == 0.0 and next_double(rng, c) < 0.5
    if dE == 0.0:
        return True
    return next_double(rng, c) < np.exp(-beta * dE)


@njit(cache=True, nogil=True)
def potts_sweeps(s, counts, energy, indptr, indices, q, betas, rng, n_sweeps, heat_bath, trace, accepted):
    """Sweeps of single-site updates for the antiferromagnetic Potts model on a CSR graph.

    trace[c, 0, k] = energy after sweep k.
    """
    C, n = s.shape
    w = np.empty(q)
    for c in range(C):
        beta = betas[c]
        cnt = counts[c]
        for sweep in range(n_sweeps):
            for i in range(n):
                a = s[c, i]
                if heat_bath:
                    lowest = cnt[i, 0]
                    for b in range(1, q):
                        if cnt[i, b] < lowest:
                            lowest = cnt[i, b]
                    total = 0.0
                    for b in range(q):
                        d = cnt[i, b] - lowest
                        if np.isinf(beta):
                            w[b] = 1.0 if d == 0 else 0.0
                        else:
                            w[b] = np.exp(-beta * d)
                        total += w[b]
                    b = categorical(w, total, next_double(rng, c))
                else:
                    b = (a + 1 + int(next_double(rng, c) * (q - 1))) % q
                    if not _accept(float(cnt[i, b] - cnt[i, a]), beta, rng, c):
                        b = a
                if b != a:
                    energy[c] += cnt[i, b] - cnt[i, a]
                    for k in range(indptr[i], indptr[i + 1]):
                        j = indices[k]
                        cnt[j, a] -= 1
                        cnt[j, b] += 1
                    s[c, i] = b
                    accepted[c] += 1
            trace[c, 0, sweep] = energy[c]


@njit(cache=True)
def potts_counts(s, indptr, indices, q):
    """counts[c, i, b] and the energies (number of monochromatic edges) of every chain."""
    C, n = s.shape
    counts = np.zeros((C, n, q), dtype=np.int32)
    energy = np.zeros(C)
    for c in range(C):
        for i in range(n):
            for k in range(indptr[i], indptr[i + 1]):
                counts[c, i, s[c, indices[k]]] += 1
        e = 0
        for i in range(n):
            e += counts[c, i, s[c, i]]
        energy[c] = e // 2
    return counts, energy


@njit(cache=True, inline="always")
def _violated(m, k):
    return 1 if (m == 0 or m == k) else 0


@njit(cache=True, nogil=True)
def naesat_sweeps(s, npos, energy, sums, inc_ptr, inc_clause, inc_sign, k, ref, betas, rng, n_sweeps, heat_bath,
                  trace, accepted):
    """Single-spin-flip sweeps for NAE-SAT; s holds 0 (x = -1) or 1 (x = +1).

    trace[c, :, k] = (energy, sum_i x_i, sum_i x_i ref_i) after sweep k, the sums kept in ``sums``.
    """
    C, n = s.shape
    for c in range(C):
        beta = betas[c]
        for sweep in range(n_sweeps):
            for i in range(n):
                x = 2 * s[c, i] - 1
                dE = 0
                for t in range(inc_ptr[i], inc_ptr[i + 1]):
                    m = inc_clause[t]
                    old = npos[c, m]
                    new = old - 1 if inc_sign[t] * x > 0 else old + 1
                    dE += _violated(new, k) - _violated(old, k)
                if heat_bath:
                    if np.isinf(beta):
                        flip_p = 1.0 if dE < 0 else (0.5 if dE == 0 else 0.0)
                    else:
                        flip_p = 1.0 / (1.0 + np.exp(beta * dE))
                    flip = next_double(rng, c) < flip_p
                else:
                    flip = _accept(float(dE), beta, rng, c)
                if flip:
                    for t in range(inc_ptr[i], inc_ptr[i + 1]):
                        m = inc_clause[t]
                        if inc_sign[t] * x > 0:
                            npos[c, m] -= 1
                        else:
                            npos[c, m] += 1
                    s[c, i] = 1 - s[c, i]
                    energy[c] += dE
                    sums[c, 0] -= 2 * x
                    sums[c, 1] -= 2 * x * ref[i]
                    accepted[c] += 1
            trace[c, 0, sweep] = energy[c]
            trace[c, 1, sweep] = sums[c, 0]
            trace[c, 2, sweep] = sums[c, 1]


@njit(cache=True)
def naesat_counts(s, clauses, signs):
    """npos[c, m] (literals equal to +1 in clause m) and the energies of every chain."""
    C = s.shape[0]
    M, k = clauses.shape
    npos = np.zeros((C, M), dtype=np.int32)
    energy = np.zeros(C)
    for c in range(C):
        e = 0
        for m in range(M):
            cnt = 0
            for r in range(k):
                if signs[m, r] * (2 * s[c, clauses[m, r]] - 1) > 0:
                    cnt += 1
            npos[c, m] = cnt
            e += _violated(cnt, k)
        energy[c] = e
    return npos, energy


@njit(cache=True)
def tempering_swaps(perm, betas, energy, ladder, rng, parity, attempted, swapped):
    """Replica-exchange moves between adjacent temperatures r, r+1 (r of the given parity).

    perm[c, r] is the replica at temperature ladder[r] in tempering chain c; betas[replica] is kept in
    sync.  A swap is accepted with probability min(1, exp((beta_r - beta_{r+1}) (E_r - E_{r+1}))), equal
    energies always swapping (also at beta = inf).
    """
    C, R = perm.shape
    for c in range(C):
        for r in range(parity, R - 1, 2):
            a = perm[c, r]
            b = perm[c, r + 1]
            attempted[r] += 1
            de = energy[a] - energy[b]
            if de == 0.0:
                ok = True
            else:
                x = (ladder[r] - ladder[r + 1]) * de
                ok = x >= 0.0 or next_double(rng, c) < np.exp(x)
            if ok:
                perm[c, r] = b
                perm[c, r + 1] = a
                betas[a] = ladder[r + 1]
                betas[b] = ladder[r]
                swapped[r] += 1
