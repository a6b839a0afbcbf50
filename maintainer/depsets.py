"""The dependency sets the notebooks are tested under, and how each one's environment is installed.

    pinned   requirements.txt exactly, Python 3.11            make test (and .ci/run)
    colab    Colab's versions (constraints/colab.txt) of every name requirements.txt lists,
             on Colab's Python (3.13)                          make test-colab   -> .venv-colab
    latest   the newest release of every name requirements.txt lists
                                                               make test-latest  -> .venv-latest

    python -m maintainer.depsets install colab                  # into the environment of this Python
    python -m maintainer.depsets install latest --torch torch   # the torch requirement to use

One list of names (requirements.txt), three ways to choose their versions. torch is installed on
its own in both extra sets, because its build depends on the machine: Colab runs a CUDA 12.8 build
whose nvidia-*, cuda-* and triton pins belong to that build, so the colab set takes Colab's torch
version from PyPI (any build of it: a CPU one from PyTorch's CPU index, else PyPI's CUDA 13 build,
which runs on a CPU too) with the rest of Colab's pins still in force. The newest set takes
--torch (default: the newest `torch`; a bare `torch` from PyPI is a multi-GB CUDA build, so give
pip PyPI's CPU index, e.g. PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu, or a CPU wheel).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from maintainer import colab_constraints as colab
from maintainer.layout import REPO_ROOT

REQUIREMENTS = REPO_ROOT / "requirements.txt"
TORCH_FAMILY = ("torch", "torchaudio", "torchvision", "torchcodec")
# Colab's pins that belong to its own CUDA build of torch, not to PyPI's build of the same version.
_TORCH_BUILD = re.compile(r"^(nvidia-|cuda-|triton$)")
# The versions worth printing after an install: what a reader of the test log needs to know.
SHOWN = ("keras", "keras-hub", "jax", "jaxlib", "tensorflow", "tensorflow-text", "torch", "numpy", "scikit-learn",
         "matplotlib", "pillow", "kagglehub", "ipython", "ipykernel", "jupyter_client", "nbclient", "papermill", "nbval",
         "pytest")


def requirement_names(path: Path = REQUIREMENTS) -> list[str]:
    """The project names requirements.txt pins, in its order (order steers pip's choices)."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[=<>!~;\[ ]", line, maxsplit=1)[0])
    return names


def torch_constraints(constraints: Path = colab.CONSTRAINTS) -> str:
    """Colab's constraints without the torch family and the pins of Colab's own torch build."""
    kept = []
    for line in constraints.read_text(encoding="utf-8").splitlines():
        name = colab.normalize(re.split(r"[=\s]", line.strip(), maxsplit=1)[0]) if line and not line.startswith("#") else ""
        if name not in TORCH_FAMILY and not _TORCH_BUILD.match(name):
            kept.append(line)
    return "\n".join(kept) + "\n"


def plan(depset: str, torch_constraints_file: Path, torch: str = "torch") -> list[list[str]]:
    """The pip commands (arguments after `pip`) that install `depset` into an empty environment."""
    others = [name for name in requirement_names() if colab.normalize(name) not in TORCH_FAMILY]
    if depset == "colab":
        pins = ["-c", str(colab.CONSTRAINTS)]
        return [
            ["install", *pins, "pip"],  # Colab's pip
            ["install", *pins, *others],
            ["install", "-c", str(torch_constraints_file), f"torch=={colab.pins()['torch']}"],
            # A second guard beside tests/test_colab_install.py: this fails if the helper would move a Colab package.
            ["install", *pins, "-e", str(REPO_ROOT)],
        ]
    if depset == "latest":
        return [
            ["install", "--upgrade", "pip"],
            ["install", "--upgrade", "--upgrade-strategy", "eager", *others, torch],
            ["install", "-e", str(REPO_ROOT)],
        ]
    raise ValueError(f"unknown dependency set {depset!r}: use colab or latest (pinned is requirements.txt)")


def install(depset: str, torch: str = "torch") -> int:
    """Install `depset` into this interpreter's environment; print the versions it got; pip's exit code."""
    with tempfile.TemporaryDirectory(prefix="dlwp-depsets-") as work:
        torch_file = Path(work) / "colab-without-its-torch-build.txt"
        torch_file.write_text(torch_constraints(), encoding="utf-8")
        for args in plan(depset, torch_file, torch):
            command = [sys.executable, "-m", "pip", *args, "--progress-bar", "off", "--disable-pip-version-check"]
            print("+ pip " + " ".join(args), flush=True)
            code = subprocess.call(command)
            if code:
                print(f"error: pip failed (exit code {code}) while installing the {depset} set; its output is above.",
                      file=sys.stderr)
                return code
    if depset == "colab" and _installed("jedi"):
        # Colab ships IPython 7.34 without jedi (which it requires): mirror that, as IPython's completer changes with it.
        subprocess.call([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "jedi"])
    print(versions(depset))
    return 0


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions(depset: str) -> str:
    """One line: the Python and the versions of the packages that matter, as installed here."""
    found = [f"{name} {_installed(name) or '-'}" for name in SHOWN]
    return f"{depset} set: python {sys.version.split()[0]}, " + ", ".join(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maintainer.depsets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["install", "versions"])
    parser.add_argument("depset", choices=["colab", "latest"])
    parser.add_argument("--torch", default="torch", help="latest: the torch requirement (default: the newest torch)")
    args = parser.parse_args(argv)
    if args.command == "versions":
        print(versions(args.depset))
        return 0
    return install(args.depset, args.torch)


if __name__ == "__main__":
    sys.exit(main())
