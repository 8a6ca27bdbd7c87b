r"""Run a sweep: expand a specification into independent tasks, execute them, store their rows as they finish.

Tasks.  The spec's model grid x instance seeds x sampler variants gives one :class:`Task` per point.  A
task's identity is its full parameter dict (family, model parameters, instance seed, sampler label, name,
settings and run settings); ``task_id`` is the first 16 hex digits of the SHA-256 of that dict in
canonical JSON, so the same configuration has the same id in every run, on every machine.  Randomness is
all derived from the spec: the model instance is built with the instance seed, and the sampler is seeded
with ``sampler_seed`` = a 60-bit integer from the SHA-256 of the same dict without the label (so the
seed does not depend on how a sampler is displayed).

Execution: the tasks run through :mod:`analysis.experiments.execution` (the same layer as
``spinglass reproduce``): local processes by default (``workers``, default the number of CPUs; 1 runs in
this process), or an existing Dask cluster given ``scheduler="tcp://host:port"`` or a
``distributed.Client``; a task that raises is a recorded failure, a dead worker process is replaced and its
unfinished tasks retried.  Results come back to this process, which alone writes the dataset, so no shared
filesystem is needed.  On a SLURM machine, ``dask-jobqueue`` provides such a cluster (install it
separately)::

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=8, memory="16GB", walltime="02:00:00")
    cluster.scale(jobs=10)
    run_sweep(load_spec("spec.toml"), scheduler=cluster.scheduler_address)

or start ``dask scheduler`` / ``dask worker tcp://host:8786`` by hand and run
``spinglass sweep spec.toml --scheduler tcp://host:8786``.

Resumability.  Before running, finished tasks are read from the dataset
(:func:`analysis.experiments.results.completed`);
a task whose part-file holds every requested metric is skipped, so re-running a spec (after a crash, a
SIGKILL, or with more grid points) runs only what is missing.  Each finished task is written at once with
an atomic rename (:mod:`analysis.experiments.results`), so nothing finished is lost and no row is duplicated.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spinglass import __version__

from . import results
from .execution import Job, check_workers, executor_for
from .sweep_spec import METRICS, MODELS, SAMPLERS, MetricInput, SweepSpec


@dataclass(frozen=True)
class Task:
    """One independent unit of a sweep: a model instance, a sampler configuration and the metrics to record."""

    family: str
    model: dict
    seed: int
    sampler: str
    sampler_name: str
    settings: dict
    run: dict
    metrics: tuple[str, ...]

    def parameters(self) -> dict:
        """The full parameter dict that defines the task (everything but the metrics)."""
        return {"family": self.family, "model": self.model, "seed": self.seed,
                "sampler": {"label": self.sampler, "name": self.sampler_name, "settings": self.settings,
                            "run": self.run}}

    @property
    def task_id(self) -> str:
        """First 16 hex digits of the SHA-256 of the canonical JSON of :meth:`parameters`."""
        return _digest(self.parameters())[:16]

    @property
    def sampler_seed(self) -> int:
        """The sampler's seed: 60 bits of the SHA-256 of the parameters without the display label."""
        params = self.parameters()
        params["sampler"] = {k: v for k, v in params["sampler"].items() if k != "label"}
        return int(_digest(params)[:15], 16)

    def columns(self) -> dict:
        """The task's identifying columns of the tidy table (see :mod:`analysis.experiments.results`)."""
        cols: dict[str, Any] = {"task_id": self.task_id, "family": self.family}
        cols.update(self.model)
        cols.update({"seed": self.seed, "sampler": self.sampler, "sampler_name": self.sampler_name})
        for key, value in {**self.settings, **self.run}.items():
            cols[f"sampler_{key}"] = json.dumps(value) if isinstance(value, list | tuple | dict) else value
        cols["sampler_seed"] = self.sampler_seed
        return cols


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def expand(spec: SweepSpec) -> list[Task]:
    """The tasks of ``spec``: model points (grid order) x seeds x samplers x sampler variants."""
    tasks = []
    for point in spec.model_points():
        for seed in spec.seeds:
            for s in spec.samplers:
                for v in s.variants:
                    tasks.append(Task(spec.family, point, seed, s.label, s.name, dict(v.settings), dict(v.run),
                                      s.metrics or spec.metrics))
    return tasks


def execute_task(task: Task, progress: bool = False) -> list[dict]:
    """Build the model, run the sampler, compute the metrics; return the task's tidy rows (one per metric).

    Runs in a worker (a local process, a Dask worker, or this process); everything it needs is in ``task``.
    ``progress``: draw the sampler's own progress bar where its kind can (``spinglass sample``).
    """
    t0 = time.perf_counter()
    for registry, name, what in ((MODELS, task.family, "model family"), (SAMPLERS, task.sampler_name, "sampler"),
                                 *((METRICS, m, "metric") for m in task.metrics)):
        if name not in registry:
            raise LookupError(f"{what} {name!r} is not registered in this worker process: a registration made "
                              "at run time (in a notebook or script) reaches only that process; put it in a module "
                              "the workers import, or run with workers=1")
    model = MODELS[task.family].build(task.model, task.seed)
    kind = SAMPLERS[task.sampler_name]
    sampler = kind.build(dict(task.settings))
    if progress and kind.shows_progress:
        samples = kind.run(sampler, model, task.run, task.sampler_seed, progress=True)
    else:
        samples = kind.run(sampler, model, task.run, task.sampler_seed)
    inp = MetricInput(model, samples, task.run)
    values = {name: float(METRICS[name].compute(inp)) for name in task.metrics}
    common = task.columns()
    tail = {"version": __version__, "wall_time": float(samples.wall_time), "task_time": time.perf_counter() - t0}
    return [{**common, "metric": name, "value": value, **tail} for name, value in values.items()]


