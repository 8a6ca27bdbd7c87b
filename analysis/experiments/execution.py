r"""Running independent jobs: in this process, on local processes, or on a Dask cluster, with one set of rules.

Both the sweeps (:mod:`analysis.experiments.sweep`) and the reproduction (``spinglass reproduce``) hand
their work to this layer as :class:`Job` s: a name, a picklable module-level function and its arguments.
An executor runs them and yields ``(job, result, error)`` as each finishes, in completion order.  The rules
are the same on every backend:

* **A failing job does not stop the others.**  Its exception comes back as ``error`` (``result`` None);
  the caller decides what a failure means (a sweep records it and the next run retries the task).
* **A dead worker is not a failed sweep.**  When a local worker process dies (killed, out of memory), the
  pool breaks and every job still in it fails with ``BrokenProcessPool``; the unfinished jobs are then
  rerun, each in a fresh process of its own so that a death is charged to the job that caused it, and a
  job whose process dies more than ``retries`` times (default 2) is reported as :class:`WorkerDied`.
  Jobs that had finished keep their results.  On Dask the scheduler reschedules the
  jobs of a lost worker itself.
* **One BLAS / OpenMP thread per worker process**: the jobs already fill the cores, and nested threads
  oversubscribe them (the variables are set only while the workers start, with the ``spawn`` method, so
  this process keeps its own).
* **Orphans exit**: a worker whose parent is gone (the sweep was SIGKILLed) exits within half a second.

Backends: ``workers=1`` runs in this process (no pool; handy for debugging), ``workers=k`` a
``ProcessPoolExecutor`` of k spawned processes (standard library, about a second to start, nothing to
configure), ``scheduler="tcp://host:port"`` or a ``distributed.Client`` an existing Dask cluster (the
workers need this package installed; results come back to this process).  :func:`executor_for` picks one.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Environment variables that set the thread count of BLAS / OpenMP / numba in a worker process.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
#: Default number of resubmissions of a job whose worker process died.
DEFAULT_RETRIES = 2


@dataclass(frozen=True)
class Job:
    """One unit of work: ``fn(*args)``, named ``name`` in messages (``fn`` module-level, so it pickles)."""

    name: str
    fn: Callable[..., Any]
    args: tuple = field(default=())

    def __call__(self) -> Any:
        return self.fn(*self.args)


Outcome = tuple[Job, Any, BaseException | None]


class Executor(Protocol):
    """Runs jobs and yields ``(job, result, error)`` as each finishes (module docstring for the rules)."""

    description: str

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        ...


class InProcess:
    """Every job in this process, one after the other."""

    description = "1 process (in-process)"

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        for job in jobs:
            try:
                result = job()
            except Exception as exc:  # a failed job is reported, the others go on
                yield job, None, exc
            else:
                yield job, result, None


class WorkerDied(RuntimeError):
    """A job's worker process died ``attempts`` times while running it (the pool broke each time)."""


class JobsFailed(RuntimeError):
    """Some jobs of a run that needs all of them failed; the message names each with its error."""


def _run_job(job: Job) -> Any:
    return job()


