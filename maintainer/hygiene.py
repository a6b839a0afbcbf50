"""Keep committed notebooks clean and alike: check them, clean them, refresh their checked outputs.

    python -m maintainer.hygiene check               # every notebook, the READMEs (make test runs this)
    python -m maintainer.hygiene clean NOTEBOOK...   # drop execution counts and unchecked outputs
    python -m maintainer.hygiene refresh NOTEBOOK... # re-run on each backend, store the checked outputs
    python -m maintainer.hygiene tables              # rewrite the chapter READMEs' parameter tables
    python -m maintainer.hygiene setup               # every notebook: the setup cell, its badges, a GPU runtime on Colab
    python -m maintainer.hygiene fork URL [--ref REF] # point the install and the badges at a fork (or a release's tag)

A committed notebook has no execution counts and no outputs, except the cells tagged
`nbval-check-output` (a hidden cell tag), whose stored output nbval compares on every backend.
Each chapter README's parameter table is written from its notebook's parameters cell. Every
notebook starts with SETUP_CELL and opens on a GPU runtime on Colab (GPU_METADATA); `setup`
writes both and touches nothing else, so it can be re-run at any time.
"""

from __future__ import annotations

import argparse
import ast
import copy
import io
import json
import os
import re
import sys
import tempfile
import tokenize
import tomllib
from pathlib import Path
from typing import Any

from maintainer.layout import REPO_ROOT, chapter_notebooks

CHECK_TAG = "nbval-check-output"  # nbval's hidden cell tag: compare this cell's stored output

SETUP_CELL = """\
# Setup, the same in every notebook. On Colab and Kaggle: install the book's helper package
# (it changes none of the preinstalled packages). Then choose the Keras backend before Keras
# is imported.
import os
import sys

if "google.colab" in sys.modules or "KAGGLE_KERNEL_RUN_TYPE" in os.environ:
    %pip install -q "dlwp-utils @ git+{install}"
os.environ.setdefault("KERAS_BACKEND", "jax")  # or "tensorflow", "torch"

try:
    import dlwp_utils as dlwp
except ImportError as err:
    raise ImportError(
        f"The book's helper package dlwp_utils could not be imported ({{err}}). On Colab or Kaggle, "
        "read the install's message above (Kaggle: switch on Settings > Internet), then run this "
        "cell again. Locally: run `make setup` in the repository, then start Jupyter from .venv."
    ) from None
dlwp.check_backend()"""
# Colab opens a notebook on the runtime its metadata asks for: a GPU (the free tier's T4).
GPU_METADATA = {"accelerator": "GPU", "colab": {"gpuType": "T4"}}

_SECRET_PATTERNS = [
    re.compile(r"KAGGLE_KEY\s*[=:]\s*['\"]?[0-9a-f]{16,}", re.I),
    re.compile(r"\"key\"\s*:\s*\"[0-9a-f]{32}\""),
    re.compile(r"\b(hf|ghp|gho)_[A-Za-z0-9]{20,}"),
]


