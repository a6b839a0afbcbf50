"""GPU memory of chapter15's book profile, estimated from a published config and the parameters cell (issue 23).

    python -m maintainer.memory [CONFIG] [NOTEBOOK]   # each call's largest tensor and peak, per backend

The estimate counts what decides whether a call fits: the weights (every model in memory at the
time), and the tensors a call holds at its peak: the logits and their gradients, the key/value
cache, what the backward pass keeps. It leaves out what is small beside them (one decoder block's
transient tensors, cuBLAS's workspace, the allocator's rounding, the LoRA matrices): the caller adds
a margin for those (tests/test_book_memory.py).

KerasHub's generate() on torch runs eagerly, and its first pass (which fills the cache) computes
the logits of every position, batch x max_length x vocabulary values, and drops them unused. JAX
and TensorFlow compile generate() with XLA, which never computes them; what remains is the cache
and the logits of one step. fit() holds four tensors of the logits' size at once: the logits,
their log-softmax, and in the backward pass the gradients to both.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from maintainer import hygiene

ROOT = Path(__file__).resolve().parent.parent
BOOK_CONFIG = Path(__file__).resolve().parent / "book_configs" / "gemma3_1b.json"
NOTEBOOK = ROOT / "chapter15" / "chapter15_language_models_gemma.ipynb"
FLOAT32 = 4  # bytes a value: dlwp.preferred_dtype() keeps float32 on a T4
EAGER = ("torch",)
COMPILED = ("jax", "tensorflow")
NEEDED = ("QUESTIONS", "EVAL_EXAMPLES", "HELD_OUT_EXAMPLES", "MAX_LENGTH", "BATCH_SIZE", "SEQUENCE_LENGTH")


@dataclass(frozen=True)
class Gemma3Sizes:
    """The sizes of a text-only Gemma 3 backbone that decide its memory."""

    vocabulary_size: int
    num_layers: int
    num_query_heads: int
    num_key_value_heads: int
    hidden_dim: int
    intermediate_dim: int
    head_dim: int
    use_query_key_norm: bool
    use_post_attention_norm: bool
    use_post_ffw_norm: bool

    @classmethod
    def read(cls, path: Path) -> Gemma3Sizes:
        """The sizes in a Keras-serialized Gemma3Backbone config (a preset's config.json)."""
        try:
            serialized = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"{path}: not a readable config ({err}). Give a preset's config.json, "
                             "as in maintainer/book_configs/.") from None
        if serialized.get("class_name") != "Gemma3Backbone":
            raise ValueError(f"{path} serializes a {serialized.get('class_name')!r}, not a Gemma3Backbone: the "
                             "estimate knows Gemma 3's layers only. Give a Gemma 3 preset's config.json.")
        config = serialized.get("config", {})
        missing = [field.name for field in fields(cls) if field.name not in config]
        if missing or config.get("vision_encoder"):
            raise ValueError(f"{path}: {'no ' + ', '.join(missing) if missing else 'a vision encoder'} in its "
                             "config; the estimate needs a text-only Gemma3Backbone's full config.")
        return cls(**{field.name: config[field.name] for field in fields(cls)})

    def parameters(self) -> int:
        """The backbone's weights: the token embedding (also the output layer), the decoder blocks, the last norm."""
        hidden, head = self.hidden_dim, self.head_dim
        attention = 2 * hidden * head * (self.num_query_heads + self.num_key_value_heads)  # query, output; key, value
        attention += 2 * head if self.use_query_key_norm else 0
        feed_forward = 3 * hidden * self.intermediate_dim  # two gates and the projection back
        norms = hidden * (2 + self.use_post_attention_norm + self.use_post_ffw_norm)
        return self.vocabulary_size * hidden + self.num_layers * (attention + feed_forward + norms) + hidden

    def cache_values(self, batch: int, length: int) -> int:
        """The key/value cache of generate(): a key and a value tensor per decoder block."""
        return self.num_layers * 2 * batch * length * self.num_key_value_heads * self.head_dim

    def kept_for_backward(self, batch: int, length: int, value_bytes: int) -> dict[str, tuple[int, int]]:
        """What the decoder blocks keep for the backward pass, about (the frozen kernels' inputs are not kept).

        Each block: its feed-forward's three batch x length x intermediate tensors (both gates and the
        GELU), a dozen of hidden size (the norms' inputs, queries, keys, values), two of attention weights.
        """
        blocks = self.num_layers
        return {
            f"feed-forward kept for the backward pass ({batch} x {length} x {self.intermediate_dim})":
                (3 * blocks, batch * length * self.intermediate_dim * value_bytes),
            f"hidden states kept for the backward pass ({batch} x {length} x {self.hidden_dim})":
                (12 * blocks, batch * length * self.hidden_dim * value_bytes),
            f"attention weights kept for the backward pass ({batch} x {self.num_query_heads} x {length} x {length})":
                (2 * blocks, batch * self.num_query_heads * length * length * value_bytes),
        }


