r"""What the generative drivers (diffusion, flow, autoregressive) share: binding a denoiser to a model,
asking it with checks and counters, rounding to the alphabet, and recording trajectories.

A driver holds a *denoiser spec*: a ``Denoiser`` instance (bound to one model instance) or a callable
``model -> Denoiser`` (a denoiser class such as ``AMPDenoiser``, or ``functools.partial(BPDenoiser,
damping=0.3)``), so one sampler configuration can run over many instances in a sweep.  An instance is
only accepted for the model it was built on (same object, or same ``fingerprint()``): a denoiser of the
wrong size or instance would silently sample another distribution.

Queries (``DenoiserClient.ask``) are checked: non-finite means or marginals raise ``FloatingPointError``
naming the path time; the per-query ``NonConvergenceWarning`` of iterative denoisers is counted instead of
repeated (``work["denoiser_unconverged"]``) and issued once per run.

Randomness: one generator per run (from ``seed``) draws, batch after batch, the denoiser's random starts
(``Denoiser.reset(rng)``: for AMP one independent start per sample, which picks its sign lobe for a
symmetric prior) and the path noise; the same seed and ``batch_size`` give the same samples, while a
different ``batch_size`` consumes the stream in another order and gives other (equally valid) samples.

Rounding (``round_to_alphabet``): the sample is drawn from the denoiser's single-site marginals at the
last path time, x_i ~ p_i independently ("sample", the default), or set to the most probable value
("argmax").  At the end of the Gaussian path (large T) the tilted posterior is a product of near point
masses, so both agree with probability 1 - O(e^{-c T}); continuous priors return the posterior mean.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from spinglass._validate import SeedLike, check_int, make_rng, seed_repr
from spinglass.base import Model

from .denoisers.base import Denoiser, DenoiserOutput, NonConvergenceWarning
from .samples import Samples

ROUNDINGS = ("sample", "argmax")
#: Trace entries that are the path grid (shared by all samples), not per-sample values.
GRID_KEYS = ("t", "tau", "theta")


def check_denoiser_spec(denoiser) -> None:
    """TypeError unless ``denoiser`` is a Denoiser or a callable building one."""
    if not isinstance(denoiser, Denoiser) and not callable(denoiser):
        raise TypeError(f"denoiser must be a Denoiser or a callable model -> Denoiser, got {type(denoiser).__name__}")


def bind_denoiser(denoiser, model: Model) -> Denoiser:
    """The denoiser to use on ``model`` (module docstring): checked instance, or built from the factory."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a spinglass Model, got {type(model).__name__}")
    if not isinstance(denoiser, Denoiser):
        denoiser = denoiser(model)
        if not isinstance(denoiser, Denoiser):
            raise TypeError(f"the denoiser factory returned {type(denoiser).__name__}, not a Denoiser")
    if denoiser.model is not model:
        if denoiser.model.n != model.n:
            raise ValueError(f"denoiser was built for a model with n = {denoiser.model.n}, "
                             f"but the model has n = {model.n}")
        if denoiser.model.fingerprint() != model.fingerprint():
            raise ValueError(f"denoiser was built for another {denoiser.model.family} instance "
                             "(fingerprints differ): pass the model it was built on, or a denoiser factory")
    denoiser.reset()
    return denoiser


def denoiser_description(denoiser) -> dict:
    """``describe()`` of a denoiser instance, or the name of a factory."""
    if isinstance(denoiser, Denoiser):
        return denoiser.describe()
    func = getattr(denoiser, "func", denoiser)  # functools.partial
    d = {"name": getattr(func, "__name__", type(func).__name__)}
    kw = getattr(denoiser, "keywords", None)
    if kw:
        d.update({k: v for k, v in kw.items() if isinstance(v, int | float | str | bool)})
    return d


def check_rounding(rounding) -> str:
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")
    return rounding


class DenoiserClient:
    """Counts and checks the queries of one run (module docstring)."""

    def __init__(self, denoiser: Denoiser):
        self.denoiser = denoiser
        self.calls = 0
        self.rows = 0
        self.iterations = 0
        self.unconverged = 0
        self.time = 0.0

    def ask(self, *, y=None, t=0.0, revealed=None, where: str = "") -> DenoiserOutput:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonConvergenceWarning)
            out = self.denoiser.posterior(y=y, t=t, revealed=revealed)
        self.time += time.perf_counter() - start
        self.calls += 1
        self.rows += len(out.converged)
        self.iterations += int(np.sum(out.iterations))
        self.unconverged += int(np.sum(~np.asarray(out.converged)))
        name = type(self.denoiser).__name__
        if not np.all(np.isfinite(out.mean)) or (out.marginals is not None and not np.all(np.isfinite(out.marginals))):
            raise FloatingPointError(f"{name} returned non-finite values {where}")
        rows = len(out.converged)
        expected = (rows,) + site_shape(self.denoiser.model)
        if out.mean.shape != expected:
            raise ValueError(f"{name} returned a mean of shape {out.mean.shape}, expected {expected}")
        if out.marginals is not None:
            m = out.marginals
            if m.shape != (rows, self.denoiser.model.n, self.denoiser.n_values):
                raise ValueError(f"{name} returned marginals of shape {m.shape}, expected "
                                 f"{(rows, self.denoiser.model.n, self.denoiser.n_values)}")
            if np.any(m < 0) or np.any(m.sum(axis=-1) <= 0):
                raise ValueError(f"{name} returned marginals with negative entries or a zero row {where}")
        return out

    def work(self) -> dict[str, float]:
        return {"denoiser_calls": self.calls, "denoiser_rows": self.rows, "denoiser_iterations": self.iterations,
                "denoiser_unconverged": self.unconverged, "denoiser_time": self.time}

    def warn_if_unconverged(self, sampler: str) -> None:
        if self.unconverged:
            warnings.warn(f"{sampler}: {self.unconverged} of {self.rows} denoiser queries did not converge "
                          "(Samples.work['denoiser_unconverged'])", NonConvergenceWarning, stacklevel=3)


