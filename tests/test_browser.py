"""maintainer.browser in a real headless Chromium: each check fails on what it must catch. These tests
fail, never skip, when Chromium is missing (`.ci/run` installs it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maintainer import browser as bc
from maintainer import report as hr
from tests.report_fixtures import BACKENDS, FAILING, PASSING, build, executed_notebook  # noqa: F401 (build: a fixture)


@pytest.fixture
def report(build, tmp_path: Path) -> tuple[Path, list[dict]]:
    build_dir, rows = build
    return hr.write_html_report(rows, tmp_path / "html", None, build_dir=build_dir), rows


def test_chromium_is_installed():
    """Fails with the install command when it is not: the other checks would fail the same way."""
    assert Path(bc.find_chromium()).exists()


def test_a_missing_browser_fails_clearly(monkeypatch):
    with pytest.raises(bc.BrowserMissing, match="apt-get install -y chromium"):
        bc.find_chromium("/nonexistent/chromium")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("DLWP_CHROMIUM", raising=False)
    with pytest.raises(bc.BrowserMissing, match="apt-get install -y chromium"):
        bc.Chromium()


def test_the_report_shows_every_run_and_a_link_opens_a_notebook_with_a_plot(report, tmp_path: Path):
    index, rows = report
    shot = tmp_path / "index.png"
    result = bc.check_report(index, bc.expected_cells(rows, [PASSING, FAILING], BACKENDS), screenshot=shot)
    assert len(result.cells) == 6 and result.images >= 1 and result.decoded_images >= 1
    assert result.opened.endswith(".html") and "/notebooks/" in result.opened
    assert result.external_requests == []
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_a_run_missing_from_the_report_fails_the_check(build, tmp_path: Path):
    build_dir, rows = build
    kept = [r for r in rows if not (r["notebook"] == FAILING and r["backend"] == "jax")]
    index = hr.write_html_report(kept, tmp_path / "html", None, build_dir=build_dir)
    with pytest.raises(bc.CheckFailed, match=f"{FAILING} on jax as not run"):
        bc.check_report(index, bc.expected_cells(rows))  # every run the runner made must show
    # A notebook absent from every backend has no row in the grid at all.
    only_passing = [r for r in rows if r["notebook"] == PASSING]
    index = hr.write_html_report(only_passing, tmp_path / "html2", None, build_dir=build_dir)
    with pytest.raises(bc.CheckFailed, match=f"no cell for {FAILING} on torch"):
        bc.check_report(index, bc.expected_cells(only_passing, [PASSING, FAILING], BACKENDS))


def test_a_notebook_without_plots_fails_the_check(tmp_path: Path):
    path = tmp_path / "build" / "jax" / PASSING
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(executed_notebook(image=False)))
    rows = [{"notebook": PASSING, "backend": "jax", "status": "passed", "seconds": 1.0, "metrics": {},
             "problem": "", "output": str(path)}]
    index = hr.write_html_report(rows, tmp_path / "html", None)
    with pytest.raises(bc.CheckFailed, match="has no <img>"):
        bc.check_report(index, bc.expected_cells(rows))


@pytest.fixture(scope="module")
def lab_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    for chapter in ("chapter02", "chapter08"):
        (root / chapter).mkdir()
        (root / chapter / f"{chapter}_x.ipynb").write_text(json.dumps(executed_notebook()))
    (root / "README.md").write_text("# repo\n")
    return root


def test_jupyterlab_check_fails_for_a_missing_chapter(lab_root: Path):
    with pytest.raises(bc.CheckFailed, match="does not list chapter11"):
        bc.check_jupyterlab(lab_root, ["chapter02", "chapter11"], timeout=60, settle=3)
    assert not any(p.name.startswith(".") for p in lab_root.rglob("*"))  # nothing written in the root
