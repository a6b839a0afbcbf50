"""Plots the notebooks share: training curves (after training, or live during it), image grids, decision
lines, fitted lines and weights.

`LivePlot` is a Keras callback that redraws the training and validation curves after each epoch
(at most every few seconds: a redraw costs a few tenths of a second) in one display updated in
place (Jupyter, JupyterLab, VS Code, Colab; d2l's Animator is the model).
Executed headless (papermill, nbval) the cell keeps one output for it: the final figure. It is
defined on first use, so that importing this module does not import Keras.
"""

from __future__ import annotations

import base64
import io
import math
import time
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


# --- the live training plot ------------------------------------------------------------------


def _in_kernel() -> bool:
    """True in a Jupyter kernel (a notebook, Colab, papermill): there, display() shows rich output."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _define() -> type:
    """Define LivePlot (imports Keras)."""
    import keras

    class LivePlot(keras.callbacks.Callback):
        """Training and validation curves, redrawn after each epoch (at most every `interval` s) in one display.

        metrics: the logged quantities to plot, one panel each ("loss", "accuracy", "mae", ...);
            each panel shows the training value and, when logged, "val_<name>". Names the model does
            not log are left out; if none of them is logged, every training quantity is plotted.
        every: redraw every `every` epochs (the first and the last epoch are always drawn).
        interval: and at most once every `interval` seconds (a redraw takes 0.1-0.3 s on a CPU, which
            would slow down short epochs); 0 redraws after every epoch `every` allows.
        panel_size: inches (width, height) of one panel. dpi: resolution of the PNG.
        title: a title over the panels.

        After fit: `history` ({name: [(epoch, value), ...]}) and `figure()` (a fresh matplotlib
        Figure of the final curves, e.g. to save) remain available.
        """

        def __init__(self, metrics: Sequence[str] = ("loss", "accuracy"), every: int = 1, interval: float = 3.0,
                     panel_size: tuple[float, float] = (4.5, 3.2), dpi: int = 100, title: str = ""):
            super().__init__()
            if isinstance(metrics, str):
                metrics = (metrics,)
            if not metrics:
                raise ValueError("LivePlot needs at least one metric name, like 'loss'.")
            if int(every) < 1:
                raise ValueError(f"every must be 1 or more, got {every!r}.")
            if not float(interval) >= 0:
                raise ValueError(f"interval must be 0 or more seconds, got {interval!r}.")
            self.metrics = tuple(metrics)
            self.every = int(every)
            self.interval = float(interval)
            self.panel_size = panel_size
            self.dpi = dpi
            self.title = title
            self.history: dict[str, list[tuple[int, float]]] = {}
            self.handle: Any = None
            self.updates = 0  # displays sent (the first one, then the updates)
            self._epochs: int | None = None
            self._drawn_epoch: int | None = None
            self._drawn_at = -math.inf  # time.monotonic() at the end of the last redraw

        # -- Keras hooks
        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.history = {}
            self.handle = None
            self.updates = 0
            self._drawn_epoch = None
            self._drawn_at = -math.inf
            self._epochs = (self.params or {}).get("epochs")

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            for name, value in (logs or {}).items():
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    continue  # a non-scalar log entry (e.g. a learning-rate schedule object)
                self.history.setdefault(name, []).append((epoch + 1, number))
            last = self._epochs is not None and epoch + 1 >= self._epochs
            due = (epoch + 1) % self.every == 0 and time.monotonic() - self._drawn_at >= self.interval
            if due or last or self.handle is None:
                self._show()

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            # An early stop (EarlyStopping, KeyboardInterrupt caught by the user) may skip the last draw.
            if self.history and self._drawn_epoch != self._last_epoch():
                self._show()

        # -- drawing
        def _last_epoch(self) -> int | None:
            return max((points[-1][0] for points in self.history.values() if points), default=None)

        def panels(self) -> list[str]:
            """The metric names that get a panel, in order."""
            chosen = [m for m in self.metrics if m in self.history or f"val_{m}" in self.history]
            return chosen or [k for k in self.history if not k.startswith("val_")]

        def figure(self) -> Any:
            """A matplotlib Figure of the curves so far (not registered with pyplot)."""
            from matplotlib.figure import Figure
            from matplotlib.ticker import MaxNLocator

            names = self.panels() or ["loss"]
            width, height = self.panel_size
            figure = Figure(figsize=(width * len(names), height), dpi=self.dpi, layout="constrained")
            axes = figure.subplots(1, len(names), squeeze=False)[0]
            for axis, name in zip(axes, names):
                for key, style, label in ((name, "o-", "training"), (f"val_{name}", "s--", "validation")):
                    points = [(e, v) for e, v in self.history.get(key, []) if math.isfinite(v)]
                    if points:
                        axis.plot(*zip(*points), style, label=f"{label} {name}", markersize=4)
                if self._epochs:
                    axis.set_xlim(0.5, self._epochs + 0.5)
                axis.set_xlabel("epoch")
                axis.xaxis.set_major_locator(MaxNLocator(integer=True))
                axis.set_title(name)
                if axis.lines:
                    axis.legend(fontsize="small")
            if self.title:
                figure.suptitle(self.title)
            return figure

        def png(self) -> bytes:
            """The curves so far as PNG bytes."""
            buffer = io.BytesIO()
            self.figure().savefig(buffer, format="png")
            return buffer.getvalue()

        def summary(self) -> str:
            """One line of text: the last value of each plotted quantity (the display's text/plain)."""
            last = self._last_epoch()
            parts = []
            for name in self.panels():
                for key in (name, f"val_{name}"):
                    if self.history.get(key):
                        parts.append(f"{key} {self.history[key][-1][1]:.4g}")
            total = f"/{self._epochs}" if self._epochs else ""
            return f"Training curves, epoch {last}{total}: " + ", ".join(parts)

        def _show(self) -> None:
            self._drawn_epoch = self._last_epoch()
            if not _in_kernel():
                return
            from IPython.display import display

            bundle = {"image/png": base64.b64encode(self.png()).decode("ascii"), "text/plain": self.summary()}
            if self.handle is None:
                self.handle = display(bundle, raw=True, display_id=True)
            else:
                self.handle.update(bundle, raw=True)
            self.updates += 1
            self._drawn_at = time.monotonic()

    return LivePlot


def __getattr__(name: str) -> Any:
    """`LivePlot` is defined on first access, importing Keras only then."""
    if name == "LivePlot":
        cls = _define()
        globals()["LivePlot"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
