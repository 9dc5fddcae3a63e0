"""Derivatives of NumPy's other reductions: the peak-to-peak spread, averages (weighted, or
ignoring nan), the trapezoid rule; and np.gradient's differences. Structural rules (see
rules/numpy.py); each result is a weighted sum of the elements, so its tangent sums the weighted
tangents and its adjoint spreads the result's adjoint back with the same weights. A spacing
that depends on wrt is refused (its rule gives no derivative along it).
"""

import numpy as np

from ad_transpile.rulebook import adjoints, batched_tangents, tangents
from ad_transpile.runtime import (
    _average_weights,
    _average_weights_tangent,
    _gradient_axis,
    _ptp_mask,
    _reduced_axes,
    _shifted_axis,
    _spread_weights,
    _trapezoid_weights,
    _trapezoid_x_tangent,
    _unbroadcast,
    _ungradient,
    _unreduce,
    _unspread_weights,
    _untrapezoid_x,
)


@tangents(np.ptp)
def ptp_tangent(a, axis=None, out=None, keepdims=False, *, d_a):
    return np.sum(_ptp_mask(a, axis=axis, keepdims=keepdims) * d_a, axis=axis, keepdims=keepdims)


@batched_tangents(np.ptp)
def ptp_batched(a, axis=None, out=None, keepdims=False, *, d_a):
    mask = np.expand_dims(_ptp_mask(a, axis=axis, keepdims=keepdims), -1)
    return np.sum(mask * d_a, axis=_reduced_axes(a, axis=axis), keepdims=keepdims)


@adjoints(np.ptp)
def ptp_adjoint(a, axis=None, out=None, keepdims=False, *, d_result):
    mask = _ptp_mask(a, axis=axis, keepdims=keepdims)
    return mask * _unreduce(d_result, a, axis=axis, keepdims=keepdims)


# np.average is linear in a (each element's share of the weights) and, apart, a ratio in the
# weights: moving them moves the average by the elements' distances from it, over their sum.


@tangents(np.average)
def average_tangent(a, axis=None, weights=None, returned=False, keepdims=False, *, result, d_a,
                    d_weights):
    share = _average_weights(a, axis=axis, weights=weights)
    apart = a - _unreduce(result, a, axis=axis, keepdims=keepdims)
    total = np.sum(_spread_weights(a, axis=axis, weights=weights), axis=axis, keepdims=keepdims)
    moved = _spread_weights(a, axis=axis, weights=d_weights)
    return (np.sum(share * d_a, axis=axis, keepdims=keepdims), None,
            np.sum(apart * moved, axis=axis, keepdims=keepdims) / total)


@batched_tangents(np.average)
def average_batched(a, axis=None, weights=None, returned=False, keepdims=False, *, result, d_a,
                    d_weights):
    share = np.expand_dims(_average_weights(a, axis=axis, weights=weights), -1)
    return (np.sum(share * d_a, axis=_reduced_axes(a, axis=axis), keepdims=keepdims), None,
            _average_weights_tangent(a, d_weights, result, axis=axis, weights=weights,
                                     keepdims=keepdims))


@adjoints(np.average)
def average_adjoint(a, axis=None, weights=None, returned=False, keepdims=False, *, result,
                    d_result):
    share = _average_weights(a, axis=axis, weights=weights)
    apart = a - _unreduce(result, a, axis=axis, keepdims=keepdims)
    total = np.sum(_spread_weights(a, axis=axis, weights=weights), axis=axis, keepdims=keepdims)
    spread = _unreduce(d_result / total, a, axis=axis, keepdims=keepdims)
    return (share * _unreduce(d_result, a, axis=axis, keepdims=keepdims), None,
            _unspread_weights(apart * spread, a, axis=axis, weights=weights))


# np.nansum and np.nanmean leave the nan elements out: those get no derivative, and the mean
# divides by the count of the others.


@tangents(np.nansum)
def nansum_tangent(a, axis=None, dtype=None, out=None, keepdims=False, *, d_a):
    return np.sum(np.where(np.isnan(a), 0.0, d_a), axis=axis, keepdims=keepdims)


