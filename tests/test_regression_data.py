"""dlwp_utils.data.regression: the house-price loaders (California and Boston: the real path against
a local server) and their embedded stand-ins (generated districts with the real features and units)."""

from __future__ import annotations

import dataclasses

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


def serve(monkeypatch, http_server, dataset: str, path_maker):
    """Point one dataset's real code path at a fixture served on 127.0.0.1."""
    base, root = http_server
    spec = regression.DATASETS[dataset]
    name = spec.url.rsplit("/", 1)[1]
    served = path_maker(root / name)
    monkeypatch.setitem(regression.DATASETS, dataset,
                        dataclasses.replace(spec, url=f"{base}/{name}", sha256=sha256_of(served)))
    return served


@pytest.fixture
def boston_server(http_server, monkeypatch):
    """The real Boston housing code path, pointed at a fixture served on 127.0.0.1."""
    return serve(monkeypatch, http_server, "boston", make_boston_npz)


@pytest.fixture
def california_server(http_server, monkeypatch):
    """The real California housing code path: a file of 700 rows, of which keras keeps the first 600."""
    def make(path):
        rng = np.random.default_rng(3)
        np.savez(path, x=rng.uniform(0, 10, (700, 8)).astype(np.float32), y=rng.uniform(2e4, 5e5, 700).astype(np.float32))
        return path
    return serve(monkeypatch, http_server, "california", make)


# --- the embedded stand-in -------------------------------------------------------------------


@pytest.mark.parametrize(("dataset", "sizes", "features", "prices"), [
    ("california", (480, 120), 8, (14_999, 500_001)),  # version="small": 600 districts, prices in dollars
    ("boston", (404, 102), 13, (5, 50)),  # 506 districts, prices in k$
])
def test_embedded_districts_have_the_real_datasets_shape_and_units(dataset, sizes, features, prices, capsys):
    (x_train, y_train), (x_test, y_test) = regression.load_house_prices("embedded", dataset)
    for x, y in ((x_train, y_train), (x_test, y_test)):
        assert x.dtype == np.float64 and x.shape[1] == features and y.dtype == np.float64 and y.shape == (len(x),)
    assert (len(x_train), len(x_test)) == sizes
    assert prices[0] <= y_train.min() and y_train.max() <= prices[1]
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("House prices")]
    assert len(lines) == 1 and "embedded stand-in" in lines[0] and regression.DATASETS[dataset].unit in lines[0]


def test_the_california_stand_in_has_its_features_ranges():
    x, _ = regression.generated_districts("california")
    names = regression.DATASETS["california"].features
    income, latitude, longitude = (x[:, names.index(n)] for n in ("MedInc", "Latitude", "Longitude"))
    assert 0.5 <= income.min() and income.max() <= 15 and 3 < income.mean() < 5
    assert 32.5 <= latitude.min() and latitude.max() <= 42 and -124.3 <= longitude.min() and longitude.max() <= -114.3


def test_the_stand_in_prices_follow_from_the_features():
    from sklearn.linear_model import LinearRegression

    for dataset in regression.DATASETS:
        (x, y), (x_test, y_test) = regression.load_house_prices("embedded", dataset)
        baseline = np.abs(y_test - np.median(y)).mean()
        fitted = np.abs(LinearRegression().fit(x, y).predict(x_test) - y_test).mean()
        assert fitted < 0.75 * baseline, (dataset, fitted, baseline)


def test_embedded_districts_are_the_same_every_time_and_the_split_is_disjoint():
    (a, ya), (t, _) = regression.keras_split(*regression.generated_districts("california"))
    (b, yb), _ = regression.keras_split(*regression.generated_districts("california"))
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    train_rows = {row.tobytes() for row in a}
    assert not any(row.tobytes() in train_rows for row in t)


def test_an_unknown_dataset_is_one_clear_error():
    with pytest.raises(DataError, match="'california' or 'boston'.*HOUSE_PRICES"):
        regression.load_house_prices("embedded", "ames")


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
    (x_train, y_train), (x_test, y_test) = regression.load_house_prices("book", "boston")
    assert x_train.shape == (40, 13) and x_test.shape == (10, 13) and y_test.shape == (10,)
    assert x_train.dtype == np.float64 and y_train.dtype == np.float64
    cached = cache / "datasets" / "boston_housing.npz"
    assert cached.is_file() and sha256_of(cached) == regression.DATASETS["boston"].sha256
    assert "Boston housing (1970s districts; the second edition's), 40 train / 10 test districts" in capsys.readouterr().out
    assert store.check(cached) is None
    assert not [p for p in cached.parent.iterdir() if ".partial-" in p.name], "temporary files left behind"


