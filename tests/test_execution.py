"""The shared execution layer: same results and failure rules in process, on a pool, with dead workers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis.experiments.execution import (
    DaskCluster,
    InProcess,
    Job,
    ProcessPool,
    WorkerDied,
    executor_for,
)


def square(x: int) -> int:
    return x * x


def fail(x: int) -> int:
    raise ValueError(f"bad {x}")


def die_once(marker: str, x: int) -> int:
    """Kills its worker process the first time it runs (a marker file remembers), then succeeds."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died")
        os._exit(1)
    return x + 100


def die_always(x: int) -> int:
    os._exit(1)


def thread_setting() -> str | None:
    return os.environ.get("OPENBLAS_NUM_THREADS")


def _collect(executor, jobs):
    return {job.name: (result, error) for job, result, error in executor.run(jobs)}


@pytest.mark.parametrize("executor", [InProcess(), ProcessPool(2)], ids=["in-process", "pool"])
def test_results_and_failures_are_reported_per_job(executor):
    jobs = [Job(f"sq{i}", square, (i,)) for i in range(4)] + [Job("bad", fail, (7,))]
    out = _collect(executor, jobs)
    assert {k: v[0] for k, v in out.items() if k != "bad"} == {f"sq{i}": i * i for i in range(4)}
    result, error = out["bad"]
    assert result is None and isinstance(error, ValueError) and "bad 7" in str(error)


@pytest.mark.slow
def test_a_dead_worker_is_replaced_and_its_job_retried(tmp_path):
    jobs = [Job("dies", die_once, (str(tmp_path / "marker"), 1))] + [Job(f"sq{i}", square, (i,)) for i in range(3)]
    out = _collect(ProcessPool(2), jobs)
    assert out["dies"] == (101, None)
    assert all(out[f"sq{i}"] == (i * i, None) for i in range(3))


@pytest.mark.slow
def test_a_job_that_always_kills_its_worker_fails_after_bounded_retries():
    jobs = [Job("killer", die_always, (0,)), Job("ok", square, (3,))]
    out = _collect(ProcessPool(2, retries=1), jobs)
    assert out["ok"] == (9, None)
    result, error = out["killer"]
    assert result is None and isinstance(error, WorkerDied) and "died 2 times" in str(error)


def test_pool_workers_run_one_blas_thread_and_the_parent_keeps_its_setting(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    out = _collect(ProcessPool(2), [Job("a", thread_setting), Job("b", thread_setting)])
    assert out == {"a": ("1", None), "b": ("1", None)}
    assert os.environ["OPENBLAS_NUM_THREADS"] == "7"


def test_executor_choice_and_bad_arguments():
    assert isinstance(executor_for(5, workers=1), InProcess)
    assert isinstance(executor_for(1, workers=4), InProcess)          # one job: no pool
    pool = executor_for(5, workers=3)
    assert isinstance(pool, ProcessPool) and pool.workers == 3
    assert isinstance(executor_for(5, scheduler="tcp://127.0.0.1:1"), DaskCluster)
    with pytest.raises(ValueError, match="workers: must be an integer >= 1"):
        executor_for(3, workers=0)
    with pytest.raises(ValueError, match="scheduler: must be an address"):
        executor_for(3, scheduler="localhost")


def test_dask_cluster_runs_jobs_with_the_same_rules():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None) as c:
        out = _collect(executor_for(3, scheduler=c.scheduler_address),
                       [Job("a", square, (2,)), Job("bad", fail, (1,)), Job("b", square, (5,))])
    assert out["a"] == (4, None) and out["b"] == (25, None)
    assert isinstance(out["bad"][1], ValueError)
