"""Faults at every write site (dlwp_utils.data.store and each loader that writes through it): a disk
too small at each step, a process killed midway through each build, a result damaged after its
build, a read-only cache, an unwritable working directory. In every case nothing half-made is
trusted and nothing sound is deleted.

The write sites: store.build itself; download.fetch_file (MNIST, Boston housing, spa-eng.zip,
dolly, the ImageNet weights); download.extract_zip (the embedded and the Kaggle train.zip,
spa-eng.zip); cats_vs_dogs.embedded_train_zip; cats_vs_dogs.make_subsets (in the working
directory); spa_eng.write_embedded_corpus; and kagglehub's downloads (kaggle.kaggle_download, into
$DLWP_CACHE_DIR/kagglehub). The tiny Gemma is committed (tests/test_tiny_gemma.py checks its files).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dlwp_utils.data import cats_vs_dogs, mnist, pretrained, spa_eng, store, tiny_gemma
from dlwp_utils.data.download import extract_zip
from dlwp_utils.errors import WriteError
from tests.test_cats_vs_dogs import SPLITS, jpeg, kaggle, kagglehub_cached_zip, kagglehub_marker, train_zip_bytes  # noqa: F401
from tests.test_data import make_mnist_npz

PER_CLASS = 12  # the embedded look-alike, small: 58 KB zipped
RUN = subprocess.run  # as it is now, should a test replace it


@pytest.fixture
def small_embedded(monkeypatch):
    monkeypatch.setattr(cats_vs_dogs, "EMBEDDED_PER_CLASS", PER_CLASS)


def on_disk(monkeypatch, disk) -> Path:
    """DLWP_CACHE_DIR on `disk`; the cache folder."""
    cache = disk.path / "cache"
    monkeypatch.setenv("DLWP_CACHE_DIR", str(cache))
    return cache


def partials(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).rglob("*") if store.PARTIAL in p.name)


def assert_clear_write_error(err: WriteError, folder: Path, *, why: str = "the disk is full") -> str:
    message = str(err)
    assert f"in {folder}: {why}" in message, message
    assert "DLWP_CACHE_DIR" in message and "Nothing half-written was kept." in message
    if why == "the disk is full":
        assert " free there" in message and ("it needs about" in message or "it needs more than the" in message)
    return message


# --- store.build: each step of a build ------------------------------------------------------------


def write_until_full(path: Path) -> None:
    with open(path, "wb") as handle:
        while True:
            handle.write(b"x" * 4096)
            handle.flush()


def test_a_disk_full_while_making_keeps_nothing_and_says_how_much_is_free(small_disk):
    disk = small_disk(64 * 1024)
    with pytest.raises(WriteError) as err:
        store.build(disk.path / "result.bin", write_until_full, what="a test file")
    message = assert_clear_write_error(err.value, disk.path)
    assert "it needs more than the 65.5 KB free there" in message
    assert sorted(os.listdir(disk.path)) == [] and disk.free() > 48 * 1024  # the partial file was removed


def test_a_disk_full_when_the_manifest_is_written_keeps_nothing(small_disk):
    disk = small_disk(64 * 1024)

    def fill_all_but_the_manifest(folder: Path) -> None:
        folder.mkdir()
        (folder / "data.bin").write_bytes(b"d" * 1000)
        try:
            write_until_full(folder / "padding.bin")  # the disk is now full: the manifest cannot be written
        except OSError:
            pass

    with pytest.raises(WriteError):
        store.build(disk.path / "result", fill_all_but_the_manifest, what="a test folder")
    assert os.listdir(disk.path) == []


def test_a_result_that_cannot_fit_is_refused_before_anything_is_written(small_disk):
    disk = small_disk(64 * 1024)
    made = []
    with pytest.raises(WriteError) as err:
        store.build(disk.path / "big.bin", made.append, what="a big file", needs=10**9)
    assert made == [] and os.listdir(disk.path) == []
    assert "it needs about 1 GB, and" in assert_clear_write_error(err.value, disk.path)


def test_a_file_renamed_into_place_without_its_manifest_is_not_trusted(tmp_path, capsys):
    target = tmp_path / "result.txt"
    target.write_text("half")  # a run killed between the file's rename and its manifest's
    store.build(target, lambda path: path.write_text("whole"), what="a test file")
    assert target.read_text() == "whole" and store.check(target) is None
    assert f"{target} is incomplete (it has no manifest" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_result_finished_first_by_another_process_is_kept(tmp_path, kind):
    """Two notebooks started together on an empty cache: the one that finishes second keeps the first's result.

    Replacing it would pull it from under the first notebook, which is reading it already (two
    chapter 8 runs side by side failed so: the second zip's new mtime made the first's extraction stale).
    """
    target = tmp_path / ("result.zip" if kind == "file" else "result")

    def write(path: Path, text: str) -> None:
        if kind == "file":
            path.write_text(text)
        else:
            path.mkdir()
            (path / "a.txt").write_text(text)

    def second(path: Path) -> None:
        write(path, "second")
        store.build(target, lambda other: write(other, "first!"), what="a result")  # meanwhile, the other one
        first[:] = [target.stat().st_mtime_ns, (target if kind == "file" else target / "a.txt").read_text()]

    first: list = []
    assert store.build(target, second, what="a result") == target
    assert first[1] == "first!" and store.check(target) is None
    assert target.stat().st_mtime_ns == first[0] and partials(tmp_path) == []
    assert (target if kind == "file" else target / "a.txt").read_text() == "first!"


def test_write_errors_other_than_space_and_permission_are_not_disguised(tmp_path):
    def broken(path):
        raise OSError(5, "Input/output error")

    with pytest.raises(OSError, match="Input/output error"):
        store.build(tmp_path / "x", broken, what="x")
    assert os.listdir(tmp_path) == []


# --- a disk too small, at each write site -----------------------------------------------------------


def test_the_embedded_pipeline_on_a_disk_too_small_at_each_step(small_embedded, small_disk, monkeypatch, tmp_path):
    """The generated train.zip, then its extraction, then the subset: each step on a disk too small."""
    disk = small_disk(32 * 1024)
    cache = on_disk(monkeypatch, disk)
    with pytest.raises(WriteError) as err:  # step 1: the generated zip (58 KB) does not fit
        cats_vs_dogs.dogs_vs_cats_train("embedded")
    assert_clear_write_error(err.value, cache / "datasets")
    assert os.listdir(cache / "datasets") == []

    disk = small_disk(100 * 1024)  # step 2: the zip fits, its extraction does not (checked up front)
    cache = on_disk(monkeypatch, disk)
    with pytest.raises(WriteError) as err:
        cats_vs_dogs.dogs_vs_cats_train("embedded")
    message = assert_clear_write_error(err.value, cache / "datasets")
    archive = next((cache / "datasets").glob("*.zip"))
    assert f"The archive {archive} passed its check (every member's CRC-32) and was kept." in message
    assert store.check(archive) is None and partials(cache) == []  # the sound archive is still there, trusted
    assert "truncated or corrupt" not in message

    disk.leave_free(200 * 1024)  # room made: the same call finishes, from the archive it kept
    folder = cats_vs_dogs.dogs_vs_cats_train("embedded")
    assert len(list(folder.glob("*.jpg"))) == 2 * PER_CLASS and store.check(folder.parent) is None

    subset_disk = small_disk(16 * 1024, "work")  # step 3: the subset does not fit where the notebook runs
    with pytest.raises(WriteError) as err:
        cats_vs_dogs.make_subsets(folder, subset_disk.path / "dogs_vs_cats_small", SPLITS)
    assert f"in {subset_disk.path}: the disk is full" in str(err.value)
    assert "give make_subsets a new_base_dir in a folder you can write to" in str(err.value)
    assert os.listdir(subset_disk.path) == [] and len(list(folder.glob("*.jpg"))) == 2 * PER_CLASS


def test_a_disk_that_fills_midway_through_an_extraction_keeps_the_archive(small_disk, monkeypatch, tmp_path):
    disk = small_disk(1024 * 1024)
    archive = disk.path / "train.zip"
    archive.write_bytes(train_zip_bytes(per_class=12))
    extract_member = zipfile.ZipFile._extract_member

    def another_program_fills_the_disk(self, member, *args):
        if getattr(member, "filename", member).endswith("cat.3.jpg"):
            disk.leave_free(0)
        return extract_member(self, member, *args)

    monkeypatch.setattr(zipfile.ZipFile, "_extract_member", another_program_fills_the_disk)
    with pytest.raises(WriteError) as err:
        extract_zip(archive, disk.path / "train")
    assert f"The archive {archive} passed its check" in str(err.value) and "the disk is full" in str(err.value)
    assert sorted(os.listdir(disk.path)) == ["train.zip"] and zipfile.ZipFile(archive).testzip() is None


def test_a_download_that_fills_the_disk_is_a_write_error_not_a_network_error(http_server, small_disk, monkeypatch):
    base, root = http_server
    served = make_mnist_npz(root / "mnist.npz", n_train=400)  # 400 KB, on a 128 KB disk
    monkeypatch.setattr(mnist, "MNIST_URL", f"{base}/mnist.npz")
    monkeypatch.setattr(mnist, "MNIST_SHA256", store.sha256_of(served))
    monkeypatch.setattr(mnist, "MNIST_BYTES", None)  # size unknown: the download starts, and fills the disk
    cache = on_disk(monkeypatch, small_disk(128 * 1024))
    with pytest.raises(WriteError) as err:
        mnist.load_mnist("book")
    message = assert_clear_write_error(err.value, cache / "datasets")
    assert "Could not download" not in message and os.listdir(cache / "datasets") == []


def test_known_sizes_are_checked_before_downloading(small_disk, monkeypatch, closed_port_url):
    fname = pretrained.IMAGENET_NO_TOP["VGG16"][0]
    monkeypatch.setitem(pretrained.IMAGENET_NO_TOP, "VGG16",
                        (fname, f"{closed_port_url}/{fname}", "0" * 32, 58_000_000))  # no server needed
    cache = on_disk(monkeypatch, small_disk(300 * 1024))
    with pytest.raises(WriteError) as err:
        pretrained.imagenet_weights("VGG16", "book")
    message = assert_clear_write_error(err.value, cache / "models")
    assert message.startswith(f"Could not write the ImageNet weights of VGG16 (58 MB) in {cache / 'models'}: the "
                              "disk is full (No space left on device; it needs about 58 MB, and ")


def test_the_embedded_corpus_on_a_disk_too_small(small_disk, monkeypatch):
    cache = on_disk(monkeypatch, small_disk(64 * 1024))
    with pytest.raises(WriteError) as err:
        spa_eng.load_spa_eng("embedded")
    assert "it needs about 221.5 KB" in assert_clear_write_error(err.value, cache / "datasets")
    assert os.listdir(cache / "datasets") == []


def test_a_kaggle_download_on_a_full_disk_names_kagglehubs_cache_under_dlwp_cache_dir(kaggle, small_disk, monkeypatch):
    monkeypatch.delenv("KAGGLEHUB_CACHE")
    cache = on_disk(monkeypatch, small_disk(8 * 1024))
    with pytest.raises(WriteError) as err:
        cats_vs_dogs.dogs_vs_cats_train("book")
    message = str(err.value)
    assert message.startswith(f"Could not write the dogs-vs-cats competition data in {cache / 'kagglehub'}: the disk "
                              "is full (No space left on device; it needs about 543 MB, and ")
    assert "DLWP_CACHE_DIR" in message and "Nothing was downloaded" in message  # stopped before it started
    assert not kagglehub_marker(cache / "kagglehub").exists()
    assert "KAGGLEHUB_CACHE" not in os.environ  # set for the download only


def test_dlwp_cache_dir_moves_kagglehubs_cache_and_the_archive_is_extracted_once(kaggle, tmp_path, cache, monkeypatch):
    monkeypatch.delenv("KAGGLEHUB_CACHE")
    folder = cats_vs_dogs.dogs_vs_cats_train("book")
    assert kagglehub_cached_zip(cache / "kagglehub").is_file()
    assert folder == cache / "datasets" / "dogs-vs-cats" / "train"
    zips = sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*.zip"))
    assert zips == ["kagglehub/competitions/dogs-vs-cats/train.zip"]  # not copied: extracted once, from there
    assert not (tmp_path / "kagglehub").exists()


# --- a process killed midway through each build --------------------------------------------------------

PRELUDE = """
import os, signal, sys, pathlib, shutil, zipfile
def die():
    os.kill(os.getpid(), signal.SIGKILL)
