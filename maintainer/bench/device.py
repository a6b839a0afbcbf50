"""Which device a benchmark process computes on, and the environment that lets the three share a GPU.

Nothing here requires a GPU: each framework uses one when it finds one (Keras places tensors on
it by itself; the native references move there through torch_device()), and the report records
what each process used. The describe_* functions take the framework module as an argument so
that the tests can hand them fakes.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from dlwp_utils.backend import GPU_SHARING

# Three frameworks, one card: GPU_SHARING keeps JAX from grabbing 75% of the GPU's memory when it
# starts, and TensorFlow all of it, or the processes after the first could not run.


def sharing_environment(env: dict[str, str]) -> dict[str, str]:
    """`env` with GPU_SHARING added, where the caller has not set those variables itself."""
    return {**GPU_SHARING, **env}


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (Linux), else what platform knows, with the number of cores."""
    name = platform.processor() or platform.machine()
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU: {name}, {os.cpu_count()} cores"


def describe_torch(torch: Any) -> str:
    """The device torch computes on: the first CUDA GPU if there is one, else the CPU."""
    if torch.cuda.is_available():
        return f"GPU: {torch.cuda.get_device_name(0)}"
    return cpu_name()


def describe_jax(jax: Any) -> str:
    """The device JAX computes on by default."""
    device = jax.devices()[0]
    if device.platform == "cpu":
        return cpu_name()
    return f"GPU: {device.device_kind}" if device.platform in ("gpu", "cuda", "rocm") else f"{device.platform.upper()}: {device.device_kind}"


def describe_tensorflow(tf: Any) -> str:
    """The device TensorFlow places operations on by default: its first GPU if it sees one."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return cpu_name()
    details = tf.config.experimental.get_device_details(gpus[0])
    return f"GPU: {details.get('device_name', gpus[0].name)}"


def describe_keras_backend(backend: str) -> str:
    """The device the active Keras backend computes on."""
    if backend == "jax":
        import jax

        return describe_jax(jax)
    if backend == "tensorflow":
        import tensorflow as tf

        return describe_tensorflow(tf)
    import torch

    return describe_torch(torch)


def torch_device(torch: Any) -> Any:
    """cuda when torch sees a GPU, else cpu: where the native references run."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
