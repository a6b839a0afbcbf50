"""dlwp.LivePlot: outside a kernel it records quietly; executed headless (nbclient, as papermill does) the
training cell keeps exactly one output, the final figure, and no pyplot figure is left to draw twice."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

OUTSIDE_A_KERNEL = r"""
import io, json, contextlib
import numpy as np, keras
import matplotlib.pyplot as plt
import dlwp_utils as dlwp
out = io.StringIO()
x = np.random.rand(64, 4).astype("float32"); y = (x.sum(1) > 2).astype("int32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
plot = dlwp.LivePlot(metrics=("loss", "accuracy", "auc"))  # auc: not logged, left out
stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)  # stops after 2 epochs
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
    model.fit(x, y, validation_split=0.25, epochs=5, batch_size=16, verbose=0, callbacks=[plot, stop])
print(json.dumps({"noise": out.getvalue(), "panels": plot.panels(), "epochs": len(plot.history["loss"]),
                  "val": len(plot.history["val_loss"]), "figures": plt.get_fignums(), "updates": plot.updates,
                  "png": plot.png()[:8].hex(), "summary": plot.summary()}))
"""

NOTEBOOK = [
    "import numpy as np\nimport matplotlib.pyplot as plt\nimport keras\nimport dlwp_utils as dlwp\n"
    "keras.utils.set_random_seed(0)",
    "x = np.random.rand(256, 8).astype('float32')\ny = (x.sum(axis=1) > 4).astype('int32')\n"
    "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation='relu'),\n"
    "                          keras.layers.Dense(1, activation='sigmoid')])\n"
    "model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])\n"
    "plot = dlwp.LivePlot(metrics=('loss', 'accuracy'), interval=0)\n"
    "history = model.fit(x, y, validation_split=0.25, epochs=4, batch_size=32, verbose=0, callbacks=[plot])",
    "print(plot.updates, len(plot.history['val_loss']), plt.get_fignums())",
    "slow = dlwp.LivePlot(interval=3600)\n"  # the default interval with epochs far shorter than it
    "history = model.fit(x, y, validation_split=0.25, epochs=4, batch_size=32, verbose=0, callbacks=[slow])\n"
    "print(slow.updates, len(slow.history['val_loss']))",
]


def test_outside_a_kernel_it_records_without_displaying_or_printing():
    env = dict(os.environ, KERAS_BACKEND="torch", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", OUTSIDE_A_KERNEL], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["noise"] == "" and seen["panels"] == ["loss", "accuracy"]
    assert seen["epochs"] == seen["val"] == 2  # the early stop after 2 of 5 epochs still leaves its curves
    assert seen["figures"] == [] and seen["updates"] == 0  # no pyplot figure; no kernel, no display
    assert seen["png"] == b"\x89PNG\r\n\x1a\n".hex() and seen["summary"].startswith("Training curves, epoch 2/5: loss ")


def test_an_executed_notebook_keeps_exactly_one_final_image(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    nb = new_notebook(cells=[new_code_cell(source) for source in NOTEBOOK])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    monkeypatch.setenv("KERAS_BACKEND", "jax")  # the kernel inherits it
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = [o for cell in nb.cells for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2 and [o.output_type for o in nb.cells[1].outputs] == ["display_data"]  # one per fit
    assert images[0].data["text/plain"].startswith("Training curves, epoch 4/4:")  # the final figure
    assert base64.b64decode(images[0].data["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert nb.cells[2].outputs[0].text.split() == ["4", "4", "[]"]  # 1 display + 3 updates; no pyplot figure
    # Epochs shorter than the interval: the first epoch and the last are drawn, the curves keep every epoch.
    assert [o.output_type for o in nb.cells[3].outputs] == ["display_data", "stream"]
    assert nb.cells[3].outputs[0].data["text/plain"].startswith("Training curves, epoch 4/4:")
    assert nb.cells[3].outputs[1].text.split() == ["2", "4"]
    nbformat.validate(nb)


def test_bad_arguments_are_refused():
    import dlwp_utils as dlwp

    with pytest.raises(ValueError, match="at least one metric"):
        dlwp.LivePlot(metrics=())
    with pytest.raises(ValueError, match="every must be"):
        dlwp.LivePlot(every=0)
    with pytest.raises(ValueError, match="interval must be"):
        dlwp.LivePlot(interval=-1)
    assert dlwp.LivePlot(metrics="loss").metrics == ("loss",)


def test_importing_the_helper_still_does_not_import_keras():
    code = ("import sys, os; import dlwp_utils as dlwp; assert 'keras' not in sys.modules; "
            "os.environ['KERAS_BACKEND'] = 'torch'; plot = dlwp.LivePlot; import keras; "
            "assert keras.backend.backend() == 'torch' and issubclass(plot, keras.callbacks.Callback)")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
