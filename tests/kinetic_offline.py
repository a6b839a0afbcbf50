"""Chapter 15's Keras Kinetic section, run offline at Kinetic's own seams (tests/test_kinetic.py runs it).

    python tests/kinetic_offline.py submit NOTEBOOK WORK --pod-python PY --pod-path DIR [--set NAME=VALUE]...
        in .venv-kinetic (Kinetic, no TensorFlow): the notebook's cells up to the section's submission,
        with KINETIC_ACCELERATOR = "tpu-v5litepod-8" injected after the parameters cell as papermill does.
    python tests/kinetic_offline.py load NOTEBOOK WORK
        in .venv (the learner's set): the cells that load the job's LoRA weights back, with the job's result.
    python tests/kinetic_offline.py ready WORK
        in .venv-kinetic: dlwp.kinetic.check_ready under each missing prerequisite.

What stands in for Google Cloud, and nothing else:
- kinetic.core.core.submit_remote, patched as Kinetic's own tests do, by: Kinetic's real packager
  (execution._prepare_artifacts: payload.pkl, context.zip, the requirements.txt it finds) writing into
  a local folder that stands for the bucket, then Kinetic's real GKE job submission
  (gke_client.submit_k8s_job, which builds the Kubernetes Job), whose Kubernetes API is a local one:
  it runs the Job's container command (Kinetic's remote_runner.py, with the Job's arguments and
  environment) in a fresh process of the pod's Python, on 8 simulated JAX CPU devices in place of the
  TPU's 8 chips, with Cloud Storage reads and writes going to the local bucket (tests/kinetic_pod.py);
- Kinetic's real JobHandle then collects the result, with its status, log streaming, clean-up and
  result download answered locally.
Writes WORK/kinetic.json: what the cells computed, what Kinetic packed, the Job it built.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from unittest import mock

ACCELERATOR = "tpu-v5litepod-8"
BEFORE_THE_SECTION = ["cell-02", "cell-03", "cell-04", "cell-18"]  # setup, parameters, profile, 15.3's data
SECTION_SUBMIT = ["kinetic-2", "kinetic-3", "kinetic-4", "kinetic-6"]  # the job's folder, files, submission
FOR_LOADING = ["cell-02", "cell-03", "cell-04", "cell-06", "cell-18", "cell-20", "cell-23"]  # + the model, answers
SECTION_LOAD = ["kinetic-8", "kinetic-9"]


def cells(notebook: Path, ids: list[str]) -> list[tuple[str, str]]:
    found = {cell.get("id"): "".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"]}
    missing = [i for i in ids if i not in found]
    assert not missing, f"{notebook} has no cells {missing}: update tests/kinetic_offline.py's lists"
    return [(i, found[i]) for i in ids]


def run_cells(notebook: Path, ids: list[str], injected: str) -> tuple[dict, str | None]:
    """Run the cells in one IPython shell (magics included), `injected` after the parameters cell
    (cell-03); (the namespace, the first error's text or None)."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    for cell_id, source in cells(notebook, ids):
        for text in [source] + ([injected] if cell_id == "cell-03" else []):
            result = shell.run_cell(text)
            if not result.success:
                error = result.error_in_exec or result.error_before_exec
                return shell.user_ns, f"{cell_id}: {type(error).__name__}: {error}"
    return shell.user_ns, None


def submit(args: argparse.Namespace) -> None:
    import kinetic.core.core as core
    from kinetic.backend import execution, gke_client
    from kinetic.jobs import JobHandle, JobStatus
    from kinetic.utils import storage

    work, bucket = args.work.resolve(), args.work.resolve() / "bucket"
    runner = Path(core.__file__).resolve().parent.parent / "runner" / "remote_runner.py"
    facts: dict = {"pods": []}

    class LocalKubernetes:
        """The Kubernetes API of a cluster whose one node is this machine: it runs a Job's container."""

        def create_namespaced_job(self, namespace, body):
            container = body.spec.template.spec.containers[0]
            env = {e.name: e.value for e in container.env}
            pod = {"node_selector": body.spec.template.spec.node_selector, "limits": container.resources.limits,
                   "command": container.command, "args": container.args, "env": env}
            assert container.command[-1] == "/app/remote_runner.py", container.command
            pod_env = {**os.environ, **env, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(args.pod_path),
                       "XLA_FLAGS": "--xla_force_host_platform_device_count=8"}  # 8 CPU devices for the 8 chips
            pod_work = work / f"pod-{len(facts['pods'])}"
            pod_work.mkdir()
            done = subprocess.run([str(args.pod_python), str(Path(__file__).with_name("kinetic_pod.py")), str(bucket),
                                   str(runner), *container.args], env=pod_env, cwd=pod_work, capture_output=True,
                                  text=True, timeout=900)
            print(done.stdout[-3000:], done.stderr[-6000:], sep="\n", flush=True)  # as Kinetic streams the pod's logs
            pod["exit_code"] = done.returncode
            facts["pods"].append(pod)
            return body

    def status(job_name, namespace="default"):
        return JobStatus.SUCCEEDED if facts["pods"][-1]["exit_code"] == 0 else JobStatus.FAILED

    def download_result(bucket_name, job_id, project=None):
        copy = work / f"result-{job_id}.pkl"
        shutil.copyfile(bucket / bucket_name / job_id / "result.pkl", copy)
        return str(copy)

    def offline_submit_remote(ctx, backend):
        """Kinetic's submit_remote without the cloud: pack, 'upload' to the local bucket, submit the GKE Job."""
        folder = bucket / ctx.bucket_name / ctx.job_id
        folder.mkdir(parents=True)
        execution._prepare_artifacts(ctx, str(folder))  # Kinetic's packager
        with zipfile.ZipFile(ctx.context_path) as context:
            facts["context"] = sorted(context.namelist())
        facts.update(working_dir=ctx.working_dir, requirements=ctx.requirements_path, accelerator=ctx.accelerator,
                     payload_env=sorted(ctx.env_vars), output_dir=ctx.output_dir, backend=backend.name)
        ctx.image_uri = "offline/kinetic-image:local"
        backend.submit_job(ctx)  # gke_client.submit_k8s_job: the Job spec, then the (local) Kubernetes API
        return JobHandle.from_job_context(ctx, backend_name=backend.name, namespace=backend.namespace,
                                          k8s_name=backend.get_k8s_name(ctx.job_id))

    class NoLogStream:
        _thread = None

        def __init__(self, *a, **k):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    os.environ.update(KINETIC_PROJECT="dlwp-offline", KINETIC_ZONE="us-west4-a", KINETIC_CLUSTER="dlwp-offline",
                      KINETIC_OUTPUT_DIR=str(work / "outputs"), KERAS_BACKEND="jax")
    patches = [
        mock.patch.object(core, "submit_remote", offline_submit_remote),
        mock.patch.object(gke_client, "_batch_v1", LocalKubernetes),
        mock.patch.object(gke_client, "get_job_status", status),
        mock.patch.object(storage, "download_result", download_result),
        mock.patch("kinetic.jobs.LogStreamer", NoLogStream),
        mock.patch("kinetic.jobs.client.CoreV1Api"),
        mock.patch.object(JobHandle, "_ensure_credentials", lambda self: None),
        mock.patch.object(JobHandle, "cleanup", lambda self, **kwargs: None),
        mock.patch("dlwp_utils.kinetic.check_ready", lambda accelerator: facts.update(checked=accelerator)),
    ]
    for patch in patches:
        patch.start()
    injected = f"KINETIC_ACCELERATOR = {ACCELERATOR!r}\n" + "".join(f"{s}\n" for s in args.set)
    os.chdir(work)
    namespace, error = run_cells(args.notebook, BEFORE_THE_SECTION, injected)
    if error is None:  # the one line of 15.1's model cell that names the preset (the rest needs TensorFlow)
        [(_, model_cell)] = cells(args.notebook, ["cell-06"])
        [line] = [line for line in model_cell.splitlines() if line.startswith("preset = ")]
        exec(line, namespace)
        namespace, error = run_cells(args.notebook, SECTION_SUBMIT, injected)
    facts.update(error=error, result=namespace.get("tpu_result"))
    (work / "kinetic.json").write_text(json.dumps(facts, indent=1, default=str))


def load(args: argparse.Namespace) -> None:
    work = args.work.resolve()
    facts = json.loads((work / "kinetic.json").read_text())
    os.chdir(work)
    injected = f"KINETIC_ACCELERATOR = {ACCELERATOR!r}\ntpu_result = {facts['result']!r}\n"
    namespace, error = run_cells(args.notebook, FOR_LOADING + SECTION_LOAD, injected)
    loaded = {name: namespace.get(name) for name in
              ["answers_without", "exact_match_without", "answers_loaded", "exact_match_loaded", "lora_weights"]}
    (work / "loaded.json").write_text(json.dumps(dict(loaded, error=error), indent=1, default=str))


def ready(args: argparse.Namespace) -> None:
    """check_ready's message under each missing prerequisite, in a clean environment each time."""
    import dlwp_utils as dlwp

    work = args.work.resolve()
    bin_ = work / "bin"
    bin_.mkdir(parents=True, exist_ok=True)
    (bin_ / "gcloud").write_text("#!/bin/sh\nexit 0\n")
    (bin_ / "gcloud").chmod(0o755)
    credentials = work / "adc.json"  # the shape `gcloud auth application-default login` writes
    credentials.write_text(json.dumps({"type": "authorized_user", "client_id": "id", "client_secret": "secret",
                                       "refresh_token": "token"}))
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    base = {"HOME": str(work / "home"), "PATH": str(bin_), "KINETIC_PROJECT": "dlwp-offline",
            "GOOGLE_APPLICATION_CREDENTIALS": str(credentials), "CLOUDSDK_CONFIG": str(work / "gcloud-config")}
    cases = {
        "ready": ({}, ACCELERATOR),
        "unknown accelerator": ({}, "tpu-v9-12"),
        "no gcloud": ({"PATH": str(empty)}, ACCELERATOR),
        "no project": ({"KINETIC_PROJECT": None}, ACCELERATOR),
        "no credentials": ({"GOOGLE_APPLICATION_CREDENTIALS": None}, ACCELERATOR),
    }
    messages = {}
    keep = {k: v for k, v in os.environ.items() if k.startswith(("LANG", "LC_"))}
    for case, (changes, accelerator) in cases.items():
        os.environ.clear()
        os.environ.update(keep, **{k: v for k, v in {**base, **changes}.items() if v is not None})
        try:
            dlwp.kinetic.check_ready(accelerator)
            messages[case] = None
        except dlwp.kinetic.KineticError as err:
            messages[case] = str(err)
    (work / "ready.json").write_text(json.dumps(messages, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("submit", "load"):
        command = commands.add_parser(name)
        command.add_argument("notebook", type=Path)
        command.add_argument("work", type=Path)
        if name == "submit":
            command.add_argument("--pod-python", type=Path, required=True)
            command.add_argument("--pod-path", type=Path, required=True)
            command.add_argument("--set", action="append", default=[], help="another parameter, as NAME=VALUE code")
    commands.add_parser("ready").add_argument("work", type=Path)
    parsed = parser.parse_args()
    for name in ("notebook", "pod_python", "pod_path"):  # absolute, the venv's python link kept
        if getattr(parsed, name, None):
            setattr(parsed, name, getattr(parsed, name).absolute())
    {"submit": submit, "load": load, "ready": ready}[parsed.command](parsed)
