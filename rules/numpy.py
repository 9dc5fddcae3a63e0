"""Derivatives of NumPy: partials of the elementwise functions, templates of the structural ones.

An elementwise partial is multiplied by a tangent (forward) or an adjoint (reverse; summed back to
the argument's shape under broadcasting). A structural operation (a reduction, a product of
matrices, a change of shape) gives its tangent along each argument, written with that argument's
tangent ``d_a``, and the adjoint it sends back, written with the result's adjoint ``d_result``.
``result`` is the value of the call.

Where the derivative does not exist, the rules give the convention JAX and autograd use (see
README, "Conventions at non-differentiable points"): ``np.maximum``/``np.minimum`` of two equal
values and ``np.max``/``np.min`` of tied elements split the adjoint evenly among them, ``np.abs``
has 0 at 0; ``np.std``, ``np.linalg.norm`` and ``np.hypot`` have 0 where the spread or the norm
is 0 (JAX and autograd give nan there); the log of a power's base is 0 at a base of 0 (so the
derivative of ``0 ** y`` along ``y`` is 0) and nan at a negative base.
"""

import operator

import numpy as np

from ad_transpile.rulebook import (
    adjoints,
    batched_tangents,
    ndim,
    nondifferentiable,
    partials,
    plain,
    tangents,
)
from ad_transpile.runtime import (
    _centered,
    _contraction_adjoint_a,
    _contraction_adjoint_b,
    _contraction_tangent_a,
    _contraction_tangent_b,
    _cumsum_tangent,
    _diag_tangent,
    _diagonal_tangent,
    _diff_tangent,
    _dot_axes,
    _einsum_adjoint,
    _einsum_batched,
    _extreme_mask,
    _flat_concatenate_tangent,
    _full_tangent,
    _hstack_tangent,
    _inner_axes,
    _matmul_adjoint_a,
    _matmul_adjoint_b,
    _matmul_tangent_a,
    _matmul_tangent_b,
    _nonzero,
    _norm_partial,
    _outer_tangent_a,
    _outer_tangent_b,
    _power_log,
    _prod_others,
    _reduced_axes,
    _repeat_tangent,
    _roll_tangent,
    _shifted_axis,
    _take_along_tangent,
    _transposed_axes,
    _unbroadcast,
    _unconcatenate,
    _uncumsum,
    _undiag,
    _undiagonal,
    _undiff,
    _unhstack,
    _unreduce,
    _unrepeat,
    _unstack,
    _untake_along_axis,
    _untile,
    _unvstack,
    _vstack_tangent,
)


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
@partials(np.asin)
def arcsin(x):
    return 1.0 / np.sqrt(1.0 - x * x)


@partials(np.arccos)
@partials(np.acos)
def arccos(x):
    return -1.0 / np.sqrt(1.0 - x * x)


@partials(np.arctan)
@partials(np.atan)
def arctan(x):
    return 1.0 / (1.0 + x * x)


@partials(np.arctan2)
@partials(np.atan2)
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
@partials(np.asinh)
def arcsinh(x):
    return 1.0 / np.sqrt(x * x + 1.0)


@partials(np.arccosh)
@partials(np.acosh)
def arccosh(x):
    return 1.0 / np.sqrt(x * x - 1.0)


@partials(np.arctanh)
@partials(np.atanh)
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
@partials(np.pow)
def power(x, y, *, result):
    return y * x ** (y - 1), result * _power_log(x)


@partials(np.hypot)
def hypot(x, y, *, result):
    return x / _nonzero(result), y / _nonzero(result)


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
    return np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)), np.where(
        b > a, 1.0, np.where(b == a, 0.5, 0.0))


@partials(np.minimum)
def minimum(a, b):
    return np.where(a < b, 1.0, np.where(a == b, 0.5, 0.0)), np.where(
        b < a, 1.0, np.where(b == a, 0.5, 0.0))


@partials(np.fmax)
def fmax(a, b):  # np.maximum that ignores a nan: the same partials where neither is nan
    return np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)), np.where(
        b > a, 1.0, np.where(b == a, 0.5, 0.0))


@partials(np.fmin)
def fmin(a, b):
    return np.where(a < b, 1.0, np.where(a == b, 0.5, 0.0)), np.where(
        b < a, 1.0, np.where(b == a, 0.5, 0.0))


@partials(np.float_power)
def float_power(x, y, *, result):  # np.power computed in float64
    return y * np.float_power(x, y - 1), result * _power_log(x)


@partials(np.copysign)
def copysign(x, y):  # |x| with the sign of y: the sign of y decides, y itself moves nothing
    return np.copysign(1.0, x) * np.copysign(1.0, y), 0.0


@partials(np.nan_to_num)
def nan_to_num(x):  # the value where it is finite; nan and the infinities become constants
    return np.where(np.isfinite(x), 1.0, 0.0)


@partials(np.logaddexp)
def logaddexp(a, b):
    # the logistic function of a - b and of b - a; exp overflows to inf only where it is 0.0
    return 1.0 / (1.0 + np.exp(b - a)), 1.0 / (1.0 + np.exp(a - b))


@partials(np.logaddexp2)
def logaddexp2(a, b):
    # as logaddexp, in base 2: 2**a / (2**a + 2**b)
    return 1.0 / (1.0 + np.exp2(b - a)), 1.0 / (1.0 + np.exp2(a - b))


@partials(np.true_divide)
def true_divide(a, b, *, result):
    return 1.0 / b, -result / b


