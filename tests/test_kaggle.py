"""dlwp_utils.kaggle: where credentials come from, and one clear message per failure, no secrets."""

from __future__ import annotations

import json
import sys
from types import ModuleType

import pytest
import requests

from dlwp_utils.errors import KaggleError
from dlwp_utils.kaggle import credentials_source, kaggle_download, require_credentials

SECRET = "0123456789abcdef0123456789abcdef"


CREDENTIAL_VARIABLES = ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_KERNEL_RUN_TYPE")


@pytest.fixture
def no_credentials(tmp_path, monkeypatch):
    """No credentials anywhere: environment, Colab, ~/.kaggle (HOME is a new folder), KAGGLE_CONFIG_DIR."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.setenv(name, "x")  # so that monkeypatch restores the environment even where
        monkeypatch.delenv(name)       # require_credentials sets these variables (from Colab secrets)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    return tmp_path / "kaggle-config"


@pytest.fixture
def env_credentials(no_credentials, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", "learner")
    monkeypatch.setenv("KAGGLE_KEY", SECRET)


class SecretNotFoundError(Exception):
    """Raised by the real google.colab.userdata.get for a secret that does not exist."""


class NotebookAccessError(Exception):
    """Raised by the real get for a secret this notebook was not given access to."""


class TimeoutException(Exception):
    """Raised by the real get when the notebook does not run in Colab's page."""


def fake_colab(monkeypatch, secrets: dict[str, str], *, no_access=(), timeout=()):
    """A google.colab whose userdata.get raises like the real one (google/colab/userdata.py)."""
    asked = []

    def get(key):
        asked.append(key)
        if key in timeout:
            raise TimeoutException(f"Requesting secret {key} timed out.")
        if key not in secrets:
            raise SecretNotFoundError(f"Secret {key} does not exist.")
        if key in no_access:
            raise NotebookAccessError(f"Notebook does not have access to secret {key}")
        return secrets[key]

    userdata = ModuleType("google.colab.userdata")
    userdata.get = get
    userdata.SecretNotFoundError, userdata.NotebookAccessError = SecretNotFoundError, NotebookAccessError
    userdata.TimeoutException = TimeoutException
    colab = ModuleType("google.colab")
    colab.userdata = userdata
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.userdata", userdata)
    return asked


def _kagglehub_sees():
    """What kagglehub itself would authenticate with now (its own lookup, outside Colab's UI)."""
    import kagglehub.config

    kagglehub.config.clear_kaggle_credentials()
    return kagglehub.config.get_kaggle_credentials()


def test_missing_credentials_list_the_ways_token_first(no_credentials):
    with pytest.raises(KaggleError) as err:
        require_credentials("the dogs-vs-cats competition data")
    message = str(err.value)
    ways = ["environment variable KAGGLE_API_TOKEN", "a secret named KAGGLE_API_TOKEN", "~/.kaggle/access_token",
            "KAGGLE_USERNAME and KAGGLE_KEY", "~/.kaggle/kaggle.json", 'PROFILE = "embedded"']
    assert all(way in message for way in ways), message
    assert [message.index(way) for way in ways] == sorted(message.index(way) for way in ways)


def test_the_colab_token_alone_is_found_and_reaches_kagglehub(no_credentials, monkeypatch, capsys):
    asked = fake_colab(monkeypatch, {"KAGGLE_API_TOKEN": SECRET})
    assert require_credentials("x") == "the Colab secret KAGGLE_API_TOKEN"
    assert asked == ["KAGGLE_API_TOKEN"]
    assert _kagglehub_sees().api_key == SECRET
    assert SECRET not in capsys.readouterr().out + capsys.readouterr().err


def test_the_colab_pair_alone_is_found_though_the_token_secret_does_not_exist(no_credentials, monkeypatch, capsys):
    # The bug this replaces: the first lookup (KAGGLE_API_TOKEN) raised, and a broad except answered "none".
    asked = fake_colab(monkeypatch, {"KAGGLE_USERNAME": "learner", "KAGGLE_KEY": SECRET})
    assert credentials_source() == "the Colab secrets KAGGLE_USERNAME and KAGGLE_KEY"
    assert require_credentials("x") == "the Colab secrets KAGGLE_USERNAME and KAGGLE_KEY"
    assert asked[:3] == ["KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY"]
    seen = _kagglehub_sees()
    assert (seen.username, seen.key, seen.api_key) == ("learner", SECRET, None)
    assert SECRET not in capsys.readouterr().out


@pytest.mark.parametrize(("options", "expected"), [
    ({"no_access": ("KAGGLE_KEY",)}, "the Colab secret KAGGLE_KEY exists, but this notebook has no access to it: "
                                     "open the key icon in the left bar and switch on its Notebook access"),
    ({"timeout": ("KAGGLE_KEY",)}, "reading the Colab secret KAGGLE_KEY timed out"),
])
def test_a_secret_that_cannot_be_read_is_named_in_the_error(no_credentials, monkeypatch, options, expected):
    fake_colab(monkeypatch, {"KAGGLE_USERNAME": "learner", "KAGGLE_KEY": SECRET}, **options)
    with pytest.raises(KaggleError) as err:
        require_credentials("x")
    assert expected in str(err.value) and "none were found" in str(err.value)
    assert "the Colab secret KAGGLE_USERNAME is there, but KAGGLE_KEY is not" in str(err.value)
    assert SECRET not in str(err.value)


