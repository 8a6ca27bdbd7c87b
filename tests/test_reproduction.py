"""The PNAS reproduction: the committed threshold table is recomputed, published values are matched, and
the ``spinglass reproduce`` command runs end to end at a small size."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.reproduction import finite_size, planes, run, thresholds
from analysis.reproduction.published import PUBLISHED, published

RECORD = Path(__file__).resolve().parents[1] / "docs" / "reproduction" / "thresholds.json"


def _record() -> dict:
    return json.loads(RECORD.read_text())


def _committed(model: str, name: str) -> dict:
    for r in _record()["rows"]:
        if r["model"] == model and r["threshold"] == name:
            return r
    raise KeyError((model, name))


@pytest.fixture(scope="module")
def reduced_dense_rows():
    return thresholds.threshold_table("reduced", models=("spherical_3spin", "ising_3spin", "sparse_rademacher_0.08"))


def test_committed_table_is_the_full_resolution_computation():
    rec = _record()
    assert rec["resolution"] == "full"
    names = {(r["model"], r["threshold"]) for r in rec["rows"]}
    for m in thresholds.MODELS:
        assert any(k[0] == m for k in names), m
    # every published reference has its computed row
    for p in PUBLISHED:
        assert (p.model, p.threshold) in names, (p.model, p.threshold)


def test_dense_thresholds_recomputed_at_reduced_resolution_match_the_table(reduced_dense_rows):
    """State evolution at tricritical bisection tol 1e-7 against the committed (tol 1e-12) values, within the
    stated precision of the reduced computation (1e-5) plus that of the record (1e-6)."""
    assert len(reduced_dense_rows) == 6 + 6 + 7
    for r in reduced_dense_rows:
        c = _committed(r.model, r.threshold)
        assert abs(r.computed - c["computed"]) <= r.precision + c["precision"], (r.model, r.threshold)


def test_closed_forms_of_the_spherical_model(reduced_dense_rows):
    """Spherical 3-spin (F(g) = g / (1 + g)): T_d = sqrt(3/8); the tricritical points of both paths sit at
    Delta = 8/27 (T = 2/3, s = 1/8) and Delta = 1/3 (T = 1/sqrt 2, theta = 1/9) — closed forms of the cubic
    fixed-point equations, independent of the numerical search."""
    got = {r.threshold: r.computed for r in reduced_dense_rows if r.model == "spherical_3spin"}
    assert got["T_d"] == pytest.approx(math.sqrt(3 / 8), abs=1e-6)
    assert got["T_diffusion"] == pytest.approx(2 / 3, abs=1e-5)
    assert got["T_autoregressive"] == pytest.approx(1 / math.sqrt(2), abs=1e-5)
    assert got["s_tri"] == pytest.approx(1 / 8, abs=1e-4)
    assert got["theta_tri"] == pytest.approx(1 / 9, abs=1e-4)


def test_ordering_of_the_thresholds(reduced_dense_rows):
    """The lens' ordering: generative samplers fail at higher T (lower SNR) than MCMC, MCMC (T_d) above T_K;
    sparse Rademacher: x_alg < x_IT < x_dyn < x_autoregressive < x_diffusion."""
    g = {(r.model, r.threshold): r.computed for r in reduced_dense_rows}
    for m in ("spherical_3spin", "ising_3spin"):
        assert g[m, "T_K"] < g[m, "T_d"] < g[m, "T_diffusion"] < g[m, "T_autoregressive"]
    s = "sparse_rademacher_0.08"
    assert g[s, "x_alg"] < g[s, "x_IT"] < g[s, "x_dyn"] < g[s, "x_autoregressive"] < g[s, "x_diffusion"]


@pytest.mark.slow
def test_naesat_thresholds_recomputed_at_reduced_resolution_match_the_table():
    """Population dynamics (2000 members, 100 sweeps) against the committed (10000, 300) values within the two
    stated precisions (statistical + systematic); alpha_KS is exact."""
    rows = thresholds.naesat_rows("reduced", seed=3)
    for r in rows:
        c = _committed(r.model, r.threshold)
        assert abs(r.computed - c["computed"]) <= r.precision + c["precision"] + 1e-12, (r.threshold, r.computed)


@pytest.mark.slow
@pytest.mark.parametrize("path", ["gaussian", "erasure"])
def test_naesat_generative_thresholds_recomputed_at_reduced_resolution_match_the_table(path):
    """The tricritical densities (800 members, 60 sweeps, bisection width 0.1) against the committed values
    (3000, 150, width 0.05) within the stated precisions; both lie below alpha_d, as the lens predicts."""
    r = thresholds.naesat_path_row(path, "reduced", seed=4)
    c = _committed(r.model, r.threshold)
    assert abs(r.computed - c["computed"]) <= r.precision + c["precision"], (r.threshold, r.computed)
    assert c["computed"] + c["precision"] < _committed("naesat_5", "alpha_d")["computed"]


#: Published values matched only within the summed precisions, not within 1 %: the study's hand-placed
#: tricritical density of the NAE-SAT diffusion path (docs/reproduction.md §3, benchmarks/naesat_error_bars.py).
BEYOND_ONE_PERCENT = {("naesat_5", "alpha_diffusion")}


def test_every_published_threshold_is_matched_within_one_percent():
    checked = 0
    for r in _record()["rows"]:
        if r["published"] is None:
            assert r["within"] is None and r["rel_diff"] is None
            continue
        checked += 1
        assert r["within"], (r["model"], r["threshold"], r["computed"], r["published"])
        key = (r["model"], r["threshold"])
        assert (abs(r["rel_diff"]) <= 0.01) == (key not in BEYOND_ONE_PERCENT), key
    assert checked == sum(p.value is not None for p in PUBLISHED) >= 6


def test_row_criterion_can_fail():
    r = thresholds.ThresholdRow("ising_3spin", "T_d", "T", 0.70, 1e-6, 0.682, 5e-4, "x", "m")
    assert r.within is False and r.rel_diff == pytest.approx(0.018 / 0.682)
    r = thresholds.ThresholdRow("ising_3spin", "T_d", "T", 0.684, 1e-6, 0.682, 5e-4, "x", "m")
    assert r.within is True


def test_rows_round_trip_through_records():
    rows = thresholds.rows_from_records(_record()["rows"])
    assert thresholds.rows_to_records(rows) == _record()["rows"]


def test_published_lookup():
    assert published("ising_3spin", "T_K").value == 0.651
    assert published("ising_3spin", "nonsense") is None


def test_bad_arguments():
    with pytest.raises(ValueError, match="resolution must be one of"):
        thresholds.threshold_table("coarse")
    with pytest.raises(ValueError, match="models must be among"):
        thresholds.threshold_table("reduced", models=("sk",))
    with pytest.raises(ValueError, match="model must be one of"):
        planes.dense_planes("naesat_5")
    with pytest.raises(ValueError, match="n_points must be"):
        planes.dense_planes("ising_3spin", 2)
    with pytest.raises(ValueError, match="mode must be one of"):
        finite_size.run_finite_size("x.jsonl", mode="huge")
    with pytest.raises(ValueError, match="keys"):
        finite_size.run_finite_size("x.jsonl", settings={"ising_3spin": {"n": 10}})
    with pytest.raises(ValueError, match="samplers must be among"):
        finite_size.make_samplers("ising_3spin", 10, 10, ["gibbs"])


def test_planes_meet_at_the_tricritical_point():
    pl = planes.dense_planes("ising_3spin", 40)
    for path in ("gaussian", "erasure"):
        d = pl.lines[path]
        tx, tu = d["tricritical"]
        # beyond the tricritical temperature no line exists; below it sp1 <= IT <= sp2 wherever all three do
        beyond = pl.x > tx + 1e-9
        assert beyond.any() and all(math.isnan(v) for k in ("sp1", "sp2", "IT") for v in d[k][beyond])
        for a, b, c in zip(d["sp1"], d["IT"], d["sp2"], strict=True):
            if not (math.isnan(a) or math.isnan(b) or math.isnan(c)):
                assert a <= b + 1e-9 <= c + 2e-9
        assert math.isfinite(tu) and tu > 0


def test_finite_size_runs_resume(tmp_path):
    small = {"ising_3spin": {"n": 12, "axis": (0.7, 0.9), "instances": 1, "n_samples": 2, "mcmc": 5}}
    kw = {"settings": small, "samplers": ["mcmc", "autoregressive"]}
    path = tmp_path / "fs.jsonl"
    rows = finite_size.run_finite_size(path, **kw)
    assert len(rows) == 4 and all(r["failed"] is None for r in rows)
    # a rerun does nothing new; a truncated last line is skipped and recomputed
    assert finite_size.run_finite_size(path, **kw) == rows
    text = path.read_text().splitlines()
    path.write_text("\n".join(text[:-1]) + "\n" + text[-1][:10])
    again = finite_size.run_finite_size(path, **kw)
    assert len(again) == 4
    assert {(r["value"], r["sampler"]) for r in again} == {(r["value"], r["sampler"]) for r in rows}
    summ = finite_size.summarize(again)
    assert len(summ) == 4 and all(s["instances"] == 1 for s in summ)


@pytest.mark.slow
def test_reproduce_command_end_to_end(tmp_path, monkeypatch, capsys):
    """``spinglass reproduce --quick`` at a reduced size: every output file is written and the table printed."""
    tiny = {m: {**cfg, "axis": cfg["axis"][:1], "instances": 1} for m, cfg in finite_size.SETTINGS["quick"].items()}
    monkeypatch.setitem(finite_size.SETTINGS, "quick", tiny)
    monkeypatch.setitem(thresholds.RESOLUTIONS, "reduced",
                        {**thresholds.RESOLUTIONS["reduced"],
                         "naesat": {"population": 1000, "sweeps": 60, "measure": 20, "tol": 0.08}})
    out = tmp_path / "rep"
    monkeypatch.setitem(run.SK_SIZES, "quick", {**run.SK_SIZES["quick"], "n": 40, "exact_samples": 200})
    assert main(["reproduce", "--quick", "--out", str(out), "--no-progress", "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "| ising_3spin | T_K |" in printed and "reproduce:" in printed
    for name in ("thresholds.json", "thresholds.md", "planes.json", "finite_size_summary.json", "beyond_sk.json",
                 "beyond_sk.png", "planes_naesat_5.png"):
        assert (out / name).stat().st_size > 0, name
    for m in planes.AXES:
        assert (out / f"planes_{m}.png").stat().st_size > 0
    for m in finite_size.SETTINGS["quick"]:
        assert (out / f"finite_size_{m}.png").stat().st_size > 0
        assert (out / f"finite_size_{m}.jsonl").stat().st_size > 0
    rec = json.loads((out / "thresholds.json").read_text())
    assert rec["resolution"] == "reduced" and len(rec["rows"]) == len(_record()["rows"])


@pytest.mark.slow
def test_tasks_run_on_a_process_pool_and_thread_settings_are_restored(monkeypatch):
    """Two tasks on two spawned workers give the rows computed in-process (to rounding), and the parent's
    BLAS thread variables are left as they were."""
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    tasks = [("a", run._task_dense, ("reduced",)), ("b", run._task_dense, ("reduced",))]
    pooled = run._run_tasks(tasks, 2, None, log=lambda *a: None)
    serial = run._run_tasks(tasks[:1], 1, None, log=lambda *a: None)
    assert len(pooled["rows"]) == 2 * len(serial["rows"]) == 38
    got = {(r.model, r.threshold): r.computed for r in pooled["rows"]}
    # equal up to rounding: the workers run one BLAS thread, which may sum in another order
    assert got == pytest.approx({(r.model, r.threshold): r.computed for r in serial["rows"]}, rel=1e-12)
    assert set(pooled["seconds"]) == {"a", "b"}
    import os

    assert os.environ["OMP_NUM_THREADS"] == "7" and "OPENBLAS_NUM_THREADS" not in os.environ
