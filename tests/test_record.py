"""The written record (docs/reproduction.md) says what the lens and the committed data say.

* sp1 / sp2: one convention (label, colour, and the kind of spinodal drawn) in every figure that draws them;
* the per-model order in which the generative paths fail, recomputed from ``thresholds.json`` and compared
  with the fixed-format sentences of the record, and the failure ranges behind it checked with
  ``analyze_path``;
* the copy of the threshold table in the record, and the published values within their precisions;
* the finite-size statements of §5, in particular why the energy form of the Nishimori gap is the
  failure detector;
* where message-passing denoisers are Bayes-optimal (the README's and ``samplers.denoisers``' wording).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from analysis.reproduction import planes, thresholds  # noqa: E402
from analysis.theory.phase_diagram import delta_s_plane, spinodal_lines  # noqa: E402
from analysis.theory.state_evolution import StateEvolution  # noqa: E402
from analysis.theory.transitions import Spinodal, analyze_path, model_thresholds  # noqa: E402
from spinglass.priors import Gaussian, SparseRademacher  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "docs" / "reproduction"
DOC = ROOT / "docs" / "reproduction.md"

SP1 = ("sp1 (informed branch appears)", "g")
SP2 = ("sp2 (uninformed branch vanishes)", "b")


def _rows() -> list:
    return thresholds.rows_from_records(json.loads((RECORD / "thresholds.json").read_text())["rows"])


def _value(name: str, model: str) -> float:
    return next(r.computed for r in _rows() if r.model == model and r.threshold == name)


# ---------------------------------------------------------------------------------------------------------
# item 1: sp1 / sp2
# ---------------------------------------------------------------------------------------------------------
def _spinodal_artists(ax) -> dict:
    out = {}
    for line in ax.get_lines():
        label = line.get_label()
        if label.startswith("sp1") or label.startswith("sp2"):
            out[label[:3]] = line
    return out


def _check_convention(ax) -> dict:
    lines = _spinodal_artists(ax)
    assert set(lines) == {"sp1", "sp2"}
    for key, (label, colour) in (("sp1", SP1), ("sp2", SP2)):
        line = lines[key]
        assert line.get_label() == label
        assert to_rgba(line.get_color()) == to_rgba(colour), (key, line.get_color())
        assert line.get_linestyle() == "--"
    return lines


def test_sp1_sp2_convention_of_the_dense_planes():
    """planes.ModelPlanes.plot: labels and colours, and the line labelled sp1 carries the spinodal of kind
    "appears" (the lower one), sp2 the one of kind "vanishes"."""
    pl = planes.dense_planes("spherical_3spin", 5)
    fig, axes = plt.subplots(1, 2)
    pl.plot(axes)
    prior, p = thresholds.DENSE_MODELS["spherical_3spin"]
    for ax, path in zip(axes, ("gaussian", "erasure"), strict=True):
        lines = _check_convention(ax)
        for k, x in enumerate(pl.x):
            rep = analyze_path(StateEvolution(prior, p, float(planes.to_delta("spherical_3spin", x))), path,
                               n_points=2, refine=False)
            kinds = {s.kind: s.u for s in rep.spinodals}
            for key, kind in (("sp1", "appears"), ("sp2", "vanishes")):
                y = lines[key].get_ydata()[k]
                assert (math.isnan(y) and kind not in kinds) or y == pytest.approx(kinds[kind], abs=1e-12)
    plt.close(fig)


def test_sp1_sp2_convention_of_the_delta_s_plane():
    """phase_diagram.PlaneLines.plot, with sp_low / sp_high from the spinodals' kinds."""
    D = np.array([0.25, 0.29, 0.33])
    lines = delta_s_plane(Gaussian(), 3, D, "gaussian")
    fig, ax = plt.subplots()
    drawn = _check_convention(lines.plot(ax))
    for k, Dk in enumerate(D):
        rep = analyze_path(StateEvolution(Gaussian(), 3, float(Dk)), "gaussian", n_points=2, refine=False)
        app = [s.u for s in rep.spinodals if s.kind == "appears"]
        van = [s.u for s in rep.spinodals if s.kind == "vanishes"]
        np.testing.assert_allclose(drawn["sp1"].get_ydata()[k], app[0] if app else np.nan)
        np.testing.assert_allclose(drawn["sp2"].get_ydata()[k], van[-1] if van else np.nan)
    plt.close(fig)


