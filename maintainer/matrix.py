"""The test matrix behind `make test`: unit tests, then every notebook under nbval once per backend.

    python -m maintainer.matrix                  # all three backends
    python -m maintainer.matrix --backends jax   # one

Steps: (1) the unit tests of dlwp_utils and the notebook hygiene check; (2) every notebook x
backend as its own job, `pytest --nbval-lax` in a fresh process with KERAS_BACKEND set, in the
embedded profile (each kernel in a fresh empty working directory; sentinel credentials in the
environment); with them, every notebook once more, on one backend, through the papermill runner
of `make run`, in the working directory its first run left behind (a re-run in place: existing
folders, checkpoints and features must not break it; for the slow notebooks, both runs at smaller
counts that take the same code path: SECOND_RUN); and the book path: every notebook in the
book profile on every backend, with make run's runner and smaller counts (tests/book_path/plan.py),
every download from the tests' mirror (tests/book_path/fixtures.py: small files in the real
formats) served on 127.0.0.1 as DLWP_MIRROR. The jobs share `--workers` slots, longest
chain first by the committed baseline's seconds, so that chapter 8 on JAX no longer leaves a core
idle while it runs; (3) the results check: the metrics each executed notebook recorded clear
their floors, the second run recorded exactly the same metrics, and no sentinel credential
appears in any executed notebook, log or report; the book path's check (every code cell ran, every
book-only branch printed its line: tests/results/book_path_check.py); (4) a table of seconds per notebook x backend.
Every step and job runs even if an earlier one failed; the exit code is 1 if any failed.
Executed notebooks, their working folders, logs and the second run go where maintainer.layout
says, under build/test/. JAX's compiled programs are kept in build/compile-cache/ for the next
run (maintainer.compile_cache).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from dlwp_utils.backend import BACKENDS, parse_backends
from dlwp_utils.errors import DLWPError
from maintainer import baseline, compile_cache, layout, report
from maintainer.progress import Progress, duration
from maintainer.run import (Result, kernel_environment, result_of_executed, run_logged_kernel, run_notebook,
                            write_report)
from tests.book_path import plan as book_plan

ROOT = layout.REPO_ROOT
EXECUTED = layout.TEST_OUT
RERUN = EXECUTED / layout.RERUN
BOOK = EXECUTED / layout.BOOK_PATH
# Fake credentials set during the notebook runs: none may show up in any output.
SENTINELS = {
    "KAGGLE_USERNAME": "dlwp-sentinel-user",
    "KAGGLE_KEY": "dlwpsentinelkey00000000deadbeef0",
    "HF_TOKEN": "hf_dlwpSentinelToken000000000000",
}


def pytest(args: list[str], env: dict[str, str], label: str) -> bool:
    """Run pytest in a fresh process; True if it passed. Exit code 5 (nothing collected) fails."""
    print(f"\n=== {label}: pytest {' '.join(args)}", flush=True)
    code = subprocess.call([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env)
    if code == 5:
        print(f"=== {label}: pytest collected no tests; that is a failure, not a pass.", flush=True)
    return code == 0


def nbval_args(notebooks: list[Path], workers: int, out: Path | None = None) -> list[str]:
    """pytest arguments that execute `notebooks` under nbval, one notebook per xdist worker; saved under `out`."""
    args = ["--nbval-lax", "--nbval-current-env", "--nbval-sanitize-with",
            str(ROOT / "tests" / "nbval_sanitize.cfg"), "-q", "-p", "no:cacheprovider"]
    if out is not None:
        args += ["--dlwp-out", str(out)]
    if workers > 1 and len(notebooks) > 1:
        args += ["-n", str(min(workers, len(notebooks))), "--dist", "loadfile"]
    return args + [str(nb.relative_to(ROOT)) for nb in notebooks]


# A notebook job with no result after this many times its baseline seconds (at least JOB_TIMEOUT_MIN)
# is stopped: nbval waits forever on a kernel that died in a library's segfault.
JOB_TIMEOUT_FACTOR = 4
JOB_TIMEOUT_MIN = 900.0


@dataclass
class Job:
    """One notebook on one backend: a label, what to run, how long the baseline says it takes, what it waits for."""

    label: str
    run: Callable[[], tuple[bool, str]]  # passed?, and what to print under its line
    expected: float
    after: list[str] = field(default_factory=list)


def nbval_job(notebook: Path, backend: str, env: dict[str, str]) -> Job:
    """`notebook` under nbval on `backend` in its own pytest process, saved under build/test/<backend>/."""
    log = layout.log(EXECUTED, backend, notebook)
    expected = expected_seconds(notebook, backend)
    timeout = max(JOB_TIMEOUT_MIN, JOB_TIMEOUT_FACTOR * expected)

    def run() -> tuple[bool, str]:
        log.parent.mkdir(parents=True, exist_ok=True)
        code = run_logged_kernel([sys.executable, "-m", "pytest", *nbval_args([notebook], 1, out=EXECUTED)], log, env,
                                 timeout, cwd=ROOT)
        if code is None:
            return False, (f"no result after {duration(timeout)} ({JOB_TIMEOUT_FACTOR} times the baseline's "
                           f"seconds, at least {duration(JOB_TIMEOUT_MIN)}), so it was stopped. A kernel that "
                           "died (e.g. a segfault in a library) leaves nbval waiting: the last cell it ran is "
                           f"where the dots end in {layout.relative(log)}.")
        text = log.read_text(errors="replace")
        lines = [line for line in text.splitlines() if line.strip()]
        if code == 0:
            return True, lines[-1] if lines else ""
        if code == 5:
            return False, f"pytest collected no tests: that is a failure, not a pass ({layout.relative(log)})"
        return False, text[-6000:] + f"\n(the whole output: {layout.relative(log)})"

    return Job(job_label("nbval", backend, notebook), run, expected)


# The second run checks that a notebook records the same metrics again (determinism) and that it runs
# again in the folder an earlier run left behind (checkpoints, subsets, features already there). Both
# depend on the code path and the seeds, not on the counts. So the slow notebooks run twice at these
# smaller counts, which take the same path (every section, every checkpoint, two epochs where a callback
# keeps the best one), with make run's runner: first in a fresh folder, then again in the folder it left.
# The other notebooks run again, at their own counts, in the folder their nbval run left. notebook ->
# (papermill parameters, seconds of one run on the rerun backend here, for the scheduler).
SECOND_RUN: dict[str, tuple[dict[str, object], float]] = {
    "chapter08/chapter08_image_classification.ipynb": ({
        "MNIST_EPOCHS": 2, "TRAIN_PER_CLASS": 16, "VALIDATION_PER_CLASS": 16, "TEST_PER_CLASS": 16,
        "SCRATCH_EPOCHS": 2, "AUGMENTED_EPOCHS": 2, "FEATURES_EPOCHS": 2, "FROZEN_EPOCHS": 2, "FINE_TUNE_EPOCHS": 2,
        "MINI_XCEPTION_EPOCHS": 2, "COMPACT_XCEPTION_PICTURES": 200, "COMPACT_XCEPTION_EPOCHS": 2,
    }, 90.0),
}


def second_run_first(notebook: Path, out: Path = EXECUTED) -> Path:
    """The output folder (under make test's `out`) of the run that `notebook`'s second run repeats: its nbval
    run's, or that of the first of its pair at SECOND_RUN's counts."""
    return out / layout.RERUN_FIRST if layout.relative(notebook).as_posix() in SECOND_RUN else out


def second_run_jobs(notebook: Path, backend: str, env: dict[str, str], results: list[Result]) -> list[Job]:
    """`notebook` again with make run's papermill runner, in the working folder an earlier run left behind: its
    nbval run's, or (SECOND_RUN) a first run's at smaller counts, run just before."""
    name = layout.relative(notebook).as_posix()
    parameters, seconds = SECOND_RUN.get(name, (None, expected_seconds(notebook, backend)))
    first = second_run_first(notebook)

    def run_first() -> tuple[bool, str]:
        result = run_notebook(notebook, backend, first, env=env, parameters=parameters)
        return result.status == "passed", result.problem

    def run_again() -> tuple[bool, str]:
        result = run_notebook(notebook, backend, RERUN, reuse_work_of=first, env=env, parameters=parameters)
        results.append(result)
        return result.status == "passed", result.problem

    if parameters is None:
        return [Job(job_label("again", backend, notebook), run_again, seconds, [job_label("nbval", backend, notebook)])]
    return [Job(job_label("first", backend, notebook), run_first, seconds),
            Job(job_label("again", backend, notebook), run_again, seconds, [job_label("first", backend, notebook)])]


def book_job(notebook: Path, backend: str, env: dict[str, str], results: list[Result]) -> Job:
    """`notebook` in the book profile with make run's runner, from the tests' mirror, with plan.PARAMETERS."""
    name = layout.relative(notebook).as_posix()
    expected = book_plan.SECONDS.get(name, 60.0)

    def run() -> tuple[bool, str]:
        result = run_notebook(notebook, backend, BOOK, profile="book", env=env, parameters=book_plan.PARAMETERS[name],
                              timeout=max(JOB_TIMEOUT_MIN, JOB_TIMEOUT_FACTOR * expected))
        results.append(result)
        return result.status == "passed", result.problem

    return Job(job_label("book", backend, notebook), run, expected)


@contextlib.contextmanager
def book_mirror(base_env: dict[str, str], folder: Path = BOOK) -> Iterator[dict[str, str]]:
    """The tests' mirror (tests/book_path/fixtures.py, under `folder`) served on 127.0.0.1; yields the book path's
    environment."""
    fixtures = folder / "fixtures"
    cache = folder / "cache"
    shutil.rmtree(cache, ignore_errors=True)  # every download goes through the mirror afresh
    made = subprocess.run([sys.executable, "-m", "tests.book_path.fixtures", str(fixtures)], cwd=ROOT, env=base_env,
                          capture_output=True, text=True)
    if made.returncode != 0:
        raise DLWPError(f"The book path's fixtures could not be made:\n{made.stdout[-3000:]}{made.stderr[-3000:]}")
    handler = functools.partial(_QuietHandler, directory=str(fixtures / "mirror"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = str(ROOT / "tests" / "book_path" / "site")
    try:
        yield dict(base_env, **SENTINELS, DLWP_MIRROR=f"http://127.0.0.1:{server.server_address[1]}",
                   DLWP_CACHE_DIR=str(cache), DLWP_BOOK_PATH_PUBLISHED=str(fixtures / "published.json"),
                   PYTHONPATH=os.pathsep.join(p for p in (site, base_env.get("PYTHONPATH", "")) if p))
    finally:
        server.shutdown()
        server.server_close()


def book_path_summary(results: list[Result], notebooks: list[Path], backends: list[str]) -> str:
    """Seconds per notebook x backend of the book path, and the book-only lines each notebook printed."""
    from tests.results.book_path_check import printed

    seconds = {(r.notebook, r.backend): f"{r.seconds:.0f}" if r.status == "passed" else r.status for r in results}
    lines = ["\nBook path (book profile from the tests' mirror), seconds:\n",
             "| notebook | " + " | ".join(backends) + " |", "|---|" + "---:|" * len(backends)]
    lines += [f"| {layout.relative(nb)} | " + " | ".join(seconds.get((str(layout.relative(nb)), b), "-")
                                                        for b in backends) + " |" for nb in notebooks]
    lines.append("\nBook-only branches that ran (their lines, on " + backends[0] + "):")
    for nb in notebooks:
        name = layout.relative(nb).as_posix()
        try:
            text = printed([c for c in json.loads(layout.executed(BOOK, backends[0], nb).read_text())["cells"]
                            if c["cell_type"] == "code"])
        except (OSError, ValueError, KeyError):
            text = ""
        for pattern, line in book_plan.book_only_found(name, text).items():
            lines.append(f"  {name}: {line[:150] if line else 'MISSING ' + pattern}")
    return "\n".join(lines)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def job_label(kind: str, backend: str, notebook: Path) -> str:
    """"nbval jax        chapter08/chapter08_image_classification.ipynb" (or "again ..." for the second run)."""
    return f"{kind} {backend:10} {layout.relative(notebook)}"


def expected_seconds(notebook: Path, backend: str) -> float:
    """The baseline's seconds for `notebook` on `backend`; a minute where it has none."""
    return baseline.expected_seconds(layout.relative(notebook).as_posix(), backend) or 60.0


def run_jobs(jobs: list[Job], slots: int) -> dict[str, bool]:
    """Run the jobs, `slots` at a time, each after the jobs it waits for; the longest chain first. label -> passed."""
    waiting_on_me: dict[str, list[Job]] = {}
    for job in jobs:
        for label in job.after:
            waiting_on_me.setdefault(label, []).append(job)

    def chain(job: Job) -> float:  # the seconds from this job's start to the end of everything that waits on it
        return job.expected + max((chain(j) for j in waiting_on_me.get(job.label, [])), default=0.0)

    pending = sorted(jobs, key=chain, reverse=True)
    index = {job.label: i for i, job in enumerate(jobs)}
    progress = Progress([job.expected for job in jobs], slots)
    outcome: dict[str, bool] = {}
    started: dict[str, float] = {}
    running: dict[Future, Job] = {}
    with ThreadPoolExecutor(max_workers=max(1, slots)) as pool:
        while pending or running:
            ready = [job for job in pending if all(label in outcome for label in job.after)]
            for job in ready[:max(0, slots - len(running))]:
                pending.remove(job)
                started[job.label] = time.perf_counter()
                print(f"  start  {job.label}", flush=True)
                running[pool.submit(job.run)] = job
            if not running:  # waits for a job that is not in the plan
                for job in pending:
                    print(f"  FAILED {job.label}: it waits for {job.after}, which this run does not have", flush=True)
                    outcome[job.label] = False
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                try:
                    ok, detail = future.result()
                except Exception as err:  # noqa: BLE001  (one job's fault must not stop the others)
                    ok, detail = False, f"{type(err).__name__}: {err}"
                outcome[job.label] = ok
                seconds = time.perf_counter() - started[job.label]
                print(f"  {'passed' if ok else 'FAILED'} {job.label} in {duration(seconds)} "
                      f"{progress.done(index[job.label], seconds)}", flush=True)
                if detail:
                    print("\n".join("    " + line for line in detail.splitlines()), flush=True)
    return outcome


def notebook_jobs(notebooks: list[Path], backends: list[str], rerun_backend: str, workers: int,
                  base_env: dict[str, str], book_path: bool = True) -> bool:
    """Every notebook under nbval on every backend, again on `rerun_backend`, and (`book_path`) in the book profile
    from the tests' mirror on every backend, sharing `workers` slots."""
    compile_cache.prune()  # after the unit tests, whose kernels may have been killed while writing
    rerun_results: list[Result] = []
    book_results: list[Result] = []
    jobs = [nbval_job(nb, backend, dict(base_env, **SENTINELS, KERAS_BACKEND=backend))
            for backend in backends for nb in notebooks]
    if rerun_backend in backends:
        jobs += [job for nb in notebooks
                 for job in second_run_jobs(nb, rerun_backend, dict(base_env, **SENTINELS), rerun_results)]
    with contextlib.ExitStack() as stack:
        if book_path:
            book_env = stack.enter_context(book_mirror(base_env))
            jobs += [book_job(nb, backend, book_env, book_results) for backend in backends for nb in notebooks]
        print(f"{len(jobs)} jobs, {workers} at a time, longest chain first", flush=True)
        outcome = run_jobs(jobs, workers)
    order = {str(layout.relative(nb)): i for i, nb in enumerate(notebooks)}
    if rerun_results:
        write_report(sorted(rerun_results, key=lambda r: order.get(r.notebook, 0)), RERUN, "embedded")
    if book_results:
        write_report(sorted(book_results, key=lambda r: (r.backend, order.get(r.notebook, 0))), BOOK, "book")
        print(book_path_summary(book_results, notebooks, backends), flush=True)
    failed = [label for label, ok in outcome.items() if not ok]
    if failed:
        print("  failed: " + "; ".join(" ".join(label.split()) for label in failed), flush=True)
    return not failed


def html_and_browser(notebooks: list[Path], backends: list[str], env: dict[str, str]) -> bool:
    """Write build/index.html from the nbval runs, then check it and JupyterLab in headless Chromium."""
    index = report.write_for_run(EXECUTED, "make test: every notebook under nbval, embedded profile", layout.BUILD)
    print(f"HTML report: {index}", flush=True)
    args = ["tests/results/browser_check.py", "-q", "--results", str(EXECUTED), "--html", str(index),
            "--backends", ",".join(backends), "--notebooks", ",".join(str(nb) for nb in notebooks)]
    return pytest(args, env, "browser")


def timing_table(backends: list[str], notebooks: list[Path]) -> str:
    """Seconds per notebook x backend, read from the executed notebooks."""
    header = "| notebook | " + " | ".join(backends) + " |"
    lines = [header, "|---|" + "---:|" * len(backends)]
    totals = dict.fromkeys(backends, 0.0)
    for nb in notebooks:
        row = []
        for backend in backends:
            path = layout.executed(EXECUTED, backend, nb)
            try:
                seconds = json.loads(path.read_text())["metadata"]["dlwp"]["seconds"]
                totals[backend] += seconds
                row.append(f"{seconds:.1f}")
            except (OSError, KeyError, json.JSONDecodeError):
                row.append("not run")
        lines.append(f"| {layout.relative(nb)} | " + " | ".join(row) + " |")
    lines.append("| **total** | " + " | ".join(f"{totals[b]:.1f}" for b in backends) + " |")
    return "\n".join(lines)


PARTS = ("unit", "notebooks", "results")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maintainer.matrix", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--workers", type=int, default=2, help="notebooks at once (default 2)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="what to run, of unit (tests + hygiene), notebooks (nbval per backend, and the second run "
                             "when the rerun backend is among them) and results (floors, baseline, HTML report, browser "
                             "checks, over the executed notebooks found under build/test): CI runs them in separate jobs")
    parser.add_argument("--skip-unit", action="store_true", help="the same as --parts notebooks,results")
    parser.add_argument("--other-versions", action="store_true",
                        help="the packages are not the pinned ones the committed baseline records (make test-colab, "
                             "make test-latest): compare with it under wider tolerances (maintainer/baseline.py, "
                             "OTHER_VERSIONS), since other versions move the results by a few points")
    parser.add_argument("--no-book-path", action="store_true",
                        help="leave out the book path (every notebook in the book profile from the tests' mirror)")
    parser.add_argument("--rerun-backend", help="backend of the second (determinism) run; default torch if chosen")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter notebook")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if args.skip_unit:
        parts = [p for p in parts if p != "unit"]
    try:
        backends = parse_backends(args.backends)
        unknown = [p for p in parts if p not in PARTS]
        if unknown or not parts:
            raise DLWPError(f"--parts takes a comma-separated list of {', '.join(PARTS)}; got {args.parts!r}.")
    except DLWPError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    notebooks = [nb.resolve() for nb in args.notebooks] or layout.chapter_notebooks()
    if not notebooks:
        print("error: no notebooks found under chapter*/", file=sys.stderr)
        return 2
    started = time.perf_counter()
    base_env = kernel_environment({k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"})
    base_env.update(DLWP_PROFILE="embedded", PYTHONHASHSEED="0")
    rerun_backend = args.rerun_backend or ("torch" if "torch" in backends else backends[0])
    plan: list[tuple[str, Callable[[], bool]]] = []
    if "unit" in parts:
        unit_env = dict(base_env, KERAS_BACKEND=backends[0])
        plan.append(("unit tests + hygiene", lambda: pytest(["tests", "-q", "-n", "2"], unit_env, "unit tests")))
    if "notebooks" in parts:
        for backend in backends:
            shutil.rmtree(EXECUTED / backend, ignore_errors=True)  # never judge a stale run
        shutil.rmtree(RERUN, ignore_errors=True)
        shutil.rmtree(EXECUTED / layout.RERUN_FIRST, ignore_errors=True)
        for backend in backends:
            shutil.rmtree(BOOK / backend, ignore_errors=True)
        again = f", each then again on {rerun_backend} (make run's runner)" if rerun_backend in backends else ""
        book = "" if args.no_book_path else ", and in the book profile from the tests' mirror"
        plan.append((f"notebooks on {', '.join(backends)}{again}{book}",
                     lambda: notebook_jobs(notebooks, backends, rerun_backend, args.workers, base_env,
                                           book_path=not args.no_book_path)))
    if "results" in parts:
        results_args = ["tests/results/results_check.py", "-q", "--results", str(EXECUTED), "--backends",
                        ",".join(backends), "--rerun-backend", rerun_backend,
                        "--notebooks", ",".join(str(nb) for nb in notebooks)]
        if args.other_versions:
            results_args += ["--other-versions"]

        def check_results() -> bool:
            write_report([result_of_executed(nb, b, EXECUTED) for b in backends for nb in notebooks], EXECUTED,
                         "embedded")
            return pytest(results_args, base_env, "results")

        plan.append(("recorded metrics: floors, baseline, a second run alike, no credentials", check_results))
        if not args.no_book_path:
            book_args = ["tests/results/book_path_check.py", "-q", "--results", str(BOOK), "--backends",
                         ",".join(backends), "--notebooks", ",".join(str(nb) for nb in notebooks)]
            plan.append(("book path: every cell and every book-only branch ran, from the mirror",
                         lambda: pytest(book_args, base_env, "book path")))
        plan.append(("the HTML report and JupyterLab in a real browser",
                     lambda: html_and_browser(notebooks, backends, base_env)))
    steps = run_plan(plan)
    if "notebooks" in parts:
        print("\nSeconds per notebook x backend (nbval, embedded profile, kernel start included):\n")
        print(timing_table(backends, notebooks))
    print("\nSteps:")
    for label, (ok, seconds) in steps.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {seconds:7.1f} s  {label}")
    failed = [label for label, (ok, _) in steps.items() if not ok]
    print(f"\nmake test: {'FAILED: ' + ', '.join(failed) if failed else 'all passed'} "
          f"in {time.perf_counter() - started:.0f} s")
    return 1 if failed else 0


def run_plan(plan: list[tuple[str, Callable[[], bool]]]) -> dict[str, tuple[bool, float]]:
    """Run every step (even after a failure), with progress; their outcomes and seconds, also in steps.json."""
    steps: dict[str, tuple[bool, float]] = {}
    progress = Progress([baseline.step_seconds(label) for label, _ in plan])
    for index, (label, run) in enumerate(plan):
        print(f"\n=== step {index + 1}/{len(plan)}: {label} ({progress.status()})", flush=True)
        t0 = time.perf_counter()
        ok = run()
        steps[label] = (ok, time.perf_counter() - t0)
        print(f"=== {'passed' if ok else 'FAILED'}: {label} in {duration(steps[label][1])} "
              f"{progress.done(index, steps[label][1])}", flush=True)
    EXECUTED.mkdir(parents=True, exist_ok=True)
    recorded = json.loads(layout.steps_json(EXECUTED).read_text()) if layout.steps_json(EXECUTED).is_file() else {}
    recorded.update({label: round(seconds, 1) for label, (_, seconds) in steps.items()})
    layout.steps_json(EXECUTED).write_text(json.dumps(recorded, indent=1) + "\n")
    return steps


if __name__ == "__main__":
    sys.exit(main())
