"""House prices for regression: the Boston housing file of keras.datasets.boston_housing, or an
offline stand-in of real tabular data shipped with scikit-learn (the diabetes progression data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlwp_utils.data.download import fetch_file, read_npz
from dlwp_utils.errors import DataError
from dlwp_utils.profile import Profile, use_profile

# The file keras.datasets.boston_housing.load_data() downloads, and its published checksum.
BOSTON_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
BOSTON_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"
BOSTON_BYTES = 57_026  # its size: the disk space a download needs
BOSTON_FEATURES = 13

# keras.datasets.boston_housing.load_data's defaults: shuffle with this seed, last 20% for test.
TEST_SPLIT = 0.2
SPLIT_SEED = 113

Split = tuple[np.ndarray, np.ndarray]


def load_boston_housing(profile: Profile | str | None = None) -> tuple[Split, Split]:
    """((x_train, y_train), (x_test, y_test)): float64 features (n, d) and float64 targets (n,).

    The book profile downloads the Boston housing prices (13 features, the median price in k$),
    split exactly as keras.datasets.boston_housing.load_data() splits them. The embedded profile
    uses scikit-learn's diabetes data (10 features, disease progression), split the same way.
    One printed line says which one is in use.
    """
    if not isinstance(profile, Profile):
        profile = use_profile(profile)
    if profile.embedded:
        train, test = embedded_regression()
        print(
            f"Regression data: embedded stand-in, scikit-learn's diabetes data, {len(train[0])} train / "
            f"{len(test[0])} test patients, {train[0].shape[1]} features, target = disease progression "
            'after one year (25 to 346). PROFILE = "book" loads the Boston housing prices.'
        )
        return train, test
    path = fetch_file("boston_housing.npz", BOSTON_URL, file_hash=BOSTON_SHA256, size=BOSTON_BYTES)
    x, y = read_boston_npz(path)
    train, test = keras_split(x, y)
    print(
        f"Regression data: Boston housing prices, {len(train[0])} train / {len(test[0])} test districts, "
        f"{x.shape[1]} features, target = median home price in k$, from {path}."
    )
    return train, test


def read_boston_npz(path: Path) -> Split:
    """Read and validate a boston_housing.npz (x, y); a file that is not one is deleted with a clear error."""
    arrays = read_npz(path, ("x", "y"), what="Boston housing")
    return validate_regression(arrays["x"], arrays["y"], source=str(path), features=BOSTON_FEATURES)


def validate_regression(x: np.ndarray, y: np.ndarray, *, source: str, features: int | None = None) -> Split:
    """Check a regression table: float features (n, d), one finite float target per row."""
    problems = []
    width = f"{features}" if features else "d"
    if x.dtype.kind != "f" or x.ndim != 2 or (features and x.shape[1] != features):
        problems.append(f"features are {x.dtype} {x.shape}, expected floats (n, {width})")
    elif not np.isfinite(x).all():
        problems.append("features contain NaN or infinite values")
    if y.dtype.kind != "f" or y.shape != (len(x),):
        problems.append(f"targets are {y.dtype} {y.shape}, expected floats ({len(x)},)")
    elif not np.isfinite(y).all():
        problems.append("targets contain NaN or infinite values")
    if not problems and len(x) < 2:
        problems.append(f"it has {len(x)} rows, too few to split into train and test")
    if problems:
        raise DataError(f"{source} does not look like a regression dataset: {'; '.join(problems)}.")
    return x, y


def keras_split(x: np.ndarray, y: np.ndarray) -> tuple[Split, Split]:
    """Shuffle with a fixed seed and keep the last 20% for test, as keras.datasets.boston_housing does."""
    indices = np.arange(len(x))
    np.random.RandomState(SPLIT_SEED).shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - TEST_SPLIT))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def embedded_regression() -> tuple[Split, Split]:
    """scikit-learn's 442 diabetes patients (raw, unscaled features), split like Boston housing; no network."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes(scaled=False)
    x, y = data.data.astype(np.float64), data.target.astype(np.float64)
    return keras_split(*validate_regression(x, y, source="scikit-learn's diabetes data"))