def _pyproject(root: Path) -> dict[str, Any]:
    with open(root / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


def repository_url(root: Path = REPO_ROOT) -> str:
    """The repository address, from pyproject.toml's [project.urls] Repository (its one home)."""
    return _pyproject(root)["project"]["urls"]["Repository"].rstrip("/")


def repository_ref(root: Path = REPO_ROOT) -> str:
    """The git ref the notebooks install from and the badges open (pyproject.toml [tool.dlwp] ref; "" = main)."""
    return str(_pyproject(root).get("tool", {}).get("dlwp", {}).get("ref", "")).strip()


def setup_cell(root: Path = REPO_ROOT) -> str:
    """The setup cell every notebook starts with."""
    ref = repository_ref(root)
    return SETUP_CELL.format(install=repository_url(root) + (f"@{ref}" if ref else ""))


def colab_base(root: Path = REPO_ROOT) -> str:
    """The start of every "Open in Colab" address of this repository, up to the notebook's path."""
    repo = repository_url(root).removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/{repository_ref(root) or 'main'}/"


def colab_url(notebook: Path, root: Path = REPO_ROOT) -> str:
    """The "Open in Colab" address of a notebook in this repository."""
    return colab_base(root) + Path(notebook).relative_to(root).as_posix()


def kaggle_url(notebook: Path, root: Path = REPO_ROOT) -> str:
    """The "Open in Kaggle" address of a notebook in this repository (Kaggle imports it from GitHub)."""
    blob = f"{repository_url(root)}/blob/{repository_ref(root) or 'main'}/{Path(notebook).relative_to(root).as_posix()}"
    return f"https://kaggle.com/kernels/welcome?src={blob}"


BADGE_START = "[![Open In Colab]"


def badges(notebook: Path, root: Path = REPO_ROOT) -> str:
    """The badges line of a notebook's first cell: Open in Colab and Open in Kaggle, at the repository's ref."""
    return (f"{BADGE_START}(https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook, root)}) "
            f"[![Open in Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)]({kaggle_url(notebook, root)})")


def without_badges(text: str) -> str:
    """A markdown cell's text without its badges line (the report is read offline: no image from the web)."""
    return "\n".join(line for line in text.split("\n") if not line.startswith(BADGE_START))


def with_badges(header: str, line: str) -> str:
    """The first cell's text with its badges line replaced by `line`, or `line` put after the title and a blank line."""
    lines = header.split("\n")
    found = [i for i, text in enumerate(lines) if text.startswith(BADGE_START)]
    if found:
        lines[found[0]] = line
    else:
        lines[1:1] = ["", line]
    return "\n".join(lines)


def source(cell: dict[str, Any]) -> str:
    """A cell's source as one string."""
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def tags(cell: dict[str, Any]) -> list[str]:
    """A cell's tags."""
    return cell.get("metadata", {}).get("tags", [])


def is_checked(cell: dict[str, Any]) -> bool:
    """True if nbval compares this cell's output."""
    return cell.get("cell_type") == "code" and CHECK_TAG in tags(cell)


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
    if not _has_gpu_metadata(meta):
        say('opens on a CPU runtime on Colab: no GPU metadata (metadata.accelerator "GPU" and '
            'metadata.colab.gpuType); run `python -m maintainer.hygiene setup`')
    if meta.get("kernelspec", {}).get("name") != "python3":
        say("kernelspec is not python3")
    cells = nb.get("cells", [])
    if not cells or cells[0].get("cell_type") != "markdown" or "**Follows**" not in source(cells[0]):
        say("its header (the first cell, markdown) does not say what it follows: add a line starting "
            "\"**Follows**:\" that names the book's edition and sections")
    elif Path(path).resolve().is_relative_to(root) and badges(Path(path).resolve(), root) not in source(cells[0]).split("\n"):
        say("its first cell lacks the Open in Colab and Open in Kaggle badges at the repository's ref: run "
            "`python -m maintainer.hygiene setup`")
    code = [c for c in cells if c.get("cell_type") == "code"]
    if not code or source(code[0]).strip() != setup_cell(root).strip():
        say("the first code cell is not the standard setup cell (maintainer/hygiene.py SETUP_CELL): run "
            "`python -m maintainer.hygiene setup`")
    tagged = [i for i, c in enumerate(code) if "parameters" in tags(c)]
    if len(tagged) != 1:
        say(f"{len(tagged)} cells are tagged 'parameters'; exactly one code cell must be")
    elif tagged[0] != 1:
        say("the 'parameters' cell must be the second code cell, right after the setup cell")
    cell = parameters_cell(nb)
    if cell is not None:
        try:
            names = [name for name, *_ in settings(source(cell))]  # raises for a line that is no setting
        except (SyntaxError, ValueError) as err:
            say(f"the parameters cell: {err}")
        else:
            if "PROFILE" not in names:
                say("the parameters cell sets no PROFILE")
            for name, _, _, comment in settings(source(cell)):
                if not comment:
                    say(f"the parameters cell: {name} needs a comment saying what it sets (it goes into the "
                        "chapter README's table)")
        after = code[code.index(cell) + 1] if code.index(cell) + 1 < len(code) else None
        if after is None or "use_profile(PROFILE, settings=globals())" not in source(after):
            say("the cell after the parameters cell must start with "
                "`profile = dlwp.use_profile(PROFILE, settings=globals())`")
    if not any("record_metric(" in source(c) for c in code):
        say("records no metric (dlwp.record_metric) for the run report")
    for number, cell in enumerate(code, start=1):
        where = f"code cell {number}"
        text = source(cell)
        if cell.get("execution_count") is not None:
            say(f"{where}: has an execution count")
        outputs = cell.get("outputs", [])
        if "NBVAL_" in text:
            say(f"{where}: an NBVAL_ comment is test markup in the learner's view: use the hidden cell tag "
                f"{CHECK_TAG!r} instead")
        if is_checked(cell):
            if not outputs:
                say(f"{where}: tagged {CHECK_TAG} but stores no output (run `hygiene refresh`)")
            if any(o.get("name") == "stderr" for o in outputs):
                say(f"{where}: a checked cell stores stderr (log lines vary by run): move the noisy call to "
                    "an unchecked cell")
        elif outputs:
            say(f"{where}: has outputs but is not tagged {CHECK_TAG}")
        for output in outputs:
            if output.get("execution_count") is not None:
                say(f"{where}: an output keeps an execution count")
        if "NBVAL_SKIP" in text or "nbval-skip" in tags(cell):
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


def check_release(root: Path = REPO_ROOT) -> list[str]:
    """The package's version is stated alike in pyproject.toml and dlwp_utils/__init__.py, and a release tag as
    the notebooks' ref (pyproject.toml [tool.dlwp] ref, which the setup cells and badges use) is that version's."""
    version = str(_pyproject(root)["project"]["version"])
    init = root / "dlwp_utils" / "__init__.py"
    stated = re.search(r'^__version__ = "([^"]*)"', init.read_text(encoding="utf-8"), re.M) if init.exists() else None
    problems = []
    if stated is None or stated[1] != version:
        problems.append(f"dlwp_utils/__init__.py: __version__ is {stated[1] if stated else 'missing'!r}, but "
                        f"pyproject.toml says {version!r}: make them equal (python -m maintainer.release does)")
    ref = repository_ref(root)
    if re.fullmatch(r"v\d+(\.\d+)*", ref) and ref != f"v{version}":
        problems.append(f"pyproject.toml: the notebooks install and open the tag {ref}, but the package's version is "
                        f"{version}: release with `python -m maintainer.release VERSION`, which sets both")
    return problems


# --- the parameters cell and the chapter READMEs' parameter tables ----------------------------

TABLE_START = ("<!-- parameters of {name}: written by `python -m maintainer.hygiene tables` from the "
               "notebook's parameters cell; edit the notebook, not this table -->")
TABLE_END = "<!-- end of parameters -->"


def parameters_cell(nb: dict[str, Any]) -> dict[str, Any] | None:
    """The code cell tagged `parameters`, if there is exactly one."""
    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code" and "parameters" in tags(c)]
    return cells[0] if len(cells) == 1 else None


def settings(text: str) -> list[tuple[str, str, str, str]]:
    """(name, embedded value, book value, comment) for each setting the parameters cell assigns.

    `NAME = dlwp.by_profile(book=..., embedded=...)` gives the two values; any other value is the
    same in both profiles. Values are shown as written. Raises ValueError for a line that is not
    `NAME = value` or a by_profile call without exactly book= and embedded=.
    """
    tree = ast.parse(text)
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    found = []
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f"line {node.lineno} is not `NAME = value`: a parameters cell only states settings")
        name, value = node.targets[0].id, node.value
        if isinstance(value, ast.Call) and ast.unparse(value.func) in ("dlwp.by_profile", "by_profile"):
            given = {k.arg: ast.get_source_segment(text, k.value) for k in value.keywords}
            if value.args or set(given) != {"book", "embedded"}:
                raise ValueError(f"{name}: by_profile takes exactly book= and embedded=")
            embedded, book = given["embedded"], given["book"]
        else:
            embedded = book = ast.get_source_segment(text, value)
        comment = " ".join(comments[n] for n in range(node.lineno, node.end_lineno + 1) if n in comments)
        found.append((name, embedded, book, comment))
    return found


