"""The course notebooks: committed without outputs, and each runs top to bottom in a fresh kernel.

nbclient, nbformat, ipykernel and ipywidgets come with the ``test`` extra; a missing one is an error, not a skip,
so CI cannot pass without running the notebooks.
"""

import sys
import time
from pathlib import Path

import nbclient
import nbformat
import pytest
from jupyter_client.kernelspec import NATIVE_KERNEL_NAME

from glucosim.plotting.notebook import explore

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 300
"""Per cell; the longest cells simulate three 20-year scenarios (about a minute on a loaded 2-core machine)."""


def test_the_course_is_there():
    names = [path.name[:2] for path in NOTEBOOKS]
    assert names[:7] == ["01", "02", "03", "04", "05", "06", "07"], names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{path.name}: cell {index} has outputs (strip them before committing)"
            assert cell.get("execution_count") is None, f"{path.name}: cell {index} has an execution count"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs(path):
    """Executes every cell in a kernel of this interpreter (the native kernel: the same virtualenv), from notebooks/."""
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name=NATIVE_KERNEL_NAME,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    started = time.perf_counter()
    client.execute()
    print(f"{path.name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    errors = [output for cell in notebook.cells for output in cell.get("outputs", []) if output.output_type == "error"]
    assert not errors


def test_explore_without_widgets_calls_the_function_once(monkeypatch, capsys):
    monkeypatch.setattr("glucosim.plotting.notebook.widgets_available", lambda: False)
    calls = []
    value = explore(lambda reserve: calls.append(reserve) or reserve * 2, reserve=(1.0, 4.0, 0.5, 2.0))
    assert calls == [2.0] and value == 4.0
    assert "ipywidgets" in capsys.readouterr().out
