"""Image files on disk: find the ones a decoder would choke on, and count images per class folder."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from dlwp_utils.errors import DataError

# What keras.utils.image_dataset_from_directory lists and what tf.io.decode_image can decode.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
DECODABLE_FORMATS = ("BMP", "GIF", "JPEG", "PNG")


def bad_image_reason(path: Path) -> str | None:
    """Why `path` is not a usable image (empty, not an image, truncated or corrupt), or None if it is one."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        return f"unreadable ({err.strerror or err})"
    if size == 0:
        return "empty file (0 bytes)"
    try:
        with Image.open(path) as image:
            if image.format not in DECODABLE_FORMATS:
                return f"{image.format} image, which TensorFlow's decoder cannot read"
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
            if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                return f"{image.mode} colour mode, which TensorFlow's decoder cannot read"
    except UnidentifiedImageError:
        return "not an image"
    except (OSError, SyntaxError, ValueError) as err:  # PIL's errors for truncated / corrupt data
        return f"truncated or corrupt ({str(err).strip() or type(err).__name__})"
    return None


def find_bad_images(paths: Iterable[Path]) -> dict[Path, str]:
    """The files among `paths` that are not usable images, each with the reason."""
    found = {}
    for path in paths:
        reason = bad_image_reason(path)
        if reason is not None:
            found[Path(path)] = reason
    return found


def describe_bad_images(bad: dict[Path, str], *, shown: int = 5) -> str:
    """One line naming the first few bad files and their reasons, e.g. for a report."""
    if not bad:
        return "no unreadable images"
    items = [f"{path.name} ({reason})" for path, reason in sorted(bad.items())[:shown]]
    more = f" and {len(bad) - shown} more" if len(bad) > shown else ""
    return f"{len(bad)} unreadable image{'s' if len(bad) != 1 else ''} left out: {', '.join(items)}{more}"


def count_images(directory: Path, class_names: Sequence[str]) -> dict[str, int]:
    """Image files per class folder of `directory`; a DataError naming the path if one is missing or empty.

    This is the layout keras.utils.image_dataset_from_directory expects: one sub-folder per class.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"The folder {directory} does not exist. Run the cells that build it (from the top), "
                        "or check the path.")
    counts = {}
    for name in class_names:
        folder = directory / name
        if not folder.is_dir():
            present = sorted(p.name for p in directory.iterdir() if p.is_dir()) or ["no sub-folders"]
            raise DataError(f"The class folder {folder} is missing ({directory} has: {', '.join(present)}). "
                            f"Expected one sub-folder per class: {', '.join(class_names)}. Delete {directory} "
                            "and run the cell that builds it again.")
        counts[name] = sum(1 for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        if counts[name] == 0:
            raise DataError(f"The class folder {folder} holds no images ({', '.join(IMAGE_EXTENSIONS)}). Delete "
                            f"{directory} and run the cell that builds it again.")
    return counts