def test_sp1_sp2_convention_of_the_population_dynamics_planes():
    """population_paths.PathPlane.plot (the NAE-SAT planes of the record, rebuilt from planes.json): the same
    labels and colours; sp1 is the lower edge of the coexistence window, sp2 the upper one."""
    rec = json.loads((RECORD / "planes.json").read_text())["naesat_5"]
    for path, rows in rec.items():
        pl = planes.naesat_plane_from_rows(rows, path)
        fig, ax = plt.subplots()
        drawn = _check_convention(pl.plot(ax))
        np.testing.assert_array_equal(drawn["sp1"].get_ydata(), pl.sp1)
        np.testing.assert_array_equal(drawn["sp2"].get_ydata(), pl.sp2)
        co = pl.coexistence
        for i in range(pl.alpha.size):
            js = np.flatnonzero(co[i])
            if js.size and math.isfinite(pl.sp2[i]):
                assert pl.sp2[i] > pl.grid[js[-1]]
            if js.size and math.isfinite(pl.sp1[i]):
                assert pl.sp1[i] < pl.grid[js[0]]
        plt.close(fig)


def test_the_rebuilt_naesat_plane_is_the_computed_one():
    """naesat_plane_from_rows gives back the lines naesat_path_plane derives (a tiny run)."""
    from analysis.theory.population_paths import naesat_path_plane

    pl = naesat_path_plane(5, [9.6], "erasure", np.linspace(0.02, 0.2, 4), population=200, sweeps=20, measure=5,
                           seed=3)
    back = planes.naesat_plane_from_rows(pl.to_rows(), "erasure")
    for name in ("sp1", "sp2", "it", "overlap_informed", "dphi_uninformed"):
        np.testing.assert_array_equal(getattr(back, name), getattr(pl, name))
    assert back.tricritical == pl.tricritical


def test_spinodal_lines_use_the_kind_not_the_position():
    def sp(u, kind):
        return Spinodal(u=u, m=0.0, xi=0.0, kind=kind, residual_fixed_point=0.0, residual_marginal=0.0)

    assert spinodal_lines([sp(0.3, "appears")])[0] == 0.3 and math.isnan(spinodal_lines([sp(0.3, "appears")])[1])
    lone = spinodal_lines([sp(0.3, "vanishes")])
    assert math.isnan(lone[0]) and lone[1] == 0.3
    assert spinodal_lines([sp(0.1, "appears"), sp(0.2, "vanishes")]) == (0.1, 0.2)
    assert all(math.isnan(v) for v in spinodal_lines([]))


def test_the_record_states_the_sp_convention():
    text = DOC.read_text()
    assert "- sp1 (green, dashed): the lower spinodal along the path, where the informed branch appears;" in text
    assert "- sp2 (blue, dashed): the upper spinodal, where the uninformed branch vanishes" in text
    assert "sp1: the uninformed branch vanishes" not in text and "sp2: the informed branch appears" not in text


# ---------------------------------------------------------------------------------------------------------
# item 2: which path fails first, per model
# ---------------------------------------------------------------------------------------------------------
_SENTENCE = re.compile(r"^\s*- \*\*Failure order, (?P<model>[\w.]+):\*\* "
                       r"(?P<verdict>autoregressive fails first|diffusion fails first|not resolved)\.", re.M)
#: where each model's samplers fail relative to their thresholds (the test's own copy, docs/physics.md §7)
_SIDE = {"spherical_3spin": ("T", "below"), "ising_3spin": ("T", "below"),
         "sparse_rademacher_0.08": ("x", "below"), "naesat_5": ("alpha", "above")}


