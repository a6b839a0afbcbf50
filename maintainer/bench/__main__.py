"""`make bench`: ms per training step of each chapter's model on each Keras backend and in native PyTorch.

    python -m maintainer.bench                      # the full run, into build/bench (make bench)
    python -m maintainer.bench --out benchmarks     # the committed copy (make bench PUBLISH=1)
    python -m maintainer.bench --quick --rounds 2 --out /tmp/b   # a minute; proves the code, not the numbers

Interleaved rounds: in each round every engine (each Keras backend, then native PyTorch eager
and under torch.compile) measures every model in a fresh process, engines taking turns in an
order that rotates from round to round, so that a drift of the machine (this one is shared)
hits them all alike. results.md gives each figure's min / median / max over the rounds and the
per-round ratio best Keras / native, and calls a side only when every round agrees. It also
compares its calls with the committed benchmarks/results.json. The processes use a CUDA GPU
when they find one (see maintainer.bench.device) and record the device they used.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dlwp_utils.backend import BACKENDS, parse_backends
from dlwp_utils.errors import DLWPError
from maintainer import compile_cache, layout
from maintainer.bench.device import sharing_environment
from maintainer.bench.measure import NATIVE_COMPILED, NATIVE_EAGER
from maintainer.bench.models import SPECS
from maintainer.bench.results import write_results
from maintainer.bench.variants import VARIANTS

COMMITTED = layout.REPO_ROOT / "benchmarks"
DEFAULT_OUT = layout.BUILD / "bench"
# On a shared machine, OpenMP threads that spin while they wait (torch's default) make a torch
# training step 5-30x slower than waiting passively (mnist_dense: 512 against 15 ms, measured).
QUIET_THREADS = {"OMP_WAIT_POLICY": "passive"}


def engine_plan(backends: list[str], models: list[str], variants: bool, native: bool,
                compiled: bool, only: set[str] | None = None) -> list[tuple[str, list[str], dict[str, str]]]:
    """(engine name, measure.py arguments, environment additions) for each engine of a round; `only`: these
    variants alone."""
    everything = ["--models", ",".join(models)]
    plan = [(backend, ["--engine", "keras", *everything], {"KERAS_BACKEND": backend}) for backend in backends]
    for variant in VARIANTS if variants else ():
        if only is not None and variant.engine not in only:
            continue
        chosen = [m for m in models if variant.models is None or m in variant.models]
        if variant.backend in backends and chosen:
            plan.append((variant.engine, ["--engine", "keras", "--engine-name", variant.engine, "--jit-compile",
                                          variant.jit_compile, "--models", ",".join(chosen)],
                         {"KERAS_BACKEND": variant.backend, **dict(variant.env)}))
    if native:
        plan.append((NATIVE_EAGER, ["--engine", "native", *everything], {}))
        if compiled:
            plan.append((NATIVE_COMPILED, ["--engine", "native", "--compile", *everything], {}))
    return plan


def rotated(items: list[Any], round_index: int) -> list[Any]:
    """The round's order: the list rotated by the round's number, so that no engine always goes first."""
    k = round_index % len(items) if items else 0
    return items[k:] + items[:k]


def run_engine(engine: str, args: list[str], env: dict[str, str], out: Path, timeout: float) -> list[dict[str, Any]]:
    """Run one measurement process; its rows, or one error row if it failed or timed out."""
    command = [sys.executable, "-m", "maintainer.bench.measure", *args, "--out", str(out)]
    try:
        subprocess.run(command, env=env, timeout=timeout, check=True, cwd=layout.REPO_ROOT)
        return json.loads(out.read_text())
    except (subprocess.SubprocessError, OSError, json.JSONDecodeError) as err:
        reason = (f"timed out after {timeout:.0f} s" if isinstance(err, subprocess.TimeoutExpired)
                  else f"{type(err).__name__}: {err}")
        print(f"  {engine}: the measurement process failed ({reason})", flush=True)
        return [{"engine": engine, "model": "*", "error": f"measurement process failed: {reason}"}]


def previous_summary(path: Path) -> list[dict[str, Any]] | None:
    """The summary of an earlier run's results.json, if it has one (older formats have none)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data.get("summary") if isinstance(data, dict) and not data.get("quick") else None


