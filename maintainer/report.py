"""The HTML report of a notebook run: a notebook x backend grid linking to each executed notebook.

    python -m maintainer.report            # rewrite build/index.html from make run's build/report.json
    python -m maintainer.report build/test # ... or from make test's run

`write_html_report` writes <folder>/index.html and <folder>/notebooks/<backend>/<chapter>/<name>.html
(each executed notebook rendered by nbconvert's HTMLExporter, plots embedded as data URIs). The
folder is self-contained: it opens from disk with no server and loads nothing from the network
(nbconvert's 'lab' template is used without its require.js, MathJax and Mermaid <script> tags,
which point at a CDN; see `OFFLINE_TEMPLATE`). Each metric shows its change from the committed
baseline (maintainer.baseline): a drop beyond its tolerance in red, an improvement in green.

Rows are those of the runner's report.json: {notebook, backend, status, seconds, metrics,
problem, output}, where `output` is the executed notebook's path.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Mapping, Sequence

from maintainer import baseline as baselines, layout
from maintainer.baseline import Change, Drop, Tolerance, classify, compare_to_baseline, tolerance_of
from maintainer.hygiene import without_badges

Row = Mapping[str, Any]

BACKEND_ORDER = ("jax", "tensorflow", "torch")
STATUSES = ("passed", "failed", "timeout")

# nbconvert's lab template without the <script> tags that load from a CDN (require.js and the
# widget manager from unpkg are only needed for ipywidgets, Mermaid for ```mermaid``` blocks,
# MathJax for $math$; the notebooks have none of these, so TeX would show as its source).
OFFLINE_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
"""
OFFLINE_TEMPLATE_NAME = "dlwp_offline.html.j2"


# --------------------------------------------------------------------------- executed notebooks

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """Text without terminal color codes (tracebacks are colored)."""
    return _ANSI.sub("", text)


@dataclass
class ErrorInfo:
    """Where an executed notebook stopped: its first error, or (timeout) the cell that was running."""

    code_cell: int  # 1-based among the notebook's own code cells, as the runner counts them
    cell_id: str
    source: str
    ename: str
    evalue: str
    traceback: str  # plain text; "" for a cell that was still running


def _own_code_cells(notebook: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Code cells without papermill's injected parameters (the runner's numbering)."""
    return [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"
            and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def find_error(notebook: Mapping[str, Any]) -> ErrorInfo | None:
    """The first code cell with an error output (its source and plain-text traceback), or None."""
    for number, cell in enumerate(_own_code_cells(notebook), 1):
        for output in cell.get("outputs", []) or []:
            if output.get("output_type") == "error":
                return ErrorInfo(number, str(cell.get("id", "")), _source(cell),
                                 str(output.get("ename", "")), str(output.get("evalue", "")),
                                 strip_ansi("\n".join(output.get("traceback", []))))
    return None


def find_running(notebook: Mapping[str, Any]) -> ErrorInfo | None:
    """The cell that was running when the notebook was stopped: the last one papermill started
    (metadata.papermill.start_time) that has no end_time, else the last started; None if none."""
    cells = _own_code_cells(notebook)
    started = [(n, c) for n, c in enumerate(cells, 1) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    running = [(n, c) for n, c in started if not c.get("metadata", {}).get("papermill", {}).get("end_time")]
    chosen = (running or started)[-1:]
    if not chosen:
        return None
    number, cell = chosen[0]
    return ErrorInfo(number, str(cell.get("id", "")), _source(cell), "", "", "")


def executed_path(row: Row, build_dir: Path | None = None) -> Path:
    """Where the row's executed notebook is: by the one layout rule, build_dir/backend/notebook
    (layout.executed); without build_dir, the row's own absolute `output`, else under build/.

    Never relative to the working directory: a build/ that another run left there is not this run's.
    """
    if build_dir is None:
        output = Path(str(row.get("output") or ""))
        if output.is_absolute():
            return output
        build_dir = layout.BUILD
    return layout.executed(Path(build_dir), str(row["backend"]), layout.REPO_ROOT / str(row["notebook"]))


def rendered_relpath(row: Row) -> str:
    """notebooks/<backend>/<chapter>/<name>.html, relative to the report folder (posix)."""
    return layout.rendered(Path(), str(row["backend"]), layout.REPO_ROOT / str(row["notebook"])).as_posix()


def make_exporter() -> Any:
    """nbconvert's HTMLExporter with the lab template, images embedded, no CDN <script> tags."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", template_file=OFFLINE_TEMPLATE_NAME,
                        extra_loaders=[DictLoader({OFFLINE_TEMPLATE_NAME: OFFLINE_TEMPLATE})],
                        embed_images=True, mathjax_url="", require_js_url="")