def _order_from_table() -> dict:
    rec = {(r["model"], r["threshold"]): r for r in json.loads((RECORD / "thresholds.json").read_text())["rows"]}
    out = {}
    for model, (axis, side) in _SIDE.items():
        d, a = rec[model, f"{axis}_diffusion"], rec[model, f"{axis}_autoregressive"]
        if abs(d["computed"] - a["computed"]) <= d["precision"] + a["precision"]:
            out[model] = "not resolved"
            continue
        # the failure range that reaches further towards the working side contains the other
        ar_wider = a["computed"] > d["computed"] if side == "below" else a["computed"] < d["computed"]
        out[model] = "autoregressive fails first" if ar_wider else "diffusion fails first"
    return out


def test_the_record_states_the_failure_order_of_every_model():
    expected = _order_from_table()
    assert expected == {"spherical_3spin": "autoregressive fails first", "ising_3spin": "autoregressive fails first",
                        "sparse_rademacher_0.08": "diffusion fails first", "naesat_5": "not resolved"}
    stated = [(m.group("model"), m.group("verdict")) for m in _SENTENCE.finditer(DOC.read_text())]
    assert dict(stated) == expected and len(stated) == len(expected)
    # the sentences are exactly the code's, with the table's numbers
    order = thresholds.failure_order(_rows())
    text = DOC.read_text()
    for model, entry in order.items():
        assert f"  - {thresholds.failure_order_sentence(model, entry)}\n" in text, model
        assert (entry["first"] or "not resolved") in expected[model]


def test_no_sentence_claims_one_path_fails_first_everywhere():
    text = DOC.read_text().lower()
    for claim in ("fails first in every model", "autoregressive sampling fails first (", "ordering holds in every"):
        assert claim not in text


def test_failure_order_sentence_for_an_unresolved_order():
    rows = [thresholds.ThresholdRow("naesat_5", "alpha_diffusion", "alpha", 8.6, 0.2, None, None, None, "m"),
            thresholds.ThresholdRow("naesat_5", "alpha_autoregressive", "alpha", 8.9, 0.05, None, None, None, "m")]
    entry = thresholds.failure_order(rows)["naesat_5"]
    assert entry["first"] == "diffusion" and entry["resolved"]
    assert thresholds.failure_order_sentence("naesat_5", entry).startswith(
        "**Failure order, naesat_5:** diffusion fails first. alpha_diffusion = 8.60000 < alpha_autoregressive")


@pytest.mark.parametrize("model", ["spherical_3spin", "ising_3spin", "sparse_rademacher_0.08"])
def test_failure_ranges_behind_the_order(model):
    """The failure ranges the order is read from, checked with the lens inside every interval between the
    committed thresholds: 3-spin: fails iff T < T_tri; sparse Rademacher: iff x_alg < x < x_tri."""
    prior, p = thresholds.DENSE_MODELS[model]
    if model.endswith("3spin"):
        marks = sorted([_value("T_diffusion", model), _value("T_autoregressive", model), _value("T_d", model)])
        probe = ([0.8 * marks[0]] + [0.5 * (a + b) for a, b in zip(marks[:-1], marks[1:], strict=True)]
                 + [1.05 * marks[-1]])

        def fails(v, path):
            return v < _value("T_diffusion" if path == "gaussian" else "T_autoregressive", model)
    else:
        names = ("x_alg", "x_IT", "x_dyn", "x_autoregressive", "x_diffusion")
        marks = sorted(_value(n, model) for n in names)
        probe = ([0.95 * marks[0]] + [0.5 * (a + b) for a, b in zip(marks[:-1], marks[1:], strict=True)]
                 + [1.05 * marks[-1]])

        def fails(v, path):
            top = _value("x_diffusion" if path == "gaussian" else "x_autoregressive", model)
            return _value("x_alg", model) < v < top
    for v in probe:
        se = StateEvolution(prior, p, float(planes.to_delta(model, v)))
        for path in ("gaussian", "erasure"):
            assert analyze_path(se, path, n_points=2).sampler_predicted_to_fail == fails(v, path), (model, v, path)


