"""pytest glue for running the notebooks under nbval (maintainer/matrix.py, behind `make test`).

1. Committed notebooks carry no execution counts, but nbval only compares the stored output
   of a cell that has one; each checked cell gets a count in memory before it runs.
2. Each notebook's kernel starts in a fresh, empty working directory: with `--dlwp-out OUT`,
   the notebook's working folder under OUT (maintainer.layout.work_dir, emptied first), else a
   new temporary folder. A notebook must not depend on files beside it or left by an earlier
   run, and it never writes into the source tree.
3. With `--dlwp-out OUT`, every notebook nbval runs is saved (maintainer.layout.executed) with its
   fresh outputs and its seconds, so that the results check can read the metrics it recorded and
   the matrix can print the time per notebook x backend. The backend is the kernel's KERAS_BACKEND.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from maintainer import layout

_runs: dict[str, dict] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--dlwp-out", type=Path, default=None, metavar="OUT",
                     help="save executed notebooks, and keep the kernels' working folders, under OUT")


def pytest_configure(config: pytest.Config) -> None:
    try:
        import nbval.plugin
    except ImportError:
        return
    out = config.getoption("--dlwp-out")
    _NotebookTracker.out = out.resolve() if out else None
    if getattr(nbval.plugin.RunningKernel, "fresh_working_directory", False):
        return

    class FreshDirectoryKernel(nbval.plugin.RunningKernel):
        fresh_working_directory = True

        def __init__(self, kernel_name, cwd=None, **kwargs):
            super().__init__(kernel_name, cwd=_fresh_directory(), **kwargs)

    nbval.plugin.RunningKernel = FreshDirectoryKernel
    config.pluginmanager.register(_NotebookTracker(), "dlwp-notebook-tracker")


class _NotebookTracker:
    """Remembers which notebook nbval is about to start a kernel for, and where runs are saved."""

    current: Path | None = None
    out: Path | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if _is_nbval_cell(item):
            _NotebookTracker.current = Path(str(item.fspath)).resolve()


def _backend() -> str:
    return os.environ.get("KERAS_BACKEND", "")


def _fresh_directory() -> str:
    """An empty working folder for the notebook about to run (see the module docstring)."""
    notebook, out = _NotebookTracker.current, _NotebookTracker.out
    if out is None or notebook is None:
        return tempfile.mkdtemp(prefix="dlwp-notebook-")
    folder = layout.work_dir(out, _backend(), notebook)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return str(folder)


def _is_nbval_cell(item: pytest.Item) -> bool:
    return type(item).__name__ == "IPyNbCell"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _is_nbval_cell(item) and item.cell.get("outputs") and item.cell.get("execution_count") is None:
            item.cell.execution_count = 1


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    yield
    out = _NotebookTracker.out
    if out is None or not _is_nbval_cell(item):
        return
    path = Path(str(item.fspath)).resolve()
    run = _runs.setdefault(str(path), {"seconds": 0.0, "outputs": {}, "failed": []})
    run["seconds"] += call.duration  # setup of the first cell includes the kernel's start
    if call.when == "call":
        run["outputs"][item.cell_num] = [dict(o) for o in (item.test_outputs or [])]
        if call.excinfo is not None:
            run["failed"].append(item.cell_num)
    _save(path, run, out)


def _save(path: Path, run: dict, out: Path) -> None:
    """Write the executed notebook: the source notebook with this run's outputs."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    code_cells = [cell for cell in nb["cells"] if cell.get("cell_type") == "code"]
    for number, cell in enumerate(code_cells):  # nbval numbers code cells only
        cell["outputs"] = run["outputs"].get(number, [])
    nb["metadata"]["dlwp"] = {"backend": _backend(), "seconds": round(run["seconds"], 1), "failed_cells": run["failed"]}
    target = layout.executed(out, _backend(), path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(nb, indent=1, default=str) + "\n", encoding="utf-8")
