"""Derivatives of NumPy's linear algebra: the determinant, the inverse, and solving a system.

Each is a structural rule (see rules/numpy.py): a tangent along each argument written with its
tangent ``d_a``, a batched tangent whose directions are on the last axis of ``d_a``, and the
adjoint sent back from the result's adjoint ``d_result``; ``result`` is the call's value. With
``R = inv(A)`` and ``x = solve(A, b)`` (so ``A x = b``):

    det(A):       d det = det(A) * trace(R @ dA)          A gets  d_result * det(A) * R.T
    inv(A):       d R   = -R @ dA @ R                     A gets  -R.T @ d_result @ R.T
    solve(A, b):  d x   = solve(A, db - dA @ x)           b gets  g = solve(A.T, d_result)
                                                          A gets  -g @ x.T  (-outer(g, x))

``R @ dA`` is written ``solve(A, dA)``, which is both cheaper and more accurate than forming
the inverse. The rules of ``det`` and ``inv`` hold for a stack of matrices too (``A`` of shape
``(..., n, n)``): their transposes swap the last two axes only. ``solve`` follows NumPy 2: ``b``
is a vector when it has one dimension, a matrix or a stack of them otherwise, which its rules
tell apart with ``np.ndim(b) == 1``; a stack of matrices ``A`` solves for a vector ``b`` in
each of them, and stacks of ``A`` and ``b`` broadcast against each other, their adjoints
summed back over the stacks each was broadcast along.

At a singular matrix ``inv`` and ``solve`` raise ``LinAlgError``, and so does the adjoint of
``det`` (it needs ``inv(A)``), as in autograd. ``np.linalg.slogdet``, whose value is a tuple,
has no rule.
"""

import numpy as np

from ad_transpile.rulebook import adjoints, batched_tangents, tangents
from ad_transpile.runtime import (
    _block_upper,
    _cross_adjoint,
    _cross_tangent,
    _eigenvectors,
    _lower_half,
    _lower_of_symmetric,
    _multi_dot_adjoint,
    _multi_dot_batched,
    _multi_dot_tangent,
    _norm_partial,
    _pinv_tangent,
    _reduced_axes,
    _svdvals_adjoint,
    _svdvals_tangent,
    _symmetric_from_lower,
    _unbroadcast,
    _unreduce,
    _upper_right,
    _vecdot_adjoint,
    _vecdot_tangent,
    _vector_norm_partial,
)


@tangents(np.linalg.det)
def det_tangent(a, *, result, d_a):
    return result * np.trace(np.linalg.solve(a, d_a), axis1=-2, axis2=-1)


@batched_tangents(np.linalg.det)
def det_batched(a, *, result, d_a):
    # trace(R @ dA) for each direction l: sum over i, j of R[i, j] * dA[j, i, l]
    traces = np.einsum("...ij,...jil->...l", np.linalg.inv(a), d_a)
    return np.expand_dims(result, -1) * traces


@adjoints(np.linalg.det)
def det_adjoint(a, *, result, d_result):
    inverse_transposed = np.linalg.inv(np.swapaxes(a, -1, -2))
    return np.expand_dims(d_result * result, (-2, -1)) * inverse_transposed


@tangents(np.linalg.inv)
def inv_tangent(a, *, result, d_a):
    return -(result @ d_a @ result)


@batched_tangents(np.linalg.inv)
def inv_batched(a, *, result, d_a):
    return -np.einsum("...ij,...jkl,...km->...iml", result, d_a, result)


@adjoints(np.linalg.inv)
def inv_adjoint(a, *, result, d_result):
    inverse_transposed = np.swapaxes(result, -1, -2)
    return -(inverse_transposed @ d_result @ inverse_transposed)


@tangents(np.linalg.solve)
def solve_tangent(a, b, *, result, d_a, d_b):
    # a vector b (and x) is a column while it is multiplied and solved for, so that a stack
    # of matrices a solves for it in each matrix
    vector = np.ndim(b) == 1
    return (
        -(np.squeeze(np.linalg.solve(a, d_a @ np.expand_dims(result, -1)), -1) if vector
          else np.linalg.solve(a, d_a @ result)),
        np.squeeze(np.linalg.solve(a, np.expand_dims(d_b, -1)), -1) if vector
        else np.linalg.solve(a, d_b),
    )


# A batched tangent of x has x's shape with the directions' axis l after it. It is inv(A)
# times each direction's right-hand side, written with einsum, whose ``...`` broadcasts the
# stacks of A and b as solve does (solve itself would take l for one more stack).


