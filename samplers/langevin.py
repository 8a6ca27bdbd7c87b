r"""Langevin dynamics and MALA for scalar models with a continuous prior (docs/physics.md §5).

Target.  For a scalar model (``PairwiseModel`` / ``PSpinModel``: spiked Wigner, spiked tensor, ...) with a
continuous single-site prior (``Gaussian()``), the target density with respect to Lebesgue measure on R^N is

    log mu(x) = sum_i log p0(x_i) - beta E(x)          (= ``model.log_weight(x)``, unnormalised),

E the model's Hamiltonian (``spinglass.scalar``).  Its gradient is computed analytically and batched over
chains (no loop over spins):

    d/dx_i sum_j log p0(x_j)          = -x_i                          (Gaussian prior; 0 for counting measure)
    E_pair = -(1/2) x^T J x           -> grad = -J x                  (J symmetric, zero diagonal: one BLAS
                                                                        product x @ J for all chains)
    E_pspin = -sum_e w_e prod_{k in e} x_k
                                      -> grad_i = -sum_{e ∋ i} w_e prod_{k in e, k != i} x_k   (numba kernel)
    E_field = -h . x                  -> grad = -h
    E_glob = c e_p(w), w_i = x_i^r    -> grad_i = c e_{p-1}(w without i) r x_i^(r-1),
                                         e_k(w without i) = e_k(w) - w_i e_{k-1}(w without i), e_0 = 1.

For the spiked Wigner model (c = lam/(2N), r = p = 2) the last line is (lam/N) x_i (|x|^2 - x_i^2).
``log_density_and_grad(model, x)`` exposes (log mu, grad log mu).

Unadjusted Langevin (``Langevin``): the Euler-Maruyama discretisation of dX = grad log mu(X) dt + sqrt(2) dB,

    x' = x + h grad log mu(x) + sqrt(2 h) xi,   xi ~ N(0, I_N),

whose stationary law differs from mu by O(h) (first-order weak error); every move is kept, so the reported
acceptance is 1.  With a superlinear drift (the quartic global terms) a too-large step can make the scheme
diverge; a ``RuntimeError`` asking for a smaller step is raised when a chain leaves the finite numbers.

MALA (``MALA``): the Langevin move above as a proposal y, with proposal density
q(y | x) = N(y; x + h g(x), 2h I), accepted with probability min(1, a),

    log a = log mu(y) - log mu(x) + log q(x | y) - log q(y | x),
    log q(x | y) - log q(y | x) = ( |y - x - h g(x)|^2 - |x - y - h g(y)|^2 ) / (4h),

so that mu is exactly invariant (detailed balance); g = grad log mu.  Caveat: the quartic global terms make
the drift superlinear, and MALA is then not geometrically ergodic (Roberts & Tweedie, Bernoulli 1996): a chain
that reaches a stiff region of the tails (curvature >> 1/h) rejects for a long time.  The chain stays exact,
but such runs inflate the autocorrelation time; on small models prefer a step accepted well above 0.574.

On the sphere (``constraint="sphere"``: |x|^2 = N, target density mu restricted to the sphere, with respect
to its surface measure; with the Gaussian prior this is the spherical model, the prior being constant on the
sphere).  Write R = sqrt(N), P_x v = v - (x.v) x / R^2 the projection on the tangent space at x.

* ``Langevin``: projected Langevin, x' = R u/|u| with u = x + h P_x g(x) + sqrt(2h) P_x xi (unadjusted,
  O(h) bias, as in flat space).
* ``MALA``: geodesic MALA, i.e. one step of geodesic Hamiltonian Monte Carlo (Byrne & Girolami, "Geodesic
  Monte Carlo on embedded manifolds", Scand. J. Stat. 2013) with step eps = sqrt(2h): draw a tangent
  velocity v0 = P_x xi, kick v = v0 + (eps/2) P_x g(x), follow the great circle exactly for time eps,
  x' = x cos(|v| eps/R) + R (v/|v|) sin(|v| eps/R), v' = -(|v|/R) x sin(|v| eps/R) + v cos(|v| eps/R),
  kick v1 = v' + (eps/2) P_x' g(x'), and accept with probability min(1, a),
  log a = [log mu(x') - |v1|^2/2] - [log mu(x) - |v0|^2/2].  Every stage is volume preserving and reversible
  on the tangent bundle, so mu (on the sphere) is exactly invariant.  To first order in h the position
  update is the projected Langevin move above, so the same step sizes apply.

Step-size control (``MALA(adapt=True)``).  During the ``burn_in`` steps the step follows the Robbins-Monro
recursion on log h,

    log h_{t+1} = log h_t + adapt_rate t^(-0.6) (abar_t - target_accept),

abar_t the acceptance probability min(1, a) averaged over chains at step t (one step size shared by all
chains).  At the end of burn-in the step is frozen at exp(mean of log h_t over the second half of burn-in)
(Polyak averaging) and never changes again, so that the states kept afterwards come from a time-homogeneous
Markov chain that leaves mu invariant.  The default target 0.574 is the optimal MALA acceptance of Roberts &
Rosenthal (J. R. Stat. Soc. B 1998).  Acceptance statistics (``Samples.acceptance``) are measured over the
post-burn-in steps only (``burn_in_mean`` holds the burn-in average).

Schedule of one call (as in the MCMC samplers): every chain runs ``burn_in`` steps, then ``n_steps`` steps,
then keeps its state; with k = n_samples / n_chains > 1 it keeps k states spaced by ``thin`` steps.  Row
``c * k + j`` of ``Samples.x`` is the j-th state kept by chain c.  Every ``trace_every`` steps (counted from
the first step of the run, burn-in included) each chain records ``trace["energy"]`` (E(x)),
``trace["log_density"]`` (log mu), ``trace["norm2"]`` = |x|^2/N and, for planted models,
``trace["overlap_planted"]`` = x.x*/N (signed), of shape (n_chains, n_records) at ``trace["step"]``; MALA
also records the step size in force, ``trace["step_size"]`` (n_records,).  ``Samples.state`` (a
``LangevinState``) continues a run bit for bit: the continuation skips the burn-in and keeps the frozen step.

Randomness: one ``numpy.random.Generator`` (``spinglass._validate.make_rng(seed)``) draws the initial states
and then, at every step, xi (n_chains, N) and (MALA) the uniforms (n_chains,) of the accept tests.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from spinglass._validate import SeedLike, check_int, check_real, make_rng, seed_repr
from spinglass.base import Model, elementary_symmetric
from spinglass.priors import Gaussian
from spinglass.scalar import PairwiseModel, PSpinModel, ScalarModel

from .samples import Samples

#: Bounds on log h during adaptation (keeps the recursion finite on pathological targets).
_LOG_STEP_MIN, _LOG_STEP_MAX = math.log(1e-12), math.log(1e3)

CONSTRAINTS = (None, "sphere")


# -- log density and its gradient ------------------------------------------------------------------------


@njit(cache=True)
def _pspin_value_grad(x, edges, weights, value, grad):  # pragma: no cover - numba
    """value[b] = sum_e w_e prod_{k in e} x[b, k];  grad[b, i] = sum_{e ∋ i} w_e prod_{k in e, k != i} x[b, k].

    Leave-one-out products from prefix and suffix products (no division, exact at x_k = 0); O(B M p).
    ``value`` and ``grad`` are zeroed by the caller.
    """
    B = x.shape[0]
    M, p = edges.shape
    pre = np.empty(p + 1)
    suf = np.empty(p + 1)
    for b in range(B):
        acc = 0.0
        for e in range(M):
            w = weights[e]
            pre[0] = 1.0
            for a in range(p):
                pre[a + 1] = pre[a] * x[b, edges[e, a]]
            suf[p] = 1.0
            for a in range(p - 1, -1, -1):
                suf[a] = suf[a + 1] * x[b, edges[e, a]]
            acc += w * pre[p]
            for a in range(p):
                grad[b, edges[e, a]] += w * pre[a] * suf[a + 1]
        value[b] = acc


def check_continuous_model(model) -> ScalarModel:
    """Return ``model`` if Langevin dynamics applies to it; otherwise a ``TypeError`` / ``ValueError``.

    Langevin needs a ``PairwiseModel`` or ``PSpinModel`` with a continuous prior whose score is known
    (``Gaussian()``) and a finite beta.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a spinglass Model, got {type(model).__name__}")
    if not isinstance(model, PairwiseModel | PSpinModel):
        raise TypeError(f"Langevin/MALA need a scalar model (PairwiseModel or PSpinModel) with a continuous "
                        f"prior; {model.family} is not one: use samplers.Metropolis, HeatBath or "
                        "ParallelTempering")
    if model.alphabet is not None or getattr(model.prior, "discrete", False):
        raise TypeError(f"{model.family} has a discrete prior {model.prior!r}: Langevin/MALA need a continuous "
                        "prior such as Gaussian(); use samplers.Metropolis, HeatBath or ParallelTempering")
    if not isinstance(model.prior, Gaussian):
        raise TypeError(f"Langevin/MALA know the score d log p0/dx only for the Gaussian prior, got "
                        f"{model.prior!r}")
    if math.isinf(model.beta):
        raise ValueError("model.beta = inf (hard constraints) has no gradient: Langevin needs a finite beta")
    return model


