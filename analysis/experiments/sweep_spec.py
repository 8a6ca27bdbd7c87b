r"""Sweep specifications: the TOML format, its vocabulary, and validation before anything runs.

A sweep is a Cartesian product  (model parameter grid) x (instance seeds) x (sampler variants), each point
one independent task that records a list of metrics.  Its specification is a TOML file::

    name = "ising2d"                       # optional; default: the file's stem
    output = "results/ising2d.parquet"     # optional; default results/<name>.parquet (relative to the cwd)
    seeds = [0, 1, 2]                      # instance seeds: a list of ints >= 0, or {start, stop, num}
    metrics = ["energy", "abs_magnetization", "tau_int_energy", "wall_time"]   # or "all": per sampler, what applies
    max_tasks = 100000                     # optional; the default limit (checked before anything runs)

    [model]                                # the family and its fixed parameters
    family = "EdwardsAnderson"
    L = 16
    couplings = "ferro"

    [grid]                                 # swept model parameters: a list, or a range table
    T = {start = 1.6, stop = 3.4, num = 7} # numpy.linspace(start, stop, num); scale = "log" for geomspace

    [[samplers]]                           # one table per sampler; settings are its constructor arguments
    name = "Metropolis"
    n_samples = 800                        # every sampler: samples returned per task
    n_chains = 8                           # MCMC: independent chains (default n_samples)
    init = "ordered"                       # MCMC: "random" | "planted" | "ordered" (all variables at +1)
    sweeps = 1000
    thin = 10
    grid = { thin = [5, 10] }              # optional: sampler settings swept like the model grid

Validation is complete before the first task starts: an unknown key, model family, sampler, metric or
prior, an empty or duplicated grid, a value of the wrong type or outside its range, a sampler setting its
constructor refuses, or a metric the model/sampler cannot provide (an overlap without a planted
configuration, an autocorrelation time without a trace, an exact TV distance beyond enumeration) raises
:class:`SpecError` (a ``ValueError``) with one line ``<file>: <key>: <problem>, got <value>``.

The vocabulary lives in three registries, so a new family, sampler or metric is one entry:

* :data:`MODELS` — family name -> :class:`ModelFamily` (typed parameters, a builder taking the parameters
  and the instance seed, capabilities such as ``"planted"``).
* :data:`SAMPLERS` — sampler name -> :class:`SamplerKind` (builder from settings, how to run it, the extra
  run settings it takes, what it provides: traces, acceptance, work counters), in
  :mod:`analysis.experiments.registry`; every family of :mod:`samplers` is registered by
  :mod:`analysis.experiments.sweep_samplers`, and a new one plugs in with ``register_sampler(SamplerKind(...))``.
* :data:`METRICS` — metric name -> :class:`Metric` (a function of the model and the ``Samples`` record,
  and the capabilities it requires).

Temperature-like parameters come in pairs of which at most one may be given (``beta`` or ``T = 1/beta``;
``lam`` or ``Delta = 1/lam`` for spiked Wigner; ``Delta`` or ``T`` with Delta = 2 T^2 / p for the spiked
tensor, docs/physics.md §1).  The name given is the name recorded in the results.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import spinglass as sg
from analysis.measures import metrics as _m
from samplers import Samples
from spinglass.base import Model
from spinglass.exact import MAX_EXACT_STATES

from . import sweep_samplers  # noqa: F401  (registers every sampler family in SAMPLERS)
from .registry import OPTIONAL, REQUIRED, SAMPLERS, Param, SpecError, show_value

# -- model families ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFamily:
    """A model family as a sweep sees it.

    ``params``: every parameter the spec may give (both names of an alternative pair included).
    ``build(params, seed) -> Model``: the instance for resolved parameters and an instance seed.
    ``alternatives``: pairs (a, b) of which at most one may be given; when neither is, ``a``'s default is
    used (or, without a default, one of them is required).
    ``check(params) -> (key, message) | None``: cross-parameter rules.
    ``n_states(params)``: |alphabet|^n, or None for a continuous alphabet.
    ``capabilities(params)``: what the instance offers to metrics and samplers (``"planted"``,
    ``"scalar"`` for real-valued variables, ``"discrete"`` for a finite alphabet; ``"enumerable"`` is
    added when n_states <= MAX_EXACT_STATES).
    """

    name: str
    params: Mapping[str, Param]
    build: Callable[[dict, int], Model]
    alternatives: tuple[tuple[str, str], ...] = ()
    check: Callable[[dict], tuple[str, str] | None] = lambda params: None
    n_states: Callable[[dict], int | None] = lambda params: None
    capabilities: Callable[[dict], frozenset[str]] = lambda params: frozenset()

    def all_capabilities(self, params: dict) -> frozenset[str]:
        caps = set(self.capabilities(params))
        states = self.n_states(params)
        if states is not None and states <= MAX_EXACT_STATES:
            caps.add("enumerable")
        return frozenset(caps)


def _beta(p: dict) -> float:
    return 1.0 / p["T"] if "T" in p else p["beta"]


def _prior(p: dict) -> sg.Prior:
    return sg.prior_from_name(p["prior"], **({"rho": p["rho"]} if "rho" in p else {}))


def _prior_check(p: dict) -> tuple[str, str] | None:
    if p["prior"] == "sparse_rademacher" and "rho" not in p:
        return "rho", "prior 'sparse_rademacher' needs rho in (0, 1], got nothing"
    if p["prior"] != "sparse_rademacher" and "rho" in p:
        return "rho", f"only used with prior 'sparse_rademacher' (prior is {p['prior']!r}), got {p['rho']!r}"
    return None


def _prior_states(p: dict) -> int | None:
    return {"rademacher": 2, "sparse_rademacher": 3}.get(p["prior"])


def _spiked_capabilities(p: dict) -> frozenset[str]:
    return frozenset({"planted", "scalar"} | ({"discrete"} if p["prior"] != "gaussian" else {"continuous"}))


_N = Param(int, minimum=2)
_BETA = Param(float, minimum=0.0)
_BETA_INF = Param(float, math.inf, minimum=0.0, allow_inf=True)
_T = Param(float, OPTIONAL, minimum=0.0, strict=True)
_H = Param(float, 0.0)
_PRIOR = Param(str, "rademacher", choices=("rademacher", "sparse_rademacher", "gaussian"))
_RHO = Param(float, OPTIONAL, minimum=0.0, maximum=1.0, strict=True)
_ISING = frozenset({"scalar", "discrete"})

MODELS: dict[str, ModelFamily] = {}


def register_model(family: ModelFamily) -> ModelFamily:
    """Add (or replace) a model family in :data:`MODELS`; returns it."""
    MODELS[family.name] = family
    return family


register_model(ModelFamily(
    "CurieWeiss", {"n": _N, "beta": _BETA, "T": _T, "h": _H},
    build=lambda p, seed: sg.CurieWeiss(p["n"], _beta(p), p["h"]),
    alternatives=(("beta", "T"),), n_states=lambda p: 2 ** p["n"], capabilities=lambda p: _ISING))
register_model(ModelFamily(
    "SK", {"n": _N, "beta": _BETA, "T": _T, "h": _H},
    build=lambda p, seed: sg.SK(p["n"], _beta(p), p["h"], seed=seed),
    alternatives=(("beta", "T"),), n_states=lambda p: 2 ** p["n"], capabilities=lambda p: _ISING))
register_model(ModelFamily(
    "EdwardsAnderson",
    {"L": Param(int, minimum=3), "dim": Param(int, 2, minimum=2, maximum=3),
     "couplings": Param(str, "pm1", choices=("pm1", "gaussian", "ferro")), "beta": _BETA, "T": _T, "h": _H},
    build=lambda p, seed: sg.EdwardsAnderson((p["L"],) * p["dim"], p["couplings"], _beta(p), p["h"], seed=seed),
    alternatives=(("beta", "T"),), n_states=lambda p: 2 ** (p["L"] ** p["dim"]), capabilities=lambda p: _ISING))
register_model(ModelFamily(
    "SpikedWigner",
    {"n": _N, "lam": Param(float, minimum=0.0), "Delta": Param(float, OPTIONAL, minimum=0.0, strict=True),
     "prior": _PRIOR, "rho": _RHO},
    build=lambda p, seed: sg.SpikedWigner(p["n"], 1.0 / p["Delta"] if "Delta" in p else p["lam"], _prior(p),
                                          seed=seed),
    alternatives=(("lam", "Delta"),), check=_prior_check,
    n_states=lambda p: None if _prior_states(p) is None else _prior_states(p) ** p["n"],
    capabilities=_spiked_capabilities))
register_model(ModelFamily(
    "SpikedTensor",
    {"n": _N, "p": Param(int, 3, minimum=2), "Delta": Param(float, minimum=0.0, strict=True), "T": _T,
     "prior": _PRIOR, "rho": _RHO},
    build=lambda p, seed: sg.SpikedTensor(p["n"], p["p"], 2.0 * p["T"] ** 2 / p["p"] if "T" in p else p["Delta"],
                                          _prior(p), seed=seed),
    alternatives=(("Delta", "T"),), check=_prior_check,
    n_states=lambda p: None if _prior_states(p) is None else _prior_states(p) ** p["n"],
    capabilities=_spiked_capabilities))
register_model(ModelFamily(
    "PlantedColoring", {"n": _N, "q": Param(int, minimum=2, maximum=127), "c": Param(float, minimum=0.0),
                        "beta": _BETA_INF, "T": _T},
    build=lambda p, seed: sg.PlantedColoring(p["n"], p["q"], p["c"], _beta(p), seed=seed),
    alternatives=(("beta", "T"),), n_states=lambda p: p["q"] ** p["n"],
    capabilities=lambda p: frozenset({"planted", "discrete"})))
register_model(ModelFamily(
    "PlantedNAESAT", {"n": _N, "k": Param(int, minimum=2), "alpha": Param(float, minimum=0.0),
                      "beta": _BETA_INF, "T": _T, "signed": Param(bool, True)},
    build=lambda p, seed: sg.PlantedNAESAT(p["n"], p["k"], p["alpha"], _beta(p), p["signed"], seed=seed),
    alternatives=(("beta", "T"),), n_states=lambda p: 2 ** p["n"],
    capabilities=lambda p: frozenset({"planted", "scalar", "discrete"})))


# -- metrics ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricInput:
    """What a metric sees: the model instance, the sampler's ``Samples`` and the resolved run settings."""

    model: Model
    samples: Samples
    run: Mapping[str, Any]

    def energy_window(self) -> np.ndarray:
        """Per-chain traced energy per variable at the sweeps after ``burn_in``: shape (n_chains, T)."""
        trace = self.samples.trace
        keep = np.asarray(trace["sweep"]) > self.run.get("burn_in", 0)
        return np.asarray(trace["energy"])[:, keep] / self.model.n


