"""House prices for regression: California (the third edition's, keras.datasets.california_housing,
version "small") or Boston (the second edition's, keras.datasets.boston_housing), or offline
stand-ins generated with the same features, sizes, dtypes and units."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlwp_utils.data import exact
from dlwp_utils.data.download import fetch_file, read_npz
from dlwp_utils.errors import DataError
from dlwp_utils.profile import Profile, use_profile


@dataclass(frozen=True)
class HousePrices:
    """One house-price dataset: where keras.datasets gets it, and what it holds."""

    title: str
    url: str
    sha256: str
    rows: int  # the rows keras.datasets keeps (California's "small" version: the first 600)
    features: tuple[str, ...]
    unit: str  # of the targets
    bytes: int  # the file's size, at least: the disk space its download needs


# The files keras.datasets.<name>.load_data() downloads, and their published checksums.
DATASETS = {
    "california": HousePrices(
        "California housing (1990 census block groups; the third edition's)",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz",
        "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f",
        600, ("MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"),
        "median home value in dollars", 700_000),
    "boston": HousePrices(
        "Boston housing (1970s districts; the second edition's)",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz",
        "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
        506, ("CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT"),
        "median home value in k$", 57_026),
}
# keras.datasets' defaults for both: shuffle with this seed, last 20% for test.
TEST_SPLIT = 0.2
SPLIT_SEED = 113
EMBEDDED_SEED = 7

Split = tuple[np.ndarray, np.ndarray]


def load_house_prices(profile: Profile | str | None = None, dataset: str = "california") -> tuple[Split, Split]:
    """((x_train, y_train), (x_test, y_test)): float64 features (n, d) and float64 targets (n,).

    `dataset` is "california" (the third edition's chapter 4: 600 districts, 8 features, prices in
    dollars) or "boston" (the second edition's: 506 districts, 13 features, prices in k$). The book
    profile downloads it as keras.datasets does and splits it the same way; the embedded profile
    generates districts with the same features, sizes and units. One printed line says which.
    """
    if dataset not in DATASETS:
        raise DataError(f"Unknown house-price dataset {dataset!r}: use {' or '.join(map(repr, DATASETS))} "
                        "(HOUSE_PRICES in the parameters cell).")
    if not isinstance(profile, Profile):
        profile = use_profile(profile)
    spec = DATASETS[dataset]
    if profile.embedded:
        train, test = keras_split(*generated_districts(dataset))
        print(f"House prices: embedded stand-in for {spec.title}: {len(train[0])} train / {len(test[0])} test "
              f"generated districts, {len(spec.features)} features, target = {spec.unit}. "
              f'PROFILE = "book" downloads the real ones.')
        return train, test
    path = fetch_file(Path(spec.url).name, spec.url, file_hash=spec.sha256, size=spec.bytes)
    x, y = read_house_prices_npz(path, dataset)
    train, test = keras_split(x[: spec.rows], y[: spec.rows])
    print(f"House prices: {spec.title}, {len(train[0])} train / {len(test[0])} test districts, "
          f"{x.shape[1]} features, target = {spec.unit}, from {path}.")
    return train, test


def read_house_prices_npz(path: Path, dataset: str) -> Split:
    """Read and validate a keras.datasets house-price file (x, y); a file that is not one is deleted with a clear error."""
    spec = DATASETS[dataset]
    arrays = read_npz(path, ("x", "y"), what=spec.title.split(" (")[0])
    x, y = validate_regression(arrays["x"], arrays["y"], source=str(path), features=len(spec.features))
    return x.astype(np.float64), y.astype(np.float64)


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
    """Shuffle with keras.datasets' seed and keep the last 20% for test, as its house-price loaders do."""
    indices = np.arange(len(x))
    np.random.RandomState(SPLIT_SEED).shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - TEST_SPLIT))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def generated_districts(dataset: str, seed: int = EMBEDDED_SEED) -> Split:
    """Districts with the real dataset's features, ranges and units, and prices that follow from them.

    The price rises with income (and rooms), falls away from the coast and the cities (California)
    or with crime and the share of low-status households (Boston), times noise: a real regression
    problem, in which a network beats predicting the median. Its exp and powers come from
    dlwp_utils.data.exact: the same bytes on every machine.
    """
    rng = np.random.default_rng([seed, list(DATASETS).index(dataset)])
    n = DATASETS[dataset].rows
    noise = exact.exp(rng.normal(0, 0.22, n))  # log-normal: the draws rng.lognormal makes, then exp
    if dataset == "california":
        cities = np.array([[34.05, -118.25], [37.77, -122.42], [32.72, -117.16], [38.58, -121.49], [36.74, -119.79]])
        home = cities[rng.choice(len(cities), n, p=[0.4, 0.25, 0.1, 0.1, 0.15])]
        latitude = np.clip(home[:, 0] + rng.normal(0, 0.6, n), 32.5, 42.0)
        longitude = np.clip(home[:, 1] + rng.normal(0, 0.6, n), -124.3, -114.3)
        inland = np.clip(longitude - (-124.2 + (42.0 - latitude) * 7.1 / 9.5), 0, None)  # degrees from the coast
        income = np.clip(exact.exp(rng.normal(1.3, 0.45, n)) * exact.exp(-0.08 * inland), 0.5, 15.0)
        age = rng.integers(1, 53, n).astype(np.float64)
        rooms = np.clip(4.2 + 0.35 * income + rng.normal(0, 0.8, n), 1.5, 12)
        bedrooms = np.clip(1.0 + 0.02 * rooms + rng.normal(0, 0.08, n), 0.6, 3)
        population = np.round(exact.exp(rng.normal(7.0, 0.7, n)))
        occupancy = np.clip(exact.exp(rng.normal(1.05, 0.25, n)), 1.0, 8)
        price = 45_000 * exact.power(income, "0.85") * exact.exp(-0.3 * inland) * (1 + 0.004 * age) * noise
        x = np.stack([income, age, rooms, bedrooms, population, occupancy, latitude, longitude], axis=1)
        y = np.clip(price, 14_999, 500_001)
    else:
        crime = exact.exp(rng.normal(-1.0, 1.6, n))
        zoned = np.where(rng.random(n) < 0.25, rng.choice([12.5, 20, 25, 40, 80], n), 0.0)
        industry = np.clip(rng.normal(11, 6.5, n), 0.5, 27.7)
        river = (rng.random(n) < 0.07).astype(np.float64)
        nox = np.clip(0.38 + 0.012 * industry + rng.normal(0, 0.05, n), 0.38, 0.87)
        rooms = np.clip(rng.normal(6.3, 0.7, n), 3.5, 8.8)
        age = np.clip(rng.normal(68, 28, n), 3, 100)
        distance = np.clip(12 - 0.35 * industry + rng.normal(0, 1.5, n), 1.1, 12.1)
        highways = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 24], n).astype(np.float64)
        tax = np.clip(200 + 15 * industry + rng.normal(0, 60, n), 187, 711)
        pupils = np.clip(rng.normal(18.5, 2.1, n), 12.6, 22)
        b = np.clip(396.9 - exact.exponential(rng, 25, n), 0.3, 396.9)
        low_status = np.clip(2 + 0.09 * age + 0.4 * industry + rng.normal(0, 4, n) - 3 * (rooms - 6.3), 1.7, 38)
        price = 22 * exact.exp(0.25 * (rooms - 6.3) - 0.035 * (low_status - 12) - 0.01 * crime + 0.08 * river) * noise
        x = np.stack([crime, zoned, industry, river, nox, rooms, age, distance, highways, tax, pupils, b, low_status],
                     axis=1)
        y = np.clip(price, 5, 50)
    return validate_regression(x.astype(np.float64), np.round(y, 1 if dataset == "boston" else 0).astype(np.float64),
                               source=f"the generated {dataset} districts", features=len(DATASETS[dataset].features))
