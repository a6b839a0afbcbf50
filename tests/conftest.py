"""Shared fixtures of the unit tests."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # no screen here


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
