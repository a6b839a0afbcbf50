"""dlwp_utils.torch_cpu: Keras' channels-last maps reach torch's convolutions without copies.

Each check runs in a fresh process on torch (whatever backend the unit tests run on): the same results,
forward and gradients, as Keras' own code, to the last bit, for each operation and for a model trained a
few steps; fewer copies; installed only where it applies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.fresh_python import json_on


# Every check's code starts here: Keras' own functions (own), the wrapped ones (ours), and use() to switch.
PRELUDE = """
import json
import numpy as np
import torch
from keras.src.backend.torch import nn
from dlwp_utils import torch_cpu

ours = torch_cpu.views_for(nn)
own = {name: getattr(nn, name) for name in ours}


def use(functions):
    for name, function in functions.items():
        setattr(nn, name, function)
"""


def _on_torch(code: str, **env: str) -> dict:
    """Run PRELUDE and `code` in a fresh Python on torch with a CPU; the JSON it printed last."""
    return json_on("torch", PRELUDE + textwrap.dedent(code), "DLWP_TORCH_CPU_LAYOUT", KERAS_TORCH_DEVICE="cpu", **env)


def test_every_convolution_and_pool_gives_keras_own_results_and_gradients_to_the_last_bit():
    result = _on_torch("""
        rng = np.random.default_rng(0)

        def t(*shape):
            return torch.tensor(rng.standard_normal(shape).astype("float32"), requires_grad=True)

        cases = {
            "conv2d same": (lambda a: nn.conv(a[0], a[1], 1, "same"), (t(2, 9, 9, 4), t(3, 3, 4, 5))),
            "conv2d valid strided": (lambda a: nn.conv(a[0], a[1], 2, "valid"), (t(2, 9, 9, 4), t(3, 3, 4, 5))),
            "conv2d dilated": (lambda a: nn.conv(a[0], a[1], 1, "same", dilation_rate=2), (t(2, 9, 9, 4), t(3, 3, 4, 5))),
            "conv3d": (lambda a: nn.conv(a[0], a[1], 1, "same"), (t(2, 5, 5, 5, 3), t(3, 3, 3, 3, 4))),
            "conv1d": (lambda a: nn.conv(a[0], a[1], 1, "same"), (t(2, 9, 4), t(3, 4, 5))),
            "depthwise": (lambda a: nn.depthwise_conv(a[0], a[1], 1, "same"), (t(2, 9, 9, 4), t(3, 3, 4, 2))),
            "separable": (lambda a: nn.separable_conv(a[0], a[1], a[2], 1, "same"),
                          (t(2, 9, 9, 4), t(3, 3, 4, 1), t(1, 1, 4, 6))),
            "conv transpose": (lambda a: nn.conv_transpose(a[0], a[1], 2, "same"), (t(2, 5, 5, 4), t(3, 3, 6, 4))),
            "max pool": (lambda a: nn.max_pool(a[0], 2, 2, "valid"), (t(2, 9, 9, 4),)),
            "max pool same": (lambda a: nn.max_pool(a[0], 3, 2, "same"), (t(2, 9, 9, 4),)),
            "average pool": (lambda a: nn.average_pool(a[0], 2, 2, "valid"), (t(2, 9, 9, 4),)),
            "average pool same": (lambda a: nn.average_pool(a[0], 3, 2, "same"), (t(2, 9, 9, 4),)),
        }
        differences = {}
        for name, (op, args) in cases.items():
            outputs = {}
            for which, functions in (("keras", own), ("view", ours)):
                use(functions)
                for a in args:
                    a.grad = None
                y = op(args)
                weights = torch.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)).astype("float32"))
                (y * weights).sum().backward()
                outputs[which] = [y.detach().numpy().copy()] + [a.grad.numpy().copy() for a in args]
            differences[name] = max(float(np.abs(a - b).max()) for a, b in zip(outputs["keras"], outputs["view"]))
        print(json.dumps(differences))
    """)
    assert len(result) == 12
    assert result == dict.fromkeys(result, 0.0)


def test_a_model_trained_with_it_ends_with_the_same_weights_to_the_last_bit():
    # What follows a pool gets the memory layout Keras' own pool gives it, so the reductions after it (a batch
    # normalization, a bias's gradient) add in the same order: with the pool's output left channels-last, they do not.
    result = _on_torch("""
        import keras
        from keras import layers
        rng = np.random.default_rng(0)
        x = rng.standard_normal((16, 24, 24, 3)).astype("float32")
        y = rng.integers(0, 2, (16, 1)).astype("float32")
        trained = {}
        for which, functions in (("keras", own), ("view", ours)):
            use(functions)
            keras.utils.set_random_seed(0)
            inputs = keras.Input((24, 24, 3))
            h = layers.Conv2D(8, 3, padding="same", use_bias=False)(inputs)
            h = layers.BatchNormalization()(h)
            residual = h
            h = layers.SeparableConv2D(8, 3, padding="same", activation="relu")(h)
            h = layers.MaxPooling2D(3, strides=2, padding="same")(h)
            h = layers.add([h, layers.Conv2D(8, 1, strides=2, padding="same")(residual)])
            h = layers.BatchNormalization()(h)
            h = layers.Conv2D(8, 3, activation="relu")(h)
            h = layers.AveragePooling2D(2)(h)
            h = layers.Conv2D(8, 2, activation="relu")(h)
            h = layers.GlobalAveragePooling2D()(h)
            model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(h))
            model.compile(keras.optimizers.RMSprop(1e-2), "binary_crossentropy")
            losses = [float(model.train_on_batch(x, y)) for _ in range(4)]
            trained[which] = (losses, model.get_weights())
        (losses, weights), (losses2, weights2) = trained["keras"], trained["view"]
        print(json.dumps({"losses": losses == losses2, "weights": all(np.array_equal(a, b) for a, b in zip(weights, weights2)),
                          "learned": losses[-1] != losses[0]}))
    """)
    assert result == {"losses": True, "weights": True, "learned": True}


def test_a_channels_last_map_reaches_torch_as_a_view_and_a_training_step_makes_fewer_copies():
    result = _on_torch("""
        import json
        import keras
        import numpy as np
        import torch
        from torch.profiler import ProfilerActivity, profile
        from keras.src.backend.torch import nn
        from dlwp_utils import torch_cpu

        x = torch.ones((2, 8, 8, 3))
        view = torch_cpu.inside("convolution", torch_cpu.channels_last_view(nn._transpose_spatial_inputs))(x)
        outside = torch_cpu.channels_last_view(nn._transpose_spatial_inputs)(x)  # no convolution, no pool: Keras' own
        model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(8, 3, padding="same"),
                                  keras.layers.MaxPooling2D(2), keras.layers.Conv2D(8, 3, padding="same")])
        batch = np.ones((4, 16, 16, 3), "float32")
        labels = np.ones((4, 8, 8, 8), "float32")
        model.compile("sgd", "mse")
        copies = {}
        for which in ("keras", "view"):
            if which == "view":
                for name, function in torch_cpu.views_for(nn).items():
                    setattr(nn, name, function)
            model.train_on_batch(batch, labels)
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                model.train_on_batch(batch, labels)
            copies[which] = sum(e.count for e in prof.key_averages() if e.key == "aten::copy_")
        print(json.dumps({"shares_memory": view.data_ptr() == x.data_ptr(), "shape": list(view.shape),
                          "outside_copied": outside.data_ptr() != x.data_ptr() and outside.is_contiguous(), **copies}))
    """)
    assert result["shares_memory"] and result["shape"] == [2, 3, 8, 8] and result["outside_copied"]
    assert result["view"] < result["keras"], result


@pytest.mark.parametrize(("setting", "installed"), [(None, True), ("0", False)])
def test_check_backend_installs_it_on_torch_on_a_cpu(setting, installed):
    env = {} if setting is None else {"DLWP_TORCH_CPU_LAYOUT": setting}
    result = _on_torch("""
        import json
        import dlwp_utils as dlwp
        dlwp.check_backend()
        from dlwp_utils import torch_cpu
        from keras.src.backend.torch import nn
        again = torch_cpu.install()
        f = nn._transpose_spatial_inputs
        import keras
        copies = torch_cpu.keras_copies(getattr(f, "unpatched", f))
        from_3_15 = tuple(int(p) for p in keras.__version__.split(".")[:2]) >= (3, 15)
        print(json.dumps({"installed": hasattr(f, "unpatched"), "again": again, "keras_copies": copies,
                          "from_3_15": from_3_15, "once": not hasattr(getattr(f, "unpatched", None), "unpatched")}))
    """, **env)
    # Keras 3.15 on (the pinned set) copies; 3.14 and Colab's 3.13 give views themselves, and get nothing installed
    from_3_15 = result.pop("from_3_15")
    assert result.pop("keras_copies") == from_3_15, "Keras' own transposition copies from 3.15 on, and only there"
    expected = installed and from_3_15
    assert result == {"installed": expected, "again": expected, "once": True}


def test_not_installed_on_another_backend():
    env = dict(os.environ, KERAS_BACKEND="jax")
    done = subprocess.run([sys.executable, "-c", "from dlwp_utils import torch_cpu; print(torch_cpu.install())"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "False"
