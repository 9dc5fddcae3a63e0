"""Derivatives of NumPy's running products and of its functions that pick, append, pad, join
or move the elements of arrays: structural rules (see rules/numpy.py), each a tangent, a batched
tangent and an adjoint.
"""

import numpy as np

from ad_transpile.rulebook import adjoints, batched_tangents, tangents
from ad_transpile.runtime import (
    _chosen,
    _column_stack_tangent,
    _cumprod_batched,
    _cumprod_tangent,
    _dstack_tangent,
    _flat_concatenate_tangent,
    _linear_pad,
    _pad_tangent,
    _rolled_to,
    _select_tangent,
    _shifted_axis,
    _unbroadcast,
    _uncolumn_stack,
    _unconcatenate,
    _uncumprod,
    _undstack,
    _unpad,
    _unselect,
    _untake,
    _zero_tangent,
)

# A running product's partials are products of the other elements up to each one, taken by a
# recurrence along the axis (never the product divided by an element: 0 / 0 where it is 0).


@tangents(np.cumprod)
def cumprod_tangent(a, axis=None, dtype=None, out=None, *, d_a):
    return _cumprod_tangent(a, d_a, axis=axis)


@batched_tangents(np.cumprod)
def cumprod_batched(a, axis=None, dtype=None, out=None, *, d_a):
    return _cumprod_batched(a, d_a, axis=axis)


@adjoints(np.cumprod)
def cumprod_adjoint(a, axis=None, dtype=None, out=None, *, d_result):
    return _uncumprod(d_result, a, axis=axis)


# Picking elements: the tangent picks the same elements of the tangent, and the adjoint adds
# each back where it was picked (np.add.at: an index picked twice gets both).


@tangents(np.take)
def take_tangent(a, indices, axis=None, *, d_a):
    return np.take(d_a, indices, axis=axis), None


@batched_tangents(np.take)
def take_batched(a, indices, axis=None, *, d_a):
    return np.take(d_a, indices, axis=_shifted_axis(axis)), None


@batched_tangents(np.take, axis=None)
def take_flat_batched(a, indices, axis=None, *, d_a):  # from each direction flattened
    return np.take(np.reshape(d_a, (-1, np.shape(d_a)[-1])), indices, axis=0), None


@adjoints(np.take)
def take_adjoint(a, indices, axis=None, *, d_result):
    return _untake(d_result, a, indices, axis=axis), None


# np.append is np.concatenate of two arrays, both flattened where axis is None: each gets its
# piece of the adjoint back.


@tangents(np.append)
def append_tangent(arr, values, axis=None, *, d_arr, d_values):
    return (np.append(d_arr, np.zeros(np.shape(values)), axis=axis),
            np.append(np.zeros(np.shape(arr)), d_values, axis=axis))


@batched_tangents(np.append)
def append_batched(arr, values, axis=None, *, d_arr, d_values):
    return (np.concatenate([d_arr, _zero_tangent(values, d_arr)], axis=_shifted_axis(axis)),
            np.concatenate([_zero_tangent(arr, d_values), d_values], axis=_shifted_axis(axis)))


@batched_tangents(np.append, axis=None)
def append_flat_batched(arr, values, axis=None, *, d_arr, d_values):
    return (_flat_concatenate_tangent([d_arr, _zero_tangent(values, d_arr)]),
            _flat_concatenate_tangent([_zero_tangent(arr, d_values), d_values]))


@adjoints(np.append)
def append_adjoint(arr, values, axis=None, *, d_result):
    # axis passed by position: _unconcatenate's own default is 0, np.append's None
    return (_unconcatenate(d_result, (arr, values), 0, axis),
            _unconcatenate(d_result, (arr, values), 1, axis))


# Padding copies elements or writes a constant: linear in the array for the modes _linear_pad
# lets through, so the tangent is padded the same way (a constant's tangent is 0) and the
# adjoint adds each copy back onto its element. Other modes raise when the derivative runs.


@tangents(np.pad)
def pad_tangent(array, pad_width, mode="constant", constant_values=0, *, d_array):
    return np.pad(d_array, pad_width, mode=_linear_pad(mode)), None


@batched_tangents(np.pad)
def pad_batched(array, pad_width, mode="constant", constant_values=0, *, d_array):
    return _pad_tangent(d_array, array, pad_width, mode=mode), None


@adjoints(np.pad)
def pad_adjoint(array, pad_width, mode="constant", constant_values=0, *, d_result):
    return _unpad(d_result, array, pad_width, mode=mode, constant_values=constant_values), None


@tangents(np.matrix_transpose)
def matrix_transpose_tangent(x, *, d_x):  # the last two axes swapped
    return np.matrix_transpose(d_x)


@batched_tangents(np.matrix_transpose)
def matrix_transpose_batched(x, *, d_x):
    return np.swapaxes(d_x, -2, -3)


@adjoints(np.matrix_transpose)
def matrix_transpose_adjoint(x, *, d_result):
    return np.matrix_transpose(d_result)


@tangents(np.rollaxis)
def rollaxis_tangent(a, axis, start=0, *, d_a):
    return np.rollaxis(d_a, axis, start), None


@batched_tangents(np.rollaxis)
def rollaxis_batched(a, axis, start=0, *, d_a):  # as np.moveaxis moves it: directions last
    return np.moveaxis(d_a, np.mod(axis, np.ndim(a)), _rolled_to(a, axis, start)), None


@adjoints(np.rollaxis)
def rollaxis_adjoint(a, axis, start=0, *, d_result):  # moved back
    return np.moveaxis(d_result, _rolled_to(a, axis, start), axis), None


# Joining arrays as columns (vectors made columns) or along a third axis (each array given
# three axes first): each array gets its piece of the adjoint back, found by its position.


@tangents(np.column_stack)
def column_stack_tangent(tup, *, d_tup):
    return np.column_stack(d_tup)


@batched_tangents(np.column_stack)
def column_stack_batched(tup, *, d_tup):
    return _column_stack_tangent(d_tup, tup)


@adjoints(np.column_stack)
def column_stack_adjoint(tup, *, d_result, item):
    return _uncolumn_stack(d_result, tup, item)


@tangents(np.dstack)
def dstack_tangent(tup, *, d_tup):
    return np.dstack(d_tup)


@batched_tangents(np.dstack)
def dstack_batched(tup, *, d_tup):
    return _dstack_tangent(d_tup, tup)


@adjoints(np.dstack)
def dstack_adjoint(tup, *, d_result, item):
    return _undstack(d_result, tup, item)


# np.select takes each element from the first choice whose condition holds, or from the default
# where none does: the conditions carry no derivative, each choice and the default get the
# adjoint where they were taken.


@tangents(np.select)
def select_tangent(condlist, choicelist, default=0, *, d_choicelist, d_default):
    taken = _chosen(condlist, choicelist)
    return (None, np.select(condlist, d_choicelist, default=np.zeros(np.shape(default))),
            np.where(taken < 0, d_default, 0.0))


@batched_tangents(np.select)
def select_batched(condlist, choicelist, default=0, *, d_choicelist, d_default):
    taken = np.expand_dims(_chosen(condlist, choicelist), -1)
    return (None, _select_tangent(condlist, d_choicelist, default=default),
            np.where(taken < 0, d_default, 0.0))


@adjoints(np.select)
def select_adjoint(condlist, choicelist, default=0, *, d_result, item):
    taken = _chosen(condlist, choicelist)
    return (None, _unselect(d_result, condlist, choicelist, item),
            _unbroadcast(np.where(taken < 0, d_result, 0.0), default))
