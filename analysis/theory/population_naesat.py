r"""Cavity population dynamics for planted k-NAE-SAT / hypergraph bicolouring (docs/physics.md §1, §2, §4).

The ensemble, in the large-n limit of ``spinglass.sparse``: planted k-NAE-SAT / hypergraph bicolouring at
clause density alpha (a clause whose literals are all equal under the planted configuration is kept with
relative weight e = exp(-beta)).  What both families share (random numbers, starts, observables, result
containers, the threshold search) is described in ``analysis.theory.population_core``.

Planted (Nishimori) population dynamics
---------------------------------------
The distribution of BP messages conditioned on the planted value is the fixed point of the cavity
recursion on the Galton–Watson tree of the planted graph (``analysis.theory.population_core``).
NAE-SAT uses the literal gauge: a member is p = (P(x = -x*), P(x = x*)).  A variable has Poisson(k alpha)
clauses; in each the planted literal pattern (L*_1..L*_k) is uniform over {±1}^k with the two all-equal
patterns weighted e; relative to a target of planted literal +1 the other k - 1 planted literals are
uniform with the all-(+1) pattern weighted e.  The clause message is eq. (2) of ``samplers.denoisers.bp``
with t_j = P(L_j = +1) read from member j and its planted literal.  Signed NAE-SAT and unsigned
hypergraph bicolouring have the same equations (the literal pattern law is the same).

The informed start is p = (0, 1).  NAE-SAT is also symmetric under the global flip of the planted value:
without side information the branch reached from the uninformed start is oriented towards the planted
value.

Bethe free entropy
------------------
Per variable of the planted graph's Gibbs measure (counting measure, log Z / n), MM ch. 14:

    Phi = E[log Z_i] + alpha E[log Z_a] - k alpha E[log Z_ia]  (Z_a, Z_ia as in the BP module).

With the edge terms evaluated on the node that is being updated (Z_ia = Z_i / Z_{i->a} with the
normalised clause messages, ``analysis.theory.population_core``),

    Phi = E[(1 - d) log Z_i + sum_{a=1}^{d} log Z_{i->a}] + alpha E[log Z_a],

reported as Phi_para + Delta Phi with the exact paramagnetic (annealed) value

    Phi_para = log 2 + alpha log(1 - 2^{1-k} (1 - e)).

Every member update of a measured sweep contributes one node term and one clause term built from k
random members with a random planted pattern.

Side information (NAE-SAT: the generative denoising paths, docs/physics.md §2)
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

Thresholds (``naesat_thresholds``)
----------------------------------
Dynamical alpha_d and condensation alpha_c as defined in ``analysis.theory.population_core``.
Kesten–Stigum (closed form): the paramagnetic fixed point is linearly unstable when
k(k-1) alpha · lambda^2 > 1, with lambda the second eigenvalue of the planted pair channel:

    lambda = -(1 - e)/(2^{k-1} - 1 + e), branching k(k-1) alpha
    =>  alpha_KS = ((2^{k-1} - 1 + e)/(1 - e))^2 / (k (k - 1)).

References: F. Krzakala & L. Zdeborová, "Hiding quiet solutions in random constraint satisfaction
problems", PRL 102, 238701 (2009); and those of ``analysis.theory.population_core``.
"""

from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from samplers.denoisers.bp import nae_clause_fold
from spinglass._validate import SeedLike, check_int, check_real, make_rng

from . import population_core as core
from .population_core import FLOOR, RESCALE, TIE, cavity_log_sum, index, normal, poisson, uniform

__all__ = [
    "check_k", "gaussian_log2cosh_mean", "naesat_kesten_stigum", "naesat_paramagnetic_free_entropy",
    "naesat_population_dynamics", "naesat_population_pair", "naesat_reference_free_entropy", "naesat_thresholds",
]


def check_k(k) -> int:
    """The clause size k >= 2."""
    return check_int("k", k, minimum=2)


# ----------------------------------------------------------------------------------------------------
# numba kernels
# ----------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _nae_draw_pattern(st, pat, k_other, ew):
    """Planted literal pattern of k_other literals (+1 / -1): uniform, the all-(+1) pattern weighted ew."""
    n_pat = 1 << k_other
    while True:
        code = int(uniform(st) * n_pat)
        if code >= n_pat:
            code = n_pat - 1
        if code != n_pat - 1 or uniform(st) < ew:
            break
    for j in range(k_other):
        pat[j] = 1 if (code >> j) & 1 else -1


