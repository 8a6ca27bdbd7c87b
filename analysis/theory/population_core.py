r"""Shared machinery of the cavity population dynamics for the planted sparse ensembles (docs/physics.md §1, §4
"Sparse graphs"): the random numbers of the kernels, the argument checks, the result containers and the
threshold search common to both families.

Two ensembles, both in the large-n limit of ``spinglass.sparse``, each with its kernel in a module of its own:

* planted q-colouring / planted Potts on Erdős–Rényi graphs of average degree c at inverse temperature
  beta (beta = inf: proper colourings; finite beta: an edge between equal colours is kept with relative
  weight e = exp(-beta)): ``analysis.theory.population_potts``;
* planted k-NAE-SAT / hypergraph bicolouring at clause density alpha (a clause whose literals are all
  equal under the planted configuration is kept with relative weight e = exp(-beta)):
  ``analysis.theory.population_naesat``.

Planted (Nishimori) population dynamics
---------------------------------------
On a sparse planted graph the neighbourhood of a variable is a Galton–Watson tree whose planted values
are a broadcast process.  The distribution of BP messages conditioned on the planted value is the fixed
point of the cavity recursion on this tree; every message is stored conditioned on the planted value
(each family's module gives its tree, its members and its update).

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
  measure, log Z / n), MM ch. 14 (each family's module gives its form Phi = E[log Z_i] + edge or clause
  terms).  The edge terms are evaluated on the node that is being updated: with
  Z_{i->l} = sum_sigma prod_{l' != l} h_{l'}(sigma) the normaliser of the cavity message towards
  neighbour l, Z_il = Z_i / Z_{i->l} (the same identity holds for NAE-SAT with the normalised clause
  messages), so that Phi is a mean of one term per updated node (written out in each family's module):
  an unbiased rewriting (the excess degree of a Poisson law is Poisson) whose terms are strongly
  correlated within a node, so that the sample variance is far smaller than that of the separate terms.
  It is reported as Phi_para + Delta Phi, where the paramagnetic (annealed) value Phi_para is exact (in
  each family's module), and Delta Phi is the sample mean of each node's (and clause's) term minus its
  paramagnetic value at the same degree d, which removes the Poisson fluctuations of the degree from the
  error bar.  Every member update of a measured sweep contributes one node term (and, for NAE-SAT, one
  clause term built from k random members with a random planted pattern).

Thresholds (``potts_thresholds``, ``naesat_thresholds``, both through ``planted_thresholds``)
---------------------------------------------------------------------------------------------
* dynamical c_d (alpha_d): smallest density at which the informed start keeps an overlap above
  ``overlap_threshold`` after ``sweeps`` sweeps (bisection);
* condensation / information-theoretic c_c (alpha_c): where Delta Phi of the informed branch crosses 0
  (Phi_informed = Phi_para; the planted cluster's entropy equals the total), from a weighted linear
  fit of Delta Phi at several densities around the sign change;
* Kesten–Stigum (closed form, in each family's module): the paramagnetic fixed point is linearly
  unstable when (branching) · lambda^2 > 1, with lambda the second eigenvalue of the planted pair
  channel.

  When the informed start keeps no overlap just below c_KS (at c_KS - max(2 tol, 0.005 c_KS)) the
  transition is continuous: c_d = c_c = c_KS is reported with ``continuous`` True (q = 3 colouring,
  c_KS = 4).  A weakly first-order transition whose informed overlap stays below ``overlap_threshold``
  would be classified as continuous: lower the threshold to resolve it.

References: L. Zdeborová & F. Krzakala, "Statistical physics of inference", Adv. Phys. 65, 453 (2016);
M. Mézard & A. Montanari, *Information, Physics and Computation*, ch. 14 and 19 (population dynamics).

Randomness: the kernels draw from a xoshiro256** stream (Blackman & Vigna) whose state is taken from the
``seed`` argument (int or Generator), so equal seeds give equal numbers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from spinglass._validate import SeedLike, check_int, check_real, make_rng, seed_repr

#: Smallest weight kept on the planted value of a member and of a partial product (relative to its largest
#: entry): keeps the planted value strictly positive, so that no product of two such weights underflows.
FLOOR = 1e-150
RESCALE = 1e-100
#: Relative difference below which two marginal entries count as tied in the MAP overlap (rounding level).
TIE = 1e-9
_INITS = ("informed", "uninformed")


# ----------------------------------------------------------------------------------------------------
# numba helpers: the xoshiro256** stream and its draws, leave-one-out normalisers
# ----------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << k) | (x >> (np.uint64(64) - k))


@njit(cache=True, inline="always")
def uniform(st):
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
def poisson(st, lam):
    """A Poisson(lam) draw by inversion (in pieces of mean <= 500, so that exp(-mean) never underflows)."""
    total = 0
    remaining = lam
    while remaining > 0.0:
        mean = remaining if remaining < 500.0 else 500.0
        remaining -= mean
        u = uniform(st)
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
def index(st, n):
    """A uniform integer in [0, n)."""
    r = int(uniform(st) * n)
    return r if r < n else n - 1


@njit(cache=True, inline="always")
def normal(st):
    """A standard normal draw (Box–Muller, one of the pair) from the xoshiro256** state ``st``."""
    u1 = 1.0 - uniform(st)  # in (0, 1]
    u2 = uniform(st)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit(cache=True, inline="always")
def cavity_log_sum(H, d, q, pre, pre_log, suf, w0):
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
        if mx < RESCALE:
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
        if mx < RESCALE:
            if mx == 0.0:
                mx = 1.0
            for s in range(q):
                suf[s] /= mx
            suf_log += np.log(mx)
    return total



# ----------------------------------------------------------------------------------------------------
# arguments shared by both families
# ----------------------------------------------------------------------------------------------------
def edge_weight(beta: float) -> float:
    """The relative weight e = exp(-beta) of a violated edge / clause (0 at beta = inf)."""
    return 0.0 if math.isinf(beta) else math.exp(-beta)


def check_beta(beta) -> float:
    """beta >= 0, inf allowed."""
    return check_real("beta", beta, minimum=0.0, allow_inf=True)



# ----------------------------------------------------------------------------------------------------
# population runs
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


def check_run(population, sweeps, measure, init, noise) -> tuple[int, int, int, str, float]:
    """The validated run settings (population, sweeps, measure, init, noise) of either family."""
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


def kernel_seed(rng: np.random.Generator) -> np.ndarray:
    """A fresh xoshiro256** state (4 uint64, never all zero) drawn from ``rng``."""
    st = rng.integers(0, np.iinfo(np.uint64).max, size=4, dtype=np.uint64, endpoint=True)
    if not st.any():
        st[0] = 1
    return st


def coupled_pair(rng: np.random.Generator, start, run) -> tuple:
    """(informed, uninformed) runs driven by one random environment: one kernel state drawn from ``rng``, then
    per start ``pop = start(init, rng)`` and ``run(pop, init, a copy of the state)`` (common random numbers;
    ``naesat_population_pair``, ``potts_population_pair``)."""
    st = kernel_seed(rng)
    return tuple(run(start(init, rng), init, st.copy()) for init in ("informed", "uninformed"))


def population_result(family, params, init, population, sweeps, measure, noise, seed, overlap, overlap_map, delta,
                      para, pop, seconds) -> PopulationResult:
    """The ``PopulationResult`` of a finished run: means and error bars over the measured sweeps."""
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



def planted_thresholds(family: str, size_name: str, size: int, beta: float, density_range, *, range_name: str,
                       lo_fraction: float, kesten_stigum: Callable[[int, float], float],
                       population_dynamics: Callable[..., PopulationResult], population: int, sweeps: int,
                       measure: int, tol: float, overlap_threshold: float, n_fit: int,
                       seed: SeedLike) -> ThresholdResult:
    """Thresholds of one planted family (the shared body of ``potts_thresholds`` and ``naesat_thresholds``).

    ``size`` is the family's validated size parameter, named ``size_name`` (q or k); the density (c or
    alpha) is bracketed by ``density_range`` (argument name ``range_name``; default
    (lo_fraction ks, ks - gap) below ``kesten_stigum(size, beta)``).  Every evaluation is a fresh
    ``population_dynamics(size, density, beta, ...)`` run with the given population / sweeps / measure.
    See the module docstring ("Thresholds") for the definitions.
    """
    beta = check_beta(beta)
    tol, overlap_threshold, n_fit = _check_threshold_args(tol, overlap_threshold, n_fit)
    ks = kesten_stigum(size, beta)
    lo, hi = _bracket(range_name, density_range, ks, lo_fraction, tol)
    rng = make_rng(seed)

    def run(density, init, s):
        return population_dynamics(size, density, beta, population=population, sweeps=sweeps, measure=measure,
                                   init=init, seed=s)

    params = {size_name: size, "beta": beta, "population": population, "sweeps": sweeps, "measure": measure,
              "tol": tol, "overlap_threshold": overlap_threshold, "seed": seed_repr(seed)}
    return _thresholds(family, run, ks, lo, hi, tol, overlap_threshold, n_fit, rng, params)


__all__ = [
    "FLOOR", "PopulationResult", "RESCALE", "TIE", "ThresholdResult", "cavity_log_sum", "check_beta", "check_run",
    "edge_weight", "index", "kernel_seed", "normal", "planted_thresholds", "poisson", "population_result",
    "uniform",
]
