"""The README's statements about the learned 3-spin sampler are what docs/figures/learned_tensor.json holds.

The JSON is written by ``python benchmarks/learned_tensor.py`` (about 10 min, not run here); these tests read
it and check every number and ordering the README quotes, so a rerun that changes them fails until the text
is updated.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "docs" / "figures" / "learned_tensor.json"


@pytest.fixture(scope="module")
def record():
    return json.loads(RECORD.read_text())


def _summary(record, model, T, den):
    (row,) = [s for s in record["summary"] if (s["model"], s["T"], s["denoiser"]) == (model, T, den)]
    return row


def test_learned_sampler_tracks_amp_on_both_overlaps(record):
    diffs = [max(abs(v["overlap_diff"]), abs(v["two_sample_diff"])) for v in record["verdicts"]]
    assert len(diffs) == 4 and max(diffs) <= 0.012
    assert all(v["overlaps_match"] for v in record["verdicts"])


def test_energy_gap_flags_the_hard_point_on_the_ising_model_only(record):
    by = {(v["model"], v["T"]): v for v in record["verdicts"]}
    assert by[("ising_3spin", 0.6)]["amp_gap_flagged"] and by[("ising_3spin", 0.6)]["learned_gap_flagged"]
    assert not by[("ising_3spin", 0.9)]["amp_gap_flagged"] and not by[("ising_3spin", 0.9)]["learned_gap_flagged"]
    assert not any(by[("spherical_3spin", T)][k] for T in (0.55, 0.85) for k in ("amp_gap_flagged",
                                                                                  "learned_gap_flagged"))
    th = record["models"]["ising_3spin"]["thresholds"]
    assert 0.6 < th["T_K"] < th["T_diffusion"] < th["T_autoregressive"] < 0.9


def test_mse_follows_the_algorithmic_branch(record):
    curves = record["models"]["ising_3spin"]["mse"]["0.6"]
    t = np.array(curves["learned"]["t"])
    small = t <= 0.03
    assert np.all(np.round(np.array(curves["learned"]["mse"])[small], 2) >= 0.95)  # README: "0.95-0.99"
    assert np.all(np.array(curves["SE Bayes-optimal"]["mse"])[small] <= 0.10 + 1e-9)
    assert np.all(np.array(curves["SE algorithmic"]["mse"])[small] >= 0.95)
    for model, block in record["models"].items():
        for T, c in block["mse"].items():
            moved = np.abs(np.array(c["learned"]["mse"]) - np.array(c["untrained"]["mse"]))
            assert moved.max() < 0.03, (model, T)


def test_readme_quotes_the_record(record):
    text = " ".join((ROOT / "README.md").read_text().split())
    start = text.index("python benchmarks/learned_tensor.py")
    para = text[start:start + 1400]
    fmt = {
        "learned_hard": _summary(record, "ising_3spin", 0.6, "learned"),
        "amp_hard": _summary(record, "ising_3spin", 0.6, "AMP (damped)"),
        "learned_easy": _summary(record, "ising_3spin", 0.9, "learned"),
        "amp_easy": _summary(record, "ising_3spin", 0.9, "AMP (damped)"),
    }
    quoted = re.search(r"energy gap (\S+) ± (\S+) against AMP's (\S+) ± (\S+) .* against (\S+) ± (\S+) and "
                       r"(\S+) ± (\S+) at T = 0.9", para)
    assert quoted is not None
    got = [float(v) for v in quoted.groups()]
    want = [fmt["learned_hard"]["energy_gap"], fmt["learned_hard"]["energy_gap_err"], fmt["amp_hard"]["energy_gap"],
            fmt["amp_hard"]["energy_gap_err"], fmt["learned_easy"]["energy_gap"], fmt["learned_easy"]["energy_gap_err"],
            fmt["amp_easy"]["energy_gap"], fmt["amp_easy"]["energy_gap_err"]]
    assert np.allclose(got, want, atol=0.005 + 1e-9)


def _report_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("learned_report", ROOT / "benchmarks" / "learned_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_learned_report_reads_every_committed_record(tmp_path):
    report_mod = _report_module()
    report = report_mod.collect(ROOT / "docs" / "figures")
    assert report["missing"] == []
    assert {r["source"] for r in report["rows"]} == set(report_mod.SOURCES)
    assert all(r["met"] in (True, False, None) for r in report["rows"])
    # a missing source is reported, not skipped
    (tmp_path / "learned_tensor.json").write_text(RECORD.read_text())
    partial = report_mod.collect(tmp_path)
    assert len(partial["missing"]) == len(report_mod.SOURCES) - 1
    assert {r["source"] for r in partial["rows"]} == {"learned_tensor"}
    assert "missing:" in report_mod.markdown(partial)


def test_readme_quotes_the_van_ising_record():
    """The README's VAN paragraph (2D Ising L = 16 against Kaufman, SK(64) against tempering) is the JSON's."""
    d = json.loads((ROOT / "docs" / "figures" / "van_ising.json").read_text())
    text = " ".join((ROOT / "README.md").read_text().split())
    para = text[text.index("python benchmarks/van_ising.py"):][:2200]
    v = d["ising"]["0.44"]
    m = re.search(r"after (\d+) steps of batch (\d+) \((\d+) parameters, (\d+) s CPU\), the variational free energy "
                  r"is (\S+) \(relative\) above the exact one and the importance-sampled "
                  r"log Z is (\S+) below it \((\S+) standard errors, ESS / S = (\S+)\)", para)
    assert m is not None
    steps, batch, params, cpu = (int(g) for g in m.groups()[:4])
    assert (steps, batch, params) == (sum(v["training"]["steps"]), v["training"]["batch_size"],
                                      v["network"]["n_parameters"])
    assert cpu == round(v["training"]["cpu_seconds"])
    f_rel, is_rel, dev, ess = (float(g) for g in m.groups()[4:])
    assert f"{v['free_energy_relative_error']:.1e}" == f"{f_rel:.1e}"
    assert f"{v['is_log_Z_relative_error']:.1e}" == f"{is_rel:.1e}"
    assert v["is_log_Z_deviation_in_stderr"] < 0 and round(-v["is_log_Z_deviation_in_stderr"], 1) == dev
    assert round(v["ess_per_sample"], 3) == ess
    # the shorter run of the same network, quoted beside it
    short = [e for e in d["earlier_runs"] if e["beta"] == 0.44 and e["network"] == v["network"]]
    m = re.search(r"The same network after (\d+) steps was (\S+) above", para)
    assert m is not None and short
    assert int(m.group(1)) == sum(short[-1]["training"]["steps"])
    assert f"{short[-1]['free_energy_relative_error']:.1e}" == f"{float(m.group(2).rstrip(':')):.1e}"
    dev_short = re.search(r"estimate, (\S+) standard errors from exact after", para)
    assert dev_short is not None and float(dev_short.group(1)) == round(-short[-1]["is_log_Z_deviation_in_stderr"], 1)
    assert "is now more than 3 away" in para and v["is_log_Z_deviation_in_stderr"] < -3
    curve = [abs(x) for x in v["training_curve"]["relative_error"]]
    flat = curve[len(curve) * 2 // 5:]
    assert max(flat) < 1.1 * min(flat)  # "the training curve is flat from soon after the annealing ends"
    # the targets are stated as not met, and they are not
    assert v["free_energy_relative_error"] > 1e-3 and v["is_log_Z_relative_error"] > 1e-4
    worst = max(abs(s["is_minus_pt_in_combined_stderr"]) for s in d["sk"]["betas"].values())
    assert "within 2.1 combined standard errors" in para and worst <= 2.1
    assert all(s["variational_bound_holds"] for s in d["sk"]["betas"].values())


def _van_pspin(name):
    d = json.loads((ROOT / "docs" / "figures" / f"{name}.json").read_text())
    return {(e["T"], e["sampler"]): e for e in d["summary"]}


def test_readme_quotes_the_van_pspin_records():
    short, long = _van_pspin("van_pspin"), _van_pspin("van_pspin_long")
    van = [short[(T, "VAN")] for T in (0.6, 0.7, 0.8, 1.0)]
    kl = [e["kl_estimate"] for e in van]
    assert round(min(kl), 1) == 1.3 and round(max(kl), 1) == 8.1
    q_van = [short[(T, "VAN")]["two_sample_overlap"] for T in (0.6, 0.7, 0.8)]
    q_mc = [short[(T, "MCMC from random")]["two_sample_overlap"] for T in (0.6, 0.7, 0.8)]
    q_mc += [short[(T, "MCMC from planted")]["two_sample_overlap"] for T in (0.6, 0.7, 0.8)]
    assert (round(min(q_van), 2), round(max(q_van), 2)) == (0.63, 0.82)
    assert (round(min(q_mc), 2), round(max(q_mc), 2)) == (0.15, 0.55)
    assert round(short[(1.0, "VAN")]["energy_gap"], 2) == 0.39
    assert round(short[(1.0, "MCMC from random")]["energy_gap"], 2) == -0.01
    # longer training: the easy side improves, the hard side does not
    assert round(long[(1.0, "VAN")]["energy_gap"], 2) == 0.07
    assert round(long[(1.0, "MCMC from planted")]["energy_gap"], 2) == 0.07
    assert round(long[(1.0, "VAN")]["two_sample_overlap"], 2) == 0.43
    assert round(long[(1.0, "MCMC from random")]["two_sample_overlap"], 2) == 0.14
    assert round(long[(0.6, "VAN")]["energy_gap"], 2) == 0.30
    assert round(long[(0.6, "MCMC from planted")]["energy_gap"], 2) == -0.04
    ar = [round(short[(T, "autoregressive over AMP")]["energy_gap"], 2) for T in (0.6, 0.7, 0.8, 1.0)]
    assert ar == [0.49, 0.25, 0.12, 0.06] and ar == sorted(ar, reverse=True)
    text = " ".join((ROOT / "README.md").read_text().split())
    assert "energy gaps 0.49, 0.25, 0.12 and 0.06" in text and "KL(q || p) estimates 1.3-8.1 nats" in text


def test_readme_quotes_the_learned_comparisons_record():
    d = json.loads((ROOT / "docs" / "figures" / "learned_comparisons.json").read_text())
    over = d["A"]["over_seeds"]
    cv = over["loss_cv_last_half"]
    assert (round(cv["flow"]["mean"], 3), round(cv["flow"]["stderr"], 3)) == (0.174, 0.010)
    assert (round(cv["diffusion"]["mean"], 3), round(cv["diffusion"]["stderr"], 3)) == (0.235, 0.008)
    g = over["grad_norm_cv_last_half"]["flow_minus_diffusion"]
    assert abs(g["mean"]) < 2 * g["stderr"]  # "its gradient norm not significantly"
    gap = d["A"]["gap_to_converged_amp"]
    assert round(gap["final_gap"]["flow"]["mean"], 3) == 0.005
    assert round(gap["final_gap"]["diffusion"]["mean"], 3) == 0.016
    for level in ("0.1", "0.02", "0.05", "0.5"):  # "not faster": flow never ahead of diffusion by 2 SE
        c = gap[level]["flow_minus_diffusion_cpu"]
        assert not c["mean"] + 2 * c["stderr"] < 0, level
    b8, b92 = d["B"]["by_alpha"]["8"], d["B"]["by_alpha"]["9.2"]
    assert all(v["solved_fraction"] == 1.0 for v in d["B"]["by_alpha"]["6"]["violations"].values())
    ts = d["B"]["training_settings"]
    assert (ts["damping"], ts["passes"]) == (0.3, 3)
    frac8 = {k: v["solved_fraction"] for k, v in b8["violations"].items()}
    assert frac8 == {"SL/learned-gaussian": 0.875, "AR/learned-erasure": 0.0, "SL/BP": 1.0, "AR/BP": 0.375}
    assert b8["verdicts"]["SL/learned-gaussian"]["bad_minus_bp"]["not_worse_2se"]
    assert b8["marginals"]["gaussian"]["mad"] <= 0.005 and b8["marginals"]["erasure"]["mad"] > 0.02
    assert all(v["solved_fraction"] == 0.0 for v in b92["violations"].values())
    assert all(v["observed"] == "fails" == v["lens"] for v in b92["verdicts"].values())
    text = " ".join((ROOT / "README.md").read_text().split())
    assert "(coefficient of variation 0.174 ± 0.010 against 0.235 ± 0.008)" in text
    assert "leaves 1 of 8 samples short of a solution (diffusion over BP: 0 of 8;" in text
    assert "(damped, its layers applied 3 times per forward pass)" in text
    assert "alpha = 6 all four samplers solve every instance; at alpha = 8.0" in text
    part_b = d["B"]["meta"]["wall_seconds"] / 60
    assert f"part B {part_b:.0f} min on 2 loaded cores" in text


def test_readme_quotes_the_learned_sparse_record():
    d = json.loads((ROOT / "docs" / "figures" / "learned_sparse.json").read_text())["results"]
    col, nae = d["coloring_q3"], d["naesat_k5"]
    assert col["setting"]["damping"] == 0.3 and col["setting"]["passes"] == 3
    assert round(max(m["learned"]["mad"] for m in col["marginals"].values()), 3) == 0.019
    assert round(max(m["learned"]["mad"] for m in nae["marginals"].values()), 3) == 0.017
    assert {key.split(",")[0] for key in col["marginals"]} == {"c=3.0", "c=3.7"}
    assert min(float(key.split("theta=")[1]) for key in col["marginals"] if "uniform" not in key) == 0.05
    ar = col["autoregressive"]
    assert col["setting"]["ar_density"] == 3.7 and ar["learned"]["failed"] == ar["bp"]["failed"] == 0
    assert len(ar["learned"]["violations"]["values"]) == 8 and ar["learned"]["violations"]["mean"] == 0.0
    passes = col["passes_to_bp"]["c=3.7,theta=0.05"]
    assert round(passes["untrained, undamped"]["30"]["mad"], 2) == 0.24
    assert passes["untrained, damping 0.3"]["10"]["mad"] < 0.001
    assert max(abs(m["learned"]["mad"] - m["untrained"]["mad"]) for m in col["marginals"].values()) < 0.001
    text = " ".join((ROOT / "README.md").read_text().split())
    assert ("its marginals are within 0.019 (colouring, c = 3 and 3.7, revealed fractions down to 0.05) and 0.017 "
            "(5-NAE-SAT) of BP's") in text
    assert "is still 0.24 from BP's marginals after 30 passes, while damped it comes within 0.001 after 10" in text


def test_readme_quotes_the_learned_autoregressive_record():
    d = json.loads((ROOT / "docs" / "figures" / "learned_autoregressive.json").read_text())
    S = {(r["model"], r.get("T", r.get("lam")), r["denoiser"]): r for r in d["summary"]}

    def pm(key, q, digits):
        r = S[key]
        return f"{r[q]:.{digits}f} ± {r[q + '_err']:.{digits}f}"

    text = " ".join((ROOT / "README.md").read_text().split())
    w = ("wigner_lam2", 2.0)
    assert (f"overlap with x* is {pm(w + ('learned',), 'overlap_planted', 3)} (over AMP "
            f"{pm(w + ('AMP',), 'overlap_planted', 3)}; state evolution's m* = 0.618)") in text
    V = {(v["model"], v.get("T", v.get("lam"))): v for v in d["verdicts"]}
    assert round(V[w]["se_m_star"], 3) == 0.618 and V[w]["learned_overlaps_at_m_star"]
    t6, t9 = ("ising_3spin", 0.6), ("ising_3spin", 0.9)
    assert (f"energy gap {pm(t6 + ('learned',), 'energy_gap', 2)} at T = 0.6 (over AMP "
            f"{pm(t6 + ('AMP',), 'energy_gap', 2)}; both flagged") in text
    assert V[t6]["lens"] == "fails" and V[t6]["learned_gap_flagged"] and V[t6]["amp_gap_flagged"]
    assert (f"{pm(t9 + ('learned',), 'energy_gap', 2)} at T = 0.9 (over AMP {pm(t9 + ('AMP',), 'energy_gap', 2)})"
            in text)
    assert V[t9]["lens"] == "works" and not V[t9]["learned_gap_flagged"] and not V[t9]["amp_gap_flagged"]
    assert all(v["learned_as_lens_says"] and v["overlaps_match"] for v in d["verdicts"])
    th = d["models"]["ising_3spin"]["thresholds"]["T_autoregressive"]
    assert f"T_autoregressive = {th:.3f}" in text and th == pytest.approx(0.7587, abs=1e-3)


def test_readme_quotes_the_masked_depth_record():
    d = json.loads((ROOT / "docs" / "figures" / "masked_depth.json").read_text())
    S, st = d["summary"], d["settings"]
    assert d["alpha"] == 8.0 and d["instances"] == 4 and st["max_passes"] == 10 and not d["quick"]
    assert S["adaptive"]["solved"] == 0 and S["untrained-adaptive"]["solved"] == S["bp"]["solved"] == 1
    assert S["fixed"]["solved"] == 0 and S["fixed"]["passes_per_query"] == st["passes"]
    text = " ".join((ROOT / "README.md").read_text().split())
    assert f"({S['adaptive']['passes_per_query']:.1f} passes per query:" in text
    assert f"settles after {S['untrained-adaptive']['passes_per_query']:.1f} passes per query and solves 1 of 4" in text
    assert f"`python benchmarks/masked_depth.py` ({d['wall_seconds'] / 60:.0f} min on 2 loaded cores;" in text


def test_readme_quotes_the_learned_colouring_record():
    """The planted 5-colouring paragraph: thresholds, per-sampler counts on either side, violated edges, marginals,
    duration; and every verdict agrees with the lens (the README says so)."""
    d = json.loads((ROOT / "docs" / "figures" / "learned_colouring.json").read_text())
    text = " ".join((ROOT / "README.md").read_text().split())
    para = text[text.index("`python benchmarks/learned_colouring.py`"):][:2200]
    th, st = d["thresholds"], d["settings"]
    assert f"{d['wall_seconds'] / 60:.0f} min on 2 loaded cores" in para
    assert (f"tricritical degrees at c = {th['alpha_diffusion']} (Gaussian path) and "
            f"{th['alpha_autoregressive']}") in para
    assert f"c_d = {th['c_d']}" in para and f"c_c = {th['c_c']:g} and c_KS = {th['c_KS']:g}" in para
    assert (st["n"], st["instances"], st["train_n"], st["train_c"]) == (1000, 8, [200, 600], [8.0, 15.0])
    lo, hi = d["by_c"]["10"], d["by_c"]["14"]

    def solved(row, label):
        v = row["violations"][label]
        return round(v["solved_fraction"] * v["samples"])

    assert solved(lo, "SL/learned-gaussian") == solved(lo, "SL/BP") == 7
    assert solved(lo, "AR/learned-erasure") == solved(lo, "AR/BP") == 8
    assert "a proper colouring on 7 of 8 instances, as SL over BP does," in para
    assert "on 8 of 8, as AR over BP does" in para
    assert all(solved(hi, k) == 0 for k in hi["violations"])
    v = {k: hi["violations"][k]["violations"] for k in hi["violations"]}
    assert (f"SL leaves {v['SL/learned-gaussian']['mean']:.1f} ± {v['SL/learned-gaussian']['stderr']:.1f} violated "
            f"edges over the learned network and {v['SL/BP']['mean']:.1f} ± {v['SL/BP']['stderr']:.1f} over BP") in para
    assert hi["violations"]["AR/learned-erasure"]["failed"] == 8 and st["max_restarts"] == 3
    assert f"AR over BP leaves {v['AR/BP']['mean']:.1f} ± {v['AR/BP']['stderr']:.1f}" in para
    assert "Every verdict agrees with the lens" in para
    assert all(r["verdicts"][k]["agrees"] is True for r in (lo, hi) for k in r["verdicts"])
    assert all(r["verdicts"][k]["lens"] == ("works" if r is lo else "fails") for r in (lo, hi) for k in r["verdicts"])
    mg = {ch: [r["marginals"][ch]["mad"] for r in (lo, hi)] for ch in ("erasure", "gaussian")}
    assert (f"is {mg['erasure'][0]:.4f} (c = 10) and {mg['erasure'][1]:.4f} (c = 14) for the erasure network, but "
            f"{mg['gaussian'][0]:.3f} and {mg['gaussian'][1]:.3f} for the Gaussian one") in para


def test_readme_quotes_the_damped_colouring_record():
    """The damping-0.5 rerun of the diffusion half: its settings, marginals, counts and duration as the README says."""
    d = json.loads((ROOT / "docs" / "figures" / "learned_colouring_damped.json").read_text())
    text = " ".join((ROOT / "README.md").read_text().split())
    para = text[text.index("Retrained with damping 0.5"):][:600]
    st = d["settings"]
    assert st["damping"] == 0.5 and st["drivers"] == ["SL"] and st["name"] == "learned_colouring_damped"
    assert f", {d['wall_seconds'] / 60:.0f} min)" in para
    lo, hi = d["by_c"]["10"], d["by_c"]["14"]
    assert (f"marginals are {lo['marginals']['gaussian']['mad']:.4f} (c = 10) and "
            f"{hi['marginals']['gaussian']['mad']:.3f} (c = 14) from BP's") in para
    assert lo["marginals"]["gaussian"]["mad"] <= 0.02  # within the 0.02 below the threshold
    v_lo, v_hi = lo["violations"]["SL/learned-gaussian"], hi["violations"]["SL/learned-gaussian"]
    assert v_lo["solved_fraction"] == 1.0 and v_lo["samples"] == 8 and "on 8 of 8 instances at c = 10" in para
    assert v_hi["solved_fraction"] == 0.0
    assert f"({v_hi['violations']['mean']:.1f} ± {v_hi['violations']['stderr']:.1f} violated edges)" in para
    assert all(r["verdicts"][k]["agrees"] for r in (lo, hi) for k in r["verdicts"])


def test_readme_quotes_the_n200_tensor_record():
    """The README's N = 200 sentences (spherical failure resolved, the Ising easy point's small learned excess) are
    what docs/figures/learned_tensor_n200.json holds."""
    d = json.loads((ROOT / "docs" / "figures" / "learned_tensor_n200.json").read_text())
    assert d["settings"]["n"] == 200 and d["settings"]["instances"] == 16
    text = " ".join((ROOT / "README.md").read_text().split())
    para = text[text.index("At N = 200 with 16 instances"):][:1400]

    def s(model, T, den):
        return _summary(d, model, T, {"amp": "AMP (damped)", "learned": "learned"}[den])

    def pm(row, q="energy_gap", digits=2):
        return f"{row[q]:.{digits}f} ± {row[q + '_err']:.{digits}f}"

    sph_h_l, sph_h_a = s("spherical_3spin", 0.55, "learned"), s("spherical_3spin", 0.55, "amp")
    sph_e_l, sph_e_a = s("spherical_3spin", 0.85, "learned"), s("spherical_3spin", 0.85, "amp")
    assert f"the energy gap is {pm(sph_h_l)} over the learned network and {pm(sph_h_a)} over AMP" in para
    assert (f"overlap with x* {sph_h_l['overlap_planted']:.2f} and {sph_h_a['overlap_planted']:.2f}, where posterior "
            "samples have m* = 0.72") in para
    assert f"T = 0.85 it is {pm(sph_e_l)} and {pm(sph_e_a)} (neither flagged)" in para
    is_h_l, is_h_a = s("ising_3spin", 0.6, "learned"), s("ising_3spin", 0.6, "amp")
    is_e_l, is_e_a = s("ising_3spin", 0.9, "learned"), s("ising_3spin", 0.9, "amp")
    assert f"flagged for both ({pm(is_h_l)} learned, {pm(is_h_a)} AMP)" in para
    assert f"learned network's gap, {pm(is_e_l, digits=3)}, just crosses the flag while AMP's, {pm(is_e_a, digits=3)}" \
        in para
    by = {(v["model"], v["T"]): v for v in d["verdicts"]}
    assert by[("spherical_3spin", 0.55)]["m_bayes"] == pytest.approx(0.72, abs=0.005)
    for key in (("spherical_3spin", 0.55), ("ising_3spin", 0.6)):  # the lens says fails: flagged, uninformed
        assert all(by[key][k] for k in ("amp_gap_flagged", "learned_gap_flagged", "amp_uninformed",
                                        "learned_uninformed"))
    assert not any(by[("spherical_3spin", 0.85)][k] for k in ("amp_gap_flagged", "learned_gap_flagged"))
    assert by[("ising_3spin", 0.9)]["learned_gap_flagged"] and not by[("ising_3spin", 0.9)]["amp_gap_flagged"]
    # the paired excess of the learned samples' energy over AMP's, resolved at both Ising temperatures
    for T, quoted in ((0.9, para.index("0.024 ± 0.004 above")), (0.6, para.index("(0.053 ± 0.008 at T = 0.6)"))):
        rows = {(r["instance"], r["denoiser"]): r["energy_gap"] for r in d["rows"]
                if r["model"] == "ising_3spin" and r["T"] == T}
        diff = np.array([rows[(i, "learned")] - rows[(i, "AMP (damped)")] for i in range(16)])
        mean, err = diff.mean(), diff.std(ddof=1) / np.sqrt(diff.size)
        assert mean > 3 * err and quoted >= 0
        assert f"{mean:.3f} ± {err:.3f}" in para
    ratio = (is_h_l["energy_gap"] - 0) / (is_e_l["energy_gap"] - is_e_a["energy_gap"])
    assert 15 <= ratio <= 25  # "about a twentieth of the failure the lens predicts"


def test_readme_quotes_the_sparse_spiked_wigner_records():
    """The README's sparse-Rademacher sentences are what docs/figures/learned_at_scale.json (N = 2000) and
    learned_at_scale_sparse.json (N = 4000) hold, with the statements of ``learned_common.sparse_targets``."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from learned_common import sparse_targets

    text = " ".join((ROOT / "README.md").read_text().split())
    para = text[text.index("On sparse Rademacher (rho = 0.05)"):][:1700]
    small = json.loads((ROOT / "docs" / "figures" / "learned_at_scale.json").read_text())
    large = json.loads((ROOT / "docs" / "figures" / "learned_at_scale_sparse.json").read_text())
    assert small["settings"]["n"] == 2000 and large["settings"]["n"] == 4000
    assert small["settings"]["sparse_seeds"] == large["settings"]["sparse_seeds"] == [0, 1, 2, 3]

    def ov(d, x, combo):
        return d["sparse"][f"sparse_{x}"]["summary"][combo]["overlap_planted"]

    def two(a, b):
        return f"{a:.2f} and {b:.2f}"

    easy = (f"overlap with x* at 0.8 ({two(ov(small, 0.8, 'SL/learned+warm'), ov(small, 0.8, 'SI/learned+warm'))} "
            f"for SL and SI, against {two(ov(small, 0.8, 'SL/AMP'), ov(small, 0.8, 'SI/AMP'))})")
    assert easy in para
    hard_max = max(ov(small, 1.2, f"{d}/{k}") for d in ("SL", "SI") for k in ("learned", "learned+warm", "AMP"))
    assert f"(at most {hard_max:.2f}, where posterior samples have m* = " \
           f"{small['sparse']['sparse_1.2']['se']['m_bayes']:.2f})" in para
    assert f"does not match at 0.8 ({two(ov(small, 0.8, 'SL/learned'), ov(small, 0.8, 'SI/learned'))})" in para
    assert (f"at 0.8 ({two(ov(large, 0.8, 'SL/learned+warm'), ov(large, 0.8, 'SI/learned+warm'))} against "
            f"{two(ov(large, 0.8, 'SL/AMP'), ov(large, 0.8, 'SI/AMP'))})") in para
    minutes = sorted(round(m["total_seconds"] / 60) for m in large["meta"])
    assert f"{minutes[0]} and {minutes[1]} min for the two settings" in para
    for d, tol in ((small, small["settings"]["tolerance_overlap"]), (large, large["settings"]["tolerance_overlap"])):
        targets = sparse_targets(d["sparse"], tol)
        flags = [t for t in targets if "(hard)" in t["target"] and "energy-form" in t["target"]]
        assert len(flags) == 6 and all(t["met"] for t in flags)  # "flags all six samplers" / "every gap flagged"
        easy_rows = {t["target"].split(" ")[3].rstrip(":"): t["met"] for t in targets
                     if "(easy)" in t["target"] and "|ov - ov_AMP|" in t["target"]}
        warm_match = easy_rows["SL/learned+warm"] and easy_rows["SI/learned+warm"]
        assert warm_match == (d is small)  # "holds at N = 2000, not at N = 4000"
        assert not easy_rows["SL/learned"] and not easy_rows["SI/learned"]
    hard = [t for t in sparse_targets(large["sparse"], large["settings"]["tolerance_overlap"])
            if "(hard)" in t["target"]]
    assert all(t["met"] for t in hard if "ends uninformed" in t["target"])
    found = {r["denoiser"]: 0 for r in large["sparse"]["sparse_1.2"]["samplers"]}
    total = 0
    for r in large["sparse"]["sparse_1.2"]["samplers"]:
        found[r["denoiser"]] += sum(v > large["sparse"]["sparse_1.2"]["se"]["m_bayes"] / 2
                                    for v in r["overlap_planted_per_sample"])
        total += len(r["overlap_planted_per_sample"])
    assert f"{sum(found.values())} of {total} samples found x*" in para
    gaps = [t["value"][0] for t in hard if "energy-form" in t["target"]]
    assert f"flagged, {min(gaps):.2f}-{max(gaps):.2f})" in para
    # "on one of the four seeds every sampler, AMP included, stays uninformed at 0.8 at both sizes"
    for d in (small, large):
        stuck = {r["instance_seed"] for r in d["sparse"]["sparse_0.8"]["samplers"]} - {
            r["instance_seed"] for r in d["sparse"]["sparse_0.8"]["samplers"] if r["overlap_planted"] > 0.3}
        assert stuck == {1}