def parameters_table(notebook: Path) -> str:
    """The Markdown table of a notebook's settings, between its generated-table markers."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cell = parameters_cell(nb)
    rows = settings(source(cell)) if cell else []
    lines = [TABLE_START.format(name=Path(notebook).name), "",
             "| setting | embedded | book | what it sets |", "|---|---|---|---|"]
    for name, embedded, book, comment in rows:
        if name == "PROFILE":
            continue
        cells = [f"`{name}`", f"`{embedded}`", f"`{book}`", comment.replace("|", "\\|")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines + ["", TABLE_END])


def with_tables(readme: str, notebooks: list[Path]) -> str:
    """The chapter README's text with each notebook's parameter table rewritten in place."""
    for notebook in notebooks:
        start = TABLE_START.format(name=notebook.name)
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(TABLE_END), re.S)
        table = parameters_table(notebook)
        readme = pattern.sub(lambda _: table, readme) if pattern.search(readme) else readme
    return readme


def check_tables(notebooks: list[Path], root: Path = REPO_ROOT) -> list[str]:
    """Problems with the chapter READMEs' parameter tables: each must be there and up to date."""
    problems = []
    for notebook in notebooks:
        readme = notebook.parent / "README.md"
        where = readme.relative_to(root) if readme.is_relative_to(root) else readme
        text = readme.read_text(encoding="utf-8") if readme.exists() else ""
        if TABLE_START.format(name=notebook.name) not in text:
            problems.append(f"{where}: no parameter table for {notebook.name} (add the two marker lines "
                            "and run `python -m maintainer.hygiene tables`)")
        elif with_tables(text, [notebook]) != text:
            problems.append(f"{where}: the parameter table of {notebook.name} is out of date (run "
                            "`python -m maintainer.hygiene tables`)")
    return problems


