"""The two environments of chapter 15's offline Keras Kinetic test, built once and reused.

    .venv-kinetic/          the client: keras-kinetic and what it needs (constraints/kinetic.txt), no
                            TensorFlow, and dlwp_utils (editable); its protobuf 6.x never meets TensorFlow
    .venv-kinetic/pod/      added to .venv's path for the job's process: google-cloud-storage, which
                            Kinetic's runner imports (constraints/kinetic-pod.txt), every shared dependency
                            at .venv's own version

    python -m maintainer.kinetic_env      # build or reuse them; prints the client's Python

A stamp holds the hash of the files that define them; a lock keeps two test workers from building at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from maintainer.layout import REPO_ROOT

CLIENT = REPO_ROOT / ".venv-kinetic"
POD = CLIENT / "pod"
DEFINITION = [REPO_ROOT / "constraints" / "kinetic.txt", REPO_ROOT / "constraints" / "kinetic-pod.txt",
              REPO_ROOT / "requirements.txt", REPO_ROOT / "pyproject.toml"]
# --no-compile: Python compiles only what the tests import (on a fresh clone here the build took 111 s with pip's
# compile step, 72 s without; the kinetic tests' first run then took 15 s longer)
PIP = ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "--no-compile"]


def _digest() -> str:
    # sys.executable too: the pod path is constrained to the versions of the environment that runs the tests
    # (.venv, or make test-colab's .venv-colab), so another one rebuilds it
    return hashlib.sha256(b"".join(path.read_bytes() for path in DEFINITION)
                          + f"{sys.version}|{sys.executable}".encode()).hexdigest()


def client_python() -> Path:
    return CLIENT / "bin" / "python"


def ensure() -> tuple[Path, Path]:
    """(the client's Python, the pod's extra path), built unless the stamp says they are current."""
    CLIENT.parent.mkdir(parents=True, exist_ok=True)
    with open(REPO_ROOT / ".venv-kinetic.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = CLIENT / ".dlwp-kinetic"
        if stamp.is_file() and stamp.read_text() == _digest() and client_python().exists():
            return client_python(), POD
        print(f"building {CLIENT.name} (keras-kinetic's client) and its pod path, about 2 minutes...", flush=True)
        shutil.rmtree(CLIENT, ignore_errors=True)  # a half-built one is never reused
        _run([sys.executable, "-m", "venv", str(CLIENT)])
        _run([str(client_python()), *PIP, "-r", str(DEFINITION[0])])
        _run([str(client_python()), *PIP, "--no-deps", "-e", str(REPO_ROOT)])
        frozen = CLIENT / "dotvenv-freeze.txt"  # .venv's versions, so that the pod path changes none of them
        frozen.write_text(subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
                                         check=True, capture_output=True, text=True).stdout)
        _run([sys.executable, *PIP, "--target", str(POD), "-r", str(DEFINITION[1]), "-c", str(frozen)])
        stamp.write_text(_digest())
        return client_python(), POD


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit code {done.returncode}):\n{done.stdout[-2000:]}"
                           f"{done.stderr[-3000:]}\nIt needs PyPI (CI has it). Delete {CLIENT} and run again.")


if __name__ == "__main__":
    print(ensure()[0])
