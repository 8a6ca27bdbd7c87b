"""The quickstart job (a small sweep end to end: Parquet + PNG) and the command line's error format."""

from __future__ import annotations

import pandas as pd

import spinglass
from analysis.cli import main
from analysis.experiments import results
from analysis.experiments.demo import demo_spec_text


def test_demo_writes_parquet_and_pngs_and_resumes(tmp_path, capsys):
    out = tmp_path / "demo"
    argv = ["demo", "--out", str(out), "--L", "8", "--sweeps", "300", "--chains", "2", "--workers", "1",
            "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Onsager" in printed and "HeatBath" in printed and "42 run, 0 already done" in printed
    df = results.load(out / "results.parquet")
    assert isinstance(df, pd.DataFrame)
    assert df["task_id"].nunique() == 42  # 7 temperatures x 3 seeds x 2 samplers
    assert set(df["seed"]) == {0, 1, 2} and set(df["L"]) == {8} and set(df["version"]) == {spinglass.__version__}
    for png in ("ising2d.png", "efficiency.png"):
        assert (out / png).stat().st_size > 10_000
    # at T = 3.4 (far above T_c) the L = 8 energy per spin is within 0.03 of Onsager's (-0.6860)
    hot = df[(df["T"] == 3.4) & (df["metric"] == "energy_trace")]
    assert len(hot) == 6 and (abs(hot["value"] + 0.6860) < 0.03).all()
    # a second run finds every task done
    assert main(argv) == 0
    assert "0 run, 42 already done" in capsys.readouterr().out


def test_demo_spec_is_package_data():
    assert 'family = "EdwardsAnderson"' in demo_spec_text()


def test_cli_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--L", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spinglass: error:") and "model.L" in err and "2" in err and err.count("\n") == 1
