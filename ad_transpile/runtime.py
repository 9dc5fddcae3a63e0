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


HELPERS = {
    name: helper for name, helper in globals().items()
    if name.startswith("_") and not name.startswith("__") and callable(helper)
    and getattr(helper, "__module__", None) == __name__
}
