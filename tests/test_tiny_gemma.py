"""dlwp_utils.data.tiny_gemma: the tiny Gemma's corpus, tokenizer, preset build and cache."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dlwp_utils.data import store, tiny_gemma
from dlwp_utils.errors import DataError, DLWPError


# --- tokenizer and corpus ----------------------------------------------------------------------


def test_corpus_is_generated_by_rule_and_never_uses_the_instruction_template():
    corpus = tiny_gemma.pretraining_corpus(300, seed=3)
    assert corpus == tiny_gemma.pretraining_corpus(300, seed=3) != tiny_gemma.pretraining_corpus(300, seed=4)
    text = "\n".join(corpus)
    assert "instruction" not in text and "response" not in text
    assert "Question:\nWhat is" in text and "\n\nAnswer:\n" in text and " plus " in text and "the " in text
    tagged = [line for line in text.splitlines() if line.endswith("[end]")]
    assert tagged and not any(char.isdigit() for line in tagged for char in line)  # "[end]" closes only stories
    assert all(1 <= doc.count("\n\n") + 1 - doc.count("\n\nAnswer") <= 2 for doc in corpus)


def test_sentencepiece_model_has_gemmas_special_ids_and_byte_fallback():
    import sentencepiece as spm

    corpus = tiny_gemma.tokenizer_corpus(tiny_gemma.pretraining_corpus(300))
    proto = tiny_gemma.train_tokenizer(corpus, 400)
    sp = spm.SentencePieceProcessor(model_proto=proto)
    assert sp.get_piece_size() == 400
    assert [sp.id_to_piece(i) for i in range(4)] == list(tiny_gemma.SPECIAL_PIECES)
    assert (sp.pad_id(), sp.bos_id(), sp.eos_id(), sp.unk_id()) == (0, 1, 2, 3)
    assert sp.encode("[instruction]\nWhat", out_type=str)[:5] == ["[", "instruction", "]", "\n", "What"]
    assert all(sp.encode(piece, out_type=str) == [piece] for piece in tiny_gemma.GEMMA3_PIECES)
    prompt, response = "[instruction]\nWhat is 3 plus 4?[end]\n[response]\n", "7[end]"
    assert sp.encode(prompt) + sp.encode(response) == sp.encode(prompt + response)  # no "▁" added before "7"
    pieces = sp.encode("é", out_type=str)
    assert "<0xC3>" in pieces and "<0xA9>" in pieces and sp.decode(sp.encode("café ü")) == "café ü"
    assert sp.encode("12", out_type=str)[-2:] == ["1", "2"]  # digits are split


def test_a_corpus_too_small_for_the_vocabulary_is_one_clear_error():
    with pytest.raises(DataError) as err:
        tiny_gemma.train_tokenizer(["a cat sees a dog", "a dog likes a bird"], 400)
    message = str(err.value)
    assert message.startswith("The tokenizer corpus (2 lines, 34 characters) is too small for a vocabulary of 400")
    limit = int(message.split("at most ")[1].split(" ")[0])
    assert 4 < limit < 400 and f"vocabulary_size of at most {limit}." in message
    assert tiny_gemma.train_tokenizer(["a cat sees a dog", "a dog likes a bird"], limit)  # the advice works


def test_the_corpus_is_packed_into_rows_without_padding():
    import sentencepiece as spm

    corpus = tiny_gemma.pretraining_corpus(50)
    proto = tiny_gemma.train_tokenizer(tiny_gemma.tokenizer_corpus(tiny_gemma.pretraining_corpus(300)), 400)
    rows = tiny_gemma.packed_windows(proto, corpus, 16)
    sp = spm.SentencePieceProcessor(model_proto=proto)
    stream = rows.reshape(-1).tolist()
    assert rows.shape[1] == 17 and rows.dtype == "int32" and 0 not in stream  # no <pad>
    assert stream[0] == 1 and stream.count(1) - stream.count(2) in (0, 1) and stream.count(1) <= 50  # <bos> doc <eos>
    first = stream[1:stream.index(2)]
    assert sp.decode(first) == corpus[0]


# --- the tiny preset -----------------------------------------------------------------------------


def test_built_preset_loads_with_from_preset_and_generates(small_preset):
    import keras_hub

    path, info = small_preset
    assert (path / "config.json").is_file() and (path / "model.weights.h5").is_file()
    assert (path / "assets" / "tokenizer").is_dir()
    assert info["vocabulary_size"] == 400 and info["parameters"] > 100_000
    assert info["epochs"] == 1 and 0 <= info["sums_known_in_pretraining_format"] <= 1
    assert json.loads((path / tiny_gemma.INFO_FILE).read_text()) == json.loads(json.dumps(info))
    model = keras_hub.models.CausalLM.from_preset(str(path))
    assert type(model).__name__ == "Gemma3CausalLM"  # the class of Gemma 3 1B, the book's model
    assert model.backbone.num_layers == 2 and model.backbone.hidden_dim == 96
    tokenizer = model.preprocessor.tokenizer
    assert [tokenizer.token_to_id(t) for t in ("<pad>", "<bos>", "<eos>", "<unk>")] == [0, 1, 2, 3]
    model.compile(sampler="greedy")
    output = model.generate(["What is 3 plus 4?"], max_length=20)
    assert output[0].startswith("What is 3 plus 4?")


def test_the_preprocessor_takes_prompts_and_responses_and_masks_the_prompt(small_preset):
    import keras_hub
    from keras import ops

    model = keras_hub.models.CausalLM.from_preset(str(small_preset[0]))
    prompt = tiny_gemma.INSTRUCTION_TEMPLATE.split("{}")[0] + "What is 3 plus 4?" + "[end]\n[response]\n"
    x, y, weights = model.preprocessor({"prompts": [prompt], "responses": ["7[end]"]}, sequence_length=32)
    tokenizer = model.preprocessor.tokenizer
    ids, weights = ops.convert_to_numpy(y)[0].tolist(), ops.convert_to_numpy(weights)[0].tolist()
    in_loss = [tokenizer.id_to_token(i) for i, weight in zip(ids, weights) if weight]
    assert in_loss == ["7", "[", "end", "]", "<eos>"]
    assert ops.convert_to_numpy(x["token_ids"])[0, 0] == tokenizer.start_token_id


def test_the_notebook_uses_the_template_the_tokenizer_learned():
    import ast

    notebook = Path(__file__).parents[1] / "chapter15" / "chapter15_language_models_gemma.ipynb"
    sources = ["".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code"]
    templates = {}
    for source in sources:
        for line in source.splitlines():
            if line.startswith(("PROMPT_TEMPLATE = ", "RESPONSE_TEMPLATE = ")):
                name, value = line.split(" = ", 1)
                templates[name] = ast.literal_eval(value)
    assert templates["PROMPT_TEMPLATE"] + templates["RESPONSE_TEMPLATE"] == tiny_gemma.INSTRUCTION_TEMPLATE


def committed_copy(tmp_path, monkeypatch) -> Path:
    """The committed preset and its record, copied to tmp_path and pointed at (to damage them safely)."""
    import shutil

    preset = tmp_path / "assets" / "tiny_gemma"
    shutil.copytree(tiny_gemma.PRESET, preset)
    record = preset.parent / tiny_gemma.RECORD.name
    shutil.copy(tiny_gemma.RECORD, record)
    monkeypatch.setattr(tiny_gemma, "PRESET", preset)
    monkeypatch.setattr(tiny_gemma, "RECORD", record)
    return preset


def test_the_committed_preset_is_loaded_not_built(monkeypatch):
    """Built once and committed (its pretraining follows the CPU): every file checked, nothing built or cached."""
    def no_build(*args, **kwargs):
        raise AssertionError("the committed preset must be used, never built on first use")

    monkeypatch.setattr(tiny_gemma.subprocess, "run", no_build)
    path = tiny_gemma.tiny_gemma_preset()
    assert path == tiny_gemma.PRESET and path.is_relative_to(Path(tiny_gemma.__file__).parent / "assets")
    record = json.loads(tiny_gemma.RECORD.read_text())
    assert record["recipe_key"] == tiny_gemma.recipe_key() and record["files"] == tiny_gemma.preset_files(path)
    assert {"config.json", "model.weights.h5", "assets/tokenizer/vocabulary.spm", tiny_gemma.INFO_FILE} <= set(record["files"])
    info = json.loads((path / tiny_gemma.INFO_FILE).read_text())
    assert info["recipe"] == tiny_gemma.RECIPE and info["parameters"] == 205_248
    assert info["sums_known_in_pretraining_format"] >= tiny_gemma.RECIPE["target_known"]


@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_a_damaged_committed_file_is_one_clear_error(tmp_path, monkeypatch, damage):
    preset = committed_copy(tmp_path, monkeypatch)
    weights = preset / "model.weights.h5"
    if damage == "truncated":
        with open(weights, "r+b") as handle:
            handle.truncate(100)
    else:
        weights.unlink()
    with pytest.raises(DataError) as err:
        tiny_gemma.tiny_gemma_preset()
    message = str(err.value)
    assert message.startswith(f"{weights} is {'damaged' if damage == 'truncated' else 'missing'}")
    assert "git checkout -- dlwp_utils/data/assets" in message and "pip install --force-reinstall" in message


def test_a_recipe_changed_without_a_rebuild_asks_the_maintainer_to_rebuild(monkeypatch):
    monkeypatch.setitem(tiny_gemma.RECIPE, "epochs_per_round", 5)
    with pytest.raises(DataError, match=r"another recipe .*\(make tiny-gemma\)"):
        tiny_gemma.tiny_gemma_preset()


def fake_build(monkeypatch, *, fail: bool = False):
    """subprocess.run replaced by a stand-in for `python -m dlwp_utils.data.tiny_gemma build DEST`."""
    calls = []

    def run(command, env=None, **kwargs):
        calls.append((command, env))
        if fail:
            return subprocess.CompletedProcess(command, 1, "", "Traceback...\nValueError: out of memory\n")
        target = Path(command[-1])
        (target / "assets").mkdir(parents=True)
        (target / "config.json").write_text("{}")
        (target / "assets" / "vocabulary.spm").write_bytes(b"spm")
        (target / tiny_gemma.INFO_FILE).write_text(json.dumps({"parameters": 1, "vocabulary_size": 400}))
        return subprocess.CompletedProcess(command, 0, "{}", "")

    monkeypatch.setattr(tiny_gemma.subprocess, "run", run)
    return calls


def test_the_rebuild_runs_in_a_jax_subprocess_and_replaces_the_preset_whole(tmp_path, monkeypatch):
    preset = committed_copy(tmp_path, monkeypatch)
    calls = fake_build(monkeypatch)
    record = tiny_gemma.build_committed(preset, tiny_gemma.RECORD)
    (command, env), = calls
    assert command[1:4] == ["-m", "dlwp_utils.data.tiny_gemma", "build"] and env["KERAS_BACKEND"] == "jax"
    assert env["JAX_PLATFORMS"] == "cpu"
    assert sorted(record["files"]) == ["assets/vocabulary.spm", "config.json", tiny_gemma.INFO_FILE]
    assert record["files"]["config.json"] == store.sha256_of(preset / "config.json") and record["recipe_key"]
    assert json.loads(tiny_gemma.RECORD.read_text()) == record and "jax" in record["built_with"]
    assert not (preset / "model.weights.h5").exists()  # replaced whole, not merged
    assert sorted(p.name for p in preset.parent.iterdir()) == ["tiny_gemma", "tiny_gemma.json"]  # no staging left


def test_a_failed_rebuild_leaves_the_committed_preset_as_it_was(tmp_path, monkeypatch):
    preset = committed_copy(tmp_path, monkeypatch)
    before, record = tiny_gemma.preset_files(preset), tiny_gemma.RECORD.read_text()
    fake_build(monkeypatch, fail=True)
    with pytest.raises(DLWPError, match="out of memory") as err:
        tiny_gemma.build_committed(preset, tiny_gemma.RECORD)
    assert f"The committed preset in {preset} was left as it was." in str(err.value)
    assert tiny_gemma.preset_files(preset) == before and tiny_gemma.RECORD.read_text() == record
    assert sorted(p.name for p in preset.parent.iterdir()) == ["tiny_gemma", "tiny_gemma.json"]


def test_build_command_line(monkeypatch, tmp_path, capsys):
    built = []
    monkeypatch.setattr(tiny_gemma, "build_tiny_gemma", lambda destination: built.append(destination) or {"ok": 1})
    assert tiny_gemma.main(["build", str(tmp_path / "x")]) == 0 and built == [tmp_path / "x"]
    assert json.loads(capsys.readouterr().out) == {"ok": 1}
    committed = []
    monkeypatch.setattr(tiny_gemma, "build_committed", lambda: committed.append(1) or {"seconds": 3, "files": {"a": "b"}})
    assert tiny_gemma.main(["build"]) == 0 and committed == [1]
    assert "205,248 parameters); commit dlwp_utils/data/assets" in capsys.readouterr().out
    assert tiny_gemma.main(["frobnicate"]) == 2
