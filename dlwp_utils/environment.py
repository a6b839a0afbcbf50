"""`dlwp.environment_report()`: one block a learner pastes into an issue, with everything but credentials."""

from __future__ import annotations

import os
import platform
import sys

PACKAGES = ("dlwp-utils", "keras", "keras-hub", "jax", "jaxlib", "tensorflow", "torch", "numpy")


def environment_report(show: bool = True) -> str:
    """Print (unless `show` is False) and return the versions, the backend, the devices and their memory, the
    profile, where it runs and the helper's version. No value of any variable, secret or file is read into it."""
    from dlwp_utils.backend import _version, in_colab, in_kaggle
    from dlwp_utils.kaggle import credentials_source
    from dlwp_utils.profile import PROFILE_ENV, default_profile_name

    where = "Colab" if in_colab() else "Kaggle Notebooks" if in_kaggle() else "local"
    profile = default_profile_name()
    profile_from = f"${PROFILE_ENV}" if os.environ.get(PROFILE_ENV) else "the default here"
    credentials = credentials_source()  # where they are, never what they are
    lines = [
        "---- dlwp environment report (paste this block into an issue; it holds no credentials) ----",
        f"where: {where}; {platform.system()} {platform.machine()}; Python {platform.python_version()}",
        f"helper: dlwp-utils {_version('dlwp-utils')}",
        "packages: " + ", ".join(f"{p} {_version(p)}" for p in PACKAGES if p != "dlwp-utils"),
        f"KERAS_BACKEND: {os.environ.get('KERAS_BACKEND', '(not set)')}; Keras running: {_running_backend()}",
        f"profile: {profile} (from {profile_from}; a notebook's PROFILE setting overrides it)",
        f"devices: {'; '.join(_devices()) or 'none found'}",
        f"host memory: {_host_memory()}",
        f"Kaggle credentials: {'found in ' + credentials if credentials else 'none found'}",
        "----",
    ]
    text = "\n".join(lines)
    if show:
        print(text)
    return text


def _running_backend() -> str:
    keras = sys.modules.get("keras")
    try:
        return keras.backend.backend() if keras is not None else "not imported yet"
    except AttributeError:
        return "not imported yet"


def _devices() -> list[str]:
    """Each device the running backend computes on, with its memory where the backend tells it."""
    backend = _running_backend()
    found: list[str] = []
    try:
        if backend == "jax":
            import jax

            for d in jax.devices():
                stats = d.memory_stats() if d.platform != "cpu" else None
                memory = f", {stats['bytes_limit'] / 2**30:.1f} GiB" if stats and "bytes_limit" in stats else ""
                found.append(f"{d.platform}:{d.id} {getattr(d, 'device_kind', '')}{memory}".strip())
        elif backend == "tensorflow":
            import tensorflow as tf

            for d in tf.config.list_logical_devices():
                details = tf.config.experimental.get_device_details(
                    next(p for p in tf.config.list_physical_devices(d.device_type))) if d.device_type == "GPU" else {}
                found.append(f"{d.name.replace('/device:', '').lower()} {details.get('device_name', '')}".strip())
        elif backend == "torch":
            import torch

            for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
                free, total = torch.cuda.mem_get_info(i)
                found.append(f"cuda:{i} {torch.cuda.get_device_name(i)}, {total / 2**30:.1f} GiB "
                             f"({free / 2**30:.1f} GiB free)")
            found.append("cpu")
    except Exception as err:  # noqa: BLE001  (a report must not fail: say what could not be read)
        found.append(f"(could not list them: {type(err).__name__})")
    return found


def _host_memory() -> str:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        available = os.sysconf("SC_AVPHYS_PAGES")
        return f"{pages * size / 2**30:.1f} GiB ({available * size / 2**30:.1f} GiB free)"
    except (ValueError, OSError, AttributeError):
        return "unknown"
