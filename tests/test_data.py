"""dlwp_utils.data: the MNIST loader (real path against a local server, embedded stand-in) and
the safe download / extraction helpers."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from dlwp_utils.data import mnist, store
from dlwp_utils.data.download import extract_zip, fetch_file
from dlwp_utils.data.store import MANIFEST, sha256_of
from dlwp_utils.errors import DataError, WriteError


def make_mnist_npz(path, n_train=30, n_test=10, dtype=np.uint8):
    """A small file laid out like the real mnist.npz (same keys, dtypes and per-sample shape)."""
    rng = np.random.default_rng(1)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (n_train, 28, 28)).astype(dtype),
        y_train=rng.integers(0, 10, n_train).astype(np.uint8),
        x_test=rng.integers(0, 256, (n_test, 28, 28)).astype(dtype),
        y_test=rng.integers(0, 10, n_test).astype(np.uint8),
    )
    return path


@pytest.fixture
def mnist_server(http_server, monkeypatch):
    """The real MNIST code path, pointed at a fixture served on 127.0.0.1."""
    base, root = http_server
    served = make_mnist_npz(root / "mnist.npz")
    monkeypatch.setattr(mnist, "MNIST_URL", f"{base}/mnist.npz")
    monkeypatch.setattr(mnist, "MNIST_SHA256", sha256_of(served))
    return served


# --- the embedded stand-in -------------------------------------------------------------------


def test_embedded_mnist_has_mnists_types_and_shapes(capsys):
    (x_train, y_train), (x_test, y_test) = mnist.load_mnist("embedded")
    for images, labels in ((x_train, y_train), (x_test, y_test)):
        assert images.dtype == np.uint8 and images.shape[1:] == (28, 28)
        assert labels.dtype == np.uint8 and labels.shape == (len(images),)
        assert set(labels.tolist()) == set(range(10))
    assert len(x_train) + len(x_test) == 1797 and len(x_test) == 359
    assert x_train.max() == 255 and x_train[:, :4].max() == 0  # ink in the 20x20 box only, like MNIST
    assert "MNIST: embedded stand-in" in capsys.readouterr().out


def test_embedded_split_is_the_same_every_time_and_disjoint():
    (a, _), (t, _) = mnist.embedded_mnist()
    (b, _), _ = mnist.embedded_mnist()
    assert np.array_equal(a, b)
    train_rows = {row.tobytes() for row in a}
    assert sum(row.tobytes() in train_rows for row in t) < 5  # a few digits are pixel-identical


# --- the real path, against a local server -------------------------------------------------------


def test_book_profile_downloads_checks_and_caches(mnist_server, cache, capsys):
    (x_train, y_train), (x_test, y_test) = mnist.load_mnist("book")
    assert x_train.shape == (30, 28, 28) and x_test.shape == (10, 28, 28) and y_train.dtype == np.uint8
    cached = cache / "datasets" / "mnist.npz"
    assert cached.is_file() and sha256_of(cached) == mnist.MNIST_SHA256
    assert "MNIST: 30 train / 10 test digits" in capsys.readouterr().out
    assert store.check(cached) is None and sorted(p.name for p in cached.parent.iterdir()) == [
        f".mnist.npz{MANIFEST}", "mnist.npz"], "temporary files left behind"


def test_a_cached_file_is_used_without_the_network(mnist_server, cache, monkeypatch, closed_port_url):
    mnist.load_mnist("book")
    monkeypatch.setattr(mnist, "MNIST_URL", f"{closed_port_url}/mnist.npz")
    (x_train, _), _ = mnist.load_mnist("book")
    assert len(x_train) == 30


def test_a_file_without_a_manifest_is_kept_only_if_it_matches_the_checksum(mnist_server, cache, capsys):
    cached = cache / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(mnist_server.read_bytes()[:1000])  # a download cut short by an older version
    (x_train, _), _ = mnist.load_mnist("book")
    assert len(x_train) == 30 and sha256_of(cached) == mnist.MNIST_SHA256
    assert "mnist.npz is incomplete (it has no manifest" in capsys.readouterr().out
    store.discard(cached)
    cached.write_bytes(mnist_server.read_bytes())  # what keras.datasets.mnist downloaded: sound, kept
    mnist_server.write_bytes(b"the server must not be asked again")
    (x_train, _), _ = mnist.load_mnist("book")
    assert len(x_train) == 30 and store.check(cached) is None and "incomplete" not in capsys.readouterr().out


def test_a_cached_file_damaged_after_its_download_is_fetched_again(mnist_server, cache, capsys):
    mnist.load_mnist("book")
    cached = cache / "datasets" / "mnist.npz"
    with open(cached, "r+b") as handle:  # same size, one byte changed
        handle.seek(100)
        handle.write(bytes([handle.read(1)[0] ^ 0xFF]))
    (x_train, _), _ = mnist.load_mnist("book")
    assert len(x_train) == 30 and sha256_of(cached) == mnist.MNIST_SHA256
    assert ("mnist.npz is damaged (mnist.npz does not match the SHA-256 checksum in its manifest): downloading "
            "it again.") in capsys.readouterr().out


def test_offline_book_profile_is_one_clear_error_and_leaves_nothing(cache, monkeypatch, closed_port_url):
    monkeypatch.setattr(mnist, "MNIST_URL", f"{closed_port_url}/mnist.npz")
    with pytest.raises(DataError) as err:
        mnist.load_mnist("book")
    message = str(err.value)
    assert "Could not download mnist.npz" in message and 'PROFILE = "embedded"' in message
    assert list((cache / "datasets").iterdir()) == []


def test_a_download_with_the_wrong_checksum_is_deleted(mnist_server, cache, monkeypatch):
    monkeypatch.setattr(mnist, "MNIST_SHA256", "0" * 64)
    with pytest.raises(DataError, match="is corrupt"):
        mnist.load_mnist("book")
    assert list((cache / "datasets").iterdir()) == []


def test_an_unreadable_npz_is_deleted_with_a_clear_error(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(DataError, match="not a readable MNIST file"):
        mnist.read_mnist_npz(bad)
    assert not bad.exists()


def test_an_npz_with_the_wrong_dtype_is_refused(tmp_path):
    path = make_mnist_npz(tmp_path / "mnist.npz", dtype=np.float32)
    with pytest.raises(DataError, match="expected uint8"):
        mnist.read_mnist_npz(path)


def test_labels_out_of_range_are_refused():
    with pytest.raises(DataError, match="labels run from 0 to 12"):
        mnist.validate_digits(np.zeros((2, 28, 28), np.uint8), np.array([0, 12], np.uint8), source="x")


# --- download and extraction helpers ---------------------------------------------------------


def test_fetch_file_without_a_checksum_still_never_leaves_a_partial_file(http_server, cache):
    base, root = http_server
    (root / "a.txt").write_text("hello")
    path = fetch_file("a.txt", f"{base}/a.txt")
    assert path.read_text() == "hello"
    assert sorted(p.name for p in path.parent.iterdir()) == [f".a.txt{MANIFEST}", "a.txt"]


def test_a_missing_file_is_not_reported_as_a_network_failure(http_server, cache, closed_port_url):
    base, root = http_server
    with pytest.raises(DataError) as err:
        fetch_file("gone.zip", f"{base}/gone.zip", what="the gone archive")
    message = str(err.value)
    assert message.startswith(f"Could not download the gone archive: the server answered that {base}/gone.zip "
                              "does not exist (HTTP 404). The network works;")
    assert "unreachable" not in message and not list(cache.rglob("gone.zip*"))
    with pytest.raises(DataError, match="The network or the server is unreachable"):
        fetch_file("a.txt", f"{closed_port_url}/a.txt")


def test_a_cache_that_cannot_be_created_names_the_folder_and_the_setting(tmp_path, monkeypatch, closed_port_url):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DLWP_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(WriteError) as err:
        fetch_file("a.txt", f"{closed_port_url}/a.txt")
    assert str(blocker / "cache" / "datasets") in str(err.value) and "DLWP_CACHE_DIR" in str(err.value)


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_extract_zip_writes_a_manifest_reuses_the_result_and_redoes_a_damaged_one(tmp_path, monkeypatch, capsys):
    archive = tmp_path / "data.zip"
    archive.write_bytes(_zip_bytes({"train/cat.0.txt": b"meow", "train/dog.0.txt": b"woof"}))
    out = extract_zip(archive, tmp_path / "data")
    assert (out / "train" / "cat.0.txt").read_bytes() == b"meow" and store.check(out) is None
    assert sorted(store.read_manifest(out)["files"]) == ["train/cat.0.txt", "train/dog.0.txt"]
    extract_all = zipfile.ZipFile.extractall
    monkeypatch.setattr(zipfile.ZipFile, "extractall", lambda *a: pytest.fail("a whole extraction was redone"))
    assert extract_zip(archive, out) == out
    (out / "train" / "cat.0.txt").write_bytes(b"changed")
    monkeypatch.setattr(zipfile.ZipFile, "extractall", extract_all)
    assert extract_zip(archive, out) == out and (out / "train" / "cat.0.txt").read_bytes() == b"meow"
    assert (f"{out} is damaged (train/cat.0.txt is 7 bytes; its manifest says 4): extracting it again."
            in capsys.readouterr().out)


def test_an_interrupted_extraction_is_rebuilt(tmp_path, capsys):
    archive = tmp_path / "data.zip"
    archive.write_bytes(_zip_bytes({"train/cat.0.txt": b"meow"}))
    half = tmp_path / "data" / "train"
    half.mkdir(parents=True)  # what a run killed mid-extraction leaves: files, no marker
    (half / "stale.txt").write_text("half")
    out = extract_zip(archive, tmp_path / "data")
    assert not (out / "train" / "stale.txt").exists() and (out / "train" / "cat.0.txt").exists()
    assert "incomplete" in capsys.readouterr().out


def test_an_extraction_finished_first_by_another_process_is_kept(tmp_path, monkeypatch):
    import subprocess
    import sys

    archive = tmp_path / "data.zip"
    archive.write_bytes(_zip_bytes({"train/cat.0.txt": b"meow"}))
    destination = tmp_path / "data"
    extract_all = zipfile.ZipFile.extractall

    def another_process_wins(self, path):  # while we extract, another process extracts the same archive
        extract_all(self, path)
        subprocess.run([sys.executable, "-c", "import sys; from dlwp_utils.data.download import extract_zip; "
                        "extract_zip(sys.argv[1], sys.argv[2])", str(archive), str(destination)], check=True)
        theirs.append(destination.stat().st_ino)

    theirs: list[int] = []
    monkeypatch.setattr(zipfile.ZipFile, "extractall", another_process_wins)
    assert extract_zip(archive, destination) == destination
    assert [destination.stat().st_ino] == theirs and store.check(destination) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "data.zip"]  # no staging folder left


def test_a_truncated_zip_is_deleted_and_nothing_is_extracted(tmp_path):
    archive = tmp_path / "data.zip"
    archive.write_bytes(_zip_bytes({"train/cat.0.txt": b"meow" * 1000})[:-40])
    with pytest.raises(DataError, match="truncated or corrupt"):
        extract_zip(archive, tmp_path / "data")
    assert not archive.exists() and not (tmp_path / "data").exists()
    assert [p.name for p in tmp_path.iterdir()] == []
