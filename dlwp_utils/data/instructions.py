"""Instruction data for fine-tuning: databricks-dolly-15k (book), or generated sums with exact answers (embedded)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from dlwp_utils.data import store
from dlwp_utils.data.download import fetch_file
from dlwp_utils.errors import DataError
from dlwp_utils.profile import Profile, use_profile

# The file the keras-io Gemma LoRA example downloads (Hugging Face publishes no stable checksum).
DOLLY_URL = "https://huggingface.co/datasets/databricks/databricks-dolly-15k/resolve/main/databricks-dolly-15k.jsonl"
DOLLY_FILE = "databricks-dolly-15k.jsonl"
DOLLY_BYTES = 13_000_000  # about its size (at least)
DOLLY_FIELDS = ("instruction", "context", "response", "category")

HELD_OUT_FRACTION = 0.2
Example = dict[str, str]


def load_instructions(profile: Profile | str | None = None, *, limit: int | None = None) -> tuple[list[Example], list[Example]]:
    """(train, held_out) lists of {"instruction", "response"} dicts, split the same way every run.

    The book profile downloads databricks-dolly-15k and keeps the examples without a context
    passage (like the keras-io Gemma LoRA example), the first `limit` of them; the embedded profile
    generates questions about sums of two digits, whose answers can be checked exactly. One
    printed line says which.
    """
    if not isinstance(profile, Profile):
        profile = use_profile(profile)
    if profile.embedded:
        examples = arithmetic_instructions()
        train, held_out = split_examples(examples)
        print(f"Instructions: embedded, {len(train)} train / {len(held_out)} held-out generated questions "
              f'("{examples[0]["instruction"]}" -> "{examples[0]["response"]}"). PROFILE = "book" uses databricks-dolly-15k.')
        return train, held_out
    path = fetch_file(DOLLY_FILE, DOLLY_URL, size=DOLLY_BYTES)
    examples = read_dolly(path)[:limit] if limit else read_dolly(path)
    train, held_out = split_examples(examples)
    print(f"Instructions: databricks-dolly-15k, {len(train):,} train / {len(held_out):,} held-out examples "
          f"without a context passage, from {path}.")
    return train, held_out


def read_dolly(path: Path) -> list[Example]:
    """The examples of a dolly JSONL file that need no context passage; a malformed file is deleted with a clear error."""
    examples: list[Example] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise _invalid(path, f"it cannot be read as UTF-8 text ({type(err).__name__})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise _invalid(path, f"line {number} is not JSON ({err.msg}); the download was probably cut short") from None
        if not isinstance(record, dict) or any(not isinstance(record.get(key), str) for key in DOLLY_FIELDS):
            raise _invalid(path, f"line {number} lacks one of the text fields {', '.join(DOLLY_FIELDS)}")
        if record["context"].strip():
            continue  # questions about a given passage need the passage in the prompt: skipped, as in keras-io
        examples.append({"instruction": record["instruction"].strip(), "response": record["response"].strip()})
    if not examples:
        raise _invalid(path, "it holds no example without a context passage")
    return examples


def _invalid(path: Path, why: str) -> DataError:
    """Delete a bad download and return the error that says so."""
    store.discard(path)
    return DataError(f"{path} is not a valid databricks-dolly-15k file: {why}. It was deleted; run this cell "
                    "again to download it afresh.")


def arithmetic_facts() -> list[tuple[int, int]]:
    """Every pair (a, b) of digits: the facts the embedded model learns and is asked about."""
    return [(a, b) for a in range(10) for b in range(10)]


def arithmetic_instructions() -> list[Example]:
    """One instruction per sum of two digits, with its exact answer, in a fixed shuffled order."""
    examples = [{"instruction": f"What is {a} plus {b}?", "response": str(a + b)} for a, b in arithmetic_facts()]
    random.Random(0).shuffle(examples)
    return examples


def split_examples(examples: list[Example], held_out_fraction: float = HELD_OUT_FRACTION) -> tuple[list[Example], list[Example]]:
    """(train, held_out): the last `held_out_fraction` of the examples are held out (at least one)."""
    if len(examples) < 2:
        raise DataError(f"Need at least 2 instruction examples to hold some out, got {len(examples)}.")
    n_held = max(1, round(len(examples) * held_out_fraction))
    return examples[:-n_held], examples[-n_held:]
