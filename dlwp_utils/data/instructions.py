"""Instruction data for fine-tuning: databricks-dolly-15k (book), or generated sums with exact answers (embedded)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from dlwp_utils.data import store
from dlwp_utils.data.download import fetch_file
from dlwp_utils.errors import DataError
from dlwp_utils.profile import Profile, use_profile

# The file the book's chapter 16 downloads, at a pinned revision of the dataset's repository (its
# `main` may change), and that file's SHA-256 (Hugging Face's LFS pointer of it; 15,011 records).
DOLLY_REVISION = "bdd27f4d94b9c1f951818a7da7fd7aeea5dbff1a"
DOLLY_FILE = "databricks-dolly-15k.jsonl"
DOLLY_URL = f"https://huggingface.co/datasets/databricks/databricks-dolly-15k/resolve/{DOLLY_REVISION}/{DOLLY_FILE}"
DOLLY_SHA256 = "2df9083338b4abd6bceb5635764dab5d833b393b55759dffb0959b6fcbf794ec"
DOLLY_BYTES = 13_000_000  # about its size (at least)
DOLLY_FIELDS = ("instruction", "context", "response", "category")

DOLLY_SHUFFLE_SEED = 0  # dolly's examples are shuffled once (as in the book), the same way every run
Example = dict[str, str]


def load_instructions(profile: Profile | str | None = None, *, train: int | None = None,
                      held_out: int = 20) -> tuple[list[Example], list[Example]]:
    """(train, held_out) lists of {"instruction", "response"} dicts, split the same way every run.

    The book profile downloads databricks-dolly-15k and keeps the examples without a context
    passage (as the book's chapter 16 does), shuffled with a fixed seed; the embedded profile
    generates questions about sums of two digits, whose answers can be checked exactly. The last
    `held_out` examples are held out, and the first `train` of the others (None: all) are for
    training, so changing `train` never changes the held-out set. One printed line says which.
    """
    if not isinstance(profile, Profile):
        profile = use_profile(profile)
    if profile.embedded:
        examples = arithmetic_instructions()
        source = (f'embedded, generated questions ("{examples[0]["instruction"]}" -> "{examples[0]["response"]}")')
        other = 'PROFILE = "book" uses databricks-dolly-15k.'
    else:
        path = fetch_file(DOLLY_FILE, DOLLY_URL, file_hash=DOLLY_SHA256, size=DOLLY_BYTES)
        examples = read_dolly(path)
        random.Random(DOLLY_SHUFFLE_SEED).shuffle(examples)
        source = f"databricks-dolly-15k, of its {len(examples):,} examples without a context passage"
        other = f"From {path}."
    train_examples, held_out_examples = split_examples(examples, held_out)
    train_examples = train_examples[:train] if train else train_examples
    print(f"Instructions: {source}, {len(train_examples):,} train / {len(held_out_examples):,} held out. {other}")
    return train_examples, held_out_examples


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
            continue  # questions about a given passage need the passage in the prompt: skipped, as in the book
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


def split_examples(examples: list[Example], held_out: int) -> tuple[list[Example], list[Example]]:
    """(train, held_out): the last `held_out` examples are held out; at least one is left on each side."""
    if not 1 <= held_out < len(examples):
        raise DataError(f"Cannot hold out {held_out} of {len(examples)} instruction examples: hold out at least 1 "
                        "and leave at least 1 to train on (change the number of held-out examples).")
    return examples[:-held_out], examples[-held_out:]
