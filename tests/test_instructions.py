"""dlwp_utils.data.instructions: the generated sums (embedded) and databricks-dolly-15k (book, on a local server)."""

from __future__ import annotations

import json

import pytest

from dlwp_utils.data import instructions
from dlwp_utils.data.instructions import (
    arithmetic_facts,
    arithmetic_instructions,
    load_instructions,
    read_dolly,
    split_examples,
)
from dlwp_utils.data.store import sha256_of
from dlwp_utils.errors import DataError


def dolly_record(i: int, context: str = "") -> dict:
    return {"instruction": f" Question {i}? ", "context": context, "response": f"Answer {i}.\n", "category": "open_qa"}


def write_jsonl(path, records) -> None:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")


@pytest.fixture
def dolly_server(http_server, monkeypatch, cache):
    """The real dolly code path, pointed at a small file laid out like the real one."""
    base, root = http_server
    records = [dolly_record(i, context="a passage" if i % 3 == 0 else "") for i in range(30)]
    write_jsonl(root / instructions.DOLLY_FILE, records)
    monkeypatch.setattr(instructions, "DOLLY_URL", f"{base}/{instructions.DOLLY_FILE}")
    monkeypatch.setattr(instructions, "DOLLY_SHA256", sha256_of(root / instructions.DOLLY_FILE))
    return root / instructions.DOLLY_FILE


# --- embedded --------------------------------------------------------------------------------


def test_every_sum_of_two_digits_once():
    facts = arithmetic_facts()
    assert len(facts) == len(set(facts)) == 100


def test_generated_instructions_have_exact_answers_in_a_fixed_order():
    examples = arithmetic_instructions()
    assert examples == arithmetic_instructions()
    for example in examples:
        a, b = (int(word) for word in example["instruction"].removesuffix("?").split() if word.isdigit())
        assert example["instruction"] == f"What is {a} plus {b}?" and example["response"] == str(a + b)


def test_embedded_profile_splits_80_20_and_says_so(capsys):
    train, held_out = load_instructions("embedded", held_out=20)
    assert (len(train), len(held_out)) == (80, 20)
    assert not {e["instruction"] for e in train} & {e["instruction"] for e in held_out}
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Instructions:")]
    assert len(lines) == 1 and "embedded" in lines[0] and "databricks-dolly-15k" in lines[0]


def test_split_holds_out_the_last_examples_and_leaves_some_on_each_side():
    examples = [{"instruction": str(i), "response": str(i)} for i in range(3)]
    train, held_out = split_examples(examples, 1)
    assert held_out == examples[2:] and train + held_out == examples
    for impossible in (0, 3):
        with pytest.raises(DataError, match=f"Cannot hold out {impossible} of 3 .* at least 1 to train on"):
            split_examples(examples, impossible)


def test_a_smaller_training_set_keeps_the_same_held_out_set():
    train, held_out = load_instructions("embedded", train=10, held_out=20)
    all_train, same_held_out = load_instructions("embedded", held_out=20)
    assert len(train) == 10 and train == all_train[:10] and held_out == same_held_out


# --- databricks-dolly-15k ----------------------------------------------------------------------


def test_book_profile_downloads_dolly_and_keeps_examples_without_context(dolly_server, capsys):
    train, held_out = load_instructions("book", held_out=4)
    examples = train + held_out
    assert len(examples) == 20  # 30 records, a third of them with a context passage
    assert {"instruction": "Question 1?", "response": "Answer 1."} in examples  # stripped
    assert all(int(e["instruction"].split()[1].rstrip("?")) % 3 for e in examples)
    assert (len(train), len(held_out)) == (16, 4)
    assert "databricks-dolly-15k, of its 20 examples without a context passage, 16 train / 4 held out" in (
        capsys.readouterr().out)


def test_dolly_is_shuffled_once_the_same_way_every_run(dolly_server):
    train, held_out = load_instructions("book", held_out=4)
    numbers = [int(e["instruction"].split()[1].rstrip("?")) for e in train + held_out]
    assert numbers != sorted(numbers) and sorted(numbers) == [i for i in range(30) if i % 3]
    assert load_instructions("book", held_out=4) == (train, held_out)


def test_train_takes_the_first_training_examples_and_keeps_the_held_out_set(dolly_server):
    all_train, held_out = load_instructions("book", held_out=4)
    train, same_held_out = load_instructions("book", train=10, held_out=4)
    assert train == all_train[:10] and same_held_out == held_out


def test_the_download_is_cached(dolly_server):
    load_instructions("book", held_out=4)
    dolly_server.unlink()  # the server no longer has it: the cached copy is used
    train, _ = load_instructions("book", held_out=4)
    assert train


def test_offline_is_one_clear_error(closed_port_url, monkeypatch, cache):
    monkeypatch.setattr(instructions, "DOLLY_URL", f"{closed_port_url}/{instructions.DOLLY_FILE}")
    with pytest.raises(DataError, match='PROFILE = "embedded"'):
        load_instructions("book")
    assert not list(cache.rglob(instructions.DOLLY_FILE))


@pytest.mark.parametrize(("content", "expected"), [
    ('{"instruction": "a", "context": "", "response": "b", "category": "x"}\n{"instruction": "c", "con', "line 2 is not JSON"),
    ('{"instruction": "a", "context": "", "category": "x"}\n', "line 1 lacks one of the text fields"),
    ('["not", "a", "record"]\n', "line 1 lacks"),
    (json.dumps(dolly_record(0, context="all have one")) + "\n", "no example without a context"),
    ("", "no example without a context"),
])
def test_a_malformed_file_is_deleted_with_a_clear_error(tmp_path, content, expected):
    path = tmp_path / instructions.DOLLY_FILE
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=expected) as err:
        read_dolly(path)
    assert "run this cell again" in str(err.value)
    assert not path.exists()


def test_a_file_that_is_not_text_is_deleted(tmp_path):
    path = tmp_path / instructions.DOLLY_FILE
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match="UTF-8"):
        read_dolly(path)
    assert not path.exists()


def test_a_truncated_cached_download_is_caught_and_replaced(dolly_server, cache, capsys):
    load_instructions("book", held_out=4)
    cached = next(cache.rglob(instructions.DOLLY_FILE))
    cached.write_text(cached.read_text()[:50])  # damaged after its download
    train, _ = load_instructions("book", held_out=4)  # downloaded afresh
    assert len(train) == 16
    assert f"{cached} is damaged ({cached.name} is 50 bytes; its manifest says" in capsys.readouterr().out


def test_dolly_is_pinned_to_a_revision_and_checked_against_its_checksum(dolly_server, monkeypatch):
    monkeypatch.setattr(instructions, "DOLLY_SHA256", "0" * 64)  # the server's file is not the pinned one
    with pytest.raises(DataError, match="checksum does not match the published"):
        load_instructions("book", held_out=5)


def test_the_real_url_names_the_pinned_revision_not_main():
    assert f"/resolve/{instructions.DOLLY_REVISION}/" in instructions.DOLLY_URL and len(instructions.DOLLY_REVISION) == 40
    assert "/resolve/main/" not in instructions.DOLLY_URL and len(instructions.DOLLY_SHA256) == 64