@partials(np.mod)
def mod(a, b):
    # a - floor(a / b) * b: steps where a / b is a whole number, as Python's a % b
    return 1.0, -np.floor(a / b)


@partials(np.remainder)
def remainder(a, b):  # np.mod by its other name
    return 1.0, -np.floor(a / b)


@partials(np.fmod)
def fmod(a, b):
    # a - trunc(a / b) * b: the sign of a, as C's fmod
    return 1.0, -np.trunc(a / b)


@partials(np.deg2rad)
def deg2rad(x):
    return np.pi / 180.0


@partials(np.radians)
def radians(x):
    return np.pi / 180.0


@partials(np.rad2deg)
def rad2deg(x):
    return 180.0 / np.pi


@partials(np.degrees)
def degrees(x):
    return 180.0 / np.pi


@partials(np.positive)
def positive(x):
    return 1.0


@partials(np.sinc)
def sinc(x, *, result):
    # sin(pi x) / (pi x); its derivative (cos(pi x) - sinc(x)) / x is 0.0 at 0 (a maximum)
    return np.where(x == 0.0, 0.0, (np.cos(np.pi * x) - result) / np.where(x == 0.0, 1.0, x))


@partials(np.float64)
def float64(x):
    return 1.0


@partials(np.copy)
def copy(a):
    return 1.0


@partials(np.where)
def where(condition, x, y):
    return 0.0, np.where(condition, 1.0, 0.0), np.where(condition, 0.0, 1.0)


@partials(np.clip)
def clip(a, a_min, a_max):
    inside = np.where((a >= a_min) & (a <= a_max), 1.0, 0.0)
    return inside, np.where(a < a_min, 1.0, 0.0), np.where(a > a_max, 1.0, 0.0)


# reductions


@tangents(np.sum)
def sum_tangent(a, axis=None, dtype=None, out=None, keepdims=False, *, d_a):
    return np.sum(d_a, axis=axis, keepdims=keepdims)


@batched_tangents(np.sum)
def sum_batched(a, axis=None, dtype=None, out=None, keepdims=False, *, d_a):
    return np.sum(d_a, axis=_reduced_axes(a, axis=axis), keepdims=keepdims)


@adjoints(np.sum)
def sum_adjoint(a, axis=None, dtype=None, out=None, keepdims=False, *, d_result):
    return _unreduce(d_result, a, axis=axis, keepdims=keepdims)


@tangents(np.mean)
def mean_tangent(a, axis=None, dtype=None, out=None, keepdims=False, *, d_a):
    return np.mean(d_a, axis=axis, keepdims=keepdims)


@batched_tangents(np.mean)
def mean_batched(a, axis=None, dtype=None, out=None, keepdims=False, *, d_a):
    return np.mean(d_a, axis=_reduced_axes(a, axis=axis), keepdims=keepdims)


@adjoints(np.mean)
def mean_adjoint(a, axis=None, dtype=None, out=None, keepdims=False, *, result, d_result):
    return _unreduce(d_result / (np.size(a) / np.size(result)), a, axis=axis, keepdims=keepdims)


# An element's partial of a product is the product of the others (not the product divided by
# the element, which is 0 / 0 where the element is 0).


@tangents(np.prod)
def prod_tangent(a, axis=None, dtype=None, out=None, keepdims=False, *, d_a):
    return np.sum(_prod_others(a, axis=axis) * d_a, axis=axis, keepdims=keepdims)


@batched_tangents(np.prod)
def prod_batched(a, axis=None, dtype=None, out=None, keepdims=False, *, d_a):
    others = np.expand_dims(_prod_others(a, axis=axis), -1)
    return np.sum(others * d_a, axis=_reduced_axes(a, axis=axis), keepdims=keepdims)


@adjoints(np.prod)
def prod_adjoint(a, axis=None, dtype=None, out=None, keepdims=False, *, d_result):
    return _prod_others(a, axis=axis) * _unreduce(d_result, a, axis=axis, keepdims=keepdims)


# np.amax and np.amin are np.max and np.min under other names: one template serves both
@tangents(np.max)
@tangents(np.amax)
def max_tangent(a, axis=None, out=None, keepdims=False, *, result, d_a):
    mask = _extreme_mask(a, result, axis=axis, keepdims=keepdims)
    return np.sum(mask * d_a, axis=axis, keepdims=keepdims)


@batched_tangents(np.max)
@batched_tangents(np.amax)
def max_batched(a, axis=None, out=None, keepdims=False, *, result, d_a):
    mask = _extreme_mask(a, result, axis=axis, keepdims=keepdims)
    return np.sum(np.expand_dims(mask, -1) * d_a, axis=_reduced_axes(a, axis=axis),
                  keepdims=keepdims)


# With keepdims=True the result lines up with ``a``: the elements that reach it are one
# comparison, each tie taking its share
@tangents(np.max, keepdims=True)
@tangents(np.amax, keepdims=True)
@tangents(np.min, keepdims=True)
@tangents(np.amin, keepdims=True)
def extreme_kept_tangent(a, axis=None, out=None, keepdims=False, *, result, d_a):
    hit = a == result
    return np.sum(hit / np.sum(hit, axis=axis, keepdims=True) * d_a, axis=axis, keepdims=True)


@batched_tangents(np.max, keepdims=True)
@batched_tangents(np.amax, keepdims=True)
@batched_tangents(np.min, keepdims=True)
@batched_tangents(np.amin, keepdims=True)
def extreme_kept_batched(a, axis=None, out=None, keepdims=False, *, result, d_a):
    hit = a == result
    share = hit / np.sum(hit, axis=axis, keepdims=True)
    return np.sum(share[..., None] * d_a, axis=_reduced_axes(a, axis=axis), keepdims=True)


