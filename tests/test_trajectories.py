"""analysis.measures.trajectories: shapes, summary, SE curves taken from the path reports, the figure, argument checks,
the script, and one physics check (diffusion over AMP follows state evolution on an easy instance).

The structural tests run one hard sparse Rademacher instance (rho = 0.05, x = Delta/rho^2 = 1.2) at N = 300 on
coarse grids; only the shapes and the bookkeeping are checked there, not the physics (at N <= 600 this
instance's finite-size behaviour is erratic: see the physics test below).
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

import spinglass as sg
from analysis.measures.trajectories import (
    SAMPLERS,
    PathTrajectories,
    main,
    make_instance,
    path_trajectories,
    plot_path_trajectories,
)
from analysis.theory.state_evolution import StateEvolution
from analysis.theory.transitions import PathReport
from samplers.denoisers import NonConvergenceWarning

N = 300
N_SAMPLES = 3
KW = {"n_samples": N_SAMPLES, "seed": 0, "sl_steps": 8, "flow_steps": 4, "mcmc_sweeps": 60}


@pytest.fixture(scope="module")
def hard() -> PathTrajectories:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonConvergenceWarning)
        return path_trajectories(make_instance("hard", N), **KW)


@pytest.fixture(scope="module")
def small_model():
    return make_instance("easy", 40)


def test_result_holds_the_four_runs_with_trajectories(hard):
    assert isinstance(hard.gaussian, PathReport) and isinstance(hard.erasure, PathReport)
    assert hard.gaussian.path == "gaussian" and hard.erasure.path == "erasure"
    assert list(hard.samples) == list(SAMPLERS)
    for res in hard.samples.values():
        assert res.x.shape == (N_SAMPLES, N)
    K = KW["sl_steps"]
    tr = hard.diffusion.trace
    assert tr["t"].shape == (K + 1,) and tr["t"][0] == 0 and math.isclose(tr["t"][-1], 30.0)
    assert tr["self_overlap"].shape == tr["overlap_planted"].shape == (N_SAMPLES, K + 1)
    tr = hard.flow.trace
    assert tr["tau"].shape == tr["t"].shape == (KW["flow_steps"] + 1,)
    assert tr["self_overlap"].shape == (N_SAMPLES, KW["flow_steps"] + 1)
    assert math.isclose(tr["t"][-1], 30.0)  # the flow ends at the SNR T of the diffusion
    tr = hard.autoregressive.trace
    r = max(1, N // 50)  # the default reveal_per_step
    assert hard.summary["settings"]["reveal_per_step"] == r
    assert tr["theta"].shape == (N // r + 1,) and tr["theta"][-1] == 1.0
    tr = hard.mcmc.trace
    assert tr["sweep"].shape == (KW["mcmc_sweeps"],)
    assert tr["overlap_planted"].shape == (N_SAMPLES, KW["mcmc_sweeps"])
    assert hard.planted_norm == pytest.approx(hard.mcmc.planted @ hard.mcmc.planted / N)
    assert hard.symmetry == "sign"


def test_summary_keys_and_values(hard):
    s = hard.summary
    for key in ("model", "n", "lam", "Delta", "x", "planted_norm", "m_bayes_s0", "m_algorithmic_s0", "gaussian",
                "erasure", "samplers", "wall_time", "settings"):
        assert key in s, key
    assert s["n"] == N and s["x"] == pytest.approx(1.2)
    for path in ("gaussian", "erasure"):
        assert set(s[path]) == {"predicted_to_fail", "failure_intervals", "spinodals", "first_order"}
    assert list(s["samplers"]) == list(SAMPLERS)
    for name, r in s["samplers"].items():
        for key in ("overlap_planted", "overlap_planted_per_sample", "two_sample_overlap", "energy_gap", "wall_time"):
            assert key in r, (name, key)
        assert len(r["overlap_planted_per_sample"]) == N_SAMPLES
        assert np.mean(r["overlap_planted_per_sample"]) == pytest.approx(r["overlap_planted"])
        x = hard.samples[name].x
        assert r["overlap_planted"] == pytest.approx(np.mean(np.abs(x @ hard.mcmc.planted) / N))
    for name in ("diffusion", "flow", "autoregressive"):
        assert "final_self_overlap" in s["samplers"][name] and "denoiser_unconverged" in s["samplers"][name]
    assert s["samplers"]["mcmc"]["sweeps"] == KW["mcmc_sweeps"]
    json.dumps(s)  # JSON-friendly


def test_se_curves_come_from_the_path_reports(hard):
    g, e = hard.gaussian, hard.erasure
    assert g.u[0] == 0 and g.u[-1] == pytest.approx(30.0) and np.max(np.diff(g.u)) <= 1e-3 + 1e-12
    assert e.u[0] == 0 and e.u[-1] == 1
    s = hard.summary
    assert s["m_bayes_s0"] == g.m_bayes[0] == hard.m_bayes_s0
    assert s["m_algorithmic_s0"] == g.m_algorithmic[0]
    assert s["gaussian"]["predicted_to_fail"] is g.sampler_predicted_to_fail is True
    assert s["erasure"]["predicted_to_fail"] is e.sampler_predicted_to_fail is True
    assert s["gaussian"]["failure_intervals"] == [list(iv) for iv in g.failure_intervals]
    # the reports agree with state evolution iterated directly (x = 1.2: m_bayes(0) = 0.7398, m_alg(0) = 0)
    se = StateEvolution.wigner(sg.SparseRademacher(0.05), 1 / 1.2)
    assert g.m_bayes[0] == pytest.approx(se.iterate("gaussian", 0.0, m0=1.0).m, abs=1e-3)
    assert g.m_algorithmic[0] == pytest.approx(0.0, abs=1e-3)
    assert e.m_bayes[0] == pytest.approx(g.m_bayes[0], abs=1e-3)  # both paths start at the model itself
    # and the figure draws exactly these arrays
    fig = plot_path_trajectories(hard)
    axes = fig.axes[:4]
    for ax, rep in ((axes[0], g), (axes[1], g), (axes[2], e)):
        ys = [np.asarray(line.get_ydata()) for line in ax.get_lines() if np.size(line.get_xdata()) == rep.u.size]
        assert any(np.array_equal(y, rep.m_bayes) for y in ys)
        assert any(np.array_equal(y, rep.m_algorithmic) for y in ys)
    # the flow panel is drawn against the SNR t of trace["t"], not tau
    t_flow = hard.flow.trace["t"]
    assert any(np.array_equal(line.get_xdata(), t_flow) for line in axes[1].get_lines())


def test_plot_returns_a_figure_with_four_panels(hard):
    fig = plot_path_trajectories(hard)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert fig.axes[0].get_xscale() == "symlog" and fig.axes[3].get_xscale() == "log"
    given = Figure()
    assert plot_path_trajectories(hard, given) is given and len(given.axes) == 4
    host = Figure()
    axes = host.subplots(1, 4)
    assert plot_path_trajectories(hard, axes, normalize=False) is host
    # raw overlaps: the MCMC thick line is the mean |overlap| per recorded sweep
    mean = np.abs(hard.mcmc.trace["overlap_planted"]).mean(axis=0)
    assert any(np.allclose(line.get_ydata(), mean) for line in axes[3].get_lines())


@pytest.mark.parametrize("ax, exc", [("axes", TypeError), (5, TypeError)])
def test_plot_rejects_bad_targets(hard, ax, exc):
    with pytest.raises(exc, match="ax"):
        plot_path_trajectories(hard, ax)


def test_plot_rejects_wrong_number_of_axes_and_bad_result(hard):
    axes = Figure().subplots(1, 3)
    with pytest.raises(ValueError, match="ax"):
        plot_path_trajectories(hard, axes)
    with pytest.raises(TypeError, match="result"):
        plot_path_trajectories(hard.summary)
    with pytest.raises(TypeError, match="normalize"):
        plot_path_trajectories(hard, normalize="yes")


@pytest.mark.parametrize("kwargs, exc, name", [
    ({"n_samples": 1}, ValueError, "n_samples"),
    ({"n_samples": 2.0}, TypeError, "n_samples"),
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": "0"}, TypeError, "seed"),
    ({"sl_steps": 1}, ValueError, "sl_steps"),
    ({"flow_steps": 0}, ValueError, "flow_steps"),
    ({"reveal_per_step": 0}, ValueError, "reveal_per_step"),
    ({"reveal_per_step": 41}, ValueError, "reveal_per_step"),
    ({"reveal_per_step": 1.5}, TypeError, "reveal_per_step"),
    ({"mcmc_sweeps": 0}, ValueError, "mcmc_sweeps"),
    ({"T": 0.0}, ValueError, "T"),
    ({"t_min": 30.0}, ValueError, "t_min"),
    ({"denoiser": "amp"}, TypeError, "denoiser"),
])
def test_arguments_are_validated(small_model, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        path_trajectories(small_model, **kwargs)


def test_model_is_validated():
    with pytest.raises(TypeError, match="model"):
        path_trajectories(sg.SK(20, 0.5, seed=0))
    with pytest.raises(TypeError, match="discrete prior"):
        path_trajectories(sg.SpikedWigner(20, 2.0, sg.Gaussian(), seed=0))
    with pytest.raises(ValueError, match="kind"):
        make_instance("medium", 100)


def test_main_writes_figures_and_summaries(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--n", "100", "--quick"]) == 0
    for name in ("trajectories_easy.png", "trajectories_hard.png", "trajectories.json"):
        assert (tmp_path / name).stat().st_size > 0
    data = json.loads((tmp_path / "trajectories.json").read_text())
    assert set(data) == {"easy", "hard"} and data["hard"]["gaussian"]["predicted_to_fail"] is True
    assert data["easy"]["gaussian"]["predicted_to_fail"] is False and data["easy"]["n"] == 100
    out = capsys.readouterr().out
    assert "[easy]" in out and "[hard]" in out and "diffusion" in out


@pytest.mark.slow
def test_diffusion_follows_state_evolution_on_an_easy_instance():
    """Rademacher prior, lam = 2, N = 600 (easy phase, continuous transition; no failure on either path).

    Along the true diffusion process the denoiser's self-overlap q(t) = |m_t|^2/N equals the SE overlap
    m_bayes(t) (Nishimori), and the final samples, being posterior samples, have overlap m_bayes(0) = 0.6184
    with x*.  (The *final* self-overlap is q(T) = m(T) ~ 1, not m_bayes(0): that comparison is the samples'
    overlap with x*.)  Tolerance 4/sqrt(N) = 0.163: over 16 instance seeds at this N the observed
    |overlap - m_bayes(0)| was at most 0.094 and max_t |q(t) - m_bayes(t)| at most 0.144 (std about 0.045),
    both dominated by the instance's own O(1/sqrt(N)) deviation of its posterior overlap from SE (MCMC on the
    same instances deviates alike).  A sampler on the uninformed branch (overlap ~ 0) or a denoiser at the
    wrong SNR (lam = 1.5 gives m = 0.44) fails it.

    The sparse Rademacher "easy" instance of the script (rho = 0.05, x = 0.9) is NOT used here: at N = 600
    it is only 30 non-zero entries, AMP at s = 0 from the uninformed start finds the signal in 2 of 12 instance
    seeds (3/12 at N = 1000, 6/12 at N = 2000) and the diffusion ends near overlap 0 in 9 of 12, so no
    tolerance would be both honest and robust.
    """
    n = 600
    model = sg.SpikedWigner(n, 2.0, sg.Rademacher(), seed=0)
    res = path_trajectories(model, n_samples=4, seed=0, mcmc_sweeps=200)
    tol = 4.0 / math.sqrt(n)
    m0 = res.m_bayes_s0
    assert m0 == pytest.approx(0.6184475, abs=1e-3)
    assert not res.gaussian.sampler_predicted_to_fail and not res.erasure.sampler_predicted_to_fail
    d = res.summary["samplers"]["diffusion"]
    assert abs(d["overlap_planted"] - m0) < tol, d["overlap_planted_per_sample"]
    tr = res.diffusion.trace
    se = np.interp(tr["t"], res.gaussian.u, res.gaussian.m_bayes)
    gap = np.max(np.abs(tr["self_overlap"].mean(axis=0) - se))
    assert gap < tol, f"self-overlap leaves SE by {gap:.3f}"
    assert d["denoiser_unconverged"] == 0