# ---------------------------------------------------------------------------------------------------------
# item 8: the table in the record and the published values
# ---------------------------------------------------------------------------------------------------------
def test_the_table_in_the_record_is_thresholds_md():
    table = (RECORD / "thresholds.md").read_text().strip()
    assert table in DOC.read_text()
    assert table == thresholds.format_table(_rows())


def test_published_values_lie_within_the_stated_precisions():
    checked = 0
    for r in _rows():
        if r.published is None:
            continue
        checked += 1
        assert abs(r.computed - r.published) <= r.published_precision + r.precision + 1e-12, (r.model, r.threshold)
    assert checked == 18  # 15 + the study's NAE-SAT alpha_c, alpha_diffusion, alpha_autoregressive (issue 18 item 7)


def test_the_study_values_and_their_precisions():
    from analysis.reproduction.published import published

    study = {("ising_3spin", "T_diffusion"): (0.741, 5e-4), ("ising_3spin", "T_autoregressive"): (0.759, 5e-4),
             ("sparse_rademacher_0.08", "x_alg"): (0.98, 5e-3), ("sparse_rademacher_0.08", "x_IT"): (1.029, 5e-4),
             ("sparse_rademacher_0.08", "x_dyn"): (1.041, 5e-4),
             ("sparse_rademacher_0.08", "x_autoregressive"): (1.069, 5e-4),
             ("sparse_rademacher_0.08", "x_diffusion"): (1.080, 5e-4),
             ("spherical_3spin", "T_diffusion"): (2 / 3, 0.0),
             ("spherical_3spin", "T_autoregressive"): (1 / math.sqrt(2), 0.0)}
    for key, (value, precision) in study.items():
        ref = published(*key)
        assert (ref.value, ref.precision) == (value, precision), key
    # each printed value (not the closed forms) is ours to half a unit of its last printed digit
    got = {(r.model, r.threshold): r.computed for r in _rows()}
    for key, (value, precision) in study.items():
        if precision > 0:
            assert abs(got[key] - value) <= precision, key
        else:
            assert abs(got[key] - value) <= 2e-13, key
    # the committed record carries them, with the code's own differences
    recorded = {(r["model"], r["threshold"]): r for r in json.loads((RECORD / "thresholds.json").read_text())["rows"]}
    for key, (value, _) in study.items():
        r = recorded[key]
        assert r["published"] == value
        assert r["rel_diff"] == (r["computed"] - value) / value and r["within"] is True


# ---------------------------------------------------------------------------------------------------------
# item 5: the finite-size statements and the two forms of the Nishimori gap
# ---------------------------------------------------------------------------------------------------------
GENERATIVE = ("diffusion", "flow", "autoregressive")


@pytest.fixture(scope="module")
def fs():
    summary = json.loads((RECORD / "finite_size_summary.json").read_text())["summary"]
    return {(r["model"], round(r["value"], 6), r["sampler"]): r for r in summary}


def _q(fs, model, value, samplers, q):
    return np.array([fs[model, round(value, 6), s][q] for s in samplers])


def test_overlap_form_reads_zero_where_every_generative_sampler_fails(fs):
    """Ising 3-spin at T = 0.60 (below T_K): both overlaps ≈ 0, so the overlap-form gap ≈ 0 (within 1.1
    standard errors, -0.01 to 0.04) while the energy gap is 0.44-0.45 — the record's reason to read failure
    from the energy form."""
    m = "ising_3spin"
    nish = _q(fs, m, 0.6, GENERATIVE, "nishimori_gap")
    err = _q(fs, m, 0.6, GENERATIVE, "nishimori_gap_err")
    energy = _q(fs, m, 0.6, GENERATIVE, "energy_gap")
    assert np.all(np.abs(nish) <= 1.1 * err)
    assert (round(nish.min(), 2), round(nish.max(), 2)) == (-0.01, 0.04)
    assert (round(energy.min(), 2), round(energy.max(), 2)) == (0.44, 0.45)
    assert np.all(np.abs(_q(fs, m, 0.6, GENERATIVE, "overlap_planted")) < 0.05)
    assert np.all(np.abs(_q(fs, m, 0.6, GENERATIVE, "two_sample_overlap")) < 0.05)
    assert round(fs[m, 0.6, "mcmc"]["energy_gap"], 2) == 0.17
    text = DOC.read_text()
    assert ("overlap-form gaps of -0.01 to 0.04 (each within 1.1 standard errors of 0) beside energy gaps of\n"
            "0.44-0.45") in text


