"""Derivatives of NumPy's other products: np.vdot, np.vecdot, np.kron and np.cross, structural
rules (see rules/numpy.py). Each is linear in either factor, so its tangent is the product with that
factor's tangent, and each factor gets the result's adjoint contracted with the other.
"""

import numpy as np

from ad_transpile.rulebook import adjoints, batched_tangents, tangents
from ad_transpile.runtime import _shifted_axis, _unbroadcast, _uncross, _unkron_a, _unkron_b


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