def write_tables(notebooks: list[Path]) -> list[Path]:
    """Rewrite the parameter tables of the chapter READMEs; the READMEs that changed."""
    changed = []
    for readme, group in _by_folder(notebooks).items():
        text = readme.read_text(encoding="utf-8")
        new = with_tables(text, group)
        if new != text:
            readme.write_text(new, encoding="utf-8")
            changed.append(readme)
    return changed


def _by_folder(notebooks: list[Path]) -> dict[Path, list[Path]]:
    groups: dict[Path, list[Path]] = {}
    for notebook in notebooks:
        groups.setdefault(notebook.parent / "README.md", []).append(notebook)
    return groups


# --- the setup cell and the GPU runtime, and forks --------------------------------------------


def _has_gpu_metadata(meta: dict[str, Any]) -> bool:
    colab = meta.get("colab")
    return meta.get("accelerator") == "GPU" and isinstance(colab, dict) and bool(colab.get("gpuType"))


def with_setup(nb: dict[str, Any], root: Path = REPO_ROOT, path: Path | None = None) -> dict[str, Any]:
    """A copy whose first code cell is the setup cell, whose first cell (with `path`, the notebook's file) has the
    Colab and Kaggle badges, and whose metadata asks Colab for a GPU; nothing else changes.

    A first code cell that starts with "# Setup" is the old setup cell and is replaced; otherwise the
    setup cell is inserted before it (never overwriting a notebook's own code).
    """
    nb = copy.deepcopy(nb)
    lines = setup_cell(root).splitlines(keepends=True)
    cells = nb.setdefault("cells", [])
    if path is not None and Path(path).resolve().is_relative_to(root) and cells and cells[0].get("cell_type") == "markdown":
        cells[0]["source"] = with_badges(source(cells[0]), badges(Path(path).resolve(), root)).splitlines(keepends=True)
    first = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"), len(cells))
    if first < len(cells) and source(cells[first]).startswith("# Setup"):
        cells[first]["source"] = lines
    else:
        cells.insert(first, {"cell_type": "code", "execution_count": None, "id": "setup", "metadata": {},
                             "outputs": [], "source": lines})
    meta = nb.setdefault("metadata", {})
    colab = meta["colab"] if isinstance(meta.get("colab"), dict) else {}
    if not _has_gpu_metadata(meta):
        meta["accelerator"] = GPU_METADATA["accelerator"]
        colab.setdefault("gpuType", GPU_METADATA["colab"]["gpuType"])
    meta["colab"] = dict(sorted(colab.items()))  # the order Jupyter writes keys in
    nb["metadata"] = dict(sorted(meta.items()))
    return nb