@adjoints(np.max)
@adjoints(np.amax)
def max_adjoint(a, axis=None, out=None, keepdims=False, *, result, d_result):
    mask = _extreme_mask(a, result, axis=axis, keepdims=keepdims)
    return mask * _unreduce(d_result, a, axis=axis, keepdims=keepdims)


@tangents(np.min)
@tangents(np.amin)
def min_tangent(a, axis=None, out=None, keepdims=False, *, result, d_a):
    mask = _extreme_mask(a, result, axis=axis, keepdims=keepdims)
    return np.sum(mask * d_a, axis=axis, keepdims=keepdims)


@batched_tangents(np.min)
@batched_tangents(np.amin)
def min_batched(a, axis=None, out=None, keepdims=False, *, result, d_a):
    mask = _extreme_mask(a, result, axis=axis, keepdims=keepdims)
    return np.sum(np.expand_dims(mask, -1) * d_a, axis=_reduced_axes(a, axis=axis),
                  keepdims=keepdims)


@adjoints(np.min)
@adjoints(np.amin)
def min_adjoint(a, axis=None, out=None, keepdims=False, *, result, d_result):
    mask = _extreme_mask(a, result, axis=axis, keepdims=keepdims)
    return mask * _unreduce(d_result, a, axis=axis, keepdims=keepdims)


@tangents(np.var)
def var_tangent(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, result, d_a):
    count = np.size(a) / np.size(result) - ddof
    return np.sum(2.0 * _centered(a, axis=axis) * d_a, axis=axis, keepdims=keepdims) / count


@batched_tangents(np.var)
def var_batched(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, result, d_a):
    count = np.size(a) / np.size(result) - ddof
    spread = np.expand_dims(2.0 * _centered(a, axis=axis), -1) * d_a
    return np.sum(spread, axis=_reduced_axes(a, axis=axis), keepdims=keepdims) / count


@adjoints(np.var)
def var_adjoint(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, result, d_result):
    count = np.size(a) / np.size(result) - ddof
    spread = _unreduce(d_result, a, axis=axis, keepdims=keepdims)
    return 2.0 * _centered(a, axis=axis) * spread / count


@tangents(np.std)
def std_tangent(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, result, d_a):
    count = np.size(a) / np.size(result) - ddof
    total = np.sum(_centered(a, axis=axis) * d_a, axis=axis, keepdims=keepdims)
    return total / (count * _nonzero(result))


@batched_tangents(np.std)
def std_batched(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, result, d_a):
    count = np.size(a) / np.size(result) - ddof
    spread = np.expand_dims(_centered(a, axis=axis), -1) * d_a
    total = np.sum(spread, axis=_reduced_axes(a, axis=axis), keepdims=keepdims)
    return total / np.expand_dims(count * _nonzero(result), -1)


@adjoints(np.std)
def std_adjoint(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, result, d_result):
    count = np.size(a) / np.size(result) - ddof
    spread = _unreduce(d_result / (count * _nonzero(result)), a, axis=axis, keepdims=keepdims)
    return _centered(a, axis=axis) * spread


# np.linalg.norm of any ord: its derivative along each element is _norm_partial's (which
# follows NumPy in telling vector norms from matrix norms); the 2-norm (ord left out) is x / r


@tangents(np.linalg.norm)
def norm_tangent(x, ord=None, axis=None, keepdims=False, *, result, d_x):
    return np.sum(_norm_partial(x, ord, axis) * d_x, axis=axis, keepdims=keepdims)


@batched_tangents(np.linalg.norm)
def norm_batched(x, ord=None, axis=None, keepdims=False, *, result, d_x):
    partial = np.expand_dims(_norm_partial(x, ord, axis), -1)
    return np.sum(partial * d_x, axis=_reduced_axes(x, axis=axis), keepdims=keepdims)


@adjoints(np.linalg.norm)
def norm_adjoint(x, ord=None, axis=None, keepdims=False, *, result, d_result):
    return _norm_partial(x, ord, axis) * _unreduce(d_result, x, axis=axis, keepdims=keepdims)


@tangents(np.linalg.norm, ord=None)
def two_norm_tangent(x, ord=None, axis=None, keepdims=False, *, result, d_x):
    return np.sum(x * d_x, axis=axis, keepdims=keepdims) / _nonzero(result)


@batched_tangents(np.linalg.norm, ord=None)
def two_norm_batched(x, ord=None, axis=None, keepdims=False, *, result, d_x):
    total = np.sum(np.expand_dims(x, -1) * d_x, axis=_reduced_axes(x, axis=axis),
                   keepdims=keepdims)
    return total / np.expand_dims(_nonzero(result), -1)


@adjoints(np.linalg.norm, ord=None)
def two_norm_adjoint(x, ord=None, axis=None, keepdims=False, *, result, d_result):
    return x * _unreduce(d_result / _nonzero(result), x, axis=axis, keepdims=keepdims)


@tangents(np.cumsum)
def cumsum_tangent(a, axis=None, dtype=None, out=None, *, d_a):
    return np.cumsum(d_a, axis=axis)


@batched_tangents(np.cumsum)
def cumsum_batched(a, axis=None, dtype=None, out=None, *, d_a):
    return _cumsum_tangent(d_a, axis=axis)