def _global_value_grad(model: ScalarModel, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sum_t c_t e_{p_t}(x^{r_t}) and its gradient, for a (B, n) batch."""
    value = np.zeros(x.shape[0])
    grad = np.zeros_like(x)
    for t in model.global_terms:
        w = x**t.power
        e = [elementary_symmetric(w, k) for k in range(t.order)]  # e_0 .. e_{p-1}, each (B,)
        loo = np.ones_like(x)  # e_0(w without i)
        for k in range(1, t.order):
            loo = e[k][:, None] - w * loo  # e_k(w without i)
        dw = t.power * x ** (t.power - 1) if t.power > 1 else np.ones_like(x)
        grad += t.coef * loo * dw
        # e_p(w) = (1/p) sum_i w_i e_{p-1}(w without i)
        value += t.coef * np.einsum("bi,bi->b", w, loo) / t.order
    return value, grad


def _energy_and_grad(model: ScalarModel, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E(x) (B,) and grad E(x) (B, n) for a validated (B, n) float batch."""
    if isinstance(model, PairwiseModel):
        # J symmetric: x @ J = (J @ x^T)^T; the J @ x^T form is the fast BLAS / sparse path for few chains
        lf = np.asarray(model.couplings @ x.T).T
        energy = -0.5 * np.einsum("bi,bi->b", x, lf)
        grad = -lf
    else:
        coup = np.zeros(x.shape[0])
        g = np.zeros_like(x)
        _pspin_value_grad(np.ascontiguousarray(x), model.hyperedges, model.weights, coup, g)
        energy = -coup
        grad = -g
    gval, ggrad = _global_value_grad(model, x)
    energy = energy - x @ model.fields + gval
    grad = grad - model.fields + ggrad
    return energy, grad


def _evaluate(model: ScalarModel, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log mu, grad log mu, E) of a (B, n) batch; log mu matches ``model.log_weight``."""
    energy, grad_e = _energy_and_grad(model, x)
    if model.counting:
        log_prior = np.zeros(x.shape[0])
        score = np.zeros_like(x)
    else:  # Gaussian prior
        log_prior = -0.5 * np.einsum("bi,bi->b", x, x) - 0.5 * model.n * math.log(2.0 * math.pi)
        score = -x
    return log_prior - model.beta * energy, score - model.beta * grad_e, energy


def log_density_and_grad(model, x) -> tuple[np.ndarray | float, np.ndarray]:
    """Unnormalised log mu(x) = sum_i log p0(x_i) - beta E(x) and its gradient, for x of shape (n,) or (..., n).

    Raises ``TypeError`` for models Langevin does not handle (see ``check_continuous_model``).
    """
    model = check_continuous_model(model)
    xb, single = model._batch(x)
    lp, g, _ = _evaluate(model, xb)
    if single:
        return float(lp[0]), g[0]
    shape = np.shape(x)
    return lp.reshape(shape[:-1]), g.reshape(shape)


# -- the chain state ---------------------------------------------------------------------------------


@dataclass
class LangevinState:
    """What ``sample(..., state=...)`` needs to continue a Langevin / MALA run bit for bit."""

    x: np.ndarray
    step: float
    rng: np.random.Generator
    steps_done: int
    constraint: str | None
    model: dict
    fingerprint: str = ""

    def copy(self) -> LangevinState:
        return LangevinState(self.x.copy(), self.step, copy.deepcopy(self.rng), self.steps_done, self.constraint,
                             dict(self.model), self.fingerprint)


def _tangent(x: np.ndarray, v: np.ndarray, r2: float) -> np.ndarray:
    """P_x v = v - (x.v) x / R^2 row-wise."""
    return v - (np.einsum("bi,bi->b", x, v) / r2)[:, None] * x


def _to_sphere(x: np.ndarray, radius: float) -> np.ndarray:
    return x * (radius / np.linalg.norm(x, axis=1))[:, None]


# -- samplers ----------------------------------------------------------------------------------------


class _LangevinBase:
    """Shared driver: settings, validation, schedule, traces; subclasses define one move."""

    name = "Langevin"
    resumable = True
    adjusted = False

    def __init__(self, step: float = 0.01, n_steps: int = 1000, *, thin: int = 1, burn_in: int = 0,
                 trace_every: int = 1, constraint: str | None = None):
        self.step = check_real("step", step, minimum=0.0, strict_min=True)
        self.n_steps = check_int("n_steps", n_steps, minimum=1)
        self.thin = check_int("thin", thin, minimum=1)
        self.burn_in = check_int("burn_in", burn_in, minimum=0)
        self.trace_every = check_int("trace_every", trace_every, minimum=1)
        if constraint not in CONSTRAINTS:
            raise ValueError(f"constraint must be None or 'sphere', got {constraint!r}")
        self.constraint = constraint

    def settings(self) -> dict:
        return {"name": self.name, "step": self.step, "n_steps": self.n_steps, "thin": self.thin,
                "burn_in": self.burn_in, "trace_every": self.trace_every, "constraint": self.constraint}

    def __repr__(self) -> str:
        s = self.settings()
        return f"{s.pop('name')}({', '.join(f'{k}={v!r}' for k, v in s.items())})"

    # -- hooks ----------------------------------------------------------------------------------------
    def _adapting(self) -> bool:
        return False

    def _move(self, model, x, lp, g, e, h, rng, radius):
        """One step for all chains: returns (x, lp, g, e, acceptance probability (C,), accepted (C,) bool)."""
        raise NotImplementedError

    # -- the run --------------------------------------------------------------------------------------
    def sample(self, model: Model, n_samples: int, *, seed: SeedLike = None, n_chains: int | None = None,
               init: str | np.ndarray = "random", state: LangevinState | None = None,
               progress: bool = False) -> Samples:
        """Draw ``n_samples`` samples of ``model`` (a scalar model with a Gaussian prior).

        Parameters
        ----------
        n_samples : number of rows of ``Samples.x``; a multiple of ``n_chains``.
        seed : int or Generator for the initial states and the noise.
        n_chains : independent chains run together (default ``n_samples``: one sample per chain).
        init : "random" (i.i.d. from the prior), "planted", or an array of shape (n,) or (n_chains, n).  With
            ``constraint="sphere"`` the initial states are rescaled onto |x|^2 = n.
        state : a ``LangevinState`` (``Samples.state`` of an earlier run on the same model) to continue;
            ``seed`` and ``init`` are then ignored, the burn-in is skipped and the state's step is used.
        progress : show a tqdm progress bar over steps.
        """
        model = check_continuous_model(model)
        n_samples = check_int("n_samples", n_samples, minimum=1)
        n = model.n
        radius = math.sqrt(n)
        if state is not None:
            if not isinstance(state, LangevinState):
                raise TypeError("state must be a LangevinState (Samples.state of an earlier Langevin/MALA run)")
            if state.fingerprint != model.fingerprint():
                raise ValueError("state belongs to a different model instance (its fingerprint differs)")
            if state.constraint != self.constraint:
                raise ValueError(f"state was run with constraint={state.constraint!r}, this sampler has "
                                 f"constraint={self.constraint!r}")
            st = state.copy()
            if n_chains is not None and n_chains != st.x.shape[0]:
                raise ValueError(f"n_chains = {n_chains} differs from the state's {st.x.shape[0]} chains")
            n_chains = st.x.shape[0]
            burn_in = 0
        else:
            n_chains = n_samples if n_chains is None else check_int("n_chains", n_chains, minimum=1)
            rng = make_rng(seed)
            x0 = self._initial_states(model, n_chains, init, rng)
            st = LangevinState(x=x0, step=self.step, rng=rng, steps_done=0, constraint=self.constraint,
                               model=model.describe(), fingerprint=model.fingerprint())
            burn_in = self.burn_in
        if n_samples % n_chains:
            raise ValueError(f"n_samples = {n_samples} must be a multiple of n_chains = {n_chains}")
        C = n_chains
        per_chain = n_samples // C
        adapt = self._adapting() and state is None
        rng = st.rng
        total = burn_in + self.n_steps + (per_chain - 1) * self.thin
        first = st.steps_done + 1
        global_steps = np.arange(first, first + total)
        rec = np.flatnonzero(global_steps % self.trace_every == 0)
        n_rec = rec.size
        tr_e = np.empty((C, n_rec))
        tr_lp = np.empty((C, n_rec))
        tr_q = np.empty((C, n_rec))
        tr_ov = np.empty((C, n_rec)) if model.planted is not None else None
        tr_h = np.empty(n_rec)
        planted = None if model.planted is None else np.asarray(model.planted, dtype=float)
        keep_at = {burn_in + self.n_steps + j * self.thin: j for j in range(per_chain)}
        x_out = np.empty((n_samples, n))
        acc_burn = np.zeros(C)
        acc_run = np.zeros(C)
        x = st.x
        lp, g, e = _evaluate(model, x)
        if not np.all(np.isfinite(lp)):
            raise ValueError("the initial states have a non-finite log density")
        log_h = math.log(st.step)
        h = st.step
        half_sum, half_count = 0.0, 0
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc=f"{self.name} {model.family}", unit="step")
        r_i = 0
        t0 = time.perf_counter()
        for t in range(1, total + 1):
            in_burn = t <= burn_in
            h_used = h
            with np.errstate(over="ignore", invalid="ignore"):  # far proposals: rejected (MALA) or raised
                x, lp, g, e, a_prob, accepted = self._move(model, x, lp, g, e, h, rng, radius)
            if in_burn:
                acc_burn += accepted
                if adapt:
                    log_h += self.adapt_rate * t ** -0.6 * (float(np.mean(a_prob)) - self.target_accept)
                    log_h = min(max(log_h, _LOG_STEP_MIN), _LOG_STEP_MAX)
                    if t > burn_in // 2:
                        half_sum += log_h
                        half_count += 1
                    h = math.exp(log_h) if t < burn_in else math.exp(half_sum / half_count)
            else:
                acc_run += accepted
            if r_i < n_rec and rec[r_i] == t - 1:
                tr_e[:, r_i] = e
                tr_lp[:, r_i] = lp
                tr_q[:, r_i] = np.einsum("bi,bi->b", x, x) / n
                if tr_ov is not None:
                    tr_ov[:, r_i] = x @ planted / n
                tr_h[r_i] = h_used
                r_i += 1
            j = keep_at.get(t)
            if j is not None:
                x_out[np.arange(C) * per_chain + j] = x
            if bar is not None:
                bar.update(1)
        wall = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        st.x = x
        st.step = h
        st.rng = copy.deepcopy(rng)  # detach from a Generator the caller may keep using
        st.steps_done += total
        run_steps = total - burn_in
        per_chain_acc = acc_run / run_steps
        acceptance: dict[str, Any] = {"mean": float(per_chain_acc.mean()), "per_chain": per_chain_acc,
                                      "step": h}
        if burn_in:
            acceptance["burn_in_mean"] = float(acc_burn.mean() / burn_in)
        if self.adjusted:
            acceptance["target"] = self.target_accept if adapt else None
        trace: dict[str, np.ndarray] = {"step": global_steps[rec], "energy": tr_e, "log_density": tr_lp,
                                        "norm2": tr_q}
        if tr_ov is not None:
            trace["overlap_planted"] = tr_ov
        if self.adjusted:
            trace["step_size"] = tr_h
        settings = self.settings()
        settings.update({"n_chains": C, "init": init if isinstance(init, str) else "given",
                         "continued": state is not None, "step_final": h})
        evals = C * (total + 1)
        return Samples(
            x=x_out, planted=None if planted is None else planted.copy(), model=model.describe(),
            sampler=settings, seed=seed_repr(seed) if state is None else "state",
            chain=np.repeat(np.arange(C), per_chain), trace=trace, wall_time=wall,
            work={"steps": total, "burn_in_steps": burn_in, "gradient_evaluations": evals,
                  "log_density_evaluations": evals, "chains": C, "total_steps": st.steps_done},
            acceptance=acceptance, state=st,
        )

    def _initial_states(self, model, n_chains, init, rng) -> np.ndarray:
        n = model.n
        if isinstance(init, str):
            if init == "random":
                x0 = model.random_configuration(n_chains, seed=rng)
            elif init == "planted":
                if model.planted is None:
                    raise ValueError(f"init='planted' but {model.family} has no planted configuration")
                x0 = np.broadcast_to(model.planted, (n_chains, n))
            else:
                raise ValueError(f"init must be 'random', 'planted' or an array, got {init!r}")
        else:
            try:
                x0 = np.asarray(init, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"init must be 'random', 'planted' or a real array, got {type(init).__name__}") \
                    from None
            if x0.shape == (n,):
                x0 = np.broadcast_to(x0, (n_chains, n))
            elif x0.shape != (n_chains, n):
                raise ValueError(f"init array must have shape ({n},) or ({n_chains}, {n}), got {x0.shape}")
            if not np.all(np.isfinite(x0)):
                raise ValueError("init contains NaN or infinite entries")
        x0 = np.array(x0, dtype=float)
        if self.constraint == "sphere":
            norms = np.linalg.norm(x0, axis=1)
            if np.any(norms == 0):
                raise ValueError("init has a zero row: it cannot be rescaled onto the sphere |x|^2 = n")
            x0 = _to_sphere(x0, math.sqrt(n))
        return x0

    def _check_finite(self, lp, x):
        if not (np.all(np.isfinite(lp)) and np.all(np.isfinite(x))):
            raise RuntimeError(f"{self.name} diverged (a chain left the finite numbers) at step = {self.step}: "
                               "the drift grows faster than linearly; use a smaller step (or MALA)")


class Langevin(_LangevinBase):
    r"""Unadjusted Langevin algorithm (Euler-Maruyama), x' = x + h grad log mu(x) + sqrt(2h) xi.

    Biased by O(h) (see the module docstring).  Parameters
    ----------
    step : the step h > 0.
    n_steps : steps after burn-in before the first kept state (>= 1).
    thin : steps between kept states of a chain.
    burn_in : steps run first (for ``Langevin`` simply more steps).
    trace_every : record observables every this many steps.
    constraint : None (R^N) or "sphere" (projected Langevin on |x|^2 = N, renormalised after each step).
    """

    name = "Langevin"
    adjusted = False

    def _move(self, model, x, lp, g, e, h, rng, radius):
        xi = rng.standard_normal(x.shape)
        if self.constraint == "sphere":
            r2 = radius * radius
            y = _to_sphere(x + h * _tangent(x, g, r2) + math.sqrt(2.0 * h) * _tangent(x, xi, r2), radius)
        else:
            y = x + h * g + math.sqrt(2.0 * h) * xi
        lp, g, e = _evaluate(model, y)
        self._check_finite(lp, y)
        ones = np.ones(x.shape[0])
        return y, lp, g, e, ones, ones


class MALA(_LangevinBase):
    r"""Metropolis-adjusted Langevin algorithm: Langevin proposal y = x + h g(x) + sqrt(2h) xi accepted with
    min(1, mu(y) q(x|y) / (mu(x) q(y|x))), q(y|x) = N(y; x + h g(x), 2h I); exact invariance of mu.

    Parameters (besides those of ``Langevin``)
    ----------
    adapt : tune the step during ``burn_in`` toward ``target_accept`` (Robbins-Monro on log h, then frozen at
        the Polyak average of the second half; module docstring).  Needs burn_in >= 1.
    target_accept : acceptance probability aimed at, in (0, 1) (default 0.574, Roberts & Rosenthal 1998).
    adapt_rate : gain of the recursion, > 0.
    constraint : None, or "sphere" for geodesic MALA on |x|^2 = N (one-step geodesic HMC, eps = sqrt(2h)).
    """

    name = "MALA"
    adjusted = True

    def __init__(self, step: float = 0.01, n_steps: int = 1000, *, thin: int = 1, burn_in: int = 0,
                 trace_every: int = 1, constraint: str | None = None, adapt: bool = False,
                 target_accept: float = 0.574, adapt_rate: float = 1.0):
        super().__init__(step, n_steps, thin=thin, burn_in=burn_in, trace_every=trace_every, constraint=constraint)
        if not isinstance(adapt, bool | np.bool_):
            raise TypeError(f"adapt must be a bool, got {type(adapt).__name__}")
        self.adapt = bool(adapt)
        self.target_accept = check_real("target_accept", target_accept, minimum=0.0, maximum=1.0, strict_min=True)
        if self.target_accept == 1.0:
            raise ValueError("target_accept must be < 1")
        self.adapt_rate = check_real("adapt_rate", adapt_rate, minimum=0.0, strict_min=True)
        if self.adapt and self.burn_in < 1:
            raise ValueError("burn_in must be >= 1 when adapt=True (the step is tuned during burn-in only)")

    def settings(self) -> dict:
        s = super().settings()
        s.update({"adapt": self.adapt, "target_accept": self.target_accept, "adapt_rate": self.adapt_rate})
        return s

    def _adapting(self) -> bool:
        return self.adapt

    def _log_correction(self, x, y, g, gy, h, xi):
        """log q(x | y) - log q(y | x) for the flat Langevin proposal (y - x - h g = sqrt(2h) xi)."""
        back = x - y - h * gy
        return (2.0 * h * np.einsum("bi,bi->b", xi, xi) - np.einsum("bi,bi->b", back, back)) / (4.0 * h)

    def _kinetic(self, v):
        """|v|^2 / 2 of tangent velocities (the geodesic-HMC kinetic energy)."""
        return 0.5 * np.einsum("bi,bi->b", v, v)

    def _move(self, model, x, lp, g, e, h, rng, radius):
        C = x.shape[0]
        xi = rng.standard_normal(x.shape)
        u = rng.random(C)
        if self.constraint == "sphere":
            r2 = radius * radius
            eps = math.sqrt(2.0 * h)
            v0 = _tangent(x, xi, r2)
            v = v0 + 0.5 * eps * _tangent(x, g, r2)
            speed = np.linalg.norm(v, axis=1)
            angle = speed * eps / radius
            safe = np.where(speed > 0, speed, 1.0)
            cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
            y = x * cos + (radius / safe)[:, None] * v * sin
            vy = -(speed / radius)[:, None] * x * sin + v * cos
            y = _to_sphere(y, radius)
            lpy, gy, ey = _evaluate(model, y)
            v1 = _tangent(y, vy, r2) + 0.5 * eps * _tangent(y, gy, r2)
            log_a = (lpy - self._kinetic(v1)) - (lp - self._kinetic(v0))
        else:
            y = x + h * g + math.sqrt(2.0 * h) * xi
            lpy, gy, ey = _evaluate(model, y)
            log_a = lpy - lp + self._log_correction(x, y, g, gy, h, xi)
        log_a = np.where(np.isfinite(log_a), log_a, -np.inf)
        with np.errstate(divide="ignore"):
            accepted = np.log(u) < log_a
        a_prob = np.exp(np.minimum(log_a, 0.0))
        x = np.where(accepted[:, None], y, x)
        lp = np.where(accepted, lpy, lp)
        g = np.where(accepted[:, None], gy, g)
        e = np.where(accepted, ey, e)
        return x, lp, g, e, a_prob, accepted


__all__ = ["Langevin", "LangevinState", "MALA", "check_continuous_model", "log_density_and_grad"]
