"""Execute notebooks on each Keras backend with papermill and write a report (what `make run` does).

    python -m maintainer.run                       # every chapter notebook, jax + tensorflow + torch
    python -m maintainer.run --backends torch chapter02/*.ipynb

Executed notebooks go to build/<backend>/<chapter>/, with their logs and their working
directories (<name>.work/, emptied before each run) beside them (see maintainer.layout), and
build/report.md (and report.json) gets one row per notebook x backend: status, seconds, the
metrics the notebook recorded (dlwp.record_metric) and, for a failure, the cell and its error.
One failing, dying or hanging notebook does not stop the others; the exit code is 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from dlwp_utils.backend import BACKENDS, parse_backends
from dlwp_utils.data.store import ensure_writable
from dlwp_utils.errors import DLWPError
from dlwp_utils.metrics import read_metrics
from dlwp_utils.profile import PROFILES
from maintainer import baseline, compile_cache, layout, report
from maintainer.hygiene import source
from maintainer.progress import Progress, duration

DEFAULT_TIMEOUT = 1800  # seconds per notebook
# The book profile's notebooks at the book's sizes: minutes on a free Colab T4, as `make book-cost` estimated them
# (benchmarks/book-cost/book_cost.md); each may run BOOK_TIMEOUT_FACTOR times that, and at least DEFAULT_TIMEOUT.
BOOK_T4_MINUTES = {
    "chapter02/chapter02_mathematical_building_blocks.ipynb": 2,
    "chapter03/chapter03_regression.ipynb": 4,
    "chapter03/chapter03_tensorflow_pytorch_jax_keras.ipynb": 2,
    "chapter08/chapter08_image_classification.ipynb": 64,
    "chapter11/chapter11_sequence_to_sequence.ipynb": 60,
    "chapter15/chapter15_language_models_gemma.ipynb": 26,
}
BOOK_TIMEOUT_FACTOR = 3  # room for the estimate's assumptions (the T4's efficiency, compilation, downloads)


@dataclass
class Result:
    """The outcome of one notebook on one backend."""

    notebook: str
    backend: str
    status: str  # "passed", "failed" or "timeout"
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    problem: str = ""
    output: str = ""


def run_notebook(notebook: Path, backend: str, out_dir: Path, profile: str = "embedded",
                 timeout: float = DEFAULT_TIMEOUT, reuse_work_of: Path | None = None,
                 env: dict[str, str] | None = None, parameters: Mapping[str, Any] | None = None) -> Result:
    """Execute one notebook with papermill in a fresh kernel on `backend`; never raises for a bad notebook.

    The kernel works in a fresh, empty folder beside the executed notebook; with `reuse_work_of`
    (an earlier run's output folder), in that run's working folder, kept as it was left (a re-run
    in place). The kernel's environment is `env` (default: this process's), with the backend and profile set.
    `parameters` go to papermill (-p NAME VALUE) besides PROFILE, e.g. {"SEED": 1}.
    """
    relative = layout.relative(notebook)
    executed = layout.executed(out_dir, backend, notebook)
    if reuse_work_of is None:
        work_dir = layout.work_dir(out_dir, backend, notebook)
        shutil.rmtree(work_dir, ignore_errors=True)
    else:
        work_dir = layout.work_dir(reuse_work_of, backend, notebook)
    work_dir.mkdir(parents=True, exist_ok=True)
    executed.parent.mkdir(parents=True, exist_ok=True)
    log_path = layout.log(out_dir, backend, notebook)
    executed.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "papermill", str(notebook), str(executed),
        "-p", "PROFILE", profile, "-k", "python3", "--cwd", str(work_dir),
        "--no-progress-bar", "--log-level", "WARNING",
    ]
    for name, value in (parameters or {}).items():
        command += ["-p", str(name), str(value)]
    env = kernel_environment(dict(os.environ if env is None else env, KERAS_BACKEND=backend, DLWP_PROFILE=profile,
                                  PYTHONUNBUFFERED="1"))
    start = time.perf_counter()
    code = run_logged_kernel(command, log_path, env, timeout)
    status = "timeout" if code is None else "passed" if code == 0 else "failed"
    seconds = time.perf_counter() - start
    nb = _read(executed)
    result = Result(str(relative), backend, status, round(seconds, 1),
                    read_metrics(nb) if nb else {}, output=str(executed))
    if status == "timeout":
        result.problem = f"timed out after {timeout:g} s in {_current_cell(nb)}"
    elif status == "failed":
        result.problem = _failure(nb, log_path)
    return result


def notebook_timeout(notebook: Path, profile: str) -> float:
    """Seconds `notebook` may run in `profile`: DEFAULT_TIMEOUT, or in the book profile its T4 estimate x the factor."""
    minutes = BOOK_T4_MINUTES.get(layout.relative(notebook).as_posix(), 0) if profile == "book" else 0
    return max(DEFAULT_TIMEOUT, BOOK_TIMEOUT_FACTOR * 60 * minutes)


def kernel_environment(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with what every notebook kernel of make run and make test gets, unless `env` sets it already.

    Passive OpenMP waiting: notebooks run side by side on few cores, and OpenMP threads that spin
    while waiting (torch's default) slow a small training step down 20-50x; waiting passively costs
    little alone. JAX's compilation cache (maintainer.compile_cache).
    """
    return {"OMP_WAIT_POLICY": "passive", **compile_cache.environment(), **env}