def dying_after(n, real):
    calls = [0]
    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] > n:
            die()
        return real(*args, **kwargs)
    return wrapper
"""


def killed_midway(script: str, *args: str) -> None:
    """Run `script` in a fresh Python process that SIGKILLs itself midway (the script says where)."""
    result = RUN([sys.executable, "-c", PRELUDE + script, *map(str, args)], capture_output=True,
                            text=True, timeout=300, env=dict(os.environ, KERAS_BACKEND="jax"))
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]


def test_a_killed_download_is_not_trusted_and_the_next_run_downloads_it(http_server, cache, monkeypatch, capsys):
    base, root = http_server
    served = make_mnist_npz(root / "mnist.npz")
    monkeypatch.setattr(mnist, "MNIST_URL", f"{base}/mnist.npz")
    monkeypatch.setattr(mnist, "MNIST_SHA256", store.sha256_of(served))
    killed_midway("""
import keras
from dlwp_utils.data.download import fetch_file
def half(fname, origin, cache_dir, cache_subdir, **kwargs):
    pathlib.Path(cache_dir, cache_subdir, fname).write_bytes(b"half a download")
    die()
keras.utils.get_file = half
fetch_file("mnist.npz", sys.argv[1])
""", f"{base}/mnist.npz")
    target = cache / "datasets" / "mnist.npz"
    assert store.check(target) == "missing" and len(partials(cache)) == 1
    capsys.readouterr()
    (x_train, _), _ = mnist.load_mnist("book")
    assert len(x_train) == 30 and store.check(target) is None and partials(cache) == []
    assert (f"{target} was being made by a run that was interrupted: its half-made copy was deleted; making it "
            "again.") in capsys.readouterr().out


def test_a_killed_generation_and_a_killed_extraction_are_made_again(small_embedded, cache):
    killed_midway("""
