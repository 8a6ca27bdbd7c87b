"""``analyze_path`` next to a tricritical point: the coexistence window that ``tricritical_point`` implies is found
even when it is much narrower than the curve table's spacing (about 0.01 in the SNR g seen by the prior)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.theory import transitions
from analysis.theory.phase_diagram import delta_s_plane
from analysis.theory.state_evolution import StateEvolution
from analysis.theory.transitions import analyze_path, tricritical_point
from spinglass.priors import Rademacher, SparseRademacher

#: SparseRademacher(0.05): the model where the fixed table missed the window furthest from the tricritical
#: point (up to Delta_tri - 2.5e-4 on the Gaussian path, 1.9e-4 on the erasure path).
PRIOR = SparseRademacher(0.05)


@pytest.fixture(scope="module")
def tricritical():
    return {path: tricritical_point(PRIOR, 2, path) for path in ("gaussian", "erasure")}


def _check_window(rep, tri, refine: bool):
    """The window of a path just below its tricritical Delta: sp1 < IT < sp2 around (u_tri, m_tri)."""
    assert [s.kind for s in rep.spinodals] == ["appears", "vanishes"]
    sp1, sp2 = rep.spinodals
    assert sp1.u < sp2.u and abs(sp1.u - tri.u) < 1e-3 and abs(sp2.u - tri.u) < 1e-3
    # the informed branch appears above m_tri, the uninformed one vanishes below it
    assert sp2.m < tri.m < sp1.m
    assert len(rep.first_order) == 1
    fo = rep.first_order[0]
    assert sp1.u < fo.u < sp2.u
    assert fo.m_low < tri.m < fo.m_high
    # u_tri >= 0: the window lies on the path, so the sampler is predicted to fail from IT to sp2
    assert tri.u > 0 and rep.sampler_predicted_to_fail
    assert len(rep.failure_intervals) == 1
    a, b = rep.failure_intervals[0]
    assert b == pytest.approx(sp2.u, abs=1e-12)
    assert a == pytest.approx(fo.u, abs=1e-12 if refine else 1e-9)


@pytest.mark.parametrize("refine", [True, False])
@pytest.mark.parametrize("offset", [2e-4, 1e-4, 1e-6])
@pytest.mark.parametrize("path", ["gaussian", "erasure"])
def test_window_just_below_the_tricritical_point(tricritical, path, offset, refine):
    tri = tricritical[path]
    rep = analyze_path(StateEvolution(PRIOR, 2, tri.Delta - offset), path, n_points=11, refine=refine)
    _check_window(rep, tri, refine)


@pytest.mark.parametrize("path", ["gaussian", "erasure"])
def test_no_window_just_above_the_tricritical_point(tricritical, path):
    tri = tricritical[path]
    for offset in (1e-8, 1e-6, 1e-4):
        rep = analyze_path(StateEvolution(PRIOR, 2, tri.Delta + offset), path, n_points=11)
        assert not rep.spinodals and not rep.first_order and not rep.sampler_predicted_to_fail


@pytest.mark.parametrize("path", ["gaussian", "erasure"])
def test_the_fixed_table_alone_misses_the_window(tricritical, path, monkeypatch):
    """The mutant: without the refinement between table points (the old fixed grid), the same Delta shows
    no spinodal, no first-order point and no failure — the check above would fail."""
    monkeypatch.setattr(transitions._Curve, "_refine_near_tangencies", lambda self: None)
    tri = tricritical[path]
    rep = analyze_path(StateEvolution(PRIOR, 2, tri.Delta - 1e-4), path, n_points=11)
    assert not rep.spinodals and not rep.first_order and not rep.sampler_predicted_to_fail
    with pytest.raises(AssertionError):
        _check_window(rep, tri, True)


def test_planes_have_their_lines_up_to_the_tricritical_point():
    """delta_s_plane (the planes' lines) at Delta within 1e-6 of the tricritical point: sp1 <= IT <= sp2 exist
    below it, nothing above it."""
    tri = tricritical_point(Rademacher(), 3, "erasure")
    D = tri.Delta + np.array([-1e-6, -1e-7, 1e-7])
    lines = delta_s_plane(Rademacher(), 3, D, "erasure")
    for k in range(2):
        assert lines.sp_low[k] <= lines.first_order[k] <= lines.sp_high[k]
        assert lines.sp_high[k] - lines.sp_low[k] < 1e-6
    assert math.isnan(lines.sp_low[2]) and math.isnan(lines.sp_high[2]) and math.isnan(lines.first_order[2])


def test_polished_branches_solve_their_equations_in_a_narrow_window(tricritical):
    """Inside a window narrower than the table spacing, the reported branches are fixed points to rounding
    (the polish iterates to convergence instead of stopping after a fixed number of Newton steps)."""
    tri = tricritical["erasure"]
    se = StateEvolution(PRIOR, 2, tri.Delta - 1e-6)
    rep = analyze_path(se, "erasure", n_points=2)
    lo, hi = rep.spinodals[0].u, rep.spinodals[1].u
    rep = analyze_path(se, "erasure", u_range=(lo, hi), n_points=41)
    from analysis.theory.state_evolution import ERASURE

    for m in (rep.m_uninformed, rep.m_informed):
        ok = np.isfinite(m)
        assert ok.sum() >= 39
        resid = np.abs(ERASURE.fixed_point_map(se, m[ok], rep.u[ok]) - m[ok])
        assert resid.max() < 1e-10
    assert np.all(rep.m_informed - rep.m_uninformed > 0)
