"""Every file or folder the project writes and later trusts, made one way and checked before each use.

    cache_dir(subdir)          where cached results go: $DLWP_CACHE_DIR, else $KERAS_HOME, else ~/.keras
    build(target, make, ...)   `target` (a file or a folder), reused if it matches its manifest, else
                               made by `make(path)` in a temporary sibling, sealed and renamed into place
    check(target, key)         why `target` cannot be trusted, in words, or None
    discard(target)            delete a result (and its manifest) that failed a content check
    write_text(path, text)     replace a small text file (a report, a table) in one rename

A build writes into `.NAME.partial-PID-XXXX/` beside the target; the manifest (each file's size,
plus its SHA-256 when the whole result is at most HASH_LIMIT) is written last; then one rename
puts the result in place. A folder carries its manifest inside (.dlwp-manifest.json); a file has
it beside (.NAME.dlwp-manifest.json), renamed in right after the file. A partial folder left by
a killed process is removed by the next build. Nothing without a matching manifest is trusted:
a missing, half-made or damaged result is announced in one line and made again.

Why hashes only up to HASH_LIMIT: every result the embedded profile makes, the downloaded
datasets and the 58 MB ImageNet weights are hashed (checking costs well under a second per use);
bigger results, such as the 25,000 extracted Kaggle photos (543 MB), are checked by the size of
every file, which catches truncation (what a killed run or a full disk leaves) for one stat per
file instead of reading half a gigabyte each time a cell runs.

A write that fails for want of space or quota, on a read-only filesystem or without permission
is one WriteError that names the folder, the space needed and free, and how to move the folder;
it never deletes anything sound.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from dlwp_utils.errors import WriteError

CACHE_ENV = "DLWP_CACHE_DIR"
MANIFEST = ".dlwp-manifest.json"
HASH_LIMIT = 128 * 2**20  # bytes: results up to this size are checked by SHA-256, bigger ones by sizes
PARTIAL = ".partial-"
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}
MOVE_CACHE = ("To move the cache (datasets, extractions, built models, pretrained weights and Kaggle "
              f"downloads), set {CACHE_ENV} to a folder on a disk with room that you can write to: "
              f"`export {CACHE_ENV}=/path/with/room/dlwp-cache` before starting Jupyter, or "
              f'`os.environ["{CACHE_ENV}"] = "/path/with/room/dlwp-cache"` in a cell before this one.')


def cache_dir(subdir: str = "datasets") -> Path:
    """The folder cached results go to: $DLWP_CACHE_DIR, else $KERAS_HOME, else ~/.keras, + `subdir`.

    Nothing is created here: a cache that is complete can be read even where it cannot be written.
    """
    root = os.environ.get(CACHE_ENV) or os.environ.get("KERAS_HOME") or "~/.keras"
    return Path(root).expanduser() / subdir


def ensure_writable(path: Path, *, what: str = "files", moved_by: str = MOVE_CACHE) -> Path:
    """Create the folder `path` if needed; a WriteError naming it (and `moved_by`) if it cannot be written."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-").close()
    except OSError as err:
        raise write_failed(err, path, what, moved_by=moved_by) from None
    return path


