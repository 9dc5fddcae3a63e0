"""Derivatives of the helpers that generated NumPy code calls, so that it can be differentiated
again (a Hessian-vector product is forward mode over the reverse-mode gradient).

Each helper is linear in the adjoint it receives (and ``a @ b``'s in the other operand too); an
argument that only gives a shape has no derivative (``None``).
"""

import numpy as np

from ad_transpile.rulebook import adjoints, nondifferentiable, tangents
from ad_transpile.runtime import (
    _average_weights,
    _basis,
    _block_upper,
    _broadcast_like,
    _centered,
    _chosen,
    _contraction_adjoint_a,
    _contraction_adjoint_b,
    _cross_adjoint,
    _cumprod_along,
    _cumprod_tangent,
    _diagonal_blocks,
    _dot_axes,
    _eigenvectors,
    _eigenvectors_adjoint,
    _eigenvectors_tangent,
    _einsum_adjoint,
    _einsum_adjoint_along,
    _einsum_adjoint_swap,
    _einsum_with,
    _extreme_mask,
    _full_tangent,
    _gradient,
    _gradient_axis,
    _inner_axes,
    _interp_slopes,
    _interp_weights,
    _linear_pad,
    _lower_half,
    _lower_of_symmetric,
    _matmul_adjoint_a,
    _matmul_adjoint_b,
    _multi_dot_adjoint,
    _multi_dot_adjoint_along,
    _multi_dot_adjoint_swap,
    _multi_dot_with,
    _nonzero,
    _norm_partial,
    _norm_partial_along,
    _power_log,
    _prod_others,
    _prod_others_along,
    _ptp_mask,
    _recolumn_stack,
    _reconcatenate,
    _redstack,
    _reduced_axes,
    _rehstack,
    _reselect,
    _restack,
    _revstack,
    _rolled_to,
    _shifted_axis,
    _spread_weights,
    _svdvals_adjoint,
    _svdvals_adjoint_along,
    _svdvals_tangent,
    _symmetric_from_lower,
    _tangent_index,
    _tensordot_axes,
    _transposed_axes,
    _trapezoid_weights,
    _unbroadcast,
    _uncolumn_stack,
    _unconcatenate,
    _unconvolve,
    _uncross,
    _uncumprod,
    _uncumprod_along,
    _uncumsum,
    _undiag,
    _undiagonal,
    _undiff,
    _undstack,
    _ungradient,
    _unhstack,
    _unkron_a,
    _unkron_b,
    _unpad,
    _unreduce,
    _unrepeat,
    _unselect,
    _unspread_weights,
    _unstack,
    _untake,
    _untake_along_axis,
    _untile,
    _untrapezoid_x,
    _unvstack,
    _upper_right,
    _vecdot_adjoint,
    _vector_norm_partial,
    _vector_norm_partial_along,
    _zero_tangent,
)


@tangents(_broadcast_like)
def broadcast_like_tangent(value, like, *, d_value):
    return _broadcast_like(d_value, like), None


@adjoints(_broadcast_like)
def broadcast_like_adjoint(value, like, *, d_result):
    return _unbroadcast(d_result, value), None


@tangents(_unreduce)
def unreduce_tangent(g, a, axis=None, keepdims=False, *, d_g):
    return _unreduce(d_g, a, axis=axis, keepdims=keepdims), None


@adjoints(_unreduce)
def unreduce_adjoint(g, a, axis=None, keepdims=False, *, d_result):
    return np.sum(d_result, axis=axis, keepdims=keepdims), None


@tangents(_centered)
def centered_tangent(a, axis=None, *, d_a):
    return _centered(d_a, axis=axis)


@adjoints(_centered)
def centered_adjoint(a, axis=None, *, d_result):
    return _centered(d_result, axis=axis)


@tangents(_matmul_adjoint_a)
def matmul_adjoint_a_tangent(g, a, b, *, d_g, d_b):
    return _matmul_adjoint_a(d_g, a, b), None, _matmul_adjoint_a(g, a, d_b)


