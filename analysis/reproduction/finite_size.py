r"""Finite-size sampling experiments on the study's four models, across each model's noise axis.

For every model (``analysis.reproduction.thresholds.MODELS``), axis value (T, Delta/rho^2 or alpha), and
instance seed, ``analysis.measures.compare.compare`` runs on one planted instance:

* ``mcmc``: Metropolis from a random start (i.i.d. from the prior), or unadjusted Langevin on the sphere
  for the spherical model (continuous prior);
* ``diffusion``: stochastic localisation (Euler-Maruyama on a geometric grid up to SNR T_end);
* ``flow``: the linear stochastic interpolant, Heun ODE;
* ``autoregressive``: decimation, ``reveal_per_step`` variables per query (discrete priors only: the
  spherical model has no finite alphabet, so it has no autoregressive run);

the generative ones over AMP (dense models) or BP (NAE-SAT).  Per run it records the overlap with the
planted configuration, the mean two-sample overlap, the Nishimori gap (their difference) and the energy
gap mean E(x)/N - E(x*)/N; both gaps vanish for posterior samples (Nishimori identity, docs/physics.md §1), so
a gap away from 0 is a sampler that misses the posterior.  The converse holds for the energy form only: samples
uncorrelated with x* and with each other (both overlaps ≈ 0, the way every generative sampler fails on the
3-spin models below T_K) give an overlap-form gap ≈ 0, while their energy gap stays large.  The energy gap is
therefore the failure detector; the overlap form is kept beside it.  A sampler that stops on a contradiction (BP at
beta = inf given revealed values that leave no solution) is restarted (NAE-SAT: at most
``NAESAT_MAX_RESTARTS`` times per sample, counted in ``restarts``); a run that still fails is recorded
with ``failed`` = the message.

Resumable: every finished (model, axis value, instance, sampler) row is appended at once to a JSON-lines
file (``spinglass reproduce`` keeps one per model); a rerun with the same file skips those rows.
``plot_finite_size`` draws the instance means with their standard errors against the axis, with the
predicted thresholds as vertical lines.
"""

from __future__ import annotations

import functools
import json
import math
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import spinglass as sg
from analysis.measures.compare import compare, count_or_none
from samplers import Langevin, Metropolis, StochasticInterpolant, StochasticLocalization
from samplers.autoregressive import Autoregressive
from samplers.denoisers import AMPDenoiser, BPDenoiser, ContradictionError
from samplers.schedules import GeometricSchedule

from .planes import AXIS_LABEL, TITLES, to_delta
from .thresholds import DENSE_MODELS

#: Experiment sizes.  ``n``: variables; ``axis``: the values scanned; ``instances``: seeds per value;
#: ``n_samples``: samples per sampler and instance; ``mcmc``: Metropolis sweeps (Langevin steps).
SETTINGS = {
    "full": {
        "sparse_rademacher_0.08": {"n": 1000, "axis": (0.90, 0.96, 1.00, 1.04, 1.08, 1.14), "instances": 3,
                                   "n_samples": 4, "mcmc": 400},
        "ising_3spin": {"n": 80, "axis": (0.60, 0.66, 0.70, 0.74, 0.80, 0.90), "instances": 4, "n_samples": 4,
                        "mcmc": 400},
        "spherical_3spin": {"n": 80, "axis": (0.55, 0.60, 0.64, 0.68, 0.74, 0.85), "instances": 4,
                            "n_samples": 4, "mcmc": 2000},
        "naesat_5": {"n": 400, "axis": (6.5, 7.3, 8.0, 8.8, 9.2, 9.6, 10.0, 10.6), "instances": 2, "n_samples": 3,
                     "mcmc": 300},
    },
    "quick": {
        "sparse_rademacher_0.08": {"n": 200, "axis": (0.90, 1.04, 1.14), "instances": 2, "n_samples": 2,
                                   "mcmc": 50},
        "ising_3spin": {"n": 24, "axis": (0.60, 0.74, 0.90), "instances": 2, "n_samples": 2, "mcmc": 50},
        "spherical_3spin": {"n": 24, "axis": (0.55, 0.68, 0.85), "instances": 2, "n_samples": 2, "mcmc": 200},
        "naesat_5": {"n": 150, "axis": (8.0, 9.6, 10.6), "instances": 1, "n_samples": 2, "mcmc": 50},
    },
}
#: Generative driver settings (final SNR, grid and step counts; a query reveals n // ``reveal_fraction``
#: variables on the autoregressive path).
DRIVER = {"T_end": 30.0, "sl_steps": 30, "t_min": 1e-3, "flow_steps": 15, "reveal_fraction": 50}
#: Denoiser settings; the 3-spin tensor AMP oscillates undamped at low T, so it is damped, and its
#: autoregressive runs reveal n // 20 variables per query (each query costs O(n^3) per iteration).
AMP = {"warm_start": True, "tol": 1e-4, "max_iter": 150}
AMP_TENSOR = {"warm_start": True, "tol": 1e-4, "max_iter": 100, "damping": 0.5}
BP = {"tol": 1e-4, "max_iter": 200}
REVEAL_FRACTION_TENSOR = 20
#: BP-guided decimation at beta = inf restarts a sample that hits a contradiction, at most this many times;
#: a run whose samples still contradict is recorded as failed.
NAESAT_MAX_RESTARTS = 5
QUANTITIES = ("overlap_planted", "two_sample_overlap", "nishimori_gap", "energy_gap")


