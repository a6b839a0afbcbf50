"""Installing dlwp-utils on Colab changes no package Colab preinstalled, and adds nothing but itself.

The setup cell runs `%pip install "dlwp-utils @ git+<repository>"` in Colab's runtime. Upgrading a
package Colab ships (IPython above all: google-colab pins it, and a new one "can cause your runtime
to repeatedly crash" after the next Restart session) must never follow from it. These tests ask
pip itself, as a dry run, against constraints/colab.txt (Colab's versions, from
googlecolab/backend-info; refresh with `python -m maintainer.colab_constraints`):

1. the resolver, for Colab's Python and platform, with every Colab package constrained to Colab's
   version: it fails exactly when the install would have to change one (the message says which,
   and what pip would move it to);
2. the same report: everything it installs is a Colab package at Colab's version, or dlwp-utils
   (this catches jedi, which Colab lacks although its IPython 7.34 requires it);
3. pip's own upgrade-only-if-needed choice in a fake Colab environment (a venv of Colab's Python
   where one is found, $COLAB_PYTHON or python3.13, else this one; its site-packages holds a bare
   .dist-info per Colab package): it must replace nothing;
4. every module the notebooks and dlwp_utils import is on Colab or in the dependencies.

They need PyPI (CI has it). pip downloads the wheels of the closure once (about 100 MB: the index
serves no separate metadata files) and caches them; with a warm cache they take about 20 s.
The project is not built: its dependencies are read from pyproject.toml, which is what pip
resolves for it (the test fails if they ever become dynamic).
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from maintainer import colab_constraints as colab
from maintainer.layout import REPO_ROOT, chapter_notebooks

# What installing dlwp-utils may add to Colab: the package itself, nothing else.
ALLOWED_NEW = {"dlwp-utils"}
COLAB_PYTHON = ".".join(colab.header_field("Python").split(".")[:2])  # "3.13"
COLAB_GLIBC = colab.UBUNTU_GLIBC[colab.header_field("Platform").split()[1].rsplit(".", 1)[0]]  # 22.04 -> 35


def project_requirements() -> list[str]:
    """The requirements pip resolves for `pip install dlwp-utils` (pyproject's [project].dependencies)."""
    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "dependencies" not in meta.get("dynamic", []), "dependencies became dynamic: build the project instead"
    return list(meta.get("dependencies", []))


def _platforms() -> list[str]:
    """--platform flags for Colab's x86_64 Linux: pip does not widen a manylinux tag to the older ones."""
    tags = [f"manylinux_2_{minor}_x86_64" for minor in range(COLAB_GLIBC, 4, -1)]
    tags += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]
    return [flag for tag in tags for flag in ("--platform", tag)]


def _pip(args: list[str], report: Path) -> tuple[dict | None, str]:
    """Run pip with --dry-run --report; (the report, or None if pip failed; pip's output)."""
    report.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "pip", *args, "--dry-run", "--disable-pip-version-check",
                           "--no-input", "--report", str(report)], capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    if done.returncode != 0 and re.search(r"Could not fetch URL|Failed to establish a new connection|"
                                          r"Name or service not known|No route to host", output):
        pytest.fail("this test asks PyPI what pip would install on Colab, and PyPI could not be reached. "
                    "Run it with network access (CI has it).\n" + output[-1500:])
    return (json.loads(report.read_text()) if done.returncode == 0 else None), output


def resolve_for_colab(requirements: list[str], constraints: Path, work: Path) -> tuple[dict | None, str]:
    """pip's resolution of `pip install REQUIREMENTS -c CONSTRAINTS` for Colab's Python and platform.

    --target is never written to (a dry run); it lets pip < 23.3 accept --python-version.
    """
    return _pip(["install", "--ignore-installed", "--target", str(work / "never-written"), "-c", str(constraints),
                 "--python-version", COLAB_PYTHON, "--implementation", "cp", "--only-binary=:all:", *_platforms(),
                 *requirements], work / "report.json")


def blocking_pins(pip_output: str) -> set[str]:
    """The Colab pins a ResolutionImpossible names ("The user requested (constraint) ipython==7.34.0")."""
    return {colab.normalize(name) for name in re.findall(r"The user requested \(constraint\) ([^=\s]+)==", pip_output)}