@batched_tangents(np.linalg.solve)
def solve_batched(a, b, *, result, d_a, d_b):
    vector = np.ndim(b) == 1
    inverse = np.linalg.inv(a)
    products = np.einsum("...ijl,...j->...il" if vector else "...ijl,...jk->...ikl", d_a, result)
    solved = "...ij,...jl->...il" if vector else "...ij,...jkl->...ikl"
    return -np.einsum(solved, inverse, products), np.einsum(solved, inverse, d_b)


@adjoints(np.linalg.solve)
def solve_adjoint(a, b, *, result, d_result):
    vector = np.ndim(b) == 1
    transposed = np.swapaxes(a, -1, -2)
    adjoint_b = (np.squeeze(np.linalg.solve(transposed, np.expand_dims(d_result, -1)), -1)
                 if vector else np.linalg.solve(transposed, d_result))
    # -g @ x.T: for a vector b, the outer product of g and x; each summed back over the
    # stacks a or b was broadcast along
    product = "...i,...j->...ij" if vector else "...ik,...jk->...ij"
    return (_unbroadcast(-np.einsum(product, adjoint_b, result), a),
            _unbroadcast(adjoint_b, b))


# multi_dot(arrays) is one product, linear in each array: the runtime writes it as an einsum
# (a vector first or last a row or a column) and differentiates that


@tangents(np.linalg.multi_dot)
def multi_dot_tangent(arrays, *, d_arrays):
    return _multi_dot_tangent(arrays, d_arrays)


@batched_tangents(np.linalg.multi_dot)
def multi_dot_batched(arrays, *, d_arrays):
    return _multi_dot_batched(arrays, d_arrays)


@adjoints(np.linalg.multi_dot)
def multi_dot_adjoint(arrays, *, d_result, item):
    return _multi_dot_adjoint(d_result, arrays, item)


# cholesky(A) = L reads only A's lower triangle: it sees the symmetric E = sym(A) made from it.
# From dE = dL L.T + L dL.T, L^-1 dE L^-T = X + X.T with X = L^-1 dL lower triangular, so
# dL = L Phi(L^-1 dE L^-T), Phi the lower triangle with its diagonal halved (_lower_half).
# Phi is its own adjoint, so E gets L^-T Phi(L.T d_result) L^-1 back, and A its lower part.


@tangents(np.linalg.cholesky)
def cholesky_tangent(a, *, result, d_a):
    left = np.linalg.solve(result, _symmetric_from_lower(d_a))  # L^-1 dE
    return result @ _lower_half(np.linalg.solve(result, np.swapaxes(left, -1, -2)))


@batched_tangents(np.linalg.cholesky)
def cholesky_batched(a, *, result, d_a):
    # the directions first, a stack that L broadcasts against, and back last
    left = np.linalg.solve(result, _symmetric_from_lower(np.moveaxis(d_a, -1, 0)))
    lower = _lower_half(np.linalg.solve(result, np.swapaxes(left, -1, -2)))
    return np.moveaxis(result @ lower, 0, -1)


@adjoints(np.linalg.cholesky)
def cholesky_adjoint(a, *, result, d_result):
    transposed = np.swapaxes(result, -1, -2)
    right = np.linalg.solve(transposed, _lower_half(transposed @ d_result))  # L^-T Phi
    inner = np.linalg.solve(transposed, np.swapaxes(right, -1, -2))  # (L^-T Phi L^-1).T
    return _lower_of_symmetric(inner)


# pinv(A) = P where A's rank is the same all about it (full rank; at a change of rank pinv
# jumps): dP = -P dA P + P P.T dA.T (I - A P) + (I - P A) dA.T P.T P (Golub and Pereyra), and A
# gets each term's transpose around d_result back (P = inv(A) for an invertible A).


@tangents(np.linalg.pinv)
def pinv_tangent(a, *, result, d_a):
    return _pinv_tangent(a, result, d_a)


@batched_tangents(np.linalg.pinv)
def pinv_batched(a, *, result, d_a):
    return np.moveaxis(_pinv_tangent(a, result, np.moveaxis(d_a, -1, 0)), 0, -1)


