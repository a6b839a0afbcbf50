"""maintainer/release.py in a scratch clone: the version, the changelog, the tag, and setup cells and badges
that install and open it; and the refusals. The hygiene check keeps the notebooks' ref and the version alike."""

from __future__ import annotations

import json
import subprocess

import pytest

from maintainer import hygiene, release
from maintainer.layout import REPO_ROOT


@pytest.fixture
def clone(tmp_path, monkeypatch):
    """A clone of this repository's committed state, with a git identity for the release commit."""
    for key, value in {"GIT_AUTHOR_NAME": "Release Test", "GIT_AUTHOR_EMAIL": "release@example.org",
                       "GIT_COMMITTER_NAME": "Release Test", "GIT_COMMITTER_EMAIL": "release@example.org"}.items():
        monkeypatch.setenv(key, value)
    target = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(target)], check=True)
    return target


def git(root, *args) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def test_a_release_tags_the_commit_whose_setup_cells_and_badges_point_at_the_tag(clone):
    before = release.package_version(clone)
    tag = release.release("9.8.7", clone, date="2026-12-04")
    assert tag == "v9.8.7" and git(clone, "tag", "--list", "v9.8.7").strip() == "v9.8.7"
    assert git(clone, "rev-list", "-n", "1", "v9.8.7") == git(clone, "rev-parse", "HEAD")
    assert git(clone, "status", "--porcelain") == ""
    assert release.package_version(clone) == "9.8.7" != before
    assert '__version__ = "9.8.7"' in (clone / "dlwp_utils" / "__init__.py").read_text()
    assert hygiene.repository_ref(clone) == "v9.8.7"
    for notebook in hygiene.chapter_notebooks(clone):
        cells = json.loads(notebook.read_text())["cells"]
        setup = next(hygiene.source(c) for c in cells if c["cell_type"] == "code")
        assert "dlwp-keras3-notebooks@v9.8.7" in setup, notebook
        assert "/blob/v9.8.7/" in hygiene.source(cells[0]) and "/blob/main/" not in hygiene.source(cells[0])
    changelog = (clone / "CHANGELOG.md").read_text()
    assert changelog.index("## Unreleased") < changelog.index("## 9.8.7 (2026-12-04)")
    assert hygiene.check_release(clone) == []
    assert all(hygiene.check_notebook(nb, clone) == [] for nb in hygiene.chapter_notebooks(clone))


def test_the_hygiene_check_fails_when_the_ref_and_the_version_disagree(clone):
    release.release("9.8.7", clone, date="2026-12-04")
    pyproject = clone / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "9.8.7"', 'version = "9.8.8"'))
    problems = hygiene.check_release(clone)
    assert any("tag v9.8.7" in p and "9.8.8" in p for p in problems)
    assert any("__version__" in p for p in problems)


def test_a_release_refuses_a_dirty_tree_a_taken_tag_a_bad_version_and_an_empty_changelog(clone):
    with pytest.raises(release.ReleaseError, match="not a version"):
        release.release("2", clone)
    (clone / "scratch.txt").write_text("x")
    with pytest.raises(release.ReleaseError, match="uncommitted changes"):
        release.release("9.8.7", clone)
    (clone / "scratch.txt").unlink()
    git(clone, "tag", "v9.8.7")
    with pytest.raises(release.ReleaseError, match="exists already"):
        release.release("9.8.7", clone)
    with pytest.raises(release.ReleaseError, match="is empty"):
        release.changelog_with_release("# Changelog\n\n## Unreleased\n\n## 0.1.0\n- x\n", "0.2.0", "today")
    assert git(clone, "status", "--porcelain") == ""
