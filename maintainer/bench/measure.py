"""One benchmark process: time the models on the active Keras backend, or the native PyTorch references.

    KERAS_BACKEND=jax python -m maintainer.bench.measure --engine keras --out jax.json
    python -m maintainer.bench.measure --engine native [--compile] --out native.json

Method (as in the Keras 3 benchmarks): synthetic data, the same batch size for a model across
frameworks, the first step (tracing / compilation) timed and reported on its own, then the
median of `steps` more steps. A training step is one `train_on_batch` call (one optimizer
update, NumPy batch in, loss out); a predict step is one `predict_on_batch` call.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import traceback
from typing import Any, Callable

from maintainer.bench.models import SPECS


def time_calls(call: Callable[[], Any], steps: int) -> tuple[float, float]:
    """(first call, median of the next `steps` calls), in milliseconds."""
    start = time.perf_counter()
    call()
    first = (time.perf_counter() - start) * 1e3
    durations = []
    for _ in range(steps):
        start = time.perf_counter()
        call()
        durations.append((time.perf_counter() - start) * 1e3)
    return first, statistics.median(durations)


def measure_keras(names: list[str], steps: int, quick: bool) -> list[dict[str, Any]]:
    """Time each named model on the active Keras backend."""
    import keras

    keras.utils.set_random_seed(0)
    engine = keras.backend.backend()
    results = []
    for spec in SPECS:
        if spec.name not in names:
            continue
        row: dict[str, Any] = {"model": spec.name, "engine": engine}
        try:
            case = spec.build(quick)
            row["shape"] = case.shape
            row["params"] = sum(math.prod(w.shape) for w in case.model.trainable_weights)
            if case.generate is not None:
                first, median = time_calls(case.generate, max(3, steps // 4))
                row.update(generate_first_ms=first, generate_ms=median,
                           tokens_per_s=case.new_tokens / (median / 1e3))
            else:
                row["train_first_ms"], row["train_ms"] = time_calls(lambda: case.model.train_on_batch(case.x, case.y), steps)
                row["predict_first_ms"], row["predict_ms"] = time_calls(lambda: case.model.predict_on_batch(case.x), steps)
        except Exception as err:  # one model failing on one backend is a result, not a crash
            row["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
            traceback.print_exc()
        print(f"  {engine:11} {spec.name:20} {_summary(row)}", flush=True)
        results.append(row)
    return results


def measure_native(names: list[str], steps: int, quick: bool, compiled: bool) -> list[dict[str, Any]]:
    """Time the hand-written PyTorch references, eager or through torch.compile."""
    import numpy as np
    import torch

    from maintainer.bench.native import NATIVE, build, trainable_parameters

    torch.manual_seed(0)
    engine = "native torch (compile)" if compiled else "native torch"
    results = []
    for name in [n for n in NATIVE if n in names]:
        row: dict[str, Any] = {"model": name, "engine": engine}
        try:
            module, inputs, target, loss_fn = build(name, quick)
            row["params"] = trainable_parameters(module)
            optimizer = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=1e-3)
            forward = torch.compile(module) if compiled else module

            def train_step():
                tensors = [torch.from_numpy(np.asarray(a)) for a in inputs]
                module.train()
                optimizer.zero_grad()
                loss = loss_fn(forward(*tensors), torch.from_numpy(np.asarray(target)))
                loss.backward()
                optimizer.step()
                return loss.item()  # waits for the step to finish, like Keras returning the loss

            def predict_step():
                module.eval()
                with torch.no_grad():
                    return forward(*[torch.from_numpy(np.asarray(a)) for a in inputs]).numpy()

            row["train_first_ms"], row["train_ms"] = time_calls(train_step, steps)
            row["predict_first_ms"], row["predict_ms"] = time_calls(predict_step, steps)
        except Exception as err:
            row["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
            traceback.print_exc()
        print(f"  {engine:11} {name:20} {_summary(row)}", flush=True)
        results.append(row)
    return results


def _summary(row: dict[str, Any]) -> str:
    if "error" in row:
        return f"error: {row['error']}"
    if "tokens_per_s" in row:
        return f"{row['tokens_per_s']:.0f} tokens/s (first call {row['generate_first_ms']:.0f} ms)"
    return f"train {row['train_ms']:.1f} ms/step (first {row['train_first_ms']:.0f} ms), predict {row['predict_ms']:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["keras", "native"], required=True)
    parser.add_argument("--compile", action="store_true", help="native: torch.compile the module")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", default=",".join(s.name for s in SPECS))
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    names = args.models.split(",")
    if args.engine == "keras":
        results = measure_keras(names, args.steps, args.quick)
    else:
        results = measure_native(names, args.steps, args.quick, args.compile)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
