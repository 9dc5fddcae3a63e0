"""Partial derivatives of Python's arithmetic operators (``a + b`` is ``operator.add(a, b)``)."""

import operator

from ad_transpile.rulebook import nondifferentiable, partials
from ad_transpile.runtime import _power_log


@partials(operator.add)
def add(a, b):
    return 1.0, 1.0


@partials(operator.sub)
def sub(a, b):
    return 1.0, -1.0


@partials(operator.mul)
def mul(a, b):
    return b, a


@partials(operator.truediv)
def truediv(a, b, *, result):
    return 1.0 / b, -result / b


@partials(operator.pow)
def pow_(a, b, *, result):
    return b * a ** (b - 1), result * _power_log(a)


@partials(operator.mod)
def mod(a, b):
    return 1.0, -(a // b)


@partials(operator.neg)
def neg(a):
    return -1.0


@partials(operator.pos)
def pos(a):
    return 1.0


nondifferentiable(
    operator.floordiv,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
    operator.eq,
    operator.ne,
    operator.not_,
    operator.is_,
    operator.is_not,
    operator.contains,
)