@adjoints(np.linalg.pinv)
def pinv_adjoint(a, *, result, d_result):
    p_t = np.swapaxes(result, -1, -2)
    g_t = np.swapaxes(d_result, -1, -2)
    rows = (g_t - a @ (result @ g_t)) @ (result @ p_t)  # (I - A P) G.T P P.T
    columns = (p_t @ result) @ (g_t - g_t @ result @ a)  # P.T P G.T (I - P A)
    return -(p_t @ d_result @ p_t) + rows + columns


# matrix_power(A, n) for any integer n (n < 0: of inv(A)): the derivative along E of the
# power of A is the upper right block of the power of [[A, E], [0, A]], and A gets back the
# same of A.T along d_result; the derivative is made of matrix_power again, so it
# differentiates again.


@tangents(np.linalg.matrix_power)
def matrix_power_tangent(a, n, *, d_a):
    return _upper_right(np.linalg.matrix_power(_block_upper(a, d_a), n)), None


@batched_tangents(np.linalg.matrix_power)
def matrix_power_batched(a, n, *, d_a):
    moved = np.moveaxis(d_a, -1, 0)  # the directions a stack ahead of a's
    block = _block_upper(np.broadcast_to(a, np.shape(moved)), moved)
    return np.moveaxis(_upper_right(np.linalg.matrix_power(block, n)), 0, -1), None


@adjoints(np.linalg.matrix_power)
def matrix_power_adjoint(a, n, *, d_result):
    transposed = np.swapaxes(a, -1, -2)
    return _upper_right(np.linalg.matrix_power(_block_upper(transposed, d_result), n)), None


# eigvalsh(A) = w, ascending, of the symmetric E made of A's lower triangle (UPLO='L'): with
# E = V diag(w) V.T, dw_i = v_i.T dE v_i and E gets V diag(d_result) V.T back. Where two
# values meet the order swaps them and the derivative jumps; the tests keep them apart.


@tangents(np.linalg.eigvalsh)
def eigvalsh_tangent(a, *, result, d_a):
    vectors = _eigenvectors(a)
    return np.einsum("...ji,...jk,...ki->...i", vectors, _symmetric_from_lower(d_a), vectors)


@batched_tangents(np.linalg.eigvalsh)
def eigvalsh_batched(a, *, result, d_a):
    vectors = _eigenvectors(a)
    changes = _symmetric_from_lower(np.moveaxis(d_a, -1, 0))  # the directions a stack
    return np.moveaxis(np.einsum("...ji,...jk,...ki->...i", vectors, changes, vectors), 0, -1)


@adjoints(np.linalg.eigvalsh)
def eigvalsh_adjoint(a, *, result, d_result):
    vectors = _eigenvectors(a)
    spread = vectors * np.expand_dims(d_result, -2)  # V diag(d_result)
    return _lower_of_symmetric(spread @ np.swapaxes(vectors, -1, -2))


# svdvals(A) = s, descending: ds_i = u_i.T dA v_i, and A gets U diag(d_result) V.T back (for
# distinct singular values; 0 has a kink); the singular vectors' change differentiates that.


@tangents(np.linalg.svdvals)
def svdvals_tangent(x, *, result, d_x):
    return _svdvals_tangent(x, d_x)


@batched_tangents(np.linalg.svdvals)
def svdvals_batched(x, *, result, d_x):
    return np.moveaxis(_svdvals_tangent(x, np.moveaxis(d_x, -1, 0)), 0, -1)


@adjoints(np.linalg.svdvals)
def svdvals_adjoint(x, *, result, d_result):
    return _svdvals_adjoint(d_result, x)


# NumPy 2's array API names. matrix_transpose swaps the last two axes; outer takes vectors;
# trace sums the offset diagonal of the last two axes; vecdot and cross are linear in each
# operand, their vectors along ``axis`` of each (the runtime moves them last to find them).


@tangents(np.linalg.matrix_transpose)
def matrix_transpose_tangent(x, *, d_x):
    return np.linalg.matrix_transpose(d_x)


@batched_tangents(np.linalg.matrix_transpose)
def matrix_transpose_batched(x, *, d_x):
    return np.swapaxes(d_x, -3, -2)


@adjoints(np.linalg.matrix_transpose)
def matrix_transpose_adjoint(x, *, d_result):
    return np.linalg.matrix_transpose(d_result)


@tangents(np.linalg.outer)
def linalg_outer_tangent(x1, x2, *, d_x1, d_x2):
    return np.linalg.outer(d_x1, x2), np.linalg.outer(x1, d_x2)


@batched_tangents(np.linalg.outer)
def linalg_outer_batched(x1, x2, *, d_x1, d_x2):
    return np.einsum("il,j->ijl", d_x1, x2), np.einsum("i,jl->ijl", x1, d_x2)


