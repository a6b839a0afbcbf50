"""The HTML report of the run and local JupyterLab, seen in a real headless Chromium (make test runs this
after the notebooks; maintainer/matrix.py passes the options of conftest.py).

A missing browser fails these checks with the command that installs it; they are never skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from dlwp_utils.backend import parse_backends
from maintainer import browser, layout


def test_the_report_lists_every_notebook_and_backend_and_opens_a_rendered_notebook(request, results: Path,
                                                                                   html_index: Path) -> None:
    rows = json.loads(layout.report_json(results).read_text(encoding="utf-8"))
    notebooks = [layout.relative(Path(p)).as_posix() for p in request.config.getoption("--notebooks").split(",") if p]
    expected = browser.expected_cells(rows, notebooks, parse_backends(request.config.getoption("--backends")))
    seen = browser.check_report(html_index, expected, screenshot=html_index.parent / "index.png")
    assert seen.decoded_images >= 1 and not seen.external_requests
    print(f"{len(seen.cells)} cells; opened {seen.opened} with {seen.decoded_images} images, in {seen.seconds:.1f} s")


def test_local_jupyterlab_shows_the_chapter_folders() -> None:
    chapters = sorted({nb.parent.name for nb in layout.chapter_notebooks()})
    seen = browser.check_jupyterlab(layout.REPO_ROOT, chapters)
    assert set(chapters) <= set(seen.entries)
