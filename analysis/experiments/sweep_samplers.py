r"""Every sampler family as a sweep entry (``[[samplers]]`` tables of a TOML spec).

Registered in ``analysis.experiments.registry.SAMPLERS`` on import (``sweep_spec`` imports this module):

* ``Metropolis``, ``HeatBath``, ``ParallelTempering``: their constructor settings (``sweeps``, ``thin``,
  ``trace_every``, ``order``, ``n_temps``, ...; not ``threads``: a sweep's processes already fill the
  cores) and the run settings ``n_chains``, ``init`` ("random" | "planted" | "ordered"), ``burn_in``.

* ``StochasticLocalization``: settings ``schedule`` ("geometric" | "uniform" | "adaptive"), ``T``,
  ``n_steps``, ``rounding``, ``batch_size`` and the denoiser settings below.
* ``StochasticInterpolant``: ``interpolant`` ("linear" | "trigonometric"), ``method`` ("ode" | "sde"),
  ``integrator`` ("euler" | "heun" | "rk4"), ``n_steps``, ``T``, ``diffusion``, ``rounding``,
  ``batch_size`` and the denoiser settings.
* ``Autoregressive``: ``reveal_per_step``, ``batch_size``, ``on_contradiction`` ("raise" | "restart": redo
  a sample whose BP-guided decimation hits a contradiction at beta = inf), ``max_restarts`` and the
  denoiser settings (random order).
* ``Langevin`` / ``MALA``: their constructor settings (``step``, ``n_steps``, ``thin``, ``burn_in``,
  ``trace_every``, ``constraint``; MALA also ``adapt``, ``target_accept``, ``adapt_rate``), run settings
  ``n_chains`` and ``init`` ("random" | "planted"); continuous-prior models only.

Denoiser settings (flat, so that each becomes a column of the results table): ``denoiser`` = "auto"
(default: AMP for spiked Wigner / tensor, SK-AMP for SK, BP for colouring / NAE-SAT, exact enumeration
otherwise), "exact", "amp" or "bp"; ``denoiser_tol``, ``denoiser_max_iter``, ``denoiser_damping`` and
``warm_start`` (AMP / BP; default true along a path) are passed to the iterative denoisers.

Example::

    [[samplers]]
    name = "StochasticLocalization"
    n_samples = 8
    n_steps = 60
    denoiser = "amp"
    denoiser_tol = 1e-5
"""

from __future__ import annotations

import functools
import inspect
import warnings
from dataclasses import dataclass

import numpy as np

from samplers import (
    MALA,
    Autoregressive,
    HeatBath,
    Langevin,
    Metropolis,
    ParallelTempering,
    Samples,
    StochasticInterpolant,
    StochasticLocalization,
    TorchMetropolis,
)
from samplers.base import check_sampler
from samplers.denoisers import AMPDenoiser, BPDenoiser, ExactDenoiser, SKAMPDenoiser
from samplers.neural import VariationalAutoregressive
from spinglass.base import Model
from spinglass.mean_field import SK
from spinglass.sparse import NAESATModel, PottsModel
from spinglass.spiked import SpikedTensor, SpikedWigner

from .registry import OPTIONAL, Param, SamplerKind, register_sampler

DENOISERS = ("auto", "exact", "amp", "bp")
DENOISER_SETTINGS = ("denoiser", "denoiser_tol", "denoiser_max_iter", "denoiser_damping", "warm_start")


def _check_denoiser_settings(s: dict) -> dict:
    out = {"denoiser": Param(str, "auto", choices=DENOISERS).check("denoiser", s.get("denoiser", "auto")),
           "warm_start": Param(bool).check("warm_start", s.get("warm_start", True))}
    for key, param in (("denoiser_tol", Param(float, minimum=0.0, strict=True)),
                       ("denoiser_max_iter", Param(int, minimum=1)),
                       ("denoiser_damping", Param(float, minimum=0.0, maximum=0.999))):
        if key in s:
            out[key] = param.check(key, s[key])
    return out


