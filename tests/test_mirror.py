"""DLWP_MIRROR and `python -m dlwp_utils.data.mirror fetch`: the fetch command against a local server standing
in for the internet (resuming, checksums, Kaggle through a fake kagglehub), then the loaders from the mirror
alone, as a folder and as a URL, with the internet gone."""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import re
import shutil
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dlwp_utils.data import cats_vs_dogs, gemma, instructions, mirror, mirror_fetch, mnist, pretrained, regression, spa_eng
from dlwp_utils.data.store import sha256_of
from dlwp_utils.errors import DataError
from tests.test_data import make_mnist_npz
from tests.test_kaggle import SECRET, env_credentials, no_credentials  # noqa: F401  (fixtures)


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """A static server that honours `Range: bytes=N-` (206), as storage.googleapis.com does; it logs each request."""

    requests: list[tuple[str, str | None]] = []

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        wanted = self.headers.get("Range")
        type(self).requests.append((self.path, wanted))
        match = re.fullmatch(r"bytes=(\d+)-", wanted or "")
        if not match or not path.is_file():
            return super().send_head()
        data = path.read_bytes()
        start = int(match.group(1))
        if start >= len(data):
            self.send_error(416)
            return None
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        return io.BytesIO(data[start:])


def serve(folder: Path, handler=RangeHandler):
    """Serve `folder` on 127.0.0.1; (base URL, server)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


@pytest.fixture
def internet(tmp_path, monkeypatch, cache, env_credentials, small_preset):
    """Every source the notebooks download, small and in the real format, on a local server that stands in for
    the internet (each loader's URL and published checksum pointed at it), and a fake kagglehub."""
    import kagglehub

    www = tmp_path / "internet"
    www.mkdir()
    RangeHandler.requests = []
    base, server = serve(www)
    made = {"mnist.npz": make_mnist_npz(www / "mnist.npz", n_train=40, n_test=10)}
    monkeypatch.setattr(mnist, "MNIST_URL", f"{base}/mnist.npz")
    monkeypatch.setattr(mnist, "MNIST_SHA256", sha256_of(made["mnist.npz"]))
    for name, spec in list(regression.DATASETS.items()):
        path = www / f"{name}.npz"
        rng = np.random.default_rng(0)
        np.savez(path, x=rng.normal(size=(spec.rows, len(spec.features))), y=rng.uniform(1, 5, spec.rows))
        monkeypatch.setitem(regression.DATASETS, name,
                            type(spec)(**{**spec.__dict__, "url": f"{base}/{name}.npz", "sha256": sha256_of(path)}))
    weights = www / "vgg16_notop.h5"
    weights.write_bytes(os.urandom(300_000))  # the fetch command treats it as bytes; its load is tested elsewhere
    fname, _, md5, size = pretrained.IMAGENET_NO_TOP["VGG16"]
    import hashlib

    monkeypatch.setitem(pretrained.IMAGENET_NO_TOP, "VGG16",
                        (fname, f"{base}/vgg16_notop.h5", hashlib.md5(weights.read_bytes()).hexdigest(), size))
    with zipfile.ZipFile(www / "spa-eng.zip", "w") as archive:
        archive.writestr("spa-eng/spa.txt", "Go.\tVe.\nHello.\tHola.\n")
    monkeypatch.setattr(spa_eng, "SPA_ENG_URL", f"{base}/spa-eng.zip")
    dolly = www / instructions.DOLLY_FILE
    dolly.write_text("\n".join(json.dumps({"instruction": f"Q{i}?", "context": "", "response": f"A{i}.",
                                           "category": "open_qa"}) for i in range(30)) + "\n")
    monkeypatch.setattr(instructions, "DOLLY_URL", f"{base}/{instructions.DOLLY_FILE}")
    monkeypatch.setattr(instructions, "DOLLY_SHA256", sha256_of(dolly))

    kaggle_files = tmp_path / "kagglehub-cache"
    train_zip = kaggle_files / "train.zip"
    train_zip.parent.mkdir()
    with zipfile.ZipFile(train_zip, "w") as archive:
        for name in ("cat.0.jpg", "dog.0.jpg"):
            archive.writestr(f"train/{name}", b"\xff\xd8 not really a jpeg")
    preset_folder = kaggle_files / "gemma3_1b" / "3"
    shutil.copytree(small_preset[0], preset_folder)
    asked: list[str] = []

    def competition_download(competition, path=None, **kwargs):
        asked.append(f"competition {competition} {path}")
        return str(train_zip)

    def model_download(handle, **kwargs):
        asked.append(f"model {handle}")
        return str(preset_folder)

    monkeypatch.setattr(kagglehub, "competition_download", competition_download)
    monkeypatch.setattr(kagglehub, "model_download", model_download)
    monkeypatch.delenv(mirror.MIRROR_ENV, raising=False)
    yield {"www": www, "base": base, "asked": asked, "preset": preset_folder, "train_zip": train_zip}
    server.shutdown()
    server.server_close()


def test_fetch_downloads_every_source_into_the_mirror_layout_with_sizes_and_checksums(internet, tmp_path, capsys):
    folder = tmp_path / "mirror"
    problems = mirror_fetch.fetch(folder)
    out = capsys.readouterr().out
    assert problems == []
    index = json.loads((folder / mirror.INDEX).read_text())["files"]
    host = internet["base"].removeprefix("http://")
    for name in ("mnist.npz", "california.npz", "boston.npz", "vgg16_notop.h5", "spa-eng.zip", instructions.DOLLY_FILE):
        entry = index[f"{host}/{name}"]
        assert entry == {"bytes": (internet["www"] / name).stat().st_size, "sha256": sha256_of(internet["www"] / name)}
        assert (folder / host / name).read_bytes() == (internet["www"] / name).read_bytes()
    assert index["kaggle/competitions/dogs-vs-cats/train.zip"]["sha256"] == sha256_of(internet["train_zip"])
    handle = gemma.kaggle_handle("gemma3_1b")
    preset_files = [name for name in index if name.startswith(f"kaggle/models/{handle}/")]
    assert f"kaggle/models/{handle}/config.json" in preset_files and len(preset_files) >= 5
    assert internet["asked"] == ["competition dogs-vs-cats train.zip", f"model {handle}"]
    assert "MB" in out and "Gemma licence" in out and "competition rules" in out  # sizes, and whose terms they are
    assert SECRET not in out
    # a second run downloads nothing: everything is there and matches
    RangeHandler.requests = []
    assert mirror_fetch.fetch(folder) == [] and RangeHandler.requests == []
    assert "already in the mirror" in capsys.readouterr().out


def test_a_download_cut_off_is_resumed_where_it_stopped(internet, tmp_path):
    folder = tmp_path / "mirror"
    source = next(s for s in mirror_fetch.http_sources() if s.name == "mnist")
    target = folder / mirror.http_relative(source.url)
    target.parent.mkdir(parents=True)
    whole = (internet["www"] / "mnist.npz").read_bytes()
    Path(str(target) + mirror_fetch.PART).write_bytes(whole[:5000])  # what a killed run left
    assert mirror_fetch.fetch(folder, only={"mnist"}, kaggle=False) == []
    assert target.read_bytes() == whole and not Path(str(target) + mirror_fetch.PART).exists()
    assert ("/mnist.npz", "bytes=5000-") in RangeHandler.requests


def test_a_download_that_does_not_match_its_published_checksum_is_refused_and_the_others_are_kept(
        internet, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mnist, "MNIST_SHA256", "0" * 64)
    folder = tmp_path / "mirror"
    problems = mirror_fetch.fetch(folder, kaggle=False)
    assert len(problems) == 1 and problems[0].startswith("mnist:") and "published checksum" in problems[0]
    index = json.loads((folder / mirror.INDEX).read_text())["files"]
    assert not any(name.endswith("mnist.npz") for name in index)
    assert not list(folder.rglob("mnist.npz"))
    assert any(name.endswith("spa-eng.zip") for name in index)


def test_kaggle_without_credentials_is_one_explained_failure_and_the_http_files_are_kept(
        internet, tmp_path, monkeypatch):
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "nowhere"))
    folder = tmp_path / "mirror"
    problems = mirror_fetch.fetch(folder)
    assert len(problems) == 1 and problems[0].startswith("kaggle:") and "kaggle.com" in problems[0].lower()
    assert len(json.loads((folder / mirror.INDEX).read_text())["files"]) == 6


