r"""Cavity population dynamics for the planted sparse ensembles (PHYSICS.md §1, §4 "Sparse graphs").

Two ensembles, both in the large-n limit of ``spinglass.sparse``:

* planted q-colouring / planted Potts on Erdős–Rényi graphs of average degree c at inverse temperature
  beta (beta = inf: proper colourings; finite beta: an edge between equal colours is kept with relative
  weight e = exp(-beta));
* planted k-NAE-SAT / hypergraph bicolouring at clause density alpha (a clause whose literals are all
  equal under the planted configuration is kept with relative weight e = exp(-beta)).

Planted (Nishimori) population dynamics
---------------------------------------
On a sparse planted graph the neighbourhood of a variable is a Galton–Watson tree whose planted values
are a broadcast process: a node has Poisson(c) neighbours (the excess degree of a Poisson law is again
Poisson), and given the node's planted colour s a neighbour's planted colour s' has probability
w(s, s') / sum_{s''} w(s, s'') with w(s, s') = e^{-beta 1[s = s']}, i.e. P(s' = s) = e/(q - 1 + e) and
P(s' = a) = 1/(q - 1 + e) for each a != s.  The distribution of BP messages conditioned on the planted
value is the fixed point of the cavity recursion on this tree.  By colour symmetry every message is
stored *conditioned on planted colour 0*: a child of planted colour a is represented by a population
member with colours 0 and a swapped (a permutation mapping 0 to a; the law conditioned on colour 0 is
invariant under the permutations that fix 0).  One update (Potts, eq. (1) of ``samplers.denoisers.bp``):

    d ~ Poisson(c),  for l = 1..d: draw a member psi_l and a child colour a_l given parent colour 0,
    h_l(sigma) = sum_{tau} w(sigma, tau) psi_l(pi_l(tau)),     psi_new(sigma) ∝ prod_l h_l(sigma).

NAE-SAT uses the literal gauge: a member is p = (P(x = -x*), P(x = x*)).  A variable has Poisson(k alpha)
clauses; in each the planted literal pattern (L*_1..L*_k) is uniform over {±1}^k with the two all-equal
patterns weighted e; relative to a target of planted literal +1 the other k - 1 planted literals are
uniform with the all-(+1) pattern weighted e.  The clause message is eq. (2) of ``samplers.denoisers.bp``
with t_j = P(L_j = +1) read from member j and its planted literal.  Signed NAE-SAT and unsigned
hypergraph bicolouring have the same equations (the literal pattern law is the same).

Starts: ``init="informed"`` puts every member on the planted value (psi = delta_0, p = (0, 1)); this
follows the informed / Bayes-optimal branch.  ``init="uninformed"`` starts from the uniform message plus
noise of amplitude ``noise`` (the paramagnetic fixed point is exact for the symmetric ensemble, so noise
is needed to leave it where it is unstable, i.e. above Kesten–Stigum).  NAE-SAT and q = 2 Potts are
also symmetric under the global flip of the planted value, which commutes with the conditioned
recursion: the branch reached from the uninformed start is then defined up to that flip and is
oriented towards the planted value.

Observables (averaged over the last ``measure`` sweeps; error bar = standard deviation over those sweeps
/ sqrt(measure), which ignores the correlation between consecutive sweeps):

* ``overlap`` = E[(q b(s*) - 1)/(q - 1)] (Potts) or E[2 b(x*) - 1] (NAE-SAT), the mean overlap of the
  BP marginal b with the planted value (in a Poisson graph the full-node marginal has the law of the
  cavity message, so b is a population member); ``overlap_map`` = the same normalisation of
  P(argmax b = s*) (ties, i.e. entries within a relative 1e-9 of the largest, shared), the accuracy of
  the MAP estimate.
* ``free_entropy``: Bethe free entropy per variable of the planted graph's Gibbs measure (counting
  measure, log Z / n), MM ch. 14:

    Potts:    Phi = E[log Z_i] - (c/2) E[log Z_ij],   Z_i = sum_sigma prod_{l=1}^{d} h_l(sigma),
              Z_ij = sum_sigma psi_1(sigma) h_2(sigma)  (the two ends of a planted edge);
    NAE-SAT:  Phi = E[log Z_i] + alpha E[log Z_a] - k alpha E[log Z_ia]  (Z_a, Z_ia as in the BP module).

  The edge terms are evaluated on the node that is being updated: with Z_{i->l} = sum_sigma
  prod_{l' != l} h_{l'}(sigma) the normaliser of the cavity message towards neighbour l, Z_il = Z_i / Z_{i->l}
  (the same identity holds for NAE-SAT with the normalised clause messages), so

    Potts:    Phi = E[(1 - d/2) log Z_i + (1/2) sum_{l=1}^{d} log Z_{i->l}],
    NAE-SAT:  Phi = E[(1 - d) log Z_i + sum_{a=1}^{d} log Z_{i->a}] + alpha E[log Z_a],

  an unbiased rewriting (the excess degree of a Poisson law is Poisson) whose terms are strongly
  correlated within a node, so that the sample variance is far smaller than that of the separate terms.
  It is reported as Phi_para + Delta Phi, where the paramagnetic (annealed) value is exact,

    Phi_para = log q + (c/2) log(1 - (1 - e)/q)               (Potts),
    Phi_para = log 2 + alpha log(1 - 2^{1-k} (1 - e))         (NAE-SAT),

  and Delta Phi is the sample mean of each node's (and clause's) term minus its paramagnetic value at
  the same degree d, which removes the Poisson fluctuations of the degree from the error bar.  Every
  member update of a measured sweep contributes one node term (and, for NAE-SAT, one clause term built
  from k random members with a random planted pattern).

Side information (NAE-SAT: the generative denoising paths, PHYSICS.md §2)
------------------------------------------------------------------------
``naesat_population_dynamics(..., side_snr=gamma, revealed_fraction=theta)`` adds a node factor psi_i to
every variable, in the planted gauge (x = +1 is the planted value):

* Gaussian channel (diffusion / flow path): y_i = gamma x*_i + sqrt(gamma) z_i gives the tilt e^{y_i x_i}
  (the -gamma |x|^2 / 2 term is constant for x = ±1), i.e. psi_i(x) = e^{h_i x} with
  h_i = gamma + sqrt(gamma) z_i in the gauge.  A fresh h (z ~ N(0, 1), Box–Muller) is drawn every time a
  member is recomputed: the field is part of the random tree environment;
* erasure channel (autoregressive path): with probability theta a variable is revealed,
  psi_i(x) = 1[x = +1]; a recomputed member is then exactly (0, 1) (no clause is drawn for it).

The member update becomes m(x) ∝ psi(x) prod_{a=1}^{d} mhat_a(x).  The Bethe free entropy keeps the form
above with psi inside every variable normaliser,

    Z_i = sum_x psi_i(x) prod_{a=1}^{d} mhat_a(x),     Z_{i->a} = sum_x psi_i(x) prod_{b != a} mhat_b(x),
    Phi = E[(1 - d) log Z_i + sum_{a=1}^{d} log Z_{i->a}] + alpha E[log Z_a],

where Z_a is built from members, which already carry their own psi (Z_ia = Z_i / Z_{i->a} still holds with
m_{i->a} ∝ psi_i prod_{b != a} mhat_b).  For a revealed variable Z_i = prod_a mhat_a(+1) and
Z_{i->a} = prod_{b != a} mhat_b(+1), so its node term (1 - d) log Z_i + sum_a log Z_{i->a} is exactly 0:
revealed variables enter only through the clause terms (their members are (0, 1)).  This is
log Z / n of Z = sum_x [solutions] · prod_i psi_i(x_i) (planted gauge), the quantity whose two branches are
compared on the IT line.  The node terms are measured from the reference log 2cosh h_i (Gaussian; the
node term at uniform clause messages, whose mean E_z log 2cosh(gamma + sqrt(gamma) z) is computed by
quadrature) or 0 (revealed), and the clause terms from log(1 - 2^{1-k}(1 - e)) as before; the reported
``free_entropy_para`` is then ``naesat_reference_free_entropy``,

    Phi_ref = (1 - theta) E_z log 2cosh(gamma + sqrt(gamma) z) + alpha log(1 - 2^{1-k}(1 - e)),

a reference only (with side information the uniform message is no fixed point).  Checked by hand
against BP (``samplers.denoisers.BPDenoiser``) on planted graphs with n = 50000, k = 5, alpha = 7, with
the realised fields / revealed set in BP's reference: gamma = 1, three instances Delta Phi = 0.1422,
0.1419, 0.1478 against 0.1421(6) from 50000 members; theta = 0.3, 0.0426, 0.0426, 0.0426 against
0.0426(5).  The per-variable Bethe term has a standard deviation of order 1, so one instance fluctuates
by ~0.005 at this n (too slow and noisy for a unit test).
``naesat_population_pair`` runs the informed and the uninformed start in the same random environment.

Thresholds (``potts_thresholds``, ``naesat_thresholds``)
--------------------------------------------------------
* dynamical c_d (alpha_d): smallest density at which the informed start keeps an overlap above
  ``overlap_threshold`` after ``sweeps`` sweeps (bisection);
* condensation / information-theoretic c_c (alpha_c): where Delta Phi of the informed branch crosses 0
  (Phi_informed = Phi_para; the planted cluster's entropy equals the total), from a weighted linear
  fit of Delta Phi at several densities around the sign change;
* Kesten–Stigum (closed form): the paramagnetic fixed point is linearly unstable when
  (branching) · lambda^2 > 1, with lambda the second eigenvalue of the planted pair channel:

    Potts:    lambda = -(1 - e)/(q - 1 + e),  branching c          =>  c_KS = ((q - 1 + e)/(1 - e))^2,
    NAE-SAT:  lambda = -(1 - e)/(2^{k-1} - 1 + e), branching k(k-1) alpha
              =>  alpha_KS = ((2^{k-1} - 1 + e)/(1 - e))^2 / (k (k - 1)).

  When the informed start keeps no overlap just below c_KS (at c_KS - max(2 tol, 0.005 c_KS)) the
  transition is continuous: c_d = c_c = c_KS is reported with ``continuous`` True (q = 3 colouring,
  c_KS = 4).  A weakly first-order transition whose informed overlap stays below ``overlap_threshold``
  would be classified as continuous: lower the threshold to resolve it.

References: L. Zdeborová & F. Krzakala, PRE 76, 031131 (2007) and "Statistical physics of inference",
Adv. Phys. 65, 453 (2016); F. Krzakala & L. Zdeborová, "Hiding quiet solutions in random constraint
satisfaction problems", PRL 102, 238701 (2009); M. Mézard & A. Montanari, *Information, Physics and
Computation*, ch. 14 and 19 (population dynamics); A. Decelle, F. Krzakala, C. Moore & L. Zdeborová,
PRE 84, 066106 (2011) (Kesten–Stigum for the planted Potts / block model).

Randomness: the kernels draw from a xoshiro256** stream (Blackman & Vigna) whose state is taken from the
``seed`` argument (int or Generator), so equal seeds give equal numbers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from samplers.denoisers.bp import nae_clause_fold
from spinglass._validate import SeedLike, check_int, check_real, make_rng, seed_repr

#: Smallest weight kept on the planted value of a member and of a partial product (relative to its largest
#: entry): keeps the planted value strictly positive, so that no product of two such weights underflows.
_FLOOR = 1e-150
_RESCALE = 1e-100
#: Relative difference below which two marginal entries count as tied in the MAP overlap (rounding level).
_TIE = 1e-9
_INITS = ("informed", "uninformed")


# ----------------------------------------------------------------------------------------------------
# numba kernels
# ----------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << k) | (x >> (np.uint64(64) - k))


@njit(cache=True, inline="always")
def _uniform(st):
    """A uniform double in [0, 1) from the xoshiro256** state ``st`` (4 uint64, updated in place)."""
    s0 = st[0]
    s1 = st[1]
    s2 = st[2]
    s3 = st[3]
    result = _rotl(s1 * np.uint64(5), np.uint64(7)) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, np.uint64(45))
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return float(result >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def _poisson(st, lam):
    """A Poisson(lam) draw by inversion (in pieces of mean <= 500, so that exp(-mean) never underflows)."""
    total = 0
    remaining = lam
    while remaining > 0.0:
        mean = remaining if remaining < 500.0 else 500.0
        remaining -= mean
        u = _uniform(st)
        p = np.exp(-mean)
        cdf = p
        k = 0
        while u > cdf and p > 0.0:
            k += 1
            p *= mean / k
            cdf += p
        total += k
    return total


@njit(cache=True, inline="always")
def _index(st, n):
    """A uniform integer in [0, n)."""
    r = int(_uniform(st) * n)
    return r if r < n else n - 1


@njit(cache=True, inline="always")
def _cavity_log_sum(H, d, q, pre, pre_log, suf, w0):
    """sum_l log sum_sigma w0[sigma] prod_{l' != l} H[l', sigma] (leave-one-out normalisers, rescaled
    products); w0 is the node factor (all ones without side information)."""
    for s in range(q):
        pre[0, s] = w0[s]
    pre_log[0] = 0.0
    for l in range(1, d):
        mx = 0.0
        for s in range(q):
            v = pre[l - 1, s] * H[l - 1, s]
            pre[l, s] = v
            if v > mx:
                mx = v
        pre_log[l] = pre_log[l - 1]
        if mx < _RESCALE:
            if mx == 0.0:
                mx = 1.0
            for s in range(q):
                pre[l, s] /= mx
            pre_log[l] += np.log(mx)
    for s in range(q):
        suf[s] = 1.0
    suf_log = 0.0
    total = 0.0
    for l in range(d - 1, -1, -1):
        z = 0.0
        for s in range(q):
            z += pre[l, s] * suf[s]
        total += np.log(z) + pre_log[l] + suf_log
        mx = 0.0
        for s in range(q):
            suf[s] *= H[l, s]
            if suf[s] > mx:
                mx = suf[s]
        if mx < _RESCALE:
            if mx == 0.0:
                mx = 1.0
            for s in range(q):
                suf[s] /= mx
            suf_log += np.log(mx)
    return total


@njit(cache=True)
def _potts_pd_kernel(pop, c, ew, n_sweeps, n_measure, st, overlap, overlap_map, fe_terms):
    """In-place population sweeps for the planted Potts model (members conditioned on colour 0).

    During the last ``n_measure`` sweeps every update also adds the per-node Bethe term
    (1 - d/2) log Z_i + (1/2) sum_l log Z_{i->l} minus its paramagnetic value (module docstring).
    """
    N, q = pop.shape
    cap = int(c + 10.0 * np.sqrt(c + 1.0)) + 16
    H = np.empty((cap, q))
    pre = np.empty((cap, q))
    pre_log = np.empty(cap)
    suf = np.empty(q)
    w0 = np.ones(q)
    new = np.empty(q)
    child = np.empty(q)
    left = np.empty(q)
    zsum = ew + q - 1.0
    log_a = np.log(1.0 - (1.0 - ew) / q)
    log_q = np.log(q)
    for sweep in range(n_sweeps):
        m_idx = sweep - (n_sweeps - n_measure)
        acc_fe = 0.0
        for target in range(N):
            d = _poisson(st, c)
            if d > cap:
                cap = 2 * d
                H = np.empty((cap, q))
                pre = np.empty((cap, q))
                pre_log = np.empty(cap)
            for s in range(q):
                new[s] = 1.0
            log_scale = 0.0
            for l in range(d):
                r = _index(st, N)
                u = _uniform(st) * zsum
                a = 0 if u < ew else 1 + int(u - ew)
                if a > q - 1:
                    a = q - 1
                for s in range(q):
                    child[s] = pop[r, s]
                if a != 0:
                    child[0] = pop[r, a]
                    child[a] = pop[r, 0]
                acc = 0.0
                for s in range(q):
                    left[s] = acc
                    acc += child[s]
                acc = 0.0
                mx = 0.0
                for s in range(q - 1, -1, -1):
                    v = child[s]
                    h = left[s] + acc + ew * v
                    H[l, s] = h
                    new[s] *= h
                    acc += v
                    if new[s] > mx:
                        mx = new[s]
                if mx < _RESCALE:
                    if mx == 0.0:  # cannot happen while the planted weights are floored; keep the planted colour
                        new[0] = 1.0
                        mx = 1.0
                    inv = 1.0 / mx
                    for s in range(q):
                        new[s] *= inv
                    log_scale += np.log(mx)
                if new[0] < _FLOOR:
                    new[0] = _FLOOR
            z = 0.0
            for s in range(q):
                z += new[s]
            if m_idx >= 0:
                log_zi = np.log(z) + log_scale
                cav = _cavity_log_sum(H, d, q, pre, pre_log, suf, w0) if d > 0 else 0.0
                para = (1.0 - 0.5 * d) * (log_q + d * log_a) + 0.5 * d * (log_q + (d - 1) * log_a)
                acc_fe += (1.0 - 0.5 * d) * log_zi + 0.5 * cav - para
            inv = 1.0 / z
            for s in range(q):
                pop[target, s] = new[s] * inv
            if pop[target, 0] < _FLOOR:
                pop[target, 0] = _FLOOR
        # overlaps of the marginals (= members) with the planted colour 0
        ov = 0.0
        hit = 0.0
        for r in range(N):
            ov += pop[r, 0]
            best = pop[r, 0]
            for s in range(1, q):
                if pop[r, s] > best:
                    best = pop[r, s]
            if pop[r, 0] >= best * (1.0 - _TIE):
                ties = 0
                for s in range(q):
                    if pop[r, s] >= best * (1.0 - _TIE):
                        ties += 1
                hit += 1.0 / ties
        overlap[sweep] = (q * ov / N - 1.0) / (q - 1.0)
        overlap_map[sweep] = (q * hit / N - 1.0) / (q - 1.0)
        if m_idx >= 0:
            fe_terms[m_idx] = acc_fe / N


@njit(cache=True, inline="always")
def _nae_draw_pattern(st, pat, k_other, ew):
    """Planted literal pattern of k_other literals (+1 / -1): uniform, the all-(+1) pattern weighted ew."""
    n_pat = 1 << k_other
    while True:
        code = int(_uniform(st) * n_pat)
        if code >= n_pat:
            code = n_pat - 1
        if code != n_pat - 1 or _uniform(st) < ew:
            break
    for j in range(k_other):
        pat[j] = 1 if (code >> j) & 1 else -1


@njit(cache=True, inline="always")
def _normal(st):
    """A standard normal draw (Box–Muller, one of the pair) from the xoshiro256** state ``st``."""
    u1 = 1.0 - _uniform(st)  # in (0, 1]
    u2 = _uniform(st)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit(cache=True, inline="always")
def _nae_clause_log(st, pop, k, ew):
    """log Z_a of one clause: k random members, planted pattern uniform over the non-all-equal patterns of
    k literals (the two all-equal patterns weighted ew)."""
    N = pop.shape[0]
    n_pat = 1 << k
    while True:
        code = int(_uniform(st) * n_pat)
        if code >= n_pat:
            code = n_pat - 1
        if (code != 0 and code != n_pat - 1) or _uniform(st) < ew:
            break
    T = 1.0
    F = 1.0
    Nm = 0.0
    for j in range(k):
        r = _index(st, N)
        if (code >> j) & 1:
            pt = pop[r, 1]
            pf = pop[r, 0]
        else:
            pt = pop[r, 0]
            pf = pop[r, 1]
        if j == 0:
            T = pt
            F = pf
        else:
            T, F, Nm = nae_clause_fold(T, F, Nm, pt, pf)
    return np.log(ew * (T + F) + Nm)


@njit(cache=True)
def _naesat_pd_kernel(pop, k, alpha, ew, gamma, theta, n_sweeps, n_measure, st, overlap, overlap_map,
                      fe_terms):
    """In-place population sweeps for planted NAE-SAT; pop[r] = (P(x = -x*), P(x = x*)).

    Side information (module docstring, "Side information"): each recomputed member is, with probability
    ``theta``, revealed (set to (0, 1), no clause draws); otherwise it gets a fresh field
    h = gamma + sqrt(gamma) z (when gamma > 0) multiplying it by (e^{-h}, e^{h}).  With gamma = theta = 0
    no extra random numbers are drawn, so the stream and the results are those of the plain kernel.

    During the last ``n_measure`` sweeps every update also adds the per-variable Bethe term
    (1 - d) log Z_i + sum_a log Z_{i->a} (0 for a revealed variable) and one clause term alpha log Z_a,
    minus their reference values (log 2cosh h, resp. 0 for a revealed variable, and
    log(1 - 2^{1-k}(1 - ew))).
    """
    N = pop.shape[0]
    deg_mean = k * alpha
    cap = int(deg_mean + 10.0 * np.sqrt(deg_mean + 1.0)) + 16
    H = np.empty((cap, 2))
    pre = np.empty((cap, 2))
    pre_log = np.empty(cap)
    suf = np.empty(2)
    w0 = np.ones(2)
    pat = np.empty(k, dtype=np.int64)
    log2 = np.log(2.0)
    log_para_clause = np.log(1.0 - 2.0 ** (1 - k) * (1.0 - ew))
    sq_gamma = np.sqrt(gamma)
    for sweep in range(n_sweeps):
        m_idx = sweep - (n_sweeps - n_measure)
        acc_fe = 0.0
        for target in range(N):
            if theta > 0.0 and _uniform(st) < theta:
                # revealed: the message is the planted value; node term log Z_i - sum_a log Z_ia = 0
                pop[target, 0] = 0.0
                pop[target, 1] = 1.0
                if m_idx >= 0:
                    acc_fe += alpha * (_nae_clause_log(st, pop, k, ew) - log_para_clause)
                continue
            h = 0.0
            if gamma > 0.0:
                h = gamma + sq_gamma * _normal(st)
            d = _poisson(st, deg_mean)
            if d > cap:
                cap = 2 * d
                H = np.empty((cap, 2))
                pre = np.empty((cap, 2))
                pre_log = np.empty(cap)
            pc = 1.0
            pw = 1.0
            log_scale = 0.0
            for l in range(d):
                _nae_draw_pattern(st, pat, k - 1, ew)
                T = 1.0
                F = 1.0
                Nm = 0.0
                for j in range(k - 1):
                    r = _index(st, N)
                    if pat[j] > 0:
                        pt = pop[r, 1]
                        pf = pop[r, 0]
                    else:
                        pt = pop[r, 0]
                        pf = pop[r, 1]
                    if j == 0:
                        T = pt
                        F = pf
                    else:
                        T, F, Nm = nae_clause_fold(T, F, Nm, pt, pf)
                wc = ew * T + Nm + F  # target literal +1 = planted value
                ww = ew * F + Nm + T
                z = wc + ww
                H[l, 0] = ww / z
                H[l, 1] = wc / z
                pc *= wc / z
                pw *= ww / z
                mx = pc if pc > pw else pw
                if mx < _RESCALE:
                    if mx == 0.0:  # cannot happen while the planted weights are floored
                        pc = 1.0
                        mx = 1.0
                    pc /= mx
                    pw /= mx
                    log_scale += np.log(mx)
                if pc < _FLOOR:
                    pc = _FLOOR
            ah = 0.0
            if gamma > 0.0:
                # node factor (e^{-h}, e^{h}) = e^{|h|} (w0[0], w0[1]) with max(w0) = 1
                ah = abs(h)
                if h >= 0.0:
                    w0[0] = np.exp(-2.0 * h)
                    w0[1] = 1.0
                else:
                    w0[0] = 1.0
                    w0[1] = np.exp(2.0 * h)
                pw *= w0[0]
                pc *= w0[1]
                log_scale += ah
                if pc < _FLOOR * (pc + pw):
                    pc = _FLOOR * (pc + pw)
            z = pc + pw
            if m_idx >= 0:
                log_zi = np.log(z) + log_scale
                cav = _cavity_log_sum(H, d, 2, pre, pre_log, suf, w0) if d > 0 else 0.0
                if gamma > 0.0:
                    # reference log 2cosh h; the leave-one-out normalisers carry e^{|h|} each
                    acc_fe += (1.0 - d) * log_zi + cav + d * ah - (ah + np.log1p(np.exp(-2.0 * ah)))
                else:
                    acc_fe += (1.0 - d) * log_zi + cav - log2
                # clause term: all k literals, pattern uniform over non-all-equal (all-equal weighted ew)
                acc_fe += alpha * (_nae_clause_log(st, pop, k, ew) - log_para_clause)
            pop[target, 0] = pw / z
            pop[target, 1] = pc / z
            if pop[target, 1] < _FLOOR:
                pop[target, 1] = _FLOOR
        ov = 0.0
        hit = 0.0
        for r in range(N):
            ov += pop[r, 1] - pop[r, 0]
            if abs(pop[r, 1] - pop[r, 0]) <= _TIE:
                hit += 0.5
            elif pop[r, 1] > pop[r, 0]:
                hit += 1.0
        overlap[sweep] = ov / N
        overlap_map[sweep] = 2.0 * hit / N - 1.0
        if m_idx >= 0:
            fe_terms[m_idx] = acc_fe / N


# ----------------------------------------------------------------------------------------------------
# closed forms
# ----------------------------------------------------------------------------------------------------
def _edge_weight(beta: float) -> float:
    return 0.0 if math.isinf(beta) else math.exp(-beta)


def _check_q(q) -> int:
    return check_int("q", q, minimum=2)


def _check_k(k) -> int:
    return check_int("k", k, minimum=2)


def _check_beta(beta) -> float:
    return check_real("beta", beta, minimum=0.0, allow_inf=True)


def potts_kesten_stigum(q: int, beta: float = math.inf) -> float:
    r"""Kesten–Stigum degree of the planted Potts model, c_KS = ((q - 1 + e^{-beta}) / (1 - e^{-beta}))^2.

    (q - 1)^2 at beta = inf; inf at beta = 0 (no information).
    """
    q = _check_q(q)
    ew = _edge_weight(_check_beta(beta))
    if ew >= 1.0:
        return math.inf
    return ((q - 1.0 + ew) / (1.0 - ew)) ** 2


def naesat_kesten_stigum(k: int, beta: float = math.inf) -> float:
    r"""Kesten–Stigum clause density of planted k-NAE-SAT,
    alpha_KS = ((2^{k-1} - 1 + e^{-beta}) / (1 - e^{-beta}))^2 / (k (k - 1))."""
    k = _check_k(k)
    ew = _edge_weight(_check_beta(beta))
    if ew >= 1.0:
        return math.inf
    return ((2.0 ** (k - 1) - 1.0 + ew) / (1.0 - ew)) ** 2 / (k * (k - 1.0))


def potts_paramagnetic_free_entropy(q: int, c: float, beta: float = math.inf) -> float:
    """Annealed (paramagnetic) free entropy per variable, log q + (c/2) log(1 - (1 - e^{-beta})/q)."""
    q = _check_q(q)
    c = check_real("c", c, minimum=0.0)
    ew = _edge_weight(_check_beta(beta))
    return math.log(q) + 0.5 * c * math.log(1.0 - (1.0 - ew) / q)


def naesat_paramagnetic_free_entropy(k: int, alpha: float, beta: float = math.inf) -> float:
    """Annealed (paramagnetic) free entropy per variable, log 2 + alpha log(1 - 2^{1-k}(1 - e^{-beta}))."""
    k = _check_k(k)
    alpha = check_real("alpha", alpha, minimum=0.0)
    ew = _edge_weight(_check_beta(beta))
    return math.log(2.0) + alpha * math.log(1.0 - 2.0 ** (1 - k) * (1.0 - ew))


def gaussian_log2cosh_mean(gamma: float) -> float:
    r"""E_z log 2cosh(gamma + sqrt(gamma) z), z ~ N(0, 1): the mean log-normaliser of the Gaussian-channel
    node factor e^{h x}, x = ±1, in the planted gauge (log 2 at gamma = 0).

    Gauss–Hermite quadrature with 200 nodes (log 2cosh is analytic and grows linearly; error < 1e-12 on
    [0, 1e4], checked against adaptive quadrature in the tests).
    """
    gamma = check_real("gamma", gamma, minimum=0.0)
    if gamma == 0.0:
        return math.log(2.0)
    z, w = _hermite_nodes()
    h = np.abs(gamma + math.sqrt(gamma) * z)
    return float(np.sum(w * (h + np.log1p(np.exp(-2.0 * h)))))


_HERMITE: list = []


def _hermite_nodes() -> tuple[np.ndarray, np.ndarray]:
    if not _HERMITE:
        z, w = np.polynomial.hermite_e.hermegauss(200)
        _HERMITE.append((z, w / w.sum()))
    return _HERMITE[0]


def naesat_reference_free_entropy(k: int, alpha: float, beta: float = math.inf, *, side_snr: float = 0.0,
                                  revealed_fraction: float = 0.0) -> float:
    r"""Reference value Phi_ref from which ``delta_free_entropy`` is measured with side information:

        Phi_ref = (1 - theta) E_z log 2cosh(gamma + sqrt(gamma) z) + alpha log(1 - 2^{1-k}(1 - e^{-beta})),

    the Bethe functional's node terms at uniform clause-to-variable messages (log 2cosh h for a variable
    with field h, 0 for a revealed one) plus the paramagnetic clause term.  It is exact, but it is a
    reference, not the free entropy of a fixed point (with side information the uniform message is not
    one); at gamma = theta = 0 it is the paramagnetic free entropy.
    """
    k = _check_k(k)
    alpha = check_real("alpha", alpha, minimum=0.0)
    ew = _edge_weight(_check_beta(beta))
    side_snr = check_real("side_snr", side_snr, minimum=0.0)
    theta = check_real("revealed_fraction", revealed_fraction, minimum=0.0, maximum=1.0)
    return ((1.0 - theta) * gaussian_log2cosh_mean(side_snr)
            + alpha * math.log(1.0 - 2.0 ** (1 - k) * (1.0 - ew)))


# ----------------------------------------------------------------------------------------------------
# population dynamics
# ----------------------------------------------------------------------------------------------------
@dataclass
class PopulationResult:
    """Outcome of one population-dynamics run (see the module docstring for the definitions).

    Attributes
    ----------
    family : "potts" or "naesat".
    params : the model parameters (q, c, beta or k, alpha, beta) and run settings.
    init : "informed" or "uninformed".
    overlap, overlap_err : mean overlap of the marginals with the planted value over the measured sweeps.
    overlap_map, overlap_map_err : normalised accuracy of the MAP (argmax) estimate.
    free_entropy, free_entropy_err : Bethe free entropy per variable of the branch reached.
    free_entropy_para : the paramagnetic (annealed) free entropy (exact).
    delta_free_entropy, delta_free_entropy_err : free_entropy - free_entropy_para.
    trace : per-sweep ``overlap`` and ``overlap_map`` (all sweeps), per-measured-sweep ``delta_free_entropy``.
    population : the final population (members conditioned on the planted value: Potts (N, q) with the
        planted colour 0, NAE-SAT (N, 2) = (P(x = -x*), P(x = x*))).
    seconds : wall time.
    """

    family: str
    params: dict
    init: str
    overlap: float
    overlap_err: float
    overlap_map: float
    overlap_map_err: float
    free_entropy: float
    free_entropy_err: float
    free_entropy_para: float
    delta_free_entropy: float
    delta_free_entropy_err: float
    trace: dict = field(default_factory=dict)
    population: np.ndarray | None = None
    seconds: float = 0.0


def _check_run(population, sweeps, measure, init, noise) -> tuple[int, int, int, str, float]:
    population = check_int("population", population, minimum=10)
    sweeps = check_int("sweeps", sweeps, minimum=1)
    measure = check_int("measure", measure, minimum=1, maximum=sweeps)
    if init not in _INITS:
        raise ValueError(f"init must be one of {_INITS}, got {init!r}")
    noise = check_real("noise", noise, minimum=0.0, maximum=0.5)
    return population, sweeps, measure, init, noise


def _mean_err(x: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    if x.size < 2:
        return float(x.mean()), math.nan
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def _kernel_seed(rng: np.random.Generator) -> np.ndarray:
    """A fresh xoshiro256** state (4 uint64, never all zero) drawn from ``rng``."""
    st = rng.integers(0, np.iinfo(np.uint64).max, size=4, dtype=np.uint64, endpoint=True)
    if not st.any():
        st[0] = 1
    return st


def potts_population_dynamics(q: int, c: float, beta: float = math.inf, *, population: int = 20000,
                              sweeps: int = 300, measure: int = 100, init: str = "informed",
                              noise: float = 1e-3, seed: SeedLike = None) -> PopulationResult:
    r"""Planted population dynamics for q-colouring / planted Potts at average degree ``c`` and ``beta``.

    Parameters
    ----------
    q : number of colours (>= 2).  c : average degree (>= 0).  beta : inverse temperature (inf allowed).
    population : number of members N.  sweeps : number of sweeps (N member updates each).
    measure : the last ``measure`` sweeps are averaged (free entropy sampled N times per such sweep).
    init : "informed" (every member = delta on the planted colour) or "uninformed" (uniform + noise).
    noise : amplitude of the uninformed start, psi(sigma) ∝ 1 + noise · u_sigma with u uniform in [-1, 1].
    seed : int or Generator.
    """
    q = _check_q(q)
    c = check_real("c", c, minimum=0.0)
    beta = _check_beta(beta)
    population, sweeps, measure, init, noise = _check_run(population, sweeps, measure, init, noise)
    rng = make_rng(seed)
    ew = _edge_weight(beta)
    if init == "informed":
        pop = np.zeros((population, q))
        pop[:, 0] = 1.0
    else:
        pop = 1.0 + noise * rng.uniform(-1.0, 1.0, size=(population, q))
        pop /= pop.sum(axis=1, keepdims=True)
    overlap = np.empty(sweeps)
    overlap_map = np.empty(sweeps)
    delta = np.empty(measure)
    t0 = time.perf_counter()
    _potts_pd_kernel(pop, c, ew, sweeps, measure, _kernel_seed(rng), overlap, overlap_map, delta)
    seconds = time.perf_counter() - t0
    if q == 2 and init == "uninformed" and np.mean(overlap[-measure:]) < 0.0:
        # q = 2: swapping the two colours is a symmetry of the conditioned recursion (module docstring)
        pop = pop[:, ::-1].copy()
        overlap, overlap_map = -overlap, -overlap_map
    para = potts_paramagnetic_free_entropy(q, c, beta)
    return _result("potts", {"q": q, "c": c, "beta": beta}, init, population, sweeps, measure, noise, seed,
                   overlap, overlap_map, delta, para, pop, seconds)


def naesat_population_dynamics(k: int, alpha: float, beta: float = math.inf, *, population: int = 20000,
                               sweeps: int = 300, measure: int = 100, init: str = "informed",
                               noise: float = 1e-3, side_snr: float = 0.0, revealed_fraction: float = 0.0,
                               seed: SeedLike = None) -> PopulationResult:
    r"""Planted population dynamics for k-NAE-SAT / hypergraph bicolouring at clause density ``alpha``.

    Arguments as ``potts_population_dynamics`` with k (>= 2, clause size) and alpha (>= 0) in place of
    q and c; the uninformed start is p = (1/2 - noise · u, 1/2 + noise · u), u uniform in [-1, 1].

    Side information on every variable (module docstring, "Side information"; both may be combined):

    * ``side_snr`` = gamma >= 0: Gaussian channel (diffusion / flow path), a field
      h = gamma + sqrt(gamma) z, z ~ N(0, 1), in the planted gauge (node factor e^{h x}), drawn afresh each
      time a member is recomputed;
    * ``revealed_fraction`` = theta in [0, 1]: erasure channel (autoregressive path), each recomputed member
      is the planted value (0, 1) with probability theta.

    With both 0 (the defaults) the kernel draws exactly the random numbers of the plain recursion, so the
    results are identical to those without side information.  Without side information NAE-SAT is
    invariant under x -> -x, so the branch reached from the uninformed start is defined up to that flip:
    when its mean overlap comes out negative the population and overlaps are flipped (side information
    breaks the symmetry, and nothing is flipped).  With side information ``free_entropy_para`` is the
    reference value of ``naesat_reference_free_entropy`` (not a fixed point of the recursion), and
    ``delta_free_entropy`` is measured from it.
    """
    k = _check_k(k)
    alpha = check_real("alpha", alpha, minimum=0.0)
    beta = _check_beta(beta)
    population, sweeps, measure, init, noise = _check_run(population, sweeps, measure, init, noise)
    side_snr = check_real("side_snr", side_snr, minimum=0.0)
    revealed_fraction = check_real("revealed_fraction", revealed_fraction, minimum=0.0, maximum=1.0)
    rng = make_rng(seed)
    pop = _naesat_start(init, population, noise, rng)
    return _naesat_run(k, alpha, beta, pop, init, sweeps, measure, noise, side_snr, revealed_fraction,
                       _kernel_seed(rng), seed)


def _naesat_start(init: str, population: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    if init == "informed":
        pop = np.zeros((population, 2))
        pop[:, 1] = 1.0
    else:
        u = noise * rng.uniform(-1.0, 1.0, size=population)
        pop = np.stack([0.5 - u, 0.5 + u], axis=1)
    return pop


def _naesat_run(k, alpha, beta, pop, init, sweeps, measure, noise, side_snr, revealed_fraction, st,
                seed) -> PopulationResult:
    """Run the NAE-SAT kernel from ``pop`` with the xoshiro state ``st`` (validated arguments)."""
    population = pop.shape[0]
    ew = _edge_weight(beta)
    overlap = np.empty(sweeps)
    overlap_map = np.empty(sweeps)
    delta = np.empty(measure)
    t0 = time.perf_counter()
    _naesat_pd_kernel(pop, k, alpha, ew, side_snr, revealed_fraction, sweeps, measure, st, overlap,
                      overlap_map, delta)
    seconds = time.perf_counter() - t0
    side = side_snr > 0.0 or revealed_fraction > 0.0
    if init == "uninformed" and not side and np.mean(overlap[-measure:]) < 0.0:
        # x -> -x is a symmetry of NAE-SAT and of its planted ensemble: the branch reached from the symmetric
        # start is defined up to the global flip; orient it towards the planted configuration
        pop = pop[:, ::-1].copy()
        overlap, overlap_map = -overlap, -overlap_map
    params = {"k": k, "alpha": alpha, "beta": beta}
    if side:
        params.update(side_snr=side_snr, revealed_fraction=revealed_fraction)
        para = naesat_reference_free_entropy(k, alpha, beta, side_snr=side_snr,
                                             revealed_fraction=revealed_fraction)
    else:
        para = naesat_paramagnetic_free_entropy(k, alpha, beta)
    return _result("naesat", params, init, population, sweeps, measure, noise, seed, overlap, overlap_map, delta,
                   para, pop, seconds)


def naesat_population_pair(k: int, alpha: float, beta: float = math.inf, *, population: int = 20000,
                           sweeps: int = 300, measure: int = 100, noise: float = 1e-3, side_snr: float = 0.0,
                           revealed_fraction: float = 0.0,
                           seed: SeedLike = None) -> tuple[PopulationResult, PopulationResult]:
    r"""The informed and the uninformed start of ``naesat_population_dynamics`` driven by the *same* random
    environment (common random numbers): both kernels get the same xoshiro256** state.

    No random draw of the kernel depends on the messages (revealed flags, fields h, degrees, literal
    patterns and member indices are drawn in the same order whatever the population holds), so the two
    runs see identical trees and differ only by their starting populations.  Where the recursion has a
    single attracting fixed point the two populations merge (their overlaps agree to rounding, not only
    to the O(1/sqrt(population)) sampling noise of independent runs); where two branches coexist they
    stay apart.  This makes "the two starts differ" a sharp test.  Each result is, on its own, a run of
    ``naesat_population_dynamics`` (with a different, but equally valid, stream).  Returns
    (informed, uninformed).
    """
    k = _check_k(k)
    alpha = check_real("alpha", alpha, minimum=0.0)
    beta = _check_beta(beta)
    population, sweeps, measure, _, noise = _check_run(population, sweeps, measure, "informed", noise)
    side_snr = check_real("side_snr", side_snr, minimum=0.0)
    revealed_fraction = check_real("revealed_fraction", revealed_fraction, minimum=0.0, maximum=1.0)
    rng = make_rng(seed)
    st = _kernel_seed(rng)
    out = []
    for init in ("informed", "uninformed"):
        pop = _naesat_start(init, population, noise, rng)
        out.append(_naesat_run(k, alpha, beta, pop, init, sweeps, measure, noise, side_snr, revealed_fraction,
                               st.copy(), seed))
    return out[0], out[1]


def _result(family, params, init, population, sweeps, measure, noise, seed, overlap, overlap_map, delta, para,
            pop, seconds) -> PopulationResult:
    ov, ov_err = _mean_err(overlap[-measure:])
    om, om_err = _mean_err(overlap_map[-measure:])
    d, d_err = _mean_err(delta)
    params = dict(params, population=population, sweeps=sweeps, measure=measure, noise=noise,
                  seed=seed_repr(seed))
    return PopulationResult(family=family, params=params, init=init, overlap=ov, overlap_err=ov_err,
                            overlap_map=om, overlap_map_err=om_err, free_entropy=para + d, free_entropy_err=d_err,
                            free_entropy_para=para, delta_free_entropy=d, delta_free_entropy_err=d_err,
                            trace={"overlap": overlap, "overlap_map": overlap_map, "delta_free_entropy": delta},
                            population=pop, seconds=seconds)


# ----------------------------------------------------------------------------------------------------
# thresholds
# ----------------------------------------------------------------------------------------------------
@dataclass
class ThresholdResult:
    """Dynamical, condensation and Kesten–Stigum thresholds of a planted ensemble (in c or alpha).

    Attributes
    ----------
    family : "potts" or "naesat".  params : fixed parameters and run settings.
    dynamical, dynamical_err : c_d (alpha_d) and the half-width of the final bisection bracket (for a
        continuous transition: c_KS and the distance to the point where the informed branch was absent).
    condensation, condensation_err : c_c (alpha_c) and its standard error from the linear fit of
        Delta Phi (equal to the dynamical values when the transition is continuous).
    kesten_stigum : the closed form.
    continuous : True when c_d coincides with c_KS (within the tolerance): no hard phase.
    scan : rows (density, init, overlap, overlap_err, delta_free_entropy, delta_free_entropy_err) of every
        population run made.
    seconds : wall time.
    """

    family: str
    params: dict
    dynamical: float
    dynamical_err: float
    condensation: float
    condensation_err: float
    kesten_stigum: float
    continuous: bool
    scan: list = field(default_factory=list)
    seconds: float = 0.0


def _thresholds(family: str, run, ks: float, lo: float, hi: float, tol: float, overlap_threshold: float,
                n_fit: int, rng: np.random.Generator, params: dict) -> ThresholdResult:
    t0 = time.perf_counter()
    scan = []

    def informed(x):
        res = run(x, "informed", int(rng.integers(0, 2**63 - 1)))
        scan.append({"density": x, "init": "informed", "overlap": res.overlap, "overlap_err": res.overlap_err,
                     "delta_free_entropy": res.delta_free_entropy,
                     "delta_free_entropy_err": res.delta_free_entropy_err})
        return res

    # continuous transition: no informed branch just below Kesten-Stigum
    gap = max(2.0 * tol, 0.005 * ks)
    if informed(hi).overlap <= overlap_threshold:
        if hi >= ks - gap - 1e-12:
            return ThresholdResult(family, params, ks, ks - hi, ks, ks - hi, ks, True, scan,
                                   time.perf_counter() - t0)
        raise ValueError(f"no informed branch at the upper end {hi:g}; raise the search range")
    # dynamical threshold: bisection on "the informed start keeps an overlap"
    if informed(lo).overlap > overlap_threshold:
        raise ValueError(f"the informed branch already exists at the lower end {lo:g}; lower the search range")
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if informed(mid).overlap > overlap_threshold:
            hi = mid
        else:
            lo = mid
    c_d, c_d_err = 0.5 * (lo + hi), 0.5 * (hi - lo)
    # condensation: sign change of Delta Phi on the informed branch, then a linear fit around it
    a, b = hi, max(ks, hi + 4 * tol)
    if informed(b).delta_free_entropy <= 0.0:
        raise ValueError(f"Delta Phi of the informed branch is still negative at {b:g}: no condensation found")
    while b - a > 4 * tol:
        mid = 0.5 * (a + b)
        if informed(mid).delta_free_entropy > 0.0:
            b = mid
        else:
            a = mid
    width = max(b - a, 4 * tol)
    xs = np.linspace(max(hi, 0.5 * (a + b) - width), 0.5 * (a + b) + width, n_fit)
    for x in xs:
        informed(float(x))
    pts = np.array([(r["density"], r["delta_free_entropy"], r["delta_free_entropy_err"]) for r in scan
                    if r["init"] == "informed" and xs[0] - 1e-12 <= r["density"] <= xs[-1] + 1e-12
                    and r["overlap"] > overlap_threshold])
    x, y, s = pts[:, 0], pts[:, 1], np.maximum(pts[:, 2], 1e-12)
    w = 1.0 / s**2
    A = np.stack([np.ones_like(x), x - x.mean()], axis=1)
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * y))
    # inflate by the reduced chi^2 when the scatter exceeds the error bars
    dof = max(len(x) - 2, 1)
    chi2 = float(np.sum(w * (y - A @ coef) ** 2)) / dof
    cov = cov * max(chi2, 1.0)
    root = x.mean() - coef[0] / coef[1]
    grad = np.array([-1.0 / coef[1], coef[0] / coef[1] ** 2])
    root_err = float(math.sqrt(grad @ cov @ grad))
    return ThresholdResult(family, params, c_d, c_d_err, float(root), root_err, ks, False, scan,
                           time.perf_counter() - t0)


def _check_threshold_args(tol, overlap_threshold, n_fit):
    tol = check_real("tol", tol, minimum=0.0, strict_min=True)
    overlap_threshold = check_real("overlap_threshold", overlap_threshold, minimum=0.0, maximum=1.0,
                                   strict_min=True)
    n_fit = check_int("n_fit", n_fit, minimum=3)
    return tol, overlap_threshold, n_fit


def _bracket(name: str, given, ks: float, lo_fraction: float, tol: float) -> tuple[float, float]:
    """The density bracket (lo, hi) of the dynamical-threshold bisection: ``given``, or by default
    (lo_fraction ks, ks - max(2 tol, 0.005 ks)) below the Kesten-Stigum density ks."""
    if not math.isfinite(ks):
        raise ValueError("beta = 0 carries no information: no thresholds")
    gap = max(2.0 * tol, 0.005 * ks)
    lo, hi = (lo_fraction * ks, ks - gap) if given is None else (float(given[0]), float(given[1]))
    check_real(f"{name}[0]", lo, minimum=0.0)
    if not hi > lo:
        raise ValueError(f"{name} must be (lo, hi) with hi > lo, got {given}")
    return lo, hi


def potts_thresholds(q: int, beta: float = math.inf, *, c_range: tuple[float, float] | None = None,
                     population: int = 20000, sweeps: int = 300, measure: int = 100, tol: float = 0.02,
                     overlap_threshold: float = 0.1, n_fit: int = 5, seed: SeedLike = None) -> ThresholdResult:
    r"""Dynamical c_d, condensation c_c and Kesten–Stigum c_KS of the planted q-colouring / Potts model.

    ``c_range`` = (lo, hi) brackets c_d (default (0.5 c_KS, c_KS - max(2 tol, 0.005 c_KS))): the informed
    start must lose its overlap at lo; when it has none at the default hi the transition is continuous.
    Each evaluation is a fresh ``potts_population_dynamics`` run from the informed start with the given
    population / sweeps / measure; ``tol`` is the final bisection width.
    See the module docstring for the definitions.
    """
    q = _check_q(q)
    beta = _check_beta(beta)
    tol, overlap_threshold, n_fit = _check_threshold_args(tol, overlap_threshold, n_fit)
    ks = potts_kesten_stigum(q, beta)
    lo, hi = _bracket("c_range", c_range, ks, 0.5, tol)
    rng = make_rng(seed)

    def run(c, init, s):
        return potts_population_dynamics(q, c, beta, population=population, sweeps=sweeps, measure=measure,
                                         init=init, seed=s)

    params = {"q": q, "beta": beta, "population": population, "sweeps": sweeps, "measure": measure, "tol": tol,
              "overlap_threshold": overlap_threshold, "seed": seed_repr(seed)}
    return _thresholds("potts", run, ks, lo, hi, tol, overlap_threshold, n_fit, rng, params)


def naesat_thresholds(k: int, beta: float = math.inf, *, alpha_range: tuple[float, float] | None = None,
                      population: int = 20000, sweeps: int = 300, measure: int = 100, tol: float = 0.02,
                      overlap_threshold: float = 0.1, n_fit: int = 5, seed: SeedLike = None) -> ThresholdResult:
    r"""Dynamical alpha_d, condensation alpha_c and Kesten–Stigum alpha_KS of planted k-NAE-SAT.

    Arguments as ``potts_thresholds`` (``alpha_range`` defaults to (0.3 alpha_KS, alpha_KS - gap)).
    """
    k = _check_k(k)
    beta = _check_beta(beta)
    tol, overlap_threshold, n_fit = _check_threshold_args(tol, overlap_threshold, n_fit)
    ks = naesat_kesten_stigum(k, beta)
    lo, hi = _bracket("alpha_range", alpha_range, ks, 0.3, tol)
    rng = make_rng(seed)

    def run(alpha, init, s):
        return naesat_population_dynamics(k, alpha, beta, population=population, sweeps=sweeps, measure=measure,
                                          init=init, seed=s)

    params = {"k": k, "beta": beta, "population": population, "sweeps": sweeps, "measure": measure, "tol": tol,
              "overlap_threshold": overlap_threshold, "seed": seed_repr(seed)}
    return _thresholds("naesat", run, ks, lo, hi, tol, overlap_threshold, n_fit, rng, params)


def reference_thresholds(seed: int = 2024, *, potts_population: int = 50_000, potts_sweeps: int = 500,
                         naesat_population: int = 20_000, naesat_sweeps: int = 400,
                         tol: float = 0.005) -> dict[str, ThresholdResult]:
    """The precise computation for the record, all at beta = inf: q = 3 and q = 5 colouring (c_d, c_c,
    c_KS) and k = 4, 5 NAE-SAT (alpha_d, alpha_c, alpha_KS).

    About 5 minutes (Potts) plus 10 minutes (NAE-SAT) on one core at the defaults; ``measure`` is 40 % of
    the sweeps.  The CI tests use far smaller populations.
    """
    out = {}
    for q in (3, 5):
        out[f"potts_q{q}"] = potts_thresholds(q, population=potts_population, sweeps=potts_sweeps,
                                              measure=max(1, (2 * potts_sweeps) // 5), tol=tol, seed=seed + q)
    for k in (4, 5):
        out[f"naesat_k{k}"] = naesat_thresholds(k, population=naesat_population, sweeps=naesat_sweeps,
                                                measure=max(1, (2 * naesat_sweeps) // 5), tol=2 * tol,
                                                seed=seed + 10 + k)
    return out


__all__ = [
    "PopulationResult", "ThresholdResult", "naesat_kesten_stigum", "naesat_paramagnetic_free_entropy",
    "naesat_population_dynamics", "naesat_population_pair", "naesat_reference_free_entropy", "naesat_thresholds",
    "gaussian_log2cosh_mean", "potts_kesten_stigum", "potts_paramagnetic_free_entropy",
    "potts_population_dynamics", "potts_thresholds", "reference_thresholds",
]