@adjoints(np.cumsum)
def cumsum_adjoint(a, axis=None, dtype=None, out=None, *, d_result):
    return _uncumsum(d_result, a, axis=axis)


@tangents(np.diff)
def diff_tangent(a, n=1, axis=-1, *, d_a):
    return np.diff(d_a, n=n, axis=axis)


@batched_tangents(np.diff)
def diff_batched(a, n=1, axis=-1, *, d_a):
    return _diff_tangent(d_a, n=n, axis=axis)


@adjoints(np.diff)
def diff_adjoint(a, n=1, axis=-1, *, d_result):
    return _undiff(d_result, n=n, axis=axis)


@tangents(np.roll)
def roll_tangent(a, shift, axis=None, *, d_a):
    return np.roll(d_a, shift, axis=axis), None


@batched_tangents(np.roll)
def roll_batched(a, shift, axis=None, *, d_a):
    return _roll_tangent(d_a, shift, axis=axis), None


@adjoints(np.roll)
def roll_adjoint(a, shift, axis=None, *, d_result):  # rolled back
    return np.roll(d_result, np.negative(shift), axis=axis), None


@adjoints(np.roll, shift=ndim(0))
def roll_by_a_number_adjoint(a, shift, axis=None, *, d_result):
    return np.roll(d_result, -shift, axis=axis), None


# products


@tangents(operator.matmul)
def matmul_operator_tangent(a, b, *, d_a, d_b):
    return d_a @ b, a @ d_b


@batched_tangents(operator.matmul)
def matmul_operator_batched(a, b, *, d_a, d_b):
    return _matmul_tangent_a(d_a, b), _matmul_tangent_b(a, d_b)


@adjoints(operator.matmul)
def matmul_operator_adjoint(a, b, *, d_result):
    return _matmul_adjoint_a(d_result, a, b), _matmul_adjoint_b(d_result, a, b)


# the adjoints of a @ b where the numbers of dimensions are known: g is the adjoint of a @ b


@plain(_matmul_adjoint_a, a=2, b=2)
def matmul_a_of_matrices(g, a, b):
    return g @ b.T


@plain(_matmul_adjoint_b, a=2, b=2)
def matmul_b_of_matrices(g, a, b):
    return a.T @ g


@plain(_matmul_adjoint_a, a=2, b=1)
def matmul_a_of_matrix_vector(g, a, b):
    return np.outer(g, b)


@plain(_matmul_adjoint_b, a=2, b=1)
def matmul_b_of_matrix_vector(g, a, b):
    return a.T @ g


@plain(_matmul_adjoint_a, a=1, b=2)
def matmul_a_of_vector_matrix(g, a, b):
    return b @ g


@plain(_matmul_adjoint_b, a=1, b=2)
def matmul_b_of_vector_matrix(g, a, b):
    return np.outer(a, g)


@plain(_matmul_adjoint_a, a=1, b=1)
def matmul_a_of_vectors(g, a, b):
    return g * b


@plain(_matmul_adjoint_b, a=1, b=1)
def matmul_b_of_vectors(g, a, b):
    return g * a


@tangents(np.matmul)
def matmul_tangent(a, b, *, d_a, d_b):
    return np.matmul(d_a, b), np.matmul(a, d_b)


@batched_tangents(np.matmul)
def matmul_batched(a, b, *, d_a, d_b):
    return _matmul_tangent_a(d_a, b), _matmul_tangent_b(a, d_b)


@adjoints(np.matmul)
def matmul_adjoint(a, b, *, d_result):
    return _matmul_adjoint_a(d_result, a, b), _matmul_adjoint_b(d_result, a, b)


@tangents(np.dot)
def dot_tangent(a, b, *, d_a, d_b):
    return np.dot(d_a, b), np.dot(a, d_b)


# Products of matrices and vectors of known dimensions (np.dot is np.matmul for those): each
# batched tangent is one contraction, the directions on the last axis (l below).


@batched_tangents(operator.matmul, a=ndim(2), b=ndim(2))
@batched_tangents(np.matmul, a=ndim(2), b=ndim(2))
@batched_tangents(np.dot, a=ndim(2), b=ndim(2))
def matmul_matrices_batched(a, b, *, d_a, d_b):
    return np.einsum("ijl,jk->ikl", d_a, b), np.tensordot(a, d_b, axes=1)


@batched_tangents(operator.matmul, a=ndim(2), b=ndim(1))
@batched_tangents(np.matmul, a=ndim(2), b=ndim(1))
@batched_tangents(np.dot, a=ndim(2), b=ndim(1))
def matmul_matrix_vector_batched(a, b, *, d_a, d_b):
    return np.einsum("ijl,j->il", d_a, b), a @ d_b


@batched_tangents(operator.matmul, a=ndim(1), b=ndim(2))
@batched_tangents(np.matmul, a=ndim(1), b=ndim(2))
@batched_tangents(np.dot, a=ndim(1), b=ndim(2))
def matmul_vector_matrix_batched(a, b, *, d_a, d_b):
    return b.T @ d_a, np.tensordot(a, d_b, axes=1)


@batched_tangents(operator.matmul, a=ndim(1), b=ndim(1))
@batched_tangents(np.matmul, a=ndim(1), b=ndim(1))
@batched_tangents(np.dot, a=ndim(1), b=ndim(1))
def matmul_vectors_batched(a, b, *, d_a, d_b):
    return b @ d_a, a @ d_b


# np.dot, np.inner and np.tensordot are contractions of any shapes (a number's is a product):
# the helpers find the axes summed over when they run.