@dataclass(frozen=True)
class Metric:
    """A scalar recorded per task: ``compute(MetricInput) -> float``, valid when ``requires`` is met.

    ``requires`` lists capabilities of the model family and/or the sampler (see :class:`ModelFamily` and
    :class:`SamplerKind`); ``min_chains`` is checked against ``n_chains`` for chain-based samplers.
    ``in_all``: included by ``metrics = "all"`` (False for metrics that are costly).
    """

    name: str
    compute: Callable[[MetricInput], float]
    doc: str
    requires: frozenset[str] = frozenset()
    min_chains: int = 1
    in_all: bool = True


def _quiet(fn: Callable, *args, **kwargs) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(fn(*args, **kwargs))


def _tau(inp: MetricInput) -> float:
    return _quiet(_m.integrated_autocorrelation_time, inp.energy_window()) * inp.samples.sampler.get("trace_every", 1)


def _ess(inp: MetricInput) -> float:
    return _quiet(_m.effective_sample_size, inp.energy_window())


METRICS: dict[str, Metric] = {}


def register_metric(metric: Metric) -> Metric:
    """Add (or replace) a metric in :data:`METRICS`; returns it."""
    METRICS[metric.name] = metric
    return metric


for _metric in (
    Metric("energy", lambda i: float(np.mean(_m.energy_per_variable(i.model, i.samples.x))),
           "mean energy per variable E(x)/N over the samples"),
    Metric("energy_trace", lambda i: float(np.mean(i.energy_window())),
           "mean traced energy per variable over every chain and recorded sweep after burn-in",
           frozenset({"trace"})),
    Metric("magnetization", lambda i: float(np.mean(_m.magnetization(i.samples.x))),
           "mean magnetisation m = (1/N) sum_i x_i over the samples", frozenset({"scalar"})),
    Metric("abs_magnetization", lambda i: float(np.mean(np.abs(_m.magnetization(i.samples.x)))),
           "mean |m| over the samples", frozenset({"scalar"})),
    Metric("overlap", lambda i: float(np.mean(_m.overlap_with_planted(i.model, i.samples.x))),
           "mean overlap with the planted configuration (sign / colour-permutation invariant)",
           frozenset({"planted"})),
    Metric("nishimori_gap", lambda i: _m.nishimori_gap(i.model, i.samples.x, i.samples.chain),
           "mean overlap with the planted configuration minus mean two-replica overlap",
           frozenset({"planted"}), min_chains=2),
    Metric("acceptance", lambda i: float(i.samples.acceptance["mean"]), "mean acceptance rate of local moves",
           frozenset({"acceptance"})),
    Metric("tau_int_energy", _tau, "integrated autocorrelation time of the energy trace after burn-in, in sweeps",
           frozenset({"trace"})),
    Metric("ess_energy", _ess, "effective sample size n_chains T / tau_int of the energy trace after burn-in",
           frozenset({"trace"})),
    Metric("ess_per_second", lambda i: _ess(i) / i.samples.wall_time if i.samples.wall_time > 0 else math.nan,
           "ess_energy divided by the sampling wall time", frozenset({"trace"})),
    Metric("rhat_energy", lambda i: _quiet(_m.rhat, i.energy_window()),
           "split R-hat of the energy trace after burn-in across chains", frozenset({"trace"})),
    Metric("tv_exact", lambda i: _m.empirical_tv(i.model.exact(), i.samples.x),
           "total-variation distance between the samples' empirical law and the exact law (small n)",
           frozenset({"enumerable"}), in_all=False),
    Metric("energy_gap", lambda i: _m.energy_nishimori_gap(i.model, i.samples.x),
           "mean energy per variable of the samples minus that of the planted configuration (Nishimori: ~0)",
           frozenset({"planted"})),
    Metric("denoiser_calls", lambda i: float(i.samples.work["denoiser_calls"]),
           "denoiser queries of a generative sampler", frozenset({"denoiser"})),
    Metric("denoiser_iterations", lambda i: float(i.samples.work["denoiser_iterations"]),
           "AMP / BP iterations summed over the queries' rows", frozenset({"denoiser"})),
    Metric("wall_time", lambda i: float(i.samples.wall_time), "sampling wall time in seconds"),
    Metric("updates", lambda i: float(i.samples.work["attempted_updates"]),
           "attempted single-site updates (all chains and replicas)", frozenset({"updates"})),
):
    register_metric(_metric)

