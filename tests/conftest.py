"""Shared fixtures of the unit tests."""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # no screen here
_RUN = subprocess.run  # as it is now: some tests replace subprocess.run (see tests/test_tiny_gemma.fake_build)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty download cache (DLWP_CACHE_DIR) for one test."""
    path = tmp_path / "cache"
    monkeypatch.setenv("DLWP_CACHE_DIR", str(path))
    return path


@pytest.fixture(autouse=True)
def _no_profile_from_outside(monkeypatch):
    """Unit tests choose their profile explicitly."""
    monkeypatch.delenv("DLWP_PROFILE", raising=False)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_server(tmp_path):
    """A static file server on 127.0.0.1 serving tmp_path/www; yields (base_url, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Path(root)
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: downloads fail at once, like an offline machine."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def small_preset(tmp_path_factory):
    """A tiny Gemma preset built in this process: the same code as the cached one, trained for 2 steps."""
    from dlwp_utils.data.tiny_gemma import build_tiny_gemma

    destination = tmp_path_factory.mktemp("presets") / "small"
    info = build_tiny_gemma(destination, {"documents": 64, "epochs_per_round": 1, "max_epochs": 1, "batch_size": 32,
                                          "sequence_length": 24})
    return destination, info


REQUIRE_TMPFS = "DLWP_REQUIRE_TMPFS"  # set: a Disk that cannot mount its tmpfs fails instead of injecting a quota


class Disk:
    """A folder on a filesystem of `size` bytes that fills up for real: a tmpfs mounted there (as root).

    Without root (no mount), Python-level writes under the folder fail with an injected
    OSError(ENOSPC) once `size` bytes were written there, and read_only() takes the write
    permission away (EACCES instead of EROFS). `.ci/run` runs as root, and the workflow's unit job
    runs tests/test_faults.py again as root with DLWP_REQUIRE_TMPFS=1: the tmpfs is what runs there.
    """

    def __init__(self, path: Path, size: int, monkeypatch) -> None:
        import os

        self.path, self.mounted, self.written, self.limit = path, os.geteuid() == 0, 0, size
        if not self.mounted and os.environ.get(REQUIRE_TMPFS):
            pytest.fail(f"{REQUIRE_TMPFS} is set, so this test must fill a real tmpfs, which only root can mount: run it "
                        f"as root (the workflow's unit job: sudo -E), or unset {REQUIRE_TMPFS} for the injected quota.")
        path.mkdir(parents=True)
        if self.mounted:
            _mount(["-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)])
        else:
            _inject_quota(self, monkeypatch)

    def free(self) -> int:
        import shutil

        return shutil.disk_usage(self.path).free if self.mounted else self.limit - self.written

    def leave_free(self, size: int) -> Disk:
        """Shrink the filesystem so that about `size` bytes stay free (as if something else filled it)."""
        import shutil

        if self.mounted:
            _mount(["-o", f"remount,size={shutil.disk_usage(self.path).used + size}", str(self.path)])
        else:
            self.limit = self.written + size
        return self

    def read_only(self) -> Disk:
        """Make the whole filesystem read-only (EROFS as root; EACCES by permissions otherwise)."""
        import os

        if self.mounted:
            _mount(["-o", "remount,ro", str(self.path)])
        else:
            for folder, _, _ in os.walk(self.path):
                os.chmod(folder, 0o555)
        return self

    def close(self) -> None:
        import os

        if self.mounted:
            _RUN(["umount", "-l", str(self.path)], check=False)
        else:
            for folder, _, _ in os.walk(self.path):
                os.chmod(folder, 0o755)


def _mount(args: list[str]) -> None:
    _RUN(["mount", *args], check=True, capture_output=True, text=True)


def _inject_quota(disk: Disk, monkeypatch) -> None:
    """Python-level writes under disk.path fail with ENOSPC past disk.limit bytes written there."""
    import builtins
    import errno
    import io
    import os
    import shutil

    real_open = io.open

    class Quota:
        def __init__(self, handle):
            self._handle = handle

        def write(self, data):
            if disk.written + len(data) > disk.limit:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            disk.written += len(data)
            return self._handle.write(data)

        def __getattr__(self, name):
            return getattr(self._handle, name)

        def __iter__(self):
            return iter(self._handle)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._handle.close()

    def quota_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        inside = isinstance(file, (str, os.PathLike)) and Path(os.path.abspath(file)).is_relative_to(disk.path)
        return Quota(handle) if inside and any(m in mode for m in "wax+") else handle

    monkeypatch.setattr(builtins, "open", quota_open)
    monkeypatch.setattr(io, "open", quota_open)
    monkeypatch.setattr(shutil, "_USE_CP_SENDFILE", False)


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """small_disk(bytes) -> Disk: a folder on a filesystem of that size (see Disk), unmounted afterwards."""
    disks: list[Disk] = []

    def make(size: int, name: str = "disk") -> Disk:
        disks.append(Disk(tmp_path / f"{name}-{len(disks)}", size, monkeypatch))
        return disks[-1]

    yield make
    for disk in reversed(disks):
        disk.close()
