"""dlwp_utils.data.images: finding files a decoder would choke on, and class folders that are missing or empty."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dlwp_utils.data.images import bad_image_reason, count_images, describe_bad_images, find_bad_images
from dlwp_utils.errors import DataError


def picture(path, fmt="JPEG", mode="RGB", size=(24, 18)):
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, size[::-1] + (3,), dtype=np.uint8))
    image.convert(mode).save(path, format=fmt)
    return path


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "BMP"])
def test_images_tensorflow_decodes_are_fine(tmp_path, fmt):
    assert bad_image_reason(picture(tmp_path / f"x.{fmt.lower()}", fmt)) is None


def test_each_kind_of_bad_file_gets_its_reason(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "page.jpg").write_text("<html>403 Forbidden</html>")
    whole = picture(tmp_path / "whole.jpg", size=(64, 64)).read_bytes()
    (tmp_path / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    picture(tmp_path / "x.tiff", "TIFF")
    picture(tmp_path / "cmyk.jpg", mode="CMYK")
    assert bad_image_reason(tmp_path / "empty.jpg") == "empty file (0 bytes)"
    assert bad_image_reason(tmp_path / "page.jpg") == "not an image"
    assert bad_image_reason(tmp_path / "cut.jpg").startswith("truncated or corrupt (")
    assert "TIFF image" in bad_image_reason(tmp_path / "x.tiff")
    assert "CMYK colour mode" in bad_image_reason(tmp_path / "cmyk.jpg")
    assert bad_image_reason(tmp_path / "gone.jpg").startswith("unreadable (")


def test_find_counts_and_describe_reports(tmp_path):
    good = [picture(tmp_path / f"ok{i}.jpg") for i in range(3)]
    bad = []
    for i in range(7):
        (tmp_path / f"bad{i}.jpg").write_bytes(b"")
        bad.append(tmp_path / f"bad{i}.jpg")
    found = find_bad_images(good + bad)
    assert sorted(found) == bad
    line = describe_bad_images(found)
    assert line.startswith("7 unreadable images left out: bad0.jpg (empty file (0 bytes))")
    assert line.endswith("and 2 more") and "bad5.jpg" not in line
    assert describe_bad_images({}) == "no unreadable images"
    assert describe_bad_images({bad[0]: "x"}).startswith("1 unreadable image left out")


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "train"
    for name, n in (("cat", 3), ("dog", 2)):
        (root / name).mkdir(parents=True)
        for i in range(n):
            picture(root / name / f"{name}.{i}.jpg")
    (root / "dog" / "notes.txt").write_text("not counted")
    return root


def test_count_images_per_class(folder):
    assert count_images(folder, ["cat", "dog"]) == {"cat": 3, "dog": 2}


def test_a_missing_class_folder_is_named(folder):
    with pytest.raises(DataError) as err:
        count_images(folder, ["cat", "dog", "bird"])
    assert str(folder / "bird") in str(err.value) and "has: cat, dog" in str(err.value)


def test_an_empty_class_folder_is_named(folder):
    for path in (folder / "dog").iterdir():
        path.unlink()
    with pytest.raises(DataError) as err:
        count_images(folder, ["cat", "dog"])
    assert f"The class folder {folder / 'dog'} holds no images" in str(err.value)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(DataError, match=str(tmp_path / "nowhere")):
        count_images(tmp_path / "nowhere", ["cat"])