CAPABILITY_TEXT = {
    "planted": "a planted configuration",
    "scalar": "real-valued variables (not Potts colours)",
    "discrete": "a finite alphabet",
    "enumerable": f"exact enumeration (at most {MAX_EXACT_STATES} states)",
    "trace": "per-chain energy traces (an MCMC sampler)",
    "acceptance": "acceptance statistics (an MCMC sampler)",
    "updates": "single-site update counts (an MCMC sampler)",
    "chains": "independent chains",
    "continuous": "a continuous prior (Langevin / MALA)",
    "denoiser": "denoiser work counters (a generative sampler)",
}


# -- the parsed specification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SamplerVariant:
    """One concrete sampler configuration: resolved constructor ``settings`` and ``run`` settings."""

    settings: dict
    run: dict


@dataclass(frozen=True)
class SamplerSpec:
    """A ``[[samplers]]`` entry: registry ``name``, display ``label`` and its expanded variants.

    ``metrics``: the metrics this sampler's tasks record when the spec says ``metrics = "all"`` (each
    sampler records what applies to it); empty when the spec lists its metrics explicitly.
    """

    name: str
    label: str
    variants: tuple[SamplerVariant, ...]
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: model family, fixed parameters and grid, seeds, samplers, metrics, output."""

    name: str
    family: str
    fixed: dict
    grid: dict[str, tuple]
    seeds: tuple[int, ...]
    samplers: tuple[SamplerSpec, ...]
    metrics: tuple[str, ...]
    output: Path
    source: str = "<spec>"
    description: str = ""

    def model_points(self) -> list[dict]:
        """Every model parameter dict of the grid (fixed values, defaults and one grid value per key)."""
        return list(_points(MODELS[self.family], self.fixed, self.grid))

    @property
    def n_tasks(self) -> int:
        per_point = len(self.seeds) * sum(len(s.variants) for s in self.samplers)
        return math.prod(len(v) for v in self.grid.values()) * per_point


_TOP_KEYS = ("name", "description", "output", "seeds", "metrics", "model", "grid", "samplers", "max_tasks")
#: Default limit on a sweep's number of tasks (model grid x seeds x sampler variants), checked before
#: anything is expanded or run; a spec raises it with ``max_tasks = ...``.
MAX_TASKS = 100_000


def packaged_specs() -> dict[str, Path]:
    """The ready sweep specs shipped with the package: name (file stem) -> path."""
    from importlib import resources

    root = resources.files("analysis.experiments").joinpath("specs")
    return {Path(str(f)).stem: Path(str(f)) for f in sorted(root.iterdir(), key=lambda f: f.name)
            if f.name.endswith(".toml")}


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a TOML sweep specification (``SpecError`` on any problem).

    ``path`` is a file, or the name of a packaged spec (:func:`packaged_specs`: ``sk``, ``generative``, ...)
    when no such file exists."""
    path = Path(path)
    if not path.exists() and str(path) in (ready := packaged_specs()):
        path = ready[str(path)]
    try:
        text = path.read_text()
    except OSError as exc:
        hint = f"; packaged specs: {', '.join(packaged_specs())}" if not path.exists() else ""
        raise SpecError(f"{path}: cannot read the spec file ({exc.strerror or exc}){hint}") from None
    return parse_spec_text(text, source=str(path), default_name=path.stem)