def build(target: Path, make: Callable[[Path], dict | None], *, what: str, key: Any = None,
          needs: int | None = None, adopt: Callable[[Path], bool] | None = None,
          redo: str = "making it again", moved_by: str = MOVE_CACHE) -> Path:
    """`target`, whole: reused if it matches its manifest (and `key`), else made afresh, atomically.

    `make(path)` creates `path` (a file or a folder that does not exist yet) and may return a
    dict, kept in the manifest as its "info" (see read_manifest). `what` names the result in
    messages; `key` (JSON) records what it was made from: a result made from another key is made
    again. `needs` (bytes, at least) is checked against the free space first. `adopt(target)`
    may accept a file found without a manifest (put there by Keras, or by an older version): it
    is then sealed rather than made again. `redo` ends the one line that announces a remake.
    """
    target = Path(target)
    key = _plain(key)
    problem = check(target, key)
    if problem is None:
        return target
    if problem != "missing":
        if adopt is not None and read_manifest(target) is None and target.is_file() and adopt(target):
            try:  # sound: sealed where it is (and still used if the folder cannot be written)
                _write_json(_manifest_path(target, is_dir=False), _manifest(target, key, None, what))
            except OSError:
                pass
            return target
        print(f"{target} is {problem}: {redo}.")
    failure: OSError | None = None
    staging: Path | None = None
    free = None
    try:
        ensure_writable(target.parent, what=what, moved_by=moved_by)
        if problem != "missing":
            discard(target)
        _remove_stale_partials(target)
        free = _free_space(target.parent)
        if needs is not None and free is not None and free < needs:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target.parent))
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{PARTIAL}{os.getpid()}-", dir=target.parent))
        staged = staging / target.name
        info = make(staged)
        if not staged.exists():
            raise RuntimeError(f"Making {what} left nothing at {staged}.")
        _publish(staged, target, _manifest(staged, key, info, what))
    except OSError as err:
        if not is_write_failure(err):
            raise
        failure = err
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    if failure is not None:
        raise write_failed(failure, target.parent, what, needs=needs, moved_by=moved_by) from None
    return target


def space_for(sizes: Iterable[int], folder: Path) -> int:
    """The disk space files of these sizes take in `folder`: each rounded up to the filesystem's block."""
    try:
        block = os.statvfs(_existing(folder)).f_frsize or 4096
    except OSError:
        block = 4096
    return sum(-(-size // block) * block for size in sizes)


def check(target: Path, key: Any = None) -> str | None:
    """None if `target` matches its manifest (and `key`, when given); else what is wrong, in words."""
    target = Path(target)
    if not target.exists():
        return "missing"
    manifest = read_manifest(target)
    if manifest is None or not isinstance(manifest.get("files"), dict):
        return "incomplete (it has no manifest: an earlier run was interrupted, or an older version made it)"
    if key is not None and manifest.get("key") != _plain(key):
        return "made from other settings"
    for name, (size, digest) in manifest["files"].items():
        path = target / name if name else target
        shown = name or target.name
        try:
            actual = path.stat().st_size
        except OSError:
            return f"damaged ({shown} is missing)"
        if actual != size:
            return f"damaged ({shown} is {actual:,} bytes; its manifest says {size:,})"
        if digest is not None and sha256_of(path) != digest:
            return f"damaged ({shown} does not match the SHA-256 checksum in its manifest)"
    return None


def read_manifest(target: Path) -> dict | None:
    """The manifest of `target` (its files, key and info), or None if it has none that can be read."""
    target = Path(target)
    try:
        manifest = json.loads(_manifest_path(target, is_dir=target.is_dir()).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def discard(target: Path) -> None:
    """Delete `target` (a file or a folder) and its manifest."""
    target = Path(target)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)
    _manifest_path(target, is_dir=False).unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_text(path: Path, text: str) -> None:
    """Replace the text file `path` atomically: written beside it, flushed, then renamed over it."""
    path = Path(path)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}{PARTIAL}",
                                     delete=False) as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, path)


def write_failed(err: OSError, folder: Path, what: str, *, needs: int | None = None,
                 moved_by: str = MOVE_CACHE, kept: str = "Nothing half-written was kept.") -> WriteError:
    """The one error for a write refused for want of space or quota, read-only, or without permission."""
    code = errno_of(err)
    folder = Path(folder).absolute()
    free = _free_space(folder)
    if code in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full" if code == errno.ENOSPC else "your disk quota is used up"
        if needs is not None:
            detail = f"it needs about {_human(needs)}, and {_human(free)} is free there" if free is not None else \
                f"it needs about {_human(needs)}"
        else:
            detail = f"it needs more than the {_human(free)} free there" if free is not None else ""
        step = "Free some space there, or move the folder elsewhere."
    elif code == errno.EROFS:
        why, detail, step = "it is on a read-only filesystem", "", "Use a folder you can write to."
    elif code in (errno.EACCES, errno.EPERM):
        why, detail, step = "you are not allowed to write there", "", "Use a folder you can write to."
    else:
        why, detail, step = "it cannot be created or written", "", "Use a folder you can write to."
    reason = os.strerror(code) if code else str(err)
    return WriteError(f"Could not write {what} in {folder}: {why} ({reason}{'; ' + detail if detail else ''}). "
                      f"{step} {moved_by} {kept}")