def make_denoiser(model: Model, settings: dict):
    """The denoiser named by ``settings["denoiser"]`` (module docstring) for ``model``."""
    name = settings.get("denoiser", "auto")
    iterative = {"warm_start": settings.get("warm_start", True)}
    for key, arg in (("denoiser_tol", "tol"), ("denoiser_max_iter", "max_iter"), ("denoiser_damping", "damping")):
        if key in settings:
            iterative[arg] = settings[key]
    if name == "auto":
        if isinstance(model, SpikedWigner | SpikedTensor):
            name = "amp"
        elif isinstance(model, SK):
            name = "sk_amp"
        elif isinstance(model, PottsModel | NAESATModel):
            name = "bp"
        else:
            name = "exact"
    if name == "exact":
        return ExactDenoiser(model)
    if name == "bp":
        return BPDenoiser(model, seed=0, **iterative)
    if name == "sk_amp" or (name == "amp" and isinstance(model, SK)):
        return SKAMPDenoiser(model, seed=0, **iterative)
    return AMPDenoiser(model, seed=0, **iterative)


#: The denoiser ``"auto"`` picks for each model family of the sweep registry.
AUTO_DENOISER = {"SpikedWigner": "amp", "SpikedTensor": "amp", "SK": "amp", "PlantedColoring": "bp",
                 "PlantedNAESAT": "bp", "CurieWeiss": "exact", "EdwardsAnderson": "exact"}
#: The families each denoiser serves.
DENOISER_FAMILIES = {"amp": ("SpikedWigner", "SpikedTensor", "SK"), "bp": ("PlantedColoring", "PlantedNAESAT")}
ITERATIVE_SETTINGS = ("denoiser_tol", "denoiser_max_iter", "denoiser_damping")


def check_denoiser_for(settings: dict, family: str, capabilities: frozenset) -> str | None:
    """Why ``settings``' denoiser cannot serve a model point of ``family`` (None when it can): AMP serves
    the dense models, BP the sparse ones, enumeration needs at most ``MAX_EXACT_STATES`` configurations,
    and the iterative settings do not apply to enumeration."""
    name = settings.get("denoiser", "auto")
    resolved = AUTO_DENOISER.get(family, "exact") if name == "auto" else name
    if resolved == "exact":
        if "enumerable" not in capabilities:
            return (f"denoiser: {name!r} means exact enumeration here, which needs a model small enough to "
                    f"enumerate; choose n smaller or another denoiser, got {name!r}")
        extra = [k for k in ITERATIVE_SETTINGS if k in settings]
        if extra:
            return f"{extra[0]}: applies to AMP / BP, not to exact enumeration, got {settings[extra[0]]!r}"
        return None
    if family not in DENOISER_FAMILIES[resolved]:
        return (f"denoiser: {resolved!r} serves {', '.join(DENOISER_FAMILIES[resolved])}, not {family}, "
                f"got {name!r}")
    return None


@dataclass
class _Entry:
    """A built sweep sampler: the driver and the settings that rebuild it."""

    sampler: object
    settings: dict