class ProcessPool:
    """Jobs on ``workers`` spawned local processes; a broken pool is replaced (module docstring).

    All jobs go to one shared pool first.  If a worker dies, every unfinished job of that pool fails with
    ``BrokenProcessPool`` and nothing tells which job killed it, so the unfinished jobs are rerun each in a
    process of its own (``workers`` at a time): there a death is charged to the job that caused it, which
    is retried up to ``retries`` times and then reported as :class:`WorkerDied`, while the others finish.
    """

    def __init__(self, workers: int, retries: int = DEFAULT_RETRIES):
        self.workers = workers
        self.retries = retries
        self.description = f"{workers} local processes"

    @staticmethod
    def _start(jobs: Sequence[Job], workers: int) -> tuple[cf.ProcessPoolExecutor, dict]:
        """A fresh pool with every job submitted.  The spawned workers start during the submissions and
        inherit the environment then, so the thread variables are set to 1 around them, and restored."""
        saved = {k: os.environ.get(k) for k in THREAD_VARS}
        os.environ.update({k: "1" for k in THREAD_VARS})
        try:
            pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                          initializer=_watch_parent, initargs=(os.getpid(),))
            return pool, {pool.submit(_run_job, job): job for job in jobs}
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        if not jobs:
            return
        broken: list[Job] = []
        pool, futures = self._start(jobs, self.workers)
        try:
            for fut in cf.as_completed(futures):
                job = futures.pop(fut)
                exc = fut.exception()
                if isinstance(exc, cf.process.BrokenProcessPool):
                    broken.append(job)
                elif exc is not None:
                    yield job, None, exc
                else:
                    yield job, fut.result(), None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if broken:
            yield from self._isolated(broken)

    def _isolated(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        """Each job in a one-process pool of its own, ``workers`` at a time; a death is that job's."""
        queue = deque((job, 1) for job in jobs)
        running: dict = {}
        try:
            while queue or running:
                while queue and len(running) < self.workers:
                    job, attempt = queue.popleft()
                    pool, futures = self._start([job], 1)
                    running[next(iter(futures))] = (pool, job, attempt)
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    pool, job, attempt = running.pop(fut)
                    pool.shutdown(wait=True)
                    exc = fut.exception()
                    if isinstance(exc, cf.process.BrokenProcessPool):
                        if attempt > self.retries:
                            yield job, None, WorkerDied(
                                f"the worker process running {job.name} died {attempt} times in a process of its "
                                "own (killed or out of memory?); not retried again")
                        else:
                            queue.append((job, attempt + 1))
                    elif exc is not None:
                        yield job, None, exc
                    else:
                        yield job, fut.result(), None
        finally:
            for pool, _, _ in running.values():
                pool.shutdown(wait=True, cancel_futures=True)


def _watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Worker initializer: exit when the parent process is gone (e.g. SIGKILLed), instead of idling forever.

    A killed parent cannot shut its pool down, and idle workers wait on a queue whose other ends their
    siblings keep open; a daemon thread polling ``os.getppid()`` ends such orphans within ``interval``.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="spinglass-parent-watch", daemon=True).start()


class DaskCluster:
    """Jobs on an existing Dask cluster (an address ``tcp://host:port`` or a ``distributed.Client``)."""

    def __init__(self, scheduler: Any):
        self.scheduler = scheduler
        address = getattr(scheduler, "scheduler", None)
        address = getattr(address, "address", None) if address is not None else scheduler
        self.description = f"Dask cluster at {address}"

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        from distributed import Client, as_completed

        own = not isinstance(self.scheduler, Client)
        if own:
            try:
                client = Client(self.scheduler, timeout=10)
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"scheduler: cannot connect to the Dask scheduler ({exc}), "
                                 f"got {self.scheduler!r}") from None
        else:
            client = self.scheduler
        try:
            if not jobs:
                return
            futures = client.map(_run_job, list(jobs), pure=False)
            by_key = {f.key: job for f, job in zip(futures, jobs, strict=True)}
            for fut in as_completed(futures):
                job = by_key.pop(fut.key)
                try:
                    result = fut.result()
                except Exception as exc:
                    yield job, None, exc
                else:
                    yield job, result, None
                fut.release()
        finally:
            if own:
                client.close()


def check_workers(workers: Any) -> int | None:
    """``workers`` (None or an int >= 1), else ``ValueError`` naming it."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers: must be an integer >= 1, got {workers!r}")
    return workers


def dask_executor(scheduler: Any) -> DaskCluster:
    """The Dask backend for ``scheduler`` (an address like ``tcp://host:8786`` or a ``distributed.Client``)."""
    if isinstance(scheduler, str):
        if "://" not in scheduler:
            raise ValueError(f"scheduler: must be an address like tcp://host:8786, got {scheduler!r}")
        return DaskCluster(scheduler)
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise ValueError("scheduler: the 'distributed' package is needed for a Dask cluster") from None
    if not isinstance(scheduler, Client):
        raise TypeError(f"scheduler must be an address string or a distributed.Client, got {type(scheduler).__name__}")
    return DaskCluster(scheduler)


def executor_for(n_jobs: int, *, workers: int | None = None, scheduler: Any = None,
                 retries: int = DEFAULT_RETRIES) -> Executor:
    """The executor for ``n_jobs`` jobs: Dask given ``scheduler``; else ``min(workers or cpus, n_jobs)``
    local processes, or this process when that is 1."""
    check_workers(workers)
    if scheduler is not None:
        return dask_executor(scheduler)
    n = min(workers or os.cpu_count() or 1, max(n_jobs, 1))
    return InProcess() if n == 1 else ProcessPool(n, retries)


__all__ = ["Job", "Executor", "InProcess", "ProcessPool", "DaskCluster", "WorkerDied", "JobsFailed", "executor_for",
           "dask_executor", "check_workers", "THREAD_VARS", "DEFAULT_RETRIES"]
