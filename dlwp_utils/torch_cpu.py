"""Keras on torch on a CPU: channels-last maps reach torch's convolutions and pools without Keras' copies.

Keras keeps images channels-last (batch, height, width, channels); torch's operations take them
channels-first. Before each convolution and pooling, Keras' torch backend permutes the axes and, from
Keras 3.15 on, copies the result into channels-first memory (`.contiguous()`); a convolution then copies it
back into channels-last memory, the layout torch's CPU convolutions (oneDNN) prefer, and a pool runs
torch's channels-first kernels, whose backward pass is slow on a CPU. The permuted view of a
channels-last map already is channels-last memory. Here a convolution and a max or average pool get
that view, and a pool's output is laid out as Keras' own pool lays it out, so every later operation
sees the memory it always saw: the results are equal to the last bit (tests/test_torch_cpu.py, for each
operation and for a small model trained a few steps). Chapter 8's small convnet trains about 1.6x as
fast at the book's 180 x 180 (1.4x at 64 x 64, in make bench). check_backend installs it when torch
computes on a CPU and Keras copies (3.14 and Colab's 3.13 pass the view themselves); set
DLWP_TORCH_CPU_LAYOUT=0 before the setup cell to leave Keras as it is.
Measured in benchmarks/torch-channels-last/.
"""

from __future__ import annotations

import contextvars
import os
from typing import Any

SETTING = "DLWP_TORCH_CPU_LAYOUT"  # "0": leave Keras' torch convolutions and pools as they are
# Keras' torch functions that get views, and what they are (a pool's output gets Keras' own layout back).
WRAPPED = {"conv": "convolution", "max_pool": "pool", "average_pool": "pool"}
_INSIDE = contextvars.ContextVar("dlwp_torch_cpu_inside", default=None)  # "convolution" or "pool" while one runs


def channels_last_view(transpose: Any) -> Any:
    """Keras' torch `_transpose_spatial_inputs`, giving the 2-D and 3-D maps of a WRAPPED operation as
    channels-first views of their channels-last memory (a copy only where the memory is not channels-last)."""
    import torch

    formats = {4: ((0, 3, 1, 2), torch.channels_last), 5: ((0, 4, 1, 2, 3), torch.channels_last_3d)}

    def transpose_as_view(inputs):
        if _INSIDE.get() is None or inputs.ndim not in formats:  # 1-D maps: torch has no channels-last layout
            return transpose(inputs)
        axes, layout = formats[inputs.ndim]
        view = torch.permute(inputs, axes)
        return view if view.is_contiguous(memory_format=layout) else view.contiguous(memory_format=layout)

    transpose_as_view.unpatched = transpose
    return transpose_as_view


def pool_layout_back(transpose_back: Any) -> Any:
    """Keras' torch `_transpose_spatial_outputs`, giving a pool's output the channels-first memory Keras' own pool
    gives it, so that the operations after it add in the same order."""

    def transpose_back_as_keras(outputs):
        if _INSIDE.get() == "pool":
            outputs = outputs.contiguous()
        return transpose_back(outputs)

    transpose_back_as_keras.unpatched = transpose_back
    return transpose_back_as_keras


def inside(kind: str, operation: Any) -> Any:
    """Keras' torch `operation` (a convolution or a pool), run with channels_last_view and pool_layout_back on."""

    def operation_on_views(*args: Any, **kwargs: Any) -> Any:
        token = _INSIDE.set(kind)
        try:
            return operation(*args, **kwargs)
        finally:
            _INSIDE.reset(token)

    operation_on_views.unpatched = operation
    return operation_on_views


def views_for(nn: Any) -> dict[str, Any]:
    """The functions of Keras' torch `nn` module that install() replaces, each wrapped to use views."""
    return {"_transpose_spatial_inputs": channels_last_view(nn._transpose_spatial_inputs),
            "_transpose_spatial_outputs": pool_layout_back(nn._transpose_spatial_outputs),
            **{name: inside(kind, getattr(nn, name)) for name, kind in WRAPPED.items()}}


def keras_copies(transpose: Any) -> bool:
    """True when Keras' own `_transpose_spatial_inputs` copies a channels-last map instead of giving a view
    (Keras 3.15 on)."""
    import torch

    maps = torch.zeros((1, 2, 2, 3))
    return transpose(maps).data_ptr() != maps.data_ptr()


def applies() -> bool:
    """True when Keras runs on torch, torch computes on a CPU, and DLWP_TORCH_CPU_LAYOUT is not "0"."""
    import keras

    if keras.backend.backend() != "torch" or os.environ.get(SETTING, "1") == "0":
        return False
    from keras.src.backend.torch.core import get_device

    return str(get_device()) == "cpu"


def install() -> bool:
    """Route Keras' torch convolutions and pools through views where it applies() and Keras copies; True if it did
    (or had)."""
    if not applies():
        return False
    try:
        from keras.src.backend.torch import nn
    except ImportError:  # a Keras that moved its torch backend: it runs, only slower
        return False
    if not all(hasattr(nn, name) for name in ["_transpose_spatial_inputs", "_transpose_spatial_outputs", *WRAPPED]):
        return False
    if hasattr(nn.conv, "unpatched"):
        return True
    if not keras_copies(nn._transpose_spatial_inputs):
        return False
    for name, function in views_for(nn).items():
        setattr(nn, name, function)
    return True
