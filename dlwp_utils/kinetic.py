"""Keras Kinetic (chapter 15, "Beyond one machine"): what a job would submit, the checks before it
is submitted, the errors a learner can act on, and the job's output brought back.

Nothing here imports Kinetic unless a job is really submitted: the section is off by default, and
keras-kinetic is not in the set a learner installs (pip install "dlwp-utils[kinetic]" adds it).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from dlwp_utils.errors import DLWPError

KINETIC_VERSION = "0.0.4"  # the release the section and its offline test were written against
INSTALL = f'pip install "keras-kinetic=={KINETIC_VERSION}"'
CORE_DEPENDENCIES = ["keras", "cloudpickle", "google-cloud-storage"]  # what Kinetic's image always installs
JAX_FOR = {"tpu": "jax[tpu]>=0.4.6", "gpu": "jax[cuda12]"}  # Kinetic installs JAX for the accelerator itself
JAX_PACKAGES = {"jax", "jaxlib", "libtpu", "libtpu-nightly"}  # so it drops these lines from requirements.txt


class KineticError(DLWPError):
    """A Kinetic job could not be submitted, or failed on the remote machine."""


@dataclass(frozen=True)
class Tpu:
    """A TPU slice as Kinetic 0.0.4 parses its name (kinetic.core.accelerators.parse_accelerator)."""

    chips: int
    topology: str
    hosts: int
    node_selector: str  # the GKE label cloud.google.com/gke-tpu-accelerator
    machine_type: str


# The slices the section names; tests/test_kinetic.py checks each against Kinetic's own parser.
TPUS = {
    "tpu-v5litepod-1": Tpu(1, "1x1", 1, "tpu-v5-lite-podslice", "ct5lp-hightpu-1t"),
    "tpu-v5litepod-4": Tpu(4, "2x2", 1, "tpu-v5-lite-podslice", "ct5lp-hightpu-4t"),
    "tpu-v5litepod-8": Tpu(8, "2x4", 1, "tpu-v5-lite-podslice", "ct5lp-hightpu-8t"),
    "tpu-v6e-8": Tpu(8, "2x4", 2, "tpu-v6e-slice", "ct6e-standard-4t"),
}


def image_requirements(job_dir: str | Path, accelerator: str) -> list[str]:
    """What Kinetic installs in the job's image: JAX for the accelerator, its core packages, and the
    job's requirements.txt without its JAX lines (as kinetic.infra.container_builder does)."""
    requirements = Path(job_dir) / "requirements.txt"
    if not requirements.is_file():
        raise KineticError(f"{requirements} is missing: Kinetic builds the job's image from the requirements.txt "
                           "beside the job's file. Run the cell that writes it (%%writefile) again.")
    lines = [line.strip() for line in requirements.read_text(encoding="utf-8").splitlines()]
    kept = [line for line in lines if line and not line.startswith("#") and _name(line) not in JAX_PACKAGES]
    category = "tpu" if accelerator.startswith("tpu") else "gpu"
    return [JAX_FOR[category], *CORE_DEPENDENCIES, *kept]


def _name(requirement: str) -> str:
    for mark in "[<>=!~; ":
        requirement = requirement.split(mark, 1)[0]
    return requirement.strip().lower()


def show_plan(job_dir: str | Path, accelerator: str) -> None:
    """Print what the section would submit to `accelerator`, and submit nothing."""
    tpu = TPUS.get(accelerator)
    if tpu is None:
        raise KineticError(f"{accelerator!r} is not one of the slices this section describes ({', '.join(TPUS)}).")
    job = Path(job_dir)
    files = sorted(p.name + ("/" if p.is_dir() else "") for p in job.iterdir() if p.name != "__pycache__")
    print(f"Kinetic is off (KINETIC_ACCELERATOR = None): nothing is submitted. With "
          f'KINETIC_ACCELERATOR = "{accelerator}" this cell would submit:')
    print(f"  accelerator: {accelerator}: {tpu.chips} TPU chips, topology {tpu.topology}, "
          f"{tpu.hosts} host{'s' if tpu.hosts > 1 else ''} ({tpu.machine_type}), "
          f"GKE node selector {tpu.node_selector}")
    print(f"  the image installs: {', '.join(image_requirements(job, accelerator))}")
    print(f"  the job's folder, zipped: {', '.join(files)}")


