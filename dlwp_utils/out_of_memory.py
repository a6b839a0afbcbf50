"""Out of memory, on any backend: one message that names the settings to lower and says to restart.

`check_backend()` installs `show_out_of_memory` in the notebook's kernel with IPython's hook for
custom exceptions (`set_custom_exc`). An out-of-memory error of torch (`OutOfMemoryError`, or the
CPU allocator's RuntimeError), TensorFlow (`ResourceExhaustedError`), JAX (`RESOURCE_EXHAUSTED`)
or Python (`MemoryError`) then shows as that message instead of a wall of traceback; every other
error shows exactly as before. The error itself is unchanged (its name and value still reach
papermill and the tests).
"""

from __future__ import annotations

import re
from typing import Any

from dlwp_utils.errors import help_link

ANCHOR = "out-of-memory"  # its entry in TROUBLESHOOTING.md
# Settings of a parameters cell that lower what a step holds in memory.
MEMORY_SETTINGS = re.compile(r"(_SIZE|LENGTH|_DIM)$")  # BATCH_SIZE, IMAGE_SIZE, SEQUENCE_LENGTH, LATENT_DIM...
_HOST_HINTS = ("DefaultCPUAllocator", "device:CPU", "allocator cpu", "TFRT_CPU", "host memory")
_ACCELERATOR_HINTS = ("cuda", "gpu", "tpu", "hbm")


def kind_of(error: BaseException) -> str | None:
    """"accelerator" or "host" when `error` is an out-of-memory error of torch, TensorFlow, JAX or Python; else None."""
    names = {cls.__name__ for cls in type(error).__mro__}
    text = str(error)
    if isinstance(error, MemoryError):
        return "host"
    if "OutOfMemoryError" in names:  # torch.OutOfMemoryError (torch.cuda.OutOfMemoryError)
        found = "accelerator"
    elif "ResourceExhaustedError" in names:  # tf.errors.ResourceExhaustedError
        found = "accelerator"
    elif names & {"XlaRuntimeError", "JaxRuntimeError"} and "RESOURCE_EXHAUSTED" in text:
        found = "accelerator"
    elif isinstance(error, RuntimeError) and ("DefaultCPUAllocator" in text or "not enough memory" in text):
        return "host"
    else:
        return None
    if any(hint.lower() in text.lower() for hint in _HOST_HINTS):
        return "host"
    if any(hint in text.lower() for hint in _ACCELERATOR_HINTS):
        return found
    return found if _has_accelerator() else "host"


def _has_accelerator() -> bool:
    """Whether the active backend computes on a GPU or TPU."""
    try:
        from dlwp_utils.backend import list_devices

        return any(not device.startswith("cpu") for device in list_devices())
    except Exception:  # noqa: BLE001  (no backend to ask: say the host)
        return False


def memory_settings(namespace: dict[str, Any], names: list[str] | None = None) -> dict[str, Any]:
    """The parameters-cell settings (`names`, default every UPPER_CASE name) that lower memory, with their values."""
    candidates = names if names is not None else [n for n in namespace if n.isupper()]
    return {name: namespace[name] for name in candidates
            if name in namespace and MEMORY_SETTINGS.search(name) and isinstance(namespace[name], (int, float))
            and not isinstance(namespace[name], bool)}


def message(error: BaseException, kind: str, settings: dict[str, Any]) -> str:
    """What the learner reads instead of the traceback."""
    what = ("the accelerator's memory (the GPU's or TPU's) ran out" if kind == "accelerator"
            else "the computer's memory (RAM) ran out")
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    lines = [f"Out of memory: {what}.", f"  ({type(error).__name__}: {first[:300]})", ""]
    if settings:
        lines.append("Lower one of these settings in the notebook's parameters cell (halve it, for a start):")
        lines += [f"  {name} = {value!r}" for name, value in settings.items()]
    else:
        lines.append("Lower the batch size or the sizes this cell works with.")
    lines += [
        "",
        "Then restart, since the memory stays taken until the session ends: on Colab, Runtime > Restart session;",
        "in Jupyter, Kernel > Restart Kernel. Run the cells again from the top, one at a time (Shift+Enter),",
        "down to this one.",
        help_link(ANCHOR),
    ]
    return "\n".join(lines)


def show_out_of_memory(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    """IPython's custom-exception handler: show the message for an out-of-memory error, the usual traceback
    (IPython's own showtraceback) otherwise. IPython leaves the showing to the handler."""
    kind = kind_of(value)
    if kind is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return
    from dlwp_utils.profile import parameter_names

    # _showtraceback is what ipykernel overrides to send the error (its name and value unchanged) to the notebook.
    shell._showtraceback(etype, value, [message(value, kind, memory_settings(shell.user_ns, parameter_names()))])


def install_handler() -> bool:
    """Install show_out_of_memory in the running IPython kernel; False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc(out_of_memory_classes(), show_out_of_memory)
    return True


def out_of_memory_classes() -> tuple[type, ...]:
    """The exception classes an out-of-memory error can have here: MemoryError; RuntimeError (torch's
    OutOfMemoryError, its CPU allocator's error, JAX's runtime error); TensorFlow's ResourceExhaustedError
    when TensorFlow is loaded. Never Exception: a SyntaxError must still show as IPython shows it."""
    import sys

    classes: list[type] = [MemoryError, RuntimeError]
    if "tensorflow" in sys.modules:
        classes.append(sys.modules["tensorflow"].errors.ResourceExhaustedError)
    return tuple(classes)