def test_finite_size_statements_of_the_record(fs):
    sp, ising, nae = "sparse_rademacher_0.08", "ising_3spin", "naesat_5"
    # sparse Rademacher, x = 0.90
    assert np.all(np.round(_q(fs, sp, 0.9, GENERATIVE, "overlap_planted"), 1) == 0.5)
    assert _q(fs, sp, 0.9, GENERATIVE, "energy_gap").max() <= 0.02
    nish = _q(fs, sp, 0.9, GENERATIVE, "nishimori_gap")
    assert (round(nish.min(), 2), round(nish.max(), 2)) == (-0.03, -0.0)
    assert round(fs[sp, 0.9, "mcmc"]["overlap_planted"], 2) == 0.26
    # x = 0.96 .. 1.04
    gen = np.concatenate([_q(fs, sp, v, GENERATIVE, "energy_gap") for v in (0.96, 1.0, 1.04)])
    mc = np.array([fs[sp, v, "mcmc"]["energy_gap"] for v in (0.96, 1.0, 1.04)])
    assert (round(gen.min(), 2), round(gen.max(), 2)) == (0.05, 0.07)
    assert (round(mc.min(), 2), round(mc.max(), 2)) == (0.02, 0.05)
    assert _value("x_alg", sp) > 0.96 and _value("x_alg", sp) < 1.0 < 1.04 < _value("x_dyn", sp)
    # x = 1.14
    g114 = _q(fs, sp, 1.14, GENERATIVE, "energy_gap")
    assert (round(g114.min(), 2), round(g114.max(), 2)) == (0.01, 0.04)
    assert round(fs[sp, 1.14, "mcmc"]["energy_gap"], 2) == 0.0 and 1.14 > _value("x_diffusion", sp)
    errs = [r["overlap_planted_err"] for k, r in fs.items() if k[0] == sp]
    assert round(max(errs), 2) == 0.35
    # Ising 3-spin
    g90 = _q(fs, ising, 0.9, GENERATIVE + ("mcmc",), "energy_gap")
    e90 = _q(fs, ising, 0.9, GENERATIVE + ("mcmc",), "energy_gap_err")
    assert (round(g90.min(), 2), round(g90.max(), 2)) == (0.02, 0.07)
    assert round(float(np.max(np.abs(g90) / e90)), 1) == 2.5
    mid = (0.66, 0.7, 0.74, 0.8)
    gen = np.array([_q(fs, ising, v, GENERATIVE, "energy_gap") for v in mid])
    mc = np.array([fs[ising, v, "mcmc"]["energy_gap"] for v in mid])
    assert (round(gen.min(), 2), round(gen.max(), 2)) == (0.16, 0.29)
    assert (round(mc.min(), 2), round(mc.max(), 2)) == (-0.0, 0.1)
    assert np.all(gen.min(axis=1) > mc)
    g80 = gen[-1]
    assert (round(g80.min(), 2), round(g80.max(), 2)) == (0.18, 0.21) and 0.8 > _value("T_autoregressive", ising)
    # NAE-SAT energy gaps of diffusion and flow
    for v, lo, hi in ((8.8, 0.02, 0.03), (9.2, 0.09, 0.11), (10.0, 0.09, 0.22), (10.6, 0.21, 0.25)):
        g = _q(fs, nae, v, ("diffusion", "flow"), "energy_gap")
        assert (round(g.min(), 2), round(g.max(), 2)) == (lo, hi), v
    text = DOC.read_text()
    for phrase in ("energy gaps of at most 0.02", "energy gap of 0.05-0.07, Metropolis 0.02-0.05",
                   "fall back to 0.01-0.04 (generative)\n    and 0.00 (Metropolis)",
                   "overlap standard errors up to 0.35",
                   "energy gaps are 0.02-0.07, the largest 2.5 standard errors from 0", "energy gap (0.16-0.29)",
                   "(-0.00 to 0.10)", "generative gaps (0.18-0.21)", "0.02-0.03 at 8.8, 0.09-0.11 at 9.2,\n"
                   "    0.09-0.22 at 10.0 and 0.21-0.25 at 10.6"):
        assert phrase in text, phrase


