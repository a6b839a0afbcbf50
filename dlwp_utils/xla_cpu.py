"""JAX on a CPU: a convolution over a feature map smaller than its kernel, through XLA's fast path.

XLA's algebraic simplifier swaps the operands of such a convolution (a 3 x 3 kernel over a 2 x 2
map: VGG16's last block on chapter 8's 32 x 32 pictures). On a CPU the swapped convolution carries a
window reversal, which XLA's Eigen convolution kernels do not take, so XLA emits it as a plain loop:
137 ms instead of 6 for a batch of 16 at 512 channels on this project's 2-core machine, and VGG16's
forward pass at 32 x 32 takes 29 ms a picture instead of 7. Padding the input first, behind an
optimization barrier so that XLA cannot fold the padding back into the convolution, computes the same
sums (the zeros that "same" padding adds) through the fast path. check_backend installs it on JAX when
JAX computes on a CPU; set DLWP_XLA_CPU_PAD=0 before the setup cell to leave Keras as it is.
Measured in benchmarks/jax-small-maps/.
"""

from __future__ import annotations

import os
from typing import Any

SETTING = "DLWP_XLA_CPU_PAD"  # "0": leave Keras' JAX convolution as it is


def needs_padding_first(spatial: tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...]) -> bool:
    """True when some side of the feature map is smaller than the (dilated) kernel: XLA would swap them."""
    return any(size < (k - 1) * rate + 1 for size, k, rate in zip(spatial, kernel, dilation))


def same_padding(spatial: tuple[int, ...], kernel: tuple[int, ...], strides: tuple[int, ...],
                 dilation: tuple[int, ...]) -> list[tuple[int, int]]:
    """The (before, after) zeros per spatial side that "same" padding adds, as XLA and Keras compute them."""
    pads = []
    for size, k, stride, rate in zip(spatial, kernel, strides, dilation):
        out = -(-size // stride)
        total = max((out - 1) * stride + (k - 1) * rate + 1 - size, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _per_side(value: int | tuple[int, ...] | list[int], n: int) -> tuple[int, ...]:
    return (value,) * n if isinstance(value, int) else tuple(value)


def padded_first(conv: Any) -> Any:
    """Keras' JAX `conv`, padding first (behind an optimization barrier) where the map is smaller than the kernel."""
    import jax
    import jax.numpy as jnp
    from keras.src.backend import standardize_data_format

    def conv_padded_first(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
        channels_last = standardize_data_format(data_format) == "channels_last"
        spatial = tuple(inputs.shape[1:-1] if channels_last else inputs.shape[2:])
        n = len(spatial)
        sizes, rates = tuple(kernel.shape[:-2]), _per_side(dilation_rate, n)
        if str(padding).lower() == "same" and needs_padding_first(spatial, sizes, rates):
            pads = same_padding(spatial, sizes, _per_side(strides, n), rates)
            widths = [(0, 0), *pads, (0, 0)] if channels_last else [(0, 0), (0, 0), *pads]
            inputs = jax.lax.optimization_barrier(jnp.pad(jnp.asarray(inputs), widths))
            padding = "valid"
        return conv(inputs, kernel, strides, padding, data_format, dilation_rate)

    conv_padded_first.unpatched = conv
    return conv_padded_first


def applies() -> bool:
    """True when Keras runs on JAX, JAX computes on a CPU, and DLWP_XLA_CPU_PAD is not "0"."""
    import keras

    if keras.backend.backend() != "jax" or os.environ.get(SETTING, "1") == "0":
        return False
    import jax

    return jax.default_backend() == "cpu"


def install() -> bool:
    """Route Keras' JAX convolutions through padded_first where it applies(); True if it did (or had)."""
    if not applies():
        return False
    try:
        from keras.src.backend.jax import nn
    except ImportError:  # a Keras that moved its JAX backend: it runs, only slower
        return False
    if not hasattr(nn.conv, "unpatched"):
        nn.conv = padded_first(nn.conv)
    return True