@adjoints(np.linalg.outer)
def linalg_outer_adjoint(x1, x2, *, d_result):
    return d_result @ x2, x1 @ d_result


@tangents(np.linalg.trace)
def linalg_trace_tangent(x, offset=0, dtype=None, *, d_x):
    return np.linalg.trace(d_x, offset=offset)


@batched_tangents(np.linalg.trace)
def linalg_trace_batched(x, offset=0, dtype=None, *, d_x):
    return np.trace(d_x, offset=offset, axis1=-3, axis2=-2)


@adjoints(np.linalg.trace)
def linalg_trace_adjoint(x, offset=0, dtype=None, *, d_result):
    diagonal = np.eye(np.shape(x)[-2], np.shape(x)[-1], offset)
    return np.expand_dims(d_result, (-2, -1)) * diagonal


@tangents(np.linalg.vecdot)
def vecdot_tangent(x1, x2, axis=-1, *, d_x1, d_x2):
    return np.linalg.vecdot(d_x1, x2, axis=axis), np.linalg.vecdot(x1, d_x2, axis=axis)


@batched_tangents(np.linalg.vecdot)
def vecdot_batched(x1, x2, axis=-1, *, d_x1, d_x2):
    return _vecdot_tangent(d_x1, x2, axis), _vecdot_tangent(d_x2, x1, axis)


@adjoints(np.linalg.vecdot)
def vecdot_adjoint(x1, x2, axis=-1, *, d_result):
    return _vecdot_adjoint(d_result, x1, x2, axis), _vecdot_adjoint(d_result, x2, x1, axis)


@tangents(np.linalg.cross)
def cross_tangent(x1, x2, axis=-1, *, d_x1, d_x2):
    return np.linalg.cross(d_x1, x2, axis=axis), np.linalg.cross(x1, d_x2, axis=axis)


@batched_tangents(np.linalg.cross)
def cross_batched(x1, x2, axis=-1, *, d_x1, d_x2):
    return _cross_tangent(d_x1, x2, axis, True), _cross_tangent(d_x2, x1, axis, False)


@adjoints(np.linalg.cross)
def cross_adjoint(x1, x2, axis=-1, *, d_result):  # a x b: b x g to a, g x a to b
    return (_cross_adjoint(x2, d_result, x1, axis),
            _cross_adjoint(d_result, x1, x2, axis))


# vector_norm takes the elements along all of its axes (all of them, where None) for one
# vector, of ord 2 unless told; matrix_norm is norm over the last two axes, 'fro' unless told


@tangents(np.linalg.vector_norm)
def vector_norm_tangent(x, axis=None, keepdims=False, ord=2, *, result, d_x):
    partial = _vector_norm_partial(x, ord, axis)
    return np.sum(partial * d_x, axis=axis, keepdims=keepdims)


@batched_tangents(np.linalg.vector_norm)
def vector_norm_batched(x, axis=None, keepdims=False, ord=2, *, result, d_x):
    partial = np.expand_dims(_vector_norm_partial(x, ord, axis), -1)
    return np.sum(partial * d_x, axis=_reduced_axes(x, axis=axis), keepdims=keepdims)


@adjoints(np.linalg.vector_norm)
def vector_norm_adjoint(x, axis=None, keepdims=False, ord=2, *, result, d_result):
    spread = _unreduce(d_result, x, axis=axis, keepdims=keepdims)
    return _vector_norm_partial(x, ord, axis) * spread


@tangents(np.linalg.matrix_norm)
def matrix_norm_tangent(x, keepdims=False, ord="fro", *, result, d_x):
    partial = _norm_partial(x, ord, (-2, -1))
    return np.sum(partial * d_x, axis=(-2, -1), keepdims=keepdims)


@batched_tangents(np.linalg.matrix_norm)
def matrix_norm_batched(x, keepdims=False, ord="fro", *, result, d_x):
    partial = np.expand_dims(_norm_partial(x, ord, (-2, -1)), -1)
    return np.sum(partial * d_x, axis=(-3, -2), keepdims=keepdims)


@adjoints(np.linalg.matrix_norm)
def matrix_norm_adjoint(x, keepdims=False, ord="fro", *, result, d_result):
    spread = _unreduce(d_result, x, axis=(-2, -1), keepdims=keepdims)
    return _norm_partial(x, ord, (-2, -1)) * spread