def require_space(folder: Path, needs: int | None, what: str, *, kept: str = "Nothing was written.") -> None:
    """A WriteError (store.write_failed's) unless `folder`'s filesystem has `needs` bytes free; None: no check."""
    free = _free_space(Path(folder))
    if needs is not None and free is not None and free < needs:
        raise write_failed(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder)), folder, what, needs=needs,
                           kept=kept)


def _publish(staged: Path, target: Path, manifest: dict) -> None:
    """Seal `staged` with its manifest and rename it to `target` (a copy finished first elsewhere is kept)."""
    if staged.is_dir():
        _write_json(staged / MANIFEST, manifest)
        try:
            os.replace(staged, target)
        except OSError as err:
            if err.errno not in (errno.ENOTEMPTY, errno.EEXIST) or check(target, manifest["key"]) is not None:
                raise
        return
    sealed = staged.parent / MANIFEST
    _write_json(sealed, manifest)
    if check(target, manifest["key"]) is None:
        return  # another process (a notebook started beside this one) finished it first: a reader may be using it
    os.replace(staged, target)
    os.replace(sealed, _manifest_path(target, is_dir=False))


def _manifest(path: Path, key: Any, info: dict | None, what: str) -> dict:
    """Each file's size, and its SHA-256 if the whole result is at most HASH_LIMIT bytes."""
    if path.is_dir():
        files = {p.relative_to(path).as_posix(): p for p in sorted(path.rglob("*")) if p.is_file() and p.name != MANIFEST}
    else:
        files = {"": path}
    sizes = {name: p.stat().st_size for name, p in files.items()}
    hashed = sum(sizes.values()) <= HASH_LIMIT
    return {"what": what, "key": key, "made": time.strftime("%Y-%m-%d %H:%M:%S"), "info": _plain(info),
            "files": {name: [sizes[name], sha256_of(p) if hashed else None] for name, p in files.items()}}


def _manifest_path(target: Path, *, is_dir: bool) -> Path:
    return target / MANIFEST if is_dir else target.parent / f".{target.name}{MANIFEST}"


def _write_json(path: Path, content: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())


def _remove_stale_partials(target: Path) -> None:
    """Delete the partial folders of `target` whose process is gone (killed midway)."""
    for partial in target.parent.glob(f".{target.name}{PARTIAL}*"):
        pid = partial.name.removeprefix(f".{target.name}{PARTIAL}").split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(partial, ignore_errors=True)
            print(f"{target} was being made by a run that was interrupted: its half-made copy was deleted; "
                  "making it again.")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def is_write_failure(err: BaseException) -> bool:
    """True if `err` (or what it was raised from) is a write refused: no space or quota, read-only, no permission."""
    return errno_of(err) in WRITE_ERRNOS


def errno_of(err: BaseException) -> int | None:
    """The errno of an OSError, or of the first OSError it was raised from."""
    chain: BaseException | None = err
    while chain is not None:
        if isinstance(chain, OSError) and chain.errno:
            return chain.errno
        chain = chain.__cause__ or chain.__context__
    return None


def _free_space(folder: Path) -> int | None:
    """Free bytes on the filesystem of `folder` (or of its nearest existing parent), if known."""
    try:
        return shutil.disk_usage(_existing(folder)).free
    except OSError:
        return None


def _existing(folder: Path) -> Path:
    """`folder`, or its nearest parent that exists."""
    folder = Path(folder).absolute()
    return next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))


def _human(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


def _plain(value: Any) -> Any:
    """`value` as it reads back from JSON (tuples become lists), so keys compare equal."""
    return json.loads(json.dumps(value)) if value is not None else None
