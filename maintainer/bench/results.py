"""results.md, results.json and results.png of a `make bench` run (see maintainer.bench.tables for the figures)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from pathlib import Path
from typing import Any

from maintainer.bench.device import cpu_name
from maintainer.bench.models import BY_NAME, SPECS
from maintainer.bench.tables import (NATIVE, NO_CALL, call, compare_calls, per_round, ratio, spread, summarise,
                                     summary_json, time_key)
from maintainer.bench.variants import BY_ENGINE

# What the investigation found (in the Keras, keras_hub and torch sources named, and in the
# columns of the report itself); shown for each model whose best Keras / native median is above 1.
_CONVOLUTIONS = (
    "The step is almost all convolution. TensorFlow and torch run convolutions on a CPU through oneDNN; JAX's XLA "
    "CPU backend has no such kernels and is several times slower (its column; the issue measured 5x for plain and "
    "9x for separable convolutions); on a GPU all three call cuDNN. Keras on torch keeps Keras' channels-last layout "
    "and permutes each convolution's and pooling's input to torch's channels-first; Keras 3.14 and later then copy it "
    "into channels-first memory, and a convolution copies it back into channels-last memory "
    "(`_transpose_spatial_inputs` and `_maybe_convert_to_channels_last` in keras/src/backend/torch/nn.py), so pools "
    "run torch's channels-first kernels, whose backward pass is slow on a CPU. The torch engine, as the notebooks on a "
    "CPU, gives convolutions and pools the permuted view instead, with the same results (`dlwp_utils/torch_cpu.py`; "
    "`torch (Keras' own copies)` is without it); what remains is the kernel's layout change in each call and Keras' "
    "per-layer Python. No Keras setting removed the gap: XLA for TensorFlow (`jit_compile=True`) made the compact Xception's step 10x slower "
    "and VGG16's no faster in an exploratory round, so it is not measured for the convnets.")
_LSTMS = (
    "No Keras backend has a fused LSTM kernel on a CPU: Keras uses cuDNN's on a GPU only (`cudnn_ok` in "
    "keras/src/backend/torch/rnn.py and tensorflow/rnn.py requires CUDA), so on a CPU it steps the cell through the "
    "sequence: a Python loop of small eager ops on torch, a `while_loop` graph on TensorFlow, `lax.scan` on JAX. "
    "torch's `nn.LSTM` runs the whole sequence in one fused C++ kernel (and torch.compile leaves it alone: dynamo "
    "does not trace `nn.LSTM`). No Keras setting measured closed it in every round: neither XLA for TensorFlow "
    "(`jit_compile=True`, off by default on a CPU) nor `jit_compile=True` on torch (their ratios to the backend's "
    "defaults: the settings table below).")
WHY: dict[str, str] = {
    "mnist_dense": (
        "A step of this 400k-parameter network is a few milliseconds, so the fixed cost of each `train_on_batch` "
        "call counts (the NumPy batch converted, the loss tracker reset and updated, the logs turned into Python "
        "floats), which a hand-written loop does not pay. `steps_per_execution` would spread it over several steps, "
        "but only inside `fit()`, and Keras' torch trainer refuses values above 1."),
    "scratch_convnet": _CONVOLUTIONS,
    "vgg16_frozen": _CONVOLUTIONS + " Only the dense head trains: the frozen base runs forward only, in every engine.",
    "vgg16_frozen_32": _CONVOLUTIONS + " Only the dense head trains. At 32 x 32, VGG16's block5 convolves 2 x 2 maps "
                       "with 3 x 3 kernels: XLA swaps such a convolution's operands, and on a CPU the swapped one runs "
                       "as a plain loop, several times slower, unless the map is padded first (`dlwp_utils/xla_cpu.py`, "
                       "which the jax engine uses as the notebooks do; the engine without it is Keras' own convolution).",
    "xception_compact": _CONVOLUTIONS,
    "seq2seq_lstm": _LSTMS + " The notebook's `mask_zero=True` embeddings also make Keras carry a mask through both "
                             "LSTMs (the synthetic batch has no padding, so native torch computes the same without one).",
    "stacked_lstm": _LSTMS,
    "rnn_cells": _LSTMS + " Natively this model is a Python loop over two `nn.LSTMCell` too, which torch.compile "
                          "unrolls into one graph.",
    "gemma_tiny": (
        "Keras on torch runs the decoder eagerly, op by op, inside Keras' layer machinery (dtype policies, masks, "
        "float32 casts in each RMSNorm); JAX compiles the whole step with XLA and TensorFlow traces it into a graph."),
    "gemma_tiny_generate": (
        "keras_hub compiles generation with `jax.jit` on JAX and `tf.function` on TensorFlow (XLA only with "
        "`jit_compile=True`, which Keras leaves off on a CPU), but on torch runs the token loop eagerly under "
        "`no_grad` (`make_generate_function` in keras_hub/src/models/causal_lm.py), each token through the whole "
        "Keras model call; the native loop is eager too but calls the decoder's kernels with nothing in between. "
        "On torch that function never reads `jit_compile`, so `jit_compile=True` leaves generation eager."),
}


def versions() -> str:
    """The library versions of this environment."""
    found = []
    for package in ("keras", "jax", "tensorflow", "torch", "keras-hub"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} not installed")
    return ", ".join(found)


def memory() -> str:
    try:
        return f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        return "RAM unknown"


def _cell(s: Any, digits: int = 1) -> str:
    return "-" if s is None else s.text(digits)


def _error_cell(rows: list[dict[str, Any]], model: str, engine: str) -> bool:
    return any(r["engine"] == engine and r["model"] in (model, "*") and "error" in r for r in rows)


def _figure(rows: list[dict[str, Any]], model: str, engine: str, key: str, digits: int = 1) -> str:
    s = spread(rows, model, engine, key)
    if s is None:
        return "error" if _error_cell(rows, model, engine) else "-"
    return s.text(digits)


def problems_of(rows: list[dict[str, Any]]) -> list[str]:
    """Failed measurements, and models whose trainable parameter counts differ between engines."""
    problems = sorted({f"{r['model']} on {r['engine']} (round {r['round']}): {r['error']}" for r in rows if "error" in r})
    for spec in SPECS:
        counts = {r["engine"]: r["params"] for r in rows if r["model"] == spec.name and "params" in r}
        if len(set(counts.values())) > 1:
            problems.append(f"{spec.name}: trainable parameters differ between engines: {counts}")
    return problems


def write_results(rows: list[dict[str, Any]], meta: dict[str, Any], out: Path,
                  previous: list[dict[str, Any]] | None = None, previous_name: str = "") -> list[str]:
    """Write results.md, results.json and results.png into `out`; the problems found."""
    out.mkdir(parents=True, exist_ok=True)
    engines = meta["engines"]
    keras_engines = [e for e in engines if e not in NATIVE]
    specs = [BY_NAME[m] for m in meta["models"]]
    summaries = [summarise(rows, s.name, keras_engines) for s in specs]
    problems = problems_of(rows)
    data = dict(meta, summary=summary_json(summaries), compared_with={"name": previous_name, "summary": previous},
                rows=rows)
    (out / "results.json").write_text(json.dumps(data, indent=1) + "\n")
    lines = _header(rows, meta, engines)
    lines += _main_table(rows, specs, summaries, engines)
    lines += _ratio_table(specs, summaries, keras_engines)
    lines += _why(summaries, keras_engines, rows)
    lines += _variant_table(rows, specs, engines)
    lines += _secondary_tables(rows, specs, engines, keras_engines)
    lines += _comparison(previous, summary_json(summaries), previous_name)
    lines += ["## Sizes", "", "Each model's sizes (the builders' defaults in maintainer/bench/models.py; "
              "the native references in maintainer/bench/native.py take the same), and its trainable parameter "
              "count, checked equal on every engine:", "", "| model | sizes | trainable parameters |", "|---|---|---:|"]
    for spec in specs:
        counts = {r["params"] for r in rows if r["model"] == spec.name and "params" in r}
        sizes = ", ".join(f"{k}={v}" for k, v in spec.sizes(meta["quick"]).items())
        lines.append(f"| {spec.description} | {sizes} | {' / '.join(f'{c:,}' for c in sorted(counts)) or '-'} |")
    lines.append("")
    if problems:
        lines += ["## Problems", "", *[f"- {p}" for p in problems], ""]
    lines += ["![ms per training step](results.png)", ""]
    (out / "results.md").write_text("\n".join(lines))
    _chart(rows, specs, engines, out / "results.png")
    return problems


def _header(rows: list[dict[str, Any]], meta: dict[str, Any], engines: list[str]) -> list[str]:
    devices = {}
    for r in rows:
        if "device" in r:
            devices.setdefault(r["device"], []).append(r["engine"])
    device_lines = [f"- {device}: {', '.join(dict.fromkeys(used))}" for device, used in devices.items()]
    load = meta.get("load")
    shared = (f"The machine was shared with other jobs: its 1-minute load average was {load[0]:.1f} to {load[1]:.1f} "
              f"on {os.cpu_count()} cores while the processes started. " if load else "")
    quick = " (QUICK MODE: tiny sizes, numbers meaningless)" if meta["quick"] else ""
    return [
        "# Benchmarks: ms per training step, by Keras backend and in native PyTorch", "",
        f"Measured {meta['date']} by `make bench`{quick} in {meta['minutes']:.1f} min: {meta['rounds']} interleaved "
        f"rounds of {meta['steps']} timed steps per model and engine.", "",
        f"- Machine: {cpu_name()}, {memory()}; Python {platform.python_version()}; {versions()}",
        "- Devices used:", *[f"  {line}" for line in device_lines], "",
        f"Method: synthetic data; the same batch size for a model in every framework. In each round every engine "
        f"({', '.join(engines)}) measures every model in a fresh process, the engines taking turns in an order that "
        "rotates from round to round. In each process, per model: the first call (tracing / compilation) is timed "
        "apart, one more call is not timed, then the median of the timed calls is that round's figure. A training "
        "step is one `train_on_batch` (NumPy batch in, one Adam update, loss out); native PyTorch does the same by "
        "hand (batch to the device, forward, backward, `optimizer.step()`, `loss.item()`). Figures are the median "
        "over the rounds with (min–max). Lower is better. Every process runs with `OMP_WAIT_POLICY=passive` unless the "
        "caller sets it: on a busy machine, OpenMP threads that spin while they wait (torch's default) make torch's "
        "steps several times slower and far more variable.", "",
        f"{shared}That is why the rounds are interleaved: the ratio best Keras / native is taken within each round, "
        "and a side is called only when the whole spread of the per-round ratios is on one side of 1.0. The native "
        "reference is the faster of eager and `torch.compile` (by median). Keras runs with its defaults "
        "(`jit_compile=\"auto\"`: XLA on JAX; no XLA for TensorFlow on a CPU-only machine, XLA on a GPU; eager on "
        "torch), and on JAX with a CPU as the notebooks' setup cell leaves it: a convolution over a map smaller than "
        "its kernel padded first (`dlwp_utils/xla_cpu.py`), and on torch with a CPU as it leaves it too: channels-last "
        "maps reach convolutions and pools as views, without Keras' copies (`dlwp_utils/torch_cpu.py`); engines named "
        "with `(jit_compile=True)`, `(XLA ...)`, `(Keras' own convolution)` or `(Keras' own copies)` are the same "
        "backend with that setting (the table of settings below compares each with its backend's defaults).", ""]


def _main_table(rows, specs, summaries, engines) -> list[str]:
    lines = ["## Training step (ms; generation: ms per `generate` call)", "",
             "| model | chapter | input | " + " | ".join(engines) + " | fastest Keras (rounds fastest) "
             "| best Keras / native, per round | call |",
             "|---|---|---|" + "---:|" * len(engines) + "---|---:|---|"]
    for spec, s in zip(specs, summaries):
        shape = next((r["shape"] for r in rows if r["model"] == spec.name and "shape" in r), "")
        cells = [_figure(rows, spec.name, e, s.key) for e in engines]
        fastest = f"{s.best_keras} ({s.fastest_rounds}/{s.rounds})" if s.best_keras else "-"
        native = f" vs {s.native.replace('native torch', 'native').strip()}" if s.native else ""
        ratio = f"{_cell(s.ratio, 2)}{native}" if s.ratio else "-"
        lines.append(f"| {spec.description} | {spec.chapter} | {shape} | " + " | ".join(cells)
                     + f" | {fastest} | {ratio} | {s.verdict} |")
    return lines + [""]


def _ratio_cell(r: Any) -> str:
    """A per-round ratio with its spread, and "faster" / "slower" only when every round agrees."""
    if r is None:
        return "-"
    return r.text(2) + ("" if call(r) == NO_CALL else " faster" if r.high < 1 else " slower")


def _ratio_table(specs, summaries, keras_engines) -> list[str]:
    lines = ["## Each Keras engine / native, per round (median (min–max); a call only when every round agrees)", "",
             "| model | " + " | ".join(keras_engines) + " |", "|---|" + "---:|" * len(keras_engines)]
    for spec, s in zip(specs, summaries):
        cells = [_ratio_cell(s.backend_ratios.get(e)) for e in keras_engines]
        lines.append(f"| {spec.description} | " + " | ".join(cells) + " |")
    return lines + [""]


def variant_ratios(rows: list[dict[str, Any]], models: list[str], engines: list[str]) -> dict[tuple[str, str], Any]:
    """{(variant engine, model): its per-round ratio to its backend's defaults} for the variants measured."""
    out = {}
    for engine in engines:
        variant = BY_ENGINE.get(engine)
        for model in models if variant and variant.backend in engines else ():
            r = ratio(rows, model, engine, variant.backend, time_key(rows, model))
            if r is not None:
                out[(engine, model)] = r
    return out


def _variant_table(rows, specs, engines) -> list[str]:
    ratios = variant_ratios(rows, [s.name for s in specs], engines)
    variants = [e for e in engines if any(k[0] == e for k in ratios)]
    if not variants:
        return []
    lines = ["## Each setting / its backend's defaults, per round (median (min–max); a call only when every round "
             "agrees)", "", "Below 1: the setting is faster. " + "; ".join(
                 f"`{e}`: " + (f"`{' '.join(f'{k}={v}' for k, v in BY_ENGINE[e].env)}`" if BY_ENGINE[e].env
                               else f"`model.compile(jit_compile={BY_ENGINE[e].jit_compile.capitalize()})`")
                 for e in variants) + ".", "",
             "| model | " + " | ".join(variants) + " |", "|---|" + "---:|" * len(variants)]
    for spec in specs:
        cells = [_ratio_cell(ratios.get((e, spec.name))) for e in variants]
        if any(c != "-" for c in cells):
            lines.append(f"| {spec.description} | " + " | ".join(cells) + " |")
    return lines + [""]


TORCH_GAP = 1.5  # Keras on torch / native above this: the results name the cause


def _why(summaries, keras_engines, rows=None) -> list[str]:
    """Each model where the best Keras engine is slower than native PyTorch, or Keras on torch is TORCH_GAP times
    slower: the ratios, what `torch (jit_compile=True)` changed, and the cause found in the sources (WHY)."""
    torch_of = {s.model: s.backend_ratios.get("torch") for s in summaries}
    listed = [s for s in summaries if (s.ratio and s.ratio.median > 1.0)
              or (torch_of[s.model] and torch_of[s.model].median > TORCH_GAP)]
    if not listed:
        return []
    compiled = variant_ratios(rows or [], [s.model for s in listed], keras_engines) if rows else {}
    lines = ["## Where Keras is slower than native PyTorch, and why", "",
             f"Each model where the fastest Keras backend is slower than native PyTorch, or Keras on torch is more than "
             f"{TORCH_GAP}x native, with the cause found in the Keras, keras_hub and torch sources. "
             "`jit_compile=True` on torch wraps the whole train step in `torch.compile` (inductor; `make_train_function` "
             "in keras/src/backend/torch/trainer.py); its ratio to torch's defaults is given where it was measured.", ""]
    for s in listed:
        parts = [f"best Keras ({s.best_keras}) / native = {s.ratio.text(2)} ({s.verdict})"]
        if torch_of[s.model] is not None:
            parts.append(f"Keras on torch / native = {torch_of[s.model].text(2)}")
        jit = compiled.get(("torch (jit_compile=True)", s.model))
        if jit is not None:
            parts.append(f"`jit_compile=True` on torch / torch's defaults = {_ratio_cell(jit)}")
        lines.append(f"- **{BY_NAME[s.model].description}**: " + "; ".join(parts) + ". "
                     + WHY.get(s.model, "No cause found yet."))
    return lines + [""]


def _secondary_tables(rows, specs, engines, keras_engines) -> list[str]:
    trained = [s for s in specs if not s.generation]
    lines = ["## Predict step (ms)", "", "| model | " + " | ".join(engines) + " |", "|---|" + "---:|" * len(engines)]
    lines += [f"| {s.description} | " + " | ".join(_figure(rows, s.name, e, "predict_ms") for e in engines) + " |"
              for s in trained]
    lines += ["", "## First call, tracing and compilation included (ms; round 1)", "",
              "JAX's and torch.compile's compilation caches (build/compile-cache) are kept from one run to the next, "
              "so after the first run these are mostly warm-cache figures; TensorFlow keeps none.", "",
              "| model | " + " | ".join(engines) + " |", "|---|" + "---:|" * len(engines)]
    for s in specs:
        key = "generate_first_ms" if s.generation else "train_first_ms"
        cells = []
        for e in engines:
            first = per_round(rows, s.name, e, key).get(1)
            cells.append("-" if first is None else f"{first:.0f}")
        lines.append(f"| {s.description} | " + " | ".join(cells) + " |")
    generated = [s for s in specs if s.generation]
    if generated:
        lines += ["", "## Text generation (new tokens per second)", "",
                  "| model | input | " + " | ".join(engines) + " |", "|---|---|" + "---:|" * len(engines)]
        for s in generated:
            shape = next((r["shape"] for r in rows if r["model"] == s.name and "shape" in r), "")
            lines.append(f"| {s.description} | {shape} | "
                         + " | ".join(_figure(rows, s.name, e, "tokens_per_s", 0) for e in engines) + " |")
    return lines + [""]


def _comparison(previous, current, previous_name) -> list[str]:
    if not previous:
        return ["## Calls compared with the previous run", "",
                f"No earlier run to compare with ({previous_name or 'none given'} has no summary).", ""]
    lines = ["## Calls compared with the previous run", "",
             f"The calls of {previous_name} (before this run) and of this run. \"held\": the same side of 1.0; "
             "\"-\": no call in one of them (its spread straddles 1.0).", "",
             "| model | before | now | |", "|---|---|---|---|"]
    lines += [f"| {BY_NAME[m].description} | {a} | {b} | {status} |" for m, a, b, status in compare_calls(previous, current)]
    return lines + [""]


def _chart(rows, specs, engines, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    trained = [s for s in specs if not s.generation]
    figure, axis = plt.subplots(figsize=(max(8, 1.5 * len(trained)), 4.8))
    width = 0.8 / max(1, len(engines))
    for i, engine in enumerate(engines):
        spreads = [spread(rows, s.name, engine, "train_ms") for s in trained]
        medians = np.array([sp.median if sp else np.nan for sp in spreads])
        low = np.array([sp.median - sp.low if sp else 0 for sp in spreads])
        high = np.array([sp.high - sp.median if sp else 0 for sp in spreads])
        axis.bar(np.arange(len(trained)) + i * width, medians, width, yerr=[low, high], capsize=2, label=engine)
    axis.set_xticks(np.arange(len(trained)) + width * (len(engines) - 1) / 2)
    axis.set_xticklabels([s.name for s in trained], rotation=30, ha="right")
    axis.set_yscale("log")
    axis.set_ylabel("ms per training step (log; bars: min-max over rounds)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


_BACKEND_NAMES = {"jax": "JAX", "tensorflow": "TensorFlow", "torch": "PyTorch"}


def fastest_line(results: dict[str, Any], chapter: str) -> str | None:
    """The chapter README's line on the fastest Keras backend for its models, from a committed results.json
    (`chapter`: "ch08"); None when the bench has no model of that chapter."""
    found = [s for s in results["summary"] if s["model"] in BY_NAME and BY_NAME[s["model"]].chapter == chapter]
    if not found:
        return None
    by_backend: dict[str, list[str]] = {}
    for s in found:
        by_backend.setdefault(s["best_keras"], []).append(
            f"{BY_NAME[s['model']].description} ({s['fastest_rounds']} of {s['rounds']} rounds)")
    parts = [f"{_BACKEND_NAMES.get(b, b)} for the {', the '.join(models)}" for b, models in by_backend.items()]
    return (f"**Fastest backend on a CPU** (`make bench` of {results['date']}, 2 cores, "
            f"[../benchmarks/results.md](../benchmarks/results.md)): {'; '.join(parts)}. On a GPU: not measured yet.")
