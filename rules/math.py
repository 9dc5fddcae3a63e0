"""Partial derivatives of the ``math`` module's functions; ``result`` is the function's value.

At a kink or a zero the derivative is a convention (see README, "Conventions at
non-differentiable points"): ``fabs`` has 0 at 0, ``hypot`` has 0 at the origin, and the log of
a power's base is 0 where the base is 0.
"""

import math

from ad_transpile.rulebook import nondifferentiable, partials
from ad_transpile.runtime import _digamma, _power_log, _trigamma


@partials(math.sin)
def sin(x):
    return math.cos(x)


@partials(math.cos)
def cos(x):
    return -math.sin(x)


@partials(math.tan)
def tan(x, *, result):
    return 1.0 + result * result


@partials(math.asin)
def asin(x):
    return 1.0 / math.sqrt(1.0 - x * x)


@partials(math.acos)
def acos(x):
    return -1.0 / math.sqrt(1.0 - x * x)


@partials(math.atan)
def atan(x):
    return 1.0 / (1.0 + x * x)


@partials(math.atan2)
def atan2(y, x):
    return x / (x * x + y * y), -y / (x * x + y * y)


@partials(math.sinh)
def sinh(x):
    return math.cosh(x)


@partials(math.cosh)
def cosh(x):
    return math.sinh(x)


@partials(math.tanh)
def tanh(x, *, result):
    return 1.0 - result * result


@partials(math.asinh)
def asinh(x):
    return 1.0 / math.sqrt(x * x + 1.0)


@partials(math.acosh)
def acosh(x):
    return 1.0 / math.sqrt(x * x - 1.0)


@partials(math.atanh)
def atanh(x):
    return 1.0 / (1.0 - x * x)


@partials(math.exp)
def exp(x, *, result):
    return result


@partials(math.expm1)
def expm1(x, *, result):
    return result + 1.0


@partials(math.log)
def log(x):
    return 1.0 / x


@partials(math.log)
def log_base(x, base, *, result):
    return 1.0 / (x * math.log(base)), -result / (base * math.log(base))


@partials(math.log1p)
def log1p(x):
    return 1.0 / (1.0 + x)


@partials(math.log2)
def log2(x):
    return 1.0 / (x * math.log(2.0))


@partials(math.log10)
def log10(x):
    return 1.0 / (x * math.log(10.0))


@partials(math.sqrt)
def sqrt(x, *, result):
    return 0.5 / result


@partials(math.pow)
def pow_(x, y, *, result):
    return y * x ** (y - 1.0), result * _power_log(x)


@partials(math.hypot)
def hypot(x, y, *, result):
    return x / result if result else 0.0, y / result if result else 0.0


@partials(math.fabs)
def fabs(x):
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


@partials(math.erf)
def erf(x):
    return 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@partials(math.erfc)
def erfc(x):
    return -2.0 / math.sqrt(math.pi) * math.exp(-x * x)


# Gamma' = Gamma * psi and (log |Gamma|)' = psi, negative x too; psi (digamma) is the
# runtime's own, and so is its derivative psi' (trigamma), which has no rule: a third
# derivative is refused


@partials(math.gamma)
def gamma(x, *, result):
    return result * _digamma(x)


@partials(math.lgamma)
def lgamma(x):
    return _digamma(x)


@partials(_digamma)
def digamma(x):
    return _trigamma(x)


@partials(math.radians)
def radians(x):
    return math.pi / 180.0


@partials(math.degrees)
def degrees(x):
    return 180.0 / math.pi


@partials(math.copysign)
def copysign(x, y):
    return math.copysign(1.0, x) * math.copysign(1.0, y), 0.0


nondifferentiable(math.floor, math.ceil, math.trunc, math.isclose, math.isnan, math.isinf)
