"""The backend and its devices: choose and check the backend before Keras is imported, list the devices,
the dtype they suit, simulated devices for keras.distribution, seeds, Colab detection."""

from __future__ import annotations

import difflib
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

from dlwp_utils.errors import BackendError, DLWPError

BACKENDS = ("jax", "tensorflow", "torch")
DEFAULT_BACKEND = "jax"

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


def check_backend(default: str = DEFAULT_BACKEND) -> None:
    """Validate KERAS_BACKEND (defaulting it), import Keras, and print a one-line environment report."""
    os.environ.setdefault("KERAS_BACKEND", default)
    # TensorFlow's C++ start-up chatter hides the lines a learner should read.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    wanted = validate_backend(os.environ["KERAS_BACKEND"])
    running = _imported_backend()
    if running is not None and running != wanted:
        raise BackendError(
            f'Keras was already imported with the "{running}" backend, but KERAS_BACKEND asks for '
            f'"{wanted}". The backend is fixed when Keras is first imported. Restart the kernel '
            "(Colab: Runtime > Restart session) and run the notebook from the top, setting "
            "KERAS_BACKEND before any cell imports keras."
        )
    import keras  # noqa: F401  (imported here, after the check, on purpose)

    print(environment_report())


def _imported_backend() -> str | None:
    """The backend of an already imported Keras, or None if Keras is not imported yet."""
    if "keras" not in sys.modules:
        return None
    try:
        return sys.modules["keras"].backend.backend()
    except AttributeError:  # a half-imported or foreign module named keras
        return None


def environment_report() -> str:
    """One line: backend, library versions, devices, and whether this is Colab."""
    import keras

    backend = keras.backend.backend()
    package = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}[backend]
    where = "Colab" if in_colab() else "local"
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
    """"bfloat16" when the backend computes on a GPU or TPU (half the memory), else "float32"."""
    accelerated = any(not device.startswith("cpu") for device in list_devices())
    return "bfloat16" if accelerated else "float32"


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