def _mcmc_resolve(sampler, run: dict) -> dict:
    run = dict(run)
    run.setdefault("n_chains", run["n_samples"])
    run.setdefault("init", "random")
    if "burn_in" not in run:
        total = sampler.sweeps + (run["n_samples"] // run["n_chains"] - 1) * sampler.thin
        run["burn_in"] = total // 2
    return run


def _mcmc_run(sampler, model: Model, run: dict, seed: int, progress: bool = False) -> Samples:
    init = run["init"]
    if init == "ordered":
        if model.alphabet is None or 1.0 not in np.asarray(model.alphabet):
            raise ValueError(f"init = 'ordered' puts every variable at +1, not in {model.family}'s alphabet")
        init = np.ones(model.n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sampler.sample(model, run["n_samples"], seed=seed, n_chains=run["n_chains"], init=init,
                              progress=progress)


def _mcmc_kind(cls) -> SamplerKind:
    # threads is left out: it changes no number, and a sweep's worker processes already fill the cores
    names = tuple(k for k in inspect.signature(cls).parameters if k != "threads")
    return SamplerKind(
        cls.name, build=lambda s: check_sampler(cls(**s)),
        settings_of=lambda obj: {k: v for k, v in obj.settings().items() if k != "name" and v is not None},
        setting_names=names, run=_mcmc_run,
        run_params={"n_chains": Param(int, OPTIONAL, minimum=1),
                    "init": Param(str, OPTIONAL, choices=("random", "planted", "ordered")),
                    "burn_in": Param(int, OPTIONAL, minimum=0)},
        resolve=_mcmc_resolve, provides=frozenset({"trace", "acceptance", "updates", "chains"}),
        requires=frozenset({"discrete"}), shows_progress=True)


def _driver_kind(cls, names: tuple[str, ...], requires: frozenset[str] = frozenset()) -> SamplerKind:
    def build(s: dict) -> _Entry:
        s = dict(s)
        unknown = set(s) - set(names) - set(DENOISER_SETTINGS)
        if unknown:
            raise ValueError(f"unknown setting(s) {sorted(unknown)} of {cls.__name__}")
        den = _check_denoiser_settings(s)
        own = {k: v for k, v in s.items() if k not in DENOISER_SETTINGS}
        sampler = check_sampler(cls(functools.partial(make_denoiser, settings=den), **own))
        return _Entry(sampler, {**own, **den})

    return SamplerKind(cls.__name__, build=build, settings_of=lambda e: dict(e.settings),
                       setting_names=(*names, *DENOISER_SETTINGS),
                       run=lambda e, model, run, seed, progress=False: e.sampler.sample(
                           model, run["n_samples"], seed=seed, progress=progress),
                       provides=frozenset({"denoiser"}), requires=requires, check=check_denoiser_for,
                       shows_progress=True)


def _torch_chains_kind() -> SamplerKind:
    """TorchMetropolis: batched chromatic Metropolis chains in torch (CUDA when present) for +-1 pairwise
    models; the same run settings as the numba MCMC family."""
    names = tuple(inspect.signature(TorchMetropolis).parameters)

    def run(e: _Entry, model, run, seed):
        return e.sampler.sample(model, run["n_samples"], seed=seed, n_chains=run.get("n_chains", run["n_samples"]),
                                init=run.get("init", "random"))

    return SamplerKind("TorchMetropolis", build=lambda s: _Entry(check_sampler(TorchMetropolis(**s)), dict(s)),
                       settings_of=lambda e: dict(e.settings), setting_names=names, run=run,
                       run_params={"n_chains": Param(int, OPTIONAL, minimum=1),
                                   "init": Param(str, OPTIONAL, choices=("random", "planted"))},
                       provides=frozenset({"trace", "acceptance", "updates", "chains"}),
                       requires=frozenset({"discrete"}))


def _van_kind() -> SamplerKind:
    """VAN: a MADE trained variationally on the instance, then sampled i.i.d. (needs a finite beta)."""
    names = tuple(inspect.signature(VariationalAutoregressive).parameters)

    def run(e: _Entry, model, run, seed, progress=False):
        return e.sampler.sample(model, run["n_samples"], seed=seed, progress=progress)

    return SamplerKind("VAN", build=lambda s: _Entry(check_sampler(VariationalAutoregressive(**s)), dict(s)),
                       settings_of=lambda e: dict(e.settings), setting_names=names, run=run,
                       requires=frozenset({"discrete"}), shows_progress=True)


def _langevin_kind(cls) -> SamplerKind:
    names = tuple(inspect.signature(cls).parameters)

    def run(e: _Entry, model, run, seed, progress=False):
        return e.sampler.sample(model, run["n_samples"], seed=seed, n_chains=run.get("n_chains", run["n_samples"]),
                                init=run.get("init", "random"), progress=progress)

    return SamplerKind(cls.__name__, build=lambda s: _Entry(check_sampler(cls(**s)), dict(s)),
                       settings_of=lambda e: dict(e.settings),
                       setting_names=names, run=run,
                       run_params={"n_chains": Param(int, OPTIONAL, minimum=1),
                                   "init": Param(str, OPTIONAL, choices=("random", "planted"))},
                       provides=frozenset({"acceptance"}), requires=frozenset({"continuous"}), shows_progress=True)


for _cls in (Metropolis, HeatBath, ParallelTempering):
    register_sampler(_mcmc_kind(_cls))
register_sampler(_driver_kind(StochasticLocalization, ("schedule", "T", "n_steps", "rounding", "batch_size")))
register_sampler(_driver_kind(StochasticInterpolant, ("interpolant", "method", "integrator", "n_steps", "T",
                                                      "diffusion", "rounding", "batch_size")))
register_sampler(_driver_kind(Autoregressive, ("reveal_per_step", "batch_size", "on_contradiction", "max_restarts"),
                              requires=frozenset({"discrete"})))
register_sampler(_torch_chains_kind())
register_sampler(_van_kind())
register_sampler(_langevin_kind(Langevin))
register_sampler(_langevin_kind(MALA))

__all__ = ["make_denoiser", "check_denoiser_for", "DENOISERS", "DENOISER_SETTINGS", "AUTO_DENOISER"]
