"""dlwp_utils.data.cats_vs_dogs: the real kagglehub path against a fake Kaggle cache and client, the
embedded look-alike, and the book's subset (atomic, reused, rebuilt, bad images left out)."""

from __future__ import annotations

import io
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import requests

from dlwp_utils.data import cats_vs_dogs, store
from dlwp_utils.data.cats_vs_dogs import dogs_vs_cats_train, embedded_train_zip, make_subsets
from dlwp_utils.data.images import count_images
from dlwp_utils.data.pet_drawings import draw_pet
from dlwp_utils.errors import DataError
from dlwp_utils.errors import KaggleError

SECRET = "0123456789abcdef0123456789abcdef"
SPLITS = {"train": (0, 6), "validation": (6, 8), "test": (8, 10)}


def jpeg(seed: int) -> bytes:
    """A small real JPEG of a seed-dependent size and colour."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    size = tuple(int(v) for v in rng.integers(20, 40, size=2))
    buffer = io.BytesIO()
    Image.new("RGB", size, tuple(int(v) for v in rng.integers(0, 256, 3))).save(buffer, format="JPEG")
    return buffer.getvalue()


def train_zip_bytes(per_class: int = 12, bad: dict[str, bytes] | None = None, prefix: str = "train/") -> bytes:
    """A train.zip laid out like the competition's: train/cat.N.jpg and train/dog.N.jpg."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(per_class):
            for k, name in enumerate(("cat", "dog")):
                fname = f"{name}.{i}.jpg"
                archive.writestr(prefix + fname, (bad or {}).get(fname, jpeg(2 * i + k)))
    return buffer.getvalue()


# --- a fake Kaggle API client behind the real kagglehub resolver and cache ---------------------------


class FakeKaggle:
    """Stands in for kagglehub's API client: serves train.zip, or fails with an HTTP status."""

    def __init__(self) -> None:
        self.payload = train_zip_bytes()
        self.status = 200
        self.last_modified = "Tue, 01 Jan 2013 00:00:00 GMT"  # the competition's file is old
        self.requests: list[str] = []
        self.competitions = self
        self.competition_api_client = self

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def download_data_file(self, request) -> requests.Response:
        self.requests.append(f"{request.competition_name}/{request.file_name}")
        response = requests.Response()
        response.status_code = self.status
        response.url = f"https://storage.googleapis.com/kaggle-competitions-data/dogs-vs-cats/{request.file_name}"
        if self.status != 200:
            raise requests.HTTPError(f"{self.status} Client Error for key={SECRET}", response=response)
        response.headers["Content-Length"] = str(len(self.payload))
        response.headers["Last-Modified"] = self.last_modified
        response.raw = io.BytesIO(self.payload)
        return response


