"""Chapter 15, 15.5: the LoRA fine-tune as a Keras Kinetic job, tested offline at Kinetic's own seams.

tests/kinetic_offline.py says what stands in for Google Cloud: Kinetic's real packager, its real GKE
Job, its real runner (remote_runner.py) in a fresh JAX process on 8 simulated devices, its real
JobHandle; a local folder for the bucket and a local Kubernetes API that runs the Job's container.
The client side runs in .venv-kinetic (keras-kinetic, protobuf 6.x, no TensorFlow), the job and the
notebook's loading cells in .venv (the learner's set): maintainer/kinetic_env.py builds the first
once (about 2 minutes, PyPI needed) and reuses it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.util import find_spec
from pathlib import Path

import pytest

from dlwp_utils import kinetic as dlwp_kinetic
from maintainer import kinetic_env
from maintainer.layout import REPO_ROOT

NOTEBOOK = REPO_ROOT / "chapter15" / "chapter15_language_models_gemma.ipynb"
DRIVER = REPO_ROOT / "tests" / "kinetic_offline.py"
ACCELERATOR = "tpu-v5litepod-8"


def drive(python: Path | str, *args: str | Path, env: dict | None = None) -> str:
    done = subprocess.run([str(python), str(DRIVER), *map(str, args)], capture_output=True, text=True, timeout=1200,
                          env=env, cwd=REPO_ROOT)
    assert done.returncode == 0, f"{DRIVER.name} {args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def envs() -> tuple[Path, Path]:
    return kinetic_env.ensure()


@pytest.fixture(scope="module")
def job(envs, tmp_path_factory) -> tuple[Path, dict]:
    """The section's cells with KINETIC_ACCELERATOR = "tpu-v5litepod-8", submitted through Kinetic offline:
    once per test run, whichever xdist worker comes first (the others wait for it and read its result)."""
    client, pod = envs
    shared = tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else \
        tmp_path_factory.getbasetemp()
    work = shared / "kinetic-job"
    with open(shared / "kinetic-job.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (work / "kinetic.json").is_file():  # written last: a run that stopped half-way is redone
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            drive(client, "submit", NOTEBOOK, work, "--pod-python", sys.executable, "--pod-path", pod)
    return work, json.loads((work / "kinetic.json").read_text())


def test_kinetic_packed_the_jobs_folder_and_ran_its_payload(job):
    work, facts = job
    assert facts["error"] is None, facts["error"]
    assert facts["checked"] == ACCELERATOR  # the cell calls check_ready first
    assert Path(facts["working_dir"]).name == "kinetic_job"
    assert facts["requirements"] == str(Path(facts["working_dir"]) / "requirements.txt"), \
        "Kinetic would build the image from another requirements file than the section's"
    assert {"lora_job.py", "requirements.txt", "preset/config.json", "preset/model.weights.h5"} <= set(facts["context"])
    assert "KINETIC_OUTPUT_DIR" in facts["payload_env"]
    [pod] = facts["pods"]
    assert pod["exit_code"] == 0
    assert pod["command"][-1] == "/app/remote_runner.py" and pod["env"]["KERAS_BACKEND"] == "jax"
    result = facts["result"]
    assert len(result["devices"]) == 8, result["devices"]
    assert result["losses"][-1] < result["losses"][0] / 4, result["losses"]
    assert Path(result["weights"]).is_file() and result["weights"].endswith(".lora.h5")
    assert Path(result["weights"]).parent == Path(facts["output_dir"]) == work / "outputs"
    assert len(result["answers"]) == 3


def test_the_job_asks_kinetic_for_8_chips_on_a_v5_lite_node(job):
    [pod] = job[1]["pods"]
    assert pod["limits"] == {"google.com/tpu": "8"}
    assert pod["node_selector"] == {"cloud.google.com/gke-tpu-accelerator": "tpu-v5-lite-podslice",
                                    "cloud.google.com/gke-tpu-topology": "2x4"}


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_the_notebook_loads_the_weights_the_job_returned(job, backend, tmp_path):
    (tmp_path / "kinetic.json").write_text((job[0] / "kinetic.json").read_text())
    drive(sys.executable, "load", NOTEBOOK, tmp_path, env=dict(os.environ, KERAS_BACKEND=backend))
    loaded = json.loads((tmp_path / "loaded.json").read_text())
    assert loaded["error"] is None, loaded["error"]
    assert loaded["lora_weights"] == job[1]["result"]["weights"]
    assert loaded["answers_loaded"] != loaded["answers_without"], "the job's LoRA weights changed no answer"
    assert loaded["exact_match_loaded"] >= loaded["exact_match_without"] + 0.3, loaded


def test_a_job_that_fails_on_the_tpu_gives_one_error_with_the_remote_traceback(envs, tmp_path):
    client, pod = envs
    drive(client, "submit", NOTEBOOK, tmp_path, "--pod-python", sys.executable, "--pod-path", pod,
          "--set", 'PRESET = "no_such_preset"')
    facts = json.loads((tmp_path / "kinetic.json").read_text())
    assert [p["exit_code"] for p in facts["pods"]] == [1]
    error = facts["error"]
    assert error.startswith(f"kinetic-6: KineticError: The job failed on {ACCELERATOR}: ValueError: Unknown preset"), error
    assert "Remote traceback" in error and "lora_job.py" in error and "from_preset" in error
    assert "run both cells again" in error


def test_each_missing_prerequisite_gets_one_message_with_the_next_step(envs, tmp_path):
    drive(envs[0], "ready", tmp_path)
    messages = json.loads((tmp_path / "ready.json").read_text())
    assert messages.pop("ready") is None
    expected = {"unknown accelerator": ["tpu-v9-12", 'KINETIC_ACCELERATOR = "tpu-v5litepod-8"'],
                "no gcloud": ["gcloud", "https://cloud.google.com/sdk/docs/install"],
                "no project": ["KINETIC_PROJECT", "kinetic up --project"],
                "no credentials": ["gcloud auth application-default login", "authenticate_user"]}
    assert set(messages) == set(expected)
    for case, words in expected.items():
        assert messages[case] and all(word in messages[case] for word in words), (case, messages[case])


def test_a_gs_output_is_downloaded_whole_and_reused_for_the_same_job(envs, tmp_path):
    # In .venv-kinetic, which has google-cloud-storage; the bucket is a stand-in that counts downloads.
    script = f"""