def test_california_keeps_the_first_600_rows_as_keras_small_version_does(california_server, cache, capsys):
    (x_train, y_train), (x_test, _) = regression.load_house_prices("book", "california")
    assert (len(x_train), len(x_test)) == (480, 120) and x_train.shape[1] == 8 and y_train.dtype == np.float64
    served = np.load(california_server)
    assert {row.tobytes() for row in np.concatenate([x_train, x_test]).astype(np.float32)} == {
        row.tobytes() for row in served["x"][:600]}
    assert "California housing" in capsys.readouterr().out


def test_a_cached_file_is_used_without_the_network(boston_server, cache, monkeypatch, closed_port_url):
    regression.load_house_prices("book", "boston")
    monkeypatch.setitem(regression.DATASETS, "boston", dataclasses.replace(regression.DATASETS["boston"], url=f"{closed_port_url}/boston_housing.npz"))
    (x_train, _), _ = regression.load_house_prices("book", "boston")
    assert len(x_train) == 40


def test_a_corrupt_cached_file_is_fetched_again(boston_server, cache, capsys):
    cached = cache / "datasets" / "boston_housing.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(boston_server.read_bytes()[:500])  # a download cut short
    (x_train, _), _ = regression.load_house_prices("book", "boston")
    assert len(x_train) == 40 and sha256_of(cached) == regression.DATASETS["boston"].sha256
    assert "boston_housing.npz is incomplete (it has no manifest" in capsys.readouterr().out


def test_offline_book_profile_is_one_clear_error_and_leaves_nothing(cache, monkeypatch, closed_port_url):
    monkeypatch.setitem(regression.DATASETS, "boston", dataclasses.replace(regression.DATASETS["boston"], url=f"{closed_port_url}/boston_housing.npz"))
    with pytest.raises(DataError) as err:
        regression.load_house_prices("book", "boston")
    message = str(err.value)
    assert "Could not download boston_housing.npz" in message and 'PROFILE = "embedded"' in message
    assert list((cache / "datasets").iterdir()) == []


def test_a_download_with_the_wrong_checksum_is_deleted(boston_server, cache, monkeypatch):
    monkeypatch.setitem(regression.DATASETS, "boston", dataclasses.replace(regression.DATASETS["boston"], sha256="0" * 64))
    with pytest.raises(DataError, match="is corrupt"):
        regression.load_house_prices("book", "boston")
    assert list((cache / "datasets").iterdir()) == []


# --- validation of what was read --------------------------------------------------------------


def test_an_unreadable_npz_is_deleted_with_a_clear_error(tmp_path):
    bad = tmp_path / "boston_housing.npz"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(DataError, match="not a readable Boston housing file"):
        regression.read_house_prices_npz(bad, "boston")
    assert not bad.exists()


def test_an_npz_without_the_expected_keys_is_deleted(tmp_path):
    path = tmp_path / "boston_housing.npz"
    np.savez(path, x_train=np.zeros((3, 13)))
    with pytest.raises(DataError, match="KeyError"):
        regression.read_house_prices_npz(path, "boston")
    assert not path.exists()


def test_the_wrong_number_of_features_is_refused(tmp_path):
    path = make_boston_npz(tmp_path / "boston_housing.npz", features=12)
    with pytest.raises(DataError, match=r"expected floats \(n, 13\)"):
        regression.read_house_prices_npz(path, "boston")


def test_integer_features_are_refused(tmp_path):
    path = make_boston_npz(tmp_path / "boston_housing.npz", dtype=np.int64)
    with pytest.raises(DataError, match="features are int64"):
        regression.read_house_prices_npz(path, "boston")


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


def test_exp_and_powers_of_the_generated_districts_are_correctly_rounded_on_any_machine():
    """NumPy's AVX-512 exp rounds some values 1 ulp off; the districts use decimal arithmetic (issue 24)."""
    import decimal

    from dlwp_utils.data.exact import exp as exact_exp, exponential as exact_exponential, power as exact_power

    values = np.random.default_rng(0).normal(0, 2, 200)
    context = decimal.Context(prec=60)
    assert exact_exp(values).tolist() == [float(context.exp(decimal.Decimal(v))) for v in values]
    assert exact_exp(np.array([[0.0, 1.0]])).tolist() == [[1.0, 2.718281828459045]]
    assert exact_power(np.array([4.0, 2.0]), "0.5").tolist() == [2.0, 1.4142135623730951]
    draws = exact_exponential(np.random.default_rng(1), 25.0, 2000)
    assert draws.min() >= 0 and 23 < draws.mean() < 27