@batched_tangents(np.dot)
def dot_batched(a, b, *, d_a, d_b):
    axes = _dot_axes(a, b)
    return _contraction_tangent_a(d_a, a, b, axes), _contraction_tangent_b(a, d_b, b, axes)


@adjoints(np.dot)
def dot_adjoint(a, b, *, d_result):
    axes = _dot_axes(a, b)
    return (_contraction_adjoint_a(d_result, a, b, axes),
            _contraction_adjoint_b(d_result, a, b, axes))


@tangents(np.inner)
def inner_tangent(a, b, *, d_a, d_b):
    return np.inner(d_a, b), np.inner(a, d_b)


@batched_tangents(np.inner)
def inner_batched(a, b, *, d_a, d_b):
    axes = _inner_axes(a, b)
    return _contraction_tangent_a(d_a, a, b, axes), _contraction_tangent_b(a, d_b, b, axes)


@adjoints(np.inner)
def inner_adjoint(a, b, *, d_result):
    axes = _inner_axes(a, b)
    return (_contraction_adjoint_a(d_result, a, b, axes),
            _contraction_adjoint_b(d_result, a, b, axes))


@tangents(np.tensordot)
def tensordot_tangent(a, b, axes=2, *, d_a, d_b):
    return np.tensordot(d_a, b, axes=axes), np.tensordot(a, d_b, axes=axes)


@batched_tangents(np.tensordot)
def tensordot_batched(a, b, axes=2, *, d_a, d_b):
    return _contraction_tangent_a(d_a, a, b, axes), _contraction_tangent_b(a, d_b, b, axes)


@adjoints(np.tensordot)
def tensordot_adjoint(a, b, axes=2, *, d_result):
    return (_contraction_adjoint_a(d_result, a, b, axes),
            _contraction_adjoint_b(d_result, a, b, axes))


@tangents(np.outer)
def outer_tangent(a, b, *, d_a, d_b):
    return np.outer(d_a, b), np.outer(a, d_b)


@batched_tangents(np.outer)
def outer_batched(a, b, *, d_a, d_b):
    return _outer_tangent_a(d_a, b), _outer_tangent_b(a, d_b)


@batched_tangents(np.outer, a=ndim(1), b=ndim(1))
def outer_vectors_batched(a, b, *, d_a, d_b):
    return np.einsum("il,j->ijl", d_a, b), np.einsum("i,jl->ijl", a, d_b)


@adjoints(np.outer)
def outer_adjoint(a, b, *, d_result):  # np.outer flattens its arguments
    return (np.reshape(d_result @ np.ravel(b), np.shape(a)),
            np.reshape(np.ravel(a) @ d_result, np.shape(b)))


# np.einsum is linear in each operand: its tangent along one is the same contraction with the
# operand's tangent in its place (``*d_operands``), its adjoint that of _einsum_adjoint.


@tangents(np.einsum)
def einsum_tangent(subscripts, *operands, d_operands):
    return None, np.einsum(subscripts, *d_operands)


@batched_tangents(np.einsum)
def einsum_batched(subscripts, *operands, d_operands, item):
    return None, np.einsum(_einsum_batched(subscripts, item, *operands), *d_operands)


@adjoints(np.einsum)
def einsum_adjoint(subscripts, *operands, d_result, item):
    return None, _einsum_adjoint(subscripts, d_result, item, *operands)


# shapes

# Joining arrays: the tangent joins the tangents (d_arrays, zeros for a constant), and each array
# gets back its piece of the result's adjoint, found by its position (item) in the sequence.


@tangents(np.concatenate)
@tangents(np.concat)
def concatenate_tangent(arrays, axis=0, *, d_arrays):
    return np.concatenate(d_arrays, axis=axis)


@batched_tangents(np.concatenate)
@batched_tangents(np.concat)
def concatenate_batched(arrays, axis=0, *, d_arrays):
    return np.concatenate(d_arrays, axis=_shifted_axis(axis))


@batched_tangents(np.concatenate, axis=None)
@batched_tangents(np.concat, axis=None)
def concatenate_flat_batched(arrays, axis=0, *, d_arrays):
    return _flat_concatenate_tangent(d_arrays)


@adjoints(np.concatenate)
@adjoints(np.concat)
def concatenate_adjoint(arrays, axis=0, *, d_result, item):
    return _unconcatenate(d_result, arrays, item, axis=axis)


@tangents(np.stack)
def stack_tangent(arrays, axis=0, *, d_arrays):
    return np.stack(d_arrays, axis=axis)


@batched_tangents(np.stack)
def stack_batched(arrays, axis=0, *, d_arrays):
    return np.stack(d_arrays, axis=_shifted_axis(axis))


@adjoints(np.stack)
def stack_adjoint(arrays, axis=0, *, d_result, item):
    return _unstack(d_result, arrays, item, axis=axis)


@tangents(np.array)
def array_tangent(arrays, *, d_arrays):
    return np.array(d_arrays)


@batched_tangents(np.array)
def array_batched(arrays, *, d_arrays):
    return np.array(d_arrays)


@adjoints(np.array)
def array_adjoint(arrays, *, d_result, item):  # item: a position in nested lists, (1, 0)
    return d_result[item]


@tangents(np.hstack)
def hstack_tangent(arrays, *, d_arrays):
    return np.hstack(d_arrays)


@batched_tangents(np.hstack)
def hstack_batched(arrays, *, d_arrays):
    return _hstack_tangent(d_arrays, arrays)


