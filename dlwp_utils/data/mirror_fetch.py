"""`python -m dlwp_utils.data.mirror fetch DIR`: every real source the notebooks use, downloaded into a mirror.

Run it on a connected machine. It downloads the HTTP files (MNIST, the house prices, the ImageNet
weights of VGG16, spa-eng.zip, dolly) with a progress bar, resuming a download that was cut off,
checks each against its published checksum where there is one, and lays them out as
dlwp_utils.data.mirror describes, with their sizes and SHA-256 in DIR/index.json. Then, with your
Kaggle credentials, the dogs-vs-cats competition's train.zip and the Gemma preset: Kaggle's terms
(the competition rules, the Gemma licence) stay yours and your learners' to accept.

Serve DIR to a classroom with any static web server, e.g. `python -m http.server -d DIR 8000`,
and set DLWP_MIRROR=http://<that machine>:8000 in each learner's environment (or DLWP_MIRROR=DIR
on a shared disk). Running fetch again downloads only what is missing or does not match.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from dlwp_utils.data import mirror as mirrors
from dlwp_utils.data import store
from dlwp_utils.data.download import matches
from dlwp_utils.errors import DLWPError

CHUNK = 1 << 20  # bytes read at a time
PART = ".part"  # suffix of a download under way: resumed by the next run


@dataclass(frozen=True)
class HttpSource:
    """One HTTP file a notebook downloads: its short name, URL, published checksum (or None) and what it is."""

    name: str
    url: str
    file_hash: str | None
    what: str


def http_sources() -> list[HttpSource]:
    """Every HTTP file the book profile downloads, read from the loaders (so they cannot disagree)."""
    from dlwp_utils.data import instructions, mnist, pretrained, regression, spa_eng

    sources = [HttpSource("mnist", mnist.MNIST_URL, mnist.MNIST_SHA256, "MNIST")]
    sources += [HttpSource(f"house-prices-{name}", spec.url, spec.sha256, spec.title)
                for name, spec in regression.DATASETS.items()]
    sources += [HttpSource(f"imagenet-{model.lower()}", origin, md5, f"the ImageNet weights of {model}")
                for model, (_, origin, md5, _) in pretrained.IMAGENET_NO_TOP.items()]
    sources.append(HttpSource("spa-eng", spa_eng.SPA_ENG_URL, None, "the Spanish-English pairs"))
    sources.append(HttpSource("dolly", instructions.DOLLY_URL, instructions.DOLLY_SHA256, "databricks-dolly-15k"))
    return sources


class Index:
    """DIR/index.json: read once, updated and rewritten (in one rename) after each file."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / mirrors.INDEX
        try:
            self.files: dict[str, dict] = json.loads(self.path.read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            self.files = {}

    def holds(self, folder: Path, relative: str) -> bool:
        """True if the file is in the mirror and matches its entry."""
        entry, path = self.files.get(relative), folder / relative
        return bool(entry) and path.is_file() and path.stat().st_size == entry["bytes"] \
            and store.sha256_of(path) == entry["sha256"]

    def add(self, folder: Path, relative: str) -> None:
        """Record one file's size and SHA-256, and save the index."""
        path = folder / relative
        self.files[relative] = {"bytes": path.stat().st_size, "sha256": store.sha256_of(path)}
        store.write_text(self.path, json.dumps({"files": dict(sorted(self.files.items()))}, indent=1) + "\n")


def download(url: str, target: Path, label: str, out: TextIO) -> None:
    """`url` into `target`, through `target`.part, resumed from where an earlier run stopped if the server allows."""
    partial = target.with_name(target.name + PART)
    done = partial.stat().st_size if partial.is_file() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={done}-"} if done else {})
    try:
        answer = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as err:
        if err.code != 416:  # 416: the partial file is already whole
            raise
        partial.replace(target)
        return
    with answer:
        resumed = done > 0 and answer.status == 206
        if not resumed:
            done = 0
        length = answer.headers.get("Content-Length")
        total = done + int(length) if length and length.isdigit() else None
        if resumed:
            print(f"  {label}: resuming at {_mb(done)}", file=out)
        bar = Progress(label, total, out)
        with open(partial, "ab" if resumed else "wb") as sink:
            for block in iter(lambda: answer.read(CHUNK), b""):
                sink.write(block)
                done += len(block)
                bar.show(done)
        bar.finish(done)
    if total is not None and done != total:
        raise OSError(f"the download stopped at {_mb(done)} of {_mb(total)}; run fetch again to resume it")
    partial.replace(target)


class Progress:
    """One line that shows how much of a download has arrived."""

    def __init__(self, label: str, total: int | None, out: TextIO) -> None:
        self.label, self.total, self.out, self.shown = label, total, out, 0.0
        self.live = bool(getattr(out, "isatty", lambda: False)())  # a log file gets the last line only

    def show(self, done: int) -> None:
        """Redraw the line, at most ten times a second."""
        if self.live and time.monotonic() - self.shown > 0.1:
            self.shown = time.monotonic()
            of = f" / {_mb(self.total)} ({100 * done / self.total:3.0f}%)" if self.total else ""
            self.out.write(f"\r  {self.label}: {_mb(done)}{of}")
            self.out.flush()

    def finish(self, done: int) -> None:
        """End the line with the size that arrived."""
        if self.live:
            self.out.write(f"\r  {self.label}: {_mb(done)} downloaded{' ' * 20}\n")


def fetch_http(folder: Path, index: Index, source: HttpSource, out: TextIO) -> None:
    """One HTTP file into the mirror, checked against its published checksum; a DLWPError if that fails."""
    relative = mirrors.http_relative(source.url)
    target = folder / relative
    if index.holds(folder, relative) and (source.file_hash is None or matches(target, source.file_hash)):
        print(f"  {source.name}: already in the mirror ({_mb(target.stat().st_size)})", file=out)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        download(source.url, target, source.name, out)
    except (OSError, urllib.error.URLError) as err:
        if store.is_write_failure(err):
            raise store.write_failed(err, target.parent, source.what, kept=f"The part downloaded so far is "
                                     f"kept as {target.name}{PART}; fetch resumes it.") from None
        raise DLWPError(f"Could not download {source.what} from {source.url}: {mirrors.error_reason(err)}. Run fetch "
                        "again: it resumes where it stopped.") from None
    if source.file_hash is not None and not matches(target, source.file_hash):
        target.unlink()
        raise DLWPError(f"{source.what} downloaded from {source.url} does not match its published checksum "
                        f"{source.file_hash}; it was deleted. Run fetch again; if it fails again, the file on the "
                        "server has changed: please report it.")
    index.add(folder, relative)
    print(f"  {source.name}: {_mb(target.stat().st_size)} -> {relative}", file=out)


def copy_in(folder: Path, index: Index, downloaded: Path, relative: str) -> int:
    """A file or folder downloaded elsewhere (kagglehub's cache) copied into the mirror; the bytes copied."""
    files = [downloaded] if downloaded.is_file() else sorted(p for p in downloaded.rglob("*") if p.is_file())
    copied = 0
    for path in files:
        name = relative if downloaded.is_file() else f"{relative}/{path.relative_to(downloaded).as_posix()}"
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(target.name + PART)
        shutil.copyfile(path, staged)
        staged.replace(target)
        index.add(folder, name)
        copied += target.stat().st_size
    return copied


def fetch_kaggle(folder: Path, index: Index, presets: list[str], out: TextIO) -> None:
    """train.zip of dogs-vs-cats and each Gemma preset, through kagglehub with the user's credentials."""
    from dlwp_utils.data import cats_vs_dogs, gemma

    print("Kaggle: the dogs-vs-cats competition rules and the Gemma licence must be accepted on your Kaggle "
          f"account ({cats_vs_dogs.RULES_PAGE}, https://www.kaggle.com/models/keras/gemma3); fetch uses your "
          "credentials. Whoever uses this mirror is bound by the same terms: make sure your learners accept them.",
          file=out)
    relative = mirrors.competition_relative(cats_vs_dogs.COMPETITION, "train.zip")
    if index.holds(folder, relative):
        print(f"  dogs-vs-cats train.zip: already in the mirror", file=out)
    else:
        size = copy_in(folder, index, Path(cats_vs_dogs.download_train_zip()), relative)
        print(f"  dogs-vs-cats train.zip: {_mb(size)} -> {relative}", file=out)
    for preset in presets:
        handle = gemma.kaggle_handle(preset)
        downloaded = Path(gemma.real_preset(preset))
        if len(handle.split("/")) == 4:
            handle += "/" + (downloaded.name if downloaded.name.isdigit() else "1")
        size = copy_in(folder, index, downloaded, mirrors.model_relative(handle))
        print(f"  {preset}: {_mb(size)} -> {mirrors.model_relative(handle)}/", file=out)


def fetch(folder: Path, *, only: set[str] | None = None, kaggle: bool = True, presets: list[str] | None = None,
          out: TextIO | None = None) -> list[str]:
    """Fill the mirror `folder` (progress on `out`, default stdout); the problems met (each explained), if any."""
    out = out or sys.stdout
    from dlwp_utils.data.gemma import DEFAULT_PRESET

    folder = Path(folder).expanduser().resolve()
    store.ensure_writable(folder, what="the mirror", moved_by="Choose another folder for DIR.")
    index = Index(folder)
    problems: list[str] = []
    sources = [s for s in http_sources() if only is None or s.name in only]
    steps: list[tuple[str, Callable[[], None]]] = [(s.name, lambda s=s: fetch_http(folder, index, s, out))
                                                   for s in sources]
    if kaggle:
        steps.append(("kaggle", lambda: fetch_kaggle(folder, index, presets or [DEFAULT_PRESET], out)))
    saved = os.environ.pop(mirrors.MIRROR_ENV, None)  # fetch reads the sources themselves, never a mirror
    try:
        for name, step in steps:
            try:
                step()
            except DLWPError as err:
                problems.append(f"{name}: {err}")
                print(f"  {name}: FAILED. {err}", file=out)
    finally:
        if saved is not None:
            os.environ[mirrors.MIRROR_ENV] = saved
    total = sum(entry["bytes"] for entry in index.files.values())
    print(f"Mirror {folder}: {len(index.files)} files, {_mb(total)}. Serve it with `python -m http.server -d "
          f"{folder} 8000` and set {mirrors.MIRROR_ENV}=http://<this machine>:8000 (or {mirrors.MIRROR_ENV}={folder}).",
          file=out)
    return problems


def _mb(size: int | None) -> str:
    return "?" if size is None else f"{size / 1e6:,.1f} MB"


def main(argv: list[str] | None = None) -> int:
    """The command line: fetch DIR [--only NAMES] [--no-kaggle] [--preset NAME ...]."""
    parser = argparse.ArgumentParser(prog="python -m dlwp_utils.data.mirror", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("fetch", help="download every real source into DIR")
    command.add_argument("folder", type=Path, metavar="DIR")
    names = [s.name for s in http_sources()]
    command.add_argument("--only", help=f"comma-separated, of {', '.join(names)} (default: all)")
    command.add_argument("--no-kaggle", action="store_true", help="skip train.zip and the Gemma preset")
    command.add_argument("--preset", action="append", help="a Gemma preset to fetch (default: gemma3_1b); repeatable")
    args = parser.parse_args(argv)
    only = {n.strip() for n in args.only.split(",") if n.strip()} if args.only else None
    if only and only - set(names):
        parser.error(f"--only: unknown {', '.join(sorted(only - set(names)))}; known: {', '.join(names)}")
    try:
        problems = fetch(args.folder, only=only, kaggle=not args.no_kaggle and not only, presets=args.preset)
    except DLWPError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if problems:
        print(f"{len(problems)} source(s) failed (above); the others are in the mirror. Fix the cause and run "
              "fetch again.", file=sys.stderr)
        return 1
    return 0
