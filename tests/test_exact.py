"""dlwp_utils.data.exact: exp, powers, sin and cos in decimal arithmetic, the same bits on every machine."""

from __future__ import annotations

import math

import numpy as np

from dlwp_utils.data import exact


def test_values_agree_with_the_c_library_to_within_one_rounding():
    x = np.random.default_rng(0).uniform(-40, 40, 2000)
    for ours, theirs in ((exact.sin(x), np.sin(x)), (exact.cos(x), np.cos(x)), (exact.exp(x / 8), np.exp(x / 8))):
        assert ours.shape == x.shape and ours.dtype == np.float64
        np.testing.assert_allclose(ours, theirs, rtol=3e-16, atol=3e-16)


def test_known_values_and_scalars():
    assert exact.sin(0.0) == 0.0 and exact.cos(0.0) == 1.0 and exact.sin(math.pi / 2) == 1.0
    assert exact.cos(math.pi) == -1.0 and exact.exp(1.0) == math.e and exact.power(9.0, "0.5") == 3.0
    assert isinstance(exact.sin(1.0), float) and exact.cos(np.array([[0.0]])).shape == (1, 1)
    # sin(1e22) needs an exact reduction by 2 pi: the correctly rounded value (Ng's classic test case).
    assert exact.sin(1e22) == -0.8522008497671888


def test_the_same_value_whatever_the_shape_or_the_order():
    x = np.random.default_rng(1).uniform(-7, 7, (4, 5))
    assert exact.sin(x).tolist() == [[exact.sin(float(v)) for v in row] for row in x]
    assert exact.cos(x[::-1]).tolist() == exact.cos(x)[::-1].tolist()
