"""Kaggle downloads through kagglehub: find the credentials, and turn each failure into one clear step.

Credentials are looked up where kagglehub looks (never printed, never written anywhere):
environment variables (KAGGLE_USERNAME + KAGGLE_KEY, or KAGGLE_API_TOKEN), Colab secrets of the
same names, and ~/.kaggle/kaggle.json (or $KAGGLE_CONFIG_DIR/kaggle.json).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Callable, Iterator

from dlwp_utils.backend import in_colab
from dlwp_utils.data import store
from dlwp_utils.errors import KaggleError

KAGGLEHUB_ENV = "KAGGLEHUB_CACHE"

HOW_TO_PROVIDE = (
    "Provide your Kaggle API token in one of three ways (kaggle.com > Settings > API > Create New Token): "
    "(1) environment variables KAGGLE_USERNAME and KAGGLE_KEY; "
    "(2) on Colab, secrets KAGGLE_USERNAME and KAGGLE_KEY (key icon in the left bar, with notebook access on); "
    "(3) the downloaded kaggle.json saved as ~/.kaggle/kaggle.json (chmod 600). "
    "Never paste the key into a cell: executed notebooks get shared."
)


def credentials_file() -> Path:
    """Where kagglehub reads kaggle.json: $KAGGLE_CONFIG_DIR, else ~/.kaggle."""
    return Path(os.environ.get("KAGGLE_CONFIG_DIR", "~/.kaggle")).expanduser() / "kaggle.json"


def credentials_source() -> str | None:
    """Which of the three places holds Kaggle credentials (a description, never the values), or None."""
    if os.environ.get("KAGGLE_API_TOKEN") or (os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY")):
        return "environment variables"
    path = credentials_file()
    if path.exists():
        try:
            content = json.loads(path.read_text())
        except (OSError, ValueError):
            raise KaggleError(f"{path} is not valid JSON. Download a fresh kaggle.json from kaggle.com > "
                              "Settings > API > Create New Token and replace the file.") from None
        if not isinstance(content, dict) or not content.get("username") or not content.get("key"):
            raise KaggleError(f"{path} lacks a \"username\" or a \"key\". Download a fresh kaggle.json from "
                              "kaggle.com > Settings > API > Create New Token and replace the file.")
        return str(path)
    if in_colab() and _colab_secrets_present():
        return "Colab secrets"
    return None


def _colab_secrets_present() -> bool:
    try:
        from google.colab import userdata  # type: ignore[import-not-found]

        return bool(userdata.get("KAGGLE_API_TOKEN") or (userdata.get("KAGGLE_USERNAME") and userdata.get("KAGGLE_KEY")))
    except Exception:  # secret missing or notebook access not granted
        return False


def require_credentials(what: str) -> str:
    """The credentials' source; a KaggleError with the three ways to provide them if there are none."""
    source = credentials_source()
    if source is None:
        raise KaggleError(f"Downloading {what} needs Kaggle credentials, and none were found. {HOW_TO_PROVIDE} "
                          'Or use the embedded profile (PROFILE = "embedded"), which needs no download.')
    return source


def kaggle_download(download: Callable[[], str], *, what: str, page: str, consent: str,
                    size: int | None = None) -> Path:
    """Run a kagglehub download (e.g. `lambda: kagglehub.competition_download("dogs-vs-cats")`).

    `what` names the resource in messages, `page` is its Kaggle page, and `consent` says what must
    be accepted there ("the competition rules", "the model licence"), `size` its size in bytes if
    known. kagglehub's cache is $KAGGLEHUB_CACHE, else $DLWP_CACHE_DIR/kagglehub, else its own
    default. Missing or rejected credentials, missing consent, an unknown resource and an
    unreachable network each become one KaggleError with the next step; a disk that is full or
    cannot be written, one WriteError. Secrets never appear in the message.
    """
    require_credentials(what)
    folder = kagglehub_cache()
    try:
        with _kagglehub_cache_at(folder):
            return Path(download())
    except Exception as err:  # kagglehub raises requests and kagglehub exceptions alike
        if store.is_write_failure(err):
            raise store.write_failed(err, folder, what, needs=size, kept=(
                "kagglehub trusts no partial download: it resumes or restarts it next time.")) from None
        raise _explain(err, what=what, page=page, consent=consent) from None


def kagglehub_cache() -> Path:
    """Where kagglehub keeps its downloads: $KAGGLEHUB_CACHE, else $DLWP_CACHE_DIR/kagglehub, else its default."""
    if os.environ.get(KAGGLEHUB_ENV):
        return Path(os.environ[KAGGLEHUB_ENV]).expanduser()
    if os.environ.get(store.CACHE_ENV):
        return Path(os.environ[store.CACHE_ENV]).expanduser() / "kagglehub"
    return Path("~/.cache/kagglehub").expanduser()


@contextlib.contextmanager
def _kagglehub_cache_at(folder: Path) -> Iterator[None]:
    """KAGGLEHUB_CACHE set to `folder` for one download (kagglehub reads it at each call)."""
    before = os.environ.get(KAGGLEHUB_ENV)
    os.environ[KAGGLEHUB_ENV] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(KAGGLEHUB_ENV, None)
        else:
            os.environ[KAGGLEHUB_ENV] = before


def _explain(err: Exception, *, what: str, page: str, consent: str) -> KaggleError:
    status = getattr(getattr(err, "response", None), "status_code", None)
    name = type(err).__name__
    if status == 401 or name in ("UnauthenticatedError", "CredentialError"):
        return KaggleError(f"Kaggle rejected your credentials while downloading {what} (401 Unauthorized): the "
                           f"key is wrong, expired or revoked. Create a new token at kaggle.com > Settings > API "
                           f"and replace the old one. {HOW_TO_PROVIDE}")
    if status == 403:
        return KaggleError(f"Kaggle refused {what} (403 Forbidden): your account has not accepted {consent} yet. "
                           f"Open {page} while logged in, accept, then run this cell again.")
    if status == 404:
        return KaggleError(f"Kaggle could not find {what} (404 Not Found; see {page}). Check the name in the notebook.")
    if _is_network_error(err):
        return KaggleError(f"Could not reach Kaggle to download {what}: the network is unreachable "
                           f"({_redacted(err)}). Connect and run this cell again, or use the embedded profile "
                           '(PROFILE = "embedded"), which needs no download.')
    return KaggleError(f"Downloading {what} from Kaggle failed: {name}: {_redacted(err)}. See {page}.")


def _is_network_error(err: BaseException) -> bool:
    import requests

    chain: BaseException | None = err
    while chain is not None:
        if isinstance(chain, (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)):
            return True
        chain = chain.__cause__ or chain.__context__
    return False


def _redacted(err: BaseException) -> str:
    """The error's text with any credential value masked."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    for name in ("KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_USERNAME"):
        value = os.environ.get(name)
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text[:300]
