r"""Cavity population dynamics for planted q-colouring / planted Potts (docs/physics.md §1, §4 "Sparse graphs").

The ensemble, in the large-n limit of ``spinglass.sparse``: planted q-colouring / planted Potts on
Erdős–Rényi graphs of average degree c at inverse temperature beta (beta = inf: proper colourings; finite
beta: an edge between equal colours is kept with relative weight e = exp(-beta)).  What both families
share (random numbers, starts, observables, result containers, the threshold search) is described in
``analysis.theory.population_core``.

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

The informed start is psi = delta_0.  For q = 2 the global flip of the planted value is a symmetry too,
and the branch reached from the uninformed start is oriented towards the planted value.

Bethe free entropy
------------------
Per variable of the planted graph's Gibbs measure (counting measure, log Z / n), MM ch. 14:

    Phi = E[log Z_i] - (c/2) E[log Z_ij],   Z_i = sum_sigma prod_{l=1}^{d} h_l(sigma),
    Z_ij = sum_sigma psi_1(sigma) h_2(sigma)  (the two ends of a planted edge).

With the edge terms evaluated on the node that is being updated (Z_ij = Z_i / Z_{i->l},
``analysis.theory.population_core``),

    Phi = E[(1 - d/2) log Z_i + (1/2) sum_{l=1}^{d} log Z_{i->l}],

reported as Phi_para + Delta Phi with the exact paramagnetic (annealed) value

    Phi_para = log q + (c/2) log(1 - (1 - e)/q).

Side information (the generative denoising paths, docs/physics.md §2)
--------------------------------------------------------------------
``potts_population_dynamics(..., side_snr=gamma, revealed_fraction=theta)`` adds a node factor psi_i to every
variable, in the planted gauge (colour 0 is the planted one), as ``population_naesat`` does for NAE-SAT:

* Gaussian channel on the one-hot colours (diffusion / flow path; the drivers' representation, y in R^{n x q}):
  y_i = gamma e_{x*_i} + sqrt(gamma) z_i gives the tilt e^{<y_i, e_sigma>}, i.e. psi_i(sigma) = e^{h_sigma}
  with h_sigma = gamma 1[sigma = 0] + sqrt(gamma) z_sigma, z ~ N(0, I_q) (Box–Muller), drawn afresh every
  time a member is recomputed;
* erasure channel (autoregressive path): with probability theta a variable is revealed,
  psi_i(sigma) = 1[sigma = 0]; a recomputed member is then exactly delta_0.

The member update becomes psi_new(sigma) ∝ psi(sigma) prod_l h_l(sigma); the Bethe free entropy keeps the
form above with psi inside Z_i and Z_{i->l}.  For a revealed variable Z_i = prod_l h_l(0) and
Z_{i->l} = prod_{l' != l} h_l'(0), so its term is (1/2) sum_l log h_l(0) (its children are drawn for it in
the measured sweeps only).  This is log Z / n of Z = sum_sigma [proper] prod_i psi_i(sigma_i) (planted
gauge), the quantity compared between the two branches on the IT line.  Each term is measured from the
reference log q + h_0 + (d/2) log a (unrevealed) or (d/2) log a (revealed), a = 1 - (1 - e)/q, whose mean
``potts_reference_free_entropy`` = (1 - theta)(log q + gamma) + (c/2) log a is added back.  Checked
(``tests/test_population_paths_potts.py``) against a q-dimensional quadrature at c = 0, against the fully
revealed graph (free entropy 0) and against BP on planted 5-colourings with n = 20000, c = 8: gamma = 1,
free entropy 1.4057 (mean of three instances) against 1.4076(7) from 20000 members, overlap 0.448 against
0.449; theta = 0.3, 0.3556 against 0.3552(4), overlap 0.563 against 0.565.

Thresholds (``potts_thresholds``)
---------------------------------
Dynamical c_d and condensation c_c as defined in ``analysis.theory.population_core``.  Kesten–Stigum
(closed form): the paramagnetic fixed point is linearly unstable when c · lambda^2 > 1, with lambda the
second eigenvalue of the planted pair channel:

    lambda = -(1 - e)/(q - 1 + e),  branching c  =>  c_KS = ((q - 1 + e)/(1 - e))^2.

For q = 3 colouring (c_KS = 4) the transition is continuous: c_d = c_c = c_KS.

References: L. Zdeborová & F. Krzakala, PRE 76, 031131 (2007); A. Decelle, F. Krzakala, C. Moore &
L. Zdeborová, PRE 84, 066106 (2011) (Kesten–Stigum for the planted Potts / block model); and those of
``analysis.theory.population_core``.
"""