@pytest.mark.parametrize("as_url", [False, True], ids=["folder", "url"])
def test_the_book_profile_runs_from_the_mirror_alone(internet, tmp_path, monkeypatch, as_url, capsys):
    """fetch from the stand-in internet, then the internet and the credentials gone: every loader from the mirror."""
    folder = tmp_path / "mirror"
    assert mirror_fetch.fetch(folder) == []
    shutil.rmtree(internet["www"])  # the internet is gone
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)  # and no credentials are needed
    import kagglehub

    monkeypatch.setattr(kagglehub, "model_download", lambda *a, **k: pytest.fail("kagglehub was called"))
    monkeypatch.setattr(kagglehub, "competition_download", lambda *a, **k: pytest.fail("kagglehub was called"))
    server = None
    if as_url:
        location, server = serve(folder)
    else:
        location = str(folder)
    monkeypatch.setenv(mirror.MIRROR_ENV, location)
    try:
        (x_train, _), _ = mnist.load_mnist("book")
        assert x_train.shape == (40, 28, 28)
        train, _ = instructions.load_instructions("book", held_out=5)
        assert len(train) == 25
        assert spa_eng.load_spa_eng("book").read_text().startswith("Go.\tVe.")
        assert Path(pretrained.imagenet_weights("VGG16", "book")).stat().st_size == 300_000
        regression.load_house_prices("book", "boston")
        assert sha256_of(cats_vs_dogs.download_train_zip()) == sha256_of(internet["train_zip"])
        preset = Path(gemma.gemma_preset("book", "gemma3_1b"))
        assert json.loads((preset / "config.json").read_text()) == json.loads(
            (internet["preset"] / "config.json").read_text())
        assert (preset / "assets" / "tokenizer" / "vocabulary.spm").is_file()
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()


