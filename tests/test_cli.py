"""The ``spinglass`` command line: help, malformed specs (one line, exit 2), sample, sweep and plot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.experiments import results

REPO = Path(__file__).resolve().parents[1]

GOOD = """
name = "cli"
seeds = [0, 1]
metrics = ["energy", "abs_magnetization", "ess_energy", "wall_time"]
[model]
family = "CurieWeiss"
n = 32
[grid]
T = [0.8, 1.6]
[[samplers]]
name = "Metropolis"
n_samples = 16
n_chains = 4
sweeps = 60
thin = 2
"""


@pytest.mark.parametrize("command", ["demo", "sweep", "sample", "plot"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"usage: spinglass {command}" in capsys.readouterr().out


# (replacement applied to GOOD, text that must appear in the one-line error: the key and the bad value)
MALFORMED = [
    (('family = "CurieWeiss"', 'family = "Ising"'), ["model.family", "'Ising'", "unknown model family"]),
    (("T = [0.8, 1.6]", "T = []"), ["grid.T", "empty grid", "[]"]),
    (("n = 32", 'n = "32"'), ["model.n", "must be an integer", "'32'"]),
    (("n = 32", "n = 32.5"), ["model.n", "must be an integer", "32.5"]),
    (("T = [0.8, 1.6]", "T = [0.8, -1.0]"), ["grid.T[1]", "must be > 0", "-1.0"]),
    (("T = [0.8, 1.6]", "T = {start = 0.5, stop = 2.0}"), ["grid.T.num", "missing"]),
    (('name = "Metropolis"', 'name = "Gibbs"'), ["samplers[0].name", "unknown sampler", "'Gibbs'"]),
    (("sweeps = 60", "sweeps = -5"), ["samplers[0]", "sweeps", "-5"]),
    (("thin = 2", "thinning = 2"), ["samplers[0].thinning", "unknown key", "2"]),
    (("n_samples = 16", "n_samples = 18"), ["samplers[0].n_samples", "multiple of n_chains", "18"]),
    (('"wall_time"]', '"wall_time", "speed"]'), ["metrics[4]", "unknown metric", "'speed'"]),
    (('"wall_time"]', '"wall_time", "overlap"]'), ["metrics", "'overlap'", "planted"]),
    (('name = "cli"', 'name = "cli"\nseed = 3'), ["seed", "unknown key", "3"]),
    (("seeds = [0, 1]", "seeds = [0, 0]"), ["seeds", "duplicated", "0"]),
    (("[grid]", "[grid\n"), ["invalid TOML"]),
]


@pytest.mark.parametrize(("replace", "expected"), MALFORMED, ids=[m[1][0] for m in MALFORMED])
def test_malformed_specs_give_one_line_naming_the_key(tmp_path, capsys, replace, expected):
    old, new = replace
    assert old in GOOD
    spec = tmp_path / "bad.toml"
    spec.write_text(GOOD.replace(old, new, 1))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("spinglass: error: ") and err.count("\n") == 1, err
    assert str(spec) in err
    for text in expected:
        assert text in err, (text, err)
    assert not (tmp_path / "out").exists()  # validation happens before anything runs


def test_missing_spec_file_is_one_line(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.toml" in err and "cannot read" in err


def test_bad_spec_through_the_real_process_exits_2_with_one_line(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text(GOOD.replace("T = [0.8, 1.6]", "T = []"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "analysis.cli", "sweep", str(spec)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "grid.T: empty grid" in proc.stderr


def test_sweep_then_plot(tmp_path, capsys):
    spec = tmp_path / "good.toml"
    spec.write_text(GOOD)
    out = tmp_path / "res.parquet"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "sweep 'cli': 4 tasks: 4 run, 0 already done, 0 failed" in printed
    assert len(results.load(out)) == 4 * 4
    assert main(["plot", str(out), "--metric", "energy", "--metric", "abs_magnetization"]) == 0
    png = tmp_path / "res-energy-abs_magnetization.png"  # default name next to the dataset; x = the swept T
    assert png.stat().st_size > 5_000
    assert main(["plot", str(out), "--efficiency", "--out", str(tmp_path / "eff.png")]) == 0
    assert (tmp_path / "eff.png").stat().st_size > 5_000
    capsys.readouterr()
    assert main(["plot", str(out), "--metric", "overlap"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'overlap' is not in the results" in err
    assert main(["plot", str(tmp_path / "missing.parquet")]) == 2


def test_sample_prints_metrics(tmp_path, capsys):
    argv = ["sample", "SpikedWigner", "HeatBath", "-p", "n=40", "-p", "lam=3", "-p", "prior=sparse_rademacher",
            "-p", "rho=0.5", "-s", "sweeps=50", "-s", "n_chains=4", "--n-samples", "8", "--seed", "2",
            "--out", str(tmp_path / "one")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "SpikedWigner(n=40, lam=3.0, prior=sparse_rademacher, rho=0.5), seed 2" in out
    for metric in ("energy", "overlap", "nishimori_gap", "tau_int_energy", "wall_time"):
        assert f"  {metric} " in out
    df = results.load(tmp_path / "one")
    assert set(df["seed"]) == {2} and set(df["lam"]) == {3.0}
    assert main(["sample", "SpikedWigner", "HeatBath", "-p", "n=40"]) == 2
    assert "model.lam: missing" in capsys.readouterr().err


HEAVY = ("numpy", "numba", "scipy", "torch", "pandas", "matplotlib")


@pytest.mark.parametrize("argv", [["--help"], ["sweep", "--help"], ["sample", "--help"], ["reproduce", "--help"],
                                  ["plot", "--help"], ["nonsense"], ["sweep"], ["sample", "SK", "Metropolis", "-x"]])
def test_help_and_argument_errors_import_no_numeric_stack(argv):
    """``spinglass --help`` and argparse errors must be instant: the numeric stack is imported only to run."""
    code = (f"import sys\nfrom analysis.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:", out.stdout[-300:]


def test_sample_list_and_missing_arguments(capsys):
    assert main(["sample", "--list"]) == 0
    text = capsys.readouterr().out
    assert "models: CurieWeiss" in text and "Metropolis" in text
    assert main(["sample", "SK"]) == 2
    assert "give MODEL and SAMPLER" in capsys.readouterr().err


@pytest.mark.slow
def test_warmup_compiles_every_family_and_reports_each(capsys):
    from analysis.experiments.warmup import FAMILIES

    assert main(["warmup"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(FAMILIES) + 1
    assert all(name in "\n".join(lines) for name in FAMILIES) and " s  in all " in lines[-1]
