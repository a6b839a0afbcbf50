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
    train, held_out = load_instructions("embedded")
    assert (len(train), len(held_out)) == (80, 20)
    assert not {e["instruction"] for e in train} & {e["instruction"] for e in held_out}
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Instructions:")]
    assert len(lines) == 1 and "embedded" in lines[0] and "databricks-dolly-15k" in lines[0]


def test_split_keeps_at_least_one_and_rejects_too_few():
    examples = [{"instruction": str(i), "response": str(i)} for i in range(3)]
    train, held_out = split_examples(examples, 0.1)
    assert len(held_out) == 1 and train + held_out == examples
    with pytest.raises(DataError, match="at least 2"):
        split_examples(examples[:1])


# --- databricks-dolly-15k ----------------------------------------------------------------------


def test_book_profile_downloads_dolly_and_keeps_examples_without_context(dolly_server, capsys):
    train, held_out = load_instructions("book")
    examples = train + held_out
    assert len(examples) == 20  # 30 records, a third of them with a context passage
    assert examples[0] == {"instruction": "Question 1?", "response": "Answer 1."}
    assert all(int(e["instruction"].split()[1].rstrip("?")) % 3 for e in examples)
    assert (len(train), len(held_out)) == (16, 4)
    assert "databricks-dolly-15k, 16 train / 4 held-out" in capsys.readouterr().out


def test_limit_takes_the_first_examples(dolly_server):
    train, held_out = load_instructions("book", limit=10)
    assert len(train) + len(held_out) == 10 and train[0]["instruction"] == "Question 1?"


def test_the_download_is_cached(dolly_server):
    load_instructions("book")
    dolly_server.unlink()  # the server no longer has it: the cached copy is used
    train, _ = load_instructions("book")
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
    load_instructions("book")
    cached = next(cache.rglob(instructions.DOLLY_FILE))
    cached.write_text(cached.read_text()[:50])  # damaged after its download
    train, _ = load_instructions("book")  # downloaded afresh
    assert len(train) == 16
    assert f"{cached} is damaged ({cached.name} is 50 bytes; its manifest says" in capsys.readouterr().out