@adjoints(np.hstack)
def hstack_adjoint(arrays, *, d_result, item):
    return _unhstack(d_result, arrays, item)


@tangents(np.vstack)
def vstack_tangent(arrays, *, d_arrays):
    return np.vstack(d_arrays)


@batched_tangents(np.vstack)
def vstack_batched(arrays, *, d_arrays):
    return _vstack_tangent(d_arrays, arrays)


@adjoints(np.vstack)
def vstack_adjoint(arrays, *, d_result, item):
    return _unvstack(d_result, arrays, item)


@tangents(np.transpose)
@tangents(np.permute_dims)
def transpose_tangent(a, axes=None, *, d_a):
    return np.transpose(d_a, axes=axes)


@batched_tangents(np.transpose)
@batched_tangents(np.permute_dims)
def transpose_batched(a, axes=None, *, d_a):
    return np.transpose(d_a, axes=_transposed_axes(a, axes=axes))


@adjoints(np.transpose)
@adjoints(np.permute_dims)
def transpose_adjoint(a, axes=None, *, d_result):
    return np.transpose(d_result, axes=np.argsort(np.mod(axes, np.ndim(a))))  # (-1, 0, 1) too


@tangents(np.ndarray.T)
def transposed_tangent(a, *, d_a):
    return d_a.T


@batched_tangents(np.ndarray.T)
def transposed_batched(a, *, d_a):
    return np.transpose(d_a, axes=_transposed_axes(a))


@adjoints(np.ndarray.T)
def transposed_adjoint(a, *, d_result):
    return d_result.T


@tangents(np.reshape)
def reshape_tangent(a, shape, *, d_a):
    return np.reshape(d_a, shape), None


@batched_tangents(np.reshape)
def reshape_batched(a, shape, *, result, d_a):
    return np.reshape(d_a, (*np.shape(result), -1)), None


@adjoints(np.reshape)
def reshape_adjoint(a, shape, *, d_result):
    return np.reshape(d_result, np.shape(a)), None


@tangents(np.ravel)
def ravel_tangent(a, *, d_a):
    return np.ravel(d_a)


@batched_tangents(np.ravel)
def ravel_batched(a, *, result, d_a):
    return np.reshape(d_a, (*np.shape(result), -1))


@adjoints(np.ravel)
def ravel_adjoint(a, *, d_result):
    return np.reshape(d_result, np.shape(a))


@tangents(np.ndarray.flatten)
def flatten_tangent(a, *, d_a):
    return np.ravel(d_a)


@batched_tangents(np.ndarray.flatten)
def flatten_batched(a, *, result, d_a):
    return np.reshape(d_a, (*np.shape(result), -1))


@adjoints(np.ndarray.flatten)
def flatten_adjoint(a, *, d_result):
    return np.reshape(d_result, np.shape(a))


@tangents(np.squeeze)
def squeeze_tangent(a, axis=None, *, d_a):
    return np.squeeze(d_a, axis=axis)


@batched_tangents(np.squeeze)
def squeeze_batched(a, axis=None, *, result, d_a):
    return np.reshape(d_a, (*np.shape(result), -1))


@adjoints(np.squeeze)
def squeeze_adjoint(a, axis=None, *, d_result):
    return np.reshape(d_result, np.shape(a))


@tangents(np.expand_dims)
def expand_dims_tangent(a, axis, *, d_a):
    return np.expand_dims(d_a, axis), None


@batched_tangents(np.expand_dims)
def expand_dims_batched(a, axis, *, result, d_a):
    return np.reshape(d_a, (*np.shape(result), -1)), None


@adjoints(np.expand_dims)
def expand_dims_adjoint(a, axis, *, d_result):
    return np.reshape(d_result, np.shape(a)), None


@tangents(np.swapaxes)
def swapaxes_tangent(a, axis1, axis2, *, d_a):
    return np.swapaxes(d_a, axis1, axis2), None, None


@batched_tangents(np.swapaxes)
def swapaxes_batched(a, axis1, axis2, *, d_a):
    # the axes counted from the front: the directions' axis is d_a's last
    return np.swapaxes(d_a, axis1 % np.ndim(a), axis2 % np.ndim(a)), None, None


@adjoints(np.swapaxes)
def swapaxes_adjoint(a, axis1, axis2, *, d_result):
    return np.swapaxes(d_result, axis1, axis2), None, None


@tangents(np.moveaxis)
def moveaxis_tangent(a, source, destination, *, d_a):
    return np.moveaxis(d_a, source, destination), None, None


@batched_tangents(np.moveaxis)
def moveaxis_batched(a, source, destination, *, d_a):
    return np.moveaxis(d_a, np.mod(source, np.ndim(a)), np.mod(destination, np.ndim(a))), None, None


@adjoints(np.moveaxis)
def moveaxis_adjoint(a, source, destination, *, d_result):
    return np.moveaxis(d_result, destination, source), None, None


@tangents(np.fliplr)
def fliplr_tangent(a, *, d_a):
    return np.fliplr(d_a)


@batched_tangents(np.fliplr)
def fliplr_batched(a, *, d_a):
    return np.flip(d_a, 1)


@adjoints(np.fliplr)
def fliplr_adjoint(a, *, d_result):
    return np.fliplr(d_result)


@tangents(np.flipud)
def flipud_tangent(a, *, d_a):
    return np.flipud(d_a)


@batched_tangents(np.flipud)
def flipud_batched(a, *, d_a):
    return np.flip(d_a, 0)