def render_notebook(ipynb: Path, html_path: Path, exporter: Any | None = None, title: str | None = None) -> Path:
    """Render one executed notebook to a standalone HTML file (plots as data URIs); return its path."""
    import nbformat

    exporter = exporter or make_exporter()
    notebook = nbformat.read(str(ipynb), as_version=4)
    for cell in notebook.cells:  # the Colab and Kaggle badges load images from the web; the report is offline
        if cell.cell_type == "markdown":
            cell.source = without_badges(cell.source)
    if title:
        notebook.metadata["title"] = title
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": Path(ipynb).stem,
                                                                            "path": str(Path(ipynb).parent)}})
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path


def external_references(page: str) -> list[str]:
    """http(s) or protocol-relative URLs that a page would load (src=, href= of <link>, CSS url(),
    @import); links a reader may click (<a href>) are not loads and are not listed."""
    loads = r"""<(?:script|img|iframe|link|source|video|audio|embed)\b[^>]*?\b(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)"""
    found = re.findall(loads, page, flags=re.I)
    found += re.findall(r"""url\(\s*["']?((?:https?:)?//[^"')]+)""", page, flags=re.I)
    found += re.findall(r"""@import\s+["']((?:https?:)?//[^"']+)""", page, flags=re.I)
    return sorted(set(found))


# --------------------------------------------------------------------------- the index page

@dataclass
class Cell:
    """One notebook x backend square of the grid."""

    row: Row
    link: str | None  # relative to the report folder
    changes: dict[str, Change] = field(default_factory=dict)
    error: ErrorInfo | None = None
    note: str = ""


def ordered_backends(rows: Sequence[Row]) -> list[str]:
    """jax, tensorflow, torch first (those present), then any other backend in row order."""
    seen = list(dict.fromkeys(str(r["backend"]) for r in rows))
    return [b for b in BACKEND_ORDER if b in seen] + [b for b in seen if b not in BACKEND_ORDER]