from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from spinglass._validate import SeedLike, check_int, check_real, make_rng

from . import population_core as core
from .population_core import FLOOR, RESCALE, TIE, cavity_log_sum, index, normal, poisson, uniform

__all__ = [
    "potts_kesten_stigum", "potts_paramagnetic_free_entropy", "potts_population_dynamics", "potts_population_pair",
    "potts_reference_free_entropy", "potts_thresholds",
]


def _check_q(q) -> int:
    return check_int("q", q, minimum=2)


# ----------------------------------------------------------------------------------------------------
# numba kernel
# ----------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _child_colour(st, zsum, ew, q):
    """Planted colour of a child given parent colour 0: 0 with probability ew / zsum, each other colour with
    probability 1 / zsum (zsum = ew + q - 1)."""
    u = uniform(st) * zsum
    a = 0 if u < ew else 1 + int(u - ew)
    return q - 1 if a > q - 1 else a


@njit(cache=True)
def _potts_pd_kernel(pop, c, ew, gamma, theta, n_sweeps, n_measure, st, overlap, overlap_map, fe_terms):
    """In-place population sweeps for the planted Potts model (members conditioned on colour 0).

    Side information (module docstring, "Side information"): each recomputed member is, with probability
    ``theta``, revealed (set to delta_0; its children are drawn only in measured sweeps, for its Bethe
    term); otherwise, when gamma > 0, it gets a fresh field h_s = gamma 1[s = 0] + sqrt(gamma) z_s
    multiplying it by e^{h_s}.  With gamma = theta = 0 no extra random numbers are drawn, so the stream
    and the results are those of the plain kernel.

    During the last ``n_measure`` sweeps every update also adds the per-node Bethe term
    (1 - d/2) log Z_i + (1/2) sum_l log Z_{i->l} minus its reference value (module docstring).
    """
    N, q = pop.shape
    sq_gamma = np.sqrt(gamma)
    hfield = np.zeros(q)
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
            if theta > 0.0 and uniform(st) < theta:
                # revealed: the member is delta_0; Bethe term (1/2) sum_l log h_l(0) (module docstring)
                if m_idx >= 0:
                    d = poisson(st, c)
                    term = 0.0
                    for _ in range(d):
                        r = index(st, N)
                        a = _child_colour(st, zsum, ew, q)
                        # h_l(0) = sum_tau w(0, tau) child(tau) = 1 - (1 - e) child(0), child(0) = pop[r, a]
                        h0 = 1.0 - (1.0 - ew) * pop[r, a]
                        term += np.log(h0) if h0 > 0.0 else np.log(FLOOR)
                    acc_fe += 0.5 * term - 0.5 * d * log_a
                for s in range(q):
                    pop[target, s] = 0.0
                pop[target, 0] = 1.0
                continue
            if gamma > 0.0:
                for s in range(q):
                    hfield[s] = sq_gamma * normal(st)
                hfield[0] += gamma
            d = poisson(st, c)
            if d > cap:
                cap = 2 * d
                H = np.empty((cap, q))
                pre = np.empty((cap, q))
                pre_log = np.empty(cap)
            for s in range(q):
                new[s] = 1.0
            log_scale = 0.0
            for l in range(d):
                r = index(st, N)
                a = _child_colour(st, zsum, ew, q)
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
                if mx < RESCALE:
                    if mx == 0.0:  # cannot happen while the planted weights are floored; keep the planted colour
                        new[0] = 1.0
                        mx = 1.0
                    inv = 1.0 / mx
                    for s in range(q):
                        new[s] *= inv
                    log_scale += np.log(mx)
                if new[0] < FLOOR:
                    new[0] = FLOOR
            hmax = 0.0
            if gamma > 0.0:
                # node factor e^{h_s} = e^{hmax} w0[s] with max(w0) = 1
                hmax = hfield[0]
                for s in range(1, q):
                    if hfield[s] > hmax:
                        hmax = hfield[s]
                for s in range(q):
                    w0[s] = np.exp(hfield[s] - hmax)
                    new[s] *= w0[s]
                log_scale += hmax
            z = 0.0
            for s in range(q):
                z += new[s]
            if gamma > 0.0 and new[0] < FLOOR * z:
                new[0] = FLOOR * z
                z = 0.0
                for s in range(q):
                    z += new[s]
            if m_idx >= 0:
                log_zi = np.log(z) + log_scale
                cav = cavity_log_sum(H, d, q, pre, pre_log, suf, w0) if d > 0 else 0.0
                # reference: log q + (d/2) log a, plus h_0 with the Gaussian field (mean gamma)
                ref = (1.0 - 0.5 * d) * (log_q + d * log_a) + 0.5 * d * (log_q + (d - 1) * log_a)
                if gamma > 0.0:
                    cav += d * hmax  # each leave-one-out normaliser carries e^{hmax}
                    ref += hfield[0]
                acc_fe += (1.0 - 0.5 * d) * log_zi + 0.5 * cav - ref
            inv = 1.0 / z
            for s in range(q):
                pop[target, s] = new[s] * inv
            if pop[target, 0] < FLOOR:
                pop[target, 0] = FLOOR
        # overlaps of the marginals (= members) with the planted colour 0
        ov = 0.0
        hit = 0.0
        for r in range(N):
            ov += pop[r, 0]
            best = pop[r, 0]
            for s in range(1, q):
                if pop[r, s] > best:
                    best = pop[r, s]
            if pop[r, 0] >= best * (1.0 - TIE):
                ties = 0
                for s in range(q):
                    if pop[r, s] >= best * (1.0 - TIE):
                        ties += 1
                hit += 1.0 / ties
        overlap[sweep] = (q * ov / N - 1.0) / (q - 1.0)
        overlap_map[sweep] = (q * hit / N - 1.0) / (q - 1.0)
        if m_idx >= 0:
            fe_terms[m_idx] = acc_fe / N



