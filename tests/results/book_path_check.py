"""The book path's check (maintainer/matrix.py runs it on build/test/book): every notebook ran in the book
profile from the tests' mirror on every backend, every code cell ran and completed, and every book-only
branch (tests/book_path/plan.py's BOOK_ONLY) printed its line.

    python -m pytest tests/results/book_path_check.py --results build/test/book
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from maintainer import layout
from tests.book_path.plan import BOOK_ONLY, PARAMETERS, book_only_found


def executed_cells(results: Path, notebook: str, backend: str) -> list[dict]:
    """The code cells of the executed notebook; fails the test if it was not saved."""
    path = layout.executed(results, backend, layout.REPO_ROOT / notebook)
    if not path.is_file():
        pytest.fail(f"{notebook} on {backend}: no executed notebook at {layout.relative(path)} (see the .log beside it)")
    return [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]


def printed(cells: list[dict]) -> str:
    """Everything the cells printed (stdout and stderr streams)."""
    return "".join("".join(out.get("text", "")) for cell in cells for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream")


def test_every_notebook_has_a_book_path():
    names = {layout.relative(nb).as_posix() for nb in layout.chapter_notebooks()}
    assert names == set(PARAMETERS) == set(BOOK_ONLY), "a notebook without a book path (tests/book_path/plan.py)"


def test_every_code_cell_ran_and_completed(results, notebook, backend):
    cells = executed_cells(results, notebook, backend)
    not_run = [i for i, cell in enumerate(cells) if cell.get("metadata", {}).get("papermill", {}).get("status")
               != "completed" or cell.get("execution_count") is None]
    errors = [i for i, cell in enumerate(cells) for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not not_run and not errors, (f"{notebook} on {backend}, book profile: code cells not run {not_run}, "
                                        f"cells with an error {errors}")


def test_the_book_only_branches_ran(results, notebook, backend):
    found = book_only_found(notebook, printed(executed_cells(results, notebook, backend)))
    missing = [pattern for pattern, line in found.items() if line is None]
    assert not missing, f"{notebook} on {backend}: the book-only lines {missing} were not printed"


def test_nothing_came_from_the_internet_or_the_embedded_stand_ins(results, notebook, backend):
    text = printed(executed_cells(results, notebook, backend))
    assert not re.search(r"embedded stand-in|embedded look-alike|embedded tiny Gemma|Downloading data from", text), (
        f"{notebook} on {backend}: the book profile used a stand-in or downloaded from the internet")
