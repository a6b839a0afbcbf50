"""The backend and its devices: choose and check the backend before Keras is imported, check the Keras
and KerasHub versions, list the devices, the dtype they suit, simulated devices for keras.distribution,
seeds, Colab and Kaggle detection."""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

from dlwp_utils.errors import BackendError, DLWPError, help_link

BACKENDS = ("jax", "tensorflow", "torch")
DEFAULT_BACKEND = "jax"
# The oldest versions the notebooks are tested with: Colab's (make test-colab, constraints/colab.txt).
OLDEST_SUPPORTED = {"keras": "3.13.2", "keras-hub": "0.26.0"}
# GPUs compute in bfloat16 natively from compute capability 8.0 on (A100, L4, H100); a T4 is 7.5.
NATIVE_BFLOAT16_CAPABILITY = (8, 0)

# Names people type for a backend, mapped to the name Keras expects.
_ALIASES = {
    "pytorch": "torch",
    "pt": "torch",
    "th": "torch",
    "tf": "tensorflow",
    "tensorflow2": "tensorflow",
    "tf2": "tensorflow",
    "jaxlib": "jax",
    "flax": "jax",
}


def validate_backend(name: str | None, setting: str = "KERAS_BACKEND") -> str:
    """Return `name` if it is a Keras backend; otherwise raise a BackendError with a suggestion."""
    if name in BACKENDS:
        return name
    shown = "empty" if not name else repr(name)
    valid = ", ".join(f'"{b}"' for b in BACKENDS)
    message = f"{setting} is {shown}, which is not a Keras backend these notebooks run on. The valid names are {valid}."
    guess = _suggest(name or "")
    if guess:
        message += f' Did you mean "{guess}"?'
    message += (
        f" Set KERAS_BACKEND before Keras is imported (e.g. `export KERAS_BACKEND={guess or DEFAULT_BACKEND}`),"
        " and give `make run` / `make test` valid names (e.g. BACKENDS=jax,torch)."
    )
    raise BackendError(message)


def _suggest(name: str) -> str | None:
    """The backend a mistyped name most likely meant, if any."""
    key = name.strip().lower()
    if key in BACKENDS:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    close = difflib.get_close_matches(key, BACKENDS + tuple(_ALIASES), n=1, cutoff=0.6)
    if close:
        return _ALIASES.get(close[0], close[0])
    return None


def parse_backends(spec: str | list[str] | tuple[str, ...]) -> list[str]:
    """Split "jax,torch" or "jax torch" into validated backend names, in order, without repeats."""
    parts = spec.replace(",", " ").split() if isinstance(spec, str) else list(spec)
    if not parts:
        raise BackendError(f"BACKENDS is empty. Name one or more of {', '.join(BACKENDS)}, e.g. BACKENDS=jax,torch.")
    names: list[str] = []
    for part in parts:
        name = validate_backend(part, setting="A name in BACKENDS")
        if name not in names:
            names.append(name)
    return names


GPU_SHARING = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}


def check_backend(default: str = DEFAULT_BACKEND) -> None:
    """Validate KERAS_BACKEND (defaulting it), import Keras, and print a one-line environment report."""
    os.environ.setdefault("KERAS_BACKEND", default)
    # TensorFlow's C++ start-up chatter hides the lines a learner should read.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # On a GPU, share it: every backend's notebook also imports TensorFlow (tf.data), which would
    # otherwise take all of the card's memory, and JAX 75% of it, as they start.
    for name, value in GPU_SHARING.items():
        os.environ.setdefault(name, value)
    wanted = validate_backend(os.environ["KERAS_BACKEND"])
    running = _imported_backend()
    if running is not None and running != wanted:
        raise BackendError(
            f'Keras was already imported with the "{running}" backend, but KERAS_BACKEND asks for '
            f'"{wanted}". The backend is fixed when Keras is first imported. Restart the kernel '
            "(Colab: Runtime > Restart session) and run the notebook from the top, setting "
            "KERAS_BACKEND before any cell imports keras. " + help_link("switching-the-backend-needs-a-restart")
        )
    load_triton_before_tensorflow()
    import keras  # noqa: F401  (imported here, after the check, on purpose)

    quiet_known_library_warnings()
    from dlwp_utils.out_of_memory import install_handler

    install_handler()  # an out-of-memory error shows as one message naming the settings to lower
    from dlwp_utils import xla_cpu

    xla_cpu.install()  # JAX on a CPU: convolutions over maps smaller than their kernel through XLA's fast path
    from dlwp_utils import torch_cpu

    torch_cpu.install()  # torch on a CPU: channels-last maps reach convolutions and pools without copies
    print(environment_line())
    for line in version_warnings():
        print(line)
    if in_colab() and os.environ.get("DLWP_PROFILE", "book") == "book" and not _accelerated():
        # On Colab the profile is "book" unless $DLWP_PROFILE says otherwise (dlwp_utils.profile).
        print(NO_GPU_ON_COLAB + " " + help_link("no-gpu-on-colab"))