@adjoints(np.flipud)
def flipud_adjoint(a, *, d_result):
    return np.flipud(d_result)


@tangents(np.flip)
def flip_tangent(m, axis=None, *, d_m):
    return np.flip(d_m, axis=axis)


@batched_tangents(np.flip)
def flip_batched(m, axis=None, *, d_m):  # every axis but the directions' when axis is None
    return np.flip(d_m, axis=_reduced_axes(m, axis=axis))


@adjoints(np.flip)
def flip_adjoint(m, axis=None, *, d_result):  # a flip is its own inverse and its own transpose
    return np.flip(d_result, axis=axis)


@tangents(np.rot90)
def rot90_tangent(m, k=1, axes=(0, 1), *, d_m):
    return np.rot90(d_m, k, axes=axes)


@batched_tangents(np.rot90)
def rot90_batched(m, k=1, axes=(0, 1), *, d_m):
    return np.rot90(d_m, k, axes=_shifted_axis(axes))


@adjoints(np.rot90)
def rot90_adjoint(m, k=1, axes=(0, 1), *, d_result):  # the transpose of a rotation: back by k
    return np.rot90(d_result, -k, axes=axes)


@tangents(np.triu)
def triu_tangent(m, k=0, *, d_m):
    return np.triu(d_m, k)


@batched_tangents(np.triu)
def triu_batched(m, k=0, *, d_m):
    # np.triu masks the last two axes: the directions' axis goes in front while it does
    return np.moveaxis(np.triu(np.moveaxis(d_m, -1, 0), k), 0, -1)


@adjoints(np.triu)
def triu_adjoint(m, k=0, *, d_result):  # a mask: the same mask sends the adjoint back
    return np.triu(d_result, k)


@tangents(np.tril)
def tril_tangent(m, k=0, *, d_m):
    return np.tril(d_m, k)


@batched_tangents(np.tril)
def tril_batched(m, k=0, *, d_m):
    return np.moveaxis(np.tril(np.moveaxis(d_m, -1, 0), k), 0, -1)


@adjoints(np.tril)
def tril_adjoint(m, k=0, *, d_result):
    return np.tril(d_result, k)


@tangents(np.atleast_1d)
def atleast_1d_tangent(a, *, d_a):
    return np.atleast_1d(d_a)


@batched_tangents(np.atleast_1d)
def atleast_1d_batched(a, *, result, d_a):  # axes of length one added in front of a's
    return np.reshape(d_a, (*np.shape(result), -1))


@adjoints(np.atleast_1d)
def atleast_1d_adjoint(a, *, d_result):
    return np.reshape(d_result, np.shape(a))


@tangents(np.atleast_2d)
def atleast_2d_tangent(a, *, d_a):
    return np.atleast_2d(d_a)


@batched_tangents(np.atleast_2d)
def atleast_2d_batched(a, *, result, d_a):
    return np.reshape(d_a, (*np.shape(result), -1))


@adjoints(np.atleast_2d)
def atleast_2d_adjoint(a, *, d_result):
    return np.reshape(d_result, np.shape(a))


@tangents(np.atleast_3d)
def atleast_3d_tangent(a, *, d_a):
    return np.atleast_3d(d_a)


@batched_tangents(np.atleast_3d)
def atleast_3d_batched(a, *, result, d_a):
    return np.reshape(d_a, (*np.shape(result), -1))


@adjoints(np.atleast_3d)
def atleast_3d_adjoint(a, *, d_result):
    return np.reshape(d_result, np.shape(a))


@tangents(np.diagonal)
def diagonal_tangent(a, offset=0, axis1=0, axis2=1, *, d_a):
    return np.diagonal(d_a, offset=offset, axis1=axis1, axis2=axis2)


@batched_tangents(np.diagonal)
def diagonal_batched(a, offset=0, axis1=0, axis2=1, *, d_a):
    return _diagonal_tangent(d_a, offset=offset, axis1=axis1, axis2=axis2)


@adjoints(np.diagonal)
def diagonal_adjoint(a, offset=0, axis1=0, axis2=1, *, d_result):
    return _undiagonal(d_result, a, offset=offset, axis1=axis1, axis2=axis2)


@tangents(np.diag)
def diag_tangent(v, k=0, *, d_v):  # a vector's matrix, or a matrix's diagonal
    return np.diag(d_v, k)


@batched_tangents(np.diag)
def diag_batched(v, k=0, *, d_v):
    return _diag_tangent(d_v, v, k=k)


@batched_tangents(np.diag, v=ndim(2))
def diag_of_matrix_batched(v, k=0, *, d_v):
    return _diagonal_tangent(d_v, offset=k)


@adjoints(np.diag)
def diag_adjoint(v, k=0, *, d_result):
    return _undiag(d_result, v, k=k)


@adjoints(np.diag, v=ndim(1))
def diag_of_vector_adjoint(v, k=0, *, d_result):
    return np.diag(d_result, k)


@adjoints(np.diag, v=ndim(2))
def diag_of_matrix_adjoint(v, k=0, *, d_result):
    return _undiagonal(d_result, v, offset=k)


@tangents(np.take_along_axis)
def take_along_axis_tangent(arr, indices, axis, *, d_arr):
    return np.take_along_axis(d_arr, indices, axis), None, None


@batched_tangents(np.take_along_axis)
def take_along_axis_batched(arr, indices, axis, *, d_arr):
    return _take_along_tangent(d_arr, indices, axis), None, None