_CSS = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em; color: #1b1b1b; }
h1 { font-size: 1.4em; margin: 0 0 .3em; } .summary { margin: 0 0 1em; }
table.grid { border-collapse: collapse; }
table.grid th, table.grid td { border: 1px solid #c8c8c8; padding: .4em .6em; vertical-align: top; text-align: left; }
table.grid thead th { background: #f0f0f0; }
th.notebook { font-weight: 600; white-space: nowrap; }
td.cell { min-width: 16em; }
.status { font-weight: 700; padding: .05em .45em; border-radius: .3em; color: #fff; }
.status.passed { background: #2e7d32; } .status.failed { background: #c62828; } .status.timeout { background: #ef6c00; }
.status.missing { background: #9e9e9e; } .status.other { background: #6a1b9a; }
td.cell.failed, td.cell.timeout { background: #fff3f3; } td.cell.missing { background: #f7f7f7; color: #666; }
.seconds { color: #555; margin-left: .4em; }
table.metrics { border-collapse: collapse; margin-top: .35em; font-size: .92em; }
table.metrics td { border: 0; padding: .05em .5em .05em 0; }
td.value { font-variant-numeric: tabular-nums; text-align: right; }
.delta { font-variant-numeric: tabular-nums; white-space: nowrap; }
.delta.drop { color: #c62828; font-weight: 700; } .delta.improved { color: #2e7d32; } .delta.same { color: #777; }
.delta.new { color: #1565c0; }
tr.drop td { background: #ffe0e0; }
.problem { color: #b71c1c; margin: .35em 0; max-width: 40em; }
details pre { max-width: 46em; max-height: 24em; overflow: auto; background: #f6f6f6; padding: .5em; font-size: .85em; }
.drops { border: 2px solid #c62828; background: #fff3f3; padding: .5em 1em; margin-bottom: 1em; }
.drops li { color: #b71c1c; } footer { margin-top: 1.5em; color: #777; font-size: .85em; }
"""


def _fmt(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"


def _cell_html(cell: Cell | None, notebook: str, backend: str, has_baseline: bool = True) -> str:
    attrs = f'data-notebook="{html.escape(notebook)}" data-backend="{html.escape(backend)}"'
    if cell is None:
        return f'<td class="cell missing" {attrs} data-status="missing"><span class="status missing">not run</span></td>'
    row = cell.row
    status = str(row.get("status", "unknown"))
    css = status if status in STATUSES else "other"
    label = f'<span class="status {css}">{html.escape(status)}</span>'
    parts = [f'<a class="nb-link" href="{html.escape(cell.link)}">{label}</a>' if cell.link else label,
             f'<span class="seconds">{float(row.get("seconds", 0.0)):.1f} s</span>']
    if cell.note:
        parts.append(f'<div class="note">{html.escape(cell.note)}</div>')
    if cell.changes:
        lines = []
        for metric, ch in cell.changes.items():
            if ch.kind == "new":
                delta = '<span class="delta new" title="not in the baseline">new</span>' if has_baseline else ""

            else:
                sign = "▼ " if ch.kind == "drop" else ("▲ " if ch.kind == "improved" else "")
                title = f"baseline {_fmt(ch.baseline)}; allowed fall {_fmt(ch.allowed)}"  # type: ignore[arg-type]
                delta = f'<span class="delta {ch.kind}" title="{html.escape(title)}">{sign}Δ {ch.delta:+.4f}</span>'
            lines.append(f'<tr class="{ch.kind}" data-metric="{html.escape(metric)}"><td>{html.escape(metric)}</td>'
                         f'<td class="value">{_fmt(ch.value)}</td><td>{delta}</td></tr>')
        parts.append('<table class="metrics">' + "".join(lines) + "</table>")
    if status != "passed":
        if row.get("problem"):
            parts.append(f'<div class="problem">{html.escape(str(row["problem"]))}</div>')
        if cell.error:
            where = ""
            if cell.link and cell.error.cell_id:
                where = f' <a href="{html.escape(cell.link)}#cell-id={html.escape(cell.error.cell_id)}">(open the cell)</a>'
            what = (f"failing code cell {cell.error.code_cell} and its traceback" if cell.error.traceback
                    else f"code cell {cell.error.code_cell}, running when it stopped")
            trace = f'<pre class="traceback">{html.escape(cell.error.traceback)}</pre>' if cell.error.traceback else ""
            parts.append(f'<details class="error" open><summary>{what}{where}</summary>'
                         f'<pre class="source">{html.escape(cell.error.source)}</pre>{trace}</details>')
    return f'<td class="cell {css}" {attrs} data-status="{html.escape(status)}">' + "".join(parts) + "</td>"


def index_html(cells: Mapping[tuple[str, str], Cell], notebooks: Sequence[str], backends: Sequence[str],
               drops: Sequence[Drop], title: str, generated: str, has_baseline: bool = True) -> str:
    """The index page (a string): summary, drops, and the grid."""
    statuses = [str(c.row.get("status")) for c in cells.values()]
    passed = statuses.count("passed")
    summary = (f"{len(statuses)} runs: {passed} passed, {len(statuses) - passed} failed or timed out"
               f"{f'; {len(drops)} metric drop(s) beyond tolerance' if drops else ''}.")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{html.escape(title)}</h1>", f'<p class="summary">{html.escape(summary)}</p>']
    if drops:
        out.append('<div class="drops"><strong>Metrics below their baseline:</strong><ul>'
                   + "".join(f"<li>{html.escape(str(d))}</li>" for d in drops) + "</ul></div>")
    out.append('<table class="grid" id="grid"><thead><tr><th>notebook</th>'
               + "".join(f'<th data-backend="{html.escape(b)}">{html.escape(b)}</th>' for b in backends)
               + "</tr></thead><tbody>")
    for notebook in notebooks:
        out.append(f'<tr data-notebook="{html.escape(notebook)}"><th class="notebook" scope="row">{html.escape(notebook)}</th>'
                   + "".join(_cell_html(cells.get((notebook, b)), notebook, b, has_baseline) for b in backends) + "</tr>")
    out.append(f"</tbody></table><footer>Generated {html.escape(generated)}. Δ: change from the baseline "
               "(▼ red: a drop beyond tolerance, fails the tests; ▲ green: an improvement).</footer></body></html>")
    return "\n".join(out) + "\n"


def write_html_report(rows: Sequence[Row], out_dir: Path, baseline: Mapping[str, Any] | None = None,
                      tolerances: Mapping[str, Tolerance | float] | None = None, *,
                      build_dir: Path | None = None, title: str = "Notebook run report",
                      render: bool = True, timings: dict[str, float] | None = None) -> Path:
    """Write out_dir/index.html and each executed notebook as out_dir/notebooks/<backend>/<chapter>/<name>.html.

    rows: the runner's report rows. baseline: {notebook: {backend: {metric: value}}} or None.
    tolerances: see maintainer.baseline.tolerance_of (None: the measured spread, else TOLERANCES). build_dir: the
    runner's output folder, where the executed notebooks are (executed_path). render=False skips nbconvert
    (index only). `timings`, if given, receives seconds spent rendering ("render") and in total
    ("total"). Returns the index.html path.
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = make_exporter() if render else None
    cells: dict[tuple[str, str], Cell] = {}
    spread = baselines.load_spread() if tolerances is None else None  # read once, not per metric
    render_seconds = 0.0
    for row in rows:
        notebook, backend = str(row["notebook"]), str(row["backend"])
        source = executed_path(row, build_dir)
        cell = Cell(row, None)
        if source.is_file():
            try:
                nb = json.loads(source.read_text(encoding="utf-8"))
                if row.get("status") != "passed":
                    cell.error = find_error(nb) or find_running(nb)
                if render:
                    t0 = time.perf_counter()
                    render_notebook(source, out_dir / rendered_relpath(row), exporter,
                                    title=f"{Path(notebook).stem} [{backend}]")
                    render_seconds += time.perf_counter() - t0
                    cell.link = rendered_relpath(row)
            except Exception as err:  # a broken notebook must not lose the rest of the report
                cell.note = f"could not render the executed notebook: {type(err).__name__}: {err}"
        else:
            cell.note = "no executed notebook was saved"
        expected = (baseline or {}).get(notebook, {}).get(backend, {})
        for metric, value in (row.get("metrics") or {}).items():
            if expected.get(metric) is None:  # new: nothing to compare, so no direction needed yet
                cell.changes[metric] = Change(float(value), None, "new")
                continue
            base = float(expected[metric])
            cell.changes[metric] = classify(metric, float(value), base,
                                            tolerance_of(notebook, backend, metric, base, tolerances, spread))
        cells[(notebook, backend)] = cell
    drops = compare_to_baseline(rows, baseline, tolerances, spread)
    for drop in drops:  # a metric the run did not record: show it in its cell
        if drop.current is None and (drop.notebook, drop.backend) in cells:
            cells[(drop.notebook, drop.backend)].note += f" {drop.metric} not recorded (baseline {_fmt(drop.baseline)})."
    notebooks = list(dict.fromkeys(str(r["notebook"]) for r in rows))
    page = index_html(cells, notebooks, ordered_backends(rows), drops, title,
                      time.strftime("%Y-%m-%d %H:%M:%S"), has_baseline=baseline is not None)
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    if timings is not None:
        timings["render"] = render_seconds
        timings["total"] = time.perf_counter() - start
    return index


# --------------------------------------------------------------------------- command line

def write_for_run(out: Path, title: str, html_dir: Path = layout.BUILD) -> Path:
    """The report of the run that wrote `out` (its report.json and executed notebooks), with the baseline."""
    rows = json.loads(layout.report_json(out).read_text(encoding="utf-8"))
    return write_html_report(rows, html_dir, baselines.load()["metrics"], build_dir=out, title=title)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maintainer.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, nargs="?", default=layout.BUILD, help="the run's output folder")
    parser.add_argument("--html", type=Path, default=layout.BUILD, help="where index.html goes")
    args = parser.parse_args(argv)
    if not layout.report_json(args.out).is_file():
        print(f"error: {layout.report_json(args.out)} does not exist: run `make run` or `make test` first.",
              file=sys.stderr)
        return 2
    index = write_for_run(args.out, f"Notebook run report ({args.out})", args.html)
    print(f"Report: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
