"""maintainer.hygiene: the committed notebooks are clean, and each rule catches what it should."""

from __future__ import annotations

import copy
import json

import pytest

from maintainer import hygiene
from maintainer.hygiene import CHECK_TAG, check_notebook, check_readme, check_tables, clean_notebook
from maintainer.layout import REPO_ROOT, chapter_notebooks


def test_every_committed_notebook_is_clean():
    notebooks = chapter_notebooks()
    assert notebooks, "no chapter notebooks found"
    problems = [p for nb in notebooks for p in check_notebook(nb)] + check_readme(notebooks) + check_tables(notebooks)
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
            code("PROFILE = None  # the profile\nEPOCHS = dlwp.by_profile(book=30, embedded=3)  # epochs", meta={"tags": ["parameters"]}),
            code("profile = dlwp.use_profile(PROFILE, settings=globals())"),
            code("print(1)", meta={"tags": [CHECK_TAG]},
                 outputs=[{"output_type": "stream", "name": "stdout", "text": "1\n"}]),
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
    (lambda nb: nb["cells"][5].update(execution_count=3), "has an execution count"),
    (lambda nb: nb["cells"][5].update(outputs=[{"output_type": "stream", "text": "x"}]), "has outputs but is not tagged"),
    (lambda nb: nb["cells"][4].update(outputs=[]), "stores no output"),
    (lambda nb: nb["cells"][4]["outputs"].append({"output_type": "stream", "name": "stderr", "text": "I0000 log"}),
     "stores stderr"),
    (lambda nb: nb["cells"][2]["metadata"].clear(), "0 cells are tagged 'parameters'"),
    (lambda nb: nb["cells"][1].update(source="import dlwp_utils"), "not the standard setup cell"),
    (lambda nb: nb["metadata"].pop("colab"), "no Colab metadata"),
    (lambda nb: nb["cells"][5].update(source="# NBVAL_SKIP\nx = 1"), "NBVAL_SKIP"),
    (lambda nb: nb["cells"][5].update(source="x = 1"), "records no metric"),
    (lambda nb: nb["cells"][5].update(source="record_metric(1)\nKAGGLE_KEY = '0123456789abcdef0123'"), "credential"),
    (lambda nb: nb["cells"][4].update(source="# NBVAL_CHECK_OUTPUT\nprint(1)"), "use the hidden cell tag"),
    (lambda nb: nb["cells"][2].update(source="PROFILE = None\nprint(PROFILE)"), "is not `NAME = value`"),
    (lambda nb: nb["cells"][2].update(source="PROFILE = None\nE = dlwp.by_profile(book=1)"), "exactly book= and embedded="),
    (lambda nb: nb["cells"][2].update(source="EPOCHS = 3  # epochs"), "sets no PROFILE"),
    (lambda nb: nb["cells"][2].update(source="PROFILE = None\nEPOCHS = 3"), "EPOCHS needs a comment"),
    (lambda nb: nb["cells"][3].update(source="profile = dlwp.use_profile(PROFILE)"), "settings=globals()"),
])
def test_each_rule_catches_its_problem(tmp_path, change, expected):
    problems = _problems(_break(change), tmp_path)
    assert any(expected in p for p in problems), problems


def test_clean_keeps_checked_outputs_and_drops_the_rest(tmp_path):
    nb = _good()
    dirty = copy.deepcopy(nb)
    dirty["cells"][5].update(execution_count=7, outputs=[{"output_type": "stream", "text": "noise"}])
    dirty["cells"][4]["outputs"][0]["metadata"] = {"x": 1}
    dirty["cells"][4]["metadata"]["papermill"] = {"status": "completed"}
    cleaned = clean_notebook(dirty)
    assert _problems(cleaned, tmp_path) == []
    assert cleaned["cells"][4]["outputs"][0]["text"] == "1\n"


def test_readme_must_link_every_notebook_to_colab(tmp_path):
    (tmp_path / "pyproject.toml").write_text((REPO_ROOT / "pyproject.toml").read_text())
    notebook = tmp_path / "chapter99" / "chapter99_new.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    (tmp_path / "README.md").write_text("# No table yet\n")
    problems = check_readme([notebook], root=tmp_path)
    assert len(problems) == 1 and "chapter99/chapter99_new.ipynb" in problems[0]
    (tmp_path / "README.md").write_text(f"[![Open In Colab](badge.svg)]({hygiene.colab_url(notebook, tmp_path)})\n")
    assert check_readme([notebook], root=tmp_path) == []


def test_settings_are_read_from_the_parameters_cell_as_written():
    text = ('PROFILE = None  # which profile\nEPOCHS = 5  # epochs\n'
            'RATE = dlwp.by_profile(book=1e-3,\n                       embedded=5e-2)  # the rate\nNAME = "x"')
    assert hygiene.settings(text) == [("PROFILE", "None", "None", "which profile"), ("EPOCHS", "5", "5", "epochs"),
                                      ("RATE", "5e-2", "1e-3", "the rate"), ("NAME", '"x"', '"x"', "")]


def test_a_chapter_readme_table_is_written_from_the_notebook_and_checked(tmp_path):
    chapter = tmp_path / "chapter99"
    chapter.mkdir()
    notebook = chapter / "chapter99_new.ipynb"
    notebook.write_text(json.dumps(_good()))
    readme = chapter / "README.md"
    readme.write_text("# Chapter 99\n")
    assert "no parameter table" in check_tables([notebook], root=tmp_path)[0]
    start = hygiene.TABLE_START.format(name=notebook.name)
    readme.write_text(f"# Chapter 99\n\n{start}\nstale\n{hygiene.TABLE_END}\n\nMore text.\n")
    assert "out of date" in check_tables([notebook], root=tmp_path)[0]
    assert hygiene.write_tables([notebook]) == [readme]
    assert check_tables([notebook], root=tmp_path) == []
    text = readme.read_text()
    assert "| `EPOCHS` | `3` | `30` | epochs |" in text and "PROFILE" not in text and text.endswith("More text.\n")
