"""The benchmark baselines run and return positive figures (no timing is asserted: benchmarks/run.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import peers  # noqa: E402


def test_baselines_return_positive_figures():
    assert peers.copy_bandwidth(1 << 20, repeats=2) > 0
    assert peers.read_bandwidth(1 << 20, repeats=2) > 0
    assert peers.numpy_metropolis_updates_per_s(8, 0.5, 2) > 0
    assert peers.matvec_seconds(64, repeats=2) > 0
    assert peers.matvec_seconds(64, np.float32, repeats=2) > 0


def test_neal_is_optional_and_positive_when_installed():
    import scipy.sparse as sp

    J = sp.random(50, 50, density=0.1, random_state=0)
    J = J + J.T
    J.setdiag(0)
    rate = peers.neal_updates_per_s(sp.csr_matrix(J), 0.5, 5, repeats=1)
    assert rate is None or rate > 0


def test_chains_ratios_reads_the_curve():
    import run

    rows = [{"chains": c, "threads": t, "value": v} for c, t, v in
            [(1, 1, 10.0), (32, 1, 12.0), (1, 2, 10.0), (32, 2, 23.0)]]
    one, many = run.chains_ratios(rows)
    assert one["value"] == 1.2 and one["met"] is None
    assert many["value"] == 23.0 / 12.0 and many["met"] is True and many["target"] == ">= 1.6"
