"""Figures carry units, titles, exact reference curves and labelled thresholds; coinciding series stay visible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import spinglass as sg
from analysis.experiments import plots
from analysis.experiments.references import references
from analysis.theory import StateEvolution
from spinglass.closed_forms import ISING_2D_TC, onsager_energy


def _table(family: str, x: str, xs, metric: str, samplers=("A", "B"), values=None, **constant) -> pd.DataFrame:
    rows = []
    for s in samplers:
        for i, v in enumerate(xs):
            for seed in (0, 1):
                y = values[i] if values is not None else float(v)
                rows.append({"task_id": f"{s}{i}{seed}", "family": family, x: v, "seed": seed, "sampler": s,
                             "sampler_name": s, "metric": metric, "value": y, **constant})
    return pd.DataFrame(rows)


def test_ising_references_are_onsager_with_t_c():
    df = _table("EdwardsAnderson", "T", [1.8, 2.6, 3.2], "energy", couplings="ferro", dim=2, h=0.0, L=16)
    curves, lines = references(df, "T", "energy")
    assert [c.label for c in curves] == ["Onsager, L = inf"]
    assert curves[0].y[0] == pytest.approx(onsager_energy(1 / 1.8))
    assert [(ln.label, ln.at) for ln in lines] == [("T_c (Onsager)", pytest.approx(ISING_2D_TC))]
    # in beta the threshold moves to 1 / T_c; a pm1 glass has no exact curve
    assert references(df.rename(columns={"T": "beta"}), "beta", "energy")[1][0].at == pytest.approx(1 / ISING_2D_TC)
    glass = df.assign(couplings="pm1")
    assert references(glass, "T", "energy") == ([], [])


def test_spiked_wigner_overlap_references_follow_state_evolution():
    df = _table("SpikedWigner", "lam", [0.5, 1.5, 3.0], "overlap", prior="rademacher", n=100)
    curves, lines = references(df, "lam", "overlap")
    assert [c.label for c in curves] == ["state evolution, uninformed start (AMP)", "state evolution, informed start"]
    m2 = float(np.squeeze(StateEvolution.wigner(sg.Rademacher(), 2.0).iterate("gaussian", 0.0, m0=1.0).m))
    assert np.interp(2.0, curves[1].x, curves[1].y) == pytest.approx(m2, abs=2e-3)
    assert len(lines) == 1 and lines[0].at == pytest.approx(1.0, abs=1e-3)   # continuous at lam = 1


def test_figure_has_units_title_references_and_visible_coinciding_series():
    df = _table("EdwardsAnderson", "T", [1.8, 2.6, 3.2], "energy", values=[-1.8, -1.2, -0.9],
                couplings="ferro", dim=2, h=0.0, L=16)
    fig = plots.observable_figure(df, "T", ["energy"])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "temperature T" and ax.get_ylabel() == "energy per variable E / n"
    assert "mean over 2 instance seeds" in fig._suptitle.get_text()
    labels = ax.get_legend_handles_labels()[1]
    assert "Onsager, L = inf" in labels and any(lb.startswith("T_c (Onsager)") for lb in labels)
    # the two samplers have identical values: their lines must differ in style and marker size
    series = [c.lines[0] for c in ax.containers if c.get_label() in ("A", "B")]
    assert len(series) == 2
    assert series[0].get_linestyle() != series[1].get_linestyle()
    assert series[0].get_markersize() > series[1].get_markersize()
    plain = plots.observable_figure(df, "T", ["energy"], exact=False)
    assert "Onsager, L = inf" not in plain.axes[0].get_legend_handles_labels()[1]


def test_efficiency_axes_carry_units():
    df = pd.concat([_table("SK", "T", [1.0, 2.0], "ess_energy", values=[10.0, 20.0], n=8),
                    _table("SK", "T", [1.0, 2.0], "wall_time", values=[0.5, 0.7], n=8)])
    ax = plots.efficiency_figure(df).axes[0]
    assert ax.get_xlabel() == "cost: sampling wall time (s)" and ax.get_ylabel().endswith("(samples)")