from dlwp_utils.data import cats_vs_dogs
zipfile.ZipFile.writestr = dying_after(5, zipfile.ZipFile.writestr)
cats_vs_dogs.embedded_train_zip(int(sys.argv[1]))
""", PER_CLASS)
    assert len(partials(cache)) == 1 and not list((cache / "datasets").glob("*.zip"))
    archive = cats_vs_dogs.embedded_train_zip(PER_CLASS)
    assert store.check(archive) is None and partials(cache) == []

    killed_midway("""
from dlwp_utils.data.download import extract_zip
zipfile.ZipFile._extract_member = dying_after(5, zipfile.ZipFile._extract_member)
extract_zip(sys.argv[1], sys.argv[2])
""", archive, archive.with_suffix(""))
    assert store.check(archive.with_suffix("")) == "missing" and len(partials(cache)) == 1
    folder = cats_vs_dogs.dogs_vs_cats_train("embedded")
    assert len(list(folder.glob("*.jpg"))) == 2 * PER_CLASS and partials(cache) == []
    assert store.check(archive) is None  # the sound archive was not touched


def test_a_killed_subset_is_rebuilt(tmp_path, capsys):
    original = tmp_path / "train"
    original.mkdir()
    for i in range(10):
        for k, name in enumerate(("cat", "dog")):
            (original / f"{name}.{i}.jpg").write_bytes(jpeg(2 * i + k))
    killed_midway("""
