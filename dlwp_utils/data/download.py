"""Downloads with checksums and zip extraction, each made and checked through dlwp_utils.data.store."""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from dlwp_utils.data import mirror as mirrors
from dlwp_utils.data import store
from dlwp_utils.data.store import cache_dir
from dlwp_utils.errors import DataError, WriteError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["cache_dir", "download_failed", "extract_zip", "fetch_file", "read_npz"]


def fetch_file(fname: str, origin: str, *, file_hash: str | None = None, size: int | None = None,
               subdir: str = "datasets", what: str | None = None) -> Path:
    """`origin` downloaded (keras.utils.get_file) into the cache as `subdir/fname`, once.

    `file_hash` is the published SHA-256 or MD5 (as keras.utils.get_file takes it); a download
    that does not match is deleted with one clear error. `size` (bytes, at least) is checked
    against the free space first. The file is built with store.build: a cached copy is used
    while it matches its manifest, and a file Keras itself downloaded there is kept if it
    matches `file_hash`. With $DLWP_MIRROR set, the file comes from the mirror instead of `origin`
    (dlwp_utils.data.mirror), and `file_hash` is still checked.
    """
    what = what or fname
    source = mirrors.active_mirror()

    def download(path: Path) -> None:
        import keras

        if source is not None:
            source.copy(mirrors.http_relative(origin), path, what)
            check_published(path, source.where(mirrors.http_relative(origin)))
            return
        try:
            keras.utils.get_file(fname, origin=origin, cache_dir=str(path.parent), cache_subdir=".")
        except OSError as err:
            if store.is_write_failure(err):
                raise  # the disk, not the network: store.build explains it
            raise download_failed(what, origin, err) from None
        except Exception as err:  # get_file wraps every URL error in a bare Exception
            raise download_failed(what, origin, err) from None
        check_published(path, origin)

    def check_published(path: Path, came_from: str) -> None:
        if file_hash is not None and not matches(path, file_hash):
            raise DataError(
                f"The download of {what} from {came_from} is corrupt (its {_algorithm(file_hash)} checksum does "
                f"not match the published {file_hash}). It was deleted; run this cell again. If it keeps failing, "
                "the file on the server has changed: please report it."
            )

    adopt = (lambda path: matches(path, file_hash)) if file_hash else None
    return store.build(cache_dir(subdir) / fname, download, what=what, needs=size, adopt=adopt,
                       redo="downloading it again")


def matches(path: Path, file_hash: str) -> bool:
    """True if the file's SHA-256 (64 hex digits) or MD5 (32) is `file_hash`."""
    if len(file_hash) == 64:
        return store.sha256_of(path) == file_hash
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == file_hash


def _algorithm(file_hash: str) -> str:
    return "SHA-256" if len(file_hash) == 64 else "MD5"


def download_failed(what: str, origin: str, err: Exception) -> DataError:
    """The one error a learner sees when `origin` cannot be downloaded: a missing file (an HTTP status
    from the server) and an unreachable network are told apart, each with its way forward."""
    reason = (str(err).strip() or type(err).__name__).split(" -- ")[-1]  # get_file's most specific part
    status = getattr(err.__cause__ or err.__context__, "code", None)  # get_file raises from urllib's HTTPError
    if isinstance(status, int) and status == 404:
        return DataError(
            f"Could not download {what}: the server answered that {origin} does not exist (HTTP 404). The "
            "network works; the file was moved or removed. Update the helper (the notebook's setup cell, or "
            "`git pull` in a clone) and run this cell again; if it still fails, please report it. The embedded "
            'profile (PROFILE = "embedded") needs no download.'
        )
    if isinstance(status, int) and status >= 400:
        return DataError(
            f"Could not download {what} from {origin}: the server refused it (HTTP {status}: {reason}). The "
            "network works; run this cell again later, or use the embedded profile (PROFILE = \"embedded\"), "
            "which needs no download."
        )
    return DataError(
        f"Could not download {what} from {origin}: {reason}. The network or the server is "
        "unreachable. Connect to the network and run this cell again, or use the embedded profile "
        '(PROFILE = "embedded"), which needs no download.'
    )


def read_npz(path: Path, keys: tuple[str, ...], *, what: str) -> dict[str, np.ndarray]:
    """The arrays `keys` of an .npz file; a file that cannot be read as one is deleted with one clear error."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in keys}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        if isinstance(err, PermissionError):
            raise DataError(f"Cannot read {path} (permission denied). Fix its permissions.") from None
        store.discard(path)
        raise DataError(
            f"{path} is not a readable {what} file (reading it as .npz failed: {type(err).__name__}: {err}). "
            "It was deleted; run this cell again to download it afresh."
        ) from None


def extract_zip(archive: Path, destination: Path) -> Path:
    """Unpack `archive` into the folder `destination` once, with store.build.

    Before extracting, the archive's integrity is checked (its directory, and every member's
    CRC-32): only an archive that fails that check is deleted, and the error says so. A disk
    that fills up while extracting is a WriteError, and the archive is kept.
    """
    archive, destination = Path(archive), Path(destination)
    stat = archive.stat()
    key = {"archive": archive.name, "bytes": stat.st_size, "modified_ns": stat.st_mtime_ns}
    if store.check(destination, key) is None:
        return destination
    needs = store.space_for((member.file_size for member in sound_members(archive)), destination.parent)

    def unpack(folder: Path) -> None:
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(folder)

    try:
        return store.build(destination, unpack, what=f"the files of {archive.name}", key=key, needs=needs,
                           redo="extracting it again")
    except WriteError as err:
        raise WriteError(f"{err} The archive {archive} passed its check (every member's CRC-32) and was kept.") from None


def sound_members(archive: Path) -> list[zipfile.ZipInfo]:
    """The members of a zip archive that passes its check; a DataError (the archive deleted) if it fails."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            broken = zipped.testzip()
            members = zipped.infolist()
    except (zipfile.BadZipFile, EOFError, zlib.error) as err:
        failed = f"it is not a complete zip archive ({err})"
    except OSError as err:
        raise DataError(f"Cannot read the archive {archive} ({err.strerror or err}). It was kept; fix the "
                        "cause and run this cell again.") from None
    else:
        if broken is None:
            return members
        failed = f"its member {broken} fails its CRC-32 check"
    store.discard(archive)
    raise DataError(f"The archive {archive} is truncated or corrupt: {failed}. It was deleted; run this cell "
                    "again to get a fresh copy.")
