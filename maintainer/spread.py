"""How far a notebook's metrics move with what another machine changes: the spread tables.

    python -m maintainer.spread run [NOTEBOOK ...] [--variations default,threads1,avx2,seed1] [--jobs 2]
    python -m maintainer.spread tables          # build/spread/results.json -> tests/results/spread/

Another CPU runs the same notebook with other instruction sets and other thread counts, so the
floating-point sums of a long training come out in another order, and the trajectory drifts the
way another seed would make it drift. On one machine those can be varied (VARIATIONS): each
notebook x backend runs once per variation with papermill (maintainer.run.run_notebook), in
build/spread/<variation>/, and results.json keeps every run's metrics (a run already recorded as
passed is not run again: delete results.json, or the variation's folder, to start over).

`tables` writes, per notebook, a Markdown table (min, median, max of every metric on every backend,
and the value of each variation) and tests/results/spread.json, from which maintainer.baseline
takes each metric's tolerance (see there). Commit both after a full run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dlwp_utils.backend import BACKENDS, parse_backends
from dlwp_utils.data.store import write_text
from maintainer import compile_cache, layout
from maintainer.baseline import EXACT
from maintainer.progress import Progress, duration
from maintainer.run import Result, run_notebook, write_report

SPREAD_OUT = layout.BUILD / "spread"  # the executed notebooks of each variation, and results.json
TABLES = layout.REPO_ROOT / "tests" / "results" / "spread"  # the committed tables, one per notebook
SPREAD_JSON = layout.REPO_ROOT / "tests" / "results" / "spread.json"  # the same, for maintainer.baseline
# (XLA ignores, without a word, a token of XLA_FLAGS without "--": the committed tables were measured
# with "intra_op_parallelism_threads=1" there too, which did nothing; JAX's results were the same.)
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1",
              "TF_NUM_INTEROP_THREADS": "1", "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"}
FOUR_THREADS = {"OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "4", "TF_NUM_INTRAOP_THREADS": "4"}
# Instruction sets no wider than AVX2 in every library that picks its kernels by the CPU: oneDNN
# (TensorFlow's and torch's convolutions), torch's own kernels, XLA:CPU's code generation, NumPy
# (NumPy 2's names for its AVX-512 targets; the committed tables were measured with NumPy 1's
# names, of which NumPy 2.4 took AVX512_ICL alone: its X86_V4 kernels stayed on).
AVX2 = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "XLA_FLAGS": "--xla_cpu_max_isa=AVX2",
        "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}


@dataclass(frozen=True)
class Variation:
    """One way another machine could run a notebook: environment variables and papermill parameters."""

    name: str
    describe: str
    env: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def machine(self) -> bool:
        """Whether it changes what another CPU changes (the environment), not the notebook's own settings."""
        return bool(self.env)


VARIATIONS = {v.name: v for v in (
    Variation("default", "this machine as it is (what make run does)"),
    Variation("threads1", "one thread per library (OpenMP, MKL, TensorFlow, XLA's Eigen)", ONE_THREAD),
    Variation("threads4", "four threads per library (a bigger machine's reductions)", FOUR_THREADS),
    Variation("avx2", "instruction sets up to AVX2 (oneDNN, torch, XLA:CPU, NumPy)", AVX2),
    Variation("seed1", "the notebook's SEED = 1 instead of 42", parameters={"SEED": 1}),
    Variation("seed2", "the notebook's SEED = 2 instead of 42", parameters={"SEED": 2}),
)}
DEFAULT_VARIATIONS = ("default", "threads1", "avx2", "seed1")
DEFAULT = VARIATIONS["default"]


@dataclass
class Run:
    """One notebook x backend x variation: its status and metrics."""

    variation: str
    notebook: str
    backend: str
    status: str
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    problem: str = ""


def environment(variation: Variation, base: Mapping[str, str]) -> dict[str, str]:
    """`base` with the variation's variables; JAX's compilation cache kept apart per variation
    (an entry compiled for AVX-512 must not be loaded under AVX2)."""
    env = dict(base)
    for key, value in variation.env.items():
        env[key] = f"{env[key]} {value}".strip() if key == "XLA_FLAGS" and env.get(key) else value
    if variation.env:
        env.update(compile_cache.environment(layout.COMPILE_CACHE / f"jax-{variation.name}"))
    return env


