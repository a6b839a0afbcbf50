"""maintainer.hygiene: the committed notebooks are clean, and each rule catches what it should."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

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
        "metadata": {"accelerator": "GPU", "colab": {"gpuType": "T4", "provenance": []},
                     "kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Title\n\n**Follows**: the third edition's chapter 2."},
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
    (lambda nb: nb["cells"][0].update(source="# Title"), "does not say what it follows"),
    (lambda nb: nb["metadata"].pop("accelerator"), "opens on a CPU runtime on Colab"),
    (lambda nb: nb["metadata"]["colab"].pop("gpuType"), "opens on a CPU runtime on Colab"),
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


# --- the setup cell, the GPU runtime, forks ---------------------------------------------------------------------


def test_a_notebook_without_gpu_metadata_fails_the_check_and_setup_fixes_only_that(tmp_path):
    nb = _good()
    del nb["metadata"]["accelerator"], nb["metadata"]["colab"]["gpuType"]
    problems = _problems(nb, tmp_path)
    assert problems == [f"{tmp_path / 'nb.ipynb'}: opens on a CPU runtime on Colab: no GPU metadata "
                        '(metadata.accelerator "GPU" and metadata.colab.gpuType); run `python -m maintainer.hygiene setup`']
    fixed = hygiene.with_setup(nb)
    assert _problems(fixed, tmp_path) == []
    assert fixed["metadata"]["accelerator"] == "GPU" and fixed["metadata"]["colab"] == {"gpuType": "T4", "provenance": []}
    assert fixed["cells"][2:] == _good()["cells"][2:] and fixed["cells"][0] == _good()["cells"][0]
    assert hygiene.source(fixed["cells"][1]) == hygiene.source(_good()["cells"][1])


def test_setup_replaces_an_old_setup_cell_inserts_a_missing_one_and_is_idempotent(tmp_path):
    old = _good()
    old["cells"][1]["source"] = "# Setup, an older one\nimport dlwp_utils as dlwp"
    fixed = hygiene.with_setup(old)
    assert fixed == hygiene.with_setup(fixed) and hygiene.source(fixed["cells"][1]) == hygiene.setup_cell()
    assert len(fixed["cells"]) == len(old["cells"])
    bare = _good()
    bare["cells"][1]["source"] = "x = 1  # the notebook's own first cell"
    inserted = hygiene.with_setup(bare)
    assert hygiene.source(inserted["cells"][1]) == hygiene.setup_cell()
    assert hygiene.source(inserted["cells"][2]) == "x = 1  # the notebook's own first cell"
    path = tmp_path / "nb.ipynb"
    hygiene.write_notebook(fixed, path)
    assert hygiene.write_setup([path]) == []  # nothing to do: the file is not touched


def test_the_committed_notebooks_are_what_setup_writes():
    for notebook in chapter_notebooks():
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        assert hygiene.with_setup(nb, path=notebook) == nb, f"run `python -m maintainer.hygiene setup` ({notebook.name})"


def _run_setup_cell(env: dict[str, str], prelude: str = "") -> subprocess.CompletedProcess:
    """The setup cell as IPython runs it (magics turned into calls), in a fresh Python."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(hygiene.setup_cell())
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=300,
                          env={**{k: v for k, v in os.environ.items() if k != "KAGGLE_KERNEL_RUN_TYPE"}, **env})


_NO_HELPER = """
import sys
class _Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "dlwp_utils":
            raise ModuleNotFoundError("No module named 'dlwp_utils'", name="dlwp_utils")
sys.meta_path.insert(0, _Missing())
"""
_FAKE_IPYTHON = """
calls = []
class _Shell:
    def run_line_magic(self, name, line, *args):
        calls.append((name, line))
        print("magic:", name, line)
get_ipython = lambda: _Shell()
"""


def test_a_setup_cell_whose_helper_cannot_be_imported_says_what_to_do():
    done = _run_setup_cell({}, _NO_HELPER)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: The book's helper package dlwp_utils could not be imported (No module named "
                           "'dlwp_utils'). On Colab or Kaggle, read the install's message above"), done.stderr
    assert "make setup" in last and "Settings > Internet" in last and "During handling" not in done.stderr


def test_the_setup_cell_installs_on_kaggle_and_not_locally():
    on_kaggle = _run_setup_cell({"KAGGLE_KERNEL_RUN_TYPE": "Interactive", "KERAS_BACKEND": "jax"},
                                _FAKE_IPYTHON + _NO_HELPER)
    assert f'magic: pip install -q "dlwp-utils @ git+{hygiene.repository_url()}"' in on_kaggle.stdout, on_kaggle.stderr
    locally = _run_setup_cell({"KERAS_BACKEND": "jax"}, _FAKE_IPYTHON + _NO_HELPER)
    assert "magic:" not in locally.stdout and "ImportError" in locally.stderr


def test_fork_rewrites_the_address_the_ref_the_setup_cells_and_the_badges(tmp_path):
    (tmp_path / "pyproject.toml").write_text((REPO_ROOT / "pyproject.toml").read_text())
    notebook = tmp_path / "chapter99" / "chapter99_new.ipynb"
    notebook.parent.mkdir()
    hygiene.write_notebook(hygiene.with_setup(_good(), tmp_path), notebook)
    readme = f"# Notebooks\n\n[![Open In Colab](badge.svg)]({hygiene.colab_url(notebook, tmp_path)})\n"
    (tmp_path / "README.md").write_text(readme)
    (notebook.parent / "README.md").write_text(readme.replace("chapter99/", "chapter99/"))
    changed = hygiene.fork("https://github.com/me/fork.git", "v1", root=tmp_path)
    assert set(changed) == {tmp_path / "pyproject.toml", tmp_path / "README.md", notebook.parent / "README.md", notebook}
    assert hygiene.repository_url(tmp_path) == "https://github.com/me/fork" and hygiene.repository_ref(tmp_path) == "v1"
    assert '%pip install -q "dlwp-utils @ git+https://github.com/me/fork@v1"' in hygiene.source(
        json.loads(notebook.read_text())["cells"][1])
    badge = "https://colab.research.google.com/github/me/fork/blob/v1/chapter99/chapter99_new.ipynb"
    assert badge in (tmp_path / "README.md").read_text() and badge in (notebook.parent / "README.md").read_text()
    assert check_notebook(notebook, root=tmp_path) == [] and check_readme([notebook], root=tmp_path) == []
    header = hygiene.source(json.loads(notebook.read_text())["cells"][0])
    assert f"]({badge})" in header and ("](https://kaggle.com/kernels/welcome?src=https://github.com/me/fork/blob/v1/"
                                        "chapter99/chapter99_new.ipynb)") in header
    assert hygiene.fork("https://github.com/me/fork", "v1", root=tmp_path) == []  # idempotent
    with pytest.raises(ValueError, match="not a GitHub repository address"):
        hygiene.fork("https://gitlab.com/me/fork", root=tmp_path)
    hygiene.write_notebook(json.loads(notebook.read_text()) | {"cells": [
        dict(json.loads(notebook.read_text())["cells"][0], source=["# New\n", "\n", "**Follows**: nothing\n"]),
        *json.loads(notebook.read_text())["cells"][1:]]}, notebook)
    assert any("badges" in p for p in check_notebook(notebook, root=tmp_path))