@njit(cache=True, inline="always")
def _nae_clause_log(st, pop, k, ew):
    """log Z_a of one clause: k random members, planted pattern uniform over the non-all-equal patterns of
    k literals (the two all-equal patterns weighted ew)."""
    N = pop.shape[0]
    n_pat = 1 << k
    while True:
        code = int(uniform(st) * n_pat)
        if code >= n_pat:
            code = n_pat - 1
        if (code != 0 and code != n_pat - 1) or uniform(st) < ew:
            break
    T = 1.0
    F = 1.0
    Nm = 0.0
    for j in range(k):
        r = index(st, N)
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
            if theta > 0.0 and uniform(st) < theta:
                # revealed: the message is the planted value; node term log Z_i - sum_a log Z_ia = 0
                pop[target, 0] = 0.0
                pop[target, 1] = 1.0
                if m_idx >= 0:
                    acc_fe += alpha * (_nae_clause_log(st, pop, k, ew) - log_para_clause)
                continue
            h = 0.0
            if gamma > 0.0:
                h = gamma + sq_gamma * normal(st)
            d = poisson(st, deg_mean)
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
                    r = index(st, N)
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
                if mx < RESCALE:
                    if mx == 0.0:  # cannot happen while the planted weights are floored
                        pc = 1.0
                        mx = 1.0
                    pc /= mx
                    pw /= mx
                    log_scale += np.log(mx)
                if pc < FLOOR:
                    pc = FLOOR
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
                if pc < FLOOR * (pc + pw):
                    pc = FLOOR * (pc + pw)
            z = pc + pw
            if m_idx >= 0:
                log_zi = np.log(z) + log_scale
                cav = cavity_log_sum(H, d, 2, pre, pre_log, suf, w0) if d > 0 else 0.0
                if gamma > 0.0:
                    # reference log 2cosh h; the leave-one-out normalisers carry e^{|h|} each
                    acc_fe += (1.0 - d) * log_zi + cav + d * ah - (ah + np.log1p(np.exp(-2.0 * ah)))
                else:
                    acc_fe += (1.0 - d) * log_zi + cav - log2
                # clause term: all k literals, pattern uniform over non-all-equal (all-equal weighted ew)
                acc_fe += alpha * (_nae_clause_log(st, pop, k, ew) - log_para_clause)
            pop[target, 0] = pw / z
            pop[target, 1] = pc / z
            if pop[target, 1] < FLOOR:
                pop[target, 1] = FLOOR
        ov = 0.0
        hit = 0.0
        for r in range(N):
            ov += pop[r, 1] - pop[r, 0]
            if abs(pop[r, 1] - pop[r, 0]) <= TIE:
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
def naesat_kesten_stigum(k: int, beta: float = math.inf) -> float:
    r"""Kesten–Stigum clause density of planted k-NAE-SAT,
    alpha_KS = ((2^{k-1} - 1 + e^{-beta}) / (1 - e^{-beta}))^2 / (k (k - 1))."""
    k = check_k(k)
    ew = core.edge_weight(core.check_beta(beta))
    if ew >= 1.0:
        return math.inf
    return ((2.0 ** (k - 1) - 1.0 + ew) / (1.0 - ew)) ** 2 / (k * (k - 1.0))


def naesat_paramagnetic_free_entropy(k: int, alpha: float, beta: float = math.inf) -> float:
    """Annealed (paramagnetic) free entropy per variable, log 2 + alpha log(1 - 2^{1-k}(1 - e^{-beta}))."""
    k = check_k(k)
    alpha = check_real("alpha", alpha, minimum=0.0)
    ew = core.edge_weight(core.check_beta(beta))
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
    k = check_k(k)
    alpha = check_real("alpha", alpha, minimum=0.0)
    ew = core.edge_weight(core.check_beta(beta))
    side_snr = check_real("side_snr", side_snr, minimum=0.0)
    theta = check_real("revealed_fraction", revealed_fraction, minimum=0.0, maximum=1.0)
    return ((1.0 - theta) * gaussian_log2cosh_mean(side_snr)
            + alpha * math.log(1.0 - 2.0 ** (1 - k) * (1.0 - ew)))



