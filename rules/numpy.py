"""Partial derivatives of NumPy's elementwise functions; ``result`` is the function's value."""

import numpy as np

from ad_transpile.rulebook import nondifferentiable, partials


@partials(np.sin)
def sin(x):
    return np.cos(x)


@partials(np.cos)
def cos(x):
    return -np.sin(x)


@partials(np.tan)
def tan(x, *, result):
    return 1.0 + result * result


@partials(np.arcsin)
def arcsin(x):
    return 1.0 / np.sqrt(1.0 - x * x)


@partials(np.arccos)
def arccos(x):
    return -1.0 / np.sqrt(1.0 - x * x)


@partials(np.arctan)
def arctan(x):
    return 1.0 / (1.0 + x * x)


@partials(np.arctan2)
def arctan2(y, x):
    return x / (x * x + y * y), -y / (x * x + y * y)


@partials(np.sinh)
def sinh(x):
    return np.cosh(x)


@partials(np.cosh)
def cosh(x):
    return np.sinh(x)


@partials(np.tanh)
def tanh(x, *, result):
    return 1.0 - result * result


@partials(np.arcsinh)
def arcsinh(x):
    return 1.0 / np.sqrt(x * x + 1.0)


@partials(np.arccosh)
def arccosh(x):
    return 1.0 / np.sqrt(x * x - 1.0)


@partials(np.arctanh)
def arctanh(x):
    return 1.0 / (1.0 - x * x)


@partials(np.exp)
def exp(x, *, result):
    return result


@partials(np.exp2)
def exp2(x, *, result):
    return result * np.log(2.0)


@partials(np.expm1)
def expm1(x, *, result):
    return result + 1.0


@partials(np.log)
def log(x):
    return 1.0 / x


@partials(np.log1p)
def log1p(x):
    return 1.0 / (1.0 + x)


@partials(np.log2)
def log2(x):
    return 1.0 / (x * np.log(2.0))


@partials(np.log10)
def log10(x):
    return 1.0 / (x * np.log(10.0))


@partials(np.sqrt)
def sqrt(x, *, result):
    return 0.5 / result


@partials(np.cbrt)
def cbrt(x, *, result):
    return 1.0 / (3.0 * result * result)


@partials(np.square)
def square(x):
    return 2.0 * x


@partials(np.reciprocal)
def reciprocal(x, *, result):
    return -result * result


@partials(np.power)
def power(x, y, *, result):
    return y * x ** (y - 1), result * np.log(x)


@partials(np.hypot)
def hypot(x, y, *, result):
    return x / result, y / result


@partials(np.abs)
def abs_(x):
    return np.sign(x)


@partials(np.absolute)
def absolute(x):
    return np.sign(x)


@partials(np.fabs)
def fabs(x):
    return np.sign(x)


@partials(np.negative)
def negative(x):
    return -1.0


@partials(np.add)
def add(a, b):
    return 1.0, 1.0


@partials(np.subtract)
def subtract(a, b):
    return 1.0, -1.0


@partials(np.multiply)
def multiply(a, b):
    return b, a


@partials(np.divide)
def divide(a, b, *, result):
    return 1.0 / b, -result / b


@partials(np.maximum)
def maximum(a, b):
    return np.where(a >= b, 1.0, 0.0), np.where(a >= b, 0.0, 1.0)


@partials(np.minimum)
def minimum(a, b):
    return np.where(a <= b, 1.0, 0.0), np.where(a <= b, 0.0, 1.0)


@partials(np.logaddexp)
def logaddexp(a, b, *, result):
    return np.exp(a - result), np.exp(b - result)


@partials(np.float64)
def float64(x):
    return 1.0


nondifferentiable(
    np.floor, np.ceil, np.trunc, np.rint, np.round, np.sign, np.isnan, np.isinf, np.isfinite
)
