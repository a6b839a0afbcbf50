"""Keep committed notebooks clean and alike: check them, clean them, refresh their checked outputs.

    python -m dlwp_utils.hygiene check              # every chapter notebook and the README (CI runs this)
    python -m dlwp_utils.hygiene clean NOTEBOOK...  # drop execution counts and unchecked outputs
    python -m dlwp_utils.hygiene refresh NOTEBOOK... # re-run on each backend, store the checked outputs

A committed notebook has no execution counts and no outputs, except the cells marked
`# NBVAL_CHECK_OUTPUT`, whose stored output nbval compares on every backend.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
REPO_ROOT = Path(__file__).resolve().parent.parent

SETUP_CELL = """\
# Setup, the same in every notebook. On Colab: install the book's helper package (the backends
# are preinstalled). Everywhere: choose the Keras backend before Keras is imported.
import os
import sys

if "google.colab" in sys.modules:
    %pip install -q "dlwp-utils @ git+{repository}"
os.environ.setdefault("KERAS_BACKEND", "jax")  # or "tensorflow", "torch"

import dlwp_utils as dlwp

dlwp.check_backend()"""

_SECRET_PATTERNS = [
    re.compile(r"KAGGLE_KEY\s*[=:]\s*['\"]?[0-9a-f]{16,}", re.I),
    re.compile(r"\"key\"\s*:\s*\"[0-9a-f]{32}\""),
    re.compile(r"\b(hf|ghp|gho)_[A-Za-z0-9]{20,}"),
]


def repository_url(root: Path = REPO_ROOT) -> str:
    """The repository address, from pyproject.toml (its one home)."""
    with open(root / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["urls"]["Repository"].rstrip("/")


def setup_cell(root: Path = REPO_ROOT) -> str:
    """The setup cell every notebook starts with."""
    return SETUP_CELL.format(repository=repository_url(root))


def colab_url(notebook: Path, root: Path = REPO_ROOT) -> str:
    """The "Open in Colab" address of a notebook in this repository."""
    repo = repository_url(root).removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/main/{notebook.relative_to(root).as_posix()}"


def chapter_notebooks(root: Path = REPO_ROOT) -> list[Path]:
    """Every chapter notebook, in chapter order."""
    return sorted(p for p in root.glob("chapter*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def source(cell: dict[str, Any]) -> str:
    """A cell's source as one string."""
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def is_checked(cell: dict[str, Any]) -> bool:
    """True if nbval compares this cell's output."""
    return cell.get("cell_type") == "code" and CHECK_MARK in source(cell)


def check_notebook(path: Path, root: Path = REPO_ROOT) -> list[str]:
    """Every hygiene problem of one notebook, as readable lines (empty: clean)."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        return [f"{path}: not a readable notebook ({err})"]
    problems: list[str] = []
    say = problems.append
    meta = nb.get("metadata", {})
    if nb.get("nbformat") != 4:
        say("not nbformat 4")
    if not isinstance(meta.get("colab"), dict):
        say("no Colab metadata (metadata.colab)")
    if meta.get("kernelspec", {}).get("name") != "python3":
        say("kernelspec is not python3")
    cells = nb.get("cells", [])
    code = [c for c in cells if c.get("cell_type") == "code"]
    if not code or source(code[0]).strip() != setup_cell(root).strip():
        say("the first code cell is not the standard setup cell (see dlwp_utils/hygiene.py SETUP_CELL)")
    tagged = [i for i, c in enumerate(code) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        say(f"{len(tagged)} cells are tagged 'parameters'; exactly one code cell must be")
    elif tagged[0] != 1:
        say("the 'parameters' cell must be the second code cell, right after the setup cell")
    if not any("record_metric(" in source(c) for c in code):
        say("records no metric (dlwp.record_metric) for the run report")
    for number, cell in enumerate(code, start=1):
        where = f"code cell {number}"
        text = source(cell)
        if cell.get("execution_count") is not None:
            say(f"{where}: has an execution count")
        outputs = cell.get("outputs", [])
        if is_checked(cell):
            if not outputs:
                say(f"{where}: marked {CHECK_MARK} but stores no output (run `hygiene refresh`)")
            if any(o.get("name") == "stderr" for o in outputs):
                say(f"{where}: a checked cell stores stderr (log lines vary by run): move the noisy call to "
                    "an unchecked cell")
        elif outputs:
            say(f"{where}: has outputs but is not marked {CHECK_MARK}")
        for output in outputs:
            if output.get("execution_count") is not None:
                say(f"{where}: an output keeps an execution count")
        if "NBVAL_SKIP" in text:
            say(f"{where}: NBVAL_SKIP hides a cell from the tests; make it run on every backend instead")
    blob = json.dumps(nb)
    if any(p.search(blob) for p in _SECRET_PATTERNS):
        say("contains what looks like a credential; remove it")
    return [f"{Path(path).relative_to(root) if Path(path).is_relative_to(root) else path}: {p}" for p in problems]


def check_readme(notebooks: list[Path], root: Path = REPO_ROOT) -> list[str]:
    """Problems with the README's chapter table: every notebook needs its Colab badge."""
    readme = (root / "README.md").read_text(encoding="utf-8") if (root / "README.md").exists() else ""
    return [
        f"README.md: no Open-in-Colab link for {nb.relative_to(root)} ({colab_url(nb, root)})"
        for nb in notebooks
        if colab_url(nb, root) not in readme
    ]


