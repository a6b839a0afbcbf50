"""Make a release: the version, the changelog, the tag, and every setup cell and badge pointing at the tag.

    python -m maintainer.release 0.2.0     # then: git push origin main v0.2.0

On a clean work tree of the repository it:
1. sets the version in pyproject.toml and dlwp_utils/__init__.py (`__version__`);
2. turns CHANGELOG.md's "## Unreleased" section into "## 0.2.0 (date)" under a new, empty "## Unreleased";
3. points pyproject.toml's [tool.dlwp] ref, every notebook's setup cell (its pip install) and badges,
   and the READMEs' Colab badges at the tag `v0.2.0` (maintainer.hygiene's fork, with the same address);
4. commits that, and tags the commit `v0.2.0`.

Nothing is pushed. Until the tag is pushed, a Colab setup cell that installs it fails, so push both.
The hygiene check then fails whenever the notebooks' ref and the package's version disagree. A learner
who wants the newest code still can install `main` (the README says how).
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys
from pathlib import Path

from maintainer import hygiene
from maintainer.layout import REPO_ROOT

VERSION = re.compile(r"^\d+\.\d+\.\d+$")
UNRELEASED = "## Unreleased"


class ReleaseError(Exception):
    """A release that cannot be made as asked: says why and what to do."""


def tag_of(version: str) -> str:
    """The git tag of a version: "0.2.0" -> "v0.2.0"."""
    return f"v{version}"


def package_version(root: Path = REPO_ROOT) -> str:
    """The version pyproject.toml states."""
    return str(hygiene._pyproject(root)["project"]["version"])


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed in {root}: {done.stderr.strip()}")
    return done.stdout


def _replace_once(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(pattern, replacement, text, count=1, flags=re.M)
    if count != 1:
        raise ReleaseError(f"{path} has no line matching {pattern!r}: restore it, then run the release again.")
    path.write_text(new, encoding="utf-8")


def changelog_with_release(text: str, version: str, date: str) -> str:
    """CHANGELOG.md's text with its Unreleased section released as `version`, and a new empty Unreleased above it."""
    start = text.find(UNRELEASED + "\n")
    if start < 0:
        raise ReleaseError(f'CHANGELOG.md has no "{UNRELEASED}" section: add one that says what this release changes.')
    rest = text[start + len(UNRELEASED) + 1:]
    following = re.search(r"^## ", rest, flags=re.M)
    body = rest[: following.start()] if following else rest
    if not body.strip():
        raise ReleaseError(f'CHANGELOG.md\'s "{UNRELEASED}" section is empty: say what {version} changes first.')
    return text[:start] + f"{UNRELEASED}\n\n## {version} ({date})\n" + rest


def release(version: str, root: Path = REPO_ROOT, date: str | None = None) -> str:
    """Make the release commit and its tag in the repository at `root`; the tag."""
    if not VERSION.match(version):
        raise ReleaseError(f"{version!r} is not a version like 0.2.0 (major.minor.patch).")
    tag = tag_of(version)
    if _git(root, "status", "--porcelain").strip():
        raise ReleaseError(f"{root} has uncommitted changes: commit or stash them, then run the release again.")
    if _git(root, "tag", "--list", tag).strip():
        raise ReleaseError(f"the tag {tag} exists already: choose the next version.")
    changelog = root / "CHANGELOG.md"
    if not changelog.is_file():
        raise ReleaseError(f"{changelog} does not exist: create it with a \"{UNRELEASED}\" section first.")
    day = date or datetime.date.today().isoformat()
    changelog.write_text(changelog_with_release(changelog.read_text(encoding="utf-8"), version, day),
                         encoding="utf-8")
    _replace_once(root / "pyproject.toml", r'^version = "[^"]*"', f'version = "{version}"')
    _replace_once(root / "dlwp_utils" / "__init__.py", r'^__version__ = "[^"]*"', f'__version__ = "{version}"')
    hygiene.fork(hygiene.repository_url(root), ref=tag, root=root)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", f"Release {version}: setup cells and badges install and open {tag}")
    _git(root, "tag", "-a", tag, "-m", f"dlwp-utils {version}")
    return tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maintainer.release", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("version", help="the new version, e.g. 0.2.0")
    args = parser.parse_args(argv)
    try:
        tag = release(args.version)
    except (ReleaseError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"Released {args.version}: committed and tagged {tag}. Publish it: git push origin main {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
