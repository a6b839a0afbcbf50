"""Plots the notebooks share: training curves and image grids."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


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
    plt.show()
    return figure


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
    plt.show()
    return figure
