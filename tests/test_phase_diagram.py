"""Phase diagrams: grid verdicts (full path reports) agree with the threshold curves (tricritical points
and model thresholds, computed independently), and the p-spin thresholds match closed forms."""

import math

import matplotlib
import numpy as np
import pytest

from analysis.theory.phase_diagram import delta_s_plane, pspin_thresholds, sparse_rademacher_phase_diagram
from spinglass.priors import Gaussian

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def diagram():
    return sparse_rademacher_phase_diagram(np.array([0.04, 0.06, 0.08, 0.15]), np.linspace(0.9, 1.9, 21))


def test_grid_verdicts_match_threshold_curves(diagram):
    checked = 0
    for i in range(diagram.rho.size):
        for j, x in enumerate(diagram.x):
            for fails, upper in ((diagram.diffusion_fails, diagram.x_diffusion),
                                 (diagram.autoregressive_fails, diagram.x_autoregressive)):
                lo, hi = diagram.x_alg[i], upper[i]
                if min(abs(x - lo), abs(x - hi)) < 1e-3:
                    continue  # on a boundary: the grid verdict uses interpolated potentials
                assert fails[i, j] == (lo < x < hi), (diagram.rho[i], x)
                checked += 1
    assert checked > 100
    assert diagram.diffusion_fails.any() and not diagram.diffusion_fails.all()


def test_curves_are_ordered(diagram):
    small = diagram.rho < 0.09  # first-order region of the sparse Rademacher prior
    assert np.all(diagram.x_alg[small] < diagram.x_IT[small])
    assert np.all(diagram.x_IT[small] < diagram.x_dyn[small])
    assert np.all(diagram.x_dyn[small] < diagram.x_autoregressive[small])
    assert np.all(diagram.x_autoregressive[small] < diagram.x_diffusion[small])
    # rho = 0.15: continuous transition at lam = 1, nothing fails
    assert diagram.x_IT[~small] == pytest.approx(1.0, abs=1e-9)
    assert not diagram.diffusion_fails[~small].any() and not diagram.autoregressive_fails[~small].any()
    rows = diagram.to_rows()
    assert rows[0]["lam_IT"] == pytest.approx(1 / rows[0]["Delta_over_rho2_IT"])


def test_plot_writes_png(diagram, tmp_path):
    ax = diagram.plot()
    out = tmp_path / "pd.png"
    ax.figure.savefig(out)
    assert out.stat().st_size > 1000


def test_spherical_pspin_thresholds_closed_forms():
    th = pspin_thresholds(Gaussian(), 3)
    assert th["T_dyn"] == pytest.approx(math.sqrt(3 / 8), abs=1e-9)       # Delta_d = 1/4
    assert th["T_diffusion"] == pytest.approx(2 / 3, abs=1e-9)            # Delta = 8/27
    assert th["T_autoregressive"] == pytest.approx(math.sqrt(0.5), abs=1e-9)  # Delta = 1/3
    assert th["T_alg"] == 0.0
    assert th["T_IT"] < th["T_dyn"] < th["T_diffusion"] < th["T_autoregressive"]


def test_delta_s_plane_spherical():
    lines = delta_s_plane(Gaussian(), 3, [0.27, 0.29, 0.31])
    m = np.sort([r.real for r in np.roots([2, -4, 2, -0.27]) if abs(r.imag) < 1e-12 and 0 < r.real < 1])
    expected = sorted(mm / (1 - mm) - mm**2 / 0.27 for mm in m)
    assert [lines.sp_low[0], lines.sp_high[0]] == pytest.approx(expected, abs=1e-9)
    assert lines.sp_low[0] < lines.first_order[0] < lines.sp_high[0]
    assert np.isnan(lines.sp_low[2]) and np.isnan(lines.first_order[2])  # above the tricritical Delta
    assert lines.tricritical == pytest.approx((8 / 27, 1 / 8), abs=1e-7)


def test_bad_inputs():
    with pytest.raises(ValueError, match="rho"):
        sparse_rademacher_phase_diagram([0.0, 0.1], [1.0])
    with pytest.raises(ValueError, match="Delta/rho"):
        sparse_rademacher_phase_diagram([0.1], [-1.0])
    with pytest.raises(ValueError, match="Delta must be"):
        delta_s_plane(Gaussian(), 3, [])


def test_cli_phase_diagram(tmp_path, capsys):
    from analysis.cli import main

    rc = main(["phase-diagram", "--rho", "0.05:0.15:3", "--x", "0.9:1.6:4", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "T_d = 0.612372" in text  # spherical 3-spin: sqrt(3/8)
    assert (tmp_path / "thresholds.csv").read_text().count("\n") == 4
    assert (tmp_path / "phase_diagram.png").stat().st_size > 1000
    assert main(["phase-diagram", "--rho", "0.1", "--out", str(tmp_path)]) == 2
    assert "START:STOP:NUM" in capsys.readouterr().err
