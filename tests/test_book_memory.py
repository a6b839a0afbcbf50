"""chapter15's book profile fits a free Colab T4 on every backend, by the published config of gemma3_1b (issue 23).

The sizes are the book values of the notebook's parameters cell; the model's, those of the committed
config (maintainer/book_configs/gemma3_1b.json); the estimate, maintainer.memory's. No weights, no GPU.
"""

from __future__ import annotations

import ast
import json
import pytest

from maintainer import hygiene, memory

# The memory a free Colab T4 leaves for tensors, assumed: 15,095,400,448 bytes (14.06 GiB), the figure
# issue 23 works with for torch on a T4 (not measured here). The card has 15,360 MiB; ECC and the CUDA
# contexts (torch's, and TensorFlow's, which every backend imports for tf.data) take some of it.
T4_USABLE = 15_095_400_448
# What maintainer.memory leaves out: one decoder block's transient tensors (generate's first pass on
# torch, 8 prompts: a few of 8 x 512 x 1,152 floats beside the feed-forward it counts), cuBLAS's
# workspace, the caching allocator's rounding and fragmentation, the LoRA matrices with their
# gradients and Adam moments (1.3 million parameters: 21 MB).
MARGIN = 3 * 2**29  # 1.5 GiB
ISSUE_LOGITS = 23 * 512 * 262_144 * 4  # the issue's figure: one generate() of all 23 prompts on torch


@pytest.fixture(scope="module")
def model() -> memory.Gemma3Sizes:
    return memory.Gemma3Sizes.read(memory.BOOK_CONFIG)


@pytest.fixture(scope="module")
def book() -> dict:
    return memory.book_settings(memory.NOTEBOOK)


def _ask(found: list[memory.Use], backends: tuple[str, ...], models: int) -> memory.Use:
    return next(use for use in found if use.call.startswith("15.3 ask(") and use.backends == backends
                and use.models == models)


def test_the_config_gives_the_published_parameter_count(model):
    assert model.parameters() == 999_885_952  # KerasHub's preset metadata for gemma3_1b


def test_the_estimate_reproduces_the_issue_figure(model, book):
    """ask() before issue 23: one generate() of the 3 questions and 20 held-out instructions, 512 tokens, on torch."""
    old = {name: value for name, value in book.items() if name != "GENERATE_BATCH_SIZE"}
    assert memory.generate_batch(old) == 23
    what, size = _ask(memory.uses(model, old), memory.EAGER, 1).largest()
    assert "first pass" in what and size == ISSUE_LOGITS
    assert round(size / 1e9, 1) == 12.3
    compiled = _ask(memory.uses(model, old), memory.COMPILED, 1)
    assert all("first pass (23 x 512 x 262,144)" not in name for name in compiled.tensors)  # XLA drops them


def test_the_estimate_reads_the_vocabulary_and_layers_from_the_config(tmp_path, book):
    serialized = json.loads(memory.BOOK_CONFIG.read_text(encoding="utf-8"))
    serialized["config"].update(vocabulary_size=1000, num_layers=2)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(serialized), encoding="utf-8")
    small = memory.Gemma3Sizes.read(path)
    assert small.vocabulary_size == 1000 and small.num_layers == 2
    batch, length = memory.generate_batch(book), book["SEQUENCE_LENGTH"]
    ask = _ask(memory.uses(small, book), memory.EAGER, 1)
    assert ask.tensors[f"logits of the first pass ({batch} x {length} x 1,000)"] == (1, batch * length * 1000 * 4)
    assert ask.tensors[f"key/value cache ({batch} x {length} x 256)"][0] == 2 * 2  # a key and a value per block


def test_a_config_of_another_model_is_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"class_name": "LlamaBackbone", "config": {}}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a Gemma3Backbone"):
        memory.Gemma3Sizes.read(path)


def test_every_generate_and_fit_of_the_book_profile_fits_a_t4(model, book):
    """Every call that holds the logits or the cache, on every backend, beside the float32 weights."""
    found = memory.uses(model, book)
    assert {use.call for use in found} >= {"15.3 fit(): BATCH_SIZE x SEQUENCE_LENGTH",
                                           "15.3 ask() of the reloaded model, beside the fine-tuned one"}
    problems = memory.too_big(found, model.parameters() * memory.FLOAT32, T4_USABLE, MARGIN)
    assert not problems, (f"{memory.NOTEBOOK.relative_to(memory.ROOT)} does not fit a T4 in the book profile "
                          "(`python -m maintainer.memory` shows every call):\n" + "\n".join(problems))


def test_one_generate_of_every_prompt_would_not_fit(model, book):
    """The check sees the issue: without GENERATE_BATCH_SIZE, ask()'s one generate() runs out of a T4 on torch."""
    old = {name: value for name, value in book.items() if name != "GENERATE_BATCH_SIZE"}
    problems = memory.too_big(memory.uses(model, old), model.parameters() * memory.FLOAT32, T4_USABLE, MARGIN)
    assert problems and all(problem.startswith("15.3 ask(") and " (torch): " in problem for problem in problems)


def test_ask_generates_generate_batch_size_prompts_at_a_time():
    """The estimate takes ask() at its word: generate() is called in a loop, on slices of GENERATE_BATCH_SIZE."""
    nb = json.loads(memory.NOTEBOOK.read_text(encoding="utf-8"))
    cell = next(cell for cell in nb["cells"] if "def ask(" in hygiene.source(cell))
    ask = next(node for node in ast.walk(ast.parse(hygiene.source(cell)))
               if isinstance(node, ast.FunctionDef) and node.name == "ask")
    calls = [call for loop in ast.walk(ask) if isinstance(loop, ast.For) for call in ast.walk(loop)
             if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "generate"]
    assert calls, "ask() calls generate() outside a loop: all its prompts at once (issue 23)"
    first = calls[0].args[0]
    assert isinstance(first, ast.Subscript) and "GENERATE_BATCH_SIZE" in ast.unparse(first), ast.unparse(first)