Tensors = dict[str, tuple[int, int]]  # what they are (with their shape) -> (how many, bytes of each)


@dataclass(frozen=True)
class Use:
    """One call of the notebook at book sizes, on some backends: the models in memory, the tensors at its peak."""

    call: str
    backends: tuple[str, ...]
    models: int
    tensors: Tensors  # held at the peak, besides the weights

    def largest(self) -> tuple[str, int]:
        """The largest single tensor held at the peak: (what it is, bytes)."""
        what, (_, size) = max(self.tensors.items(), key=lambda item: item[1][1])
        return what, size

    def peak(self, weights: int) -> int:
        """Bytes at the peak: every model's weights and the tensors held."""
        return self.models * weights + sum(count * size for count, size in self.tensors.values())


def ask_prompts(settings: dict[str, Any]) -> int:
    """The prompts ask() answers: the questions and the scored held-out instructions."""
    return len(settings["QUESTIONS"]) + min(settings["EVAL_EXAMPLES"], settings["HELD_OUT_EXAMPLES"])


def generate_batch(settings: dict[str, Any]) -> int:
    """The prompts of one generate() call in ask(): GENERATE_BATCH_SIZE at most, or all of them (one call)."""
    prompts = ask_prompts(settings)
    return min(settings.get("GENERATE_BATCH_SIZE", prompts), prompts)


def generate_tensors(model: Gemma3Sizes, batch: int, length: int, backends: tuple[str, ...],
                     value_bytes: int) -> Tensors:
    """What generate() holds at its peak for `batch` prompts padded to `length` tokens, eager or compiled."""
    vocabulary, values = model.vocabulary_size, model.num_key_value_heads * model.head_dim
    tensors = {
        f"key/value cache ({batch} x {length} x {values})":
            (2 * model.num_layers, batch * length * values * value_bytes),
        f"feed-forward of the first pass ({batch} x {length} x {model.intermediate_dim})":
            (3, batch * length * model.intermediate_dim * value_bytes),
        f"logits of one step ({batch} x {vocabulary:,})": (1, batch * vocabulary * value_bytes),
    }
    if backends == EAGER:
        tensors[f"logits of the first pass ({batch} x {length} x {vocabulary:,})"] = (
            1, batch * length * vocabulary * value_bytes)
    return tensors


