"""dlwp_utils.hygiene: the committed notebooks are clean, and each rule catches what it should."""

from __future__ import annotations

import copy
import json

import pytest

from dlwp_utils import hygiene
from dlwp_utils.hygiene import CHECK_MARK, chapter_notebooks, check_notebook, check_readme, clean_notebook


def test_every_committed_notebook_is_clean():
    notebooks = chapter_notebooks()
    assert notebooks, "no chapter notebooks found"
    problems = [p for nb in notebooks for p in check_notebook(nb)] + check_readme(notebooks)
    assert problems == []


def _good() -> dict:
    code = lambda text, **kw: {"cell_type": "code", "execution_count": None, "metadata": kw.get("meta", {}),
                               "outputs": kw.get("outputs", []), "source": text}
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"colab": {"provenance": []}, "kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
            code(hygiene.setup_cell()),
            code("PROFILE = None", meta={"tags": ["parameters"]}),
            code(f"{CHECK_MARK}\nprint(1)", outputs=[{"output_type": "stream", "name": "stdout", "text": "1\n"}]),
            code("dlwp.record_metric('test_accuracy', 1.0)"),
        ],
    }


def _problems(nb, tmp_path) -> list[str]:
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    return check_notebook(path)


def test_a_good_notebook_has_no_problems(tmp_path):
    assert _problems(_good(), tmp_path) == []


def _break(change):
    nb = _good()
    change(nb)
    return nb


@pytest.mark.parametrize(("change", "expected"), [
    (lambda nb: nb["cells"][4].update(execution_count=3), "has an execution count"),
    (lambda nb: nb["cells"][4].update(outputs=[{"output_type": "stream", "text": "x"}]), "has outputs but is not marked"),
    (lambda nb: nb["cells"][3].update(outputs=[]), "stores no output"),
    (lambda nb: nb["cells"][3]["outputs"].append({"output_type": "stream", "name": "stderr", "text": "I0000 log"}),
     "stores stderr"),
    (lambda nb: nb["cells"][2]["metadata"].clear(), "0 cells are tagged 'parameters'"),
    (lambda nb: nb["cells"][1].update(source="import dlwp_utils"), "not the standard setup cell"),
    (lambda nb: nb["metadata"].pop("colab"), "no Colab metadata"),
    (lambda nb: nb["cells"][4].update(source="# NBVAL_SKIP\nx = 1"), "NBVAL_SKIP"),
    (lambda nb: nb["cells"][4].update(source="x = 1"), "records no metric"),
    (lambda nb: nb["cells"][4].update(source="record_metric(1)\nKAGGLE_KEY = '0123456789abcdef0123'"), "credential"),
])
def test_each_rule_catches_its_problem(tmp_path, change, expected):
    problems = _problems(_break(change), tmp_path)
    assert any(expected in p for p in problems), problems


def test_clean_keeps_checked_outputs_and_drops_the_rest(tmp_path):
    nb = _good()
    dirty = copy.deepcopy(nb)
    dirty["cells"][4].update(execution_count=7, outputs=[{"output_type": "stream", "text": "noise"}])
    dirty["cells"][3]["outputs"][0]["metadata"] = {"x": 1}
    dirty["cells"][3]["metadata"]["papermill"] = {"status": "completed"}
    cleaned = clean_notebook(dirty)
    assert _problems(cleaned, tmp_path) == []
    assert cleaned["cells"][3]["outputs"][0]["text"] == "1\n"


def test_readme_must_link_every_notebook_to_colab(tmp_path):
    (tmp_path / "pyproject.toml").write_text((hygiene.REPO_ROOT / "pyproject.toml").read_text())
    notebook = tmp_path / "chapter99" / "chapter99_new.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    (tmp_path / "README.md").write_text("# No table yet\n")
    problems = check_readme([notebook], root=tmp_path)
    assert len(problems) == 1 and "chapter99/chapter99_new.ipynb" in problems[0]
    (tmp_path / "README.md").write_text(f"[![Open In Colab](badge.svg)]({hygiene.colab_url(notebook, tmp_path)})\n")
    assert check_readme([notebook], root=tmp_path) == []