def test_readme_quotes_the_transfer_record():
    """The network trained at N = 2000 and used at N = 4000 (docs/figures/learned_at_scale_transfer.json)."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from learned_common import sparse_targets

    d = json.loads((ROOT / "docs" / "figures" / "learned_at_scale_transfer.json").read_text())
    assert (d["settings"]["n"], d["settings"]["train_n"]) == (4000, 2000)
    text = " ".join((ROOT / "README.md").read_text().split())
    para = text[text.index("The network trained at N = 2000 and used at N = 4000"):][:400]
    easy = d["sparse"]["sparse_0.8"]["summary"]
    quoted = (f"comes closer: {easy['SL/learned+warm']['overlap_planted']:.2f} and "
              f"{easy['SI/learned+warm']['overlap_planted']:.2f} against {easy['SL/AMP']['overlap_planted']:.2f} and "
              f"{easy['SI/AMP']['overlap_planted']:.2f} (SI within the tolerance, SL not)")
    assert quoted in para
    minutes = sorted(round(m["total_seconds"] / 60) for m in d["meta"])
    assert f"; {minutes[0]} and {minutes[1]} min)" in para
    targets = sparse_targets(d["sparse"], d["settings"]["tolerance_overlap"])
    met = {t["target"].split(" ")[3].rstrip(":"): t["met"] for t in targets
           if "(easy)" in t["target"] and "|ov - ov_AMP|" in t["target"]}
    assert met["SI/learned+warm"] and not met["SL/learned+warm"]
    hard = [t for t in targets if "(hard)" in t["target"] and t["met"] is not None]
    assert hard and all(t["met"] for t in hard)  # "ends uninformed and flagged like AMP"
    # the AMP-driven rows are the N = 4000 record's (same instances and seeds)
    other = json.loads((ROOT / "docs" / "figures" / "learned_at_scale_sparse.json").read_text())
    for key in ("sparse_0.8", "sparse_1.2"):
        assert [r["overlap_planted"] for r in d["sparse"][key]["samplers"] if r["denoiser"] == "AMP"] == \
            [r["overlap_planted"] for r in other["sparse"][key]["samplers"] if r["denoiser"] == "AMP"]


def test_readme_quotes_the_warm_trained_sparse_record():
    """The network trained on its own warm-started queries with the sign-invariant loss, N = 4000
    (docs/figures/learned_at_scale_sparse_warm.json): better than AMP at the easy point, and SI over it escapes the
    hard phase on one instance."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from learned_common import sparse_targets

    d = json.loads((ROOT / "docs" / "figures" / "learned_at_scale_sparse_warm.json").read_text())
    st = d["settings"]
    assert st["n"] == 4000 and st["sign_invariant"] and st["warm"]["fraction"] == 0.5 and "train_n" not in st
    text = " ".join((ROOT / "README.md").read_text().split())
    para = text[text.index("Trained on its own queries"):][:1400]
    minutes = sorted(round(m["total_seconds"] / 60) for m in d["meta"])
    assert f"learned_at_scale_sparse_warm`, {minutes[0]} and {minutes[1]} min;" in para
    easy, hard = d["sparse"]["sparse_0.8"], d["sparse"]["sparse_1.2"]

    def ov(block, combo):
        return block["summary"][combo]["overlap_planted"]

    assert (f"its warm-run overlap is {ov(easy, 'SL/learned+warm'):.2f} and {ov(easy, 'SI/learned+warm'):.2f}, "
            f"within the tolerance of the posterior's m* = {easy['se']['m_bayes']:.2f}, where AMP's "
            f"{ov(easy, 'SL/AMP'):.2f} and {ov(easy, 'SI/AMP'):.2f} are not") in para
    targets = {t["target"]: t for t in sparse_targets(d["sparse"], st["tolerance_overlap"])}

    def met(where, combo, phrase):
        hits = [t["met"] for k, t in targets.items() if k.startswith(f"sparse Delta/rho^2={where}") and
                f" {combo}:" in k and phrase in k]
        assert len(hits) == 1
        return hits[0]

    for drv in ("SL", "SI"):
        assert met(0.8, f"{drv}/learned+warm", "m*_Bayes|") and not met(0.8, f"{drv}/AMP", "m*_Bayes|")
        assert not met(0.8, f"{drv}/learned+warm", "ov_AMP|")  # better than AMP: not "within tol of AMP"
        assert met(0.8, f"{drv}/learned+warm", "energy-form")  # not flagged where the lens says works
    # "it leaves the uninformed start on the seed where AMP stays, in 15 of 16 samples"
    stuck = {r["instance_seed"] for r in easy["samplers"] if r["denoiser"] == "AMP" and r["overlap_planted"] < 0.1}
    assert stuck == {1}
    half = easy["se"]["m_bayes"] / 2
    escaped = sum(v > half for r in easy["samplers"] if r["instance_seed"] == 1 and r["denoiser"] == "learned+warm"
                  for v in r["overlap_planted_per_sample"])
    assert "in 15 of 16 samples" in para and escaped == 15
    # hard point: SL ends uninformed and flagged; SI finds x* on one instance, unflagged
    assert met(1.2, "SL/learned+warm", "ends uninformed") and met(1.2, "SL/learned+warm", "energy-form")
    assert not met(1.2, "SI/learned+warm", "ends uninformed") and not met(1.2, "SI/learned+warm", "energy-form")
    half = hard["se"]["m_bayes"] / 2
    found = {}
    for r in hard["samplers"]:
        if r["driver"] == "SI" and r["denoiser"] in ("learned+warm", "AMP"):
            for v in r["overlap_planted_per_sample"]:
                if v > half:
                    found.setdefault(r["denoiser"], []).append(r["instance_seed"])
    assert len(found["learned+warm"]) == 8 and len(set(found["learned+warm"])) == 1
    assert found["AMP"] == found["learned+warm"][:1]  # one AMP-driven SI sample, on the same instance
    total = sum(len(r["overlap_planted_per_sample"]) for r in hard["samplers"]
                if (r["driver"], r["denoiser"]) == ("SI", "learned+warm"))
    assert f"SI over it finds x* in 8 of {total} samples, all on one instance" in para
    gap = next(t for k, t in targets.items() if k.startswith("sparse Delta/rho^2=1.2") and " SI/learned+warm:" in k
               and "energy-form" in k)["value"]
    assert f"its gap, {gap[0]:.2f} ± {gap[1]:.2f}, is not flagged" in para