@adjoints(_matmul_adjoint_a)
def matmul_adjoint_a_adjoint(g, a, b, *, d_result):
    return np.matmul(d_result, b), None, _matmul_adjoint_b(g, d_result, b)


@tangents(_matmul_adjoint_b)
def matmul_adjoint_b_tangent(g, a, b, *, d_g, d_a):
    return _matmul_adjoint_b(d_g, a, b), _matmul_adjoint_b(g, d_a, b), None


@adjoints(_matmul_adjoint_b)
def matmul_adjoint_b_adjoint(g, a, b, *, d_result):
    return np.matmul(a, d_result), _matmul_adjoint_a(g, a, d_result), None


# The adjoint of a contraction is linear in the adjoint and in the other operand; the operand
# whose adjoint it is gives only its shape (and the axes are numbers).


@tangents(_contraction_adjoint_a)
def contraction_adjoint_a_tangent(g, a, b, axes, *, d_g, d_b):
    return (_contraction_adjoint_a(d_g, a, b, axes), None,
            _contraction_adjoint_a(g, a, d_b, axes), None)


@adjoints(_contraction_adjoint_a)
def contraction_adjoint_a_adjoint(g, a, b, axes, *, d_result):
    return (np.tensordot(d_result, b, axes=_tensordot_axes(a, b, axes)), None,
            _contraction_adjoint_b(g, d_result, b, axes), None)


@tangents(_contraction_adjoint_b)
def contraction_adjoint_b_tangent(g, a, b, axes, *, d_g, d_a):
    return (_contraction_adjoint_b(d_g, a, b, axes), _contraction_adjoint_b(g, d_a, b, axes),
            None, None)


@adjoints(_contraction_adjoint_b)
def contraction_adjoint_b_adjoint(g, a, b, axes, *, d_result):
    return (np.tensordot(a, d_result, axes=_tensordot_axes(a, b, axes)),
            _contraction_adjoint_a(g, a, d_result, axes), None, None)


@tangents(_unkron_a)
def unkron_a_tangent(g, a, b, *, d_g, d_b):
    return _unkron_a(d_g, a, b), None, _unkron_a(g, a, d_b)


@adjoints(_unkron_a)
def unkron_a_adjoint(g, a, b, *, d_result):
    return np.kron(d_result, b), None, _unkron_b(g, d_result, b)


@tangents(_unkron_b)
def unkron_b_tangent(g, a, b, *, d_g, d_a):
    return _unkron_b(d_g, a, b), _unkron_b(g, d_a, b), None


@adjoints(_unkron_b)
def unkron_b_adjoint(g, a, b, *, d_result):
    return np.kron(a, d_result), _unkron_a(g, a, d_result), None


# g . (a x b) = a . (b x g) = b . (g x a): the adjoint of a cross product is linear in g and b


@tangents(_uncross)
def uncross_tangent(g, a, b, axis=None, *, d_g, d_b):
    return _uncross(d_g, a, b, axis=axis), None, _uncross(g, a, d_b, axis=axis)


@adjoints(_uncross)
def uncross_adjoint(g, a, b, axis=None, *, d_result):
    return (np.cross(d_result, b, axis=axis), None,
            _unbroadcast(np.cross(g, d_result, axis=axis), b))


@tangents(_uncumsum)
def uncumsum_tangent(g, a, axis=None, *, d_g):
    return _uncumsum(d_g, a, axis=axis), None


@adjoints(_uncumsum)
def uncumsum_adjoint(g, a, axis=None, *, d_result):
    return np.cumsum(d_result, axis=axis), None


# The running product's helpers: linear in the direction or the adjoint they carry; along ``a``
# their derivatives are np.cumprod's second derivatives, whose matrix (for each adjoint) is
# symmetric, so one helper serves the tangent and the adjoint. (_cumprod_along and
# _uncumprod_along have no rule: a third derivative of np.cumprod is refused.)


