"""The book path's mirror: every real source the notebooks download, as a small file in the real format,
laid out as DLWP_MIRROR expects (dlwp_utils.data.mirror), made by the tests.

    python -m tests.book_path.fixtures DIR      # writes DIR (once: kept while its recipe is the same)

    DIR/internet/<host>/<path>  the HTTP files, as a server on 127.0.0.1 serves them in place of the internet
    DIR/kaggle/...             the Kaggle files, as a fake kagglehub hands them out
    DIR/mirror/...             the mirror, with its index.json, made from those two by the fetch command itself
    DIR/published.json         the fixtures' checksums, which stand in for the published ones in the kernels
                               (tests/book_path/site/sitecustomize.py): the fixtures are not the real files

What each fixture is (real format, small content):
    mnist.npz                   Keras' keys and dtypes: real handwritten digits (scikit-learn's, upscaled)
    california_housing.npz,
    boston_housing.npz          x, y as keras.datasets reads them: the generated districts
    vgg16_..._notop.h5          Keras 2's legacy h5 layout, random weights of VGG16's real shapes
    train.zip                   the competition's names (train/cat.N.jpg, train/dog.N.jpg), drawn pets,
                                four of them broken on purpose
    spa-eng.zip                 spa-eng/spa.txt, tab-separated English-Spanish pairs
    databricks-dolly-15k.jsonl  dolly's four fields, some records with a context passage
    the Gemma preset            the tiny Gemma's files, under the book's handle (keras/gemma3/keras/gemma3_1b/N)
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np

from dlwp_utils.data.store import sha256_of as sha256

RECIPE = 4  # bump when a fixture changes: the folder is made again
PER_CLASS = 40  # pictures per class in train.zip (the book path's subsets take fewer)
SPA_ENG_PAIRS = 400
DOLLY_RECORDS = 120
BOOK_PRESET = "gemma3_1b"


def md5(path: Path) -> str:
    """A file's MD5 (the ImageNet weights' published checksum is one)."""
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_mnist(path: Path) -> None:
    """An mnist.npz with Keras' keys: the embedded profile's real digits."""
    from dlwp_utils.data.mnist import embedded_mnist

    (x_train, y_train), (x_test, y_test) = embedded_mnist()
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def write_house_prices(path: Path, dataset: str) -> None:
    """A keras.datasets house-price file (x, y): the generated districts."""
    from dlwp_utils.data.regression import generated_districts

    x, y = generated_districts(dataset)
    np.savez(path, x=x, y=y)


def write_spa_eng(path: Path) -> None:
    """spa-eng.zip holding spa-eng/spa.txt."""
    from dlwp_utils.data.spa_eng import TEXT_FILE, generate_pairs

    text = "".join(f"{english}\t{spanish}\n" for english, spanish in generate_pairs(SPA_ENG_PAIRS, seed=5))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(TEXT_FILE.as_posix(), text)


def write_dolly(path: Path) -> None:
    """A databricks-dolly-15k.jsonl: instruction, context, response, category; every third with a passage."""
    rng = random.Random(3)
    lines = []
    for i in range(DOLLY_RECORDS):
        a, b = rng.randrange(10), rng.randrange(10)
        lines.append(json.dumps({"instruction": f"What is {a} plus {b}?", "context": "A passage." if i % 3 == 0 else "",
                                 "response": f"{a} plus {b} is {a + b}.", "category": "open_qa"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_train_zip(path: Path) -> None:
    """The competition's train.zip layout: the embedded look-alike's drawings and broken files."""
    from dlwp_utils.data import cats_vs_dogs

    shutil.copyfile(cats_vs_dogs.embedded_train_zip(PER_CLASS), path)


def write_vgg16(path: Path) -> None:
    """VGG16's no-top weights in Keras 2's legacy h5 layout."""
    from tests.test_images_pretrained import keras2_vgg16_no_top

    keras2_vgg16_no_top(path)


def copy_gemma(folder: Path) -> None:
    """The tiny Gemma's preset files."""
    from dlwp_utils.data.tiny_gemma import tiny_gemma_preset

    shutil.copytree(tiny_gemma_preset(), folder, dirs_exist_ok=True)