def test_a_file_the_mirror_lacks_names_the_mirror_and_the_fetch_command(tmp_path, monkeypatch, cache):
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / mirror.INDEX).write_text(json.dumps({"files": {}}))
    monkeypatch.setenv(mirror.MIRROR_ENV, str(folder))
    with pytest.raises(DataError, match=r"does not hold mnist.npz.*python -m dlwp_utils.data.mirror fetch") as err:
        mnist.load_mnist("book")
    assert str(folder) in str(err.value)


def test_a_mirror_without_an_index_says_how_to_make_one(tmp_path, monkeypatch, cache):
    monkeypatch.setenv(mirror.MIRROR_ENV, str(tmp_path))
    with pytest.raises(DataError, match=r"has no readable index.json.*fetch DIR"):
        mnist.load_mnist("book")


def test_a_setting_that_is_neither_folder_nor_url_is_refused(monkeypatch, cache):
    monkeypatch.setenv(mirror.MIRROR_ENV, "/no/such/folder")
    with pytest.raises(DataError, match=r"neither a folder on this machine nor an http\(s\) URL"):
        mnist.load_mnist("book")


def test_a_mirror_file_that_does_not_match_its_index_is_not_kept(tmp_path, monkeypatch, cache):
    folder = tmp_path / "mirror"
    relative = mirror.http_relative(mnist.MNIST_URL)
    (folder / relative).parent.mkdir(parents=True)
    make_mnist_npz(folder / relative)
    (folder / mirror.INDEX).write_text(json.dumps({"files": {relative: {"bytes": 1, "sha256": "0" * 64}}}))
    monkeypatch.setenv(mirror.MIRROR_ENV, str(folder))
    with pytest.raises(DataError, match="does not match the mirror's index.json"):
        mnist.load_mnist("book")
    assert not list(cache.rglob("mnist.npz"))


def test_the_published_checksum_is_still_checked_on_a_mirror_file(tmp_path, monkeypatch, cache):
    folder = tmp_path / "mirror"
    relative = mirror.http_relative(mnist.MNIST_URL)
    (folder / relative).parent.mkdir(parents=True)
    path = make_mnist_npz(folder / relative)  # not the real MNIST: its checksum is not the published one
    (folder / mirror.INDEX).write_text(json.dumps({"files": {relative: {"bytes": path.stat().st_size,
                                                                         "sha256": sha256_of(path)}}}))
    monkeypatch.setenv(mirror.MIRROR_ENV, str(folder))
    with pytest.raises(DataError, match="does not match the published"):
        mnist.load_mnist("book")


def test_the_command_line(internet, tmp_path, capsys):
    assert mirror.main(["fetch", str(tmp_path / "m"), "--only", "mnist,dolly"]) == 0
    files = json.loads((tmp_path / "m" / mirror.INDEX).read_text())["files"]
    assert len(files) == 2 and internet["asked"] == []  # --only fetches no Kaggle file
    with pytest.raises(SystemExit):
        mirror.main(["fetch", str(tmp_path / "m"), "--only", "imagenet"])
    assert "unknown imagenet" in capsys.readouterr().err


def test_the_progress_bar_redraws_one_line_on_a_terminal_and_stays_quiet_in_a_log():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen, log = Terminal(), io.StringIO()
    for out in (screen, log):
        bar = mirror_fetch.Progress("mnist", 2_000_000, out)
        bar.show(1_000_000)
        bar.finish(2_000_000)
    assert "\r  mnist: 1.0 MB / 2.0 MB ( 50%)" in screen.getvalue() and "2.0 MB downloaded" in screen.getvalue()
    assert log.getvalue() == ""