def rewrite(out: Path) -> int:
    """results.md and results.png again from a run's results.json (after a change to the report's text)."""
    try:
        data = json.loads((out / "results.json").read_text())
        rows, compared = data.pop("rows"), data.pop("compared_with")
        data.pop("summary")
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
        print(f"error: {out / 'results.json'} is not the results.json of a run ({type(err).__name__}: {err}); "
              "run `make bench` to make one.", file=sys.stderr)
        return 2
    problems = write_results(rows, data, out, compared["summary"], compared["name"])
    print(f"Wrote {out / 'results.md'} and {out / 'results.png'} again from {out / 'results.json'}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maintainer.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--steps", type=int, default=4,
                        help="timed training steps per model per round (default 4; predict and generate: half)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 2 steps: proves the code, not the numbers")
    parser.add_argument("--models", default=",".join(s.name for s in SPECS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {layout.relative(DEFAULT_OUT)}")
    parser.add_argument("--no-native", action="store_true", help="skip the native PyTorch references")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile reference")
    parser.add_argument("--no-variants", action="store_true",
                        help="skip the Keras settings measured beside the defaults: " + ", ".join(v.engine for v in VARIANTS))
    parser.add_argument("--variants", help="comma-separated: these of the settings alone (default: every one)")
    parser.add_argument("--compare", type=Path, default=COMMITTED / "results.json",
                        help="an earlier results.json whose calls this run's are compared with")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per measurement process")
    parser.add_argument("--rewrite", action="store_true",
                        help="measure nothing: write results.md and results.png again from OUT/results.json")
    args = parser.parse_args(argv)
    if args.rewrite:
        return rewrite(args.out)
    try:
        backends = parse_backends(args.backends)
    except DLWPError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    names = [n for n in args.models.split(",") if n]
    unknown = set(names) - {s.name for s in SPECS}
    if unknown or not names or args.rounds < 1 or args.steps < 1:
        print(f"error: choose models from {[s.name for s in SPECS]} (unknown: {sorted(unknown)}), "
              "and at least one round and one step", file=sys.stderr)
        return 2
    only = {v.strip() for v in args.variants.split(",") if v.strip()} if args.variants else None
    if only is not None and only - {v.engine for v in VARIANTS}:
        print(f"error: --variants takes names from {[v.engine for v in VARIANTS]}; unknown: "
              f"{sorted(only - {v.engine for v in VARIANTS})}", file=sys.stderr)
        return 2
    steps = 2 if args.quick else args.steps
    previous = previous_summary(args.compare)  # read before this run may overwrite it
    plan = engine_plan(backends, names, not args.no_variants, not args.no_native, not args.no_compile, only)
    common = ["--steps", str(steps)] + (["--quick"] if args.quick else [])
    compile_cache.prune()
    env = sharing_environment({**QUIET_THREADS, **compile_cache.environment(),
                               "TORCHINDUCTOR_CACHE_DIR": str(layout.COMPILE_CACHE / "inductor"), **os.environ,
                               "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(layout.REPO_ROOT)})
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dlwp-bench-") as folder:  # one JSON per measurement process
        for round_index in range(args.rounds):
            for engine, engine_args, extra in rotated(plan, round_index):
                print(f"round {round_index + 1}/{args.rounds}, {engine}:", flush=True)
                loads.append(os.getloadavg()[0])
                out = Path(folder) / f"round{round_index}-{len(rows)}.json"
                for row in run_engine(engine, [*engine_args, *common], dict(env, **extra), out, args.timeout):
                    rows.append(dict(row, round=round_index + 1))
    meta = {"date": time.strftime("%Y-%m-%d"), "rounds": args.rounds, "steps": steps, "quick": args.quick,
            "engines": [e for e, _, _ in plan], "models": names, "minutes": (time.perf_counter() - started) / 60,
            "load": [min(loads), max(loads)] if loads else None}
    problems = write_results(rows, meta, args.out, previous, layout.relative(args.compare).as_posix())
    print(f"Wrote {args.out / 'results.md'} and {args.out / 'results.png'} in {time.perf_counter() - started:.0f} s")
    for problem in problems:
        print(f"problem: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