def load_triton_before_tensorflow() -> bool:
    """Import Triton now if it is installed and TensorFlow is not imported yet; True if it did.

    TensorFlow 2.20 and later load their LLVM into the global symbol table, and a Triton 3.7 or
    later imported after that crashes the kernel (tensorflow/tensorflow#124205). PyPI's CUDA
    builds of torch bring Triton, and torch imports it lazily, e.g. when the first torch.optim
    optimizer is made: chapter 3's PyTorch section on the jax and tensorflow backends, with torch
    2.14 (Triton 3.8) beside TensorFlow 2.21. Imported first, Triton keeps its own LLVM (0.5 s).
    """
    if "tensorflow" in sys.modules or "triton" in sys.modules:
        return False
    if importlib.util.find_spec("triton") is None or importlib.util.find_spec("tensorflow") is None:
        return False
    try:
        importlib.import_module("triton")  # optional: only where a CUDA build of torch brought it
    except Exception:  # noqa: BLE001  (a Triton that does not import is torch's business, not a reason to stop)
        return False
    return True


# Warnings a learner can do nothing about, by (message, module that triggers it). Keras 3.13 (Colab's)
# indexes torch tensors with a list in slice / slice_update (3.14 and later use a tuple), and torch
# 2.11 then warns twice in every KerasHub generate() call, e.g. in chapter 15's checked cells.
KNOWN_LIBRARY_WARNINGS = [
    ("Using a non-tuple sequence for multidimensional indexing", r"keras\.src\.backend\.torch\.core"),
]


def quiet_known_library_warnings() -> None:
    """Hide the warnings of KNOWN_LIBRARY_WARNINGS (each from its one Keras module); every other warning shows."""
    for message, module in KNOWN_LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning, module=module)


NO_GPU_ON_COLAB = ("No GPU: the book profile trains at the book's sizes, which takes hours on a CPU. Choose "
                   "Runtime > Change runtime type > T4 GPU and run the notebook again from the top, or set "
                   'PROFILE = "embedded" in the parameters cell.')


def version_warnings() -> list[str]:
    """One line per installed package older than OLDEST_SUPPORTED, with the command that upgrades it."""
    lines = []
    for package, oldest in OLDEST_SUPPORTED.items():
        installed = _version(package)
        if installed != "?" and _release(installed) < _release(oldest):
            upgrade = f'pip install -U "{package}>={oldest}"'
            where = (f"run `%{upgrade}` in a cell, then Runtime > Restart session" if in_colab() else
                     f"run `{upgrade}` (or `make setup` in the repository), then restart the kernel")
            lines.append(f"{package} {installed} is older than {oldest}, the oldest version these notebooks are "
                         f"tested with, and some cells may fail. To upgrade, {where}. "
                         + help_link("a-version-warning"))
    return lines


def _release(version: str) -> tuple[int, ...]:
    """The release numbers of a version string: "3.13.2rc1" -> (3, 13, 2)."""
    match = re.match(r"\d+(\.\d+)*", version.strip())
    return tuple(int(part) for part in match.group().split(".")) if match else (0,)


def _imported_backend() -> str | None:
    """The backend of an already imported Keras, or None if Keras is not imported yet."""
    if "keras" not in sys.modules:
        return None
    try:
        return sys.modules["keras"].backend.backend()
    except AttributeError:  # a half-imported or foreign module named keras
        return None


def environment_line() -> str:
    """One line: backend, library versions, devices, and whether this is Colab (dlwp.environment_report: the
    whole block for an issue)."""
    import keras

    backend = keras.backend.backend()
    package = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}[backend]
    where = "Colab" if in_colab() else "Kaggle" if in_kaggle() else "local"
    return (
        f"Backend: {backend} {_version(package)} | keras {_version('keras')} | "
        f"devices: {', '.join(list_devices())} | {where}"
    )


