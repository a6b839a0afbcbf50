"""The Keras settings `make bench` measures beside each backend's defaults, and how they compare."""

from __future__ import annotations

from dataclasses import dataclass

CONVOLUTIONS = ("scratch_convnet", "vgg16_frozen", "xception_compact")


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
# the candidates for JAX's convolutions (chapter 8's long pole in make test).
VARIANTS = [
    Variant("tensorflow (jit_compile=True)", "tensorflow", "true", models=("stacked_lstm", "rnn_cells")),
    Variant("torch (jit_compile=True)", "torch", "true"),
    Variant("jax (XLA oneDNN)", "jax", env=(("XLA_FLAGS", "--xla_cpu_use_onednn=true"),), models=CONVOLUTIONS),
    Variant("jax (XLA XNNPACK)", "jax", env=(("XLA_FLAGS", "--xla_cpu_use_xnnpack=true"),), models=CONVOLUTIONS),
]
BY_ENGINE = {v.engine: v for v in VARIANTS}