@tangents(_cumprod_tangent)
def cumprod_tangent_tangent(a, u, axis=None, *, d_a, d_u):
    return _cumprod_along(a, u, d_a, axis=axis), _cumprod_tangent(a, d_u, axis=axis)


@adjoints(_cumprod_tangent)
def cumprod_tangent_adjoint(a, u, axis=None, *, d_result):
    return _uncumprod_along(d_result, a, u, axis=axis), _uncumprod(d_result, a, axis=axis)


@tangents(_uncumprod)
def uncumprod_tangent(g, a, axis=None, *, d_g, d_a):
    return _uncumprod(d_g, a, axis=axis), _uncumprod_along(g, a, d_a, axis=axis)


@adjoints(_uncumprod)
def uncumprod_adjoint(g, a, axis=None, *, d_result):
    return _cumprod_tangent(a, d_result, axis=axis), _uncumprod_along(g, a, d_result, axis=axis)


@tangents(_undiff)
def undiff_tangent(g, n=1, axis=-1, *, d_g):
    return _undiff(d_g, n=n, axis=axis)


@adjoints(_undiff)
def undiff_adjoint(g, n=1, axis=-1, *, d_result):  # the transpose of the transpose
    return np.diff(d_result, n=n, axis=axis)


@tangents(_undiagonal)
def undiagonal_tangent(g, a, offset=0, axis1=0, axis2=1, *, d_g):
    return _undiagonal(d_g, a, offset=offset, axis1=axis1, axis2=axis2), None


@adjoints(_undiagonal)
def undiagonal_adjoint(g, a, offset=0, axis1=0, axis2=1, *, d_result):
    return np.diagonal(d_result, offset=offset, axis1=axis1, axis2=axis2), None


@tangents(_undiag)
def undiag_tangent(g, v, k=0, *, d_g):
    return _undiag(d_g, v, k=k), None


@adjoints(_undiag)
def undiag_adjoint(g, v, k=0, *, d_result):  # np.diag is its own transpose, either way
    return np.diag(d_result, k), None


@tangents(_untake_along_axis)
def untake_along_axis_tangent(g, arr, indices, axis, *, d_g):
    return _untake_along_axis(d_g, arr, indices, axis), None, None, None


@adjoints(_untake_along_axis)
def untake_along_axis_adjoint(g, arr, indices, axis, *, d_result):
    return np.take_along_axis(d_result, indices, axis), None, None, None


@tangents(_unpad)
def unpad_tangent(g, a, pad_width, mode="constant", constant_values=0, *, d_g):
    return _unpad(d_g, a, pad_width, mode=mode, constant_values=constant_values), None, None


@adjoints(_unpad)
def unpad_adjoint(g, a, pad_width, mode="constant", constant_values=0, *, d_result):
    return np.pad(d_result, pad_width, mode=_linear_pad(mode)), None, None


@tangents(_ungradient)
def ungradient_tangent(g, f, spacing=1.0, axis=None, edge_order=1, *, d_g):
    return _ungradient(d_g, f, spacing, axis=axis, edge_order=edge_order), None


@adjoints(_ungradient)
def ungradient_adjoint(g, f, spacing=1.0, axis=None, edge_order=1, *, d_result):
    along = _gradient_axis(f, axis=axis)
    return np.gradient(d_result, spacing, axis=along, edge_order=edge_order), None


@tangents(_unselect)
def unselect_tangent(g, condlist, choicelist, position, *, d_g):
    return _unselect(d_g, condlist, choicelist, position), None, None, None


@adjoints(_unselect)
def unselect_adjoint(g, condlist, choicelist, position, *, d_result):
    return _reselect(d_result, condlist, choicelist, position), None, None, None


# The adjoint of a convolution is linear in the adjoint and in the other factor; the factor
# whose adjoint it is gives only its length.