@adjoints(np.take_along_axis)
def take_along_axis_adjoint(arr, indices, axis, *, d_result):
    return _untake_along_axis(d_result, arr, indices, axis), None, None


@tangents(np.sort)
def sort_tangent(a, axis=-1, *, d_a):  # through the permutation that sorts a
    return np.take_along_axis(d_a, np.argsort(a, axis), axis)


@batched_tangents(np.sort)
def sort_batched(a, axis=-1, *, d_a):
    return _take_along_tangent(d_a, np.argsort(a, axis), axis)


@adjoints(np.sort)
def sort_adjoint(a, axis=-1, *, d_result):
    return _untake_along_axis(d_result, a, np.argsort(a, axis), axis)


@tangents(np.repeat)
def repeat_tangent(a, repeats, axis=None, *, d_a):
    return np.repeat(d_a, repeats, axis=axis), None


@batched_tangents(np.repeat)
def repeat_batched(a, repeats, axis=None, *, d_a):
    return _repeat_tangent(d_a, repeats, axis=axis), None


@adjoints(np.repeat)
def repeat_adjoint(a, repeats, axis=None, *, d_result):  # axis=None: a flattened
    return _unrepeat(d_result, a, repeats, axis), None


@tangents(np.trace)
def trace_tangent(a, *, d_a):
    return np.trace(d_a)


@batched_tangents(np.trace)
def trace_batched(a, *, d_a):
    return np.trace(d_a)  # over the first two axes: the directions' axis stays last


@adjoints(np.trace)
def trace_adjoint(a, *, d_result):
    # d_a[i, j, ...] = d_result[...] where i == j
    return np.einsum("ij,...->ij...", np.eye(np.shape(a)[0], np.shape(a)[1]), d_result)


@tangents(np.tile)
def tile_tangent(a, reps, *, d_a):
    return np.tile(d_a, reps), None


@batched_tangents(np.tile)
def tile_batched(a, reps, *, d_a):
    return np.tile(d_a, np.append(reps, 1)), None


@adjoints(np.tile)
def tile_adjoint(a, reps, *, d_result):
    return _untile(d_result, a, reps), None


@tangents(np.broadcast_to)
def broadcast_to_tangent(array, shape, *, d_array):
    return np.broadcast_to(d_array, shape), None


@batched_tangents(np.broadcast_to)
def broadcast_to_batched(array, shape, *, result, d_array):
    return _full_tangent(d_array, result), None


@adjoints(np.broadcast_to)
def broadcast_to_adjoint(array, shape, *, d_result):
    return _unbroadcast(d_result, array), None


# Arrays made from numbers: np.full and np.full_like repeat their fill value, np.linspace is
# linear in its ends (start * (1 - t) + stop * t). np.arange is not in the list below: an
# active value reaching it is refused (its length depends on the ends; there is no rule yet).


@tangents(np.full)
def full_tangent(shape, fill_value, *, d_fill_value):
    return None, np.full(shape, d_fill_value)


@batched_tangents(np.full)
def full_batched(shape, fill_value, *, result, d_fill_value):
    return None, _full_tangent(d_fill_value, result)


@adjoints(np.full)
def full_adjoint(shape, fill_value, *, d_result):
    return None, _unbroadcast(d_result, fill_value)


@tangents(np.full_like)
def full_like_tangent(a, fill_value, *, d_a, d_fill_value):  # a gives only the shape
    return np.zeros_like(d_a), np.full(np.shape(a), d_fill_value)


@batched_tangents(np.full_like)
def full_like_batched(a, fill_value, *, result, d_a, d_fill_value):
    return np.zeros_like(d_a), _full_tangent(d_fill_value, result)


@adjoints(np.full_like)
def full_like_adjoint(a, fill_value, *, d_result):
    return np.zeros(np.shape(a)), _unbroadcast(d_result, fill_value)


@tangents(np.linspace)
def linspace_tangent(start, stop, num=50, endpoint=True, *, result, d_start, d_stop):
    share = np.linspace(np.ones(np.shape(result)[1:]), 0.0, num, endpoint=endpoint)
    return share * d_start, (1.0 - share) * d_stop


@batched_tangents(np.linspace)
def linspace_batched(start, stop, num=50, endpoint=True, *, result, d_start, d_stop):
    share = np.linspace(np.ones(np.shape(result)[1:]), 0.0, num, endpoint=endpoint)
    return np.expand_dims(share, -1) * d_start, np.expand_dims(1.0 - share, -1) * d_stop


@adjoints(np.linspace)
def linspace_adjoint(start, stop, num=50, endpoint=True, *, result, d_result):
    share = np.linspace(np.ones(np.shape(result)[1:]), 0.0, num, endpoint=endpoint)
    return (_unbroadcast(np.sum(share * d_result, axis=0), start),
            _unbroadcast(np.sum((1.0 - share) * d_result, axis=0), stop))


nondifferentiable(
    np.floor, np.ceil, np.trunc, np.rint, np.round, np.sign, np.isnan, np.isinf, np.isfinite,
    np.shape, np.size, np.ndim, np.dtype, np.zeros, np.ones, np.empty, np.zeros_like,
    np.ones_like, np.empty_like, np.eye, np.identity,
    np.argmax, np.argmin, np.argsort, np.nonzero, np.count_nonzero, np.all, np.any,
    np.isclose, np.allclose, np.equal, np.less, np.greater, np.less_equal, np.greater_equal,
    np.not_equal, np.around, np.floor_divide, np.heaviside, np.signbit,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
)
