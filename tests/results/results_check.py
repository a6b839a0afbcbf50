"""Results, not just execution: each notebook's recorded metrics, read from the notebooks that
nbval executed (tests/matrix.py saves them), must clear the floors stated here.

Run by `make test` after the notebooks; on its own it fails until they have been executed.
Every chapter notebook must have a floor: a new notebook without one fails here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dlwp_utils.backend import BACKENDS, parse_backends
from dlwp_utils.hygiene import REPO_ROOT, chapter_notebooks
from dlwp_utils.metrics import read_metrics

# notebook -> {metric: floor} in the embedded profile, on every backend. Chance is stated beside.
FLOORS: dict[str, dict[str, float]] = {
    "chapter02/chapter02_mathematical_building_blocks.ipynb": {
        "first_network_test_accuracy": 0.85,  # chance 0.10; measured 0.95-0.98
        "scratch_test_accuracy": 0.70,  # chance 0.10; measured 0.90-0.91
    },
}

RESULTS = Path(os.environ.get("DLWP_RESULTS_DIR", REPO_ROOT / "build" / "test"))
SELECTED = os.environ.get("DLWP_BACKENDS", ",".join(BACKENDS))
NOTEBOOKS = [Path(p) for p in os.environ["DLWP_NOTEBOOKS"].split(",")] if os.environ.get("DLWP_NOTEBOOKS") else chapter_notebooks()
CASES = [(nb.resolve().relative_to(REPO_ROOT).as_posix(), b) for nb in NOTEBOOKS for b in parse_backends(SELECTED)]


@pytest.mark.parametrize(("notebook", "backend"), CASES, ids=[f"{n}-{b}" for n, b in CASES])
def test_recorded_metrics_clear_their_floors(notebook: str, backend: str) -> None:
    assert notebook in FLOORS, f"{notebook} has no floor in {__file__}: state what it must reach."
    executed = RESULTS / backend / notebook
    assert executed.is_file(), f"{executed} does not exist: the notebook was not executed (run `make test`)."
    nb = json.loads(executed.read_text(encoding="utf-8"))
    failed = nb["metadata"].get("dlwp", {}).get("failed_cells", [])
    assert not failed, f"{notebook} on {backend}: code cells {failed} failed, so its metrics are not trusted."
    metrics = read_metrics(nb)
    for name, floor in FLOORS[notebook].items():
        assert name in metrics, f"{notebook} on {backend} recorded no {name} (it recorded {sorted(metrics)})."
        assert metrics[name] >= floor, f"{notebook} on {backend}: {name} = {metrics[name]:.4f}, below its floor {floor}."
