"""The example notebooks run from top to bottom (on small data, one epoch).

Each notebook reads ``CNFORECAST_NOTEBOOK_FAST=1`` in its first cell and switches to a few
hundred rows and a tiny model. The notebooks are committed without outputs; this test also
checks that.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
CELL_TIMEOUT_S = 300


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "backtest.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, path.name


def execute(path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a notebook in fast mode in a fresh python3 kernel; fail on any cell error."""
    from nbclient import NotebookClient

    monkeypatch.setenv("CNFORECAST_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch, tmp_path):
    monkeypatch.delenv("CNFORECAST_DATA", raising=False)  # synthetic data: fast and offline
    execute(path, tmp_path, monkeypatch)


@pytest.mark.slow
@pytest.mark.data
def test_quickstart_on_etth1(benchmark_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("CNFORECAST_DATA", str(benchmark_data_dir))
    execute(EXAMPLES / "quickstart.ipynb", tmp_path, monkeypatch)