import dlwp_utils.kinetic as d
from pathlib import Path
from unittest import mock
calls = []
def download(filename):
    calls.append(filename)
    if len(calls) == 2:
        Path(filename).write_bytes(b"half")
        raise OSError(5, "connection reset")
    Path(filename).write_bytes(b"lora weights " + str(len(calls)).encode())
with mock.patch("google.cloud.storage.Client") as client:
    client.return_value.bucket.return_value.blob.return_value.download_to_filename.side_effect = download
    first = d.fetch_output("gs://b/outputs/job-1/gemma_lm.lora.h5", {str(tmp_path)!r})
    again = d.fetch_output("gs://b/outputs/job-1/gemma_lm.lora.h5", {str(tmp_path)!r})
    print(first == again, len(calls), Path(first).read_bytes())
    try:
        d.fetch_output("gs://b/outputs/job-2/gemma_lm.lora.h5", {str(tmp_path)!r})
    except OSError:
        pass
    print(Path(first).exists())
    third = d.fetch_output("gs://b/outputs/job-2/gemma_lm.lora.h5", {str(tmp_path)!r})
print(len(calls), Path(third).read_bytes())
"""
    done = subprocess.run([str(envs[0]), "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    # one download for job-1 (the second call reuses it); job-2's first download broke off half-way and left
    # no file to be trusted (job-1's, another job's, was replaced); its next one is whole
    printed = [line for line in done.stdout.splitlines() if not line.endswith("making it again.")]  # store's notice
    assert printed == ["True 1 b'lora weights 1'", "False", "3 b'lora weights 3'"], done.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if ".partial" in p.name) == []


def test_without_kinetic_the_message_says_what_to_install():
    assert find_spec("kinetic") is None, "keras-kinetic is installed in .venv: it belongs in .venv-kinetic only"
    with pytest.raises(dlwp_kinetic.KineticError, match=re.escape('pip install "keras-kinetic==0.0.4"')):
        dlwp_kinetic.check_ready(ACCELERATOR)


def test_the_slices_the_section_names_are_those_kinetic_parses(envs):
    script = ("import json, dlwp_utils.kinetic as d\nfrom kinetic.core.accelerators import parse_accelerator\n"
              "out = {}\nfor name in d.TPUS:\n    p = parse_accelerator(name)\n"
              "    out[name] = [p.chips, p.topology, p.num_nodes, p.gke_accelerator, p.machine_type]\n"
              "print(json.dumps(out))")
    done = subprocess.run([str(envs[0]), "-c", script], capture_output=True, text=True, check=True)
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed == {name: [t.chips, t.topology, t.hosts, t.node_selector, t.machine_type]
                      for name, t in dlwp_kinetic.TPUS.items()}


def _requirements(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_the_jobs_image_gets_the_tested_versions():
    cell = next("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c.get("id") == "kinetic-3")
    assert cell.startswith("%%writefile kinetic_job/requirements.txt\n")
    job = _requirements(cell)
    tested = _requirements((REPO_ROOT / "requirements.txt").read_text())
    assert job and all(tested.get(name) == version for name, version in job.items()), (job, tested)
    assert {"keras", "keras-hub", "tensorflow"} <= set(job)


def test_kinetic_stays_out_of_the_default_set():
    names = set(_requirements((REPO_ROOT / "requirements.txt").read_text()))
    assert not names & {"keras-kinetic", "pulumi", "kubernetes"}
    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert not any("kinetic" in r for r in meta["dependencies"])
    assert meta["optional-dependencies"]["kinetic"] == [f"keras-kinetic=={dlwp_kinetic.KINETIC_VERSION}"]
    client = _requirements((REPO_ROOT / "constraints" / "kinetic.txt").read_text())
    assert client["keras-kinetic"] == dlwp_kinetic.KINETIC_VERSION and "tensorflow" not in client
    from importlib.metadata import version

    assert int(version("protobuf").split(".")[0]) >= 7, "the learner's set lost its protobuf 7"