def write_setup(notebooks: list[Path], root: Path = REPO_ROOT) -> list[Path]:
    """Give every notebook the setup cell and the GPU metadata; the notebooks that changed."""
    changed = []
    for path in notebooks:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        new = with_setup(nb, root, path)
        if new != nb:
            write_notebook(new, path)
            changed.append(path)
    return changed


_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def fork(url: str, ref: str = "", root: Path = REPO_ROOT) -> list[Path]:
    """Point pyproject.toml, every notebook's setup cell and the READMEs' Colab badges at `url` (and `ref`).

    Returns the files that changed. Colab opens notebooks from GitHub only, so `url` must be a
    https://github.com/OWNER/NAME address.
    """
    match = _GITHUB.match(url.strip())
    if not match or (ref and not re.fullmatch(r"[A-Za-z0-9_./-]+", ref)):
        raise ValueError(f"{url!r} is not a GitHub repository address like https://github.com/me/dlwp-notebooks "
                         f"(or {ref!r} is not a branch, tag or commit name): Colab opens notebooks from GitHub only.")
    url = f"https://github.com/{match[1]}/{match[2]}"
    old_url, old_base = repository_url(root), colab_base(root)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    new = re.sub(r'(?m)^Repository = "[^"]*"$', f'Repository = "{url}"', text)
    new = re.sub(r'(?m)^ref = "[^"]*"(.*)$', lambda m: f'ref = "{ref}"{m[1]}', new)
    if f'Repository = "{url}"' not in new or f'ref = "{ref}"' not in new:
        raise ValueError(f"{pyproject} has no `Repository = \"...\"` line in [project.urls] or no `ref = \"...\"` "
                         "line in [tool.dlwp]: add them, then run this again.")
    changed = []
    if new != text:
        pyproject.write_text(new, encoding="utf-8")
        changed.append(pyproject)
    new_base = colab_base(root)
    for readme in [root / "README.md", *sorted(root.glob("chapter*/README.md"))]:
        text = readme.read_text(encoding="utf-8") if readme.exists() else ""
        new = text.replace(old_base, new_base).replace(old_url + ")", url + ")").replace(old_url + " ", url + " ")
        if new != text:
            readme.write_text(new, encoding="utf-8")
            changed.append(readme)
    return changed + write_setup(chapter_notebooks(root), root)


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
    parser = argparse.ArgumentParser(prog="python -m maintainer.hygiene", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "clean", "refresh", "tables", "setup", "fork"])
    parser.add_argument("notebooks", nargs="*", help="notebooks (default: all); fork: the fork's GitHub address")
    parser.add_argument("--backends", default="jax,tensorflow,torch", help="for refresh")
    parser.add_argument("--ref", default="", help="for fork: the branch, tag or commit to install and open")
    args = parser.parse_args(argv)
    if args.command == "fork":
        if len(args.notebooks) != 1:
            parser.error("fork takes one argument, the fork's address: fork https://github.com/me/fork [--ref v1]")
        try:
            changed = fork(args.notebooks[0], args.ref)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        for path in changed:
            print(f"rewrote {path}")
        print(f"setup cells install {repository_url()}{'@' + args.ref if args.ref else ''}; badges open {colab_base()}")
        return 0
    args.notebooks = [Path(p) for p in args.notebooks]
    notebooks = [p.resolve() for p in args.notebooks] or chapter_notebooks()
    if args.command == "check":
        problems = [p for nb in notebooks for p in check_notebook(nb)]
        problems += check_tables(notebooks)
        if not args.notebooks:
            problems += check_readme(notebooks) + check_release()
        for problem in problems:
            print(problem)
        print(f"hygiene: {len(notebooks)} notebooks, {len(problems)} problems")
        return 1 if problems else 0
    if args.command == "setup":
        changed = write_setup(notebooks)
        for nb in changed:
            print(f"rewrote the setup cell, the badges and the GPU metadata of {nb}")
        print(f"setup: {len(notebooks)} notebooks, {len(changed)} changed")
        return 0
    if args.command == "tables":
        for readme in write_tables(notebooks):
            print(f"rewrote the parameter table in {readme}")
        return 0
    if args.command == "clean":
        for nb in notebooks:
            write_notebook(clean_notebook(json.loads(nb.read_text(encoding="utf-8"))), nb)
            print(f"cleaned {nb}")
        return 0
    from dlwp_utils.backend import parse_backends  # noqa: PLC0415

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
