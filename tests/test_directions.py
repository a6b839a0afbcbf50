"""maintainer/directions.py names the direction of every metric the notebooks record, and of nothing else."""

from __future__ import annotations

import json
import re

from maintainer import baseline, layout
from maintainer.directions import DIRECTIONS, EITHER, HIGHER, LOWER

# The toy notebooks and rows of the runner's and the baseline's own tests record these.
TOY_METRICS = {"test_accuracy", "val_accuracy"}


def recorded_by_notebooks() -> set[str]:
    """Every metric name a chapter notebook records: the committed baseline's, and each literal record_metric call."""
    names = {m for backends in baseline.load()["metrics"].values() for ms in backends.values() for m in ms}
    for path in layout.chapter_notebooks():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        names |= set(re.findall(r"record_metric\(\"([a-z0-9_]+)\"", source))
    return names


def test_every_recorded_metric_states_its_direction():
    missing = sorted(recorded_by_notebooks() - set(DIRECTIONS))
    assert not missing, f"add these to maintainer/directions.py: {missing}"


def test_no_direction_is_stated_for_a_metric_nothing_records():
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (layout.REPO_ROOT / "tests").glob("*.py")
                      if p.name != "test_directions.py")
    assert all(f'"{name}"' in tests for name in TOY_METRICS)
    stale = sorted(set(DIRECTIONS) - recorded_by_notebooks() - TOY_METRICS)
    assert not stale, f"no notebook records {stale} any more: remove them from maintainer/directions.py"
    assert set(DIRECTIONS.values()) <= {HIGHER, LOWER, EITHER}
