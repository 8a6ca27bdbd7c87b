"""The verdicts the learned-sampler benchmarks derive from their rows: the energy-form Nishimori flag, the sparse
spiked-Wigner statements (``benchmarks/learned_common.sparse_targets``), the 3-spin verdicts and the merge of
per-model runs (``benchmarks/learned_tensor.py``), and the report rows built on them (``learned_report.py``).

Synthetic records with known answers; each test has a mutant (a flipped lens, a sampler that found x*, a gap
inside its error) that must change the verdict.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def _module(name):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def common():
    return _module("learned_common")


def _sparse_block(hard: bool, gaps: dict, overlaps: dict, m_bayes: float = 0.74) -> dict:
    """A ``learned_at_scale`` sparse block: 4 seeds x SL/SI x learned/learned+warm/AMP, 8 samples per row;
    ``gaps[(driver, denoiser)]`` and ``overlaps[(driver, denoiser)]`` are per-seed lists."""
    rows = []
    for d in ("SL", "SI"):
        for k in ("learned", "learned+warm", "AMP"):
            for seed in range(4):
                ov = overlaps.get((d, k), [0.02] * 4)[seed]
                rows.append({"instance_seed": seed, "driver": d, "denoiser": k, "overlap_planted": ov,
                             "overlap_planted_per_sample": [ov] * 8,
                             "energy_nishimori_gap": gaps.get((d, k), [0.0, 0.01, -0.01, 0.0])[seed]})
    return {"Delta_over_rho2": 1.2 if hard else 0.8,
            "se": {"m_bayes": m_bayes, "sampler_predicted_to_fail": hard}, "samplers": rows}


def _by_statement(targets, *words):
    return [t for t in targets if all(w in t["target"] for w in words)]


def test_gap_flagged_needs_both_the_floor_and_three_standard_errors(common):
    assert common.gap_flagged(0.10, 0.02)
    assert not common.gap_flagged(0.10, 0.04)  # within 3 SE
    assert not common.gap_flagged(0.04, 0.001)  # below the 0.05 floor
    assert common.gap_flagged(0.06, float("nan"))  # one instance: the floor alone
    assert not common.gap_flagged(-0.2, 0.01)


def test_sparse_energy_flag_follows_the_lens(common):
    hard_gaps = {(d, k): [0.10, 0.09, 0.11, 0.10] for d in ("SL", "SI") for k in ("learned", "learned+warm", "AMP")}
    targets = common.sparse_targets({"h": _sparse_block(True, hard_gaps, {})}, tol=0.087)
    flags = _by_statement(targets, "energy-form")
    assert len(flags) == 6 and all(t["met"] for t in flags)
    # mutant: the same gaps where the lens says the sampler works
    easy = common.sparse_targets({"e": _sparse_block(False, hard_gaps, {})}, tol=0.087)
    assert not any(t["met"] for t in _by_statement(easy, "energy-form"))
    # mutant: a learned sampler whose gap stays at 0 at the hard point is not flagged
    quiet = {**hard_gaps, ("SL", "learned"): [0.0, 0.01, -0.01, 0.0]}
    (row,) = _by_statement(common.sparse_targets({"h": _sparse_block(True, quiet, {})}, tol=0.087),
                           "SL/learned:", "energy-form")
    assert row["met"] is False


def test_sparse_hard_point_ends_uninformed_and_counts_samples_that_found_the_signal(common):
    block = _sparse_block(True, {}, {})
    targets = common.sparse_targets({"h": block}, tol=0.087)
    uninformed = _by_statement(targets, "ends uninformed")
    assert len(uninformed) == 4 and all(t["met"] for t in uninformed)
    assert all(t["value"] == "0 / 32, 0 / 32" and t["met"] is None for t in _by_statement(targets, "found x*"))
    # mutant: the warm learned SI sampler finds x* on one seed (all 8 samples at overlap 0.9)
    found = _sparse_block(True, {}, {("SI", "learned+warm"): [0.9, 0.02, 0.02, 0.02]})
    targets = common.sparse_targets({"h": found}, tol=0.087)
    (row,) = _by_statement(targets, "SI/learned+warm", "ends uninformed")
    assert row["met"] is False
    (count,) = _by_statement(targets, "SI/learned+warm", "found x*")
    assert count["value"] == "8 / 32, 0 / 32"
    # where the posterior carries (almost) nothing at t = 0 there is nothing to miss: no such rows, only the flags
    flat = common.sparse_targets({"h": _sparse_block(True, {}, {}, m_bayes=0.05)}, tol=0.087)
    assert not _by_statement(flat, "ends uninformed") and not _by_statement(flat, "found x*")
    assert len(_by_statement(flat, "energy-form")) == 6


def test_sparse_easy_point_compares_mean_overlaps_with_amp(common):
    ok = {(d, k): [0.9, 0.95, 0.0, 0.9] for d in ("SL", "SI") for k in ("learned", "learned+warm", "AMP")}
    targets = common.sparse_targets({"e": _sparse_block(False, {}, ok)}, tol=0.087)
    assert all(t["met"] for t in _by_statement(targets, "|ov - ov_AMP|"))
    bad = {**ok, ("SL", "learned"): [0.02, 0.02, 0.0, 0.9]}  # mutant: fails on two more seeds than AMP
    (row,) = _by_statement(common.sparse_targets({"e": _sparse_block(False, {}, bad)}, tol=0.087),
                           "SL/learned:", "|ov - ov_AMP|")
    assert row["met"] is False


@pytest.fixture(scope="module")
def tensor():
    return _module("learned_tensor")


def _tensor_summary(model, T, amp_gap, learned_gap, err, overlap=0.0):
    return [{"model": model, "T": T, "denoiser": den, "overlap_planted": overlap, "two_sample_overlap": 0.05,
             "energy_gap": gap, "energy_gap_err": err} for den, gap in (("AMP (damped)", amp_gap),
                                                                         ("learned", learned_gap))]


def test_tensor_verdicts_flag_gaps_and_uninformed_samples(tensor):
    summary = (_tensor_summary("spherical_3spin", 0.55, 0.37, 0.31, 0.06)
               + _tensor_summary("spherical_3spin", 0.85, 0.08, 0.05, 0.06, overlap=-0.03))
    hard, easy = tensor.verdicts(summary, n=200)
    assert hard["m_bayes"] == pytest.approx(0.7198, abs=1e-3) and easy["m_bayes"] == 0.0  # T_K = 0.586
    assert hard["amp_gap_flagged"] and hard["learned_gap_flagged"]
    assert hard["amp_uninformed"] and hard["learned_uninformed"]
    assert not (easy["amp_gap_flagged"] or easy["learned_gap_flagged"])
    assert not (easy["amp_uninformed"] or easy["learned_uninformed"])  # m* = 0: nothing to miss
    # mutant: the N = 100 errors (0.13) hide the same gaps
    noisy, _ = tensor.verdicts(_tensor_summary("spherical_3spin", 0.55, 0.37, 0.31, 0.13)
                               + _tensor_summary("spherical_3spin", 0.85, 0.08, 0.05, 0.06), n=100)
    assert not (noisy["amp_gap_flagged"] or noisy["learned_gap_flagged"])
    # mutant: samples at the Bayes overlap are not uninformed
    informed, _ = tensor.verdicts(_tensor_summary("spherical_3spin", 0.55, 0.0, 0.0, 0.06, overlap=0.72)
                                  + _tensor_summary("spherical_3spin", 0.85, 0.0, 0.0, 0.06), n=200)
    assert not (informed["amp_uninformed"] or informed["learned_uninformed"])


def _tensor_record(models, n=200):
    rows = []
    for model in models:
        for T in (0.55, 0.85):
            for den in ("AMP (damped)", "learned"):
                for i in range(3):
                    rows.append({"model": model, "T": T, "instance": i, "denoiser": den, "overlap_planted": 0.0,
                                 "two_sample_overlap": 0.05, "energy_gap": 0.3 + 0.01 * i if T < 0.6 else 0.0})
    return {"settings": {"n": n}, "driver": {}, "amp": {}, "machine": {"cpu_count": 2},
            "models": {m: {"thresholds": {"T_diffusion": 0.667}} for m in models}, "rows": rows}


def test_merge_joins_per_model_runs_and_refuses_mismatches(tensor):
    merged = tensor.merge([_tensor_record(["spherical_3spin"]), _tensor_record(["ising_3spin"])])
    assert set(merged["models"]) == {"spherical_3spin", "ising_3spin"}
    assert len(merged["rows"]) == 24 and len(merged["verdicts"]) == 4 and len(merged["machine"]) == 2
    assert {(s["model"], s["denoiser"]) for s in merged["summary"]} >= {("ising_3spin", "learned")}
    with pytest.raises(ValueError, match="different settings"):
        tensor.merge([_tensor_record(["spherical_3spin"]), _tensor_record(["ising_3spin"], n=100)])
    with pytest.raises(ValueError, match="more than one record"):
        tensor.merge([_tensor_record(["spherical_3spin"]), _tensor_record(["spherical_3spin"])])


def test_report_states_the_lens_for_the_tensor_records(tensor):
    report = _module("learned_report")
    record = tensor.merge([_tensor_record(["spherical_3spin"])])
    rows = report.rows_tensor(record, "learned_tensor_n200")
    flags = [r for r in rows if "energy gap flagged" in r["statement"]]
    assert [r["met"] for r in flags] == [True, True]  # flagged at 0.55 (lens: fails), not at 0.85 (works)
    assert any("ends uninformed" in r["statement"] and r["met"] for r in rows)
    # mutant: with the threshold moved below both temperatures the lens says both work, and 0.55 disagrees
    record["models"]["spherical_3spin"]["thresholds"]["T_diffusion"] = 0.5
    flags = [r for r in report.rows_tensor(record, "x") if "energy gap flagged" in r["statement"]]
    assert [r["met"] for r in flags] == [False, True]


def test_merge_sparse_joins_one_setting_per_process_and_refuses_mismatches():
    at_scale = _module("learned_at_scale")
    settings = {"n": 4000, "sparse_x": [0.8], "tolerance_overlap": 0.0674}

    def record(x, hard, **extra):
        return {"meta": {"total_seconds": 1.0}, "settings": {**settings, "sparse_x": [x], **extra}, "targets": [],
                "rademacher": None, "sparse": {f"sparse_{x}": _sparse_block(hard, {}, {})}}

    merged = at_scale.merge_sparse([record(1.2, True), record(0.8, False)])
    assert merged["settings"]["sparse_x"] == [0.8, 1.2] and list(merged["sparse"]) == ["sparse_0.8", "sparse_1.2"]
    assert len(merged["meta"]) == 2
    assert any("ends uninformed" in t["target"] for t in merged["targets"])
    assert any("(easy)" in t["target"] for t in merged["targets"])
    with pytest.raises(ValueError, match="different settings"):
        at_scale.merge_sparse([record(1.2, True), record(0.8, False, n=2000)])
    with pytest.raises(ValueError, match="more than one record"):
        at_scale.merge_sparse([record(1.2, True), record(1.2, True)])
    with pytest.raises(ValueError, match="sparse-only"):
        at_scale.merge_sparse([{**record(1.2, True), "rademacher": {"summary": {}}}])


@pytest.mark.parametrize("argv, message", [
    (["--n", "200"], "--name is required"),
    (["--warm"], "--name is required"),
    (["--instances", "16", "--name", "x", "--n", "2"], "--n must be >= 3"),
    (["--instances", "0", "--name", "x"], "--instances must be >= 1"),
    (["--merge", "a", "b"], "--name is required"),
    (["--merge", "a", "--name", "x", "--n", "200"], "no run options"),
    (["--merge", "missing", "--name", "x"], "cannot read"),
])
def test_tensor_cli_rejects_bad_input_before_any_work(tensor, tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        tensor.main([*argv, "--out", str(tmp_path)])
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_tensor_cli_never_replaces_a_record(tensor, tmp_path, capsys):
    (tmp_path / "done.json").write_text("{}")
    with pytest.raises(SystemExit):
        tensor.main(["--n", "200", "--name", "done", "--out", str(tmp_path)])
    assert "other settings" in capsys.readouterr().err
    (tmp_path / "merged.png").write_text("")
    with pytest.raises(SystemExit):
        tensor.main(["--merge", "done", "--name", "merged", "--out", str(tmp_path)])
    assert "merged.png exists" in capsys.readouterr().err
    assert (tmp_path / "done.json").read_text() == "{}" and not (tmp_path / "merged.json").exists()


@pytest.mark.parametrize("argv, message", [
    (["--sparse-only"], "--name is required"),
    (["--sparse-x", "0.8", "0.8", "--name", "x"], "distinct"),
    (["--sparse-x", "0", "--name", "x"], "(0, 10)"),
    (["--n", "5", "--name", "x"], "--n must be >= 10"),
    (["--train-n", "3", "--name", "x"], "--train-n must be >= 10"),
    (["--train-n", "2000"], "--name is required"),
    (["--warm"], "--name is required"),
    (["--sign-invariant"], "--name is required"),
    (["--merge", "a", "--name", "x", "--warm"], "no run options"),
    (["--merge", "a", "--name", "x", "--sparse-only"], "no run options"),
    (["--merge", "nothing", "--name", "x"], "cannot read"),
])
def test_at_scale_cli_rejects_bad_input_before_any_work(tmp_path, capsys, argv, message):
    at_scale = _module("learned_at_scale")
    with pytest.raises(SystemExit) as exc:
        at_scale.main([*argv, "--out", str(tmp_path)])
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_at_scale_merge_names_a_record_of_another_script(tmp_path, capsys):
    at_scale = _module("learned_at_scale")
    (tmp_path / "tensor.json").write_text('{"settings": {"n": 100}, "rows": []}')
    with pytest.raises(SystemExit):
        at_scale.main(["--merge", "tensor", "--name", "x", "--out", str(tmp_path)])
    assert "not sparse-only records" in capsys.readouterr().err and not (tmp_path / "x.json").exists()


def test_check_replaceable_lets_a_rerun_regenerate_its_record_only(common, tmp_path):
    path = tmp_path / "record.json"
    common.check_replaceable(path, {"n": 200})  # nothing there yet
    path.write_text('{"settings": {"n": 200, "grid": [1, 2]}}')
    common.check_replaceable(path, {"n": 200, "grid": (1, 2)})  # the same run again: tuples compare as lists
    common.check_replaceable(path, {"n": 200, "grid": (1, 2), "seed": 0}, legacy={"seed": 0})  # key added later
    with pytest.raises(ValueError, match="other settings"):
        common.check_replaceable(path, {"n": 100, "grid": (1, 2)})
    with pytest.raises(ValueError, match="other settings"):
        common.check_replaceable(path, {"n": 200, "grid": (1, 2), "seed": 3}, legacy={"seed": 0})
    path.write_text("not json")
    with pytest.raises(ValueError, match="other settings"):
        common.check_replaceable(path, {"n": 200})


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "2000", "2000"], "distinct"),
    (["--sizes", "5"], "--sizes values must be >= 10"),
    (["--train-n", "3"], "--train-n values must be >= 10"),
])
def test_escape_cli_rejects_bad_input_before_any_work(tmp_path, capsys, argv, message):
    escape = _module("learned_escape")
    with pytest.raises(SystemExit) as exc:
        escape.main([*argv, "--out", str(tmp_path)])
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_escape_summary_counts_samples_that_found_x_star_per_size_and_driver():
    escape = _module("learned_escape")
    rows = [{"n": n, "instance_seed": s, "driver": d, "overlap_planted": sum(ov) / len(ov),
             "overlap_planted_per_sample": ov, "energy_nishimori_gap": 0.1}
            for n, s, d, ov in ((100, 0, "SI", [0.9, 0.2]), (100, 1, "SI", [0.1, 0.1]), (100, 0, "SL", [0.38, 0.36]),
                                (100, 1, "SL", [0.0, 0.8]), (200, 0, "SI", [0.0, 0.0]), (200, 0, "SL", [0.0, 0.0]))]
    by = {(s["n"], s["driver"]): s for s in escape.summarise(rows, m_bayes=0.74)}
    assert (by[(100, "SI")]["found"], by[(100, "SI")]["samples"], by[(100, "SI")]["instances_with_escape"]) == \
        (1, 4, [0])
    assert (by[(100, "SL")]["found"], by[(100, "SL")]["instances_with_escape"]) == (2, [0, 1])  # 0.38 > 0.37
    assert by[(200, "SI")]["found"] == 0 and by[(200, "SL")]["instances_with_escape"] == []
