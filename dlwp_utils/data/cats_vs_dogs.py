"""Dogs vs cats: the Kaggle competition's train.zip (kagglehub), or a generated look-alike, and the
book's small subset copied into dogs_vs_cats_small/{train,validation,test}/{cat,dog}.

Both profiles end in the same place: a folder of cat.N.jpg and dog.N.jpg files extracted from a
train.zip, so the subset code and everything after it is the same.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np

from dlwp_utils.data import mirror as mirrors
from dlwp_utils.data import store
from dlwp_utils.data.download import extract_zip
from dlwp_utils.data.store import cache_dir
from dlwp_utils.data.images import describe_bad_images, find_bad_images
from dlwp_utils.errors import DataError
from dlwp_utils.kaggle import kaggle_download
from dlwp_utils.profile import Profile, use_profile

COMPETITION = "dogs-vs-cats"
RULES_PAGE = "https://www.kaggle.com/c/dogs-vs-cats/rules"
TRAIN_ZIP_BYTES = 543_000_000  # about the size of the competition's train.zip
CLASSES = ("cat", "dog")

# The embedded look-alike of train.zip: how many pictures per class, and which ones are planted
# broken on purpose (real downloads can hold such files; the subset code must leave them out).
EMBEDDED_PER_CLASS = 1000  # 100 train, 100 validation and 400 test pictures per class, and room to spare
EMBEDDED_VERSION = 2  # bump when the drawings change: the cached zip's name depends on it
EMBEDDED_ZIP_DATE = (2024, 1, 1, 0, 0, 0)  # every member's timestamp: the same zip, byte for byte
EMBEDDED_BROKEN = {"cat.7.jpg": "empty", "dog.42.jpg": "text", "cat.63.jpg": "truncated", "dog.88.jpg": "noise"}


def dogs_vs_cats_train(profile: Profile | str | None = None) -> Path:
    """The folder of cat.N.jpg / dog.N.jpg files from the competition's train.zip, extracted.

    Book profile: train.zip from the Kaggle competition through kagglehub (credentials needed,
    rules accepted). Embedded profile: a generated look-alike train.zip. One printed line says which.
    """
    if not isinstance(profile, Profile):
        profile = use_profile(profile)
    if profile.embedded:
        archive = embedded_train_zip(EMBEDDED_PER_CLASS)
        folder = extract_zip(archive, archive.with_suffix("")) / "train"
        print(f"Dogs vs cats: embedded look-alike, {EMBEDDED_PER_CLASS:,} generated cat and {EMBEDDED_PER_CLASS:,} "
              f"dog pictures (JPEGs of varied sizes, {len(EMBEDDED_BROKEN)} broken on purpose) in {folder}. "
              'PROFILE = "book" downloads the 25,000 Kaggle photos.')
        return folder
    archive = download_train_zip()
    folder = extract_zip(archive, cache_dir() / "dogs-vs-cats") / "train"
    check_train_folder(folder)
    print(f"Dogs vs cats: the Kaggle competition's train.zip, extracted in {folder}.")
    return folder


def download_train_zip() -> Path:
    """train.zip of the Kaggle competition, through kagglehub (cached in $DLWP_CACHE_DIR/kagglehub, see kaggle_download).

    Only train.zip is fetched (543 MB), not the whole competition (test1.zip is not used). A
    cached copy that extract_zip found corrupt is deleted there, so kagglehub fetches it again.
    With $DLWP_MIRROR set, it is copied from the mirror instead, with no credentials needed.
    """
    source = mirrors.active_mirror()
    if source is not None:
        relative = mirrors.competition_relative(COMPETITION, "train.zip")
        return mirrors.fetch_into_cache(source, relative, cache_dir("mirror") / relative,
                                        "the dogs-vs-cats competition's train.zip")
    import kagglehub

    return kaggle_download(lambda: kagglehub.competition_download(COMPETITION, path="train.zip"),
                           what="the dogs-vs-cats competition data", page=RULES_PAGE, consent="the competition rules",
                           size=TRAIN_ZIP_BYTES)


def check_train_folder(folder: Path) -> None:
    """Raise a DataError naming `folder` unless it holds cat.N.jpg and dog.N.jpg files."""
    for name in CLASSES:
        if not folder.is_dir() or not any(folder.glob(f"{name}.*.jpg")):
            raise DataError(f"{folder} holds no {name}.N.jpg files: train.zip is not laid out like the "
                            "competition's (train/cat.0.jpg, train/dog.0.jpg, ...). Delete "
                            f"{folder.parent} and run this cell again.")


def embedded_train_zip(per_class: int) -> Path:
    """Generate (once, cached, with store.build) a train.zip laid out like the competition's: train/cat.N.jpg, train/dog.N.jpg."""
    from dlwp_utils.data.pet_drawings import draw_pet

    recipe = json.dumps([EMBEDDED_VERSION, per_class, EMBEDDED_BROKEN], sort_keys=True).encode()
    target = cache_dir() / f"dogs-vs-cats-embedded-{hashlib.sha256(recipe).hexdigest()[:10]}.zip"

    def write_zip(path: Path) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
            for index in range(per_class):
                for label, name in enumerate(CLASSES):
                    fname = f"{name}.{index}.jpg"
                    rng = np.random.default_rng([EMBEDDED_VERSION, label, index])
                    member = zipfile.ZipInfo(f"train/{fname}", date_time=EMBEDDED_ZIP_DATE)
                    archive.writestr(member, _broken(EMBEDDED_BROKEN[fname], draw_pet(name, rng))
                                     if fname in EMBEDDED_BROKEN else draw_pet(name, rng))

    return store.build(target, write_zip, what="the embedded dogs-vs-cats train.zip")


