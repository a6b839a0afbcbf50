"""dlwp_utils.backend: backend names, the already-imported check, the report line, Colab."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from dlwp_utils.backend import BACKENDS, in_colab, parse_backends, validate_backend
from dlwp_utils.errors import BackendError


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