@pytest.fixture
def kaggle(tmp_path, monkeypatch, cache):
    """Credentials in the environment, an empty kagglehub cache, and the fake client."""
    import kagglehub.http_resolver

    for name in ("KAGGLE_API_TOKEN",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_USERNAME", "learner")
    monkeypatch.setenv("KAGGLE_KEY", SECRET)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    fake = FakeKaggle()
    monkeypatch.setattr(kagglehub.http_resolver, "build_kaggle_client", lambda: fake)
    return fake


def kagglehub_cached_zip(root: Path) -> Path:
    """Where kagglehub 1.0.2 keeps one file of a competition, and its completion marker."""
    return root / "competitions" / "dogs-vs-cats" / "train.zip"


def kagglehub_marker(root: Path) -> Path:
    return root / "competitions" / ".complete" / "dogs-vs-cats" / "train.zip.complete"


# --- the real path ------------------------------------------------------------------------------------


def test_book_profile_downloads_train_zip_into_kagglehubs_cache_and_extracts_it(kaggle, tmp_path, cache, capsys):
    folder = dogs_vs_cats_train("book")
    assert kaggle.requests == ["dogs-vs-cats/train.zip"]
    assert kagglehub_cached_zip(tmp_path / "kagglehub").is_file() and kagglehub_marker(tmp_path / "kagglehub").is_file()
    assert folder == cache / "datasets" / "dogs-vs-cats" / "train"
    assert len(list(folder.glob("cat.*.jpg"))) == 12 and len(list(folder.glob("dog.*.jpg"))) == 12
    out = capsys.readouterr().out
    assert "Kaggle competition's train.zip" in out and SECRET not in out


def test_a_file_in_the_kagglehub_cache_is_reused_without_downloading(kaggle, tmp_path, cache):
    archive = kagglehub_cached_zip(tmp_path / "kagglehub")
    archive.parent.mkdir(parents=True)
    archive.write_bytes(train_zip_bytes(per_class=3))
    kagglehub_marker(tmp_path / "kagglehub").parent.mkdir(parents=True)
    kagglehub_marker(tmp_path / "kagglehub").touch()
    kaggle.payload = b"this would be a new download"
    folder = dogs_vs_cats_train("book")
    assert len(list(folder.glob("*.jpg"))) == 6  # the cached zip, not the payload
    assert archive.read_bytes() != kaggle.payload
    dogs_vs_cats_train("book")  # the extraction is reused too
    assert len(list(folder.glob("*.jpg"))) == 6


def test_a_corrupt_train_zip_is_deleted_and_downloaded_again(kaggle, tmp_path, cache):
    kaggle.payload = train_zip_bytes()[:500]  # truncated in transit
    with pytest.raises(DataError, match="truncated or corrupt.*run this cell again"):
        dogs_vs_cats_train("book")
    assert not kagglehub_cached_zip(tmp_path / "kagglehub").exists()
    kaggle.payload = train_zip_bytes()
    folder = dogs_vs_cats_train("book")
    assert len(kaggle.requests) == 2 and len(list(folder.glob("*.jpg"))) == 24


def test_a_train_zip_with_another_layout_is_named(kaggle, cache):
    kaggle.payload = train_zip_bytes(prefix="images/")
    with pytest.raises(DataError) as err:
        dogs_vs_cats_train("book")
    assert str(cache / "datasets" / "dogs-vs-cats" / "train") in str(err.value)
    assert "train/cat.0.jpg" in str(err.value)


def test_missing_credentials_stop_before_any_request(kaggle, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    with pytest.raises(KaggleError, match="needs Kaggle credentials, and none were found") as err:
        dogs_vs_cats_train("book")
    assert "~/.kaggle/kaggle.json" in str(err.value) and 'PROFILE = "embedded"' in str(err.value)
    assert kaggle.requests == []


@pytest.mark.parametrize(("status", "expected"), [
    (401, "Kaggle rejected your credentials while downloading the dogs-vs-cats competition data (401"),
    (403, "has not accepted the competition rules yet. Open https://www.kaggle.com/c/dogs-vs-cats/rules"),
])
def test_rejected_credentials_and_unaccepted_rules_get_their_own_message(kaggle, tmp_path, status, expected):
    kaggle.status = status
    with pytest.raises(KaggleError) as err:
        dogs_vs_cats_train("book")
    assert expected in str(err.value)
    assert SECRET not in str(err.value) and err.value.__cause__ is None
    assert not kagglehub_marker(tmp_path / "kagglehub").exists()


# --- the embedded look-alike --------------------------------------------------------------------------


@pytest.fixture
def small_embedded(monkeypatch, cache):
    monkeypatch.setattr(cats_vs_dogs, "EMBEDDED_PER_CLASS", 12)
    return cache


def test_embedded_profile_generates_a_train_zip_laid_out_like_the_real_one(small_embedded, capsys):
    from PIL import Image

    folder = dogs_vs_cats_train("embedded")
    assert capsys.readouterr().out.count("Dogs vs cats: embedded look-alike") == 1
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"{c}.{i}.jpg" for c in ("cat", "dog") for i in range(12))
    sizes = {Image.open(folder / f"dog.{i}.jpg").size for i in range(12)}
    assert len(sizes) > 6  # varied sizes, like photos
    assert (folder / "cat.7.jpg").stat().st_size == 0  # planted broken on purpose


def test_the_embedded_zip_is_the_same_every_time(small_embedded, tmp_path, monkeypatch):
    import time

    first = embedded_train_zip(per_class=3).read_bytes()
    embedded_train_zip(per_class=3).unlink()
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)  # an hour later: no timestamp may leak into the bytes
    assert embedded_train_zip(per_class=3).read_bytes() == first
    assert not [p for p in embedded_train_zip(3).parent.iterdir() if ".partial-" in p.name]


def test_drawings_are_jpegs_and_the_kind_is_checked():
    from PIL import Image

    rng = np.random.default_rng(0)
    for kind in ("cat", "dog"):
        assert Image.open(io.BytesIO(draw_pet(kind, rng))).format == "JPEG"
    with pytest.raises(ValueError, match="cat"):
        draw_pet("horse", rng)


# --- the subset ----------------------------------------------------------------------------------------