from dlwp_utils.data.cats_vs_dogs import make_subsets
shutil.copyfile = dying_after(4, shutil.copyfile)
make_subsets(sys.argv[1], sys.argv[2], {"train": (0, 6), "validation": (6, 8), "test": (8, 10)})
""", original, tmp_path / "small")
    assert len(partials(tmp_path)) == 1 and not (tmp_path / "small").exists()
    base = cats_vs_dogs.make_subsets(original, tmp_path / "small", SPLITS)
    assert store.check(base) is None and partials(tmp_path) == [] and len(list(base.rglob("*.jpg"))) == 20


def test_a_killed_corpus_write_is_written_again(cache):
    killed_midway("""
from dlwp_utils.data import spa_eng
def half(self, data):
    with open(self, "wb") as out:
        out.write(data[: len(data) // 2])
    die()
pathlib.Path.write_bytes = half
spa_eng.load_spa_eng("embedded")
""")
    assert len(partials(cache)) == 1
    path = spa_eng.load_spa_eng("embedded")
    assert spa_eng.count_pairs(path) == spa_eng.EMBEDDED_PAIRS and partials(cache) == []


# --- damaged after the build ------------------------------------------------------------------------


def truncate(path: Path, size: int = 10) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(size)


@pytest.mark.parametrize("damaged", ["archive", "extraction"])
def test_a_damaged_embedded_archive_or_extraction_is_made_again(small_embedded, cache, capsys, damaged):
    folder = cats_vs_dogs.dogs_vs_cats_train("embedded")
    archive = next((cache / "datasets").glob("*.zip"))
    truncate(archive if damaged == "archive" else folder / "dog.5.jpg", 10)
    capsys.readouterr()
    assert cats_vs_dogs.dogs_vs_cats_train("embedded") == folder
    out = capsys.readouterr().out
    name = archive.name if damaged == "archive" else "train/dog.5.jpg"
    assert f"is damaged ({name} is 10 bytes; its manifest says" in out
    assert store.check(archive) is None and store.check(folder.parent) is None


def test_a_damaged_embedded_corpus_is_written_again(cache, capsys):
    path = spa_eng.load_spa_eng("embedded")
    with open(path, "r+b") as handle:  # the same size, one byte changed
        handle.seek(50)
        handle.write(b"#")
    capsys.readouterr()
    assert spa_eng.count_pairs(spa_eng.load_spa_eng("embedded")) == spa_eng.EMBEDDED_PAIRS
    assert "does not match the SHA-256 checksum in its manifest): writing it again." in capsys.readouterr().out


# --- a read-only cache, an unwritable working directory ---------------------------------------------------


def test_a_complete_cache_is_used_read_only_and_a_missing_result_is_one_clear_error(
        small_embedded, small_disk, monkeypatch, tmp_path, capsys):
    disk = small_disk(2 * 1024 * 1024)
    cache = on_disk(monkeypatch, disk)
    train = cats_vs_dogs.dogs_vs_cats_train("embedded")
    corpus = spa_eng.load_spa_eng("embedded")
    preset = tiny_gemma.tiny_gemma_preset()  # committed, never written: read-only is all it needs
    disk.read_only()
    assert cats_vs_dogs.dogs_vs_cats_train("embedded") == train and spa_eng.load_spa_eng("embedded") == corpus
    assert tiny_gemma.tiny_gemma_preset() == preset
    why = "it is on a read-only filesystem" if disk.mounted else "you are not allowed to write there"
    monkeypatch.setattr(cats_vs_dogs, "EMBEDDED_PER_CLASS", PER_CLASS + 1)  # a train.zip not in the cache yet
    with pytest.raises(WriteError) as err:
        cats_vs_dogs.dogs_vs_cats_train("embedded")
    message = assert_clear_write_error(err.value, cache / "datasets", why=why)
    assert "Use a folder you can write to." in message


def test_a_damaged_result_on_a_read_only_cache_is_announced_and_nothing_is_deleted(small_disk, monkeypatch, capsys):
    disk = small_disk(1024 * 1024)
    cache = on_disk(monkeypatch, disk)
    corpus = spa_eng.load_spa_eng("embedded")
    truncate(corpus, 100)
    disk.read_only()
    capsys.readouterr()
    with pytest.raises(WriteError):
        spa_eng.load_spa_eng("embedded")
    assert "spa-eng-embedded is damaged (spa-eng/spa.txt is 100 bytes" in capsys.readouterr().out
    assert corpus.stat().st_size == 100 and store.read_manifest(cache / "datasets" / "spa-eng-embedded")


def test_an_unwritable_working_directory(small_embedded, small_disk, monkeypatch, cache):
    """The cache loaders never write where the notebook runs; the subset, which goes there, says so."""
    train = cats_vs_dogs.dogs_vs_cats_train("embedded")
    work = small_disk(64 * 1024, "work").read_only()
    monkeypatch.chdir(work.path)
    assert cats_vs_dogs.dogs_vs_cats_train("embedded") == train and spa_eng.load_spa_eng("embedded").is_file()
    with pytest.raises(WriteError) as err:
        cats_vs_dogs.make_subsets(train, Path("dogs_vs_cats_small"), SPLITS)
    message = str(err.value)
    assert f"Could not write the subset dogs_vs_cats_small in {work.path}: " in message
    assert f"The subset goes to {work.path} (the folder this notebook runs in): give make_subsets a new_base_dir" in message
    assert store.check(train.parent) is None  # the source is untouched


# --- a chapter notebook, end to end, on a full cache -----------------------------------------------------


def test_a_chapter_notebook_on_a_full_cache_stops_at_its_loading_cell_with_the_clear_error(small_disk, monkeypatch,
                                                                                           tmp_path):
    """chapter11 run by make run's runner with DLWP_CACHE_DIR on a 64 KB filesystem: the executed notebook shows it."""
    import json

    from maintainer import layout, run

    disk = small_disk(64 * 1024)
    if not disk.mounted:  # the kernel is another process: no injected ENOSPC there, so a read-only cache instead
        disk.read_only()
    cache = on_disk(monkeypatch, disk)
    notebook = layout.REPO_ROOT / "chapter11" / "chapter11_sequence_to_sequence.ipynb"
    result = run.run_notebook(notebook, "jax", tmp_path / "build", timeout=300)
    why = "the disk is full" if disk.mounted else "you are not allowed to write there"
    assert result.status == "failed"
    assert result.problem.startswith(f"code cell 4 (`import random`): WriteError: Could not write the embedded "
                                     f"spa-eng corpus in {cache / 'datasets'}: {why}"), result.problem
    executed = json.loads(Path(result.output).read_text())
    errors = [output for cell in executed["cells"] for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "WriteError"
    shown = errors[0]["evalue"]
    assert f"{cache / 'datasets'}: {why}" in shown and "DLWP_CACHE_DIR" in shown and "Nothing half-written" in shown
    if disk.mounted:
        assert "it needs about 221.5 KB, and" in shown and "KB is free there" in shown
    trace = "\n".join(errors[0]["traceback"])
    assert "During handling of the above exception" not in trace and "Errno 28" not in trace.split("WriteError")[0]
    assert partials(cache) == [] and not list(cache.rglob("spa.txt"))


def test_a_disk_that_must_be_a_real_tmpfs_fails_rather_than_fall_back_without_root(monkeypatch, tmp_path):
    """The workflow's root step sets DLWP_REQUIRE_TMPFS: were it not root there, the tests fail, never pass on a quota."""
    import os

    from tests.conftest import REQUIRE_TMPFS, Disk

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv(REQUIRE_TMPFS, "1")
    with pytest.raises(pytest.fail.Exception, match="only root can mount"):
        Disk(tmp_path / "disk", 64 * 1024, monkeypatch)