def list_devices() -> list[str]:
    """The devices the active backend computes on, e.g. ["cpu"] or ["gpu:0", "cpu"]."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return [f"{d.platform}:{d.id}" for d in jax.devices()]
    if backend == "tensorflow":
        import tensorflow as tf

        return [d.name.replace("/device:", "").lower() for d in tf.config.list_logical_devices()]
    import torch

    if torch.cuda.is_available():
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return ["cpu"]


def preferred_dtype() -> str:
    """"bfloat16" where every accelerator computes in it natively (TPUs, GPUs of compute capability 8.0 or
    more), else "float32", as the book does (CPUs, and GPUs such as Colab's T4, which only emulate it)."""
    found = accelerators()
    native = bool(found) and all(kind == "tpu" or (capability or (0, 0)) >= NATIVE_BFLOAT16_CAPABILITY
                                 for kind, capability in found)
    return "bfloat16" if native else "float32"


def accelerators() -> list[tuple[str, tuple[int, int] | None]]:
    """("gpu", compute capability or None) or ("tpu", None) for each accelerator the active backend sees."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax_accelerators(jax)
    if backend == "tensorflow":
        import tensorflow as tf

        return tensorflow_accelerators(tf)
    import torch

    return torch_accelerators(torch)


def jax_accelerators(jax) -> list[tuple[str, tuple[int, int] | None]]:
    """JAX: a CUDA device's `compute_capability` attribute is a string such as "7.5"."""
    found = []
    for device in jax.devices():
        if device.platform == "tpu":
            found.append(("tpu", None))
        elif device.platform == "gpu":
            found.append(("gpu", _capability(getattr(device, "compute_capability", None))))
    return found


def tensorflow_accelerators(tf) -> list[tuple[str, tuple[int, int] | None]]:
    """TensorFlow: tf.config.experimental.get_device_details(gpu)["compute_capability"] is a pair such as (7, 5)."""
    found = [("tpu", None) for _ in tf.config.list_logical_devices("TPU")]
    for gpu in tf.config.list_physical_devices("GPU"):
        found.append(("gpu", _capability(tf.config.experimental.get_device_details(gpu).get("compute_capability"))))
    return found


def torch_accelerators(torch) -> list[tuple[str, tuple[int, int] | None]]:
    """PyTorch: torch.cuda.get_device_capability(i) is a pair such as (7, 5).

    Not torch.cuda.is_bf16_supported(): by default it also answers True for GPUs that only emulate bfloat16.
    """
    if not torch.cuda.is_available():
        return []
    return [("gpu", _capability(torch.cuda.get_device_capability(i))) for i in range(torch.cuda.device_count())]


def _capability(value) -> tuple[int, int] | None:
    """(major, minor) from "8.6", (8, 6) or [8, 6]; None if it is missing or not of that form."""
    try:
        major, minor = (value.split(".") if isinstance(value, str) else value)[:2]
        return int(major), int(minor)
    except (TypeError, ValueError, AttributeError):
        return None


def _accelerated() -> bool:
    """True if the active backend computes on anything but the CPU."""
    return any(not device.startswith("cpu") for device in list_devices())


def run_on_simulated_devices(script: str | Path, *args: str | Path, devices: int = 8) -> None:
    """Run a Python script under JAX on `devices` simulated CPU devices; print its output; raise on failure."""
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu",
               XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    command = [sys.executable, str(script), *map(str, args)]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    print(result.stdout, end="")
    if result.returncode != 0:
        raise DLWPError(f"{script} failed on {devices} simulated JAX devices (exit code {result.returncode}): "
                        f"{stderr_tail(result.stderr)}")


def stderr_tail(text: str, lines: int = 6) -> str:
    """The last lines of a subprocess's error output, on one line, for an error message."""
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:]) or "(no error output)"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the active backend at once (keras.utils.set_random_seed)."""
    import keras

    keras.utils.set_random_seed(int(seed))


def in_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules


def in_kaggle() -> bool:
    """True when running in a Kaggle notebook (Kaggle sets KAGGLE_KERNEL_RUN_TYPE there)."""
    return bool(os.environ.get("KAGGLE_KERNEL_RUN_TYPE"))
