"""`make bench`: ms per training step of each chapter's model on each Keras backend and in native PyTorch.

    python -m maintainer.bench                    # full: 20 steps per model, writes build/bench/
    python -m maintainer.bench --out benchmarks   # ... into the committed results (make bench PUBLISH=1)
    python -m maintainer.bench --quick --out /tmp/b --backends torch   # seconds; proves the code runs

Each backend runs in its own fresh process (maintainer.bench.measure), then the hand-written
PyTorch references, eager and with torch.compile (in a process with a time limit, since
compilation may be slow or unavailable). Writes results.md (machine, versions, tables),
results.json and results.png (a bar chart) into the output folder.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dlwp_utils.backend import BACKENDS, parse_backends
from maintainer.bench.models import SPECS, sizes
from maintainer.bench.native import NATIVE
from dlwp_utils.errors import DLWPError

NATIVE_EAGER, NATIVE_COMPILED = "native torch", "native torch (compile)"


def run_engine(args: list[str], env: dict[str, str], out: Path, timeout: float) -> list[dict[str, Any]]:
    """Run one measurement process; its rows, or one error row per model if it failed or timed out."""
    command = [sys.executable, "-m", "maintainer.bench.measure", *args, "--out", str(out)]
    try:
        subprocess.run(command, env=env, timeout=timeout, check=True)
        return json.loads(out.read_text())
    except (subprocess.SubprocessError, OSError, json.JSONDecodeError) as err:
        reason = f"timed out after {timeout:.0f} s" if isinstance(err, subprocess.TimeoutExpired) else type(err).__name__
        print(f"  measurement process failed: {reason}", flush=True)
        return [{"engine": out.stem, "model": "*", "error": reason}]


def machine_info() -> list[str]:
    """Lines describing the CPU, memory and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        memory = f"{pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        memory = "RAM unknown"
    versions = []
    for package in ("keras", "jax", "tensorflow", "torch", "keras-hub"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    return [f"- CPU: {cpu}, {os.cpu_count()} cores, {memory}, no GPU used",
            f"- Python {platform.python_version()}; " + ", ".join(versions)]


def _cell(row: dict[str, Any] | None, key: str) -> str:
    if row is None:
        return "-"
    if "error" in row:
        return "error"
    return f"{row[key]:.1f}" if key in row else "-"


def write_report(rows: list[dict[str, Any]], out: Path, engines: list[str], steps: int, quick: bool,
                 seconds: float) -> list[str]:
    """results.md, results.json and results.png; returns the problems found (parameter mismatches, errors)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    by = {(r["model"], r["engine"]): r for r in rows}
    keras_engines = [e for e in engines if e in BACKENDS]
    problems = [f"{r['model']} on {r['engine']}: {r['error']}" for r in rows if "error" in r]
    lines = ["# Benchmarks: ms per training step, by Keras backend and in native PyTorch", "",
             f"Measured {time.strftime('%Y-%m-%d')} by `make bench`{' (QUICK MODE: numbers meaningless)' if quick else ''} "
             f"in {seconds / 60:.1f} min.", "", *machine_info(), "",
             f"Method: synthetic data; the same batch size for a model in every framework; each backend in its own "
             f"process; the first step (tracing / compilation) reported apart; then the median of {steps} steps. "
             "A training step is one `train_on_batch` (NumPy batch in, one optimizer update, loss out); native "
             "PyTorch does the same with torch.nn, Adam and `loss.item()`. Keras uses its defaults (`jit_compile='auto'`: "
             "XLA on JAX and TensorFlow, eager on torch). Lower is better.", "",
             "## Training step (median ms)", "",
             "| model | chapter | input | " + " | ".join(engines) + " | fastest Keras | best Keras / native torch |",
             "|---|---|---|" + "---:|" * len(engines) + "---|---:|"]
    trained = [s for s in SPECS if any((s.name, e) in by and "train_ms" in by[(s.name, e)] for e in engines)]
    for spec in trained:
        keras_rows = [by[(spec.name, e)] for e in keras_engines if "train_ms" in by.get((spec.name, e), {})]
        best = min(keras_rows, key=lambda r: r["train_ms"]) if keras_rows else None
        native = by.get((spec.name, NATIVE_EAGER), {})
        ratio = f"{best['train_ms'] / native['train_ms']:.2f}" if best and "train_ms" in native else "-"
        shape = next((r.get("shape", "") for r in keras_rows), "")
        cells = [_cell(by.get((spec.name, e)), "train_ms") for e in engines]
        lines.append(f"| {spec.description} | {spec.chapter} | {shape} | " + " | ".join(cells)
                     + f" | {best['engine'] if best else '-'} | {ratio} |")
        if spec.native and "params" in native:
            counts = {r["params"] for r in keras_rows} | {native["params"]}
            if len(counts) != 1:
                problems.append(f"{spec.name}: trainable parameters differ between Keras and native torch: {counts}")
    lines += ["", "## Predict step (median ms)", "", "| model | " + " | ".join(engines) + " |",
              "|---|" + "---:|" * len(engines)]
    lines += [f"| {s.description} | " + " | ".join(_cell(by.get((s.name, e)), "predict_ms") for e in engines) + " |"
              for s in trained]
    lines += ["", "## First training step, tracing and compilation included (ms)", "",
              "| model | " + " | ".join(engines) + " |", "|---|" + "---:|" * len(engines)]
    lines += [f"| {s.description} | " + " | ".join(_cell(by.get((s.name, e)), "train_first_ms") for e in engines) + " |"
              for s in trained]
    generated = [s for s in SPECS if any("tokens_per_s" in by.get((s.name, e), {}) for e in keras_engines)]
    if generated:
        lines += ["", "## Text generation (new tokens per second; first call in ms)", "",
                  "| model | input | " + " | ".join(keras_engines) + " |", "|---|---|" + "---:|" * len(keras_engines)]
        for s in generated:
            cells = []
            for e in keras_engines:
                r = by.get((s.name, e), {})
                cells.append(f"{r['tokens_per_s']:.0f} ({r['generate_first_ms']:.0f} ms)" if "tokens_per_s" in r else "error")
            shape = next((by[(s.name, e)].get("shape", "") for e in keras_engines if (s.name, e) in by), "")
            lines.append(f"| {s.description} | {shape} | " + " | ".join(cells) + " |")
    lines += ["", "Sizes used: " + ", ".join(f"{k}={v}" for k, v in sizes(quick).items()) + ".",
              "Native PyTorch references exist for: " + ", ".join(NATIVE) + "; their trainable parameter counts "
              "are checked equal to the Keras models' (torch's second LSTM bias is frozen at zero to match Keras). "
              "torch.compile does not compile `nn.LSTM` (`torch._dynamo.config.allow_rnn` is off by default), so "
              "its seq2seq LSTM column is eager execution behind compiled guards.", ""]
    if problems:
        lines += ["## Problems", "", *[f"- {p}" for p in problems], ""]
    lines += ["![ms per training step](results.png)", ""]
    (out / "results.md").write_text("\n".join(lines))
    _chart([s for s in trained], by, engines, out / "results.png")
    return problems


def _chart(specs: list[Any], by: dict, engines: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axis = plt.subplots(figsize=(max(8, 1.4 * len(specs)), 4.5))
    width = 0.8 / max(1, len(engines))
    for i, engine in enumerate(engines):
        values = [by.get((s.name, engine), {}).get("train_ms", np.nan) for s in specs]
        axis.bar(np.arange(len(specs)) + i * width, values, width, label=engine)
    axis.set_xticks(np.arange(len(specs)) + width * (len(engines) - 1) / 2)
    axis.set_xticklabels([s.name for s in specs], rotation=30, ha="right")
    axis.set_yscale("log")
    axis.set_ylabel("ms per training step (log scale, lower is better)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maintainer.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--steps", type=int, default=20, help="timed steps per model after the first (default 20)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 2 steps: proves the code, not the numbers")
    parser.add_argument("--models", default=",".join(s.name for s in SPECS))
    parser.add_argument("--out", type=Path, default=Path("build/bench"),
                        help="where results go (default build/bench; benchmarks/ is the committed copy: make bench PUBLISH=1)")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile reference")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per measurement process")
    args = parser.parse_args(argv)
    try:
        backends = parse_backends(args.backends)
    except DLWPError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    unknown = set(args.models.split(",")) - {s.name for s in SPECS}
    if unknown:
        print(f"error: unknown models {sorted(unknown)}; choose from {[s.name for s in SPECS]}", file=sys.stderr)
        return 2
    steps = 2 if args.quick else args.steps
    common = ["--steps", str(steps), "--models", args.models] + (["--quick"] if args.quick else [])
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    engines = list(backends)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    with tempfile.TemporaryDirectory(prefix="dlwp-bench-") as folder:  # one JSON per measurement process
        raw = Path(folder)
        for backend in backends:
            print(f"Keras on {backend}:", flush=True)
            rows += run_engine(["--engine", "keras", *common], dict(env, KERAS_BACKEND=backend),
                               raw / f"{backend}.json", args.timeout)
        if any(name in NATIVE for name in args.models.split(",")):
            print("Native PyTorch:", flush=True)
            rows += run_engine(["--engine", "native", *common], env, raw / "native.json", args.timeout)
            engines.append(NATIVE_EAGER)
            if not args.no_compile:
                print("Native PyTorch with torch.compile:", flush=True)
                rows += run_engine(["--engine", "native", "--compile", *common], env, raw / "native_compile.json",
                                   args.timeout)
                engines.append(NATIVE_COMPILED)
    problems = write_report(rows, args.out, engines, steps, args.quick, time.perf_counter() - started)
    print(f"Wrote {args.out / 'results.md'} and {args.out / 'results.png'} in {time.perf_counter() - started:.0f} s")
    for problem in problems:
        print(f"problem: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
