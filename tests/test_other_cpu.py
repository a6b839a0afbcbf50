"""The baseline's measured tolerances let another CPU's numbers through (issue 24), not a regression."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maintainer import baseline

OTHER_CPU = Path(__file__).parent / "results" / "other_cpu.json"


def rows_of(metrics: dict) -> list[dict]:
    return [{"notebook": nb, "backend": b, "status": "passed", "metrics": ms} for nb, bs in metrics.items()
            for b, ms in bs.items()]


@pytest.mark.parametrize("machine", ["intel_xeon", "amd_epyc_issue_24"])
def test_the_numbers_of_another_cpu_pass_the_baseline(machine):
    measured = json.loads(OTHER_CPU.read_text())[machine]
    drops = baseline.compare_to_baseline(rows_of(measured), baseline.load()["metrics"])
    assert not drops, f"{machine}'s numbers judged as drops:\n" + "\n".join(map(str, drops))


def test_a_regression_of_the_size_floors_let_through_still_fails():
    """The same numbers with one real regression planted: chapter 8's augmentation 10 points down."""
    measured = json.loads(OTHER_CPU.read_text())["intel_xeon"]
    notebook = "chapter08/chapter08_image_classification.ipynb"
    for backend in ("jax", "tensorflow", "torch"):
        planted = json.loads(json.dumps(measured))
        planted[notebook][backend]["augmented_test_accuracy"] -= 0.10
        drops = baseline.compare_to_baseline(rows_of(planted), baseline.load()["metrics"])
        assert [(d.notebook, d.backend, d.metric) for d in drops] == [(notebook, backend, "augmented_test_accuracy")]


def test_a_fall_just_beyond_each_measured_tolerance_fails_and_one_just_within_passes():
    """Every metric of the committed baseline, on every backend: its allowed fall is where a drop begins."""
    committed, table = baseline.load()["metrics"], baseline.load_spread()
    for notebook, backends in committed.items():
        for backend, metrics in backends.items():
            for metric, value in metrics.items():
                tolerance = baseline.measured_tolerance(notebook, backend, metric, value, table)
                step = tolerance.allowed(value) * (1 if tolerance.higher_is_better else -1)
                for factor, drops in ((1.01, 1), (0.99, 0)):
                    row = {"notebook": notebook, "backend": backend, "status": "passed",
                           "metrics": {**metrics, metric: value - factor * step}}
                    found = baseline.compare_to_baseline([row], {notebook: {backend: metrics}})
                    assert len(found) == drops, f"{notebook} [{backend}] {metric}: {value} - {factor} x {step}: {found}"
