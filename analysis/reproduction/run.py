r"""``spinglass reproduce``: the threshold table, the phase-diagram planes and the finite-size runs, from nothing.

Writes into ``out``:

* ``thresholds.json`` (rows of ``analysis.reproduction.thresholds``, with settings, version and wall
  time) and ``thresholds.md`` (the table as Markdown);
* ``planes_<model>.png`` and ``planes.json``: the (axis, s) and (axis, theta) diagrams of each model
  (state evolution for the dense models, population dynamics along the paths for NAE-SAT);
* ``finite_size_<model>.jsonl`` (resumable rows), ``finite_size_summary.json`` and
  ``finite_size_<model>.png``;
* ``beyond_sk.json`` / ``beyond_sk.png``: the SK model through the lens and algorithmic stochastic
  localisation on it (``analysis.reproduction.beyond``);
* ``opposite_regime.json`` / ``opposite_regime.png``: MCMC's time to the informed state against N in the
  easy phase of sparse Rademacher, beside diffusion's success rate (``analysis.reproduction.opposite_regime``);
* ``tensor_trend_n<N>.jsonl`` (resumable rows), ``tensor_trend.json`` / ``tensor_trend.png``: the Ising
  3-spin generative energy gaps against N (``analysis.reproduction.tensor_trend``).

The work is split into independent tasks (thresholds of each model, each NAE-SAT path, each model's
finite-size runs, SK) run through the sweeps' execution layer (``analysis.experiments.execution``): on
``workers`` local processes (default: the number of CPUs; the numba kernels are single-threaded, so on 2
cores two tasks run at once) or on a Dask cluster given ``scheduler``.  ``quick=True`` uses the reduced resolution and
the small experiment sizes; the full run regenerates the committed ``docs/reproduction`` record.

Two cheaper maintenance steps work on an existing record: ``redraw`` redraws every figure from the record's
JSON files (after a change of plotting code), and ``refresh_thresholds`` rewrites the threshold table after a
change of ``published.py`` (recomputing the dense models' rows, which takes a second, and keeping the
NAE-SAT rows, whose population dynamics takes many minutes).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from analysis.experiments.execution import Job, JobsFailed, check_workers, executor_for
from spinglass import __version__

from . import beyond, finite_size, opposite_regime, planes, tensor_trend, thresholds

#: Beyond the study: the SK betas and the experiment sizes of each mode.
SK_BETAS = (0.3, 0.6, 0.9, 1.2)
SK_SIZES = {"full": {"n": 400, "instances": 3, "n_samples": 8, "exact_samples": 3000, "sl_steps": 40, "sweeps": 500},
            "quick": {"n": 100, "instances": 1, "n_samples": 3, "exact_samples": 500, "sl_steps": 20, "sweeps": 100}}
#: NAE-SAT planes: densities and path grids, population settings per mode.
NAESAT_PLANES = {
    "full": {"alphas": (7.5, 8.0, 8.5, 9.0, 9.5, 10.0), "grid": {"gaussian": np.linspace(0.05, 0.8, 10),
                                                               "erasure": np.linspace(0.02, 0.4, 10)},
             "population": 2000, "sweeps": 100, "measure": 30},
    "quick": {"alphas": (8.0, 9.0, 10.0), "grid": {"gaussian": np.linspace(0.1, 0.7, 4),
                                                   "erasure": np.linspace(0.05, 0.35, 4)},
              "population": 500, "sweeps": 40, "measure": 10},
}



# ---------------------------------------------------------------------------------------------------------
# tasks (module-level functions: they run in worker processes)
# ---------------------------------------------------------------------------------------------------------
def _task_dense(resolution: str) -> dict:
    rows = thresholds.threshold_table(resolution, models=("spherical_3spin", "ising_3spin", "sparse_rademacher_0.08"))
    return {"rows": rows}


def _task_naesat(resolution: str) -> dict:
    return {"rows": thresholds.naesat_rows(resolution)}


def _task_naesat_path(resolution: str, path: str) -> dict:
    return {"rows": [thresholds.naesat_path_row(path, resolution)]}


def _task_naesat_plane(mode: str, path: str) -> dict:
    from analysis.theory.population_paths import naesat_path_plane

    cfg = NAESAT_PLANES[mode]
    pl = naesat_path_plane(5, cfg["alphas"], path, cfg["grid"][path], population=cfg["population"],
                           sweeps=cfg["sweeps"], measure=cfg["measure"], seed=5)
    return {"plane": (path, pl)}


def _task_finite_size(mode: str, model: str, out: str) -> dict:
    path = Path(out) / f"finite_size_{model}.jsonl"
    return {"finite_size": finite_size.run_finite_size(path, mode=mode, models=[model])}


def _task_opposite_regime(mode: str) -> dict:
    return {"opposite_regime": opposite_regime.run_opposite_regime(mode)}


def _task_tensor_trend(mode: str, out: str) -> dict:
    return {"tensor_trend": tensor_trend.run_tensor_trend(out, mode)}


def _task_sk(mode: str) -> dict:
    return {"sk": (beyond.sk_lens(SK_BETAS), beyond.run_sk_experiment(SK_BETAS, **SK_SIZES[mode]))}


def _tasks(quick: bool, experiments: bool, out: Path) -> list[tuple]:
    """(name, function, args), longest first (so that the pool's tail is short)."""
    resolution, mode = ("reduced", "quick") if quick else ("full", "full")
    tasks = [("NAE-SAT threshold, gaussian path", _task_naesat_path, (resolution, "gaussian")),
             ("NAE-SAT threshold, erasure path", _task_naesat_path, (resolution, "erasure"))]
    if experiments:
        tasks += [(f"finite size, {m}", _task_finite_size, (mode, m, str(out)))
                  for m in ("naesat_5", "sparse_rademacher_0.08")]
        tasks.append(("SK beyond the study", _task_sk, (mode,)))
        tasks.append(("opposite regime (MCMC time against N)", _task_opposite_regime, (mode,)))
        tasks.append(("Ising 3-spin energy gap against N", _task_tensor_trend, (mode, str(out))))
    tasks += [("NAE-SAT thresholds", _task_naesat, (resolution,)),
              ("NAE-SAT plane, gaussian path", _task_naesat_plane, (mode, "gaussian")),
              ("NAE-SAT plane, erasure path", _task_naesat_plane, (mode, "erasure"))]
    if experiments:
        tasks += [(f"finite size, {m}", _task_finite_size, (mode, m, str(out)))
                  for m in ("spherical_3spin", "ising_3spin")]
    tasks.append(("dense-model thresholds", _task_dense, (resolution,)))
    return tasks


def _run_tasks(tasks: list[tuple], workers: int | None, scheduler, log, progress: bool = False) -> dict:
    from tqdm.auto import tqdm

    results: dict = {"rows": [], "planes": {}, "finite_size": [], "sk": None, "opposite_regime": [],
                     "tensor_trend": [], "seconds": {}}
    executor = executor_for(len(tasks), workers=workers, scheduler=scheduler)
    log(f"reproduce: {len(tasks)} tasks on {executor.description}; results arrive as tasks finish (the longest "
        "start first)")
    t0 = time.perf_counter()
    failures = []
    bar = tqdm(total=len(tasks), desc="reproduce", unit="task", disable=not progress, file=sys.stderr)
    for job, res, error in executor.run([Job(name, fn, args) for name, fn, args in tasks]):
        bar.update(1)
        secs = time.perf_counter() - t0
        if error is not None:
            failures.append(f"{job.name}: {type(error).__name__}: {error}")
            log(f"  FAILED: {job.name} ({secs:.1f} s): {type(error).__name__}: {error}")
            continue
        results["seconds"][job.name] = secs
        results["rows"] += res.get("rows", [])
        results["finite_size"] += res.get("finite_size", [])
        if "plane" in res:
            results["planes"][res["plane"][0]] = res["plane"][1]
        if "sk" in res:
            results["sk"] = res["sk"]
        for key in ("opposite_regime", "tensor_trend"):
            if key in res:
                results[key] = res[key]
        log(f"  done: {job.name} ({secs:.1f} s)")
    bar.close()
    if failures:
        raise JobsFailed(f"reproduce: {len(failures)} of {len(tasks)} tasks failed (finished finite-size rows "
                           "are kept; rerun to retry): " + "; ".join(failures))
    return results


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _draw_dense_planes(out: Path, pl: planes.ModelPlanes) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    pl.plot(axes)
    _save(fig, out / f"planes_{pl.model}.png")


def _draw_naesat_planes(out: Path, rows: list, naesat_planes: dict) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    lines = planes.threshold_lines(rows, "naesat_5")
    for ax, path in zip(axes, ("gaussian", "erasure"), strict=True):
        naesat_planes[path].plot(ax)
        name = thresholds.NAESAT_PATH_NAMES[path]
        for key in ("alpha_d", name):
            if key in lines:
                ax.axvline(lines[key], ls=":", lw=0.8, color="tab:red" if key == name else "tab:purple",
                           label=f"{key} = {lines[key]:.3f}")
        ax.set_title(f"{planes.TITLES['naesat_5']}: {path} path (population dynamics)", fontsize=9)
        ax.legend(fontsize=6)
    _save(fig, out / "planes_naesat_5.png")


def _draw_finite_size(out: Path, rows: list, summary: list[dict], models) -> None:
    import matplotlib.pyplot as plt

    for model in models:
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
        finite_size.plot_finite_size(summary, model, planes.threshold_lines(rows, model), axes)
        _save(fig, out / f"finite_size_{model}.png")


def _draw_sk(out: Path, sk_rows: list[dict]) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    beyond.plot_sk(sk_rows, ax)
    _save(fig, out / "beyond_sk.png")


def _draw_opposite_regime(out: Path, summary: list[dict]) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    opposite_regime.plot_opposite_regime(summary, axes)
    _save(fig, out / "opposite_regime.png")


def _draw_tensor_trend(out: Path, summary: list[dict]) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    tensor_trend.plot_tensor_trend(summary, ax)
    _save(fig, out / "tensor_trend.png")


def write_opposite_regime(out: str | Path, rows: list[dict], mode: str) -> dict:
    """``opposite_regime.json`` (settings, rows, summary) and ``opposite_regime.png`` in ``out``."""
    out = Path(out)
    summary = opposite_regime.summarize(rows)
    record = {"version": __version__, "mode": mode, "settings": opposite_regime.SETTINGS[mode],
              "threshold_fraction": opposite_regime.THRESHOLD_FRACTION, "rows": rows, "summary": summary}
    (out / "opposite_regime.json").write_text(json.dumps(record, indent=1, default=_jsonable))
    _draw_opposite_regime(out, summary)
    return record


def write_tensor_trend(out: str | Path, rows: list[dict], mode: str) -> dict:
    """``tensor_trend.json`` (settings, summary, trend) and ``tensor_trend.png`` in ``out``."""
    out = Path(out)
    summary = tensor_trend.summarize(rows)
    record = {"version": __version__, "mode": mode, "settings": tensor_trend.SETTINGS[mode],
              "driver": finite_size.DRIVER, "summary": summary, "trend": tensor_trend.trend(summary)}
    (out / "tensor_trend.json").write_text(json.dumps(record, indent=1, default=_jsonable))
    _draw_tensor_trend(out, summary)
    return record


def redraw(out: str | Path, log=print) -> list[str]:
    """Redraw every figure of a record from its JSON files alone (no computation): the planes from
    ``planes.json``, the finite-size panels from ``finite_size_summary.json``, SK from ``beyond_sk.json``,
    the threshold lines from ``thresholds.json``.  For a change of plotting code (colours, labels) that
    must not wait for a 20-minute ``reproduce``.  Returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    rows = thresholds.rows_from_records(json.loads((out / "thresholds.json").read_text())["rows"])
    written = []
    plane_records = json.loads((out / "planes.json").read_text())
    for model in planes.AXES:
        if model in plane_records:
            _draw_dense_planes(out, planes.ModelPlanes.from_dict(plane_records[model]))
            written.append(f"planes_{model}.png")
    if "naesat_5" in plane_records:
        _draw_naesat_planes(out, rows, {p: planes.naesat_plane_from_rows(r, p)
                                        for p, r in plane_records["naesat_5"].items()})
        written.append("planes_naesat_5.png")
    if (out / "finite_size_summary.json").exists():
        fs = json.loads((out / "finite_size_summary.json").read_text())["summary"]
        models = sorted({r["model"] for r in fs}, key=thresholds.MODELS.index)
        _draw_finite_size(out, rows, fs, models)
        written += [f"finite_size_{m}.png" for m in models]
    if (out / "beyond_sk.json").exists():
        _draw_sk(out, json.loads((out / "beyond_sk.json").read_text())["rows"])
        written.append("beyond_sk.png")
    if (out / "opposite_regime.json").exists():
        _draw_opposite_regime(out, json.loads((out / "opposite_regime.json").read_text())["summary"])
        written.append("opposite_regime.png")
    if (out / "tensor_trend.json").exists():
        _draw_tensor_trend(out, json.loads((out / "tensor_trend.json").read_text())["summary"])
        written.append("tensor_trend.png")
    log(f"redraw: {len(written)} figures written to {out}")
    return written


def refresh_thresholds(out: str | Path, log=print) -> dict:
    """Rewrite ``thresholds.json`` / ``thresholds.md`` of a record after a change of ``published.py``.

    The dense models' rows are recomputed at the record's resolution (about a second); the NAE-SAT rows,
    whose population dynamics takes many minutes, keep their recorded computed values.  Every row's
    published value, precision and source is read again (``thresholds.refresh_published``), so that
    ``rel_diff`` and ``within`` are the code's own.  The record notes what was refreshed.  Returns
    {"max_change_dense": largest |recomputed - recorded| over the dense rows, "rows": number of rows}.
    """
    out = Path(out)
    record = json.loads((out / "thresholds.json").read_text())
    old = thresholds.rows_from_records(record["rows"])
    dense = tuple(m for m in thresholds.DENSE_MODELS if any(r.model == m for r in old))
    new = thresholds.threshold_table(record["resolution"], models=dense) if dense else []
    recorded = {(r.model, r.threshold): r.computed for r in old}
    change = max((abs(r.computed - recorded[r.model, r.threshold]) for r in new
                  if (r.model, r.threshold) in recorded), default=0.0)
    kept = [r for r in old if r.model not in dense]
    rows = thresholds.order_rows(thresholds.refresh_published(new + kept))
    record["rows"] = thresholds.rows_to_records(rows)
    record["refreshed"] = {
        "version": __version__,
        "what": "published values re-read from analysis/reproduction/published.py; dense-model rows recomputed at "
                "the record's resolution; NAE-SAT rows kept from the full run",
        "max_change_dense": change}
    (out / "thresholds.json").write_text(json.dumps(record, indent=1, default=_jsonable))
    (out / "thresholds.md").write_text(thresholds.format_table(rows) + "\n")
    log(f"refresh_thresholds: {len(rows)} rows; dense rows moved by at most {change:.3g}")
    return {"max_change_dense": change, "rows": len(rows)}


def reproduce(out: str | Path, *, quick: bool = False, experiments: bool = True, workers: int | None = None,
              scheduler=None, progress: bool = False, log=print) -> dict:
    """Regenerate the reproduction record in ``out`` (module docstring); returns a summary dict.

    ``workers``: processes for the tasks (default ``os.cpu_count()``; 1 runs them in this process).
    ``scheduler``: a Dask scheduler address (``tcp://host:port``) or ``distributed.Client`` to run the tasks
    on a cluster instead (``analysis.experiments.execution``; ``out`` must then be on a filesystem the
    workers share, since the finite-size tasks append their resumable rows there).
    ``progress``: report each task as it finishes, with its elapsed time.
    """
    import matplotlib

    matplotlib.use("Agg")

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    resolution, mode = ("reduced", "quick") if quick else ("full", "full")
    check_workers(workers)
    t0 = time.perf_counter()
    tasks = _tasks(quick, experiments, out)
    log(f"reproduce: resolution {resolution}")
    res = _run_tasks(tasks, workers, scheduler, log if progress else (lambda *a: None), progress)

    rows = thresholds.order_rows(res["rows"])
    table = thresholds.format_table(rows)
    (out / "thresholds.md").write_text(table + "\n")
    (out / "thresholds.json").write_text(json.dumps(
        {"version": __version__, "resolution": resolution, "settings": thresholds.RESOLUTIONS[resolution],
         "task_seconds": res["seconds"], "rows": thresholds.rows_to_records(rows)}, indent=1, default=_jsonable))
    log(table)

    plane_records = {}
    for model in planes.AXES:
        pl = planes.dense_planes(model, 25 if quick else 100, planes.threshold_lines(rows, model))
        plane_records[model] = pl.to_dict()
        _draw_dense_planes(out, pl)
    if res["planes"]:
        _draw_naesat_planes(out, rows, res["planes"])
        plane_records["naesat_5"] = {p: pl.to_rows() for p, pl in res["planes"].items()}
    (out / "planes.json").write_text(json.dumps(plane_records, default=_jsonable))

    if experiments:
        fs = finite_size.summarize(res["finite_size"])
        (out / "finite_size_summary.json").write_text(json.dumps(
            {"version": __version__, "mode": mode, "settings": finite_size.SETTINGS[mode],
             "driver": finite_size.DRIVER, "summary": fs}, indent=1))
        _draw_finite_size(out, rows, fs, finite_size.SETTINGS[mode])
        lens, sk_rows = res["sk"]
        (out / "beyond_sk.json").write_text(json.dumps({"version": __version__, "mode": mode, "sizes": SK_SIZES[mode],
                                                        "lens": lens, "rows": sk_rows}, indent=1))
        _draw_sk(out, sk_rows)
        write_opposite_regime(out, res["opposite_regime"], mode)
        write_tensor_trend(out, res["tensor_trend"], mode)
    seconds = time.perf_counter() - t0
    log(f"reproduce: {seconds:.1f} s in total, written to {out}")
    return {"version": __version__, "quick": quick, "resolution": resolution, "seconds": seconds,
            "task_seconds": res["seconds"]}


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


__all__ = ["NAESAT_PLANES", "SK_BETAS", "SK_SIZES", "redraw", "refresh_thresholds", "reproduce",
           "write_opposite_regime", "write_tensor_trend"]