def test_readme_quotes_the_warm_trained_tensor_record():
    """The 3-spin networks trained on their own warm-started queries (docs/figures/learned_tensor_n200_warm.json):
    below AMP in energy at every point, and every verdict the lens'."""
    d = json.loads((ROOT / "docs" / "figures" / "learned_tensor_n200_warm.json").read_text())
    plain = json.loads((ROOT / "docs" / "figures" / "learned_tensor_n200.json").read_text())
    assert d["settings"]["warm"]["fraction"] == 0.5
    assert {k: v for k, v in d["settings"].items() if k != "warm"} == {"seed": 0, **plain["settings"]}  # same run
    text = " ".join((ROOT / "README.md").read_text().split())
    para = text[text.index("trained on its own queries as well"):][:900]
    quoted = []
    for model, T in (("ising_3spin", 0.9), ("ising_3spin", 0.6), ("spherical_3spin", 0.55),
                     ("spherical_3spin", 0.85)):
        rows = {(r["instance"], r["denoiser"]): r["energy_gap"] for r in d["rows"]
                if (r["model"], r["T"]) == (model, T)}
        diff = np.array([rows[(i, "learned")] - rows[(i, "AMP (damped)")] for i in range(16)])
        mean, err = diff.mean(), diff.std(ddof=1) / np.sqrt(diff.size)
        assert mean < -2 * err  # "sit below AMP's in energy on the same instances at all four points"
        quoted.append(f"{-mean:.3f} ± {err:.3f}")
    assert (f"({quoted[0]} at Ising T = 0.9, {quoted[1]} at 0.6, {quoted[2]} and {quoted[3]} on the spherical "
            "model)") in para
    easy = _summary(d, "ising_3spin", 0.9, "learned")
    assert f"no longer flagged ({easy['energy_gap']:.3f} ± {easy['energy_gap_err']:.3f})" in para
    for v in d["verdicts"]:
        fails = v["T"] < d["models"][v["model"]]["thresholds"]["T_diffusion"]
        assert v["learned_gap_flagged"] == v["amp_gap_flagged"] == fails
        assert v["learned_uninformed"] == v["amp_uninformed"] == (fails and v["m_bayes"] > v["tolerance"])
        assert v["overlaps_match"]
    # the mutant: the plainly trained network's record does not pass the same verdicts
    assert any(v["learned_gap_flagged"] != (v["T"] < plain["models"][v["model"]]["thresholds"]["T_diffusion"])
               for v in plain["verdicts"])


def test_readme_quotes_the_escape_record():
    """How often SL and SI over one warm / sign-invariant-trained network escape the sparse hard phase, by N
    (docs/figures/learned_escape.json)."""
    d = json.loads((ROOT / "docs" / "figures" / "learned_escape.json").read_text())
    st = d["settings"]
    assert st["sizes"] == [2000, 4000, 8000] and st["train_n"] == 2000 and st["sign_invariant"] and not st["quick"]
    text = " ".join((ROOT / "README.md").read_text().split())
    para = text[text.index("How that escape depends on N"):][:700]
    found, where = [], []
    for n in st["sizes"]:
        rows = [s for s in d["summary"] if s["n"] == n]
        assert sum(s["samples"] for s in rows) == 64
        found.append(sum(s["found"] for s in rows))
        where.append(sorted({i for s in rows for i in s["instances_with_escape"]}))
    assert f"{found[0]}, {found[1]} and {found[2]} of 64 samples found x*" in para
    assert found[2] < found[0] and found[2] < found[1]  # the escape shrinks with N
    assert where == [[0, 2], [0], []] and "(on seeds 0 and 2, on seed 0, on none)" in para
    assert f"{round(d['meta']['total_seconds'] / 60)} min" in para

