"""constraints/colab.txt: the packages Colab's GPU runtime preinstalls, pinned to Colab's versions.

    python -m maintainer.colab_constraints            # refresh from GitHub (newest commit); = make colab-constraints
    python -m maintainer.colab_constraints --git-dir CLONE [--rev COMMIT]   # from a clone of backend-info
    python -m maintainer.colab_constraints --freeze pip-freeze.gpu.txt --commit SHA --date YYYY-MM-DD --python 3.13.15
    python -m maintainer.colab_constraints --changes build/colab-changes.txt   # the weekly job: what changed

Colab publishes its runtime's `pip freeze` in googlecolab/backend-info (pip-freeze.gpu.txt, with
the OS and Python in os-info-gpu.txt). This turns it into a pip constraints file, used by the
dry-run test (tests/test_colab_install.py: installing dlwp-utils changes no Colab package) and
by `make test-colab` (maintainer.depsets). The file is generated: a refresh is a reviewed commit.

Each line of the freeze:
  name==1.2.3          kept.
  name==1.2.3+cu128    the local label is stripped (name==1.2.3): `==1.2.3` matches PyPI's 1.2.3 and
                       any local build of it (+cpu, +cu128); Colab's exact line stays in a comment.
  name @ URL or path   commented out: a direct reference (a local path, a git checkout, a wheel on
                       pypi.nvidia.com or GitHub) is no version PyPI can serve.
  NOT_ON_PYPI names    commented out (python-apt==0.0.0 is Debian's python3-apt, not PyPI's).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from maintainer.layout import REPO_ROOT

REPO = "googlecolab/backend-info"
FREEZE = "pip-freeze.gpu.txt"
OS_INFO = "os-info-gpu.txt"
CONSTRAINTS = REPO_ROOT / "constraints" / "colab.txt"
REFRESH = "python -m maintainer.colab_constraints"  # the one refresh command (make colab-constraints)
NOT_ON_PYPI = {"python-apt": "Debian's python3-apt (it reports version 0.0.0), not the PyPI project"}
# glibc of each Ubuntu release Colab has run on: the wheel platforms its pip accepts.
UBUNTU_GLIBC = {"20.04": 31, "22.04": 35, "24.04": 39}

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")
_DIRECT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*@\s*(\S+)")


def normalize(name: str) -> str:
    """A project name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def convert(freeze: str) -> tuple[list[str], list[str]]:
    """(constraint lines, one note per line that was commented out or changed) for a `pip freeze`."""
    lines: list[str] = []
    notes: list[str] = []
    for raw in freeze.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        direct = _DIRECT.match(line)
        pin = _PIN.match(line)
        if direct:
            name, where = direct.groups()
            kind = "a local path" if where.startswith("file:") else "a git checkout" if where.startswith("git+") else "a URL"
            lines.append(f"# {line}")
            notes.append(f"{name}: commented out (installed from {kind}, not from PyPI)")
        elif not pin:
            lines.append(f"# {line}")
            notes.append(f"{line!r}: commented out (not a name==version line)")
        elif normalize(pin[1]) in NOT_ON_PYPI:
            lines.append(f"# {line}")
            notes.append(f"{pin[1]}: commented out ({NOT_ON_PYPI[normalize(pin[1])]})")
        elif "+" in pin[2]:
            name, (public, label) = pin[1], pin[2].split("+", 1)
            lines.append(f"{name}=={public}  # Colab: {line}")
            notes.append(f"{name}: local label +{label} stripped (=={public} matches any build of it)")
        else:
            lines.append(line)
    return lines, notes


def render(freeze: str, commit: str, date: str, python: str, platform: str) -> str:
    """The constraints file: a header saying where it came from and how to refresh it, then the pins."""
    lines, notes = convert(freeze)
    header = [
        "# Colab's GPU runtime: every package it preinstalls, at Colab's version (pip install -c constraints/colab.txt).",
        f"# Source: https://github.com/{REPO}/blob/{commit}/{FREEZE}",
        f"# Commit: {commit}",
        f"# Date: {date}",
        f"# Python: {python}",
        f"# Platform: {platform}",
        f"# Refresh: {REFRESH}  (make colab-constraints; generated, do not edit by hand)",
        "# Changes made to Colab's freeze:",
        *[f"#   {note}" for note in notes],
        "",
    ]
    return "\n".join(header + lines) + "\n"


