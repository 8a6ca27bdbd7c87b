"""Every notebook in notebooks/ is stored without outputs and executes without error at a small size.

Each notebook's first code cell reads its size parameter from the environment variable
``SPINGLASS_NOTEBOOK_SIZE``; this test sets it small.  New notebooks are picked up automatically.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SMALL_SIZE = "6"
#: A code cell that draws: it must show at least one image when executed.  A Figure built without pyplot
#: (the toolkit's plots) is not shown by itself: the notebook calls set_matplotlib_formats("png") once and
#: ends such a cell with the figure.
DRAWS = re.compile(r"plt\.(subplots|figure)\(|_figure\(|\.plot\(|\bplot_[a-z_]+\(")


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


@pytest.mark.slow
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
    blank = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and DRAWS.search(c.source)
             and not any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert not blank, f"{path.name}: cells {blank} draw a figure but show no image"


@pytest.mark.slow
def test_the_image_check_catches_a_cell_whose_figure_is_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from matplotlib.figure import Figure\nfig = Figure()\nfig.subplots().plot([1, 2])"),
        nbformat.v4.new_code_cell("from matplotlib_inline.backend_inline import set_matplotlib_formats\n"
                                  "set_matplotlib_formats('png')\nfig"),
    ])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    first, second = nb.cells
    assert DRAWS.search(first.source) and not any("image/png" in o.get("data", {}) for o in first.outputs)
    assert any("image/png" in o.get("data", {}) for o in second.outputs)
