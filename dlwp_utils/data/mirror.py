"""DLWP_MIRROR: every real source served from one folder or web server instead of the internet.

Set `DLWP_MIRROR` to a folder, or to the http(s) URL of a server that serves one, and the book
profile takes every download from it: the HTTP files, the Kaggle competition's train.zip and the
Gemma preset, with no Kaggle credentials needed. The folder is made on a connected machine by

    python -m dlwp_utils.data.mirror fetch DIR          (dlwp_utils.data.mirror_fetch)

and laid out like the sources themselves:

    DIR/index.json                                          every file's size and SHA-256
    DIR/<host>/<path>                                       an HTTP file, e.g. DIR/storage.googleapis.com/
                                                            tensorflow/tf-keras-datasets/mnist.npz
    DIR/kaggle/competitions/<competition>/<file>            a Kaggle competition's file
    DIR/kaggle/models/<owner>/<model>/<framework>/<variation>/<version>/<file>   a Kaggle model (a preset)

Each file is checked against the index's SHA-256 when it is copied or downloaded from the mirror,
and a published checksum (MNIST's, the ImageNet weights', dolly's) is still checked after that.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from dlwp_utils.data import store
from dlwp_utils.errors import DataError

MIRROR_ENV = "DLWP_MIRROR"
INDEX = "index.json"
FETCH_COMMAND = "python -m dlwp_utils.data.mirror fetch"


@dataclass
class Mirror:
    """A mirror: a folder, or the http(s) URL of a server that serves one."""

    location: str
    _index: dict[str, dict] | None = field(default=None, repr=False)

    @property
    def is_url(self) -> bool:
        """True for a mirror served over http(s)."""
        return self.location.startswith(("http://", "https://"))

    def where(self, relative: str) -> str:
        """The URL or path of one file of the mirror."""
        if self.is_url:
            return self.location.rstrip("/") + "/" + urllib.parse.quote(relative)
        return str(Path(self.location) / relative)

    def index(self) -> dict[str, dict]:
        """The mirror's files: relative path -> {"bytes", "sha256"}, read once from its index.json."""
        if self._index is None:
            try:
                if self.is_url:
                    with urllib.request.urlopen(self.where(INDEX), timeout=30) as answer:
                        text = answer.read().decode("utf-8")
                else:
                    text = Path(self.where(INDEX)).read_text(encoding="utf-8")
                files = json.loads(text)["files"]
                if not isinstance(files, dict):
                    raise ValueError("'files' is not a mapping")
            except (OSError, urllib.error.URLError, ValueError, KeyError, TypeError) as err:
                raise DataError(
                    f"The mirror {self.location} ({MIRROR_ENV}) has no readable {INDEX} ({error_reason(err)}). "
                    f"Make the mirror with `{FETCH_COMMAND} DIR` on a connected machine and point {MIRROR_ENV} "
                    f"at DIR (or at a server that serves it), or unset {MIRROR_ENV} to download from the internet."
                ) from None
            self._index = files
        return self._index

    def entry(self, relative: str, what: str) -> dict:
        """The index entry of one file; a DataError naming it if the mirror does not hold it."""
        found = self.index().get(relative)
        if found is None:
            raise DataError(
                f"The mirror {self.location} ({MIRROR_ENV}) does not hold {what} ({relative}). Add it on a "
                f"connected machine with `{FETCH_COMMAND} DIR` into the mirror's folder, or unset {MIRROR_ENV} to "
                "download it from the internet."
            )
        return found

    def files_under(self, prefix: str) -> dict[str, dict]:
        """The index entries of every file under the folder `prefix`."""
        prefix = prefix.rstrip("/") + "/"
        return {name: entry for name, entry in self.index().items() if name.startswith(prefix)}

    def copy(self, relative: str, path: Path, what: str) -> None:
        """Copy (a folder mirror) or download (a URL mirror) one file to `path`, and check it against the index."""
        entry = self.entry(relative, what)
        source = self.where(relative)
        try:
            reader = urllib.request.urlopen(source, timeout=60) if self.is_url else open(source, "rb")
        except (OSError, urllib.error.URLError) as err:
            raise DataError(f"Could not read {what} from the mirror ({source}): {error_reason(err)}. Check that the "
                            f"mirror is reachable and complete, or unset {MIRROR_ENV}.") from None
        with reader, open(path, "wb") as out:
            try:
                shutil.copyfileobj(reader, out, 1 << 20)
            except OSError as err:
                if store.is_write_failure(err):
                    raise  # the disk, not the mirror: store.build explains it
                raise DataError(f"Copying {what} from the mirror ({source}) broke off: {error_reason(err)}. Run this "
                                "cell again.") from None
        if path.stat().st_size != entry.get("bytes") or store.sha256_of(path) != entry.get("sha256"):
            raise DataError(f"{what} from the mirror ({source}) does not match the mirror's {INDEX} (its size or "
                            f"SHA-256 differs). The copy was deleted. Fetch it again into the mirror with "
                            f"`{FETCH_COMMAND} DIR`, then run this cell again.")