def header_field(name: str, path: Path = CONSTRAINTS) -> str:
    """A header field of the constraints file, e.g. header_field("Python") -> "3.13.15"."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"# {name}: "):
            return line.split(": ", 1)[1].strip()
    raise KeyError(f"{path} has no '# {name}:' header line: regenerate it with `{REFRESH}`")


def pins(path: Path = CONSTRAINTS) -> dict[str, str]:
    """{normalized name: version} of every package the constraints file pins."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.split("#", 1)[0].strip())
        if match:
            found[normalize(match[1])] = match[2]
    return found


def differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """One line per package whose pinned version changed, appeared or went: "torch 2.8.0 -> 2.9.0"."""
    return [f"{name} {before.get(name, '(new)')} -> {after.get(name, '(gone)')}"
            for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)]


def _os_info(text: str) -> tuple[str, str]:
    """(Python version, OS line) from os-info-gpu.txt."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    python = next((line.split()[1] for line in lines if line.startswith("Python ")), "unknown")
    platform = next((line for line in lines if line.startswith("Ubuntu")), "unknown")
    return python, platform


def from_git(git_dir: str, rev: str) -> tuple[str, str, str, str, str]:
    """(freeze, commit, date, python, platform) from a clone (or bare git dir) of backend-info."""
    def git(*args: str) -> str:
        return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True, text=True).stdout

    commit, date = git("log", "-1", "--format=%H %cs", rev, "--", FREEZE).split()
    return (git("show", f"{commit}:{FREEZE}"), commit, date, *_os_info(git("show", f"{commit}:{OS_INFO}")))


def from_github(rev: str) -> tuple[str, str, str, str, str]:
    """(freeze, commit, date, python, platform) read from GitHub over HTTPS."""
    api = f"https://api.github.com/repos/{REPO}/commits?path={FREEZE}&per_page=1&sha={rev}"
    with urllib.request.urlopen(api, timeout=60) as response:
        info = json.load(response)[0]
    commit, date = info["sha"], info["commit"]["committer"]["date"][:10]

    def raw(path: str) -> str:
        with urllib.request.urlopen(f"https://raw.githubusercontent.com/{REPO}/{commit}/{path}", timeout=60) as response:
            return response.read().decode()

    return (raw(FREEZE), commit, date, *_os_info(raw(OS_INFO)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maintainer.colab_constraints", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--git-dir", help="a clone (or bare git dir) of googlecolab/backend-info")
    source.add_argument("--freeze", type=Path, help="a pip-freeze.gpu.txt on disk")
    parser.add_argument("--rev", default="HEAD", help="GitHub / --git-dir: the commit or branch (default: newest)")
    parser.add_argument("--commit", default="unknown", help="--freeze: the commit it came from")
    parser.add_argument("--date", default="unknown", help="--freeze: that commit's date")
    parser.add_argument("--python", default="unknown", help="--freeze: Colab's Python, e.g. 3.13.15")
    parser.add_argument("--platform", default="Ubuntu 22.04.5 LTS", help="--freeze: Colab's OS line")
    parser.add_argument("-o", "--output", type=Path, default=CONSTRAINTS)
    parser.add_argument("--changes", type=Path,
                        help="write there each version that differs from the file being replaced (empty: none); "
                             "the weekly job tests the new set, then fails when this file is not empty")
    args = parser.parse_args(argv)
    try:
        if args.git_dir:
            found = from_git(args.git_dir, args.rev)
        elif args.freeze:
            found = (args.freeze.read_text(encoding="utf-8"), args.commit, args.date, args.python, args.platform)
        else:
            found = from_github(args.rev if args.rev != "HEAD" else "main")
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError, KeyError) as err:
        print(f"error: could not read Colab's freeze ({err}). Without network access to GitHub, clone "
              f"https://github.com/{REPO} elsewhere and pass --git-dir, or pass --freeze FILE.", file=sys.stderr)
        return 1
    text = render(*found)
    before = pins(args.output) if args.output.is_file() else {}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    if args.changes is not None:
        changed = differences(before, pins(args.output))
        args.changes.parent.mkdir(parents=True, exist_ok=True)
        args.changes.write_text("".join(line + "\n" for line in changed), encoding="utf-8")
        if changed:
            print(f"Colab's runtime changed since {args.output}'s last refresh ({len(changed)} packages):")
            print("\n".join("  " + line for line in changed))
    count = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    print(f"{args.output}: {count} pins from {found[1][:12]} ({found[2]}), Colab's Python {found[3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
