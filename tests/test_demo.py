"""The quickstart job and the command line, at a small size."""

from __future__ import annotations

import csv
import json

from analysis.cli import main


def test_demo_writes_table_json_and_png(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--L", "8", "--sweeps", "600", "--chains", "2"]) == 0
    printed = capsys.readouterr().out
    assert "Onsager" in printed and "HeatBath" in printed
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert len(rows) == 14  # 7 temperatures x 2 samplers
    meta = json.loads((out / "results.json").read_text())["meta"]
    assert meta["seed"] == 0 and meta["version"]
    assert (out / "ising2d.png").stat().st_size > 10_000
    # at T = 3.4 (far above T_c) the L = 8 energy is within 0.03 of Onsager's
    hot = [r for r in rows if float(r["T"]) == 3.4]
    assert all(abs(float(r["energy"]) - float(r["onsager"])) < 0.03 for r in hot)


def test_cli_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--L", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spinglass: error:") and "shape" in err and err.count("\n") == 1