@pytest.fixture
def original(tmp_path):
    """A folder like the extracted train.zip, with three broken files planted."""
    folder = tmp_path / "train"
    folder.mkdir()
    for i in range(10):
        for k, name in enumerate(("cat", "dog")):
            (folder / f"{name}.{i}.jpg").write_bytes(jpeg(2 * i + k))
    (folder / "cat.1.jpg").write_bytes(b"")
    (folder / "dog.2.jpg").write_text("<html>not a picture</html>")
    (folder / "cat.8.jpg").write_bytes(jpeg(99)[:60])
    return folder


def test_the_subset_has_the_books_layout_and_leaves_bad_images_out(original, tmp_path, capsys):
    base = make_subsets(original, tmp_path / "dogs_vs_cats_small", SPLITS)
    assert count_images(base / "train", ["cat", "dog"]) == {"cat": 5, "dog": 5}
    assert count_images(base / "validation", ["cat", "dog"]) == {"cat": 2, "dog": 2}
    assert count_images(base / "test", ["cat", "dog"]) == {"cat": 1, "dog": 2}
    assert not (base / "train" / "cat" / "cat.1.jpg").exists() and (base / "train" / "cat" / "cat.0.jpg").exists()
    out = capsys.readouterr().out
    assert "3 unreadable images left out" in out
    for reason in ("cat.1.jpg (empty file (0 bytes))", "dog.2.jpg (not an image)", "cat.8.jpg (truncated or corrupt"):
        assert reason in out
    marker = store.read_manifest(base)["info"]
    assert sorted(marker["left_out"]) == ["cat.1.jpg", "cat.8.jpg", "dog.2.jpg"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "staging folder left behind"


def test_a_complete_subset_is_reused(original, tmp_path, monkeypatch, capsys):
    base = make_subsets(original, tmp_path / "small", SPLITS)
    monkeypatch.setattr(shutil, "copyfile", lambda *a, **k: pytest.fail("a complete subset was copied again"))
    assert make_subsets(original, base, SPLITS) == base
    assert "Reusing the complete subset" in capsys.readouterr().out


def test_an_interrupted_subset_leaves_nothing_and_is_rebuilt(original, tmp_path, monkeypatch, capsys):
    real_copy, copied = shutil.copyfile, []

    def copy_then_die(src, dst):
        if len(copied) == 4:
            raise KeyboardInterrupt
        copied.append(dst)
        return real_copy(src, dst)

    monkeypatch.setattr(shutil, "copyfile", copy_then_die)
    with pytest.raises(KeyboardInterrupt):
        make_subsets(original, tmp_path / "small", SPLITS)
    assert list(tmp_path.iterdir()) == [original]  # neither the subset nor its staging folder
    monkeypatch.setattr(shutil, "copyfile", real_copy)
    base = make_subsets(original, tmp_path / "small", SPLITS)
    assert count_images(base / "train", ["cat", "dog"]) == {"cat": 5, "dog": 5}


def test_a_half_built_subset_from_an_older_run_is_rebuilt(original, tmp_path, capsys):
    half = tmp_path / "small" / "train" / "cat"
    half.mkdir(parents=True)
    shutil.copy(original / "cat.0.jpg", half)  # what a crashed non-atomic copy leaves behind
    base = make_subsets(original, tmp_path / "small", SPLITS)
    assert f"{tmp_path / 'small'} is incomplete (it has no manifest: an earlier run was interrupted" in capsys.readouterr().out
    assert count_images(base / "test", ["cat", "dog"]) == {"cat": 1, "dog": 2}


@pytest.mark.parametrize(("change", "said"), [("other splits", "made from other settings"),
                                             ("file deleted", "damaged (train/dog/dog.0.jpg is missing)")])
def test_a_different_or_damaged_subset_is_rebuilt(original, tmp_path, capsys, change, said):
    base = make_subsets(original, tmp_path / "small", SPLITS)
    splits = SPLITS
    if change == "other splits":
        splits = {"train": (0, 4), "validation": (4, 6), "test": (6, 10)}
    else:
        (base / "train" / "dog" / "dog.0.jpg").unlink()
    make_subsets(original, base, splits)
    assert f"{base} is {said}: rebuilding it." in capsys.readouterr().out
    assert (base / "train" / "dog" / "dog.0.jpg").exists()


def test_missing_source_files_are_named(original, tmp_path):
    with pytest.raises(DataError) as err:
        make_subsets(original, tmp_path / "small", {"train": (0, 15)})
    assert str(original) in str(err.value) and "cat.10.jpg" in str(err.value) and "N = 14" in str(err.value)
    assert not (tmp_path / "small").exists()