def _broken(kind: str, jpeg: bytes) -> bytes:
    """A broken version of a picture, like the ones found in real downloads."""
    return {"empty": b"", "text": b"<html><body>404 Not Found</body></html>\n", "truncated": jpeg[: len(jpeg) // 3],
            "noise": np.random.default_rng(len(jpeg)).integers(0, 256, 2048, dtype=np.uint8).tobytes()}[kind]


def make_subsets(original_dir: Path, new_base_dir: Path, splits: dict[str, tuple[int, int]],
                 classes: tuple[str, ...] = CLASSES) -> Path:
    """Copy {class}.{i}.jpg for i in each split's [start, end) into new_base_dir/split/class, atomically.

    Unreadable images (empty, not an image, truncated) are left out, counted and reported. The
    subset is built with store.build: in a temporary sibling folder, renamed into place with a
    manifest recording what it holds. A complete subset with the same splits is reused; a
    half-built, damaged or different one is rebuilt.
    """
    original_dir, new_base_dir = Path(original_dir), Path(new_base_dir)
    wanted = {"source": str(original_dir.resolve()), "splits": {k: list(v) for k, v in splits.items()},
              "classes": list(classes)}
    if store.check(new_base_dir, wanted) is None:
        print(f"Reusing the complete subset in {new_base_dir} ({_summary(store.read_manifest(new_base_dir)['info'])}).")
        return new_base_dir
    files = {(split, name): [original_dir / f"{name}.{i}.jpg" for i in range(start, end)]
             for split, (start, end) in splits.items() for name in classes}
    missing = [p for paths in files.values() for p in paths if not p.is_file()]
    if missing:
        raise DataError(f"{len(missing)} of the subset's files are missing from {original_dir}, e.g. "
                        f"{missing[0].name}. That folder must hold {', '.join(f'{c}.N.jpg' for c in classes)} up to "
                        f"N = {max(end for _, end in splits.values()) - 1}. Use smaller splits, or delete "
                        f"{original_dir.parent} and run the loading cell again.")
    bad = find_bad_images(p for paths in files.values() for p in paths)
    kept = {group: [p for p in paths if p not in bad] for group, paths in files.items()}

    def copy(folder: Path) -> dict:
        counts: dict[str, dict[str, int]] = {}
        for (split, name), paths in kept.items():
            (folder / split / name).mkdir(parents=True)
            for path in paths:
                shutil.copyfile(path, folder / split / name / path.name)
            counts.setdefault(split, {})[name] = len(paths)
        return dict(wanted, counts=counts, left_out={p.name: why for p, why in sorted(bad.items())})

    where = new_base_dir.absolute().parent
    here = " (the folder this notebook runs in)" if where == Path.cwd() else ""
    store.build(new_base_dir, copy, what=f"the subset {new_base_dir.name}", key=wanted, redo="rebuilding it",
                needs=store.space_for((p.stat().st_size for paths in kept.values() for p in paths), where),
                moved_by=f"The subset goes to {where}{here}: give make_subsets a new_base_dir in a folder you "
                         "can write to, or start the notebook from one.")
    print(f"Built the subset in {new_base_dir} ({_summary(store.read_manifest(new_base_dir)['info'])}).")
    if bad:
        print(f"Checked {sum(len(p) for p in files.values()):,} images: {describe_bad_images(bad)}.")
    return new_base_dir


def _summary(marker: dict) -> str:
    parts = [f"{split} {'/'.join(str(n) for n in by_class.values())}" for split, by_class in marker["counts"].items()]
    left_out = len(marker.get("left_out", {}))
    return f"{' | '.join(parts)} {'/'.join(marker['classes'])}" + (f"; {left_out} unreadable left out" if left_out else "")