def job_preset(preset: str, job_dir: str | Path) -> str:
    """The preset as the remote job reaches it: a local preset folder is copied into `job_dir` (which
    travels with the job) and named relative to it; a preset name or handle is downloaded there."""
    local = Path(preset).expanduser()
    if not local.is_dir():
        return preset
    target = Path(job_dir) / "preset"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(local, target)
    return "preset"


def check_ready(accelerator: str) -> None:
    """Each thing Kinetic needs before a job is submitted, checked in order, one clear error for the first missing."""
    try:
        import kinetic  # noqa: F401
        from kinetic.core import accelerators
    except ImportError:
        raise KineticError(f"Keras Kinetic is not installed. Run `{INSTALL}` in a terminal (or %pip in a cell), "
                           "restart the kernel, and run the section again.") from None
    try:
        accelerators.parse_accelerator(accelerator)
    except ValueError as err:
        raise KineticError(f"Kinetic does not know the accelerator {accelerator!r} ({err}). Use one this section "
                           f"describes, e.g. KINETIC_ACCELERATOR = \"tpu-v5litepod-8\", or list yours with "
                           "`kinetic pool list`.") from None
    if shutil.which("gcloud") is None:
        raise KineticError("The gcloud command is not on PATH: Kinetic uses it to reach your cluster. Install the "
                           "Google Cloud CLI (https://cloud.google.com/sdk/docs/install), run `gcloud init`, then "
                           "run this cell again.")
    if not _project():
        raise KineticError("No Google Cloud project is set for Kinetic. Set it before this cell, e.g. "
                           'os.environ["KINETIC_PROJECT"] = "my-project", or run `kinetic up --project my-project` '
                           "(it saves a profile), then run this cell again.")
    try:
        import google.auth

        google.auth.default()
    except Exception as err:  # google.auth.exceptions.DefaultCredentialsError, or google-auth missing
        raise KineticError(f"No Google Cloud credentials were found ({type(err).__name__}). Run "
                           "`gcloud auth application-default login` in a terminal (on Colab: "
                           "google.colab.auth.authenticate_user()), then run this cell again.") from None


def _project() -> str | None:
    """The project Kinetic would use: $KINETIC_PROJECT, $GOOGLE_CLOUD_PROJECT, or the active Kinetic profile's."""
    found = os.environ.get("KINETIC_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT")
    if found:
        return found
    try:
        from kinetic.cli.profiles import resolve_infra

        return resolve_infra(project=None, zone=None, cluster=None, namespace=None).get("project")
    except Exception:  # no profile, or one without a project
        return None


@contextmanager
def remote_errors(accelerator: str) -> Iterator[None]:
    """Turn a job that failed on the remote machine into one error with Kinetic's remote traceback."""
    try:
        yield
    except KineticError:
        raise
    except Exception as err:
        notes = "\n".join(getattr(err, "__notes__", []))
        if "Remote traceback" in notes:  # Kinetic attaches the job's traceback to the job's own exception
            raise KineticError(
                f"The job failed on {accelerator}: {type(err).__name__}: {err}\n{notes}\nFix what the traceback "
                "points at (the job's file is the %%writefile cell above, its arguments are job_arguments in this "
                "cell), then run both cells again.") from None
        raise KineticError(
            f"Kinetic could not run the job on {accelerator}: {type(err).__name__}: {err}\nCheck the set-up steps at "
            f"the start of this section (the project, `kinetic up`, `kinetic pool add --accelerator {accelerator}`), "
            "then run this cell again. `kinetic down` removes the cluster when you are done.") from None


def fetch_output(path: str, into: str | Path) -> str:
    """A local copy of a file the job wrote under KINETIC_OUTPUT_DIR: a gs:// path is downloaded, whole or
    not at all (dlwp_utils.data.store), and reused while it is the same job's."""
    if not path.startswith("gs://"):
        return path
    from google.cloud import storage  # installed with keras-kinetic

    from dlwp_utils.data import store

    bucket, _, blob = path[len("gs://"):].partition("/")

    def download(staged: Path) -> None:
        storage.Client().bucket(bucket).blob(blob).download_to_filename(str(staged))

    return str(store.build(Path(into) / Path(blob).name, download, what="the job's LoRA weights", key=path))

