"""Helpers that generated files carry with them, written here once as ordinary tested code.

The emitter copies the source of a helper into a generated module that uses it, so the module
still runs without ad-transpile installed.
"""

from __future__ import annotations

import numpy as np


def _unbroadcast(value, like):
    """Sum ``value`` down to the shape of ``like``: the adjoint of NumPy broadcasting."""
    shape = getattr(like, "shape", ())
    if getattr(value, "shape", ()) in (shape, ()):  # nothing stretched, or a number
        return value
    if shape == ():
        return float(value.sum())
    value = value.sum(axis=tuple(range(value.ndim - len(shape))))
    ones = [i for i, n in enumerate(shape) if n == 1]
    stretched = tuple(i for i in ones if value.shape[i] != 1)
    return value.sum(axis=stretched, keepdims=True) if stretched else value


def _broadcast_like(value, like):
    """``value`` stretched to the shape of ``like``: the tangent of a number that NumPy
    broadcast against an array (``x + z`` for a number ``x``) before a sum or a product uses it."""
    shape = np.shape(like)
    if np.shape(value) == shape:
        return value
    return np.broadcast_to(value, shape).copy()


def _unreduce(g, a, axis=None, keepdims=False):
    """Spread ``g`` over the axes a reduction of ``a`` removed: the adjoint of ``np.sum``."""
    if axis is not None and not keepdims and np.ndim(g):
        g = np.expand_dims(g, axis)
    spread = np.empty(np.shape(a))
    spread[...] = g
    return spread


def _extreme_mask(a, result, axis=None, keepdims=False):
    """Where ``a`` reaches its max (or min) ``result``, each tie weighted by its share."""
    if axis is not None and not keepdims:
        result = np.expand_dims(result, axis)
    hit = a == result
    return hit / np.sum(hit, axis=axis, keepdims=True)


def _centered(a, axis=None):
    """``a`` minus its mean along ``axis``: what the derivative of a variance is made of."""
    return a - np.mean(a, axis=axis, keepdims=True)


def _matmul_adjoint_a(g, a, b):
    """The adjoint of ``a`` in ``a @ b`` for the adjoint ``g`` of the product, vectors included."""
    a2, b2, g2 = _as_matrices(g, a, b)
    return _unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2).reshape(np.shape(a))


def _matmul_adjoint_b(g, a, b):
    """The adjoint of ``b`` in ``a @ b`` for the adjoint ``g`` of the product, vectors included."""
    a2, b2, g2 = _as_matrices(g, a, b)
    return _unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2).reshape(np.shape(b))


