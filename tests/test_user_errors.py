"""Bad input gets a clear error naming the parameter, never a silent wrong number or a late crash."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import spinglass as sg
from analysis.cli import main
from analysis.theory.free_entropy import erasure_path_potential, gaussian_path_potential, signal_path_potential
from samplers import Autoregressive, StochasticInterpolant, StochasticLocalization
from spinglass._validate import check_dense_fits


def test_dense_models_refuse_sizes_that_cannot_fit_before_allocating():
    with pytest.raises(ValueError, match=r"n = 1000000 is too large for SK: .* needs about 10 TB"):
        sg.SK(1_000_000, 1.0)
    with pytest.raises(ValueError, match=r"n = 300000 is too large for SpikedWigner"):
        sg.SpikedWigner(300_000, 1.0, sg.Rademacher())
    check_dense_fits("SK", 1000, 6, memory=6 * 8 * 1000**2)          # exactly fits
    with pytest.raises(ValueError, match="use n <= 999"):
        check_dense_fits("SK", 1000, 6, memory=6 * 8 * 1000**2 - 1)


def test_cli_turns_an_oversized_model_and_memory_errors_into_one_line(capsys, monkeypatch):
    assert main(["sample", "SK", "Metropolis", "-p", "n=1000000", "-p", "T=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "n = 1000000" in err and "TB" in err

    def boom(task, progress=False):
        raise MemoryError

    monkeypatch.setattr("analysis.experiments.sweep.execute_task", boom)
    assert main(["sample", "SK", "Metropolis", "-p", "n=8", "-p", "T=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spinglass: error: out of memory") and "\n" not in err


@pytest.mark.parametrize("driver", [StochasticLocalization, Autoregressive])
def test_drivers_refuse_a_missing_denoiser_at_construction(driver):
    with pytest.raises(TypeError, match=f"denoiser: {driver.name} needs a Denoiser"):
        driver(None)
    with pytest.raises(ValueError, match="exactly one of denoiser and velocity"):
        StochasticInterpolant(None)


def test_complex_couplings_and_fields_are_refused():
    with pytest.raises(TypeError, match="couplings must be real"):
        sg.PairwiseModel(np.zeros((3, 3), dtype=complex))
    with pytest.raises(TypeError, match="couplings must be real"):
        sg.PairwiseModel(sp.csr_matrix(np.array([[0, 1j], [1j, 0]])))
    with pytest.raises(TypeError, match="fields must be real"):
        sg.PairwiseModel(np.zeros((2, 2)), fields=[1j, 0])


def test_energy_of_non_finite_configurations_is_an_error():
    model = sg.SK(4, 1.0, seed=0)
    with pytest.raises(ValueError, match="x must be finite, got nan at row 1, site 2"):
        model.energy(np.array([[1, 1, 1, 1], [1, -1, np.nan, 1]]))
    with pytest.raises(ValueError, match="x must be finite"):
        model.log_weight(np.array([1, np.inf, 1, 1]))


def test_garbage_checkpoint_is_a_value_error(tmp_path):
    from samplers.neural import MADE, load_checkpoint

    path = tmp_path / "bad.pt"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="is not a checkpoint written by save_checkpoint"):
        load_checkpoint(path, MADE(3, 2))


def test_free_entropy_helpers_check_their_ranges():
    prior = sg.Rademacher()
    with pytest.raises(ValueError, match=r"theta must be in \[0, 1\], got 1.5"):
        erasure_path_potential(prior, 2, 1.0, 0.5, 1.5)
    with pytest.raises(ValueError, match="Delta must be > 0"):
        gaussian_path_potential(prior, 2, 0.0, 0.5, 0.1)
    with pytest.raises(ValueError, match="s must be >= 0 and finite"):
        gaussian_path_potential(prior, 2, 1.0, 0.5, -0.1)
    with pytest.raises(ValueError, match="lam must be >= 0 and finite"):
        signal_path_potential(prior, 2, 0.5, -1.0)
    with pytest.raises(ValueError, match="p must be >= 2"):
        signal_path_potential(prior, 1, 0.5, 1.0)
    # the valid ends of the ranges still work
    assert np.isfinite(erasure_path_potential(prior, 2, 1.0, 0.5, np.array([0.0, 1.0]))).all()
