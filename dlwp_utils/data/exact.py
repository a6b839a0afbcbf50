"""exp, powers, sin and cos with the same bits on every machine, for the generated datasets.

NumPy picks its float kernels for exp, power, sin, cos... by the CPU it runs on (its AVX-512 ones
round some values 1 ulp differently), and the C library behind Python's math module and NumPy's
random generators has FMA variants chosen by the CPU too: data generated with them followed the
machine (issue 24). These take the same values in decimal arithmetic (libmpdec: integers only),
then round once to float64, so a generator that uses them makes the same bytes everywhere.
tests/test_generated_data.py hashes every generated dataset to hold that.

Scalars in, a float out; arrays in, a float64 array of the same shape out.
"""

from __future__ import annotations

import decimal
import functools
from typing import Any

import numpy as np

_CONTEXT = decimal.Context(prec=40)
# pi to 110 digits, and a reduction by 2 pi in 100: exact for arguments up to about 1e55.
_PI = decimal.Decimal("3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803482534211706798214808651")
_REDUCTION = decimal.Context(prec=100)
_TWO_PI = _REDUCTION.multiply(2, _PI)
_TINY = decimal.Decimal("1e-45")


def _each(values: Any, function) -> Any:
    """`function` (float -> float) on every value; the shape of `values` kept (a scalar gives a float)."""
    array = np.asarray(values, dtype=np.float64)
    out = np.array([function(float(v)) for v in array.ravel()], dtype=np.float64).reshape(array.shape)
    return float(out) if array.ndim == 0 else out


def exp(values: Any) -> Any:
    """e ** value, correctly rounded."""
    return _each(values, lambda v: float(_CONTEXT.exp(decimal.Decimal(v))))


def power(values: Any, exponent: str) -> Any:
    """value ** exponent (a decimal string such as "0.85") for positive values, correctly rounded."""
    exponent_ = decimal.Decimal(exponent)
    return _each(values, lambda v: float(_CONTEXT.power(decimal.Decimal(v), exponent_)))


def exponential(rng: np.random.Generator, scale: float, n: int) -> np.ndarray:
    """n exponential draws by the inverse CDF, -scale * ln(1 - u) (not the C library's log)."""
    return np.array([-scale * float(_CONTEXT.ln(1 - decimal.Decimal(float(u)))) for u in rng.random(n)])


def _sin(x: decimal.Decimal, cosine: bool = False) -> decimal.Decimal:
    """sin(x) (or cos(x)) by its Taylor series after reducing x to [-pi, pi]."""
    x = _CONTEXT.plus(_REDUCTION.remainder_near(x, _TWO_PI))
    if cosine:
        term, total, n = decimal.Decimal(1), decimal.Decimal(1), 0
    else:
        term, total, n = x, x, 1
    square = _CONTEXT.multiply(x, x)
    while True:
        term = _CONTEXT.divide(_CONTEXT.multiply(-term, square), (n + 1) * (n + 2))
        n += 2
        if abs(term) < _TINY:
            return total
        total = _CONTEXT.add(total, term)


@functools.lru_cache(maxsize=65536)
def _trig(x: float, cosine: bool) -> float:
    """sin or cos of one float (remembered: the drawings ask for the same angles again and again)."""
    return float(_sin(decimal.Decimal(x), cosine))


def sin(values: Any) -> Any:
    """sin(value), value in radians, to within float64 rounding."""
    return _each(values, lambda v: _trig(v, False))


def cos(values: Any) -> Any:
    """cos(value), value in radians, to within float64 rounding."""
    return _each(values, lambda v: _trig(v, True))