def run_logged(command: list[str], log_path: Path, env: dict[str, str], timeout: float,
               cwd: Path | None = None) -> int | None:
    """Run `command`, its output into `log_path`, in its own process group; its exit code, or None after `timeout` s.

    On a timeout the whole group is killed, the notebook's kernel with it (a kernel that died or
    hung would otherwise keep papermill or nbval waiting).
    """
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                   start_new_session=True)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return None


# jupyter_client chooses a kernel's ports by finding free ones, and the kernel binds them a moment later:
# another kernel starting at that moment (make test starts several) can take one in between, and the kernel
# dies before it runs anything (before its kernel_info reply). Such a run is started once more.
PORT_TAKEN = ("Address already in use", "Kernel died before replying to kernel_info")
PORT_RETRY_NOTE = ("(started again: the first kernel could not bind the port jupyter_client had chosen for it, "
                   "which another process took in between; it had run nothing)")


def kernel_lost_its_port(log_text: str) -> bool:
    """True when a run's log shows its kernel dying at start-up because another process took its port."""
    return all(text in log_text for text in PORT_TAKEN)


def run_logged_kernel(command: list[str], log_path: Path, env: dict[str, str], timeout: float,
                      cwd: Path | None = None) -> int | None:
    """run_logged for a command that starts a kernel (papermill, nbval), run once more if the kernel lost its port."""
    start = time.perf_counter()
    code = run_logged(command, log_path, env, timeout, cwd)
    if code in (0, None) or not kernel_lost_its_port(log_path.read_text(errors="replace")):
        return code
    first = log_path.read_text(errors="replace")
    code = run_logged(command, log_path, env, max(1.0, timeout - (time.perf_counter() - start)), cwd)
    with open(log_path, "a") as log:
        log.write(f"\n{PORT_RETRY_NOTE}\nThe first attempt's output:\n{first[-3000:]}")
    return code


def result_of_executed(notebook: Path, backend: str, out_dir: Path) -> Result:
    """The Result of a notebook that nbval executed (saved by the root conftest.py under `out_dir`)."""
    executed = layout.executed(out_dir, backend, notebook)
    nb = _read(executed)
    relative = str(layout.relative(notebook))
    if nb is None:
        return Result(relative, backend, "failed", 0.0, problem="not executed (no executed notebook was saved)")
    run = nb.get("metadata", {}).get("dlwp", {})
    result = Result(relative, backend, "failed" if run.get("failed_cells") else "passed",
                    float(run.get("seconds", 0.0)), read_metrics(nb), output=str(executed))
    if result.status == "failed":
        result.problem = _failure(nb, layout.log(out_dir, backend, notebook))
    return result


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _code_cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    """The notebook's own code cells (papermill's injected parameters left out)."""
    return [c for c in nb.get("cells", []) if c.get("cell_type") == "code"
            and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]


def _describe(cells: list[dict[str, Any]], index: int) -> str:
    lines = [ln for ln in source(cells[index]).splitlines() if ln.strip() and not ln.startswith("#")]
    first = lines[0].strip() if lines else ""
    return f"code cell {index + 1} (`{first[:60]}`)"