@tangents(_unconvolve)
def unconvolve_tangent(g, other, like, mode="full", *, d_g, d_other):
    return (_unconvolve(d_g, other, like, mode=mode), _unconvolve(g, d_other, like, mode=mode),
            None)


@adjoints(_unconvolve)
def unconvolve_adjoint(g, other, like, mode="full", *, d_result):
    return (np.convolve(d_result, other, mode=mode), _unconvolve(g, d_result, other, mode=mode),
            None)


@tangents(_interp_weights)
def interp_weights_tangent(x, xp, left=None, right=None, *, d_x):  # linear in x in a segment
    return np.expand_dims(d_x, -1) * _interp_slopes(x, xp, left=left, right=right), None


@adjoints(_interp_weights)
def interp_weights_adjoint(x, xp, left=None, right=None, *, d_result):
    return np.sum(d_result * _interp_slopes(x, xp, left=left, right=right), axis=-1), None


# The trapezoid rule's weights are linear in x, and the adjoint along x is linear in the adjoint
# and in y (x gives only its shape): the rules that let a gradient along x differentiate again.


@tangents(_trapezoid_weights)
def trapezoid_weights_tangent(y, x=None, dx=1.0, axis=-1, *, d_x):
    return None, _trapezoid_weights(y, x=d_x, dx=dx, axis=axis)  # dx: unused beside an x


@adjoints(_trapezoid_weights)
def trapezoid_weights_adjoint(y, x=None, dx=1.0, axis=-1, *, d_result):
    return None, _untrapezoid_x(1.0, d_result, x, axis=axis)


@tangents(_untrapezoid_x)
def untrapezoid_x_tangent(g, y, x, axis=-1, *, d_g, d_y):
    return _untrapezoid_x(d_g, y, x, axis=axis), _untrapezoid_x(g, d_y, x, axis=axis), None


@adjoints(_untrapezoid_x)
def untrapezoid_x_adjoint(g, y, x, axis=-1, *, d_result):
    share = _trapezoid_weights(y, x=d_result, axis=axis)
    return (np.trapezoid(y, x=d_result, axis=axis),
            _unbroadcast(share * np.expand_dims(g, axis), y), None)


# np.average's weights: stretching them is linear, and each element's share of them a ratio


@tangents(_spread_weights)
def spread_weights_tangent(a, axis=None, weights=None, *, d_weights):
    return None, None, _spread_weights(a, axis=axis, weights=d_weights)


@adjoints(_spread_weights)
def spread_weights_adjoint(a, axis=None, weights=None, *, d_result):
    return None, None, _unspread_weights(d_result, a, axis=axis, weights=weights)


@tangents(_unspread_weights)
def unspread_weights_tangent(g, a, axis=None, weights=None, *, d_g):
    return _unspread_weights(d_g, a, axis=axis, weights=weights), None


@adjoints(_unspread_weights)
def unspread_weights_adjoint(g, a, axis=None, weights=None, *, d_result):
    return _spread_weights(a, axis=axis, weights=d_result), None


@tangents(_average_weights)
def average_weights_tangent(a, axis=None, weights=None, *, d_weights):
    share = _average_weights(a, axis=axis, weights=weights)
    moved = _spread_weights(a, axis=axis, weights=d_weights)
    total = np.sum(_spread_weights(a, axis=axis, weights=weights), axis=axis, keepdims=True)
    return None, None, (moved - share * np.sum(moved, axis=axis, keepdims=True)) / total


@adjoints(_average_weights)
def average_weights_adjoint(a, axis=None, weights=None, *, d_result):
    share = _average_weights(a, axis=axis, weights=weights)
    total = np.sum(_spread_weights(a, axis=axis, weights=weights), axis=axis, keepdims=True)
    back = (d_result - np.sum(d_result * share, axis=axis, keepdims=True)) / total
    return None, None, _unspread_weights(back, a, axis=axis, weights=weights)


@tangents(_untake)
def untake_tangent(g, a, indices, axis=None, *, d_g):
    return _untake(d_g, a, indices, axis=axis), None, None


