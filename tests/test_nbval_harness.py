"""The notebook half of `make test`: nbval with the repo's conftest must fail a broken notebook,
compare checked outputs, and save what each notebook executed (for the results check)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dlwp_utils.metrics import read_metrics
from maintainer.layout import REPO_ROOT as ROOT
from maintainer.matrix import nbval_args
from tests.notebook_fixtures import write_notebook


def run_nbval(notebook: Path, executed_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, KERAS_BACKEND="torch")
    return subprocess.run([sys.executable, "-m", "pytest", *nbval_args([notebook], workers=1, out=executed_dir)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def fixture_dir() -> Path:
    """A folder under build/ (nbval runs from the repository root, where its conftest applies), removed after."""
    (ROOT / "build").mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="harness-", dir=ROOT / "build"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_good_notebook_passes_and_is_saved_with_its_metrics(tmp_path, fixture_dir):
    nb = write_notebook(fixture_dir / "good.ipynb",
                        "print(6 * 7)",
                        "from dlwp_utils.metrics import record_metric\nrecord_metric('test_accuracy', 0.5)",
                        checked_outputs={0: "42\n"})
    done = run_nbval(nb, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    saved = json.loads(next(tmp_path.rglob("good.ipynb")).read_text())
    assert read_metrics(saved) == {"test_accuracy": 0.5}
    assert saved["metadata"]["dlwp"]["backend"] == "torch" and saved["metadata"]["dlwp"]["failed_cells"] == []
    assert saved["metadata"]["dlwp"]["seconds"] > 0


def test_a_checked_output_that_changed_fails(tmp_path, fixture_dir):
    nb = write_notebook(fixture_dir / "changed.ipynb", "print(6 * 9)",
                        checked_outputs={0: "42\n"})
    done = run_nbval(nb, tmp_path)
    assert done.returncode == 1 and "Cell outputs differ" in done.stdout


def test_a_cell_that_raises_fails_and_is_recorded(tmp_path, fixture_dir):
    nb = write_notebook(fixture_dir / "broken.ipynb", "x = 1", "raise RuntimeError('planted')", "y = 2")
    done = run_nbval(nb, tmp_path)
    assert done.returncode == 1 and "planted" in done.stdout
    saved = json.loads(next(tmp_path.rglob("broken.ipynb")).read_text())
    assert saved["metadata"]["dlwp"]["failed_cells"] == [1]
