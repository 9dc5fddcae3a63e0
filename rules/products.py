"""Derivatives of NumPy's other products (np.vdot, np.vecdot, np.kron, np.cross, np.convolve),
of polynomials and of linear interpolation: structural rules (see rules/numpy.py). A product is
linear in either factor, so its tangent is the product with that factor's tangent, and each
factor gets the result's adjoint contracted with the other.
"""

import numpy as np

from ad_transpile.rulebook import adjoints, batched_tangents, tangents
from ad_transpile.runtime import (
    _convolve_tangent,
    _interp_slopes,
    _interp_weights,
    _reduced_axes,
    _shifted_axis,
    _unbroadcast,
    _unconvolve,
    _uncross,
    _unkron_a,
    _unkron_b,
)


@tangents(np.vdot)
def vdot_tangent(a, b, *, d_a, d_b):  # the sum of the products of a and b flattened
    return np.vdot(d_a, b), np.vdot(a, d_b)


@batched_tangents(np.vdot)
def vdot_batched(a, b, *, d_a, d_b):
    return (np.ravel(b) @ np.reshape(d_a, (-1, np.shape(d_a)[-1])),
            np.ravel(a) @ np.reshape(d_b, (-1, np.shape(d_b)[-1])))


@adjoints(np.vdot)
def vdot_adjoint(a, b, *, d_result):
    return d_result * np.reshape(b, np.shape(a)), d_result * np.reshape(a, np.shape(b))


@tangents(np.kron)
def kron_tangent(a, b, *, d_a, d_b):
    return np.kron(d_a, b), np.kron(a, d_b)


@batched_tangents(np.kron)
def kron_batched(a, b, *, d_a, d_b):  # a length of 1 beside the directions: each on its own
    return np.kron(d_a, np.expand_dims(b, -1)), np.kron(np.expand_dims(a, -1), d_b)


@adjoints(np.kron)
def kron_adjoint(a, b, *, d_result):
    return _unkron_a(d_result, a, b), _unkron_b(d_result, a, b)


@tangents(np.cross)
def cross_tangent(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, *, d_a, d_b):
    return np.cross(d_a, b, axis=axis), np.cross(a, d_b, axis=axis)


@batched_tangents(np.cross)
def cross_batched(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, *, d_a, d_b):
    return (np.cross(d_a, np.expand_dims(b, -1), axis=_shifted_axis(axis)),
            np.cross(np.expand_dims(a, -1), d_b, axis=_shifted_axis(axis)))


@batched_tangents(np.cross, axis=None)
def cross_last_batched(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, *, d_a, d_b):
    return (np.cross(d_a, np.expand_dims(b, -1), axis=-2),
            np.cross(np.expand_dims(a, -1), d_b, axis=-2))


@adjoints(np.cross)
def cross_adjoint(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, *, d_result):
    return _uncross(d_result, a, b, axis=axis), -_uncross(d_result, b, a, axis=axis)  # b x a


@tangents(np.vecdot)
def vecdot_tangent(x1, x2, axis=-1, *, d_x1, d_x2):  # sum(x1 * x2, axis), broadcast
    return np.vecdot(d_x1, x2, axis=axis), np.vecdot(x1, d_x2, axis=axis)


@batched_tangents(np.vecdot)
def vecdot_batched(x1, x2, axis=-1, *, d_x1, d_x2):  # the axis by position: -1 if left out
    return (np.sum(d_x1 * np.expand_dims(x2, -1), _shifted_axis(axis)),
            np.sum(np.expand_dims(x1, -1) * d_x2, _shifted_axis(axis)))


@adjoints(np.vecdot)
def vecdot_adjoint(x1, x2, axis=-1, *, d_result):
    return (_unbroadcast(np.expand_dims(d_result, axis) * x2, x1),
            _unbroadcast(np.expand_dims(d_result, axis) * x1, x2))


@tangents(np.convolve)
def convolve_tangent(a, v, mode="full", *, d_a, d_v):
    return np.convolve(d_a, v, mode=mode), np.convolve(a, d_v, mode=mode)


@batched_tangents(np.convolve)
def convolve_batched(a, v, mode="full", *, d_a, d_v):  # a convolution is symmetric
    return _convolve_tangent(d_a, v, mode=mode), _convolve_tangent(d_v, a, mode=mode)


@adjoints(np.convolve)
def convolve_adjoint(a, v, mode="full", *, d_result):
    return _unconvolve(d_result, v, a, mode=mode), _unconvolve(d_result, a, v, mode=mode)


# np.polyval(p, x) = sum of p[i] * x ** (n - 1 - i): linear in p, a polynomial in x whose
# derivative has the coefficients p[i] * (n - 1 - i), written out so it differentiates again.


@tangents(np.polyval)
def polyval_tangent(p, x, *, d_p, d_x):
    slope = np.polyval(p[:-1] * np.arange(np.size(p) - 1, 0, -1), x)
    return np.polyval(d_p, x), slope * d_x


@batched_tangents(np.polyval)
def polyval_batched(p, x, *, d_p, d_x):
    powers = np.expand_dims(x, -1) ** np.arange(np.size(p) - 1, -1, -1)
    slope = np.polyval(p[:-1] * np.arange(np.size(p) - 1, 0, -1), x)
    return np.tensordot(powers, d_p, axes=1), np.expand_dims(slope, -1) * d_x


@adjoints(np.polyval)
def polyval_adjoint(p, x, *, d_result):
    powers = np.expand_dims(x, -1) ** np.arange(np.size(p) - 1, -1, -1)
    slope = np.polyval(p[:-1] * np.arange(np.size(p) - 1, 0, -1), x)
    return (np.sum(np.expand_dims(d_result, -1) * powers, axis=_reduced_axes(x)),
            _unbroadcast(d_result * slope, x))


# np.interp(x, xp, fp) is linear in fp (weights of the two knots around x) and, within a
# segment, in x (the segment's slope); xp only places the knots, left and right are constants
# beyond them. period is refused (no template reads it).


@tangents(np.interp)
def interp_tangent(x, xp, fp, left=None, right=None, period=None, *, d_x, d_fp):
    slope = np.tensordot(_interp_slopes(x, xp, left=left, right=right), fp, axes=1)
    return slope * d_x, None, np.interp(x, xp, d_fp, left=0.0 * left, right=0.0 * right)


@batched_tangents(np.interp)
def interp_batched(x, xp, fp, left=None, right=None, period=None, *, d_x, d_fp):
    slope = np.tensordot(_interp_slopes(x, xp, left=left, right=right), fp, axes=1)
    return (np.expand_dims(slope, -1) * d_x, None,
            np.tensordot(_interp_weights(x, xp, left=left, right=right), d_fp, axes=1))


@adjoints(np.interp)
def interp_adjoint(x, xp, fp, left=None, right=None, period=None, *, d_result):
    slope = np.tensordot(_interp_slopes(x, xp, left=left, right=right), fp, axes=1)
    weights = _interp_weights(x, xp, left=left, right=right)
    return d_result * slope, None, np.tensordot(d_result, weights, axes=np.ndim(x))
