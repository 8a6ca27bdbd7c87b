"""Nothing a user computed is lost: changed metrics, foreign sweeps, huge grids, unwritable or corrupt outputs."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from analysis.cli import main
from analysis.experiments import results
from analysis.experiments.sweep import UndefinedMetricWarning, run_sweep
from analysis.experiments.sweep_spec import SpecError, parse_spec_text

TINY = """
name = "tiny"
seeds = [0, 1]
metrics = {metrics}
[model]
family = "CurieWeiss"
n = 16
[grid]
T = [0.8, 1.5]
[[samplers]]
name = "Metropolis"
n_samples = 8
n_chains = 2
sweeps = 20
"""


def _spec(metrics='["energy", "magnetization"]', text=TINY):
    return parse_spec_text(text.format(metrics=metrics))


def _values(path) -> pd.DataFrame:
    df = results.load(path)
    return df.set_index(["task_id", "metric"])["value"].sort_index()


def test_rerun_with_other_metrics_keeps_every_finished_row(tmp_path):
    """The data-loss bug: a rerun with a changed metrics list must add, never delete."""
    out = tmp_path / "res"
    first = run_sweep(_spec('["energy", "magnetization"]'), workers=1, progress=False, output=out)
    assert first.ok and first.n_run == 4
    before = _values(out)
    second = run_sweep(_spec('["energy", "abs_magnetization"]'), workers=1, progress=False, output=out)
    assert second.ok and second.n_run == 4
    after = _values(out)
    assert set(after.index.get_level_values("metric")) == {"energy", "magnetization", "abs_magnetization"}
    # every old row is still there with its old value (the samples are the same: the seed is the task's)
    assert after.loc[before.index].equals(before)
    # a third run with everything already present runs nothing
    third = run_sweep(_spec('["energy", "magnetization", "abs_magnetization"]'), workers=1, progress=False,
                      output=out)
    assert third.n_run == 0 and _values(out).equals(after)


def test_merge_part_replaces_only_the_metrics_it_brings(tmp_path):
    rows = [{"task_id": "a", "metric": m, "value": v} for m, v in (("x", 1.0), ("y", 2.0))]
    results.write_part(tmp_path, "a", rows)
    results.merge_part(tmp_path, "a", [{"task_id": "a", "metric": "y", "value": 5.0},
                                       {"task_id": "a", "metric": "z", "value": 7.0}])
    df = results.load(tmp_path).set_index("metric")["value"]
    assert df.to_dict() == {"x": 1.0, "y": 5.0, "z": 7.0}


def test_another_sweep_into_the_same_output_is_refused_unless_appended(tmp_path):
    out = tmp_path / "res"
    assert run_sweep(_spec(), workers=1, progress=False, output=out).ok
    other = parse_spec_text(TINY.format(metrics='["energy"]').replace('"CurieWeiss"', '"SK"')
                            .replace('name = "tiny"', 'name = "sk"'))
    with pytest.raises(ValueError, match=r"output: .* holds the results of another sweep: tiny \(CurieWeiss\)"):
        run_sweep(other, workers=1, progress=False, output=out)
    assert set(results.load(out)["family"]) == {"CurieWeiss"}          # nothing was written
    summary = run_sweep(other, workers=1, progress=False, output=out, append=True)
    assert summary.ok and set(results.load(out)["family"]) == {"CurieWeiss", "SK"}
    assert [s["name"] for s in results.sweeps_in(out)] == ["tiny", "sk"]
    # the same sweep again (more seeds) is welcome without --append
    assert run_sweep(_spec(), workers=1, progress=False, output=out).n_run == 0


def test_a_dataset_without_manifest_is_adopted_by_its_own_family_only(tmp_path):
    out = tmp_path / "old"
    results.write_part(out, "t1", [{"task_id": "t1", "family": "CurieWeiss", "metric": "energy", "value": 1.0}])
    assert run_sweep(_spec(), workers=1, progress=False, output=out).ok
    legacy = tmp_path / "legacy_sk"
    results.write_part(legacy, "t1", [{"task_id": "t1", "family": "SK", "metric": "energy", "value": 1.0}])
    with pytest.raises(ValueError, match=r"another sweep: \(unnamed\) \(SK\)"):
        run_sweep(_spec(), workers=1, progress=False, output=legacy)


def test_cli_refuses_a_foreign_output_in_one_line(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY.format(metrics='["energy"]'))
    other = tmp_path / "sk.toml"
    other.write_text(TINY.format(metrics='["energy"]').replace('"CurieWeiss"', '"SK"').replace('"tiny"', '"sk"'))
    out = str(tmp_path / "res")
    assert main(["sweep", str(spec), "--workers", "1", "--no-progress", "--out", out]) == 0
    capsys.readouterr()
    assert main(["sweep", str(other), "--workers", "1", "--no-progress", "--out", out]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--append" in err
    assert main(["sweep", str(other), "--workers", "1", "--no-progress", "--out", out, "--append"]) == 0


def test_task_limit_is_checked_before_anything_is_expanded():
    huge = TINY.format(metrics='["energy"]').replace("T = [0.8, 1.5]", "T = {start = 0.5, stop = 3.0, num = 100000000}")
    with pytest.raises(SpecError, match=r"grid\.T\.num: more values than max_tasks = 100000 .*got 100000000"):
        parse_spec_text(huge)
    many = TINY.format(metrics='["energy"]').replace("T = [0.8, 1.5]", "T = {start = 0.5, stop = 3.0, num = 600}")
    many = many.replace("seeds = [0, 1]", "seeds = {start = 0, stop = 199, num = 200}")
    with pytest.raises(SpecError, match=r"grid\.T: the sweep would run 120000 tasks \(600 values\)"):
        parse_spec_text(many)
    allowed = parse_spec_text("max_tasks = 200000\n" + many)
    assert allowed.n_tasks == 120000
    with pytest.raises(SpecError, match="max_tasks: must be >= 1"):
        parse_spec_text("max_tasks = 0\n" + many)


def test_unwritable_output_is_refused_before_any_task_runs(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ValueError, match="output: cannot write results to"):
        run_sweep(_spec(), workers=1, progress=False, output=blocker / "sub")
    if os.geteuid() != 0:  # root writes anywhere; the read-only case only bites ordinary users
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(ValueError, match="output: cannot write results to"):
            run_sweep(_spec(), workers=1, progress=False, output=ro / "res")


def test_a_corrupt_part_file_is_named_and_kept_aside_when_its_task_reruns(tmp_path):
    out = tmp_path / "res"
    assert run_sweep(_spec(), workers=1, progress=False, output=out).ok
    victim = results.part_files(out)[0]
    victim.write_bytes(b"garbage, not parquet")
    with pytest.raises(ValueError, match=f"part-file .*{victim.name}.* is unreadable"):
        results.load(out)
    summary = run_sweep(_spec(), workers=1, progress=False, output=out)
    assert summary.ok and summary.n_run == 1
    assert (out / f"{victim.name}.unreadable-0").read_bytes() == b"garbage, not parquet"
    assert len(results.load(out)) == 8


def test_a_frozen_chain_records_nan_with_a_warning(tmp_path):
    frozen = TINY.format(metrics='["energy", "tau_int_energy", "ess_energy"]').replace(
        "T = [0.8, 1.5]", "T = [0.02]").replace("sweeps = 20", "sweeps = 20\ninit = \"ordered\"")
    with pytest.warns(UndefinedMetricWarning, match="tau_int_energy in 2 tasks"):
        summary = run_sweep(parse_spec_text(frozen), workers=1, progress=False, output=tmp_path / "f")
    assert summary.undefined == {"tau_int_energy": 2, "ess_energy": 2}
    assert "warning: NaN recorded for ess_energy in 2 tasks" in str(summary)


def test_a_metric_unknown_to_the_worker_is_a_clear_error():
    from analysis.experiments.sweep import execute_task, expand
    from analysis.experiments.sweep_spec import METRICS

    (task, *_) = expand(_spec('["energy"]'))
    saved = METRICS.pop("energy")
    try:
        with pytest.raises(LookupError, match="metric 'energy' is not registered in this worker process"):
            execute_task(task)
    finally:
        METRICS["energy"] = saved


def test_threads_is_not_a_sweep_setting():
    text = TINY.format(metrics='["energy"]').replace("sweeps = 20", "sweeps = 20\nthreads = 4")
    with pytest.raises(SpecError, match=r"samplers\[0\]\.threads: unknown"):
        parse_spec_text(text)


def test_mixed_sampler_datasets_keep_integer_settings_integer(tmp_path):
    text = TINY.format(metrics='["energy"]') + '\n[[samplers]]\nname = "ParallelTempering"\nn_samples = 8\n' \
        'n_chains = 2\nsweeps = 20\nn_temps = 3\n'
    assert run_sweep(parse_spec_text(text), workers=1, progress=False, output=tmp_path / "mix").ok
    df = results.load(tmp_path / "mix")
    assert str(df["sampler_n_temps"].dtype) == "Int64"
    assert set(df["sampler_n_temps"].dropna()) == {3} and df["sampler_n_temps"].isna().sum() == 4


def test_a_passing_read_error_is_not_taken_for_a_corrupt_file(tmp_path, monkeypatch):
    results.write_part(tmp_path, "t1", [{"task_id": "t1", "metric": "energy", "value": 1.0}])

    def flaky(*args, **kwargs):
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(results.pq, "read_table", flaky)
    with pytest.raises(OSError, match="Too many open files"):
        results.merge_part(tmp_path, "t1", [{"task_id": "t1", "metric": "tau", "value": 2.0}])
    monkeypatch.undo()
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["part-t1.parquet"]     # nothing set aside
    assert results.completed(tmp_path) == {"t1": frozenset({"energy"})}


def test_one_writer_at_a_time(tmp_path):
    out = tmp_path / "res"
    with results.writer_lock(out):
        with pytest.raises(ValueError, match="another process is writing results into"):
            # a second open file description contends for the lock like another process would
            run_sweep(_spec(), workers=1, progress=False, output=out)
    assert run_sweep(_spec(), workers=1, progress=False, output=out).ok      # free again afterwards


def test_legacy_datasets_with_several_or_unreadable_families_are_not_adopted(tmp_path):
    mixed = tmp_path / "mixed"
    results.write_part(mixed, "a", [{"task_id": "a", "family": "CurieWeiss", "metric": "energy", "value": 1.0}])
    results.write_part(mixed, "b", [{"task_id": "b", "family": "SK", "metric": "energy", "value": 1.0}])
    with pytest.raises(ValueError, match=r"another sweep: \(unnamed\) \(SK\)"):
        results.claim(mixed, "tiny", "CurieWeiss")
    results.claim(mixed, "tiny", "CurieWeiss", append=True)
    assert {s["family"] for s in results.sweeps_in(mixed)} == {"CurieWeiss", "SK"}     # the SK rows stay on record
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "part-x.parquet").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="unreadable part-files"):
        results.claim(broken, "tiny", "CurieWeiss")


def test_sampler_grids_are_capped_and_refuse_duplicated_variants():
    big = TINY.format(metrics='["energy"]').replace("sweeps = 20", "sweeps = 20\ngrid = { burn_in = { start = 1, "
                                                    "stop = 1000000000, num = 1000000000 } }")
    with pytest.raises(SpecError, match=r"samplers\[0\]\.grid\.burn_in\.num: more values than max_tasks"):
        parse_spec_text(big)
    dup = TINY.format(metrics='["energy"]').replace("sweeps = 20", "grid = { sweeps = [20, 30, 20] }")
    with pytest.raises(SpecError, match=r"samplers\[0\]\.grid\.sweeps: duplicated value"):
        parse_spec_text(dup)