def _current_cell(nb: dict[str, Any] | None) -> str:
    """The cell that was running when the notebook stopped: the last one papermill started."""
    if not nb:
        return "an unknown cell (no notebook was saved)"
    cells = _code_cells(nb)
    started = [i for i, c in enumerate(cells) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return _describe(cells, started[-1]) if started else "an unknown cell (none had started)"


def _failure(nb: dict[str, Any] | None, log_path: Path) -> str:
    """One line: which cell failed and why."""
    if nb:
        cells = _code_cells(nb)
        for i, cell in enumerate(cells):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    value = str(output.get("evalue", "")).strip().splitlines()
                    return f"{_describe(cells, i)}: {output.get('ename')}: {value[0] if value else ''}"[:400]
    last = _last_error_line(log_path)
    return f"{_current_cell(nb)}: {last}"[:400]


def _last_error_line(log_path: Path) -> str:
    try:
        lines = [ln.strip() for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    errors = [ln for ln in lines if "Error" in ln or "died" in ln.lower()]
    return (errors or lines or ["no output"])[-1].removeprefix("nbclient.exceptions.")


def write_report(results: list[Result], out_dir: Path, profile: str) -> Path:
    """build/report.md (a table) and build/report.json (the same, for programs)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    layout.report_json(out_dir).write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
    failed = sum(r.status != "passed" for r in results)
    lines = [
        "# Notebook run report",
        "",
        f"Profile: {profile}. {len(results)} runs, {len(results) - failed} passed, {failed} failed.",
        "",
        "| notebook | backend | status | seconds | metrics | problem |",
        "|---|---|---|---:|---|---|",
    ]
    for r in results:
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in r.metrics.items()) or "-"
        problem = r.problem.replace("|", "\\|").replace("\n", " ") or "-"
        lines.append(f"| {r.notebook} | {r.backend} | {r.status} | {r.seconds:.1f} | {metrics} | {problem} |")
    path = layout.report_md(out_dir)
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maintainer.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter*/*.ipynb")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="e.g. jax,torch (default: all three)")
    parser.add_argument("--profile", default="embedded", choices=sorted(PROFILES))
    parser.add_argument("--out", type=Path, default=Path("build"))
    parser.add_argument("--timeout", type=float, help=f"seconds per notebook (default {DEFAULT_TIMEOUT}; the book "
                        f"profile: each notebook's T4 estimate x {BOOK_TIMEOUT_FACTOR}, at least that)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks executed at once")
    parser.add_argument("--html", type=Path, metavar="FOLDER",
                        help="also write the HTML report (index.html and the rendered notebooks) into FOLDER")
    parser.add_argument("--reuse-work-of", type=Path, metavar="OUT",
                        help="re-run in place: use the working folders of the run that wrote OUT, as they are")
    args = parser.parse_args(argv)
    try:
        backends = parse_backends(args.backends)
        ensure_writable(args.out, what="the executed notebooks and the report",
                        moved_by="Choose another output folder: make run OUT=<folder>, or python -m maintainer.run --out <folder>.")
    except DLWPError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    notebooks = args.notebooks or layout.chapter_notebooks()
    missing = [str(nb) for nb in notebooks if not nb.is_file()]
    if missing or not notebooks:
        print(f"error: no such notebook: {', '.join(missing) or '(none found under chapter*/)'}", file=sys.stderr)
        return 2
    tasks = [(nb, backend) for backend in backends for nb in notebooks]
    expected = [baseline.expected_seconds(layout.relative(nb).as_posix(), backend) if args.profile == "embedded"
                else None for nb, backend in tasks]
    progress = Progress(expected, args.jobs)
    estimate = progress.left()
    print(f"Running {len(notebooks)} notebooks x {len(backends)} backends ({', '.join(backends)}), "
          f"profile {args.profile}, {args.jobs} at a time"
          + (f": about {duration(estimate)} by the baseline." if estimate else "."), flush=True)

    def one(index: int) -> Result:
        notebook, backend = tasks[index]
        try:
            result = run_notebook(notebook, backend, args.out, args.profile,
                                  args.timeout or notebook_timeout(notebook, args.profile),
                                  reuse_work_of=args.reuse_work_of)
        except OSError as err:  # the runner itself could not work: report it, go on with the others
            result = Result(str(notebook), backend, "failed", 0.0, problem=f"runner error: {err}")
        metrics = ", ".join(f"{k}={v:.3f}" for k, v in result.metrics.items())
        print(f"{progress.done(index, result.seconds)}  {result.status:7} {result.seconds:7.1f} s  {backend:10} "
              f"{result.notebook}  {metrics}{'  ' + result.problem if result.problem else ''}", flush=True)
        return result

    compile_cache.prune()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(one, range(len(tasks))))
    table = write_report(results, args.out, args.profile)
    failed = [r for r in results if r.status != "passed"]
    print(f"Report: {table} ({len(results) - len(failed)} passed, {len(failed)} failed)")
    if args.html is not None:
        index = report.write_for_run(args.out, f"make run: {args.profile} profile", args.html)
        drops = baseline.compare_to_baseline([asdict(r) for r in results], baseline.load()["metrics"])
        print(f"HTML report: {index}" + (f" ({len(drops)} metric(s) below the baseline)" if drops else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
