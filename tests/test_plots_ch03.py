"""dlwp_utils.plots additions of chapter 3: decision lines, fitted lines, weight bar charts, and
plots that a notebook draws once (not twice) when the call ends a cell."""

from __future__ import annotations

import numpy as np
import pytest

from dlwp_utils.plots import (
    ShownFigure,
    plot_decision_boundary,
    plot_fitted_line,
    plot_history,
    plot_images,
    plot_weights,
)

POINTS = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0], [3.0, 3.0]])
LABELS = np.array([0, 0, 1, 1])


def test_decision_line_is_where_the_model_crosses_the_threshold():
    weights, bias = np.array([[1.0], [2.0]]), np.array([0.5])
    figure = plot_decision_boundary(POINTS, LABELS, (weights, bias), threshold=0.5)
    (line,) = figure.axes[0].get_lines()
    xs, ys = line.get_data()
    np.testing.assert_allclose(1.0 * xs + 2.0 * ys + 0.5, 0.5)
    assert figure.axes[0].get_legend() is None  # one unnamed line: no legend


def test_several_models_get_one_labelled_line_each_and_a_logit_threshold():
    figure = plot_decision_boundary(
        POINTS, LABELS, {"tf": ([1.0, -1.0], [0.0]), "jax": (np.array([[2.0], [-1.0]]), 1.0)}, threshold=0.0
    )
    lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["tf", "jax"]
    xs, ys = lines[1].get_data()
    np.testing.assert_allclose(2.0 * xs - ys + 1.0, 0.0, atol=1e-12)


def test_a_line_without_a_y_weight_is_drawn_vertical():
    figure = plot_decision_boundary(POINTS, LABELS, ([2.0, 0.0], [1.0]), threshold=0.0)
    (line,) = figure.axes[0].get_lines()
    np.testing.assert_allclose(line.get_xdata(), [-0.5, -0.5])


def test_decision_boundary_refuses_models_or_points_of_the_wrong_shape():
    with pytest.raises(ValueError, match="2 weights and 1 bias"):
        plot_decision_boundary(POINTS, LABELS, (np.ones((3, 1)), np.zeros(1)))
    with pytest.raises(ValueError, match="2 weights and 1 bias"):
        plot_decision_boundary(POINTS, LABELS, (np.ones((2, 2)), np.zeros(2)))
    with pytest.raises(ValueError, match=r"points of shape \(n, 2\)"):
        plot_decision_boundary(np.ones((4, 3)), LABELS, ([1.0, 1.0], [0.0]))
    with pytest.raises(ValueError, match="n labels"):
        plot_decision_boundary(POINTS, LABELS[:3], ([1.0, 1.0], [0.0]))


def test_fitted_line_plots_data_fit_and_truth():
    x = np.linspace(-1, 1, 20)
    figure = plot_fitted_line(x, 3 * x + 1, slope=2.9, intercept=1.1, true_slope=3, true_intercept=1)
    fitted, true = figure.axes[0].get_lines()
    np.testing.assert_allclose(fitted.get_ydata(), 2.9 * fitted.get_xdata() + 1.1)
    np.testing.assert_allclose(true.get_ydata(), [-2.0, 4.0])
    assert "y = 2.90 x + 1.10" in fitted.get_label()


def test_fitted_line_without_truth_and_with_mismatched_data():
    figure = plot_fitted_line([0, 1, 2], [1, 2, 3], slope=1, intercept=1)
    assert len(figure.axes[0].get_lines()) == 1
    with pytest.raises(ValueError, match="same length"):
        plot_fitted_line([0, 1, 2], [1, 2], slope=1, intercept=1)


def test_plot_weights_greys_out_near_zero_weights_on_a_shared_scale():
    figure = plot_weights({"L1": [0.0, 0.001, 2.0], "L2": [0.3, -0.2, 1.0]}, near_zero=0.01)
    l1, l2 = figure.axes
    assert [axis.get_title() for axis in figure.axes] == ["L1", "L2"]
    grey = [bar.get_facecolor() for bar in l1.patches]
    assert grey[0] == grey[1] != grey[2]
    assert len({bar.get_facecolor() for bar in l2.patches}) == 1
    assert l1.get_ylim() == l2.get_ylim() == pytest.approx((-2.2, 2.2))


def test_plot_weights_needs_weights():
    with pytest.raises(ValueError, match="No weights"):
        plot_weights({})


@pytest.mark.parametrize(
    "draw",
    [
        lambda: plot_history({"loss": [1.0, 0.5]}),
        lambda: plot_images(np.zeros((2, 8, 8))),
        lambda: plot_decision_boundary(POINTS, LABELS, ([1.0, 1.0], [0.0])),
        lambda: plot_fitted_line([0, 1], [0, 1], slope=1, intercept=0),
        lambda: plot_weights({"w": [1.0]}),
    ],
)
def test_a_plot_ending_a_notebook_cell_is_drawn_once(draw):
    from IPython.core.formatters import DisplayFormatter
    from matplotlib.figure import Figure

    shown = draw()
    assert isinstance(shown, ShownFigure) and isinstance(shown.figure, Figure)
    assert shown.axes == shown.figure.axes  # the figure's attributes pass through
    # plt.show() drew it; as a cell's value it adds nothing (a bare Figure would be drawn again).
    assert DisplayFormatter().format(shown) == ({}, {})
