"""Kaggle downloads through kagglehub: find the credentials, and turn each failure into one clear step.

Credentials are looked up as Kaggle and Colab provide them today, first match wins (never printed,
never written anywhere):

1. the API token: the environment variable KAGGLE_API_TOKEN, the Colab secret KAGGLE_API_TOKEN,
   the file ~/.kaggle/access_token;
2. the legacy username and key: the environment variables KAGGLE_USERNAME and KAGGLE_KEY, the
   Colab secrets of the same names, the file kaggle.json ($KAGGLE_CONFIG_DIR, else ~/.kaggle);
3. on Kaggle Notebooks, none are needed: kagglehub signs in by itself.

kagglehub reads the environment variables and the files itself. A Colab secret is handed to it
through the environment variable of the same name, because kagglehub's own Colab lookup gives up
at the first secret that is missing (a legacy pair is never found when KAGGLE_API_TOKEN is absent).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from dlwp_utils.backend import in_colab, in_kaggle
from dlwp_utils.data import store
from dlwp_utils.errors import KaggleError, help_link

KAGGLEHUB_ENV = "KAGGLEHUB_CACHE"
TOKEN = "KAGGLE_API_TOKEN"
USERNAME = "KAGGLE_USERNAME"
KEY = "KAGGLE_KEY"

HOW_TO_PROVIDE = (
    "Create an API token at https://www.kaggle.com/settings/api (Generate New Token) and provide it in one of three "
    "ways: (1) the environment variable KAGGLE_API_TOKEN; (2) on Colab, a secret named KAGGLE_API_TOKEN (key icon in "
    "the left bar, with Notebook access switched on); (3) the file ~/.kaggle/access_token (chmod 600). A legacy key "
    "works too: KAGGLE_USERNAME and KAGGLE_KEY as environment variables or as Colab secrets, or the kaggle.json of "
    '"Create Legacy API Key" saved as ~/.kaggle/kaggle.json. '
    "Never paste a token into a cell: executed notebooks get shared."
)


def credentials_file() -> Path:
    """Where kagglehub reads the legacy kaggle.json: $KAGGLE_CONFIG_DIR, else ~/.kaggle."""
    return Path(os.environ.get("KAGGLE_CONFIG_DIR", "~/.kaggle")).expanduser() / "kaggle.json"


def token_files() -> list[Path]:
    """Where kagglehub reads an API token from a file: ~/.kaggle/access_token (or access_token.txt)."""
    folder = Path.home() / ".kaggle"
    return [folder / "access_token", folder / "access_token.txt"]


@dataclass(frozen=True)
class _Found:
    """Where the credentials are (a description), and the Colab secrets kagglehub must be handed."""

    source: str
    secrets: dict[str, str] = field(default_factory=dict, repr=False)


def credentials_source() -> str | None:
    """Which place holds Kaggle credentials (a description, never the values), or None."""
    found = _lookup([])
    return found.source if found else None


def require_credentials(what: str) -> str:
    """Find the credentials and hand them to kagglehub; their source, or a KaggleError with the next step."""
    notes: list[str] = []
    found = _lookup(notes)
    if found is None:
        seen = f" What was found: {' '.join(notes)}" if notes else ""
        raise KaggleError(f"Downloading {what} needs Kaggle credentials, and none were found.{seen} {HOW_TO_PROVIDE} "
                          'Or use the embedded profile (PROFILE = "embedded"), which needs no download. '
                          + help_link("no-kaggle-credentials-found"))
    os.environ.update(found.secrets)  # kagglehub (and KerasHub through it) reads these first
    return found.source


def _lookup(notes: list[str]) -> _Found | None:
    """The first place that holds credentials, in the module docstring's order; `notes` gets what is amiss."""
    colab = in_colab()
    if os.environ.get(TOKEN):
        return _Found(f"the environment variable {TOKEN}")
    if colab and (token := _colab_secret(TOKEN, notes)):
        return _Found(f"the Colab secret {TOKEN}", {TOKEN: token})
    for path in token_files():
        if path.is_file():
            if _readable_text(path):
                return _Found(str(path))
            notes.append(f"{path} is empty.")
    username, key = os.environ.get(USERNAME), os.environ.get(KEY)
    if username and key:
        return _Found(f"the environment variables {USERNAME} and {KEY}")
    if username or key:
        notes.append(f"the environment variable {USERNAME if username else KEY} is set, but {KEY if username else USERNAME} is not.")
    if colab:
        username, key = _colab_secret(USERNAME, notes), _colab_secret(KEY, notes)  # each read on its own
        if username and key:
            return _Found(f"the Colab secrets {USERNAME} and {KEY}", {USERNAME: username, KEY: key})
        if username or key:
            notes.append(f"the Colab secret {USERNAME if username else KEY} is there, but {KEY if username else USERNAME} is not.")
    path = credentials_file()
    if path.exists():
        _check_kaggle_json(path)
        return _Found(str(path))
    if in_kaggle():
        return _Found("Kaggle Notebooks (kagglehub signs in by itself there)")
    return None