# ----------------------------------------------------------------------------------------------------
# closed forms
# ----------------------------------------------------------------------------------------------------
def potts_kesten_stigum(q: int, beta: float = math.inf) -> float:
    r"""Kesten–Stigum degree of the planted Potts model, c_KS = ((q - 1 + e^{-beta}) / (1 - e^{-beta}))^2.

    (q - 1)^2 at beta = inf; inf at beta = 0 (no information).
    """
    q = _check_q(q)
    ew = core.edge_weight(core.check_beta(beta))
    if ew >= 1.0:
        return math.inf
    return ((q - 1.0 + ew) / (1.0 - ew)) ** 2


def potts_paramagnetic_free_entropy(q: int, c: float, beta: float = math.inf) -> float:
    """Annealed (paramagnetic) free entropy per variable, log q + (c/2) log(1 - (1 - e^{-beta})/q)."""
    q = _check_q(q)
    c = check_real("c", c, minimum=0.0)
    ew = core.edge_weight(core.check_beta(beta))
    return math.log(q) + 0.5 * c * math.log(1.0 - (1.0 - ew) / q)


def potts_reference_free_entropy(q: int, c: float, beta: float = math.inf, *, side_snr: float = 0.0,
                                 revealed_fraction: float = 0.0) -> float:
    r"""Reference value Phi_ref from which ``delta_free_entropy`` is measured with side information:

        Phi_ref = (1 - theta) (log q + gamma) + (c/2) log(1 - (1 - e^{-beta})/q).

    Per variable the kernel subtracts log q + h_0 + (d/2) log a (unrevealed; h_0 = gamma + sqrt(gamma) z_0
    is the realised field on the planted colour, of mean gamma) or (d/2) log a (revealed), with
    a = 1 - (1 - e^{-beta})/q; Phi_ref is the mean of that.  It is exact, but it is a reference only, not the
    free entropy of a fixed point; at gamma = theta = 0 it is ``potts_paramagnetic_free_entropy``.
    """
    q = _check_q(q)
    c = check_real("c", c, minimum=0.0)
    ew = core.edge_weight(core.check_beta(beta))
    side_snr = check_real("side_snr", side_snr, minimum=0.0)
    theta = check_real("revealed_fraction", revealed_fraction, minimum=0.0, maximum=1.0)
    return (1.0 - theta) * (math.log(q) + side_snr) + 0.5 * c * math.log(1.0 - (1.0 - ew) / q)