@batched_tangents(np.nansum)
def nansum_batched(a, axis=None, dtype=None, out=None, keepdims=False, *, d_a):
    kept = np.where(np.expand_dims(np.isnan(a), -1), 0.0, d_a)
    return np.sum(kept, axis=_reduced_axes(a, axis=axis), keepdims=keepdims)


@adjoints(np.nansum)
def nansum_adjoint(a, axis=None, dtype=None, out=None, keepdims=False, *, d_result):
    return np.where(np.isnan(a), 0.0, _unreduce(d_result, a, axis=axis, keepdims=keepdims))


@tangents(np.nanmean)
def nanmean_tangent(a, axis=None, dtype=None, out=None, keepdims=False, *, d_a):
    count = np.sum(np.logical_not(np.isnan(a)), axis=axis, keepdims=keepdims)
    return np.sum(np.where(np.isnan(a), 0.0, d_a), axis=axis, keepdims=keepdims) / count


@batched_tangents(np.nanmean)
def nanmean_batched(a, axis=None, dtype=None, out=None, keepdims=False, *, d_a):
    count = np.sum(np.logical_not(np.isnan(a)), axis=axis, keepdims=keepdims)
    kept = np.where(np.expand_dims(np.isnan(a), -1), 0.0, d_a)
    return np.sum(kept, axis=_reduced_axes(a, axis=axis), keepdims=keepdims) / np.expand_dims(
        count, -1)


@adjoints(np.nanmean)
def nanmean_adjoint(a, axis=None, dtype=None, out=None, keepdims=False, *, d_result):
    count = np.sum(np.logical_not(np.isnan(a)), axis=axis, keepdims=keepdims)
    spread = _unreduce(d_result / count, a, axis=axis, keepdims=keepdims)
    return np.where(np.isnan(a), 0.0, spread)


# np.trapezoid is linear in y (weights: half the steps on either side) and, apart, in x (the
# means of neighbours in y times the steps of x); dx is a constant.


@tangents(np.trapezoid)
def trapezoid_tangent(y, x=None, dx=1.0, axis=-1, *, d_y, d_x):
    return np.trapezoid(d_y, x=x, dx=dx, axis=axis), np.trapezoid(y, x=d_x, axis=axis)


@batched_tangents(np.trapezoid)
def trapezoid_batched(y, x=None, dx=1.0, axis=-1, *, d_y, d_x):
    share = np.expand_dims(_trapezoid_weights(y, x=x, dx=dx, axis=axis), -1)
    # the axis by position: a keyword reading a left-out option is left out, and np.sum's
    # default (every axis) is not np.trapezoid's (-1)
    return np.sum(share * d_y, _shifted_axis(axis)), _trapezoid_x_tangent(y, d_x, axis=axis)


@adjoints(np.trapezoid)
def trapezoid_adjoint(y, x=None, dx=1.0, axis=-1, *, d_result):
    share = _trapezoid_weights(y, x=x, dx=dx, axis=axis)
    return (_unbroadcast(share * np.expand_dims(d_result, axis), y),
            _untrapezoid_x(d_result, y, x, axis=axis))


# np.gradient along one axis is linear in f (the spacing is a constant): the tangent is the
# gradient of the tangent; several axes give a list of arrays, refused by _gradient_axis.


@tangents(np.gradient)
def gradient_tangent(f, spacing=1.0, axis=None, edge_order=1, *, d_f):
    return np.gradient(d_f, spacing, axis=_gradient_axis(f, axis=axis), edge_order=edge_order)


@batched_tangents(np.gradient)
def gradient_batched(f, spacing=1.0, axis=None, edge_order=1, *, d_f):  # axis counted from 0
    return np.gradient(d_f, spacing, axis=_gradient_axis(f, axis=axis), edge_order=edge_order)


@adjoints(np.gradient)
def gradient_adjoint(f, spacing=1.0, axis=None, edge_order=1, *, d_result):
    return _ungradient(d_result, f, spacing, axis=axis, edge_order=edge_order)