def active_mirror() -> Mirror | None:
    """The mirror $DLWP_MIRROR names, or None when it is unset; a DataError if it names neither folder nor URL."""
    location = os.environ.get(MIRROR_ENV, "").strip()
    if not location:
        return None
    if location.startswith(("http://", "https://")):
        return Mirror(location)
    folder = Path(location).expanduser()
    if not folder.is_dir():
        raise DataError(f"{MIRROR_ENV} is {location!r}, which is neither a folder on this machine nor an http(s) "
                        f"URL. Point it at the folder `{FETCH_COMMAND} DIR` made (or at a server serving it), "
                        f"or unset it to download from the internet.")
    return Mirror(str(folder.resolve()))


def http_relative(origin: str) -> str:
    """Where the mirror keeps an HTTP file: <host>/<path> of its URL."""
    parts = urllib.parse.urlsplit(origin)
    return f"{parts.netloc}{urllib.parse.unquote(parts.path)}".rstrip("/")


def competition_relative(competition: str, file: str) -> str:
    """Where the mirror keeps a file of a Kaggle competition."""
    return f"kaggle/competitions/{competition}/{file}"


def model_relative(handle: str) -> str:
    """Where the mirror keeps a Kaggle model (owner/model/framework/variation/version)."""
    return f"kaggle/models/{handle.strip('/')}"


def model_version(mirror: Mirror, handle: str) -> str:
    """`handle` with its version: as given, or the highest version the mirror holds."""
    if len(handle.strip("/").split("/")) == 5:
        return handle.strip("/")
    prefix = model_relative(handle) + "/"
    versions = {name[len(prefix):].split("/")[0] for name in mirror.files_under(prefix)}
    numbered = sorted((int(v) for v in versions if v.isdigit()), reverse=True)
    if not numbered:
        raise DataError(f"The mirror {mirror.location} ({MIRROR_ENV}) holds no version of the Kaggle model "
                        f"{handle}. Add it with `{FETCH_COMMAND} DIR` on a connected machine, or unset {MIRROR_ENV}.")
    return f"{handle.strip('/')}/{numbered[0]}"


def fetch_into_cache(mirror: Mirror, relative: str, target: Path, what: str) -> Path:
    """One file of the mirror, copied into the cache at `target` once (store.build, checked on every use)."""
    needs = mirror.entry(relative, what).get("bytes")
    return store.build(target, lambda path: mirror.copy(relative, path, what), what=what, needs=needs,
                       redo="copying it from the mirror again")


def fetch_folder_into_cache(mirror: Mirror, prefix: str, target: Path, what: str) -> Path:
    """Every file under `prefix` in the mirror, copied into the cache folder `target` once (store.build)."""
    files = mirror.files_under(prefix)
    if not files:
        mirror.entry(prefix + "/", what)  # raises: the mirror does not hold it

    def copy_all(folder: Path) -> None:
        for name in sorted(files):
            destination = folder / name[len(prefix) + 1:]
            destination.parent.mkdir(parents=True, exist_ok=True)
            mirror.copy(name, destination, what)

    key = {name: entry.get("sha256") for name, entry in files.items()}
    return store.build(target, copy_all, what=what, key=key, needs=sum(e.get("bytes", 0) for e in files.values()),
                       redo="copying it from the mirror again")


def error_reason(err: BaseException) -> str:
    """An error in a few words: its type and its reason."""
    reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or err
    return f"{type(err).__name__}: {reason}"


def main(argv: list[str] | None = None) -> int:
    """`python -m dlwp_utils.data.mirror fetch DIR ...`: see dlwp_utils.data.mirror_fetch."""
    from dlwp_utils.data import mirror_fetch

    return mirror_fetch.main(argv)


if __name__ == "__main__":
    sys.exit(main())
