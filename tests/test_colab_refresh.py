"""The weekly job's refresh of Colab's versions, offline against a stored freeze: an unchanged freeze changes
nothing, a changed one writes the differences, and the workflow's last step fails on them."""

from __future__ import annotations

import shutil
import subprocess

import yaml

from maintainer import colab_constraints as cc
from maintainer.layout import REPO_ROOT


def stored_freeze(changes: dict[str, str | None] | None = None) -> str:
    """Colab's freeze as the committed constraints were made from it (pins as `name==version`), with `changes`:
    {name: new version, or None to drop it}."""
    pins = dict(cc.pins(cc.CONSTRAINTS))
    for name, version in (changes or {}).items():
        if version is None:
            pins.pop(name, None)
        else:
            pins[name] = version
    return "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


def refresh(tmp_path, freeze: str) -> list[str]:
    constraints = tmp_path / "colab.txt"
    shutil.copy(cc.CONSTRAINTS, constraints)
    (tmp_path / "freeze.txt").write_text(freeze)
    changes = tmp_path / "colab-changes.txt"
    assert cc.main(["--freeze", str(tmp_path / "freeze.txt"), "-o", str(constraints), "--changes", str(changes)]) == 0
    return changes.read_text().splitlines()


def test_an_unchanged_freeze_reports_no_change(tmp_path):
    assert refresh(tmp_path, stored_freeze()) == []


def test_a_changed_freeze_lists_every_version_that_moved(tmp_path):
    torch = cc.pins(cc.CONSTRAINTS)["torch"]
    lines = refresh(tmp_path, stored_freeze({"torch": "99.0.0", "brand-new-package": "1.0", "keras": None}))
    keras = cc.pins(cc.CONSTRAINTS)["keras"]
    assert lines == ["brand-new-package (new) -> 1.0", f"keras {keras} -> (gone)", f"torch {torch} -> 99.0.0"]


def test_the_weekly_job_refreshes_first_and_fails_last_on_a_change(tmp_path):
    steps = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "test.yml").read_text())["jobs"]["other-versions"]["steps"]
    runs = [step.get("run", "") for step in steps]
    refresh_at = next(i for i, r in enumerate(runs) if "maintainer.colab_constraints --changes" in r)
    test_at = next(i for i, r in enumerate(runs) if r.startswith("make test-"))
    fail_at = next(i for i, r in enumerate(runs) if "colab-changes.txt" in r and r.startswith("test "))
    assert refresh_at < test_at < fail_at and steps[fail_at]["if"].startswith("always()")
    changes = REPO_ROOT / "build" / "colab-changes.txt"
    for content, code in (("", 0), ("torch 2.8.0 -> 99.0.0\n", 1)):
        work = tmp_path / f"run{code}"
        (work / "build").mkdir(parents=True)
        (work / "build" / changes.name).write_text(content)
        done = subprocess.run(["bash", "-c", runs[fail_at]], cwd=work, capture_output=True, text=True)
        assert done.returncode == code and ("99.0.0" in done.stdout) == bool(code)
