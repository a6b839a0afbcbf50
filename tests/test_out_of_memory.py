"""An out-of-memory error shows as one message naming the settings to lower, in a real kernel on every backend;
every other error shows as before (dlwp_utils/out_of_memory.py, installed by check_backend)."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from dlwp_utils.out_of_memory import kind_of, memory_settings

# Each backend's own out-of-memory error: a real one on the host (an allocation no machine has room for),
# and its accelerator error type raised as the backend raises it on a GPU.
REAL_HOST = {
    "jax": "import jax.numpy as jnp\nx = jnp.zeros((10**7, 10**7))\nx.block_until_ready()",
    "tensorflow": "import tensorflow as tf\nx = tf.zeros((10**7, 10**7))",
    "torch": "import torch\nx = torch.empty(10**14)",
}
ACCELERATOR = {
    "jax": 'import jax\nraise jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate '
           '17179869184 bytes on device cuda:0.")',
    "tensorflow": 'import tensorflow as tf\nraise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating '
                  'tensor with shape[32,512,262144] and type float on /job:localhost/replica:0/task:0/device:GPU:0")',
    "torch": 'import torch\nraise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 16.00 GiB. GPU 0 has '
             'a total capacity of 14.74 GiB")',
}


def run_cells(backend: str, cells: list[str], tmp_path, monkeypatch) -> list[dict]:
    """Execute `cells` after the setup and a parameters cell in a fresh kernel on `backend`; each cell's outputs."""
    monkeypatch.setenv("KERAS_BACKEND", backend)
    setup = ["import dlwp_utils as dlwp\ndlwp.check_backend()",
             'BATCH_SIZE = 32\nSEQUENCE_LENGTH = 512\nEPOCHS = 3\nPROMPT = "hello"\n'
             'profile = dlwp.use_profile("embedded", settings=globals())']
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in setup + cells])
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=300,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return [cell["outputs"] for cell in nb.cells[len(setup):]]


def plain_text(error: dict) -> str:
    """A traceback as the learner reads it, without the terminal colours."""
    return re.sub(r" +", " ", re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error["traceback"])))


def error_of(outputs: list[dict]) -> dict:
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert len(errors) == 1, outputs
    return errors[0]


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_out_of_memory_shows_one_message_and_other_errors_show_as_before(backend, tmp_path, monkeypatch):
    """A SyntaxError, raised before the cell runs, also still shows as IPython shows it."""
    host, accelerator, other, ordinary, syntax = run_cells(
        backend, [REAL_HOST[backend], ACCELERATOR[backend], 'raise RuntimeError("a plain mistake")',
                  'raise ValueError("a plain mistake")', "x = (1,"], tmp_path, monkeypatch)
    assert error_of(syntax)["ename"] == "SyntaxError" and "Out of memory" not in plain_text(error_of(syntax))
    for outputs, where in ((host, "the computer's memory (RAM) ran out"),
                           (accelerator, "the accelerator's memory (the GPU's or TPU's) ran out")):
        error = error_of(outputs)
        shown = "\n".join(error["traceback"])
        print(f"--- {backend}, {error['ename']}:\n{shown}")
        assert shown.startswith(f"Out of memory: {where}."), shown
        assert "BATCH_SIZE = 32" in shown and "SEQUENCE_LENGTH = 512" in shown
        assert "EPOCHS" not in shown and "PROMPT" not in shown
        assert "Runtime > Restart session" in shown and "one at a time" in shown
        assert "Traceback" not in shown and "File " not in shown
    assert error_of(accelerator)["ename"] in ("JaxRuntimeError", "XlaRuntimeError", "ResourceExhaustedError",
                                              "OutOfMemoryError")
    # A RuntimeError that is not out of memory goes through the handler, a ValueError never does: both show
    # IPython's own traceback, the same but for the name and the cell's number.
    plain, untouched = error_of(other), error_of(ordinary)
    assert plain["ename"] == "RuntimeError" and plain["evalue"] == "a plain mistake"
    assert plain_text(plain).replace("RuntimeError", "ValueError") == plain_text(untouched).replace("In[6]", "In[5]")
    assert "----> 1 raise RuntimeError" in plain_text(plain)


def test_only_out_of_memory_errors_are_recognised():
    assert kind_of(MemoryError()) == "host"
    assert kind_of(RuntimeError("DefaultCPUAllocator: can't allocate memory")) == "host"
    assert kind_of(RuntimeError("shape mismatch")) is None and kind_of(ValueError("OOM")) is None
    assert memory_settings({"BATCH_SIZE": 8, "IMAGE_SIZE": 180, "EPOCHS": 3, "LATENT_DIM": 1024, "PROMPT": "hi",
                            "SHOW": True}) == {"BATCH_SIZE": 8, "IMAGE_SIZE": 180, "LATENT_DIM": 1024}