@adjoints(_untake)
def untake_adjoint(g, a, indices, axis=None, *, d_result):
    return np.take(d_result, indices, axis=axis), None, None


@tangents(_unrepeat)
def unrepeat_tangent(g, a, repeats, axis=None, *, d_g):
    return _unrepeat(d_g, a, repeats, axis), None, None


@adjoints(_unrepeat)
def unrepeat_adjoint(g, a, repeats, axis=None, *, d_result):
    return np.repeat(d_result, repeats, axis=axis), None, None


@tangents(_untile)
def untile_tangent(g, a, reps, *, d_g):
    return _untile(d_g, a, reps), None, None


@adjoints(_untile)
def untile_adjoint(g, a, reps, *, d_result):
    return np.tile(d_result, reps), None, None


@tangents(_einsum_adjoint)
def einsum_adjoint_tangent(subscripts, g, k, a, *, d_g):
    return None, _einsum_adjoint(subscripts, d_g, k, a), None, None


@adjoints(_einsum_adjoint)
def einsum_adjoint_adjoint(subscripts, g, k, a, *, d_result):
    return None, _einsum_with(subscripts, k, d_result, a), None, None


# With several operands, _einsum_adjoint is linear in each but operand k, which only gives a shape


@tangents(_einsum_adjoint)
def einsum_adjoint_operands_tangent(subscripts, g, k, *operands, d_g, d_operands, item):
    along = _einsum_adjoint_along(subscripts, g, k, item, d_operands, *operands)
    return None, _einsum_adjoint(subscripts, d_g, k, *operands), None, along


@adjoints(_einsum_adjoint)
def einsum_adjoint_operands_adjoint(subscripts, g, k, *operands, d_result, item):
    to_operand = _einsum_adjoint_swap(subscripts, g, k, item, d_result, *operands)
    return None, _einsum_with(subscripts, k, d_result, *operands), None, to_operand


@tangents(_multi_dot_adjoint)
def multi_dot_adjoint_tangent(g, arrays, position, *, d_g, d_arrays):
    along = _multi_dot_adjoint_along(g, arrays, position, d_arrays)
    return _multi_dot_adjoint(d_g, arrays, position), along, None


@adjoints(_multi_dot_adjoint)
def multi_dot_adjoint_adjoint(g, arrays, position, *, d_result, item):
    to_array = _multi_dot_adjoint_swap(g, arrays, position, item, d_result)
    return _multi_dot_with(arrays, position, d_result), to_array, None


# Lower triangles: _lower_half is its own adjoint, and the two others each other's


@tangents(_lower_half)
def lower_half_tangent(x, *, d_x):
    return _lower_half(d_x)


@adjoints(_lower_half)
def lower_half_adjoint(x, *, d_result):
    return _lower_half(d_result)


@tangents(_symmetric_from_lower)
def symmetric_from_lower_tangent(x, *, d_x):
    return _symmetric_from_lower(d_x)


@adjoints(_symmetric_from_lower)
def symmetric_from_lower_adjoint(x, *, d_result):
    return _lower_of_symmetric(d_result)


@tangents(_lower_of_symmetric)
def lower_of_symmetric_tangent(g, *, d_g):
    return _lower_of_symmetric(d_g)


@adjoints(_lower_of_symmetric)
def lower_of_symmetric_adjoint(g, *, d_result):
    return _symmetric_from_lower(d_result)


# Block matrices: linear, each the other's adjoint


@tangents(_block_upper)
def block_upper_tangent(a, e, *, d_a, d_e):
    return _block_upper(d_a, np.zeros_like(a)), _block_upper(np.zeros_like(a), d_e)


@adjoints(_block_upper)
def block_upper_adjoint(a, e, *, d_result):
    return _diagonal_blocks(d_result), _upper_right(d_result)


@tangents(_upper_right)
def upper_right_tangent(x, *, d_x):
    return _upper_right(d_x)