# ----------------------------------------------------------------------------------------------------
# population dynamics and thresholds
# ----------------------------------------------------------------------------------------------------
def potts_population_dynamics(q: int, c: float, beta: float = math.inf, *, population: int = 20000,
                              sweeps: int = 300, measure: int = 100, init: str = "informed",
                              noise: float = 1e-3, side_snr: float = 0.0, revealed_fraction: float = 0.0,
                              seed: SeedLike = None) -> core.PopulationResult:
    r"""Planted population dynamics for q-colouring / planted Potts at average degree ``c`` and ``beta``.

    Parameters
    ----------
    q : number of colours (>= 2).  c : average degree (>= 0).  beta : inverse temperature (inf allowed).
    population : number of members N.  sweeps : number of sweeps (N member updates each).
    measure : the last ``measure`` sweeps are averaged (free entropy sampled N times per such sweep).
    init : "informed" (every member = delta on the planted colour) or "uninformed" (uniform + noise).
    noise : amplitude of the uninformed start, psi(sigma) ∝ 1 + noise · u_sigma with u uniform in [-1, 1].
    side_snr : gamma >= 0, the Gaussian channel of the diffusion / flow path on the one-hot colours, a field
        h_s = gamma 1[s = 0] + sqrt(gamma) z_s (node factor e^{h_s}) drawn afresh each time a member is
        recomputed (module docstring, "Side information").
    revealed_fraction : theta in [0, 1], the erasure channel of the autoregressive path: each recomputed
        member is delta_0 (the planted colour) with probability theta.
    seed : int or Generator.

    With gamma = theta = 0 (the defaults) the kernel draws exactly the random numbers of the plain recursion.
    With side information ``free_entropy_para`` is ``potts_reference_free_entropy`` (a reference, not a
    fixed point), and ``delta_free_entropy`` is measured from it; q = 2 without side information orients
    the uninformed branch towards the planted colour (the colour swap is then a symmetry).
    """
    q = _check_q(q)
    c = check_real("c", c, minimum=0.0)
    beta = core.check_beta(beta)
    population, sweeps, measure, init, noise = core.check_run(population, sweeps, measure, init, noise)
    side_snr = check_real("side_snr", side_snr, minimum=0.0)
    revealed_fraction = check_real("revealed_fraction", revealed_fraction, minimum=0.0, maximum=1.0)
    rng = make_rng(seed)
    pop = _potts_start(q, init, population, noise, rng)
    return _potts_run(q, c, beta, pop, init, sweeps, measure, noise, side_snr, revealed_fraction,
                      core.kernel_seed(rng), seed)