def what_would_change(requirements: list[str], work: Path, rounds: int = 5) -> dict[str, str]:
    """Release the blocking Colab pins round by round; {name: "Colab's -> what pip would install"}."""
    pins, released = colab.pins(), set()
    for round_ in range(rounds):
        relaxed = work / f"relaxed{round_}.txt"
        relaxed.write_text("".join(f"{n}=={v}\n" for n, v in pins.items() if n not in released))
        report, output = resolve_for_colab(requirements, relaxed, work / f"round{round_}")
        if report is not None:
            chosen = {colab.normalize(item["metadata"]["name"]): item["metadata"]["version"] for item in report["install"]}
            return {name: f"{pins[name]} -> {chosen.get(name, '(no longer needed)')}" for name in sorted(released)}
        blocking = blocking_pins(output)
        if not blocking:
            return {"(pip)": output[-1500:]}
        released |= blocking
    return {name: f"{pins[name]} -> ?" for name in sorted(released)}


@pytest.fixture(scope="module")
def resolution(tmp_path_factory):
    work = tmp_path_factory.mktemp("colab-dry-run")
    return work, *resolve_for_colab(project_requirements(), colab.CONSTRAINTS, work / "main")


def test_installing_dlwp_utils_changes_no_colab_package(resolution):
    work, report, output = resolution
    if report is None:
        assert blocking_pins(output), f"pip failed, and not because of a Colab pin:\n{output[-3000:]}"
        pytest.fail(f"`pip install dlwp-utils` on Colab would change packages Colab preinstalled: "
                    f"{what_would_change(project_requirements(), work)}. Loosen or drop the requirement in "
                    "pyproject.toml's [project].dependencies that needs them.")
    pins = colab.pins()
    for item in report["install"]:
        name, version = colab.normalize(item["metadata"]["name"]), item["metadata"]["version"]
        if name in pins:  # -c guarantees it; checked so that a broken constraints file shows up
            assert version.split("+")[0] == pins[name], f"{name} {version} is not Colab's {pins[name]}"


def test_installing_dlwp_utils_adds_nothing_but_itself(resolution):
    _, report, _ = resolution
    assert report is not None, "the resolution failed: see test_installing_dlwp_utils_changes_no_colab_package"
    pins = colab.pins()
    installed = {colab.normalize(item["metadata"]["name"]): item["metadata"]["version"] for item in report["install"]}
    added = sorted(f"{name}=={version}" for name, version in installed.items() if name not in set(pins) | ALLOWED_NEW)
    assert "dlwp-utils" not in pins, "Colab ships a dlwp-utils of its own: the install would replace it"
    assert not added, (
        f"installing dlwp-utils would add packages Colab lacks: {added}. Declare them in an extra instead "
        "(pyproject.toml [project.optional-dependencies]), or drop them.")


