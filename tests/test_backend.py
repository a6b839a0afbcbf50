"""dlwp_utils.backend: backend names, the already-imported check, the report line, Colab, devices."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

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


def test_check_backend_lets_the_frameworks_share_a_gpu_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    code = """
        import os, dlwp_utils
        dlwp_utils.check_backend()
        print(os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"], os.environ["TF_FORCE_GPU_ALLOW_GROWTH"])
        """
    monkeypatch.delenv("XLA_PYTHON_CLIENT_PREALLOCATE", raising=False)
    done = _python(code, "tensorflow")  # Keras sets TensorFlow's growth itself, but only on the other backends
    assert done.stdout.splitlines()[-1] == "false true", done.stdout + done.stderr
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "true")  # the learner's own choice stays
    done = _python(code, "tensorflow")
    assert done.stdout.splitlines()[-1] == "true true", done.stdout + done.stderr


def test_only_the_known_keras_indexing_warning_is_hidden():
    code = """
        import warnings, dlwp_utils
        dlwp_utils.check_backend()
        text = "Using a non-tuple sequence for multidimensional indexing is deprecated"
        for module in ("keras.src.backend.torch.core", "mine"):
            warnings.warn_explicit(text, UserWarning, "core.py", 609, module=module)
        warnings.warn_explicit("something else", UserWarning, "core.py", 1, module="keras.src.backend.torch.core")
        """
    done = _python(code, "torch")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("non-tuple sequence") == 1 and "something else" in done.stderr  # only Keras's is hidden


def test_check_backend_imports_an_installed_triton_before_tensorflow(tmp_path, monkeypatch):
    # A stand-in Triton that records whether TensorFlow was already there when it was imported.
    (tmp_path / "triton").mkdir()
    (tmp_path / "triton" / "__init__.py").write_text("import sys\nAFTER_TENSORFLOW = 'tensorflow' in sys.modules\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    code = """
        import sys, dlwp_utils
        dlwp_utils.check_backend()
        import tensorflow, triton
        print("triton first:", not triton.AFTER_TENSORFLOW)
        print("again:", dlwp_utils.backend.load_triton_before_tensorflow())
        """
    done = _python(code, "jax")
    assert "triton first: True" in done.stdout and "again: False" in done.stdout, done.stdout + done.stderr


def test_in_colab_follows_the_google_colab_module(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert not in_colab()
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert in_colab()


# --- devices: the dtype they suit, and simulated devices --------------------------------------------------------------------------------------


def _jax(*devices):
    return SimpleNamespace(devices=lambda: [SimpleNamespace(platform=p, compute_capability=c) for p, c in devices])


def _tensorflow(capabilities, tpus=0):
    details = {f"GPU:{i}": {"compute_capability": c, "device_name": "fake"} for i, c in enumerate(capabilities)}
    config = SimpleNamespace(
        list_physical_devices=lambda kind: list(details) if kind == "GPU" else [],
        list_logical_devices=lambda kind: [f"TPU:{i}" for i in range(tpus)] if kind == "TPU" else [],
        experimental=SimpleNamespace(get_device_details=details.__getitem__))
    return SimpleNamespace(config=config)


def _torch(capabilities):
    cuda = SimpleNamespace(is_available=lambda: bool(capabilities), device_count=lambda: len(capabilities),
                           get_device_capability=capabilities.__getitem__,
                           is_bf16_supported=lambda including_emulation=True: True)  # what emulation answers
    return SimpleNamespace(cuda=cuda)


@pytest.mark.parametrize(("found", "expected"), [
    (backend.jax_accelerators(_jax(("cpu", None))), []),
    (backend.jax_accelerators(_jax(("gpu", "7.5"))), [("gpu", (7, 5))]),
    (backend.jax_accelerators(_jax(("tpu", None), ("tpu", None))), [("tpu", None), ("tpu", None)]),
    (backend.tensorflow_accelerators(_tensorflow([(8, 0)])), [("gpu", (8, 0))]),
    (backend.tensorflow_accelerators(_tensorflow([], tpus=1)), [("tpu", None)]),
    (backend.torch_accelerators(_torch([(7, 5), (9, 0)])), [("gpu", (7, 5)), ("gpu", (9, 0))]),
    (backend.torch_accelerators(_torch([])), []),
])
def test_each_backend_is_asked_for_its_accelerators_and_their_capability(found, expected):
    assert found == expected


@pytest.mark.parametrize(("found", "dtype"), [
    ([], "float32"),  # a CPU
    ([("gpu", (7, 5))], "float32"),  # Colab's T4 only emulates bfloat16
    ([("gpu", (8, 0))], "bfloat16"),  # A100
    ([("gpu", (8, 9)), ("gpu", (7, 5))], "float32"),  # every device must have it
    ([("gpu", None)], "float32"),  # unknown capability: the safe choice
    ([("tpu", None)], "bfloat16"),
])
def test_bfloat16_only_where_every_accelerator_computes_in_it_natively(monkeypatch, found, dtype):
    monkeypatch.setattr(backend, "accelerators", lambda: found)
    assert backend.preferred_dtype() == dtype


def test_the_active_backend_reports_no_accelerator_here():
    assert backend.accelerators() == [] and backend.preferred_dtype() == "float32"


# --- Keras and KerasHub versions, and the GPU runtime on Colab ---------------------------------------------------


def test_the_oldest_supported_versions_are_the_ones_make_test_colab_tests():
    from maintainer import colab_constraints

    pins = colab_constraints.pins()
    assert backend.OLDEST_SUPPORTED == {name: pins[name] for name in ("keras", "keras-hub")}, (
        "constraints/colab.txt changed: make test-colab now tests other versions; state those as the oldest supported")


@pytest.mark.parametrize("colab", [False, True])
def test_an_older_keras_gets_one_line_with_the_upgrade(monkeypatch, colab):
    installed = {"keras": "3.12.0", "keras-hub": "0.26.0"}
    monkeypatch.setattr(backend, "_version", lambda package: installed.get(package, "?"))
    monkeypatch.setattr(backend, "in_colab", lambda: colab)
    line, = backend.version_warnings()
    assert line.startswith("keras 3.12.0 is older than 3.13.2, the oldest version these notebooks are tested with")
    if colab:
        assert '`%pip install -U "keras>=3.13.2"`' in line and "Runtime > Restart session" in line
    else:
        assert '`pip install -U "keras>=3.13.2"`' in line and "restart the kernel" in line


@pytest.mark.parametrize("installed", [{"keras": "3.13.2", "keras-hub": "0.26.0"}, {"keras": "3.15.1rc0"},
                                       {"keras": "4.0.0", "keras-hub": "0.32.0"}])
def test_supported_or_absent_versions_say_nothing(monkeypatch, installed):
    monkeypatch.setattr(backend, "_version", lambda package: installed.get(package, "?"))
    assert backend.version_warnings() == []


def _check_backend_output(monkeypatch, capsys, *, accelerated, profile=None):
    # Keras and its backend first: JAX looks for google.colab's own modules when it is imported.
    import keras  # noqa: F401

    monkeypatch.setitem(sys.modules, "google.colab", SimpleNamespace())
    monkeypatch.setattr(backend, "_accelerated", lambda: accelerated)
    if profile is None:
        monkeypatch.delenv("DLWP_PROFILE", raising=False)
    else:
        monkeypatch.setenv("DLWP_PROFILE", profile)
    monkeypatch.setenv("KERAS_BACKEND", backend._imported_backend() or os.environ.get("KERAS_BACKEND", "jax"))
    backend.check_backend()
    return capsys.readouterr().out.splitlines()


def test_the_book_profile_on_a_colab_cpu_runtime_says_how_to_get_a_gpu(monkeypatch, capsys):
    lines = _check_backend_output(monkeypatch, capsys, accelerated=False)
    assert lines[-1].startswith(backend.NO_GPU_ON_COLAB) and len(lines) == 2
    assert lines[-1].endswith("TROUBLESHOOTING.md#no-gpu-on-colab.")
    assert "Runtime > Change runtime type" in lines[-1] and 'PROFILE = "embedded"' in lines[-1]


@pytest.mark.parametrize(("accelerated", "profile"), [(True, None), (False, "embedded")])
def test_a_gpu_or_the_embedded_profile_needs_no_hint(monkeypatch, capsys, accelerated, profile):
    assert backend.NO_GPU_ON_COLAB not in _check_backend_output(monkeypatch, capsys, accelerated=accelerated,
                                                                profile=profile)


def test_kaggle_is_detected_by_its_environment_variable(monkeypatch):
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    assert not backend.in_kaggle()
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    assert backend.in_kaggle()


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