def _potts_start(q: int, init: str, population: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    if init == "informed":
        pop = np.zeros((population, q))
        pop[:, 0] = 1.0
    else:
        pop = 1.0 + noise * rng.uniform(-1.0, 1.0, size=(population, q))
        pop /= pop.sum(axis=1, keepdims=True)
    return pop


def _potts_run(q, c, beta, pop, init, sweeps, measure, noise, side_snr, revealed_fraction, st,
               seed) -> core.PopulationResult:
    """Run the Potts kernel from ``pop`` with the xoshiro state ``st`` (validated arguments)."""
    population = pop.shape[0]
    ew = core.edge_weight(beta)
    overlap = np.empty(sweeps)
    overlap_map = np.empty(sweeps)
    delta = np.empty(measure)
    t0 = time.perf_counter()
    _potts_pd_kernel(pop, c, ew, side_snr, revealed_fraction, sweeps, measure, st, overlap, overlap_map, delta)
    seconds = time.perf_counter() - t0
    side = side_snr > 0.0 or revealed_fraction > 0.0
    if q == 2 and init == "uninformed" and not side and np.mean(overlap[-measure:]) < 0.0:
        # q = 2: swapping the two colours is a symmetry of the conditioned recursion (module docstring;
        # ``population_core``, "Starts")
        pop = pop[:, ::-1].copy()
        overlap, overlap_map = -overlap, -overlap_map
    params = {"q": q, "c": c, "beta": beta}
    if side:
        params.update(side_snr=side_snr, revealed_fraction=revealed_fraction)
        para = potts_reference_free_entropy(q, c, beta, side_snr=side_snr, revealed_fraction=revealed_fraction)
    else:
        para = potts_paramagnetic_free_entropy(q, c, beta)
    return core.population_result("potts", params, init, population, sweeps, measure, noise, seed, overlap,
                                  overlap_map, delta, para, pop, seconds)


def potts_population_pair(q: int, c: float, beta: float = math.inf, *, population: int = 20000,
                          sweeps: int = 300, measure: int = 100, noise: float = 1e-3, side_snr: float = 0.0,
                          revealed_fraction: float = 0.0,
                          seed: SeedLike = None) -> tuple[core.PopulationResult, core.PopulationResult]:
    r"""The informed and the uninformed start of ``potts_population_dynamics`` driven by the *same* random
    environment (common random numbers), as ``population_naesat.naesat_population_pair``: no random draw of
    the kernel depends on the messages, so where the recursion has one attracting fixed point the two
    populations merge to rounding, and where two branches coexist they stay apart.  Returns
    (informed, uninformed).
    """
    q = _check_q(q)
    c = check_real("c", c, minimum=0.0)
    beta = core.check_beta(beta)
    population, sweeps, measure, _, noise = core.check_run(population, sweeps, measure, "informed", noise)
    side_snr = check_real("side_snr", side_snr, minimum=0.0)
    revealed_fraction = check_real("revealed_fraction", revealed_fraction, minimum=0.0, maximum=1.0)
    return core.coupled_pair(make_rng(seed), lambda init, rng: _potts_start(q, init, population, noise, rng),
                             lambda pop, init, st: _potts_run(q, c, beta, pop, init, sweeps, measure, noise, side_snr,
                                                              revealed_fraction, st, seed))


def potts_thresholds(q: int, beta: float = math.inf, *, c_range: tuple[float, float] | None = None,
                     population: int = 20000, sweeps: int = 300, measure: int = 100, tol: float = 0.02,
                     overlap_threshold: float = 0.1, n_fit: int = 5, seed: SeedLike = None) -> core.ThresholdResult:
    r"""Dynamical c_d, condensation c_c and Kesten–Stigum c_KS of the planted q-colouring / Potts model.

    ``c_range`` = (lo, hi) brackets c_d (default (0.5 c_KS, c_KS - max(2 tol, 0.005 c_KS))): the informed
    start must lose its overlap at lo; when it has none at the default hi the transition is continuous.
    Each evaluation is a fresh ``potts_population_dynamics`` run from the informed start with the given
    population / sweeps / measure; ``tol`` is the final bisection width.
    See ``analysis.theory.population_core`` ("Thresholds") and this module's docstring for the definitions.
    """
    return core.planted_thresholds("potts", "q", _check_q(q), beta, c_range, range_name="c_range", lo_fraction=0.5,
                                   kesten_stigum=potts_kesten_stigum, population_dynamics=potts_population_dynamics,
                                   population=population, sweeps=sweeps, measure=measure, tol=tol,
                                   overlap_threshold=overlap_threshold, n_fit=n_fit, seed=seed)
