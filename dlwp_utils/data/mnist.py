"""MNIST: the real 70,000 digits (keras.utils.get_file), or an offline stand-in of real handwritten digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlwp_utils.data.download import fetch_file, read_npz
from dlwp_utils.errors import DataError
from dlwp_utils.profile import Profile, use_profile

# The file keras.datasets.mnist.load_data() downloads, and its published checksum.
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
MNIST_BYTES = 11_490_434  # its size: the disk space a download needs

EMBEDDED_TEST_FRACTION = 0.2
Split = tuple[np.ndarray, np.ndarray]


def load_mnist(profile: Profile | str | None = None) -> tuple[Split, Split]:
    """((train_images, train_labels), (test_images, test_labels)) as uint8, images 28x28, labels 0-9.

    The book profile downloads the real MNIST; the embedded profile builds the stand-in offline.
    One printed line says which one is in use.
    """
    if not isinstance(profile, Profile):
        profile = use_profile(profile)
    if profile.embedded:
        train, test = embedded_mnist()
        print(
            f"MNIST: embedded stand-in, {len(train[0]):,} train / {len(test[0]):,} test real handwritten "
            "digits (scikit-learn's 8x8 digits, upscaled to 28x28 like MNIST). "
            'PROFILE = "book" loads the 70,000 MNIST digits.'
        )
        return train, test
    path = fetch_file("mnist.npz", MNIST_URL, file_hash=MNIST_SHA256, size=MNIST_BYTES)
    train, test = read_mnist_npz(path)
    print(f"MNIST: {len(train[0]):,} train / {len(test[0]):,} test digits from {path}.")
    return train, test


def read_mnist_npz(path: Path) -> tuple[Split, Split]:
    """Read and validate an mnist.npz; a file that is not one is deleted with a clear error."""
    arrays = read_npz(path, ("x_train", "y_train", "x_test", "y_test"), what="MNIST")
    train = validate_digits(arrays["x_train"], arrays["y_train"], source=str(path))
    test = validate_digits(arrays["x_test"], arrays["y_test"], source=str(path))
    return train, test


def validate_digits(images: np.ndarray, labels: np.ndarray, *, source: str) -> Split:
    """Check MNIST's contract: uint8 images of 28x28, one uint8 label 0-9 per image."""
    problems = []
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        problems.append(f"images are {images.dtype} {images.shape}, expected uint8 (n, 28, 28)")
    if labels.dtype != np.uint8 or labels.shape != (len(images),):
        problems.append(f"labels are {labels.dtype} {labels.shape}, expected uint8 ({len(images)},)")
    elif labels.size and (labels.min() < 0 or labels.max() > 9):
        problems.append(f"labels run from {labels.min()} to {labels.max()}, expected 0-9")
    if problems:
        raise DataError(f"{source} does not look like MNIST: {'; '.join(problems)}.")
    return images, labels


def embedded_mnist() -> tuple[Split, Split]:
    """The 1,797 scikit-learn digits placed in 28x28 like MNIST; a fixed split, no network."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = np.round(digits.images * (255 / 16)).astype(np.uint8)  # 8x8, values 0-16 -> 0-255
    # MNIST digits fit a 20x20 box centred in 28x28: do the same.
    images = np.zeros((len(small), 28, 28), dtype=np.uint8)
    for i, image in enumerate(small):
        images[i, 4:24, 4:24] = np.asarray(Image.fromarray(image).resize((20, 20), Image.BILINEAR))
    labels = digits.target.astype(np.uint8)
    order = np.random.default_rng(0).permutation(len(images))  # fixed: the same split every run
    n_test = int(len(images) * EMBEDDED_TEST_FRACTION)
    test, train = order[:n_test], order[n_test:]
    return (images[train], labels[train]), (images[test], labels[test])