def load_runs(path: Path) -> list[Run]:
    """The runs recorded in `path` (results.json), [] if none."""
    if not path.is_file():
        return []
    return [Run(**row) for row in json.loads(path.read_text(encoding="utf-8"))]


def save_runs(runs: list[Run], path: Path) -> None:
    """Write results.json atomically (a run killed mid-write leaves the last complete file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = sorted(runs, key=lambda r: (r.notebook, r.backend, r.variation))
    write_text(path, json.dumps([asdict(r) for r in ordered], indent=1) + "\n")


def run(notebooks: list[Path], backends: list[str], variations: list[Variation], out: Path, jobs: int,
        timeout: float, base_env: Mapping[str, str]) -> list[Run]:
    """Run every notebook x backend x variation not yet passed in out/results.json; return all runs."""
    results = out / "results.json"
    runs = {(r.variation, r.notebook, r.backend): r for r in load_runs(results)}
    tasks = [(v, nb, b) for nb in notebooks for v in variations for b in backends
             if getattr(runs.get((v.name, str(layout.relative(nb)), b)), "status", "") != "passed"]
    # The longest first (by the baseline's seconds), so that two slots finish together.
    from maintainer import baseline
    expected = [baseline.expected_seconds(layout.relative(nb).as_posix(), b) for _, nb, b in tasks]
    order = sorted(range(len(tasks)), key=lambda i: -(expected[i] or 0.0))
    tasks, expected = [tasks[i] for i in order], [expected[i] for i in order]
    progress = Progress(expected, jobs)
    lock = threading.Lock()
    print(f"Spread: {len(tasks)} runs to do ({len(runs)} recorded), {jobs} at a time"
          + (f", about {duration(progress.left())}" if progress.left() else ""), flush=True)

    def one(index: int) -> None:
        variation, notebook, backend = tasks[index]
        result = run_notebook(notebook, backend, out / variation.name, "embedded", timeout,
                              env=environment(variation, base_env), parameters=variation.parameters)
        entry = Run(variation.name, result.notebook, backend, result.status, result.seconds, result.metrics,
                    result.problem)
        with lock:
            runs[(variation.name, entry.notebook, backend)] = entry
            save_runs(list(runs.values()), results)
        print(f"{progress.done(index, result.seconds)}  {result.status:7} {result.seconds:7.1f} s  "
              f"{variation.name:9} {backend:10} {entry.notebook}  {result.problem}", flush=True)

    compile_cache.prune()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, range(len(tasks))))
    for variation in variations:  # each variation's own report.json, as make run writes it (make baseline reads one)
        rows = [Result(r.notebook, r.backend, r.status, r.seconds, r.metrics, r.problem,
                       str(layout.executed(out / r.variation, r.backend, layout.REPO_ROOT / r.notebook)))
                for r in runs.values() if r.variation == variation.name]
        write_report(rows, out / variation.name, f"embedded, spread variation {variation.name}")
    return list(runs.values())


def spread_of(runs: list[Run]) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """{notebook: {backend: {metric: {min, median, max, runs, machine_moved, values: {variation: value}}}}}
    of the passed runs; machine_moved: whether a variation of the machine (not of a seed) changed any metric of
    that notebook x backend by more than EXACT (then it may change all of them)."""
    values: dict[tuple[str, str, str], dict[str, float]] = {}
    for r in runs:
        if r.status != "passed":
            continue
        for metric, value in r.metrics.items():
            values.setdefault((r.notebook, r.backend, metric), {})[r.variation] = float(value)
    def moved(by_variation: dict[str, float]) -> bool:  # did a variation of the machine change it (beyond EXACT)?
        default = by_variation.get("default")
        return default is None or any(abs(value - default) > EXACT * max(1.0, abs(default))
                                      for name, value in by_variation.items() if VARIATIONS.get(name, DEFAULT).machine)

    # One training run: where the machine moved any of its metrics, it moved its trajectory, and
    # every metric of that notebook x backend may move on another machine, if not here.
    runs_moved = {(nb, b) for (nb, b, _), by_variation in values.items() if moved(by_variation)}
    table: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for (notebook, backend, metric), by_variation in sorted(values.items()):
        numbers = list(by_variation.values())
        machine_moved = (notebook, backend) in runs_moved
        table.setdefault(notebook, {}).setdefault(backend, {})[metric] = {
            "min": min(numbers), "median": statistics.median(numbers), "max": max(numbers), "runs": len(numbers),
            "machine_moved": machine_moved, "values": dict(sorted(by_variation.items()))}
    return table


def markdown(notebook: str, table: Mapping[str, Mapping[str, Mapping[str, Any]]], variations: list[str]) -> str:
    """One notebook's spread table: min / median / max per metric and backend, then each variation's value."""
    lines = [f"# Spread of {notebook}", "",
             "Generated by `python -m maintainer.spread tables` from `make spread` (maintainer/spread.py); "
             "maintainer.baseline takes each metric's tolerance from it. Variations:", ""]
    lines += [f"- `{name}`: {VARIATIONS[name].describe}" for name in variations if name in VARIATIONS]
    lines += ["", "A metric that no variation of the machine moved (`machine` = no) must come out exactly; the others "
              "may fall to their minimum and half their width below (maintainer/baseline.py, measured_tolerance).",
              "", "| metric | backend | min | median | max | width | machine | " + " | ".join(variations) + " |",
              "|---|---|---:|---:|---:|---:|---|" + "---:|" * len(variations)]
    metrics = sorted({m for backend in table.values() for m in backend})
    for metric in metrics:
        for backend in sorted(table):
            s = table[backend].get(metric)
            if s is None:
                continue
            cells = [f"{s['values'][v]:.4g}" if v in s["values"] else "-" for v in variations]
            lines.append(f"| {metric} | {backend} | {s['min']:.4g} | {s['median']:.4g} | {s['max']:.4g} | "
                         f"{s['max'] - s['min']:.3g} | {'yes' if s['machine_moved'] else 'no'} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_tables(runs: list[Run], tables: Path = TABLES, spread_json: Path = SPREAD_JSON) -> list[Path]:
    """tests/results/spread/<chapter>_<name>.md per notebook and tests/results/spread.json; the paths written."""
    table = spread_of(runs)
    variations = [v for v in VARIATIONS if any(r.variation == v for r in runs)]
    failed = sorted({f"{r.notebook} [{r.backend}, {r.variation}]: {r.problem}" for r in runs if r.status != "passed"})
    tables.mkdir(parents=True, exist_ok=True)
    written = []
    for notebook, by_backend in table.items():
        path = tables / (Path(notebook).stem + ".md")
        write_text(path, markdown(notebook, by_backend, variations))
        written.append(path)
    payload = {"variations": {v: VARIATIONS[v].describe for v in variations}, "failed": failed,
               "spread": {nb: {b: {m: {k: s[k] for k in ("min", "median", "max", "runs", "machine_moved", "values")}
                                   for m, s in sorted(ms.items())} for b, ms in sorted(bs.items())}
                          for nb, bs in sorted(table.items())}}
    write_text(spread_json, json.dumps(payload, indent=1) + "\n")
    written.append(spread_json)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maintainer.spread", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "tables"])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter*/*.ipynb")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--variations", default=",".join(DEFAULT_VARIATIONS),
                        help=f"comma-separated, of: {', '.join(VARIATIONS)}")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument("--out", type=Path, default=SPREAD_OUT)
    args = parser.parse_args(argv)
    unknown = [v for v in args.variations.split(",") if v.strip() not in VARIATIONS]
    if unknown:
        print(f"error: unknown variation(s) {', '.join(unknown)}; known: {', '.join(VARIATIONS)}", file=sys.stderr)
        return 2
    if args.command == "tables":
        runs = load_runs(args.out / "results.json")
        if not runs:
            print(f"error: {args.out / 'results.json'} has no runs: run `make spread` first.", file=sys.stderr)
            return 2
        for path in write_tables(runs):
            print(f"wrote {layout.relative(path)}")
        return 0
    import os

    notebooks = args.notebooks or layout.chapter_notebooks()
    missing = [str(nb) for nb in notebooks if not nb.is_file()]
    if missing:
        print(f"error: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    variations = [VARIATIONS[v.strip()] for v in args.variations.split(",")]
    runs = run(notebooks, parse_backends(args.backends), variations, args.out, args.jobs, args.timeout, os.environ)
    failed = [r for r in runs if r.status != "passed"]
    for r in failed:
        print(f"FAILED {r.notebook} [{r.backend}, {r.variation}]: {r.problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