def round_to_alphabet(model: Model, out: DenoiserOutput, rounding: str, rng: np.random.Generator) -> np.ndarray:
    """Samples (B, n) on the model's alphabet from the final denoiser output (module docstring).

    A denoiser that gives means but no marginals (e.g. a learned one) is rounded to the nearest alphabet
    value of its mean (the largest coordinate of a one-hot Potts mean).
    """
    if model.alphabet is None:
        return np.asarray(out.mean, dtype=float)
    if out.marginals is None:
        return nearest_value(model, np.asarray(out.mean, dtype=float))
    p = np.asarray(out.marginals, dtype=float)
    if rounding == "argmax":
        idx = np.argmax(p, axis=-1)
    else:
        idx = categorical(p, rng)
    values = np.asarray(model.alphabet)
    return values[idx]


def nearest_value(model: Model, v: np.ndarray) -> np.ndarray:
    """Nearest alphabet value per entry (scalar models) or the largest coordinate (one-hot Potts, (..., n, q))."""
    if model.alphabet is None:
        return v
    if getattr(model, "q", None) is not None:
        return np.argmax(v, axis=-1)
    a = np.asarray(model.alphabet, dtype=float)
    return a[np.argmin(np.abs(v[..., None] - a), axis=-1)]


def categorical(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of the probability tables p (..., K) (inverse CDF; rows need not be normalised)."""
    c = np.cumsum(p, axis=-1)
    u = rng.random(p.shape[:-1] + (1,)) * c[..., -1:]
    idx = np.sum(c <= u, axis=-1)
    return np.minimum(idx, p.shape[-1] - 1)


class Trajectory:
    """Path time, self-overlap q = <m, m>/n and overlap <m, x*>/n of the denoiser output, per sample.

    For Potts models m is the (n, q) one-hot mean and x* the one-hot planted colouring, so the overlap is
    the raw (not colour-permutation invariant) fraction sum_i m_i(x*_i) / n and q = sum_{i,c} m_ic^2 / n.
    ``jump_t`` / ``jump_size``: where along the path q rose most in one step, per sample (a jump of the
    denoiser, e.g. when the algorithmic branch reaches a spinodal).
    """

    def __init__(self, model: Model, enabled: bool):
        self.enabled = enabled
        self.n = model.n
        self.t: list[float] = []
        self.q: list[np.ndarray] = []
        self.ov: list[np.ndarray] = []
        planted = model.planted
        if planted is None:
            self.planted = None
        elif getattr(model, "q", None) is not None:  # Potts: the planted colours are alphabet indices
            self.planted = mean_representation(model, np.asarray(planted, dtype=np.int64))
        else:
            self.planted = np.asarray(planted, dtype=float)

    def record(self, t: float, mean: np.ndarray) -> None:
        if not self.enabled:
            return
        flat = mean.reshape(mean.shape[0], -1)
        self.t.append(float(t))
        self.q.append(np.einsum("bi,bi->b", flat, flat) / self.n)
        if self.planted is not None:
            self.ov.append(flat @ self.planted.ravel() / self.n)

    def as_trace(self, key: str = "t") -> dict[str, np.ndarray]:
        if not self.enabled or not self.t:
            return {}
        q = np.stack(self.q, axis=1)
        out = {key: np.asarray(self.t), "self_overlap": q}
        if self.ov:
            out["overlap_planted"] = np.stack(self.ov, axis=1)
        if q.shape[1] > 1:
            steps = np.diff(q, axis=1)
            k = np.argmax(steps, axis=1)
            out["jump_t"] = np.asarray(self.t)[k + 1]
            out["jump_size"] = steps[np.arange(q.shape[0]), k]
        return out


def site_shape(model: Model) -> tuple[int, ...]:
    """Shape of one configuration in the Gaussian channel: (n,), or (n, q) for one-hot Potts variables."""
    q = getattr(model, "q", None)
    return (model.n, int(q)) if q is not None else (model.n,)


def mean_representation(model: Model, idx: np.ndarray) -> np.ndarray:
    """Configurations given by alphabet indices (..., n) as the denoiser's means represent them: alphabet
    values (scalar models) or one-hot vectors (..., n, q) (Potts)."""
    q = getattr(model, "q", None)
    if q is not None:
        return np.eye(int(q))[idx]
    return np.asarray(model.alphabet, dtype=float)[idx]


def merge_traces(traces: list[dict]) -> dict:
    """Concatenate per-batch trajectory traces along the sample axis (the time grid is shared)."""
    traces = [tr for tr in traces if tr]
    if not traces:
        return {}
    out = {}
    for name in traces[0]:
        if name in GRID_KEYS:
            if any(not np.array_equal(tr[name], traces[0][name]) for tr in traces[1:]):
                raise ValueError(f"trajectory: the batches have different {name} grids (an adaptive schedule?); "
                                 "use batch_size >= n_samples")
            out[name] = traces[0][name]
        else:
            out[name] = np.concatenate([tr[name] for tr in traces], axis=0)
    return out


def check_n_samples(n_samples) -> int:
    return check_int("n_samples", n_samples, minimum=1)


def check_batch_size(batch_size, n_samples: int) -> int:
    if batch_size is None:
        return n_samples
    return min(check_int("batch_size", batch_size, minimum=1), n_samples)


class GenerativeDriver:
    """The run loop every generative driver shares; a driver implements ``_run_batch``.

    ``sample(model, n_samples, *, seed, progress)``: binds the denoiser to ``model`` (``bind_denoiser``),
    then for each batch of at most ``batch_size`` samples calls ``denoiser.reset(rng)`` and
    ``_run_batch(model, client, b, rng, progress) -> (x (b, n), trace, steps)``, and returns ``Samples``
    with the concatenated samples, the merged trajectory traces and the work counters (``steps`` and the
    ``DenoiserClient`` counters).  Subclasses set ``name``, ``denoiser``, ``trajectory``, ``batch_size``
    (via ``_init_common``) and may override ``_check_run`` (model / size rules checked before any work).
    """

    name = "GenerativeDriver"
    resumable = False
    denoiser = None

    def _init_common(self, denoiser, trajectory: bool, batch_size: int | None, *,
                     denoiser_optional: bool = False) -> None:
        if denoiser is None and not denoiser_optional:
            raise TypeError(f"denoiser: {self.name} needs a Denoiser or a callable model -> Denoiser, got None")
        if denoiser is not None:
            check_denoiser_spec(denoiser)
        self.denoiser = denoiser
        if not isinstance(trajectory, bool):
            raise TypeError(f"trajectory must be a bool, got {type(trajectory).__name__}")
        self.trajectory = trajectory
        if batch_size is not None:
            check_batch_size(batch_size, 1)
        self.batch_size = batch_size

    def settings(self) -> dict:  # pragma: no cover - every driver overrides it
        return {"name": self.name}

    def work_from_trace(self, trace: dict) -> dict[str, float]:
        """Driver-specific work counters (keys of ``samplers.base.WORK_COUNTERS``) from the merged trace of
        a run; none by default."""
        return {}

    def _check_run(self, model: Model, n_samples: int, batch: int) -> None:
        """Rules on (model, n_samples, batch) that a driver checks before sampling."""

    def _run_batch(self, model, client, b, rng, progress):  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, model: Model, n_samples: int, *, seed: SeedLike = None, progress: bool = False) -> Samples:
        n_samples = check_n_samples(n_samples)
        batch = check_batch_size(self.batch_size, n_samples)
        if self.denoiser is not None:
            den = bind_denoiser(self.denoiser, model)
        elif not isinstance(model, Model):
            raise TypeError(f"model must be a spinglass Model, got {type(model).__name__}")
        else:
            den = None
        self._check_run(model, n_samples, batch)
        rng = make_rng(seed)
        client = DenoiserClient(den) if den is not None else None
        start = time.perf_counter()
        xs, traces, steps = [], [], 0
        for lo in range(0, n_samples, batch):
            if den is not None:
                den.reset(rng)
            x, tr, k = self._run_batch(model, client, min(batch, n_samples - lo), rng, progress)
            xs.append(x)
            traces.append(tr)
            steps += k
        trace = merge_traces(traces)
        work: dict[str, float] = {"steps": steps}
        work.update(self.work_from_trace(trace))
        if client is not None:
            client.warn_if_unconverged(self.name)
            den.reset()
            work.update(client.work())
        return Samples(x=np.concatenate(xs, axis=0), planted=model.planted, model=model.describe(),
                       sampler=self.settings(), seed=seed_repr(seed), trace=trace,
                       wall_time=time.perf_counter() - start, work=work)


__all__ = ["GenerativeDriver", "bind_denoiser", "check_denoiser_spec", "denoiser_description", "check_rounding",
           "DenoiserClient", "round_to_alphabet", "nearest_value", "categorical", "Trajectory", "ROUNDINGS",
           "site_shape", "mean_representation", "merge_traces"]