def make(root: Path) -> Path:
    """Write the mirror and published.json under `root`, unless a complete one of this recipe is there.

    The fixtures are placed in `root/internet`, laid out by host and path, which a server on 127.0.0.1
    serves as the internet; the Kaggle files beside, for a fake kagglehub. The mirror is then made from
    them by the fetch command itself (dlwp_utils.data.mirror_fetch), as an instructor makes one.
    """
    from dlwp_utils.data import cats_vs_dogs, instructions, mnist, pretrained, regression, spa_eng
    from dlwp_utils.data import mirror as mirrors

    done = root / "published.json"
    if done.is_file() and json.loads(done.read_text()).get("recipe") == RECIPE:
        return root
    shutil.rmtree(root, ignore_errors=True)
    internet, kaggle = root / "internet", root / "kaggle"
    published: dict[str, str] = {}

    def place(folder: Path, relative: str, write) -> Path:
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
        return path

    published["mnist"] = sha256(place(internet, mirrors.http_relative(mnist.MNIST_URL), write_mnist))
    for name, spec in regression.DATASETS.items():
        published[f"house-prices-{name}"] = sha256(place(internet, mirrors.http_relative(spec.url),
                                                         lambda p, n=name: write_house_prices(p, n)))
    for model, (_, origin, _, _) in pretrained.IMAGENET_NO_TOP.items():
        published[f"imagenet-{model.lower()}"] = md5(place(internet, mirrors.http_relative(origin), write_vgg16))
    published["spa-eng"] = sha256(place(internet, mirrors.http_relative(spa_eng.SPA_ENG_URL), write_spa_eng))
    published["dolly"] = sha256(place(internet, mirrors.http_relative(instructions.DOLLY_URL), write_dolly))
    place(kaggle, "train.zip", write_train_zip)
    copy_gemma(kaggle / BOOK_PRESET / "3")
    fetch_mirror(root / "mirror", internet, kaggle, published)
    done.write_text(json.dumps({"recipe": RECIPE, "published": published}, indent=1) + "\n")  # last: marks it whole
    return root


def fetch_mirror(folder: Path, internet: Path, kaggle: Path, published: dict[str, str]) -> None:
    """`python -m dlwp_utils.data.mirror fetch`'s own code, with the internet and Kaggle stood in for:
    every URL is served from `internet` on 127.0.0.1, kagglehub hands out the files in `kaggle`, and
    the fixtures' checksums stand in for the published ones."""
    import functools
    import http.server
    import os
    import threading
    import urllib.parse
    import urllib.request
    from unittest import mock

    import kagglehub

    from dlwp_utils.data import mirror_fetch
    from tests.book_path.site.sitecustomize import use_fixture_checksums

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(internet)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = f"http://127.0.0.1:{server.server_address[1]}"
    real_urlopen = urllib.request.urlopen

    def urlopen(request, *args, **kwargs):  # https://host/path -> the local internet's /host/path
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        parts = urllib.parse.urlsplit(url)
        rewritten = f"{local}/{parts.netloc}{parts.path}"
        if isinstance(request, urllib.request.Request):
            request = urllib.request.Request(rewritten, headers=dict(request.header_items()))
        else:
            request = rewritten
        return real_urlopen(request, *args, **kwargs)

    use_fixture_checksums(published)
    credentials = {"KAGGLE_USERNAME": "dlwp-fixture-user", "KAGGLE_KEY": "dlwpfixturekey000000000000000000"}
    try:
        with mock.patch.object(urllib.request, "urlopen", urlopen), mock.patch.dict(os.environ, credentials), \
                mock.patch.object(kagglehub, "competition_download", lambda *a, **k: str(kaggle / "train.zip")), \
                mock.patch.object(kagglehub, "model_download", lambda *a, **k: str(kaggle / BOOK_PRESET / "3")):
            problems = mirror_fetch.fetch(folder, presets=[BOOK_PRESET])
    finally:
        server.shutdown()
        server.server_close()
    if problems:
        raise SystemExit("fetch could not make the book path's mirror:\n" + "\n".join(problems))


if __name__ == "__main__":
    print(make(Path(sys.argv[1]).resolve()))