def _colab_secret(name: str, notes: list[str]) -> str | None:
    """One Colab secret's value, or None; why it could not be read goes into `notes` (never its value).

    google.colab.userdata.get raises SecretNotFoundError for a secret that does not exist,
    NotebookAccessError when it exists but this notebook was not given access, and TimeoutException
    when the notebook does not run in Colab's UI (an exported or scheduled run).
    """
    try:
        from google.colab import userdata  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        value = userdata.get(name)
    except Exception as err:  # noqa: BLE001 (each kind is told apart below; none may stop the lookup)
        if isinstance(err, getattr(userdata, "SecretNotFoundError", ())):
            return None
        if isinstance(err, getattr(userdata, "NotebookAccessError", ())):
            notes.append(f"the Colab secret {name} exists, but this notebook has no access to it: open the key icon "
                         "in the left bar and switch on its Notebook access, then run this cell again. "
                         + help_link("colab-secrets-need-notebook-access"))
        elif isinstance(err, getattr(userdata, "TimeoutException", ())):
            notes.append(f"reading the Colab secret {name} timed out: Colab secrets can only be read when the "
                         "notebook runs in Colab's own page.")
        else:
            notes.append(f"reading the Colab secret {name} failed ({type(err).__name__}).")
        return None
    value = str(value or "").strip()
    if not value:
        notes.append(f"the Colab secret {name} is empty.")
    return value or None


def _readable_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise KaggleError(f"{path} cannot be read. Save your API token from https://www.kaggle.com/settings/api in it "
                          f"again (chmod 600 {path}).") from None


def _check_kaggle_json(path: Path) -> None:
    """Raise a KaggleError naming `path` (never its content) unless it holds a username and a key."""
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError):
        raise KaggleError(f"{path} is not valid JSON. Create a new token at https://www.kaggle.com/settings/api and "
                          "use it instead (or download a fresh kaggle.json with Create Legacy API Key and replace the "
                          "file).") from None
    if not isinstance(content, dict) or not content.get("username") or not content.get("key"):
        raise KaggleError(f"{path} lacks a \"username\" or a \"key\". Create a new token at "
                          "https://www.kaggle.com/settings/api and use it instead (or download a fresh kaggle.json with "
                          "Create Legacy API Key and replace the file).")


def kaggle_download(download: Callable[[], str], *, what: str, page: str, consent: str,
                    size: int | None = None) -> Path:
    """Run a kagglehub download (e.g. `lambda: kagglehub.competition_download("dogs-vs-cats")`).

    `what` names the resource in messages, `page` is its Kaggle page, and `consent` says what must
    be accepted there ("the competition rules", "the model licence"), `size` its size in bytes if
    known. kagglehub's cache is $KAGGLEHUB_CACHE, else $DLWP_CACHE_DIR/kagglehub, else its own
    default. `size` is checked against the free space there before the download starts (kagglehub
would fill the disk first and fail at the end). Missing or rejected credentials, missing consent, an unknown resource and an
    unreachable network each become one KaggleError with the next step; a disk that is full or
    cannot be written, one WriteError. Secrets never appear in the message.
    """
    require_credentials(what)
    folder = kagglehub_cache()
    store.require_space(folder, size, what, kept="Nothing was downloaded.")
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
                           f"and replace the old one. {HOW_TO_PROVIDE} " + help_link("kaggle-rejects-your-credentials-401"))
    if status == 403:
        return KaggleError(f"Kaggle refused {what} (403 Forbidden): your account has not accepted {consent} yet. "
                           f"Open {page} while logged in, accept, then run this cell again. "
                           + help_link("kaggle-refuses-a-download-403"))
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
