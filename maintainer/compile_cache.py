"""JAX's persistent compilation cache for make run, make test and make bench, kept under build/compile-cache.

A notebook on JAX compiles every training, evaluation and prediction step it runs (VGG16's take
seconds each on a CPU); with the cache a second `make test` or `make run` loads them from disk
instead (chapter 8 on JAX, alone on 2 cores: 513 s cold, 391 s warm; two notebooks at a time in
`make test`, the gain was within the noise). It changed no result (make test's 18 notebook runs,
cold and warm, recorded the baseline's metrics exactly). JAX keys each entry by the program, the
compile options, the jax and jaxlib versions and the device, so the three dependency sets and a
new release share the folder safely. A fresh clone (`.ci/run`) starts cold; the workflow's JAX
shards keep theirs with actions/cache. `make clean` removes it with the rest of build/.

JAX writes an entry in place, so a kernel killed while writing one (a job's timeout) would leave
a truncated file that every later run warns about: `prune()` removes entries that do not
decompress, before the notebooks start.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from maintainer import layout

JAX_CACHE = layout.COMPILE_CACHE / "jax"
# Compilations shorter than this are not worth a file (JAX's default, 1 s, would leave out most
# of the small models' training steps, 0.2-0.5 s each here).
MIN_COMPILE_SECONDS = 0.2


def environment(folder: Path = JAX_CACHE) -> dict[str, str]:
    """The environment variables that give a kernel JAX's persistent compilation cache in `folder`."""
    return {"JAX_COMPILATION_CACHE_DIR": str(folder),
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": str(MIN_COMPILE_SECONDS)}


def prune(folder: Path = JAX_CACHE) -> list[Path]:
    """Remove the entries of `folder` that do not decompress (half-written), saying so; the removed paths.

    Where this jax has no way to check an entry, the whole folder goes: a cache costs only time.
    """
    entries = sorted(folder.glob("*-cache")) if folder.is_dir() else []
    if not entries:
        return []
    try:
        from jax._src.compilation_cache import decompress_executable  # the reader JAX itself uses
    except ImportError:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"Emptied JAX's compilation cache ({layout.relative(folder)}): this jax has no reader to check "
              "its entries with; JAX compiles its programs again.", flush=True)
        return entries
    removed = []
    for entry in entries:
        try:
            decompress_executable(entry.read_bytes())
        except Exception:  # noqa: BLE001  (zstd's and zlib's errors differ; any failure means unusable)
            entry.unlink(missing_ok=True)
            entry.with_name(entry.name[: -len("-cache")] + "-atime").unlink(missing_ok=True)
            removed.append(entry)
    if removed:
        print(f"Removed {len(removed)} unreadable entries of JAX's compilation cache ({layout.relative(folder)}), "
              "left by a run stopped while writing them; JAX compiles those programs again.", flush=True)
    return removed
