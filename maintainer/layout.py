"""Where things live in this repository: the one module that knows its layout.

    chapterNN/<name>.ipynb                     a chapter notebook (its source)
    <out>/<backend>/chapterNN/<name>.ipynb     that notebook executed on one backend
    <out>/<backend>/chapterNN/<name>.log       what the runner's papermill (or make test's pytest) printed
    <out>/<backend>/chapterNN/<name>.work/     the folder the notebook's kernel worked in
    <out>/report.json, report.md               the run report (make run: <out> = build)
    build/index.html, build/notebooks/...      the HTML report of the last run, and its rendered notebooks

`make test` uses <out> = build/test, build/test/rerun for its second run, build/test/book for its
book path (the book profile from the tests' mirror), and writes its steps' seconds to build/test/steps.json. build/compile-cache/ keeps compiled programs from one run to the
next (maintainer.compile_cache).
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD = REPO_ROOT / "build"
TEST_OUT = BUILD / "test"  # make test's executed notebooks
COMPILE_CACHE = BUILD / "compile-cache"  # JAX's and torch.compile's compiled programs, kept between runs
RERUN = "rerun"  # the second run's folder, inside the first run's
RERUN_FIRST = "rerun-first"  # the first of a second-run pair at smaller counts (matrix.SECOND_RUN), beside it
BOOK_PATH = "book"  # the book path's folder (its runs, fixtures, mirror and cache), inside make test's


def chapter_notebooks(root: Path = REPO_ROOT) -> list[Path]:
    """Every chapter notebook, in chapter order."""
    return sorted(p for p in root.glob("chapter*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def relative(notebook: Path, root: Path = REPO_ROOT) -> Path:
    """A notebook's name in reports and executed folders: its path in the repository, else its bare name."""
    path = Path(notebook).resolve()
    return path.relative_to(root) if path.is_relative_to(root) else Path(path.name)


def executed(out: Path, backend: str, notebook: Path) -> Path:
    """Where `notebook`, executed on `backend`, is saved under the output folder `out`."""
    return Path(out) / backend / relative(notebook)


def log(out: Path, backend: str, notebook: Path) -> Path:
    """The log of one notebook on one backend: papermill's in make run, nbval's in make test."""
    return executed(out, backend, notebook).with_suffix(".log")


def work_dir(out: Path, backend: str, notebook: Path) -> Path:
    """The working folder of `notebook`'s kernel on `backend` (its checkpoints, subsets, features)."""
    return executed(out, backend, notebook).with_suffix(".work")


def report_json(out: Path) -> Path:
    """The run report for programs."""
    return Path(out) / "report.json"


def report_md(out: Path) -> Path:
    """The run report as a Markdown table."""
    return Path(out) / "report.md"


def steps_json(out: Path) -> Path:
    """Seconds per step of a `make test` run."""
    return Path(out) / "steps.json"


def rendered(html_dir: Path, backend: str, notebook: Path) -> Path:
    """Where the HTML report keeps `notebook`, executed on `backend`, rendered."""
    return Path(html_dir) / "notebooks" / backend / relative(notebook).with_suffix(".html")