def _fake_colab(root: Path, pins: dict[str, str]) -> Path:
    """A venv without pip whose site-packages holds a bare .dist-info for each Colab package."""
    candidates = (os.environ.get("COLAB_PYTHON"), f"python{COLAB_PYTHON}", sys.executable)  # COLAB_PYTHON: as in make
    python = next((c for c in candidates if c and _minor(c) == COLAB_PYTHON), sys.executable)
    subprocess.run([python, "-m", "venv", "--without-pip", str(root)], check=True)
    interpreter = root / "bin" / "python"
    site = Path(subprocess.run([str(interpreter), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    for name, version in pins.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return interpreter


def _minor(python: str) -> str | None:
    try:
        done = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def test_pip_on_colab_would_upgrade_nothing(tmp_path):
    # The fakes declare no dependencies of their own: what Colab's packages require is the first test's job.
    pins = colab.pins()
    interpreter = _fake_colab(tmp_path / "colab", pins)
    report, output = _pip(["--python", str(interpreter), "install", *project_requirements()], tmp_path / "report.json")
    assert report is not None, f"pip failed:\n{output[-3000:]}"
    replaced = sorted(f"{item['metadata']['name']} {pins[colab.normalize(item['metadata']['name'])]} -> "
                      f"{item['metadata']['version']}" for item in report["install"]
                      if colab.normalize(item["metadata"]["name"]) in pins)
    assert not replaced, f"`pip install dlwp-utils` on Colab would replace: {replaced}"


def test_what_installing_kinetic_on_colab_changes(tmp_path):
    # Chapter 15, 15.5 says what `pip install "keras-kinetic==0.0.4"` does to a Colab runtime: pip's own choice
    # in the fake Colab environment, as above. The section names protobuf 5.29 -> 6.33, rich 13 -> newer, and
    # pulumi, kubernetes and google-cloud packages added.
    pins = colab.pins()
    interpreter = _fake_colab(tmp_path / "colab", pins)
    report, output = _pip(["--python", str(interpreter), "install", *_kinetic_extra()], tmp_path / "report.json")
    assert report is not None, f"pip failed:\n{output[-3000:]}"
    chosen = {colab.normalize(item["metadata"]["name"]): item["metadata"]["version"] for item in report["install"]}
    replaced = {name: f"{pins[name]} -> {version}" for name, version in chosen.items() if name in pins}
    added = sorted(set(chosen) - set(pins))
    print(f"installing Kinetic on Colab replaces {len(replaced)} packages: {replaced}; adds {len(added)}: {added}")
    assert pins["protobuf"].startswith("5.29.") and chosen["protobuf"].startswith("6.33."), replaced
    assert pins["rich"].startswith("13.") and int(chosen["rich"].split(".")[0]) >= 14, replaced
    assert {"keras-kinetic", "pulumi", "kubernetes"} <= set(added)
    assert any(name.startswith("google-cloud-") for name in added), added


def _kinetic_extra() -> list[str]:
    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(meta["optional-dependencies"]["kinetic"])


# --- what the notebooks import: on Colab already, or declared ---------------------------------------------------


def imported_modules() -> set[str]:
    """Top-level modules imported by the notebooks' code cells and by dlwp_utils (magics left out)."""
    sources = [path.read_text(encoding="utf-8") for path in (REPO_ROOT / "dlwp_utils").rglob("*.py")]
    written = set()  # modules a notebook writes itself (%%writefile kinetic_job/lora_job.py)
    for notebook in chapter_notebooks():
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                text = "".join(cell["source"])
                if not text.lstrip().startswith("%%"):
                    sources.append(re.sub(r"(?m)^(\s*)[%!].*$", r"\1pass", text))
                elif text.startswith("%%writefile ") and text.split("\n", 1)[0].endswith(".py"):
                    written.add(Path(text.split("\n", 1)[0].split()[-1]).stem)
                    sources.append(text.split("\n", 1)[1])
    names = set()
    for text in sources:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - written - {"dlwp_utils", "google", "__future__"}  # google: google.colab


# Modules only a section that is off by default imports, from a package in an extra of pyproject.toml (and so
# not installed in .venv): {module: (extra, distribution)}.
IN_AN_EXTRA = {"kinetic": ("kinetic", "keras-kinetic")}


def test_the_modules_of_the_extras_are_declared_there():
    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for module, (extra, distribution) in IN_AN_EXTRA.items():
        assert module in imported_modules(), f"nothing imports {module}: drop it from IN_AN_EXTRA"
        assert any(r.startswith(distribution) for r in meta["optional-dependencies"][extra]), (module, extra)


def test_everything_the_notebooks_import_is_on_colab_or_declared():
    declared = {colab.normalize(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in project_requirements()}
    on_colab = set(colab.pins())
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for module in sorted(imported_modules() - set(IN_AN_EXTRA)):
        names = {colab.normalize(d) for d in distributions.get(module, [])}
        assert names, f"no installed distribution provides the module {module!r}: add it to requirements.txt"
        if not names & (on_colab | declared):
            missing[module] = sorted(names)
    assert not missing, f"imported, but neither on Colab nor in pyproject.toml's dependencies: {missing}"
    assert {"keras", "numpy"} <= imported_modules()  # the scan reads the notebooks at all
