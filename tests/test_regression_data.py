"""dlwp_utils.data.regression: the Boston housing loader (real path against a local server) and
its embedded stand-in (scikit-learn's diabetes data)."""

from __future__ import annotations

import numpy as np
import pytest

from dlwp_utils.data import regression
from dlwp_utils.data import store
from dlwp_utils.data.store import sha256_of
from dlwp_utils.errors import DataError


def make_boston_npz(path, n=50, features=13, dtype=np.float64):
    """A small file laid out like the real boston_housing.npz: keys x (n, 13) and y (n,), float64."""
    rng = np.random.default_rng(2)
    np.savez(path, x=rng.uniform(0, 100, (n, features)).astype(dtype), y=rng.uniform(5, 50, n).astype(dtype))
    return path


@pytest.fixture
def boston_server(http_server, monkeypatch):
    """The real Boston housing code path, pointed at a fixture served on 127.0.0.1."""
    base, root = http_server
    served = make_boston_npz(root / "boston_housing.npz")
    monkeypatch.setattr(regression, "BOSTON_URL", f"{base}/boston_housing.npz")
    monkeypatch.setattr(regression, "BOSTON_SHA256", sha256_of(served))
    return served


# --- the embedded stand-in -------------------------------------------------------------------


def test_embedded_data_has_the_same_kind_of_arrays_as_boston_housing(capsys):
    (x_train, y_train), (x_test, y_test) = regression.load_boston_housing("embedded")
    for x, y in ((x_train, y_train), (x_test, y_test)):
        assert x.dtype == np.float64 and x.ndim == 2 and x.shape[1] == 10
        assert y.dtype == np.float64 and y.shape == (len(x),)
    assert (len(x_train), len(x_test)) == (353, 89)  # 442 patients, 80% / 20% like keras' split
    assert 25 <= y_train.min() and y_train.max() <= 346
    assert x_train[:, 0].max() > 50, "features must be raw (ages in years), not pre-scaled"
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Regression data")]
    assert len(lines) == 1 and "embedded stand-in, scikit-learn's diabetes data" in lines[0]


def test_embedded_split_is_the_same_every_time_and_disjoint():
    (a, ya), (t, _) = regression.embedded_regression()
    (b, yb), _ = regression.embedded_regression()
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    train_rows = {row.tobytes() for row in a}
    assert not any(row.tobytes() in train_rows for row in t)


def test_the_split_is_keras_boston_housing_split():
    x = np.arange(100, dtype=np.float64).reshape(50, 2)
    y = np.arange(50, dtype=np.float64)
    (x_train, y_train), (x_test, y_test) = regression.keras_split(x, y)
    # keras.datasets.boston_housing.load_data(test_split=0.2, seed=113), written out:
    indices = np.arange(50)
    np.random.RandomState(113).shuffle(indices)
    assert np.array_equal(y_train, y[indices[:40]]) and np.array_equal(y_test, y[indices[40:]])
    assert np.array_equal(x_train[:, 1], 2 * y_train + 1)  # rows stay with their targets


# --- the real path, against a local server -------------------------------------------------------


def test_book_profile_downloads_checks_caches_and_splits(boston_server, cache, capsys):
    (x_train, y_train), (x_test, y_test) = regression.load_boston_housing("book")
    assert x_train.shape == (40, 13) and x_test.shape == (10, 13) and y_test.shape == (10,)
    assert x_train.dtype == np.float64 and y_train.dtype == np.float64
    cached = cache / "datasets" / "boston_housing.npz"
    assert cached.is_file() and sha256_of(cached) == regression.BOSTON_SHA256
    assert "Boston housing prices, 40 train / 10 test districts" in capsys.readouterr().out
    assert store.check(cached) is None
    assert not [p for p in cached.parent.iterdir() if ".partial-" in p.name], "temporary files left behind"


def test_a_cached_file_is_used_without_the_network(boston_server, cache, monkeypatch, closed_port_url):
    regression.load_boston_housing("book")
    monkeypatch.setattr(regression, "BOSTON_URL", f"{closed_port_url}/boston_housing.npz")
    (x_train, _), _ = regression.load_boston_housing("book")
    assert len(x_train) == 40


def test_a_corrupt_cached_file_is_fetched_again(boston_server, cache, capsys):
    cached = cache / "datasets" / "boston_housing.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(boston_server.read_bytes()[:500])  # a download cut short
    (x_train, _), _ = regression.load_boston_housing("book")
    assert len(x_train) == 40 and sha256_of(cached) == regression.BOSTON_SHA256
    assert "boston_housing.npz is incomplete (it has no manifest" in capsys.readouterr().out


def test_offline_book_profile_is_one_clear_error_and_leaves_nothing(cache, monkeypatch, closed_port_url):
    monkeypatch.setattr(regression, "BOSTON_URL", f"{closed_port_url}/boston_housing.npz")
    with pytest.raises(DataError) as err:
        regression.load_boston_housing("book")
    message = str(err.value)
    assert "Could not download boston_housing.npz" in message and 'PROFILE = "embedded"' in message
    assert list((cache / "datasets").iterdir()) == []


def test_a_download_with_the_wrong_checksum_is_deleted(boston_server, cache, monkeypatch):
    monkeypatch.setattr(regression, "BOSTON_SHA256", "0" * 64)
    with pytest.raises(DataError, match="is corrupt"):
        regression.load_boston_housing("book")
    assert list((cache / "datasets").iterdir()) == []


# --- validation of what was read --------------------------------------------------------------


def test_an_unreadable_npz_is_deleted_with_a_clear_error(tmp_path):
    bad = tmp_path / "boston_housing.npz"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(DataError, match="not a readable Boston housing file"):
        regression.read_boston_npz(bad)
    assert not bad.exists()


def test_an_npz_without_the_expected_keys_is_deleted(tmp_path):
    path = tmp_path / "boston_housing.npz"
    np.savez(path, x_train=np.zeros((3, 13)))
    with pytest.raises(DataError, match="KeyError"):
        regression.read_boston_npz(path)
    assert not path.exists()


def test_the_wrong_number_of_features_is_refused(tmp_path):
    path = make_boston_npz(tmp_path / "boston_housing.npz", features=12)
    with pytest.raises(DataError, match=r"expected floats \(n, 13\)"):
        regression.read_boston_npz(path)


def test_integer_features_are_refused(tmp_path):
    path = make_boston_npz(tmp_path / "boston_housing.npz", dtype=np.int64)
    with pytest.raises(DataError, match="features are int64"):
        regression.read_boston_npz(path)


@pytest.mark.parametrize("where", ["features", "targets"])
def test_non_finite_values_are_refused(where):
    x, y = np.ones((4, 2)), np.ones(4)
    (x if where == "features" else y)[1] = np.nan
    with pytest.raises(DataError, match=f"{where} contain NaN"):
        regression.validate_regression(x, y, source="x")


def test_targets_must_match_the_rows():
    with pytest.raises(DataError, match=r"expected floats \(4,\)"):
        regression.validate_regression(np.ones((4, 2)), np.ones(3), source="x")
    with pytest.raises(DataError, match="too few to split"):
        regression.validate_regression(np.ones((1, 2)), np.ones(1), source="x")