@adjoints(_upper_right)
def upper_right_adjoint(x, *, d_result):
    return _block_upper(np.zeros_like(d_result), d_result)


@tangents(_diagonal_blocks)
def diagonal_blocks_tangent(g, *, d_g):
    return _diagonal_blocks(d_g)


@adjoints(_diagonal_blocks)
def diagonal_blocks_adjoint(g, *, d_result):
    return _block_upper(d_result, np.zeros_like(d_result))


@tangents(_eigenvectors)
def eigenvectors_tangent(a, *, result, d_a):
    return _eigenvectors_tangent(a, result, d_a)


@adjoints(_eigenvectors)
def eigenvectors_adjoint(a, *, result, d_result):
    return _eigenvectors_adjoint(d_result, a, result)


# A norm's derivative changes by its Hessian, which is symmetric: the same both ways


@tangents(_norm_partial)
def norm_partial_tangent(x, ord=None, axis=None, *, d_x):
    return _norm_partial_along(x, d_x, ord, axis)


@adjoints(_norm_partial)
def norm_partial_adjoint(x, ord=None, axis=None, *, d_result):
    return _norm_partial_along(x, d_result, ord, axis)


# linear in g, whose transpose is svdvals' tangent; along a, the Hessian of g . s(a)


@tangents(_svdvals_adjoint)
def svdvals_adjoint_tangent(g, a, *, d_g, d_a):
    return _svdvals_adjoint(d_g, a), _svdvals_adjoint_along(g, a, d_a)


@adjoints(_svdvals_adjoint)
def svdvals_adjoint_adjoint(g, a, *, d_result):
    return _svdvals_tangent(a, d_result), _svdvals_adjoint_along(g, a, d_result)


@tangents(_vector_norm_partial)
def vector_norm_partial_tangent(x, ord=2, axis=None, *, d_x):
    return _vector_norm_partial_along(x, d_x, ord, axis)


@adjoints(_vector_norm_partial)
def vector_norm_partial_adjoint(x, ord=2, axis=None, *, d_result):
    return _vector_norm_partial_along(x, d_result, ord, axis)


# The adjoints of vecdot and cross: linear in both operands they are made of, the operand
# whose shape they take (like, x) gives only that


@tangents(_vecdot_adjoint)
def vecdot_adjoint_tangent(g, x, other, axis=-1, *, d_g, d_other):
    return _vecdot_adjoint(d_g, x, other, axis), None, _vecdot_adjoint(g, x, d_other, axis)


@adjoints(_vecdot_adjoint)
def vecdot_adjoint_adjoint(g, x, other, axis=-1, *, d_result):
    return (np.linalg.vecdot(d_result, other, axis=axis), None,
            _vecdot_adjoint(g, other, d_result, axis))


@tangents(_cross_adjoint)
def cross_adjoint_tangent(left, right, like, axis=-1, *, d_left, d_right):
    return (_cross_adjoint(d_left, right, like, axis),
            _cross_adjoint(left, d_right, like, axis), None)


@adjoints(_cross_adjoint)
def cross_adjoint_adjoint(left, right, like, axis=-1, *, d_result):
    # r . (left x right) = left . (right x r) = right . (r x left)
    return (_cross_adjoint(right, d_result, left, axis),
            _cross_adjoint(d_result, left, right, axis), None)


# The pieces an adjoint of joined arrays is cut into: linear in the adjoint cut, the arrays only
# give the shapes.


@tangents(_unconcatenate)
def unconcatenate_tangent(g, arrays, position, axis=0, *, d_g):
    return _unconcatenate(d_g, arrays, position, axis=axis), None, None


@adjoints(_unconcatenate)
def unconcatenate_adjoint(g, arrays, position, axis=0, *, d_result):
    return _reconcatenate(d_result, arrays, position, axis=axis), None, None