def make_model(model: str, value: float, n: int, seed: int):
    """The planted instance of ``model`` at axis ``value`` (T, Delta/rho^2 or alpha)."""
    if model in DENSE_MODELS:
        prior, p = DENSE_MODELS[model]
        if p == 2:
            return sg.SpikedWigner(n, lam=1.0 / value, prior=prior, seed=seed)
        return sg.SpikedTensor(n, p, float(to_delta(model, value)), prior, seed=seed)
    if model == "naesat_5":
        return sg.PlantedNAESAT(n, 5, value, seed=seed)
    raise ValueError(f"model must be one of {tuple(SETTINGS['full'])}, got {model!r}")


def make_samplers(model: str, n: int, mcmc_steps: int, samplers: Sequence[str] | None = None) -> dict:
    """The samplers of one run (module docstring), restricted to ``samplers`` when given."""
    if model == "naesat_5":
        den = functools.partial(BPDenoiser, **BP)
    elif model.endswith("3spin"):
        den = functools.partial(AMPDenoiser, **AMP_TENSOR)
    else:
        den = functools.partial(AMPDenoiser, **AMP)
    reveal = REVEAL_FRACTION_TENSOR if model.endswith("3spin") else DRIVER["reveal_fraction"]
    out = {}
    if model == "spherical_3spin":
        out["mcmc"] = Langevin(step=0.005, n_steps=mcmc_steps)
    else:
        out["mcmc"] = Metropolis(sweeps=mcmc_steps)
    out["diffusion"] = StochasticLocalization(den, GeometricSchedule(T=DRIVER["T_end"], n_steps=DRIVER["sl_steps"],
                                                                     t_min=DRIVER["t_min"]))
    out["flow"] = StochasticInterpolant(den, interpolant="linear", method="ode", integrator="heun",
                                        n_steps=DRIVER["flow_steps"], T=DRIVER["T_end"])
    if model != "spherical_3spin":
        extra = {"on_contradiction": "restart", "max_restarts": NAESAT_MAX_RESTARTS} if model == "naesat_5" else {}
        out["autoregressive"] = Autoregressive(den, reveal_per_step=max(1, n // reveal), **extra)
    if samplers is not None:
        unknown = set(samplers) - {"mcmc", "diffusion", "flow", "autoregressive"}
        if unknown:
            raise ValueError(f"samplers must be among mcmc, diffusion, flow, autoregressive; got {sorted(unknown)}")
        out = {k: v for k, v in out.items() if k in samplers}
    return out


def _key(row: dict) -> tuple:
    return (row["model"], round(float(row["value"]), 10), int(row["instance"]), row["sampler"])


def load_rows(path: str | Path) -> list[dict]:
    """Rows of a JSON-lines results file (a truncated last line, from an interrupted write, is skipped)."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def run_finite_size(path: str | Path, *, mode: str = "full", models: Sequence[str] | None = None,
                    samplers: Sequence[str] | None = None, seed: int = 0, progress: bool = False,
                    settings: dict | None = None) -> list[dict]:
    """Run (or resume) the experiments of ``mode`` ("full" / "quick"), appending rows to ``path``; returns all rows.

    ``settings`` (model -> dict with the keys of ``SETTINGS[mode][model]``) replaces the sizes of ``mode``.

    Instance seeds are ``1000 * k + i`` for the k-th axis value and instance i, the samplers' seeds
    ``compare``'s spawn of ``seed`` — every row is reproducible on its own.
    """
    if settings is None:
        if mode not in SETTINGS:
            raise ValueError(f"mode must be one of {sorted(SETTINGS)}, got {mode!r}")
        settings = SETTINGS[mode]
    keys = {"n", "axis", "instances", "n_samples", "mcmc"}
    for m, cfg in settings.items():
        if m not in SETTINGS["full"]:
            raise ValueError(f"settings: model must be one of {tuple(SETTINGS['full'])}, got {m!r}")
        if not isinstance(cfg, dict) or set(cfg) != keys:
            raise ValueError(f"settings[{m!r}] must be a dict with the keys {sorted(keys)}")
    models = list(settings) if models is None else list(models)
    unknown = set(models) - set(settings)
    if unknown:
        raise ValueError(f"models must be among {tuple(settings)}, got {sorted(unknown)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = load_rows(path)
    done = {_key(r) for r in rows}
    tasks = [(m, k, v, i) for m in models for k, v in enumerate(settings[m]["axis"])
             for i in range(settings[m]["instances"])]
    if progress:
        from tqdm.auto import tqdm

        tasks = tqdm(tasks, desc="finite-size runs", unit="instance")
    named_of = {m: make_samplers(m, settings[m]["n"], settings[m]["mcmc"], samplers) for m in models}
    for m, k, v, i in tasks:
        cfg = settings[m]
        named = named_of[m]
        todo = {name: s for name, s in named.items()
                if _key({"model": m, "value": v, "instance": i, "sampler": name}) not in done}
        if not todo:
            continue
        inst_seed = 1000 * k + i
        model = make_model(m, v, cfg["n"], inst_seed)
        for name, sampler in todo.items():
            row = {"model": m, "value": float(v), "instance": i, "instance_seed": inst_seed, "sampler": name,
                   "n": cfg["n"], "n_samples": cfg["n_samples"], "seed": seed, "failed": None}
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tab = compare(model, {name: sampler}, cfg["n_samples"], seed=seed).table
                rec = tab.iloc[0].to_dict()
                row.update({q: float(rec.get(q, math.nan)) for q in QUANTITIES})
                restarts = count_or_none(rec, "restarts")
                if restarts is not None:
                    row["restarts"] = restarts
                row["denoiser_unconverged"] = count_or_none(rec, "denoiser_unconverged")
            except ContradictionError as err:  # BP at beta = inf, restarts exhausted: failed on this instance
                row.update({q: math.nan for q in QUANTITIES})
                row["failed"] = str(err)[:300]
            row["wall_time"] = time.perf_counter() - t0
            with path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            rows.append(row)
            done.add(_key(row))
    return rows


def summarize(rows: list[dict]) -> list[dict]:
    """Mean and standard error over instances of each quantity, per (model, value, sampler)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["model"], float(r["value"]), r["sampler"]), []).append(r)
    out = []
    for (m, v, s), rs in sorted(groups.items()):
        rec = {"model": m, "value": v, "sampler": s, "instances": len(rs), "n": rs[0]["n"],
               "failed": sum(r["failed"] is not None for r in rs)}
        for q in QUANTITIES:
            a = np.array([r[q] for r in rs if r["failed"] is None and r[q] is not None], dtype=float)
            a = a[np.isfinite(a)]
            rec[q] = float(a.mean()) if a.size else math.nan
            rec[q + "_err"] = float(a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else math.nan
        out.append(rec)
    return out


def plot_finite_size(summary: list[dict], model: str, thresholds: dict | None = None, axes=None):
    """Overlap with the planted configuration and both Nishimori gaps against the axis, per sampler.

    The energy form is the failure detector; the overlap form's label says why it is not one on its own (it
    also reads ≈ 0 when the samples are uncorrelated with x* and with each other)."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    recs = [r for r in summary if r["model"] == model]
    for ax, q, ylabel in zip(axes, ("overlap_planted", "nishimori_gap", "energy_gap"),
                            ("overlap with planted",
                             "Nishimori gap, overlap form\n(planted - two-sample overlap;\n"
                             "also ≈ 0 when both overlaps vanish)",
                             "Nishimori gap, energy form (failure detector)\n" + r"$E(x)/N - E(x^*)/N$"),
                            strict=True):
        for s in ("mcmc", "diffusion", "flow", "autoregressive"):
            rs = sorted((r for r in recs if r["sampler"] == s), key=lambda r: r["value"])
            if rs:
                failed, runs = sum(r["failed"] for r in rs), sum(r["instances"] for r in rs)
                label = s if not failed else f"{s} ({failed}/{runs} runs stopped on a contradiction)"
                ax.errorbar([r["value"] for r in rs], [r[q] for r in rs],
                            yerr=[0.0 if not math.isfinite(r[q + "_err"]) else r[q + "_err"] for r in rs],
                            marker="o", ms=3, capsize=2, label=label)
        for name, v in (thresholds or {}).items():
            if v is not None and math.isfinite(v):
                ax.axvline(v, lw=0.8, ls=":", color="gray")
                ax.text(v, 1.0, name, rotation=90, fontsize=6, va="top", ha="right",
                        transform=ax.get_xaxis_transform())
        if q != "overlap_planted":
            ax.axhline(0.0, color="k", lw=0.5)
        ax.set_xlabel(AXIS_LABEL[model])
        ax.set_ylabel(ylabel, fontsize=8)
    n = recs[0]["n"] if recs else "?"
    axes[0].set_title(f"{TITLES[model]}, N = {n}", fontsize=9)
    axes[0].legend(fontsize=7)
    return axes


__all__ = ["DRIVER", "QUANTITIES", "SETTINGS", "load_rows", "make_model", "make_samplers", "plot_finite_size",
           "run_finite_size", "summarize"]
