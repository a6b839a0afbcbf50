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
4. With `--dlwp-out`, a line per finished notebook: k of N, the time elapsed, and the time left
   estimated from the committed baseline's seconds (maintainer.baseline).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from maintainer import baseline, layout
from maintainer.progress import Progress

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
    if out is not None and not hasattr(config, "workerinput"):  # xdist's controller, or no xdist
        config.pluginmanager.register(_NotebookProgress(config), "dlwp-notebook-progress")


class _NotebookTracker:
    """Remembers which notebook nbval is about to start a kernel for, and where runs are saved."""

    current: Path | None = None
    out: Path | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if _is_nbval_cell(item):
            _NotebookTracker.current = Path(str(item.fspath)).resolve()


class _NotebookProgress:
    """Prints a line when a notebook's last cell has run: k of N notebooks, elapsed, time left."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.cells: dict[str, int] = {}  # notebook -> its number of code cells (nbval's items)
        self.progress: Progress | None = None
        self.index: dict[str, int] = {}

    @pytest.hookimpl
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._start([item.nodeid.split("::")[0] for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        if self.progress is None:
            self._start([nodeid.split("::")[0] for nodeid in ids])

    def _start(self, paths: list[str]) -> None:
        notebooks = [p for p in dict.fromkeys(paths) if p.endswith(".ipynb")]
        self.cells = {p: paths.count(p) for p in notebooks}
        self.index = {p: i for i, p in enumerate(notebooks)}
        workers = getattr(self.config.option, "numprocesses", None) or 1
        self.progress = Progress([baseline.expected_seconds(layout.relative(Path(p)).as_posix(), _backend())
                                  for p in notebooks], parallel=int(workers))
        self.seconds = dict.fromkeys(notebooks, 0.0)
        self.seen = dict.fromkeys(notebooks, 0)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        path = report.nodeid.split("::")[0]
        if self.progress is None or path not in self.cells:
            return
        self.seconds[path] += report.duration
        if report.when == "teardown":
            self.seen[path] += 1
            if self.seen[path] == self.cells[path]:
                line = self.progress.done(self.index[path], self.seconds[path])
                reporter = self.config.pluginmanager.get_plugin("terminalreporter")
                if reporter is not None:
                    reporter.write_line(f"{line}  {path} on {_backend()} in {self.seconds[path]:.0f} s")


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
