"""Sweeps end to end: executors agree, SIGKILL loses nothing finished, results are traceable and resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

import spinglass
from analysis.experiments import results
from analysis.experiments.sweep import expand, run_sweep
from analysis.experiments.sweep_spec import load_spec, parse_spec_text

REPO = Path(__file__).resolve().parents[1]

SMALL = """
name = "small"
seeds = [0, 1]
metrics = ["energy", "magnetization", "acceptance", "tau_int_energy", "ess_energy", "wall_time"]
[model]
family = "CurieWeiss"
n = 64
[grid]
T = [0.8, 1.25]
[[samplers]]
name = "Metropolis"
n_samples = 40
n_chains = 4
sweeps = 100
thin = 2
[[samplers]]
name = "ParallelTempering"
n_samples = 4
n_chains = 2
sweeps = 100
n_temps = 3
"""

#: Tasks of ~0.1-0.3 s each, so that a kill lands while some are finished and others are not.
SLOW = """
name = "slow"
seeds = [0, 1, 2]
metrics = ["energy", "abs_magnetization", "tau_int_energy"]
[model]
family = "EdwardsAnderson"
L = 32
couplings = "ferro"
[grid]
T = [1.8, 2.2, 2.6, 3.0]
[[samplers]]
name = "HeatBath"
n_samples = 4
n_chains = 4
sweeps = 1500
"""


def comparable(df: pd.DataFrame) -> pd.DataFrame:
    """The table without what legitimately differs between runs (timings), in a canonical order."""
    df = df[~df["metric"].isin(["wall_time", "ess_per_second"])]
    df = df.drop(columns=list(results.TIME_COLUMNS))
    return df.sort_values(["task_id", "metric"]).reset_index(drop=True)


@pytest.mark.slow
def test_dask_local_cluster_and_default_executor_give_identical_rows(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = parse_spec_text(SMALL)
    local = run_sweep(spec, workers=2, output=tmp_path / "local", progress=False)
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        on_dask = run_sweep(spec, scheduler=cluster.scheduler_address, output=tmp_path / "dask", progress=False)
    assert local.ok and on_dask.ok and local.n_run == on_dask.n_run == spec.n_tasks == 8
    assert "Dask cluster" in on_dask.backend and "local processes" in local.backend
    a, b = results.load(tmp_path / "local"), results.load(tmp_path / "dask")
    assert len(a) == spec.n_tasks * len(spec.metrics)
    pd.testing.assert_frame_equal(comparable(a), comparable(b))


def test_results_record_seed_parameters_version_and_rerun_skips(tmp_path):
    spec = parse_spec_text(SMALL)
    out = tmp_path / "ds"
    first = run_sweep(spec, workers=1, output=out, progress=False)
    df = results.load(out)
    assert first.n_run == 8 and first.rows_written == len(df) == 8 * 6
    assert set(df["seed"]) == {0, 1} and set(df["T"]) == {0.8, 1.25} and set(df["n"]) == {64}
    assert set(df["version"]) == {spinglass.__version__}
    assert set(df["sampler"]) == {"Metropolis", "ParallelTempering"}
    pt = df[df["sampler"] == "ParallelTempering"]
    assert set(pt["sampler_n_temps"]) == {3} and df[df["sampler"] == "Metropolis"]["sampler_n_temps"].isna().all()
    assert {"sampler_sweeps", "sampler_n_chains", "sampler_burn_in", "sampler_seed", "wall_time"} <= set(df.columns)
    assert (df["wall_time"] > 0).all() and (df["task_time"] >= df["wall_time"]).all()
    assert not df.duplicated(["task_id", "metric"]).any()
    by_task = {t.task_id: t for t in expand(spec)}
    for task_id, rows in df.groupby("task_id"):
        assert rows["sampler_seed"].iloc[0] == by_task[task_id].sampler_seed
    # the same spec again: nothing to do
    again = run_sweep(spec, workers=1, output=out, progress=False)
    assert again.n_run == 0 and again.n_skipped == 8
    # a new metric re-runs every task and replaces its part-file: still one row per task x metric
    more = parse_spec_text(SMALL.replace('"wall_time"]', '"wall_time", "rhat_energy"]'))
    third = run_sweep(more, workers=1, output=out, progress=False)
    assert third.n_run == 8
    df3 = results.load(out)
    assert len(df3) == 8 * 7 and not df3.duplicated(["task_id", "metric"]).any()
    same = comparable(df3[df3["metric"] != "rhat_energy"])
    pd.testing.assert_frame_equal(same, comparable(df))  # deterministic: identical values on re-run


def test_failed_tasks_are_reported_and_retried(tmp_path):
    # c = 50 asks for 150 edges among the 15 pairs of 6 vertices: that instance cannot be built
    spec = parse_spec_text("""
metrics = ["energy"]
[model]
family = "PlantedColoring"
n = 6
q = 2
beta = 2.0
[grid]
c = [1.0, 50.0]
[[samplers]]
name = "HeatBath"
n_samples = 2
""")
    summary = run_sweep(spec, workers=1, output=tmp_path / "ds", progress=False)
    assert summary.n_run == 1 and len(summary.failures) == 1
    task_id, message = summary.failures[0]
    assert "ValueError" in message and "\n" not in message and "c = 50" in message
    assert "failed task" in str(summary)
    again = run_sweep(spec, workers=1, output=tmp_path / "ds", progress=False)
    assert again.n_skipped == 1 and len(again.failures) == 1  # the failed task is tried again


def _parts(path: Path) -> list[Path]:
    return results.part_files(path)


@pytest.mark.slow
def test_sigkill_mid_sweep_then_rerun_equals_uninterrupted_run(tmp_path):
    spec_path = tmp_path / "slow.toml"
    spec_path.write_text(SLOW)
    spec = load_spec(spec_path)
    n_tasks = spec.n_tasks
    reference = run_sweep(spec, workers=1, output=tmp_path / "reference", progress=False)
    assert reference.ok and reference.n_run == n_tasks

    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "analysis.cli", "sweep", str(spec_path), "--workers", "2",
                             "--no-progress", "--out", str(killed)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not _parts(killed) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        workers = [c for c in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(c.cmdline())]
        os.kill(proc.pid, signal.SIGKILL)  # the sweep process itself, while its workers are mid-task
        proc.wait()
        done = len(_parts(killed))
        # orphaned workers notice that the sweep is gone and exit instead of idling forever
        _, alive = psutil.wait_procs(workers, timeout=30)
        assert workers and not alive
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the sweep's process group
        except ProcessLookupError:
            pass
    assert 1 <= done < n_tasks, f"kill landed at {done} of {n_tasks} finished tasks"
    assert not results.load(killed).duplicated(["task_id", "metric"]).any()

    resumed = run_sweep(spec, workers=1, output=killed, progress=False)
    assert resumed.n_skipped == done and resumed.n_run == n_tasks - done and resumed.ok
    assert not [p for p in killed.iterdir() if p.name.startswith(".")]  # no temporary leftovers
    final = results.load(killed)
    assert len(final) == n_tasks * len(spec.metrics)
    pd.testing.assert_frame_equal(comparable(final), comparable(results.load(tmp_path / "reference")))
