"""Fetching and unpacking files safely: a cache, checksums, and no half-written file ever trusted."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from dlwp_utils.errors import DataError

if TYPE_CHECKING:
    import numpy as np

CACHE_ENV = "DLWP_CACHE_DIR"
COMPLETE_MARKER = ".complete"


def cache_dir(subdir: str = "datasets") -> Path:
    """The writable folder downloads go to: $DLWP_CACHE_DIR, else $KERAS_HOME, else ~/.keras."""
    root = os.environ.get(CACHE_ENV) or os.environ.get("KERAS_HOME") or "~/.keras"
    path = Path(root).expanduser() / subdir
    return ensure_writable(path, setting=CACHE_ENV)


def ensure_writable(path: Path, *, setting: str) -> Path:
    """Create `path` if needed; raise a DataError naming it and `setting` if it cannot be written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-")
        probe.close()
    except OSError as err:
        raise DataError(
            f"Cannot write to the folder {path} ({err.strerror or err}). Point {setting} at a folder "
            f"you can write to, e.g. `export {setting}=$HOME/dlwp-cache`, or in the notebook "
            f'`os.environ["{setting}"] = "/tmp/dlwp-cache"` before this cell.'
        ) from None
    return path


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_file(fname: str, origin: str, *, sha256: str | None = None, subdir: str = "datasets") -> Path:
    """Download `origin` into the cache as `fname` with keras.utils.get_file, atomically.

    A cached file is reused when its checksum matches (or when none is known). The download
    goes to a temporary folder first and is moved into place only when complete and verified,
    so an interrupted run never leaves a file that the next run would trust.
    """
    target = cache_dir(subdir) / fname
    if target.exists():
        if sha256 is None or sha256_of(target) == sha256:
            return target
        print(f"The cached {target} is incomplete or corrupt (checksum mismatch): fetching it again.")
        target.unlink()

    import keras

    partial = Path(tempfile.mkdtemp(prefix=f".{fname}.partial-", dir=target.parent))
    try:
        try:
            keras.utils.get_file(fname, origin=origin, cache_dir=str(partial), cache_subdir=".")
        except Exception as err:  # get_file wraps every URL error in a bare Exception
            raise download_failed(fname, origin, err) from None
        downloaded = partial / fname
        if sha256 is not None and sha256_of(downloaded) != sha256:
            raise DataError(
                f"The download of {fname} from {origin} is corrupt (its SHA-256 checksum does not "
                f"match {sha256}). It was deleted; run this cell again. If it keeps failing, the file "
                "on the server has changed: please report it."
            )
        os.replace(downloaded, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def download_failed(what: str, origin: str, err: Exception) -> DataError:
    """The one error a learner sees when `origin` cannot be reached, with the two ways forward."""
    reason = (str(err).strip() or type(err).__name__).split(" -- ")[-1]  # get_file's most specific part
    return DataError(
        f"Could not download {what} from {origin}: {reason}. The network or the server is "
        "unreachable. Connect to the network and run this cell again, or use the embedded profile "
        '(PROFILE = "embedded"), which needs no download.'
    )


def read_npz(path: Path, keys: tuple[str, ...], *, what: str) -> dict[str, np.ndarray]:
    """The arrays `keys` of an .npz file; a file that cannot be read is deleted with one clear error."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in keys}
    except (OSError, ValueError, KeyError, EOFError) as err:
        Path(path).unlink(missing_ok=True)
        raise DataError(
            f"{path} is not a readable {what} file ({type(err).__name__}: {err}). It was deleted; "
            "run this cell again to download it afresh."
        ) from None


def build_once(destination: Path, build: Callable[[Path], None], *, rebuild: bool = False) -> Path:
    """`destination`, complete: reused if a run finished it, else made by `build(folder)` atomically.

    `build` fills a folder that does not exist yet, inside a temporary sibling; a completion
    marker is written last and the folder is renamed into place, so an interrupted run never
    leaves a folder the next run would trust. A destination without the marker is announced
    and rebuilt; a copy that another process (another backend's run) completed first is kept.
    """
    destination = Path(destination)
    if (destination / COMPLETE_MARKER).exists() and not rebuild:
        return destination
    if destination.exists():
        if not rebuild:
            print(f"{destination} is incomplete (an earlier run was interrupted): rebuilding it.")
        shutil.rmtree(destination)
    ensure_writable(destination.parent, setting=CACHE_ENV)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        built = staging / destination.name
        build(built)
        (built / COMPLETE_MARKER).write_text("complete\n")
        try:
            os.replace(built, destination)
        except OSError:  # another process finished first: keep its copy
            if not (destination / COMPLETE_MARKER).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def extract_zip(archive: Path, destination: Path) -> Path:
    """Unpack `archive` into `destination` once (see build_once); a corrupt archive is deleted with a clear error."""

    def unpack(folder: Path) -> None:
        try:
            with zipfile.ZipFile(archive) as zipped:
                broken = zipped.testzip()
                if broken is not None:
                    raise zipfile.BadZipFile(f"member {broken} fails its CRC check")
                zipped.extractall(folder)
        except (zipfile.BadZipFile, EOFError, OSError) as err:
            Path(archive).unlink(missing_ok=True)
            raise DataError(
                f"The archive {archive} is truncated or corrupt ({err}). It was deleted; run this "
                "cell again to fetch a fresh copy."
            ) from None

    return build_once(destination, unpack)
