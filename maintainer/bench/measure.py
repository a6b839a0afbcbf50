"""One benchmark process: time the models on the active Keras backend, or their native PyTorch references.

    KERAS_BACKEND=jax python -m maintainer.bench.measure --engine keras --out jax.json
    KERAS_BACKEND=torch python -m maintainer.bench.measure --engine keras --jit-compile true --out t.json
    python -m maintainer.bench.measure --engine native [--compile] --out native.json

Method (as in the Keras 3 benchmarks): synthetic data, the same batch size for a model across
frameworks, the first call (tracing / compilation) timed and reported on its own, one more call
untimed, then the median of `steps` training calls (of short(steps) predict or generate calls). A training step is one `train_on_batch` call (NumPy
batch in, one optimizer update, loss out); natively, the batch moved to the device, forward,
backward, one Adam step and `loss.item()`. A predict step is one `predict_on_batch` call
(natively: eval mode, no_grad, the output back in NumPy; not under torch.compile). maintainer.bench runs this once per
engine per round, in a fresh process each time.
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

from maintainer.bench.models import BY_NAME, SPECS

NATIVE_EAGER, NATIVE_COMPILED = "native torch", "native torch (compile)"


def keras_engine_name(backend: str, jit_compile: str) -> str:
    """A Keras backend's name in the report, with its jit_compile setting unless it is the default."""
    return backend if jit_compile == "auto" else f"{backend} (jit_compile={jit_compile.capitalize()})"


def time_calls(call: Callable[[], Any], steps: int) -> tuple[float, float]:
    """(first call, median of `steps` calls after one more untimed), in milliseconds."""
    start = time.perf_counter()
    call()
    first = (time.perf_counter() - start) * 1e3
    call()  # a second call may still settle (a retrace, an allocator growing): not timed
    durations = []
    for _ in range(steps):
        start = time.perf_counter()
        call()
        durations.append((time.perf_counter() - start) * 1e3)
    return first, statistics.median(durations)


def short(steps: int) -> int:
    """Timed calls of a predict step or of a generation: half the training steps, at least 2."""
    return max(2, steps // 2)


def _error(err: Exception) -> str:
    traceback.print_exc()
    return f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"


def measure_keras(names: list[str], steps: int, quick: bool, jit_compile: str,
                  engine: str | None = None) -> list[dict[str, Any]]:
    """Time each named model on the active Keras backend; `engine` names it in the tables (default: from the setting)."""
    import keras

    from dlwp_utils import torch_cpu, xla_cpu
    from maintainer.bench.device import describe_keras_backend

    xla_cpu.install()  # as the notebooks' setup cell does (JAX on a CPU; DLWP_XLA_CPU_PAD=0: Keras' own convolution)
    torch_cpu.install()  # the same (torch on a CPU; DLWP_TORCH_CPU_LAYOUT=0: Keras' own copies)
    keras.utils.set_random_seed(0)
    backend = keras.backend.backend()
    engine = engine or keras_engine_name(backend, jit_compile)
    device = describe_keras_backend(backend)
    setting = {"auto": "auto", "true": True, "false": False}[jit_compile]
    results = []
    for name in names:
        spec = BY_NAME[name]
        row: dict[str, Any] = {"model": name, "engine": engine, "device": device, "steps": steps}
        try:
            case = spec.build(**spec.sizes(quick))
            row["shape"] = case.shape
            if spec.generation:
                case.model.compile(sampler="greedy", jit_compile=setting)
                row["params"] = case.model.count_params()
                first, median = time_calls(case.generate, short(steps))
                row.update(generate_first_ms=first, generate_ms=median, tokens_per_s=case.new_tokens / (median / 1e3))
            else:
                case.model.compile(optimizer="adam", loss=case.loss, jit_compile=setting)
                row["params"] = sum(math.prod(w.shape) for w in case.model.trainable_weights)
                row["train_first_ms"], row["train_ms"] = time_calls(lambda: case.model.train_on_batch(case.x, case.y),
                                                                    steps)
                row["predict_first_ms"], row["predict_ms"] = time_calls(lambda: case.model.predict_on_batch(case.x),
                                                                        short(steps))
        except Exception as err:  # one model failing on one backend is a result, not a crash
            row["error"] = _error(err)
        print(f"  {engine:11} {name:20} {_summary(row)}", flush=True)
        results.append(row)
    return results


def measure_native(names: list[str], steps: int, quick: bool, compiled: bool) -> list[dict[str, Any]]:
    """Time the hand-written PyTorch references, eager or through torch.compile."""
    import numpy as np
    import torch

    from maintainer.bench.device import describe_torch, torch_device
    from maintainer.bench.native import build, trainable_parameters

    torch.manual_seed(0)
    device, description = torch_device(torch), describe_torch(torch)
    engine = NATIVE_COMPILED if compiled else NATIVE_EAGER
    results = []
    for name in names:
        spec = BY_NAME[name]
        row: dict[str, Any] = {"model": name, "engine": engine, "device": description, "steps": steps}
        try:
            reference = build(name, **spec.sizes(quick))
            module = reference.module.to(device)
            row["params"] = trainable_parameters(module)
            if reference.generate is not None:
                module.eval()
                first, median = time_calls(reference.generate(device, compiled), short(steps))
                row.update(generate_first_ms=first, generate_ms=median,
                           tokens_per_s=reference.new_tokens / (median / 1e3))
            else:
                optimizer = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=1e-3)
                forward = torch.compile(module) if compiled else module

                def on_device(arrays):
                    return [torch.from_numpy(np.asarray(a)).to(device) for a in arrays]

                def train_step():
                    *tensors, target = on_device([*reference.inputs, reference.target])
                    module.train()
                    optimizer.zero_grad()
                    loss = reference.loss(forward(*tensors), target)
                    loss.backward()
                    optimizer.step()
                    return loss.item()  # waits for the step to finish, like Keras returning the loss

                def predict_step():
                    module.eval()
                    with torch.no_grad():
                        return forward(*on_device(reference.inputs)).cpu().numpy()

                row["train_first_ms"], row["train_ms"] = time_calls(train_step, steps)
                if not compiled:  # eval mode under no_grad is a second graph: minutes more to compile on 2 cores
                    row["predict_first_ms"], row["predict_ms"] = time_calls(predict_step, short(steps))
        except Exception as err:
            row["error"] = _error(err)
        print(f"  {engine:11} {name:20} {_summary(row)}", flush=True)
        results.append(row)
    return results


def _summary(row: dict[str, Any]) -> str:
    if "error" in row:
        return f"error: {row['error']}"
    if "tokens_per_s" in row:
        return f"{row['tokens_per_s']:.0f} tokens/s (first call {row['generate_first_ms']:.0f} ms)"
    predict = f", predict {row['predict_ms']:.1f} ms" if "predict_ms" in row else ""
    return f"train {row['train_ms']:.1f} ms/step (first {row['train_first_ms']:.0f} ms){predict}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["keras", "native"], required=True)
    parser.add_argument("--compile", action="store_true", help="native: torch.compile the module")
    parser.add_argument("--jit-compile", choices=["auto", "true", "false"], default="auto",
                        help="keras: model.compile(jit_compile=...); auto is Keras' default")
    parser.add_argument("--engine-name", help="keras: the engine's name in the tables (a variant of the defaults)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", default=",".join(s.name for s in SPECS))
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    names = args.models.split(",")
    if args.engine == "keras":
        results = measure_keras(names, args.steps, args.quick, args.jit_compile, args.engine_name)
    else:
        results = measure_native(names, args.steps, args.quick, args.compile)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
