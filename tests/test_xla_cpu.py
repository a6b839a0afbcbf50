"""dlwp_utils.xla_cpu: JAX's convolutions over maps smaller than their kernel, padded first on a CPU.

Each check runs in a fresh process on JAX (whatever backend the unit tests run on): the same results
as Keras' own convolution, XLA's slow form (a swapped convolution with a window reversal) gone from
the compiled program, and installed only where it applies.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dlwp_utils.xla_cpu import needs_padding_first, same_padding
from tests.fresh_python import json_on


def _on_jax(code: str, **env: str) -> dict:
    """Run `code` in a fresh Python on JAX with a CPU; the JSON it printed last."""
    return json_on("jax", code, "DLWP_XLA_CPU_PAD", JAX_PLATFORMS="cpu", **env)


def test_same_padding_is_what_jax_pads():
    from jax import lax

    for size in range(1, 8):
        for k in (1, 2, 3, 5):
            for stride in (1, 2, 3):
                for rate in (1, 2):
                    dilated = (k - 1) * rate + 1
                    assert same_padding((size,), (k,), (stride,), (rate,)) == \
                        list(lax.padtype_to_pads((size,), (dilated,), (stride,), "SAME")), (size, k, stride, rate)


def test_only_maps_smaller_than_the_kernel_need_it():
    assert needs_padding_first((2, 2), (3, 3), (1, 1))
    assert needs_padding_first((4, 2), (3, 3), (1, 1))
    assert needs_padding_first((4, 4), (3, 3), (2, 2))  # a dilated 3 x 3 spans 5
    assert not needs_padding_first((3, 3), (3, 3), (1, 1))
    assert not needs_padding_first((32, 32), (3, 3), (1, 1))


def test_the_same_results_as_keras_own_convolution():
    result = _on_jax("""
        import json
        import numpy as np
        from keras.src.backend.jax import nn
        from dlwp_utils.xla_cpu import padded_first

        conv = padded_first(nn.conv)
        rng = np.random.default_rng(0)
        worst = 0.0
        cases = [((2, 2, 2, 8), (3, 3, 8, 4), 1, 1, "channels_last"), ((2, 1, 1, 8), (3, 3, 8, 4), 1, 1, "channels_last"),
                 ((2, 3, 2, 8), (3, 3, 8, 4), 2, 1, "channels_last"), ((2, 4, 4, 8), (3, 3, 8, 4), 1, 2, "channels_last"),
                 ((2, 8, 2, 2), (3, 3, 8, 4), 1, 1, "channels_first"), ((2, 5, 8), (7, 8, 4), 1, 1, "channels_last"),
                 ((2, 8, 8, 8), (3, 3, 8, 4), 1, 1, "channels_last")]
        for x_shape, k_shape, stride, rate, fmt in cases:
            x = rng.standard_normal(x_shape).astype("float32")
            k = rng.standard_normal(k_shape).astype("float32")
            ours = np.asarray(conv(x, k, stride, "same", fmt, rate))
            theirs = np.asarray(nn.conv(x, k, stride, "same", fmt, rate))
            assert ours.shape == theirs.shape, (x_shape, ours.shape, theirs.shape)
            worst = max(worst, float(np.abs(ours - theirs).max() / (np.abs(theirs).max() + 1e-6)))
        print(json.dumps({"worst": worst}))
    """)
    assert result["worst"] < 1e-5


def test_the_compiled_program_loses_the_slow_form():
    # XLA's slow form is the swapped convolution: its window carries rhs_reversal. If a new XLA stops
    # swapping, the first assertion says the workaround is no longer needed.
    result = _on_jax("""
        import json
        import jax
        import jax.numpy as jnp
        from keras.src.backend.jax import nn
        from dlwp_utils.xla_cpu import padded_first

        x, k = jnp.ones((16, 2, 2, 64)), jnp.ones((3, 3, 64, 64))
        texts = {name: jax.jit(lambda x, k, f=f: f(x, k, 1, "same")).lower(x, k).compile().as_text()
                 for name, f in (("keras", nn.conv), ("padded_first", padded_first(nn.conv)))}
        print(json.dumps({name: "rhs_reversal" in text for name, text in texts.items()}))
    """)
    assert result == {"keras": True, "padded_first": False}


@pytest.mark.parametrize(("setting", "installed"), [(None, True), ("0", False)])
def test_check_backend_installs_it_on_jax_on_a_cpu(setting, installed):
    env = {} if setting is None else {"DLWP_XLA_CPU_PAD": setting}
    result = _on_jax("""
        import json
        import dlwp_utils as dlwp
        dlwp.check_backend()
        from dlwp_utils import xla_cpu
        from keras.src.backend.jax import nn
        again = xla_cpu.install()
        print(json.dumps({"installed": hasattr(nn.conv, "unpatched"), "again": again,
                          "once": not hasattr(getattr(nn.conv, "unpatched", None), "unpatched")}))
    """, **env)
    assert result == {"installed": installed, "again": installed, "once": True}


def test_not_installed_on_another_backend():
    env = dict(os.environ, KERAS_BACKEND="torch")
    done = subprocess.run([sys.executable, "-c", "from dlwp_utils import xla_cpu; print(xla_cpu.install())"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "False"