def _as_matrices(g, a, b):
    """``a``, ``b`` and ``g`` with a vector operand made a matrix, as ``matmul`` treats it."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if b.ndim == 1:
        b, g = b[:, None], g[..., None]
    if a.ndim == 1:
        a, g = a[None, :], g[..., None, :]
    return a, b, g


def _dot_adjoint_a(g, a, b):
    """The adjoint of ``a`` in ``np.dot(a, b)`` (vectors and matrices, where it is ``a @ b``)."""
    return _matmul_adjoint_a(g, a, _matrix_operands(a, b))


def _dot_adjoint_b(g, a, b):
    """The adjoint of ``b`` in ``np.dot(a, b)`` (vectors and matrices, where it is ``a @ b``)."""
    return _matmul_adjoint_b(g, _matrix_operands(b, a), b)


def _matrix_operands(x, other):
    """``other``, once checked that neither operand has more than two axes."""
    if not 1 <= np.ndim(x) <= 2 or not 1 <= np.ndim(other) <= 2:
        raise ValueError("the derivative of np.dot is written for vectors and matrices only; "
                         "use np.matmul (or @) for stacks of matrices")
    return other


def _untile(g, a, reps):
    """Sum the copies ``np.tile`` made of ``a`` back onto ``a``: the adjoint of tiling."""
    shape = np.shape(a)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    ndim = max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + tuple(shape)
    reps = (1,) * (ndim - len(reps)) + reps
    interleaved = [n for pair in zip(reps, shape) for n in pair]
    summed = np.reshape(g, interleaved).sum(axis=tuple(range(0, 2 * ndim, 2)))
    return summed.reshape(np.shape(a))


def _uncumsum(g, a, axis=None):
    """The adjoint of ``np.cumsum``: the running sum from the other end."""
    if axis is None:
        return np.cumsum(np.ravel(g)[::-1])[::-1].reshape(np.shape(a))
    flipped = np.flip(g, axis)
    return np.flip(np.cumsum(flipped, axis=axis), axis)


def _einsum_adjoint(subscripts, g, k, *operands):
    """The adjoint of operand ``k`` of ``np.einsum(subscripts, *operands)``, for the adjoint
    ``g`` of its result: the same contraction with ``g`` in the place of operand ``k``."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    inputs = inputs.split(",")
    if not arrow:  # implicit output: the letters used once, in alphabetical order
        letters = "".join(inputs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    wanted = inputs[k]
    if "." in subscripts or len(set(wanted)) != len(wanted):
        raise ValueError(f"the derivative of np.einsum('{subscripts}') is written for "
                         "subscripts without '...' or a letter repeated in one operand")
    others = [s for i, s in enumerate(inputs) if i != k]
    summed = [c for c in wanted if c not in output + "".join(others)]
    kept = "".join(c for c in wanted if c not in summed)
    spec = ",".join([output, *others]) + "->" + kept
    result = np.einsum(spec, g, *[x for i, x in enumerate(operands) if i != k])
    if summed:  # a letter summed away and found nowhere else: every element gets the same
        result = np.expand_dims(result, tuple(wanted.index(c) for c in summed))
    return np.broadcast_to(result, np.shape(operands[k])).copy()


def _unconcatenate(g, arrays, position, axis=0):
    """The piece of ``g`` that ``np.concatenate(arrays, axis)`` took from ``arrays[position]``."""
    axis = axis % np.ndim(g)
    sizes = [np.shape(x)[axis] for x in arrays]
    start = sum(sizes[:position])
    index = (slice(None),) * axis + (slice(start, start + sizes[position]),)
    return g[index]


def _reconcatenate(piece, arrays, position, axis=0):
    """``piece`` in the place of ``arrays[position]`` in their concatenation, zeros elsewhere:
    the adjoint of ``_unconcatenate``."""
    parts = [piece if i == position else np.zeros(np.shape(x)) for i, x in enumerate(arrays)]
    return np.concatenate(parts, axis=axis)


def _unstack(g, arrays, position, axis=0):
    """The slice of ``g`` that ``np.stack(arrays, axis)`` made of ``arrays[position]``."""
    return np.take(g, position, axis=axis)


def _restack(piece, arrays, position, axis=0):
    """``piece`` in the place of ``arrays[position]`` in their stack, zeros elsewhere."""
    parts = [piece if i == position else np.zeros(np.shape(x)) for i, x in enumerate(arrays)]
    return np.stack(parts, axis=axis)


def _unhstack(g, arrays, position):
    """The piece of ``g`` that ``np.hstack(arrays)`` took from ``arrays[position]``."""
    pieces = [np.atleast_1d(x) for x in arrays]
    axis = 0 if np.ndim(arrays[0]) <= 1 else 1
    return _unconcatenate(g, pieces, position, axis=axis).reshape(np.shape(arrays[position]))


def _rehstack(piece, arrays, position):
    """``piece`` in the place of ``arrays[position]`` in ``np.hstack(arrays)``, zeros elsewhere."""
    parts = [piece if i == position else np.zeros(np.shape(x)) for i, x in enumerate(arrays)]
    return np.hstack(parts)


def _unvstack(g, arrays, position):
    """The piece of ``g`` that ``np.vstack(arrays)`` took from ``arrays[position]``."""
    rows = [np.atleast_2d(x) for x in arrays]
    return _unconcatenate(g, rows, position, axis=0).reshape(np.shape(arrays[position]))


def _revstack(piece, arrays, position):
    """``piece`` in the place of ``arrays[position]`` in ``np.vstack(arrays)``, zeros elsewhere."""
    parts = [piece if i == position else np.zeros(np.shape(x)) for i, x in enumerate(arrays)]
    return np.vstack(parts)


def _einsum_adjoint_along(subscripts, g, k, j, direction, *operands):
    """How ``_einsum_adjoint(subscripts, g, k, *operands)`` changes as operand ``j`` moves along
    ``direction``: linear in each operand but ``k``, which only gives its shape."""
    if j == k:
        return np.zeros(np.shape(operands[k]))
    moved = [direction if i == j else x for i, x in enumerate(operands)]
    return _einsum_adjoint(subscripts, g, k, *moved)


def _einsum_adjoint_swap(subscripts, g, k, j, r, *operands):
    """The adjoint of ``_einsum_adjoint(subscripts, g, k, *operands)`` along operand ``j``, for
    the adjoint ``r`` of its result: ``r`` takes the place of operand ``k``."""
    if j == k:
        return np.zeros(np.shape(operands[j]))
    return _einsum_adjoint(subscripts, g, j, *[r if i == k else x for i, x in enumerate(operands)])


def _einsum_with(subscripts, k, g, *operands):
    """``np.einsum(subscripts, *operands)`` with ``g`` in the place of operand ``k``."""
    return np.einsum(subscripts, *[g if i == k else x for i, x in enumerate(operands)])


# Batched tangents: a tangent carries a last axis of k directions, d_v.shape == (*v.shape, k),
# so that one forward sweep gives a whole gradient.


def _directions(*points):
    """The identity basis of tangent directions, one per element of ``points``, as one batched
    tangent per point: ``(*np.shape(point), k)``, ``k`` the number of elements in all."""
    sizes = [np.size(p) for p in points]
    basis = np.eye(sum(sizes))
    starts = np.cumsum([0, *sizes])
    return [basis[start:stop].reshape(*np.shape(p), -1)
            for p, start, stop in zip(points, starts, starts[1:])]


def _basis(point):
    """The identity basis of tangent directions for one point: ``(*np.shape(point), size)``."""
    return np.eye(np.size(point)).reshape(*np.shape(point), -1)


def _gradient(tangent, point):
    """The gradient along ``point`` from the batched tangent of a scalar result."""
    return _gradients(tangent, point)[0]


def _gradients(tangent, *points):
    """The gradient along each of ``points`` from the batched tangent of a scalar result."""
    tangent = np.asarray(tangent, dtype=float)
    if tangent.ndim > 1:
        raise ValueError(f"a gradient needs a scalar result, not one of shape {tangent.shape[:-1]}")
    sizes = [np.size(p) for p in points]
    tangent = np.broadcast_to(tangent, (sum(sizes),))  # a result that does not depend on them
    starts = np.cumsum([0, *sizes])
    pieces = [tangent[start:stop].reshape(np.shape(p))
              for p, start, stop in zip(points, starts, starts[1:])]
    return tuple(piece if np.ndim(p) else float(piece) for piece, p in zip(pieces, points))


def _full_tangent(d_a, a):
    """A batched tangent stretched to the shape of its value ``a`` (broadcasting may have left
    it smaller), so that reshaping, indexing and reducing it see every element."""
    return np.broadcast_to(d_a, (*np.shape(a), np.shape(d_a)[-1]))


def _zero_tangent(a, like=None):
    """The tangent of a constant ``a``: zeros of its shape (0.0 for a number), with as many
    directions as the batched tangent ``like`` if one is given."""
    if like is not None:
        return np.zeros((*np.shape(a), np.shape(like)[-1]))
    return np.zeros(np.shape(a)) if np.ndim(a) else 0.0


def _tangent_index(index):
    """An index of a value as an index of its batched tangent: ``...`` must not swallow the
    axis of directions (``x[..., 0]`` is ``d_x[..., 0, :]``)."""
    if isinstance(index, tuple) and any(i is Ellipsis for i in index):
        return (*index, slice(None))
    return index


def _reduced_axes(a, axis=None):
    """The axes of a batched tangent that reducing ``a`` along ``axis`` sums: never the last."""
    if axis is None:
        return tuple(range(np.ndim(a)))
    return _shifted_axis(axis)


def _shifted_axis(axis):
    """An axis of a value as an axis of its batched tangent: a negative one counts past the
    axis of directions."""
    if isinstance(axis, tuple):
        return tuple(_shifted_axis(n) for n in axis)
    return axis - 1 if axis < 0 else axis


def _transposed_axes(a, axes=None):
    """``axes`` of ``np.transpose(a, axes)``, with the axis of directions kept last."""
    ndim = np.ndim(a)
    axes = tuple(reversed(range(ndim))) if axes is None else tuple(n % ndim for n in axes)
    return (*axes, ndim)


def _cumsum_tangent(d_a, axis=None):
    """The batched tangent of ``np.cumsum(a, axis)``: ``axis=None`` runs over ``a`` flattened."""
    if axis is None:
        return np.cumsum(np.reshape(d_a, (-1, np.shape(d_a)[-1])), axis=0)
    return np.cumsum(d_a, axis=_shifted_axis(axis))


def _matmul_tangent_a(d_a, b):
    """The batched tangent of ``a @ b`` along ``a``: the directions moved out of the way of the
    product, ahead of the matrix axes, and back last."""
    if np.ndim(d_a) == 2:  # a vector is a matrix of one row
        product = _matmul_tangent_a(d_a[None], b)
        return product[..., 0, :, :] if np.ndim(b) >= 2 else product[..., 0, :]
    moved = np.moveaxis(d_a, -1, -3)
    if np.ndim(b) == 1:
        return np.moveaxis(moved @ b, -2, -1)
    return np.moveaxis(moved @ np.expand_dims(b, -3), -3, -1)


def _matmul_tangent_b(a, d_b):
    """The batched tangent of ``a @ b`` along ``b``; for a vector ``b`` simply ``a @ d_b``."""
    if np.ndim(d_b) == 2:
        return a @ d_b
    moved = np.moveaxis(d_b, -1, -3)
    if np.ndim(a) == 1:
        return np.moveaxis(a @ moved, -2, -1)
    return np.moveaxis(np.expand_dims(a, -3) @ moved, -3, -1)


def _dot_tangent_a(d_a, b):
    """The batched tangent of ``np.dot(a, b)`` along ``a`` (vectors and matrices)."""
    return _matmul_tangent_a(d_a, _matrix_operands(b, b))


def _dot_tangent_b(a, d_b):
    """The batched tangent of ``np.dot(a, b)`` along ``b`` (vectors and matrices)."""
    return _matmul_tangent_b(_matrix_operands(a, a), d_b)


def _inner_tangent_a(d_a, b):
    """The batched tangent of ``np.inner(a, b)`` along ``a``: the directions kept out of the
    contraction over the last axes."""
    return np.moveaxis(np.inner(np.moveaxis(d_a, -1, 0), b), 0, -1)


def _inner_tangent_b(a, d_b):
    """The batched tangent of ``np.inner(a, b)`` along ``b``."""
    return np.moveaxis(np.inner(a, np.moveaxis(d_b, -1, 0)), np.ndim(a) - 1, -1)


def _outer_tangent_a(d_a, b):
    """The batched tangent of ``np.outer(a, b)`` along ``a``."""
    return np.einsum("ik,j->ijk", np.reshape(d_a, (-1, np.shape(d_a)[-1])), np.ravel(b))


def _outer_tangent_b(a, d_b):
    """The batched tangent of ``np.outer(a, b)`` along ``b``."""
    return np.einsum("i,jk->ijk", np.ravel(a), np.reshape(d_b, (-1, np.shape(d_b)[-1])))


def _einsum_tangent(subscripts, k, *operands):
    """``np.einsum(subscripts, *operands)`` where operand ``k`` is a batched tangent: its axis
    of directions gets a letter of its own, kept last in the output."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    inputs = inputs.split(",")
    if not arrow:  # implicit output: the letters used once, in alphabetical order
        letters = "".join(inputs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if "." in subscripts:
        raise ValueError(f"the derivative of np.einsum('{subscripts}') is written for "
                         "subscripts without '...'")
    free = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                if c not in subscripts)
    inputs[k] += free
    return np.einsum(",".join(inputs) + "->" + output + free, *operands)


def _hstack_tangent(d_arrays, arrays):
    """The batched tangent of ``np.hstack(arrays)``: vectors join along their only axis."""
    axis = 0 if np.ndim(arrays[0]) <= 1 else 1
    return np.concatenate([np.reshape(d, (-1, np.shape(d)[-1])) if np.ndim(a) == 0 else d
                           for d, a in zip(d_arrays, arrays)], axis=axis)


def _vstack_tangent(d_arrays, arrays):
    """The batched tangent of ``np.vstack(arrays)``: a vector (or number) is one row."""
    return np.concatenate([np.reshape(d, (1, -1, np.shape(d)[-1])) if np.ndim(a) < 2 else d
                           for d, a in zip(d_arrays, arrays)], axis=0)


HELPERS = {
    name: helper for name, helper in globals().items()
    if name.startswith("_") and not name.startswith("__") and callable(helper)
    and getattr(helper, "__module__", None) == __name__
}
