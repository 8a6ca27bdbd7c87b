"""The ready sweep specs shipped with the package: one per model family and one for the generative samplers."""

from __future__ import annotations

import pytest

from analysis.cli import main
from analysis.experiments.sweep_spec import MODELS, SpecError, load_spec, packaged_specs

READY = packaged_specs()


def test_every_model_family_has_a_ready_spec_and_so_do_the_generative_samplers():
    families = {load_spec(p).family for p in READY.values()}
    assert families == set(MODELS)
    generative = load_spec(READY["generative"])
    assert {s.name for s in generative.samplers} == {"StochasticLocalization", "StochasticInterpolant",
                                                      "Autoregressive"}


@pytest.mark.parametrize("name", list(READY))
def test_ready_spec_validates_and_is_small(name):
    spec = load_spec(name)                     # by name: no such file here, so the packaged one
    assert spec.name and spec.description
    assert 1 <= spec.n_tasks <= 60             # ready specs run in minutes on a laptop


def test_list_and_unknown_names(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in READY)
    with pytest.raises(SpecError, match="packaged specs: curie_weiss"):
        load_spec("no_such_spec")
    assert main(["sweep"]) == 2
    assert "spinglass sweep --list" in capsys.readouterr().err