def uses(model: Gemma3Sizes, settings: dict[str, Any], value_bytes: int = FLOAT32) -> list[Use]:
    """Every call of chapter15 that holds the model's logits or cache, at the sizes `settings` give."""
    missing = [name for name in NEEDED if name not in settings]
    if missing:
        raise ValueError(f"No value for {', '.join(missing)} in the settings: the estimate follows chapter15's "
                         "parameters cell; give its book values (book_settings).")
    max_length, length, batch = settings["MAX_LENGTH"], settings["SEQUENCE_LENGTH"], settings["BATCH_SIZE"]
    vocabulary = model.vocabulary_size
    logits = batch * length * vocabulary * value_bytes
    found = [Use("15.2 decoding by hand: the model on 1 x MAX_LENGTH tokens", EAGER + COMPILED, 1, {
        f"logits (1 x {max_length} x {vocabulary:,})": (1, max_length * vocabulary * value_bytes),
        f"feed-forward (1 x {max_length} x {model.intermediate_dim})":
            (3, max_length * model.intermediate_dim * value_bytes),
    })]
    for backends in (EAGER, COMPILED):
        found.append(Use("15.2 generate(PROMPT)", backends, 1,
                         generate_tensors(model, 1, max_length, backends, value_bytes)))
        ask = generate_tensors(model, generate_batch(settings), length, backends, value_bytes)
        found.append(Use("15.3 ask(): generate() of GENERATE_BATCH_SIZE prompts", backends, 1, ask))
        found.append(Use("15.3 ask() of the reloaded model, beside the fine-tuned one", backends, 2, ask))
    shape = f"{batch} x {length} x {vocabulary:,}"
    found.append(Use("15.3 fit(): BATCH_SIZE x SEQUENCE_LENGTH", EAGER + COMPILED, 1, {
        f"logits ({shape})": (1, logits),
        f"their log-softmax, kept for the backward pass ({shape})": (1, logits),
        f"the loss's gradient to the log-softmax ({shape})": (1, logits),
        f"the logits' gradient ({shape})": (1, logits),
        **model.kept_for_backward(batch, length, value_bytes),
    }))
    found.append(Use("15.3 evaluate(): BATCH_SIZE x SEQUENCE_LENGTH", EAGER + COMPILED, 1, {
        f"logits ({shape})": (1, logits),
        f"their log-softmax, for the loss then the token_loss metric ({shape})": (1, logits),
    }))
    return found


def too_big(found: list[Use], weights: int, usable: int, margin: int) -> list[str]:
    """One line for each use whose peak and margin exceed `usable` bytes (empty: every one fits)."""
    lines = []
    for use in found:
        need = use.peak(weights) + margin
        if need > usable:
            what, size = use.largest()
            lines.append(f"{use.call} ({'/'.join(use.backends)}): {need:,} bytes needed ({use.models} x {weights:,} "
                         f"of weights, {what}: {size:,}, margin {margin:,}) > {usable:,} usable; lower "
                         "GENERATE_BATCH_SIZE (generate) or BATCH_SIZE / SEQUENCE_LENGTH (fit) in the parameters cell.")
    return lines


def book_settings(notebook: Path = NOTEBOOK) -> dict[str, Any]:
    """The book value of each setting of the notebook's parameters cell that is a Python literal."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cell = hygiene.parameters_cell(nb)
    if cell is None:
        raise ValueError(f"{notebook} has no single cell tagged 'parameters': `python -m maintainer.hygiene "
                         "check` says what is wrong with it.")
    found = {}
    for name, _, book, _ in hygiene.settings(hygiene.source(cell)):
        try:
            found[name] = ast.literal_eval(book)
        except (ValueError, SyntaxError):
            continue  # a computed value: not a size
    return found


def table(model: Gemma3Sizes, settings: dict[str, Any]) -> str:
    """Markdown: each use's largest tensor and peak in GB (10^9 bytes), the weights included."""
    weights = model.parameters() * FLOAT32
    lines = [f"{model.parameters():,} parameters: {weights / 1e9:.2f} GB of float32 weights; "
             f"ask() generates {generate_batch(settings)} of its {ask_prompts(settings)} prompts at a time", "",
             "| call | backends | models | largest tensor | GB | peak GB |", "|---|---|---|---|---|---|"]
    for use in uses(model, settings):
        what, size = use.largest()
        lines.append(f"| {use.call} | {'/'.join(use.backends)} | {use.models} | {what} | {size / 1e9:.2f} | "
                     f"{use.peak(weights) / 1e9:.2f} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Print the table for CONFIG (default: the book preset's) and NOTEBOOK's book values (default: chapter15)."""
    config = Path(argv[0]) if argv else BOOK_CONFIG
    notebook = Path(argv[1]) if len(argv) > 1 else NOTEBOOK
    try:
        print(table(Gemma3Sizes.read(config), book_settings(notebook)))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