# ----------------------------------------------------------------------------------------------------
# population dynamics and thresholds
# ----------------------------------------------------------------------------------------------------
def naesat_population_dynamics(k: int, alpha: float, beta: float = math.inf, *, population: int = 20000,
                               sweeps: int = 300, measure: int = 100, init: str = "informed",
                               noise: float = 1e-3, side_snr: float = 0.0, revealed_fraction: float = 0.0,
                               seed: SeedLike = None) -> core.PopulationResult:
    r"""Planted population dynamics for k-NAE-SAT / hypergraph bicolouring at clause density ``alpha``.

    Arguments as ``potts_population_dynamics`` (``population_potts``) with k (>= 2, clause size) and
    alpha (>= 0) in place of q and c; the uninformed start is p = (1/2 - noise · u, 1/2 + noise · u),
    u uniform in [-1, 1].

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
    k = check_k(k)
    alpha = check_real("alpha", alpha, minimum=0.0)
    beta = core.check_beta(beta)
    population, sweeps, measure, init, noise = core.check_run(population, sweeps, measure, init, noise)
    side_snr = check_real("side_snr", side_snr, minimum=0.0)
    revealed_fraction = check_real("revealed_fraction", revealed_fraction, minimum=0.0, maximum=1.0)
    rng = make_rng(seed)
    pop = _naesat_start(init, population, noise, rng)
    return _naesat_run(k, alpha, beta, pop, init, sweeps, measure, noise, side_snr, revealed_fraction,
                       core.kernel_seed(rng), seed)


def _naesat_start(init: str, population: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    if init == "informed":
        pop = np.zeros((population, 2))
        pop[:, 1] = 1.0
    else:
        u = noise * rng.uniform(-1.0, 1.0, size=population)
        pop = np.stack([0.5 - u, 0.5 + u], axis=1)
    return pop


def _naesat_run(k, alpha, beta, pop, init, sweeps, measure, noise, side_snr, revealed_fraction, st,
                seed) -> core.PopulationResult:
    """Run the NAE-SAT kernel from ``pop`` with the xoshiro state ``st`` (validated arguments)."""
    population = pop.shape[0]
    ew = core.edge_weight(beta)
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
    return core.population_result("naesat", params, init, population, sweeps, measure, noise, seed, overlap,
                                  overlap_map, delta, para, pop, seconds)


def naesat_population_pair(k: int, alpha: float, beta: float = math.inf, *, population: int = 20000,
                           sweeps: int = 300, measure: int = 100, noise: float = 1e-3, side_snr: float = 0.0,
                           revealed_fraction: float = 0.0,
                           seed: SeedLike = None) -> tuple[core.PopulationResult, core.PopulationResult]:
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
    k = check_k(k)
    alpha = check_real("alpha", alpha, minimum=0.0)
    beta = core.check_beta(beta)
    population, sweeps, measure, _, noise = core.check_run(population, sweeps, measure, "informed", noise)
    side_snr = check_real("side_snr", side_snr, minimum=0.0)
    revealed_fraction = check_real("revealed_fraction", revealed_fraction, minimum=0.0, maximum=1.0)
    return core.coupled_pair(make_rng(seed), lambda init, rng: _naesat_start(init, population, noise, rng),
                             lambda pop, init, st: _naesat_run(k, alpha, beta, pop, init, sweeps, measure, noise,
                                                               side_snr, revealed_fraction, st, seed))


def naesat_thresholds(k: int, beta: float = math.inf, *, alpha_range: tuple[float, float] | None = None,
                      population: int = 20000, sweeps: int = 300, measure: int = 100, tol: float = 0.02,
                      overlap_threshold: float = 0.1, n_fit: int = 5, seed: SeedLike = None) -> core.ThresholdResult:
    r"""Dynamical alpha_d, condensation alpha_c and Kesten–Stigum alpha_KS of planted k-NAE-SAT.

    Arguments as ``potts_thresholds`` (``population_potts``; ``alpha_range`` defaults to
    (0.3 alpha_KS, alpha_KS - gap)).
    """
    return core.planted_thresholds("naesat", "k", check_k(k), beta, alpha_range, range_name="alpha_range",
                                   lo_fraction=0.3, kesten_stigum=naesat_kesten_stigum,
                                   population_dynamics=naesat_population_dynamics, population=population,
                                   sweeps=sweeps, measure=measure, tol=tol, overlap_threshold=overlap_threshold,
                                   n_fit=n_fit, seed=seed)