def clean_notebook(nb: dict[str, Any]) -> dict[str, Any]:
    """A copy without execution counts, run metadata, or outputs of unchecked cells."""
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        for key in ("execution", "papermill", "collapsed", "scrolled"):
            cell.get("metadata", {}).pop(key, None)
        if cell.get("cell_type") != "code":
            continue
        cell["execution_count"] = None
        if not is_checked(cell):
            cell["outputs"] = []
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = None
            output.get("metadata", {}).clear()
    nb.get("metadata", {}).pop("papermill", None)
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def write_notebook(nb: dict[str, Any], path: Path) -> None:
    """Write a notebook the way Jupyter does (one-space indent, trailing newline)."""
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def refresh_notebook(path: Path, backends: list[str]) -> list[str]:
    """Execute on each backend (embedded profile) and store the checked cells' outputs.

    Returns the checked cells whose output differs between backends (they must be fixed:
    nbval compares the stored output on every backend).
    """
    import nbformat
    from nbclient import NotebookClient

    original = json.loads(Path(path).read_text(encoding="utf-8"))
    per_backend: dict[str, list[Any]] = {}
    for backend in backends:
        os.environ["KERAS_BACKEND"] = backend
        os.environ["DLWP_PROFILE"] = "embedded"
        nb = nbformat.reads(json.dumps(original), as_version=4)
        with tempfile.TemporaryDirectory(prefix="dlwp-refresh-") as work:  # never write into the source tree
            NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": work}}).execute()
        per_backend[backend] = [c.get("outputs", []) for c in nb.cells]
    first = per_backend[backends[0]]
    differing = []
    for index, cell in enumerate(original["cells"]):
        if not is_checked(cell):
            continue
        texts = {b: _plain(per_backend[b][index]) for b in backends}
        if len(set(texts.values())) > 1:
            differing.append(f"cell {index}: " + " | ".join(f"{b}: {t!r}" for b, t in texts.items()))
        cell["outputs"] = [_strip_output(o) for o in first[index]]
    write_notebook(clean_notebook(original), path)
    return differing


def _plain(outputs: list[Any]) -> str:
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs)


def _strip_output(output: Any) -> dict[str, Any]:
    output = json.loads(json.dumps(output))
    output.pop("transient", None)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlwp_utils.hygiene", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "clean", "refresh"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--backends", default="jax,tensorflow,torch", help="for refresh")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or chapter_notebooks()
    if args.command == "check":
        problems = [p for nb in notebooks for p in check_notebook(nb)]
        if not args.notebooks:
            problems += check_readme(notebooks)
        for problem in problems:
            print(problem)
        print(f"hygiene: {len(notebooks)} notebooks, {len(problems)} problems")
        return 1 if problems else 0
    if args.command == "clean":
        for nb in notebooks:
            write_notebook(clean_notebook(json.loads(nb.read_text(encoding="utf-8"))), nb)
            print(f"cleaned {nb}")
        return 0
    from dlwp_utils.backend import parse_backends

    status = 0
    for nb in notebooks:
        differing = refresh_notebook(nb, parse_backends(args.backends))
        print(f"refreshed {nb}")
        for line in differing:
            print(f"  checked output differs between backends: {line}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