def test_the_token_comes_first_then_the_pair(no_credentials, monkeypatch):
    home = no_credentials.parent / "home" / ".kaggle"
    no_credentials.mkdir()
    (no_credentials / "kaggle.json").write_text(json.dumps({"username": "learner", "key": SECRET}))
    assert credentials_source() == str(no_credentials / "kaggle.json")
    fake_colab(monkeypatch, {"KAGGLE_USERNAME": "learner", "KAGGLE_KEY": SECRET})
    assert credentials_source() == "the Colab secrets KAGGLE_USERNAME and KAGGLE_KEY"
    monkeypatch.setenv("KAGGLE_USERNAME", "learner")
    monkeypatch.setenv("KAGGLE_KEY", SECRET)
    assert credentials_source() == "the environment variables KAGGLE_USERNAME and KAGGLE_KEY"
    home.mkdir(parents=True)
    (home / "access_token").write_text(SECRET + "\n")
    assert credentials_source() == str(home / "access_token")
    fake_colab(monkeypatch, {"KAGGLE_API_TOKEN": SECRET})
    assert credentials_source() == "the Colab secret KAGGLE_API_TOKEN"
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    assert credentials_source() == "the environment variable KAGGLE_API_TOKEN"


def test_the_token_file_is_where_kagglehub_reads_it(no_credentials):
    token = no_credentials.parent / "home" / ".kaggle" / "access_token"
    token.parent.mkdir(parents=True)
    token.write_text("")
    with pytest.raises(KaggleError, match="access_token is empty"):
        require_credentials("x")
    token.write_text(SECRET)
    assert require_credentials("x") == str(token)
    assert _kagglehub_sees().api_key == SECRET


def test_half_a_pair_in_the_environment_is_named(no_credentials, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", "learner")
    with pytest.raises(KaggleError, match="the environment variable KAGGLE_USERNAME is set, but KAGGLE_KEY is not"):
        require_credentials("x")


def test_kaggle_notebooks_need_no_credentials(no_credentials, monkeypatch):
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    assert credentials_source() == "Kaggle Notebooks (kagglehub signs in by itself there)"


@pytest.mark.parametrize(("content", "expected"), [("{not json", "not valid JSON"), ('{"username": "x"}', "lacks")])
def test_a_broken_kaggle_json_is_named_without_its_content(no_credentials, content, expected):
    no_credentials.mkdir()
    (no_credentials / "kaggle.json").write_text(content)
    with pytest.raises(KaggleError) as err:
        credentials_source()
    assert expected in str(err.value) and str(no_credentials / "kaggle.json") in str(err.value)


def _http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status} Client Error for key={SECRET}", response=response)


def _failing(err: Exception):
    def download():
        raise err
    return download


@pytest.mark.parametrize(("error", "expected"), [
    (_http_error(401), "rejected your credentials"),
    (_http_error(403), "has not accepted the competition rules yet. Open https://www.kaggle.com/c/x/rules"),
    (_http_error(404), "could not find the x data (404"),
    (requests.ConnectionError(f"Name resolution failed for key {SECRET}"), "network is unreachable"),
])
def test_each_failure_gets_its_own_message_and_never_the_secret(env_credentials, error, expected):
    with pytest.raises(KaggleError) as err:
        kaggle_download(_failing(error), what="the x data", page="https://www.kaggle.com/c/x/rules",
                        consent="the competition rules")
    assert expected in str(err.value)
    assert SECRET not in str(err.value) and err.value.__cause__ is None


def test_a_successful_download_returns_its_path(env_credentials, tmp_path):
    assert kaggle_download(lambda: str(tmp_path), what="x", page="p", consent="c") == tmp_path


def test_no_download_is_attempted_without_credentials(no_credentials):
    called = []
    with pytest.raises(KaggleError, match="none were found"):
        kaggle_download(lambda: called.append(1) or "x", what="x", page="p", consent="c")
    assert called == []


def test_a_download_bigger_than_the_free_space_stops_before_it_starts(env_credentials, tmp_path, monkeypatch):
    import shutil

    from dlwp_utils.errors import WriteError

    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    free = shutil.disk_usage(tmp_path).free
    called = []
    with pytest.raises(WriteError, match=r"the disk is full.*it needs about") as err:
        kaggle_download(lambda: called.append(1) or "x", what="the Gemma preset gemma3_1b", page="p", consent="c",
                        size=free * 2)
    assert called == [] and "kagglehub" in str(err.value) and SECRET not in str(err.value)


def test_the_gemma_download_asks_for_the_presets_size(env_credentials, monkeypatch):
    from dlwp_utils.data import gemma

    asked = {}
    monkeypatch.setattr(gemma, "kaggle_download", lambda download, **kwargs: asked.update(kwargs) or "/x")
    gemma.real_preset("gemma3_1b")
    assert asked["size"] == 999_885_952 * gemma.BYTES_PER_STORED_PARAMETER