# ---------------------------------------------------------------------------------------------------------
# item 9: where the message-passing denoisers are Bayes-optimal
# ---------------------------------------------------------------------------------------------------------
def test_uninformed_branch_is_bayes_optimal_exactly_outside_the_hard_phase():
    """At s = 0 the uninformed (algorithmic) branch, the one AMP reaches from its uninformed start, is the
    Bayes-optimal one iff lam lies outside (lam_IT, lam_alg): the condition the README and the
    ``samplers.denoisers`` docstring state."""
    prior = SparseRademacher(0.08)
    th = model_thresholds(prior, 2)
    rep = analyze_path(StateEvolution(prior, 2, 1.0), "signal", u_range=(0.8, 1.2), n_points=801)
    differs = np.abs(rep.m_uninformed - rep.m_bayes) > 1e-9
    hard = (rep.u > th.lam_IT) & (rep.u < th.lam_alg)
    edge = (np.abs(rep.u - th.lam_IT) < 1e-3) | (np.abs(rep.u - th.lam_alg) < 1e-3)
    np.testing.assert_array_equal(differs[~edge], hard[~edge])
    assert hard.sum() > 10


def test_readme_and_denoisers_docstring_qualify_bayes_optimality():
    import samplers.denoisers as den

    readme = (ROOT / "README.md").read_text()
    assert "Bayes-optimal denoisers (`samplers.denoisers`)" not in readme
    assert "only where the lens finds that branch to be the Bayes-optimal one" in readme
    assert not den.__doc__.startswith("Bayes-optimal denoisers")
    assert "only where that branch is the Bayes-optimal one" in " ".join(den.__doc__.split())


# ---------------------------------------------------------------------------------------------------------
# the maintenance steps that produced the committed record
# ---------------------------------------------------------------------------------------------------------
def test_refresh_thresholds_reproduces_the_committed_table(tmp_path):
    """``run.refresh_thresholds`` on a copy of the record changes nothing: the dense rows recompute bit for bit
    and the published / difference fields are the code's own."""
    import shutil

    from analysis.reproduction import run

    for name in ("thresholds.json", "thresholds.md"):
        shutil.copy(RECORD / name, tmp_path / name)
    out = run.refresh_thresholds(tmp_path, log=lambda *a: None)
    # the same values to rounding (the cached prior table may have been extended earlier in this process)
    assert out["max_change_dense"] <= 1e-12
    refreshed = json.loads((tmp_path / "thresholds.json").read_text())
    committed = json.loads((RECORD / "thresholds.json").read_text())
    assert {k: v for k, v in refreshed.items() if k not in ("rows", "refreshed")} == \
        {k: v for k, v in committed.items() if k not in ("rows", "refreshed")}
    for new, old in zip(refreshed["rows"], committed["rows"], strict=True):
        for key, value in old.items():
            if isinstance(value, float) and key in ("computed", "rel_diff"):
                assert new[key] == pytest.approx(value, abs=1e-12), (old["threshold"], key)
            else:
                assert new[key] == value, (old["threshold"], key)
    assert (tmp_path / "thresholds.md").read_text() == (RECORD / "thresholds.md").read_text()


def test_redraw_writes_every_figure_from_the_records(tmp_path):
    import shutil

    from analysis.reproduction import run

    for name in ("thresholds.json", "planes.json", "finite_size_summary.json", "beyond_sk.json",
                 "opposite_regime.json", "tensor_trend.json"):
        shutil.copy(RECORD / name, tmp_path / name)
    written = run.redraw(tmp_path, log=lambda *a: None)
    committed = sorted(p.name for p in RECORD.glob("*.png"))
    assert sorted(written) == committed
    assert all((tmp_path / name).stat().st_size > 0 for name in written)
