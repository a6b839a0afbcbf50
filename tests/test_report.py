"""maintainer.report: the index page (every run, deltas from the baseline, failures) and the rendered notebooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

from maintainer import report as hr
from maintainer.layout import REPO_ROOT
from tests.report_fixtures import BACKENDS, FAILING, PASSING, build, executed_notebook  # noqa: F401 (build: a fixture)

ROW = {"notebook": PASSING, "backend": "jax", "status": "passed", "seconds": 1.0,
       "metrics": {"test_accuracy": 0.90, "test_mae": 40.0}, "problem": "", "output": ""}


def cells_of(page: str) -> dict[tuple[str, str], str]:
    found = re.findall(r'<td class="cell [^"]*" data-notebook="([^"]+)" data-backend="([^"]+)" data-status="([^"]+)"', page)
    return {(n, b): s for n, b, s in found}


def test_the_index_lists_every_run_with_deltas_and_failures(build, tmp_path: Path):
    build_dir, rows = build
    baseline = {PASSING: {"jax": {"test_accuracy": 0.95, "test_mae": 40.0}, "torch": {"test_accuracy": 0.85}}}
    timings: dict[str, float] = {}
    index = hr.write_html_report(rows, tmp_path / "html", baseline, {"*_accuracy": 0.02}, build_dir=build_dir, timings=timings)
    page = index.read_text()
    assert cells_of(page) == {(nb, b): ("failed" if (nb, b) == (FAILING, "torch") else "passed")
                              for nb in (PASSING, FAILING) for b in BACKENDS}
    assert 'class="delta drop"' in page and "Δ -0.0500" in page  # jax: 0.95 -> 0.90
    assert 'class="delta improved"' in page and "Δ +0.0500" in page  # torch: 0.85 -> 0.90
    assert "1 metric drop(s) beyond tolerance" in page
    assert "ValueError: shapes differ" in page and "model.fit(x, y)" in page
    assert "\x1b[" not in page  # the traceback's colors are stripped
    assert "failing code cell 2" in page and "#cell-id=boom" in page
    assert hr.external_references(page) == [] and "<script" not in page
    assert timings["render"] > 0


def test_each_cell_links_to_its_rendered_notebook_with_embedded_plots(build, tmp_path: Path):
    build_dir, rows = build
    out = tmp_path / "html"
    page = hr.write_html_report(rows, out, None, build_dir=build_dir).read_text()
    links = re.findall(r'<a class="nb-link" href="([^"]+)"', page)
    assert len(links) == len(rows)
    for row in rows:
        link = f"notebooks/{row['backend']}/{Path(row['notebook']).with_suffix('.html').as_posix()}"
        assert link in links
        rendered = (out / link).read_text()
        assert re.search(r'<img[^>]+src="data:image/png;base64,', rendered)
        assert hr.external_references(rendered) == []  # no CDN: opens offline
        assert not re.search(r"<script[^>]*\bsrc=", rendered) and "mermaid" not in rendered.lower().split("</style>")[-1]
    assert 'id="cell-id=boom"' in (out / "notebooks/torch/chapter03/chapter03_regression.html").read_text()


def test_the_default_nbconvert_template_would_load_from_a_cdn(build):
    """Why OFFLINE_TEMPLATE exists: if nbconvert's default stops doing this, the override can go."""
    from nbconvert import HTMLExporter
    import nbformat

    build_dir, rows = build
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(str(build_dir.parent / rows[0]["output"]), 4))
    assert any("cdnjs" in url for url in hr.external_references(body))


def test_a_missing_executed_notebook_or_run_still_makes_a_report(build, tmp_path: Path):
    build_dir, rows = build
    (build_dir.parent / rows[0]["output"]).unlink()
    rows = rows[:-1]  # torch x FAILING not run at all
    page = hr.write_html_report(rows, tmp_path / "html", None, build_dir=build_dir).read_text()
    assert "no executed notebook was saved" in page
    assert cells_of(page)[(FAILING, "torch")] == "missing"
    assert len(re.findall(r'class="nb-link"', page)) == len(rows) - 1


def test_a_build_folder_left_in_the_working_directory_is_not_this_runs(build, tmp_path: Path, monkeypatch):
    """make run leaves build/<backend>/<notebook> in the repository; a report of another run must not use it."""
    build_dir, rows = build
    (build_dir.parent / rows[0]["output"]).unlink()
    elsewhere = tmp_path / "checkout"
    leftover = elsewhere / rows[0]["output"]  # build/jax/chapter02/..., as make run leaves it
    leftover.parent.mkdir(parents=True)
    leftover.write_text(json.dumps(executed_notebook()))
    monkeypatch.chdir(elsewhere)
    page = hr.write_html_report(rows, tmp_path / "html", None, build_dir=build_dir).read_text()
    assert "no executed notebook was saved" in page
    assert hr.executed_path(rows[0], build_dir) == build_dir / "jax" / PASSING


def test_the_running_cell_of_a_timeout_is_shown(tmp_path: Path):
    nb = executed_notebook()
    nb["cells"][2]["metadata"]["papermill"] = {"start_time": "2026-01-01T00:00:00", "end_time": None}
    path = tmp_path / "build" / "jax" / PASSING
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(nb))
    row = dict(ROW, status="timeout", metrics={}, problem="timed out after 5 s", output=str(path))
    page = hr.write_html_report([row], tmp_path / "html", None).read_text()
    assert "code cell 1, running when it stopped" in page and "plot()" in page


def test_the_page_has_no_mathjax_script(build, tmp_path: Path):
    build_dir, rows = build
    hr.write_html_report(rows[:1], tmp_path / "html", None, build_dir=build_dir)
    page = (tmp_path / "html" / hr.rendered_relpath(rows[0])).read_text()
    assert "MathJax.js" not in page


def test_widget_state_does_not_bring_in_a_cdn_script(build, tmp_path: Path):
    build_dir, rows = build
    path = build_dir.parent / rows[0]["output"]
    nb = json.loads(path.read_text())
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2,
                                                                               "version_minor": 0}}
    path.write_text(json.dumps(nb))
    hr.write_html_report(rows[:1], tmp_path / "html", None, build_dir=build_dir)
    page = (tmp_path / "html" / hr.rendered_relpath(rows[0])).read_text()
    assert hr.external_references(page) == [] and "unpkg" not in page


def test_a_rendered_notebook_leaves_out_the_badges_that_would_load_images_from_the_web(tmp_path):
    import nbformat

    from maintainer import hygiene

    notebook = REPO_ROOT / "chapter02" / "chapter02_mathematical_building_blocks.ipynb"
    header = hygiene.source(json.loads(notebook.read_text())["cells"][0])
    assert hygiene.badges(notebook) in header  # the committed notebook has them
    ipynb = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(header)]), str(ipynb))
    rendered = hr.render_notebook(ipynb, tmp_path / "nb.html").read_text()
    assert hr.external_references(rendered) == [] and "colab-badge.svg" not in rendered
    assert "Chapter 2: The mathematical building blocks" in rendered
