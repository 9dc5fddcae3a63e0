"""Partial derivatives of the numeric builtins.

At a kink the derivative is the mean of the two one-sided ones, as in JAX and autograd: ``abs``
has 0 at 0, and ``max``/``min`` of two equal values give each of them half.
"""

from ad_transpile.rulebook import nondifferentiable, partials
from ad_transpile.runtime import _power_log


@partials(abs)
def abs_(x):
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


@partials(pow)
def pow_(base, exp, *, result):
    return exp * base ** (exp - 1), result * _power_log(base)


@partials(min)
def min_(a, b):
    return 1.0 if a < b else 0.5 if a == b else 0.0, 1.0 if b < a else 0.5 if b == a else 0.0


@partials(max)
def max_(a, b):
    return 1.0 if a > b else 0.5 if a == b else 0.0, 1.0 if b > a else 0.5 if b == a else 0.0


@partials(float)
def float_(x):
    return 1.0


nondifferentiable(round, int, bool, len, range, isinstance)
