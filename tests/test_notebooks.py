"""Every notebook in notebooks/ runs from top to bottom, on tiny settings, in a scratch directory.

Each notebook is executed by nbclient in a fresh kernel of the Python running the tests, with
``SLEEPJAX_TINY=1`` in its environment; every notebook reads that variable (into ``TINY``) and shrinks
its settings so that it runs in seconds. The kernel's working directory, home and matplotlib
configuration are a temporary directory, and the test checks that no file appeared in the repository
(only new files: edits made to existing files while the suite runs must not fail it).
"""

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TINY_ENV = "SLEEPJAX_TINY"
KERNEL = "sleepjax-test-python"
CELL_TIMEOUT_S = 600
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks


pytestmark = pytest.mark.slow  # minutes: run with python -m pytest -m slow


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {ROOT / 'notebooks'}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_reads_the_tiny_switch(path):
    """A notebook that ignores SLEEPJAX_TINY would run its full settings inside the test suite."""
    code = [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    assert any(TINY_ENV in source for source in code), f"{path.name} never reads {TINY_ENV}"


def repository_files() -> set[str]:
    """Relative paths of every file in the repository outside caches and virtualenvs."""
    skip = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}
    files = set()
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in skip]
        files.update(os.path.relpath(Path(dirpath) / name, ROOT) for name in filenames)
    return files


def install_kernel(jupyter_dir: Path) -> None:
    """A kernelspec that starts ipykernel in this very Python, whatever kernels the machine has."""
    spec_dir = jupyter_dir / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "sleepjax tests", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_on_tiny_settings(path, tmp_path, monkeypatch):
    install_kernel(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv(TINY_ENV, "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("JAX_NUMPY_RANK_PROMOTION", "raise")  # as in the rest of the suite (conftest.py)
    work = tmp_path / "work"
    work.mkdir()

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name=KERNEL, resources={"metadata": {"path": str(work)}}
    )
    before = repository_files()
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{path.name} failed in a cell:\n{ANSI_COLOUR.sub('', str(err))}", pytrace=False)
    created = sorted(repository_files() - before)
    assert not created, f"{path.name} wrote into the repository: {created}"