@dataclass
class SweepSummary:
    """What a sweep did; ``str()`` is the summary the CLI prints."""

    name: str
    output: Path
    n_tasks: int
    n_skipped: int
    n_run: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    rows_written: int = 0
    elapsed: float = 0.0
    backend: str = ""
    #: metric -> number of tasks run now that recorded it as NaN (e.g. tau_int / ESS / R-hat of a frozen,
    #: constant energy trace, which has no autocorrelation)
    undefined: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        lines = [f"sweep {self.name!r}: {self.n_tasks} tasks: {self.n_run} run, {self.n_skipped} already done, "
                 f"{len(self.failures)} failed; {self.backend}; {self.elapsed:.1f} s",
                 f"results: {self.output} ({len(results.part_files(self.output))} part-files; "
                 f"{self.rows_written} rows written now)"]
        for task_id, message in self.failures[:5]:
            lines.append(f"failed task {task_id}: {message}")
        if len(self.failures) > 5:
            lines.append(f"... and {len(self.failures) - 5} more failures")
        if self.undefined:
            counts = ", ".join(f"{m} in {k} task{'s' if k > 1 else ''}" for m, k in sorted(self.undefined.items()))
            lines.append(f"warning: NaN recorded for {counts} (undefined there: a constant trace, e.g. frozen chains, "
                         "has no autocorrelation time, ESS or R-hat)")
        return "\n".join(lines)


def run_sweep(spec: SweepSpec, *, workers: int | None = None, scheduler: Any = None, progress: bool = True,
              output: str | Path | None = None, append: bool = False) -> SweepSummary:
    """Run every unfinished task of ``spec`` and append its rows to the dataset; return a summary.

    Parameters
    ----------
    workers : local worker processes (default: the number of CPUs, at most the number of tasks); 1 runs
        in this process.  Not used with ``scheduler``.
    scheduler : address of an existing Dask scheduler (``"tcp://host:port"``) or a ``distributed.Client``.
    progress : show a tqdm progress bar over tasks (on stderr).
    output : dataset directory (default: ``spec.output``); checked writable before anything runs.
    append : allow writing into a directory that holds another sweep's results (another name or model
        family); without it that is a ``ValueError`` (``analysis.experiments.results.claim``).

    A task that raises is recorded in ``SweepSummary.failures`` (its id and the error, one line) and
    writes nothing, so the next run retries it; the other tasks go on.  A finished task whose part-file
    lacks some of the requested metrics runs again for those only, and its old rows are kept
    (``results.merge_part``): nothing finished is lost or overwritten.
    """
    if not isinstance(spec, SweepSpec):
        raise TypeError(f"spec must be a SweepSpec (analysis.experiments.load_spec), got {type(spec).__name__}")
    check_workers(workers)
    root = results.check_writable(Path(spec.output if output is None else output))
    with results.writer_lock(root):
        return _run_locked(spec, root, workers, scheduler, progress, append)


def _run_locked(spec: SweepSpec, root: Path, workers, scheduler, progress: bool, append: bool) -> SweepSummary:
    results.claim(root, spec.name, spec.family, append=append, version=__version__)
    t0 = time.perf_counter()
    tasks = expand(spec)
    results.clean_temporary(root)
    done = results.completed(root)
    todo = []
    for t in tasks:
        have = done.get(t.task_id, frozenset())
        missing = tuple(m for m in t.metrics if m not in have)
        if missing:
            todo.append(dataclasses.replace(t, metrics=missing) if have else t)
    summary = SweepSummary(spec.name, root, len(tasks), len(tasks) - len(todo))
    backend = executor_for(len(todo), workers=workers, scheduler=scheduler)
    summary.backend = backend.description if todo else "nothing to run"
    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc=spec.name, unit="task", disable=not progress or not todo, file=sys.stderr)
    # the first tasks of a fresh install also compile the numba kernels (cached afterwards): no ETA until then
    bar.set_postfix_str("first tasks compile kernels", refresh=True)
    try:
        for job, rows, error in backend.run([Job(t.task_id, execute_task, (t,)) for t in todo]):
            task = job.args[0]
            if bar.n == 0:
                bar.set_postfix_str("", refresh=False)
            if error is None:
                results.merge_part(root, task.task_id, rows)
                for r in rows:
                    if r["value"] != r["value"]:
                        summary.undefined[r["metric"]] = summary.undefined.get(r["metric"], 0) + 1
                summary.rows_written += len(rows)
                summary.n_run += 1
            else:
                msg = " ".join(f"{type(error).__name__}: {error}".split())
                summary.failures.append((task.task_id, msg))
            bar.update(1)
    finally:
        bar.close()
        summary.elapsed = time.perf_counter() - t0
    if summary.undefined:
        warnings.warn(str(summary).splitlines()[-1].removeprefix("warning: "), UndefinedMetricWarning, stacklevel=3)
    return summary


class UndefinedMetricWarning(RuntimeWarning):
    """Some tasks recorded a metric as NaN because it is undefined for their samples (a frozen chain)."""
