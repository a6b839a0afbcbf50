"""dlwp_utils.kaggle: where credentials come from, and one clear message per failure, no secrets."""

from __future__ import annotations

import json
import sys

import pytest
import requests

from dlwp_utils.errors import KaggleError
from dlwp_utils.kaggle import credentials_source, kaggle_download, require_credentials

SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def no_credentials(tmp_path, monkeypatch):
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    return tmp_path / "kaggle-config"


@pytest.fixture
def env_credentials(no_credentials, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", "learner")
    monkeypatch.setenv("KAGGLE_KEY", SECRET)


def test_missing_credentials_list_the_three_ways(no_credentials):
    with pytest.raises(KaggleError) as err:
        require_credentials("the dogs-vs-cats competition data")
    message = str(err.value)
    for way in ("KAGGLE_USERNAME and KAGGLE_KEY", "Colab, secrets", "~/.kaggle/kaggle.json", 'PROFILE = "embedded"'):
        assert way in message


def test_each_source_is_found(no_credentials, monkeypatch):
    assert credentials_source() is None
    no_credentials.mkdir()
    (no_credentials / "kaggle.json").write_text(json.dumps({"username": "learner", "key": SECRET}))
    assert credentials_source() == str(no_credentials / "kaggle.json")
    monkeypatch.setenv("KAGGLE_API_TOKEN", "token")
    assert credentials_source() == "environment variables"


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
