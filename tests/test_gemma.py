"""dlwp_utils.gemma: the tiny Gemma (tokenizer, corpus, preset build, cache), the real preset path
(local folders, Kaggle handles, credential and licence failures against a fake kagglehub), devices."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
import requests

from dlwp_utils import gemma
from dlwp_utils.data.download import COMPLETE_MARKER
from dlwp_utils.errors import DataError, DLWPError
from dlwp_utils.kaggle import KaggleError
from tests.test_kaggle import SECRET, env_credentials, no_credentials  # noqa: F401  (fixtures)

SMALL_RECIPE = {"documents": 64, "epochs_per_round": 1, "max_epochs": 1, "batch_size": 32, "sequence_length": 24}


@pytest.fixture(scope="module")
def small_preset(tmp_path_factory):
    """A tiny Gemma preset built in this process: the same code as the cached one, trained for 2 steps."""
    destination = tmp_path_factory.mktemp("presets") / "small"
    info = gemma.build_tiny_gemma(destination, SMALL_RECIPE)
    return destination, info


@pytest.fixture
def fake_kagglehub(monkeypatch):
    """kagglehub.model_download replaced: records the handles asked for, returns or raises what a test sets."""
    import kagglehub

    calls: list[str] = []
    outcome: dict = {}

    def model_download(handle, path=None, **kwargs):
        calls.append(handle)
        if "error" in outcome:
            raise outcome["error"]
        return str(outcome["path"])

    monkeypatch.setattr(kagglehub, "model_download", model_download)
    return calls, outcome


def http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status} Client Error for url with key={SECRET}", response=response)


# --- tokenizer and corpus ----------------------------------------------------------------------


def test_corpus_is_generated_by_rule_and_never_uses_the_instruction_template():
    corpus = gemma.pretraining_corpus(300, seed=3)
    assert corpus == gemma.pretraining_corpus(300, seed=3) != gemma.pretraining_corpus(300, seed=4)
    text = "\n".join(corpus)
    assert "Instruction" not in text and "Response" not in text
    assert "Question:\nWhat is" in text and "\n\nAnswer:\n" in text and " plus " in text and "the " in text
    assert all(1 <= doc.count("\n\n") + 1 - doc.count("\n\nAnswer") <= 2 for doc in corpus)


def test_sentencepiece_model_has_gemmas_special_ids_and_byte_fallback():
    import sentencepiece as spm

    corpus = gemma.tokenizer_corpus(gemma.pretraining_corpus(300))
    proto = gemma.train_tokenizer(corpus, 400)
    sp = spm.SentencePieceProcessor(model_proto=proto)
    assert sp.get_piece_size() == 400
    assert [sp.id_to_piece(i) for i in range(4)] == list(gemma.SPECIAL_PIECES)
    assert (sp.pad_id(), sp.bos_id(), sp.eos_id(), sp.unk_id()) == (0, 1, 2, 3)
    assert "Instruction" in sp.encode("Instruction:\nWhat", out_type=str)[0]
    pieces = sp.encode("é", out_type=str)
    assert "<0xC3>" in pieces and "<0xA9>" in pieces and sp.decode(sp.encode("café ü")) == "café ü"
    assert sp.encode("12", out_type=str)[-2:] == ["1", "2"]  # digits are split


def test_a_corpus_too_small_for_the_vocabulary_is_one_clear_error():
    with pytest.raises(DataError) as err:
        gemma.train_tokenizer(["a cat sees a dog", "a dog likes a bird"], 400)
    message = str(err.value)
    assert message.startswith("The tokenizer corpus (2 lines, 34 characters) is too small for a vocabulary of 400")
    limit = int(message.split("at most ")[1].split(" ")[0])
    assert 4 < limit < 400 and f"vocabulary_size of at most {limit}." in message
    assert gemma.train_tokenizer(["a cat sees a dog", "a dog likes a bird"], limit)  # the advice works


def test_the_corpus_is_packed_into_rows_without_padding():
    import sentencepiece as spm

    corpus = gemma.pretraining_corpus(50)
    proto = gemma.train_tokenizer(gemma.tokenizer_corpus(gemma.pretraining_corpus(300)), 400)
    rows = gemma.packed_windows(proto, corpus, 16)
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
    assert json.loads((path / gemma.INFO_FILE).read_text()) == json.loads(json.dumps(info))
    model = keras_hub.models.CausalLM.from_preset(str(path))
    assert type(model).__name__ == "GemmaCausalLM"
    assert model.backbone.num_layers == 2 and model.backbone.hidden_dim == 96
    tokenizer = model.preprocessor.tokenizer
    assert [tokenizer.token_to_id(t) for t in ("<pad>", "<bos>", "<eos>", "<unk>")] == [0, 1, 2, 3]
    model.compile(sampler="greedy")
    output = model.generate(["What is 3 plus 4?"], max_length=20)
    assert output[0].startswith("What is 3 plus 4?")


def fake_build(tmp_path, monkeypatch, *, fail: bool = False):
    """subprocess.run replaced by a stand-in for `python -m dlwp_utils.gemma build DEST`."""
    calls = []

    def run(command, env=None, **kwargs):
        calls.append((command, env))
        if fail:
            return subprocess.CompletedProcess(command, 1, "", "Traceback...\nValueError: out of memory\n")
        target = Path(command[-1])
        target.mkdir()
        (target / "config.json").write_text("{}")
        (target / gemma.INFO_FILE).write_text(json.dumps({"parameters": 1, "vocabulary_size": 400}))
        return subprocess.CompletedProcess(command, 0, "{}", "")

    monkeypatch.setattr(gemma.subprocess, "run", run)
    return calls


def test_tiny_preset_is_built_once_in_a_jax_subprocess_then_cached(cache, tmp_path, monkeypatch, capsys):
    calls = fake_build(tmp_path, monkeypatch)
    path = gemma.tiny_gemma_preset()
    assert path == cache / "models" / gemma.tiny_preset_name()
    assert (path / COMPLETE_MARKER).exists() and (path / "config.json").exists()
    (command, env), = calls
    assert command[1:4] == ["-m", "dlwp_utils.gemma", "build"] and env["KERAS_BACKEND"] == "jax"
    assert gemma.tiny_gemma_preset() == path and len(calls) == 1  # cached
    assert [p.name for p in path.parent.iterdir()] == [gemma.tiny_preset_name()]  # no staging left
    assert "Building the tiny Gemma preset" in capsys.readouterr().out


def test_an_interrupted_build_is_not_trusted(cache, tmp_path, monkeypatch, capsys):
    calls = fake_build(tmp_path, monkeypatch)
    half = cache / "models" / gemma.tiny_preset_name()
    half.mkdir(parents=True)
    (half / "config.json").write_text("{half")
    path = gemma.tiny_gemma_preset()
    assert len(calls) == 1 and (path / COMPLETE_MARKER).exists() and (path / "config.json").read_text() == "{}"
    assert "incomplete" in capsys.readouterr().out


def test_a_build_finished_first_by_another_process_is_kept(cache, tmp_path, monkeypatch):
    calls = fake_build(tmp_path, monkeypatch)
    inner = gemma.subprocess.run
    target = cache / "models" / gemma.tiny_preset_name()

    def racing_run(command, env=None, **kwargs):
        result = inner(command, env=env, **kwargs)
        target.mkdir(parents=True)  # meanwhile, another notebook completed the same build
        (target / "config.json").write_text('{"winner": 1}')
        (target / COMPLETE_MARKER).write_text("built\n")
        return result

    monkeypatch.setattr(gemma.subprocess, "run", racing_run)
    assert gemma.tiny_gemma_preset() == target and len(calls) == 1
    assert (target / "config.json").read_text() == '{"winner": 1}'
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_a_failed_build_raises_and_leaves_nothing(cache, tmp_path, monkeypatch):
    fake_build(tmp_path, monkeypatch, fail=True)
    with pytest.raises(DLWPError, match="out of memory") as err:
        gemma.tiny_gemma_preset()
    assert "nothing half-built was kept" in str(err.value)
    assert list((cache / "models").iterdir()) == []


def test_the_cache_name_follows_the_recipe(monkeypatch):
    name = gemma.tiny_preset_name()
    assert name.startswith("tiny_gemma_") and name == gemma.tiny_preset_name()
    monkeypatch.setitem(gemma.RECIPE, "epochs_per_round", 5)
    assert gemma.tiny_preset_name() != name


def test_build_command_line(monkeypatch, tmp_path, capsys):
    built = []
    monkeypatch.setattr(gemma, "build_tiny_gemma", lambda destination: built.append(destination) or {"ok": 1})
    assert gemma.main(["build", str(tmp_path / "x")]) == 0 and built == [tmp_path / "x"]
    assert json.loads(capsys.readouterr().out) == {"ok": 1}
    assert gemma.main(["frobnicate"]) == 2


def test_embedded_profile_returns_the_tiny_preset_and_says_so(cache, tmp_path, monkeypatch, capsys):
    fake_build(tmp_path, monkeypatch)
    path = gemma.gemma_preset("embedded", preset="gemma3_instruct_1b")  # PRESET is ignored offline
    assert path == str(cache / "models" / gemma.tiny_preset_name())
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Gemma:")]
    assert len(lines) == 1 and "embedded tiny Gemma" in lines[0] and '"book"' in lines[0]


# --- the real path ------------------------------------------------------------------------------


def test_a_local_preset_folder_is_used_as_is(small_preset, capsys):
    path, _ = small_preset
    assert gemma.gemma_preset("book", preset=str(path)) == str(path)
    assert f"Gemma: the preset {path}" in capsys.readouterr().out


def test_a_folder_that_is_no_preset_is_refused(tmp_path):
    with pytest.raises(DataError, match="no config.json"):
        gemma.real_preset(str(tmp_path))


def test_hugging_face_handles_are_left_to_keras_hub():
    assert gemma.real_preset("hf://google/gemma-3-1b-pt") == "hf://google/gemma-3-1b-pt"


def test_kaggle_handles_of_names_and_urls():
    assert gemma.kaggle_handle("gemma3_1b") == "keras/gemma3/keras/gemma3_1b/3"
    assert gemma.kaggle_handle("gemma3_instruct_1b").startswith("keras/gemma3/keras/gemma3_instruct_1b")
    assert gemma.kaggle_handle("kaggle://keras/gemma/keras/gemma_2b_en/2") == "keras/gemma/keras/gemma_2b_en/2"
    with pytest.raises(DataError, match="must look like"):
        gemma.kaggle_handle("kaggle://keras/gemma")
    with pytest.raises(DataError, match="Did you mean 'gemma3_1b'") as err:
        gemma.kaggle_handle("gemma3-1b")
    assert "not a KerasHub preset name" in str(err.value) and "gemma3_instruct_1b" in str(err.value)


def test_book_profile_downloads_the_preset_with_kagglehub_and_loads_it(env_credentials, fake_kagglehub, small_preset):
    import keras_hub

    calls, outcome = fake_kagglehub
    outcome["path"], _ = small_preset
    preset = gemma.gemma_preset("book")
    assert calls == ["keras/gemma3/keras/gemma3_1b/3"] and preset == str(outcome["path"])
    model = keras_hub.models.CausalLM.from_preset(preset, dtype="float32")
    assert model.backbone.dtype_policy.name == "float32"


def test_missing_credentials_stop_before_any_download(no_credentials, fake_kagglehub):
    calls, _ = fake_kagglehub
    with pytest.raises(KaggleError) as err:
        gemma.gemma_preset("book")
    assert "the Gemma preset gemma3_1b needs Kaggle credentials" in str(err.value)
    assert "~/.kaggle/kaggle.json" in str(err.value) and calls == []


@pytest.mark.parametrize(("status", "expected"), [
    (403, "has not accepted the Gemma licence (Gemma Terms of Use) yet. Open https://www.kaggle.com/models/keras/gemma3"),
    (401, "rejected your credentials"),
])
def test_licence_and_credential_refusals_are_explained_without_the_secret(env_credentials, fake_kagglehub, status, expected):
    _, outcome = fake_kagglehub
    outcome["error"] = http_error(status)
    with pytest.raises(KaggleError) as err:
        gemma.gemma_preset("book", preset="gemma3_1b")
    assert expected in str(err.value) and SECRET not in str(err.value)


def test_offline_book_profile_says_what_to_do(env_credentials, fake_kagglehub):
    _, outcome = fake_kagglehub
    outcome["error"] = requests.ConnectionError("Failed to resolve www.kaggle.com")
    with pytest.raises(KaggleError, match='network is unreachable.*PROFILE = "embedded"'):
        gemma.gemma_preset("book")


# --- devices --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("devices", "dtype"), [(["cpu:0"], "float32"), (["gpu:0", "cpu"], "bfloat16"), (["tpu:0"], "bfloat16")])
def test_bfloat16_only_on_an_accelerator(monkeypatch, devices, dtype):
    import dlwp_utils.backend

    monkeypatch.setattr(dlwp_utils.backend, "list_devices", lambda: devices)
    assert gemma.preferred_dtype() == dtype


def test_scripts_run_on_simulated_jax_devices(tmp_path, capsys):
    script = tmp_path / "devices.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        import jax
        print(os.environ["KERAS_BACKEND"], jax.device_count(), sys.argv[1])
    """))
    gemma.run_on_simulated_devices(script, "hello", devices=4)
    assert capsys.readouterr().out == "jax 4 hello\n"


def test_a_failing_script_raises_with_its_error(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("raise RuntimeError('mesh shape does not match')\n")
    with pytest.raises(DLWPError, match="mesh shape does not match"):
        gemma.run_on_simulated_devices(script, devices=2)
