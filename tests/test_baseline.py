"""maintainer.baseline: a drop beyond its tolerance is found, an improvement never is, and a refresh says what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maintainer import baseline as hr
from tests.report_fixtures import FAILING, PASSING

ROW = {"notebook": PASSING, "backend": "jax", "status": "passed", "seconds": 1.0,
       "metrics": {"test_accuracy": 0.90, "test_mae": 40.0}, "problem": "", "output": ""}


def baseline_of(**metrics: float) -> dict:
    return {PASSING: {"jax": metrics}}


# --------------------------------------------------------------------------- compare_to_baseline

def test_a_planted_drop_is_reported():
    drops = hr.compare_to_baseline([ROW], baseline_of(test_accuracy=0.95), {"*": 0.02})
    assert [(d.metric, d.baseline, d.current) for d in drops] == [("test_accuracy", 0.95, 0.90)]
    assert drops[0].change == pytest.approx(-0.05)
    assert "0.95 -> 0.9" in str(drops[0])


def test_an_improvement_or_a_fall_within_tolerance_is_not_a_drop():
    assert hr.compare_to_baseline([ROW], baseline_of(test_accuracy=0.80)) == []  # improved by 0.10
    assert hr.compare_to_baseline([ROW], baseline_of(test_accuracy=0.925)) == []  # fell 0.025 < 0.03


def test_the_repositorys_tolerances_catch_a_ten_point_regression():
    # The kind of silent drop floors let through (0.96 -> 0.86 above a floor of 0.85).
    row = dict(ROW, metrics={"scratch_test_accuracy": 0.86, "test_exact_match": 0.50, "kfold_val_mae": 0.40})
    drops = hr.compare_to_baseline([row], baseline_of(scratch_test_accuracy=0.96, test_exact_match=0.70,
                                                      kfold_val_mae=0.28))
    assert sorted(d.metric for d in drops) == ["kfold_val_mae", "scratch_test_accuracy", "test_exact_match"]


def test_lower_is_better_metrics_drop_when_they_rise():
    tolerances = {"*_mae": hr.Tolerance(absolute=0.0, relative=0.05)}
    assert [d.metric for d in hr.compare_to_baseline([ROW], baseline_of(test_mae=35.0), tolerances)] == ["test_mae"]
    assert hr.compare_to_baseline([ROW], baseline_of(test_mae=39.0), tolerances) == []  # +2.6% < 5%
    assert hr.compare_to_baseline([ROW], baseline_of(test_mae=60.0), tolerances) == []  # fell: better
    # Without a tolerance entry the direction comes from maintainer/directions.py too.
    assert hr.tolerance_for("test_mae", {}).direction == "lower"
    assert hr.tolerance_for("compact_xception_loss_below_chance", {}).higher_is_better is True
    # A typed Tolerance cannot turn a metric's direction round.
    assert hr.tolerance_for("test_mae", {"test_mae": hr.Tolerance(0.1, direction="higher")}).direction == "lower"


def test_per_metric_tolerances_exact_and_patterns():
    assert hr.compare_to_baseline([ROW], baseline_of(test_accuracy=0.95), {"test_accuracy": 0.1}) == []
    assert hr.compare_to_baseline([ROW], baseline_of(test_accuracy=0.95), {"*_accuracy": 0.1}) == []
    assert hr.compare_to_baseline([ROW], baseline_of(test_accuracy=0.95), {f"{PASSING}:test_accuracy": 0.1}) == []
    assert len(hr.compare_to_baseline([ROW], baseline_of(test_accuracy=0.95), {"other": 0.1, "*": 0.02})) == 1
    # From JSON: a mapping.
    assert hr.compare_to_baseline([ROW], baseline_of(test_accuracy=0.95), {"test_accuracy": {"absolute": 0.1}}) == []


def test_a_metric_no_longer_recorded_is_a_drop_but_new_metrics_are_not():
    drops = hr.compare_to_baseline([ROW], baseline_of(test_accuracy=0.9, retired=0.5))
    assert [(d.metric, d.current) for d in drops] == [("retired", None)]
    assert "not recorded" in str(drops[0])
    assert hr.compare_to_baseline([ROW], baseline_of()) == []


def test_failed_rows_and_runs_absent_from_the_rows_are_not_compared():
    failed = dict(ROW, status="failed", metrics={})
    assert hr.compare_to_baseline([failed], baseline_of(test_accuracy=0.95)) == []
    other_backend = {PASSING: {"torch": {"test_accuracy": 0.99}}}
    assert hr.compare_to_baseline([ROW], other_backend) == []
    assert hr.compare_to_baseline([ROW], None) == []


def test_a_non_finite_value_is_a_drop():
    row = dict(ROW, metrics={"test_accuracy": float("nan")})
    assert len(hr.compare_to_baseline([row], baseline_of(test_accuracy=0.9))) == 1


# --------------------------------------------------------------------------- update_baseline

def test_update_baseline_writes_merges_and_says_what_changed(tmp_path: Path):
    path = tmp_path / "baseline.json"
    lines: list[str] = []
    torch_row = dict(ROW, backend="torch", metrics={"test_accuracy": 0.8})
    assert len(hr.update_baseline([ROW, torch_row], path, printer=lines.append, steps={"unit tests": 60.0})) == 3
    stored = json.loads(path.read_text())
    assert stored["metrics"] == {PASSING: {"jax": {"test_accuracy": 0.9, "test_mae": 40.0},
                                           "torch": {"test_accuracy": 0.8}}}
    assert stored["seconds"] == {PASSING: {"jax": 1.0, "torch": 1.0}} and stored["steps"] == {"unit tests": 60.0}
    assert hr.expected_seconds(PASSING, "jax", path) == 1.0 and hr.step_seconds("unit tests", path) == 60.0
    lines.clear()
    # A jax-only run refreshes jax, keeps torch; a failed row changes nothing.
    newer = dict(ROW, metrics={"test_accuracy": 0.92})
    failed = dict(ROW, notebook=FAILING, status="failed", metrics={"x": 1.0})
    changes = hr.update_baseline([newer, failed], path, printer=lines.append)
    assert any(c.startswith("~") and "0.9 -> 0.92 (+0.02)" in c for c in changes)
    assert any(c.startswith("-") and "test_mae" in c for c in changes)
    data = json.loads(path.read_text())["metrics"]
    assert data[PASSING]["jax"] == {"test_accuracy": 0.92} and data[PASSING]["torch"] == {"test_accuracy": 0.8}
    assert FAILING not in data
    assert lines[0].endswith("2 change(s)")
    assert hr.update_baseline([newer], path, printer=lines.append) == [] and lines[-1].endswith("unchanged")


# --------------------------------------------------------------------------- measured tolerances

SPREAD = {PASSING: {"jax": {
    "test_accuracy": {"min": 0.86, "median": 0.89, "max": 0.91, "runs": 4, "machine_moved": True},
    "mnist_dense_parameters": {"min": 7.0, "median": 7.0, "max": 7.0, "runs": 4, "machine_moved": False},
    "held_out_loss_after_lora": {"min": 0.08, "median": 0.10, "max": 0.17, "runs": 4, "machine_moved": True},
    "val_accuracy": {"min": 0.80, "median": 0.85, "max": 0.85, "runs": 4, "machine_moved": False},  # a seed moved it
}}}


def test_a_measured_spread_gives_the_tolerance_and_a_planted_drop_just_outside_it_fails():
    # Baseline 0.90: allowed to fall to the lowest value measured (0.86), and half the range (0.05) below.
    tolerance = hr.measured_tolerance(PASSING, "jax", "test_accuracy", 0.90, SPREAD)
    assert tolerance.allowed(0.90) == pytest.approx(0.065) and tolerance.higher_is_better
    baseline = baseline_of(test_accuracy=0.90)
    row = lambda value: dict(ROW, metrics={"test_accuracy": value})  # noqa: E731
    assert hr.compare_to_baseline([row(0.86)], baseline, spread=SPREAD) == []  # a variation's own value
    assert hr.compare_to_baseline([row(0.836)], baseline, spread=SPREAD) == []  # just inside
    drops = hr.compare_to_baseline([row(0.834)], baseline, spread=SPREAD)  # just outside: a regression
    assert [d.metric for d in drops] == ["test_accuracy"] and drops[0].allowed == pytest.approx(0.065)


def test_a_metric_no_variation_of_the_machine_moved_must_come_out_exactly():
    baseline = {PASSING: {"jax": {"mnist_dense_parameters": 7.0, "val_accuracy": 0.85}}}
    same = dict(ROW, metrics={"mnist_dense_parameters": 7.0, "val_accuracy": 0.85})
    assert hr.compare_to_baseline([same], baseline, spread=SPREAD) == []
    assert len(hr.compare_to_baseline([dict(same, metrics={"mnist_dense_parameters": 6.99, "val_accuracy": 0.85})], baseline,
                                      spread=SPREAD)) == 1
    # Only a seed moved val_accuracy (0.80 with seed 1): on SEED 42 another CPU must give 0.85 to 4 digits.
    assert len(hr.compare_to_baseline([dict(same, metrics={"mnist_dense_parameters": 7.0, "val_accuracy": 0.8498})], baseline,
                                      spread=SPREAD)) == 1
    assert hr.compare_to_baseline([dict(same, metrics={"mnist_dense_parameters": 7.0, "val_accuracy": 0.84995})], baseline,
                                  spread=SPREAD) == []


def test_losses_after_lora_are_lower_is_better():
    # The baseline once read them as higher-is-better: a held-out loss rising from 0.17 to 1.8 "improved".
    assert hr.tolerance_for("held_out_loss_after_lora").direction == "lower"
    assert hr.tolerance_for("held_out_perplexity_before_lora").direction == "lower"
    assert hr.tolerance_for("held_out_loss_drop").higher_is_better
    assert hr.tolerance_for("scratch_val_loss_rise").higher_is_better
    baseline = {PASSING: {"jax": {"held_out_loss_after_lora": 0.10}}}
    rose = dict(ROW, metrics={"held_out_loss_after_lora": 1.8})
    assert [d.metric for d in hr.compare_to_baseline([rose], baseline, spread=SPREAD)] == ["held_out_loss_after_lora"]
    assert [d.metric for d in hr.compare_to_baseline([rose], baseline, {})] == ["held_out_loss_after_lora"]  # typed too
    fell = dict(ROW, metrics={"held_out_loss_after_lora": 0.05})
    assert hr.compare_to_baseline([fell], baseline, spread=SPREAD) == []


def test_typed_tolerances_apply_only_where_no_spread_was_measured():
    # test_mae has no spread: TOLERANCES (at most 10% worse); explicit tolerances override the spread.
    baseline = baseline_of(test_accuracy=0.90, test_mae=38.0)
    assert hr.compare_to_baseline([ROW], baseline, spread=SPREAD) == []  # 40 is 5% worse
    assert len(hr.compare_to_baseline([dict(ROW, metrics={"test_accuracy": 0.9, "test_mae": 43.0})], baseline,
                                      spread=SPREAD)) == 1
    assert len(hr.compare_to_baseline([dict(ROW, metrics={"test_accuracy": 0.87, "test_mae": 38.0})], baseline,
                                      {"*": 0.01}, spread=SPREAD)) == 1


def test_a_size_that_changes_either_way_is_a_drop_and_never_an_improvement():
    baseline = {PASSING: {"jax": {"mnist_dense_parameters": 7.0}}}
    for value in (6.0, 8.0):
        drops = hr.compare_to_baseline([dict(ROW, metrics={"mnist_dense_parameters": value})], baseline, spread=SPREAD)
        assert [d.metric for d in drops] == ["mnist_dense_parameters"]
    assert hr.classify("mnist_dense_parameters", 7.0, 7.0, hr.tolerance_for("mnist_dense_parameters")).kind == "same"


def test_a_metric_without_a_stated_direction_stops_the_check_with_the_file_to_edit():
    baseline = {PASSING: {"jax": {"made_up_score": 1.0}}}
    with pytest.raises(KeyError, match="maintainer/directions.py"):
        hr.compare_to_baseline([dict(ROW, metrics={"made_up_score": 0.5})], baseline, spread=SPREAD)


def test_other_versions_widen_the_tolerance_by_the_one_stated_amount_and_no_more():
    baseline = baseline_of(test_accuracy=0.90)
    row = lambda value: dict(ROW, metrics={"test_accuracy": value})  # noqa: E731
    widened = hr.tolerance_of(PASSING, "jax", "test_accuracy", 0.90, spread=SPREAD, widen=hr.OTHER_VERSIONS)
    assert widened.allowed(0.90) == pytest.approx(0.065 + 0.09)  # measured, plus max(0.08, 10% of 0.90)
    assert [d.metric for d in hr.compare_to_baseline([row(0.80)], baseline, spread=SPREAD)] == ["test_accuracy"]
    assert hr.compare_to_baseline([row(0.80)], baseline, spread=SPREAD, widen=hr.OTHER_VERSIONS) == []
    assert [d.metric for d in hr.compare_to_baseline([row(0.70)], baseline, spread=SPREAD, widen=hr.OTHER_VERSIONS)]
