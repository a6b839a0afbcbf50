"""Recording a notebook's key results so the runner and the tests read them without parsing text."""

from __future__ import annotations

import math
import re
from typing import Any

METRIC_MIME = "application/vnd.dlwp.metric+json"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def record_metric(name: str, value: float) -> None:
    """Show `name = value` and store it in the notebook's output as structured data."""
    if not _NAME.match(name):
        raise ValueError(f"Metric names are lower_snake_case, like 'test_accuracy'; got {name!r}.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"Metric {name} is {number}: training diverged or evaluation failed.")
    from IPython.display import display

    bundle = {METRIC_MIME: {"name": name, "value": number}, "text/plain": f"{name} = {number:.4f}"}
    display(bundle, raw=True)


def with_error(accuracy: float, count: int) -> str:
    """An accuracy measured on `count` examples, with its binomial standard error: "0.912 ± 0.010 (n=800)"."""
    if count < 1:
        raise ValueError(f"An accuracy needs at least one example; got count={count!r}.")
    error = math.sqrt(max(accuracy * (1 - accuracy), 0.0) / count)
    return f"{accuracy:.3f} ± {error:.3f} (n={count:,})"


def read_metrics(notebook: dict[str, Any]) -> dict[str, float]:
    """All metrics recorded in an executed notebook (nbformat dict), by name; later ones win."""
    found: dict[str, float] = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data", {}) if isinstance(output, dict) else {}
            if METRIC_MIME in data:
                found[data[METRIC_MIME]["name"]] = float(data[METRIC_MIME]["value"])
    return found