@tangents(_unstack)
def unstack_tangent(g, arrays, position, axis=0, *, d_g):
    return _unstack(d_g, arrays, position, axis=axis), None, None


@adjoints(_unstack)
def unstack_adjoint(g, arrays, position, axis=0, *, d_result):
    return _restack(d_result, arrays, position, axis=axis), None, None


@tangents(_unhstack)
def unhstack_tangent(g, arrays, position, *, d_g):
    return _unhstack(d_g, arrays, position), None, None


@adjoints(_unhstack)
def unhstack_adjoint(g, arrays, position, *, d_result):
    return _rehstack(d_result, arrays, position), None, None


@tangents(_uncolumn_stack)
def uncolumn_stack_tangent(g, arrays, position, *, d_g):
    return _uncolumn_stack(d_g, arrays, position), None, None


@adjoints(_uncolumn_stack)
def uncolumn_stack_adjoint(g, arrays, position, *, d_result):
    return _recolumn_stack(d_result, arrays, position), None, None


@tangents(_undstack)
def undstack_tangent(g, arrays, position, *, d_g):
    return _undstack(d_g, arrays, position), None, None


@adjoints(_undstack)
def undstack_adjoint(g, arrays, position, *, d_result):
    return _redstack(d_result, arrays, position), None, None


@tangents(_unvstack)
def unvstack_tangent(g, arrays, position, *, d_g):
    return _unvstack(d_g, arrays, position), None, None


@adjoints(_unvstack)
def unvstack_adjoint(g, arrays, position, *, d_result):
    return _revstack(d_result, arrays, position), None, None


# The zero-safe pieces of products, powers and spreads: a product of the others is a smooth
# function of the elements (its Jacobian is symmetric: the tangent and the adjoint are one),
# the log of a power's base is a log where it is positive, and a guarded divisor is the divisor
# where it is not 0. (_prod_others_along has no rule: a third derivative of np.prod is refused.)


@tangents(_prod_others)
def prod_others_tangent(a, axis=None, *, d_a):
    return _prod_others_along(a, d_a, axis=axis)


@adjoints(_prod_others)
def prod_others_adjoint(a, axis=None, *, d_result):
    return _prod_others_along(a, d_result, axis=axis)


@tangents(_power_log)
def power_log_tangent(base, *, d_base):
    return d_base / base


@adjoints(_power_log)
def power_log_adjoint(base, *, d_result):
    return d_result / base


@tangents(_nonzero)
def nonzero_tangent(value, *, d_value):
    return d_value


@adjoints(_nonzero)
def nonzero_adjoint(value, *, d_result):
    return d_result


# batched tangents (forward mode on arrays): the seed and the axes are shapes only; reading the
# gradient off the tangent and stretching a tangent are linear. The batched helpers of the
# structural operations (_matmul_tangent_b, ...) and the seed of several arguments have no rule
# yet: a file that calls them is refused when it is differentiated again.


@tangents(_gradient)
def gradient_tangent(tangent, point, *, d_tangent):
    return _gradient(d_tangent, point), None


@adjoints(_gradient)
def gradient_adjoint(tangent, point, *, d_result):
    return _unbroadcast(np.reshape(d_result, (-1,)), tangent), None


@tangents(_full_tangent)
def full_tangent_tangent(d_a, a, *, d_d_a):
    return _full_tangent(d_d_a, a), None


@adjoints(_full_tangent)
def full_tangent_adjoint(d_a, a, *, d_result):
    return _unbroadcast(d_result, d_a), None


nondifferentiable(_extreme_mask, _dot_axes, _inner_axes, _tensordot_axes, _basis, _reduced_axes,
                  _shifted_axis, _tangent_index, _transposed_axes, _zero_tangent,
                  # the weights, masks, checks and axes of the rules of rules/arrays.py,
                  # products.py and statistics.py: constants, or steps in their arguments
                  _chosen, _gradient_axis, _interp_slopes, _linear_pad, _ptp_mask,
                  _rolled_to)
