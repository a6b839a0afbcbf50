"""Plots the notebooks share: training curves, image grids, decision lines, fitted lines and weights."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np


class ShownFigure:
    """A figure already shown with plt.show(): a notebook does not display it a second time.

    Attributes are the figure's (`.axes`, `.savefig`, ...); the figure itself is `.figure`.
    """

    def __init__(self, figure: Any):
        self.figure = figure

    def __getattr__(self, name: str) -> Any:
        return getattr(self.figure, name)

    def _ipython_display_(self) -> None:
        """Display nothing: plt.show() already did (a returned Figure would be drawn twice)."""


def show(figure: Any) -> ShownFigure:
    """plt.show() the figure and return it wrapped, so a plot call ending a cell draws it once."""
    import matplotlib.pyplot as plt

    plt.show()
    return ShownFigure(figure)


def plot_history(history: Any, metrics: Sequence[str] | None = None, title: str = ""):
    """Training vs validation curves, one panel per metric (loss first), from a History or a dict."""
    import matplotlib.pyplot as plt

    logs = history.history if hasattr(history, "history") else dict(history)
    if not logs:
        raise ValueError("The history is empty: was the model trained (fit) before plotting?")
    names = list(metrics) if metrics else [k for k in logs if not k.startswith("val_")]
    missing = [name for name in names if name not in logs]
    if missing:
        raise ValueError(f"No {', '.join(missing)} in the history; it has {', '.join(logs)}.")
    figure, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.5), squeeze=False)
    for axis, name in zip(axes[0], names):
        epochs = np.arange(1, len(logs[name]) + 1)
        axis.plot(epochs, logs[name], "o-", label=f"training {name}")
        if f"val_{name}" in logs:
            axis.plot(epochs, logs[f"val_{name}"], "s--", label=f"validation {name}")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return show(figure)


def plot_images(images: np.ndarray, labels: Sequence[Any] | None = None, columns: int = 8, cmap: str = "binary"):
    """A grid of images with optional captions."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    rows = max(1, -(-len(images) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(1.5 * columns, 1.6 * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            axis.imshow(images[index], cmap=cmap if images[index].ndim == 2 else None)
            if labels is not None:
                axis.set_title(str(labels[index]), fontsize=9)
    figure.tight_layout()
    return show(figure)


def _line(weights: Any, bias: Any) -> tuple[float, float, float]:
    """(w0, w1, b) of a linear model on 2-D inputs, from weights of shape (2,) or (2, 1)."""
    w = np.asarray(weights, dtype=float).reshape(-1)
    b = np.asarray(bias, dtype=float).reshape(-1)
    if w.shape != (2,) or b.shape != (1,):
        raise ValueError(
            f"A decision line needs 2 weights and 1 bias (a model with 2 inputs and 1 output); "
            f"got weights of shape {np.shape(weights)} and bias of shape {np.shape(bias)}."
        )
    return w[0], w[1], b[0]


def plot_decision_boundary(
    points: np.ndarray,
    labels: np.ndarray,
    boundaries: Mapping[str, tuple[Any, Any]] | tuple[Any, Any],
    threshold: float = 0.5,
    title: str = "",
):
    """2-D points coloured by class, and each model's line `w0*x + w1*y + b = threshold`.

    `boundaries` is one (weights, bias) pair, or a dict name -> (weights, bias) to compare models.
    Use threshold=0.5 for a model that regresses 0/1 targets, 0 for the logits of a sigmoid.
    """
    import matplotlib.pyplot as plt

    points = np.asarray(points)
    labels = np.asarray(labels).reshape(-1)
    if points.ndim != 2 or points.shape[1] != 2 or len(labels) != len(points):
        raise ValueError(f"Expected points of shape (n, 2) and n labels; got {points.shape} and {labels.shape}.")
    if isinstance(boundaries, tuple):
        boundaries = {"": boundaries}
    figure, axis = plt.subplots(figsize=(5.5, 5))
    axis.scatter(points[:, 0], points[:, 1], c=labels, cmap="coolwarm", s=8, alpha=0.6)
    xs = np.linspace(points[:, 0].min(), points[:, 0].max(), 100)
    for (name, (weights, bias)), style in zip(boundaries.items(), ["-", "--", ":", "-."] * 4):
        w0, w1, b = _line(weights, bias)
        if abs(w1) > 1e-12 * max(abs(w0), 1.0):
            axis.plot(xs, (threshold - b - w0 * xs) / w1, style, linewidth=2, label=name or None)
        else:  # a vertical line: w0*x + b = threshold
            axis.axvline((threshold - b) / w0, linestyle=style, linewidth=2, label=name or None)
    margin = 0.1 * np.ptp(points[:, 1])
    axis.set_ylim(points[:, 1].min() - margin, points[:, 1].max() + margin)
    axis.set_xlabel("x0")
    axis.set_ylabel("x1")
    if any(boundaries):
        axis.legend()
    axis.set_title(title)
    figure.tight_layout()
    return show(figure)


def plot_fitted_line(
    x: np.ndarray,
    y: np.ndarray,
    slope: float,
    intercept: float,
    true_slope: float | None = None,
    true_intercept: float | None = None,
    title: str = "",
):
    """1-D data, the fitted line, and (if given) the true line the data was generated from."""
    import matplotlib.pyplot as plt

    x = np.asarray(x, dtype=float).reshape(-1)
    y = np.asarray(y, dtype=float).reshape(-1)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length; got {len(x)} and {len(y)}.")
    xs = np.linspace(x.min(), x.max(), 2)
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.scatter(x, y, s=8, alpha=0.5, label="data")
    axis.plot(xs, slope * xs + intercept, "r-", linewidth=2, label=f"fitted: y = {slope:.2f} x + {intercept:.2f}")
    if true_slope is not None and true_intercept is not None:
        axis.plot(xs, true_slope * xs + true_intercept, "k--", label=f"true: y = {true_slope:g} x + {true_intercept:g}")
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.legend()
    axis.set_title(title)
    figure.tight_layout()
    return show(figure)


def plot_weights(weights: Mapping[str, Any], near_zero: float = 0.0, title: str = ""):
    """One bar chart per model of its weights, on the same scale; weights within `near_zero` of 0 in grey."""
    import matplotlib.pyplot as plt

    if not weights:
        raise ValueError("No weights to plot: pass a dict name -> weights.")
    arrays = {name: np.asarray(w, dtype=float).reshape(-1) for name, w in weights.items()}
    top = max(float(np.abs(w).max()) for w in arrays.values()) or 1.0
    figure, axes = plt.subplots(1, len(arrays), figsize=(3.2 * len(arrays), 3), sharey=True, squeeze=False)
    for axis, (name, w) in zip(axes[0], arrays.items()):
        axis.bar(np.arange(len(w)), w, color=np.where(np.abs(w) <= near_zero, "lightgray", "tab:blue"))
        axis.set_ylim(-1.1 * top, 1.1 * top)
        axis.axhline(0, color="black", linewidth=0.5)
        axis.set_title(name)
        axis.set_xlabel("weight index")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return show(figure)
