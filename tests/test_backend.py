"""dlwp_utils.backend: backend names, the already-imported check, the report line, Colab, devices."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from dlwp_utils import backend
from dlwp_utils.backend import BACKENDS, in_colab, parse_backends, validate_backend
from dlwp_utils.errors import BackendError, DLWPError


@pytest.mark.parametrize("name", BACKENDS)
def test_valid_names_pass(name):
    assert validate_backend(name) == name


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("pytorch", "torch"), ("tf", "tensorflow"), ("JAX", "jax"), ("Torch", "torch"), ("tensorflw", "tensorflow")],
)
def test_usual_mistakes_get_a_did_you_mean(typed, meant):
    with pytest.raises(BackendError) as err:
        validate_backend(typed)
    message = str(err.value)
    assert f'Did you mean "{meant}"?' in message
    assert '"jax", "tensorflow", "torch"' in message


@pytest.mark.parametrize("typed", ["", None, "numpy", "mxnet"])
def test_other_names_list_the_valid_ones_without_a_guess(typed):
    with pytest.raises(BackendError) as err:
        validate_backend(typed)
    assert '"jax", "tensorflow", "torch"' in str(err.value)
    assert "Did you mean" not in str(err.value)


def test_parse_backends_accepts_commas_and_spaces_and_drops_repeats():
    assert parse_backends("torch, jax torch") == ["torch", "jax"]
    assert parse_backends(["tensorflow"]) == ["tensorflow"]


def test_parse_backends_rejects_empty_and_unknown():
    with pytest.raises(BackendError, match="BACKENDS is empty"):
        parse_backends(" ")
    with pytest.raises(BackendError, match='A name in BACKENDS is .pytorch.*Did you mean "torch"'):
        parse_backends("jax,pytorch")


def _python(code: str, backend: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if backend is not None:
        env["KERAS_BACKEND"] = backend
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          timeout=300)


def test_check_backend_stops_a_wrong_name_before_keras_is_imported():
    done = _python(
        """
        import sys, dlwp_utils
        try:
            dlwp_utils.check_backend()
        except dlwp_utils.BackendError as err:
            print(err)
        print("keras imported:", "keras" in sys.modules)
        """,
        "pytorch",
    )
    assert 'Did you mean "torch"?' in done.stdout, done.stderr
    assert "keras imported: False" in done.stdout


def test_check_backend_refuses_a_keras_already_running_another_backend():
    done = _python(
        """
        import os, keras, dlwp_utils
        os.environ["KERAS_BACKEND"] = "jax"
        try:
            dlwp_utils.check_backend()
        except dlwp_utils.BackendError as err:
            print(err)
        """,
        "torch",
    )
    assert 'Keras was already imported with the "torch" backend, but KERAS_BACKEND asks for "jax"' in done.stdout
    assert "Restart the kernel" in done.stdout


def test_check_backend_defaults_to_jax_and_reports_one_line():
    done = _python("import dlwp_utils; dlwp_utils.check_backend()", None)
    report = [line for line in done.stdout.splitlines() if line.startswith("Backend:")]
    assert len(report) == 1, done.stdout + done.stderr
    assert report[0].startswith("Backend: jax ") and "keras 3." in report[0] and "devices: cpu" in report[0]


def test_in_colab_follows_the_google_colab_module(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert not in_colab()
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert in_colab()


# --- devices: the dtype they suit, and simulated devices --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("devices", "dtype"), [(["cpu:0"], "float32"), (["gpu:0", "cpu"], "bfloat16"), (["tpu:0"], "bfloat16")])
def test_bfloat16_only_on_an_accelerator(monkeypatch, devices, dtype):
    monkeypatch.setattr(backend, "list_devices", lambda: devices)
    assert backend.preferred_dtype() == dtype


def test_scripts_run_on_simulated_jax_devices(tmp_path, capsys):
    script = tmp_path / "devices.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        import jax
        print(os.environ["KERAS_BACKEND"], jax.device_count(), sys.argv[1])
    """))
    backend.run_on_simulated_devices(script, "hello", devices=4)
    assert capsys.readouterr().out == "jax 4 hello\n"


def test_a_failing_script_raises_with_its_error(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("raise RuntimeError('mesh shape does not match')\n")
    with pytest.raises(DLWPError, match="mesh shape does not match"):
        backend.run_on_simulated_devices(script, devices=2)
