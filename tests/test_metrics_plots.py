"""dlwp_utils.metrics and dlwp_utils.plots."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlwp_utils.metrics import METRIC_MIME, read_metrics, record_metric
from dlwp_utils.plots import plot_history, plot_images


def test_record_metric_shows_the_value_and_returns_nothing_to_echo(capsys):
    assert record_metric("test_accuracy", np.float32(0.75)) is None
    assert "test_accuracy = 0.7500" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["Test Accuracy", "1st", "acc-1", ""])
def test_metric_names_are_snake_case(name):
    with pytest.raises(ValueError, match="lower_snake_case"):
        record_metric(name, 0.5)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_metrics_are_refused(value):
    with pytest.raises(ValueError, match="diverged"):
        record_metric("loss", value)


def test_read_metrics_finds_structured_outputs_only():
    nb = {"cells": [
        {"cell_type": "code", "outputs": [{"output_type": "stream", "text": "test_accuracy = 0.1"}]},
        {"cell_type": "code", "outputs": [{"output_type": "display_data",
                                           "data": {METRIC_MIME: {"name": "test_accuracy", "value": 0.9}}}]},
        {"cell_type": "markdown"},
    ]}
    assert read_metrics(nb) == {"test_accuracy": 0.9}


def test_plot_history_draws_a_panel_per_metric_with_validation_curves():
    history = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8], "val_loss": [1.1, 0.7], "val_accuracy": [0.4, 0.7]}
    figure = plot_history(history)
    assert [axis.get_title() for axis in figure.axes] == ["loss", "accuracy"]
    assert all(len(axis.get_lines()) == 2 for axis in figure.axes)


def test_plot_history_explains_an_empty_or_mismatched_history():
    with pytest.raises(ValueError, match="history is empty"):
        plot_history({})
    with pytest.raises(ValueError, match="No accuracy in the history"):
        plot_history({"loss": [1.0]}, metrics=["accuracy"])


def test_plot_images_makes_a_grid_with_captions():
    figure = plot_images(np.zeros((5, 28, 28)), labels=list("abcde"), columns=4)
    assert len(figure.axes) == 8 and figure.axes[4].get_title() == "e"
