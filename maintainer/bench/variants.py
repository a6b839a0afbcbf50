"""The Keras settings `make bench` measures beside each backend's defaults, and how they compare."""

from __future__ import annotations

from dataclasses import dataclass

CONVOLUTIONS = ("scratch_convnet", "vgg16_frozen", "vgg16_frozen_32", "xception_compact")
# Models with a convolution over a map smaller than its kernel, which dlwp_utils.xla_cpu pads first on JAX.
SMALL_MAPS = ("vgg16_frozen_32",)


@dataclass(frozen=True)
class Variant:
    """A Keras engine measured beside a backend's defaults: a jit_compile setting or an environment."""

    engine: str  # its name in the tables
    backend: str
    jit_compile: str = "auto"
    env: tuple[tuple[str, str], ...] = ()
    models: tuple[str, ...] | None = None  # None: every model


# Measured where they may close a gap to native PyTorch. A first round over every model found XLA (off
# by default for TensorFlow on a CPU) 3-5x faster for TensorFlow's LSTMs, and slower for its
# convolutions. On torch, jit_compile=True is torch.compile. XLA:CPU's oneDNN and XNNPACK options are
# the candidates for JAX's convolutions (chapter 8's long pole in make test). The jax engine pads a map
# smaller than its kernel first, as the notebooks do (dlwp_utils.xla_cpu); the variant without it is
# Keras' own convolution. The torch engine hands channels-last maps to torch's convolutions and pools as
# views, as the notebooks do on a CPU (dlwp_utils.torch_cpu); the variant without it is Keras' own copies.
VARIANTS = [
    Variant("tensorflow (jit_compile=True)", "tensorflow", "true", models=("stacked_lstm", "rnn_cells")),
    Variant("torch (jit_compile=True)", "torch", "true"),
    Variant("jax (XLA oneDNN)", "jax", env=(("XLA_FLAGS", "--xla_cpu_use_onednn=true"),), models=CONVOLUTIONS),
    Variant("jax (XLA XNNPACK)", "jax", env=(("XLA_FLAGS", "--xla_cpu_use_xnnpack=true"),), models=CONVOLUTIONS),
    Variant("jax (Keras' own convolution)", "jax", env=(("DLWP_XLA_CPU_PAD", "0"),), models=SMALL_MAPS),
    Variant("torch (Keras' own copies)", "torch", env=(("DLWP_TORCH_CPU_LAYOUT", "0"),), models=CONVOLUTIONS),
]
BY_ENGINE = {v.engine: v for v in VARIANTS}
