"""dlwp_utils.data.gemma: which preset a notebook gets. Embedded: the tiny Gemma; book: local folders,
Kaggle handles, credential and licence failures against a fake kagglehub."""

from __future__ import annotations

import pytest
import requests

from dlwp_utils.data import gemma, tiny_gemma
from dlwp_utils.errors import DataError, KaggleError
from tests.test_kaggle import SECRET, env_credentials, no_credentials  # noqa: F401  (fixtures)


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


def test_embedded_profile_returns_the_tiny_preset_and_says_so(capsys):
    path = gemma.gemma_preset("embedded", preset="gemma3_instruct_1b")  # PRESET is ignored offline
    assert path == str(tiny_gemma.PRESET)
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
