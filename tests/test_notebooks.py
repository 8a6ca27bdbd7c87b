"""Every notebook in notebooks/ is stored without outputs and executes without error at a small size.

Each notebook's first code cell reads its size parameter from the environment variable
``SPINGLASS_NOTEBOOK_SIZE``; this test sets it small.  New notebooks are picked up automatically.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SMALL_SIZE = "6"


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs_and_reads_its_size(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    for cell in code:
        assert not cell.outputs and cell.execution_count is None, f"{path.name}: outputs stored; clear them"
    assert "SPINGLASS_NOTEBOOK_SIZE" in code[0].source, f"{path.name}: first code cell must read the size"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_at_small_size(path, tmp_path, monkeypatch):
    monkeypatch.setenv("SPINGLASS_NOTEBOOK_SIZE", SMALL_SIZE)
    # the kernel imports the checked-out packages even when they are not installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