def parse_spec_text(text: str, *, source: str = "<spec>", default_name: str = "sweep") -> SweepSpec:
    """Validate a specification given as TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source}: invalid TOML: {exc}") from None
    return parse_spec(data, source=source, default_name=default_name)


def parse_spec(data: Mapping[str, Any], *, source: str = "<spec>", default_name: str = "sweep") -> SweepSpec:
    """Validate a specification given as the dict that ``tomllib`` returns (see the module docstring)."""
    try:
        return _parse(data, default_name, source)
    except SpecError as exc:
        raise SpecError(f"{source}: {exc}") from None


def _parse(data: Mapping[str, Any], default_name: str, source: str) -> SweepSpec:
    if not isinstance(data, Mapping):
        raise SpecError(f"spec: must be a table, got {show_value(data)}")
    _no_unknown("", data, _TOP_KEYS)
    name = Param(str, default_name).check("name", data.get("name", default_name))
    if not name or any(c in name for c in "/\\"):
        raise SpecError(f"name: must be a non-empty name without slashes, got {show_value(name)}")
    description = Param(str, "").check("description", data.get("description", ""))
    output = Path(Param(str).check("output", data.get("output", f"results/{name}.parquet")))
    if not str(output).strip():
        raise SpecError("output: must be a path, got string ''")
    max_tasks = Param(int, MAX_TASKS, minimum=1).check("max_tasks", data.get("max_tasks", MAX_TASKS))
    family, fixed, grid = _parse_model(data, max_tasks)
    seeds = expand_values("seeds", data.get("seeds", [0]), Param(int, minimum=0), max_values=max_tasks)
    metrics = _parse_metric_names(data.get("metrics", REQUIRED))
    samplers = _parse_samplers(data.get("samplers", REQUIRED))
    variants = sum(len(s.variants) for s in samplers)
    _check_task_count(grid, math.prod(len(v) for v in grid.values()) * len(seeds) * variants, max_tasks)
    points = list(_points(MODELS[family], fixed, grid))
    metrics, samplers = _check_requirements(family, points, samplers, metrics)
    return SweepSpec(name=name, family=family, fixed=fixed, grid=grid, seeds=seeds, samplers=samplers,
                     metrics=metrics, output=output, source=source, description=description)


def _no_unknown(where: str, table: Mapping, allowed) -> None:
    for key in table:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            raise SpecError(f"{prefix}{key}: unknown key (allowed: {', '.join(allowed)}), got {show_value(table[key])}")


def _table(key: str, value: Any) -> Mapping:
    if not isinstance(value, Mapping):
        raise SpecError(f"{key}: must be a table, got {show_value(value)}")
    return value


def _parse_model(data: Mapping, max_tasks: int) -> tuple[str, dict, dict[str, tuple]]:
    if "model" not in data:
        raise SpecError("model: missing table [model] with at least 'family', got nothing")
    model = _table("model", data["model"])
    if "family" not in model:
        raise SpecError(f"model.family: missing (one of {', '.join(MODELS)}), got nothing")
    family_name = model["family"]
    if not isinstance(family_name, str) or family_name not in MODELS:
        raise SpecError(f"model.family: unknown model family (choose from {', '.join(MODELS)}), got "
                        f"{show_value(family_name)}")
    family = MODELS[family_name]
    fixed = {}
    for key, value in model.items():
        if key == "family":
            continue
        if key not in family.params:
            raise SpecError(f"model.{key}: unknown parameter of {family_name} (allowed: "
                            f"{', '.join(family.params)}), got {show_value(value)}")
        fixed[key] = family.params[key].check(f"model.{key}", value)
    grid_table = _table("grid", data.get("grid", {}))
    grid = {}
    for key, value in grid_table.items():
        if key not in family.params:
            raise SpecError(f"grid.{key}: unknown parameter of {family_name} (allowed: "
                            f"{', '.join(family.params)}), got {show_value(value)}")
        if key in fixed:
            raise SpecError(f"grid.{key}: also fixed in [model] (give it in one place), got {show_value(value)}")
        grid[key] = expand_values(f"grid.{key}", value, family.params[key], max_values=max_tasks)
    _check_task_count(grid, math.prod(len(v) for v in grid.values()), max_tasks)
    given = set(fixed) | set(grid)
    for a, b in family.alternatives:
        if a in given and b in given:
            raise SpecError(f"model.{b}: give either {a} or {b}, not both, got {a} and {b}")
        if a not in given and b not in given and family.params[a].default is REQUIRED:
            raise SpecError(f"model.{a}: missing (give {a} or {b} in [model] or [grid]), got nothing")
    alt_names = {x for pair in family.alternatives for x in pair}
    for key, param in family.params.items():
        if param.default is REQUIRED and key not in given and key not in alt_names:
            raise SpecError(f"model.{key}: missing required parameter of {family_name}, got nothing")
    # cross-parameter rules on one representative point (they depend on fixed/grid values alike)
    for point in _points(family, fixed, grid):
        problem = family.check(point)
        if problem is not None:
            raise SpecError(f"model.{problem[0]}: {problem[1]}")
    return family_name, fixed, grid


def _points(family: ModelFamily, fixed: dict, grid: dict[str, tuple]):
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        yield _resolve_model(family, {**fixed, **dict(zip(keys, values, strict=True))})


def _resolve_model(family: ModelFamily, given: dict) -> dict:
    """Given parameters plus defaults; of an alternative pair only the given (or defaulted) name is kept."""
    out = {}
    alt_other = {}
    for a, b in family.alternatives:
        alt_other[a], alt_other[b] = b, a
    for key, param in family.params.items():
        if key in given:
            out[key] = given[key]
        elif key in alt_other and alt_other[key] in given:
            continue
        elif param.default is not REQUIRED and param.default is not OPTIONAL:
            out[key] = param.default
    return out


def _check_task_count(grid: dict[str, tuple], count: int, max_tasks: int) -> None:
    """``SpecError`` naming the largest grid key when the sweep would have more than ``max_tasks`` tasks."""
    if count > max_tasks:
        key = max(grid, key=lambda k: len(grid[k])) if grid else None
        where = f"grid.{key}" if key else "seeds"
        size = f" ({len(grid[key])} values)" if key else ""
        raise SpecError(f"{where}: the sweep would run {count} tasks{size}, more than max_tasks = {max_tasks} "
                        f"(set max_tasks in the spec to allow more), got {count} tasks")


def expand_values(key: str, value: Any, param: Param, *, max_values: int | None = None) -> tuple:
    """A grid entry as a tuple of checked values: a non-empty list, or a range table.

    Range table: ``{start, stop, num}`` -> ``numpy.linspace(start, stop, num)`` (both ends included), with
    ``scale = "log"`` -> ``numpy.geomspace``.  Values are rounded to 12 significant digits so that task
    parameters (and so task ids) do not depend on the last bits of floating-point arithmetic.  Integer
    parameters need integral range values.  Duplicated values are refused.
    """
    if isinstance(value, Mapping):
        _no_unknown(key, value, ("start", "stop", "num", "scale"))
        for need in ("start", "stop", "num"):
            if need not in value:
                raise SpecError(f"{key}.{need}: missing in the range table {{start, stop, num}}, got nothing")
        start = Param(float).check(f"{key}.start", value["start"])
        stop = Param(float).check(f"{key}.stop", value["stop"])
        num = Param(int, minimum=1).check(f"{key}.num", value["num"])
        if max_values is not None and num > max_values:
            raise SpecError(f"{key}.num: more values than max_tasks = {max_values} tasks (set max_tasks in the "
                            f"spec to allow more), got {num}")
        scale = Param(str, choices=("linear", "log")).check(f"{key}.scale", value.get("scale", "linear"))
        if scale == "log":
            if start <= 0 or stop <= 0:
                raise SpecError(f"{key}: scale = 'log' needs start > 0 and stop > 0, got {start:g} and {stop:g}")
            raw = np.geomspace(start, stop, num)
        else:
            raw = np.linspace(start, stop, num)
        values = [float(f"{v:.12g}") for v in raw]
        if param.kind is int:
            if any(v != round(v) for v in values):
                raise SpecError(f"{key}: integer parameter, but the range gives non-integers, got {values}")
            values = [int(round(v)) for v in values]
    elif isinstance(value, list):
        values = value
    else:
        raise SpecError(f"{key}: must be a list of values or a range table {{start, stop, num}}, "
                        f"got {show_value(value)}")
    if not values:
        raise SpecError(f"{key}: empty grid (give at least one value), got array []")
    checked = tuple(param.check(f"{key}[{i}]", v) for i, v in enumerate(values))
    if len(set(checked)) != len(checked):
        dup = next(v for v in checked if checked.count(v) > 1)
        raise SpecError(f"{key}: duplicated grid value, got {show_value(dup)}")
    return checked


def _parse_metric_names(value: Any) -> tuple[str, ...]:
    if value is REQUIRED:
        raise SpecError(f"metrics: missing (a list from {', '.join(METRICS)}, or \"all\"), got nothing")
    if value == "all":
        return ("all",)
    if not isinstance(value, list):
        raise SpecError(f"metrics: must be a list of metric names or \"all\", got {show_value(value)}")
    if not value:
        raise SpecError("metrics: empty list (name at least one metric), got array []")
    for i, name in enumerate(value):
        if not isinstance(name, str) or name not in METRICS:
            raise SpecError(f"metrics[{i}]: unknown metric (choose from {', '.join(METRICS)}), got {show_value(name)}")
    if len(set(value)) != len(value):
        dup = next(v for v in value if value.count(v) > 1)
        raise SpecError(f"metrics: duplicated metric, got {show_value(dup)}")
    return tuple(value)


def _parse_samplers(value: Any) -> tuple[SamplerSpec, ...]:
    if value is REQUIRED:
        raise SpecError("samplers: missing (at least one [[samplers]] table), got nothing")
    if not isinstance(value, list) or not value:
        raise SpecError(f"samplers: must be a non-empty array of tables [[samplers]], got {show_value(value)}")
    out, labels = [], {}
    for i, entry in enumerate(value):
        spec = _parse_sampler(f"samplers[{i}]", entry)
        if spec.label in labels:
            raise SpecError(f"samplers[{i}].label: duplicates samplers[{labels[spec.label]}] (give each entry a "
                            f"distinct label), got {show_value(spec.label)}")
        labels[spec.label] = i
        out.append(spec)
    return tuple(out)


def _parse_sampler(where: str, entry: Any) -> SamplerSpec:
    entry = _table(where, entry)
    name = entry.get("name", REQUIRED)
    if name is REQUIRED:
        raise SpecError(f"{where}.name: missing (one of {', '.join(SAMPLERS)}), got nothing")
    if not isinstance(name, str) or name not in SAMPLERS:
        raise SpecError(f"{where}.name: unknown sampler (choose from {', '.join(SAMPLERS)}), got {show_value(name)}")
    kind = SAMPLERS[name]
    label = Param(str).check(f"{where}.label", entry.get("label", name))
    if not label:
        raise SpecError(f"{where}.label: must not be empty, got string ''")
    run_params = {"n_samples": Param(int, minimum=1), **kind.run_params}
    allowed = ("name", "label", "grid", *run_params, *kind.setting_names)
    _no_unknown(where, entry, allowed)
    fixed = {k: v for k, v in entry.items() if k not in ("name", "label", "grid")}
    grid_table = _table(f"{where}.grid", entry.get("grid", {}))
    grid = {}
    for key, value in grid_table.items():
        if key not in run_params and key not in kind.setting_names:
            raise SpecError(f"{where}.grid.{key}: unknown setting of {name} (allowed: "
                            f"{', '.join((*run_params, *kind.setting_names))}), got {show_value(value)}")
        if key in fixed:
            raise SpecError(f"{where}.grid.{key}: also fixed in the sampler table, got {show_value(value)}")
        if key in run_params:
            grid[key] = expand_values(f"{where}.grid.{key}", value, run_params[key], max_values=MAX_TASKS)
        elif isinstance(value, list) and value:
            if len(value) > MAX_TASKS:
                raise SpecError(f"{where}.grid.{key}: more values than {MAX_TASKS}, got {len(value)}")
            dup = next((v for i, v in enumerate(value) if v in value[:i]), None)
            if dup is not None:
                raise SpecError(f"{where}.grid.{key}: duplicated value (two identical variants), got "
                                f"{show_value(dup)}")
            grid[key] = tuple(value)
        else:
            raise SpecError(f"{where}.grid.{key}: must be a non-empty list of values, got {show_value(value)}")
    if "n_samples" not in fixed and "n_samples" not in grid:
        raise SpecError(f"{where}.n_samples: missing (samples per task), got nothing")
    variants = []
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        given = {**fixed, **dict(zip(keys, values, strict=True))}
        run = {k: run_params[k].check(f"{where}.{k}", v) for k, v in given.items() if k in run_params}
        settings = {k: v for k, v in given.items() if k not in run_params}
        try:
            sampler = kind.build(settings)
        except (ValueError, TypeError) as exc:
            raise SpecError(f"{where} ({name}): {exc}") from None
        run = kind.resolve(sampler, run)
        _check_run(where, run, sampler)
        variants.append(SamplerVariant(settings=kind.settings_of(sampler), run=run))
    return SamplerSpec(name=name, label=label, variants=tuple(variants))


def _check_run(where: str, run: dict, sampler) -> None:
    if "n_chains" in run and run["n_samples"] % run["n_chains"]:
        raise SpecError(f"{where}.n_samples: must be a multiple of n_chains = {run['n_chains']}, "
                        f"got {run['n_samples']}")


def _check_trace_window(where: str, variant: SamplerVariant) -> None:
    """Trace metrics need at least 4 traced sweeps after ``burn_in`` (MCMC schedule, see samplers.mcmc)."""
    s, run = variant.settings, variant.run
    total = s["sweeps"] + (run["n_samples"] // run["n_chains"] - 1) * s["thin"]
    records = total // s["trace_every"] - run["burn_in"] // s["trace_every"]
    if records < 4:
        raise SpecError(f"{where}.burn_in: leaves {max(records, 0)} traced sweeps of the {total} run (trace metrics "
                        f"need >= 4; raise sweeps or lower burn_in), got {run['burn_in']}")


def applicable_metrics(family: str, point: dict, sampler_name: str) -> tuple[str, ...]:
    """The metrics with ``in_all`` whose requirements this model point and sampler meet."""
    caps = MODELS[family].all_capabilities(point) | SAMPLERS[sampler_name].provides
    return tuple(m.name for m in METRICS.values() if m.in_all and m.requires <= caps)


def _variant_ok(metric: Metric, variant: SamplerVariant) -> bool:
    """Whether ``metric`` can be computed for this sampler variant (chains, trace window)."""
    if variant.run.get("n_chains", metric.min_chains) < metric.min_chains:
        return False
    if "trace" in metric.requires and "burn_in" in variant.run:
        try:
            _check_trace_window("", variant)
        except SpecError:
            return False
    return True


def _check_requirements(family_name: str, points: list[dict], samplers: tuple[SamplerSpec, ...],
                        metrics: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[SamplerSpec, ...]]:
    """Check every sampler and metric against every model point; resolve ``"all"`` per sampler.

    Returns the spec's metrics (for ``"all"``: the union, in registry order) and the samplers (for
    ``"all"``: each with the metrics that apply to every model point for it).
    """
    family = MODELS[family_name]
    caps_seen = [family.all_capabilities(p) for p in points]
    if metrics == ("all",):
        resolved = []
        for i, s in enumerate(samplers):
            ok = set(METRICS)
            for p in points:
                ok &= set(applicable_metrics(family_name, p, s.name))
            ok = {m for m in ok if all(_variant_ok(METRICS[m], v) for v in s.variants)}
            if not ok:
                raise SpecError(f"metrics: \"all\" leaves no metric that every model point supports with "
                                f"{s.name} (samplers[{i}]), got 'all'")
            resolved.append(dataclasses.replace(s, metrics=tuple(m for m in METRICS if m in ok)))
        samplers = tuple(resolved)
        metrics = tuple(m for m in METRICS if any(m in s.metrics for s in samplers))
    for i, s in enumerate(samplers):
        kind = SAMPLERS[s.name]
        for p, caps in zip(points, caps_seen, strict=True):
            missing = kind.requires - caps
            if missing:
                need = CAPABILITY_TEXT.get(min(missing), min(missing))
                raise SpecError(f"samplers[{i}].name: {s.name} needs {need}, which {family_name} "
                                f"{_point_text(p)} lacks, got {show_value(s.name)}")
            if kind.check is not None:
                for v in s.variants:
                    problem = kind.check(v.settings, family_name, caps)
                    if problem:
                        raise SpecError(f"samplers[{i}].{problem} ({family_name} {_point_text(p)})")
        for name in s.metrics or metrics:
            metric = METRICS[name]
            for p, caps in zip(points, caps_seen, strict=True):
                missing = metric.requires - caps - kind.provides
                if missing:
                    need = CAPABILITY_TEXT.get(min(missing), min(missing))
                    states = family.n_states(p)
                    extra = f" ({states:.3g} states)" if "enumerable" in missing and states else ""
                    raise SpecError(f"metrics: {name!r} needs {need}, which {family_name} {_point_text(p)}{extra} "
                                    f"with {s.name} (samplers[{i}]) lacks, got {show_value(name)}")
            for v in s.variants:
                if "n_chains" in v.run and v.run["n_chains"] < metric.min_chains:
                    raise SpecError(f"samplers[{i}].n_chains: metric {name!r} needs at least {metric.min_chains} "
                                    f"chains, got {v.run['n_chains']}")
                if "trace" in metric.requires and "burn_in" in v.run:
                    _check_trace_window(f"samplers[{i}]", v)
    return metrics, samplers


def _point_text(point: dict) -> str:
    return "(" + ", ".join(f"{k}={v!r}" for k, v in point.items()) + ")"

