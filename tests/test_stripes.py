"""dlwp_utils.data.stripes: the generated 100-class pictures of chapter08's compact Xception."""

from __future__ import annotations

import numpy as np
import pytest

from dlwp_utils.data import striped_pictures
from dlwp_utils.errors import ProfileError


def test_shapes_dtypes_and_balanced_classes():
    pictures, labels = striped_pictures(300, size=40, classes=100, seed=1)
    assert pictures.shape == (300, 40, 40, 3) and pictures.dtype == np.uint8
    assert labels.shape == (300,) and labels.dtype == np.int64
    assert np.array_equal(np.bincount(labels, minlength=100), np.full(100, 3))
    assert labels[:100].tolist() != sorted(labels[:100].tolist())  # shuffled, not in class order


def test_the_same_arguments_give_the_same_pictures():
    a, la = striped_pictures(20, size=16, seed=3)
    b, lb = striped_pictures(20, size=16, seed=3)
    c, _ = striped_pictures(20, size=16, seed=4)
    assert np.array_equal(a, b) and np.array_equal(la, lb) and not np.array_equal(a, c)


def test_colour_and_stripe_width_tell_the_classes_apart():
    pictures, labels = striped_pictures(200, size=64, classes=100, seed=0)
    pictures = pictures.astype(float)
    colour = pictures.mean(axis=(1, 2))  # the hue: same for classes 0-9, different for 10-19
    same_hue = np.linalg.norm(colour[labels == 0].mean(0) - colour[labels == 9].mean(0))
    other_hue = np.linalg.norm(colour[labels == 0].mean(0) - colour[labels == 50].mean(0))
    assert other_hue > 5 * same_hue
    rows = pictures.mean(axis=(2, 3))  # stripes are horizontal: the row profile has the period
    def period(row):
        spectrum = np.abs(np.fft.rfft(row - row.mean()))
        return len(row) / np.argmax(spectrum)
    assert period(rows[labels == 0][0]) < 6 and period(rows[labels == 9][0]) > 20  # 4 px vs 31 px


@pytest.mark.parametrize("classes", [1, 101])
def test_impossible_class_counts_are_refused(classes):
    with pytest.raises(ValueError, match="2 to 100 classes"):
        striped_pictures(10, classes=classes)


def test_zero_pictures_is_a_clear_error():
    with pytest.raises(ProfileError, match="count must be a number above zero"):
        striped_pictures(0)
