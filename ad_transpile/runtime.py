"""Helpers that generated files carry with them, written here once as ordinary tested code.

The emitter copies the source of a helper into a generated module that uses it, so the module
still runs without ad-transpile installed.
"""

from __future__ import annotations

import math

import numpy as np


def _unbroadcast(value, like):
    """Sum ``value`` down to the shape of ``like``: the adjoint of NumPy broadcasting."""
    shape = getattr(like, "shape", ())
    if getattr(value, "shape", ()) in (shape, ()):  # nothing stretched, or a number
        return value
    if shape == ():
        return float(value.sum())
    if value.ndim < len(shape):  # the adjoint of a number standing for a uniform array
        value = np.broadcast_to(value, np.broadcast_shapes(value.shape, shape)).copy()
    value = value.sum(axis=tuple(range(value.ndim - len(shape))))
    ones = [i for i, n in enumerate(shape) if n == 1]
    stretched = tuple(i for i in ones if value.shape[i] != 1)
    return value.sum(axis=stretched, keepdims=True) if stretched else value


def _like_record(record, gradients):
    """The gradient along ``record`` (a dict, a dataclass, a ``NamedTuple`` or another object
    with attributes) as a record of its type: ``gradients`` by field for the fields the
    function reads, zero for the numbers and arrays it does not; other values as they are."""
    import copy
    import dataclasses

    def zero(value):
        if isinstance(value, (bool, str)) or value is None:
            return value
        if isinstance(value, (int, float, complex, np.ndarray, np.generic)):
            return np.zeros_like(value, dtype=float) if np.ndim(value) else 0.0
        if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
            return type(value)(zero(v) for v in value)
        return value

    def field(key, value):
        return gradients[key] if key in gradients else zero(value)

    if isinstance(record, dict):
        return {key: field(key, value) for key, value in record.items()}
    if hasattr(record, "_replace"):  # a NamedTuple
        return record._replace(**{k: field(k, getattr(record, k)) for k in record._fields})
    if dataclasses.is_dataclass(record):
        return dataclasses.replace(record, **{
            f.name: field(f.name, getattr(record, f.name))
            for f in dataclasses.fields(record) if f.init})
    if not hasattr(record, "__dict__"):
        raise TypeError(f"a gradient along fields needs a dict, a dataclass, a NamedTuple or "
                        f"an object with attributes, not {type(record).__name__}")
    gradient = copy.copy(record)
    for key, value in vars(record).items():
        setattr(gradient, key, field(key, value))
    return gradient


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


def _undiff(g, n=1, axis=-1):
    """The adjoint of ``np.diff(a, n, axis)``: a difference's transpose is minus the difference
    of ``g`` with a zero before and after it along ``axis``, taken ``n`` times."""
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    return g


def _undiagonal(g, a, offset=0, axis1=0, axis2=1):
    """The adjoint of ``np.diagonal(a, offset, axis1, axis2)``: ``g`` written back onto the
    diagonal it was read from, zeros elsewhere."""
    g = np.asarray(g)
    out = np.zeros(np.shape(a), dtype=np.result_type(g, float))
    length = np.shape(g)[-1]
    rows = np.arange(length) + max(-offset, 0)
    columns = np.arange(length) + max(offset, 0)
    np.moveaxis(out, (axis1, axis2), (0, 1))[rows, columns] = np.moveaxis(g, -1, 0)
    return out


def _undiag(g, v, k=0):
    """The adjoint of ``np.diag(v, k)``: the diagonal read back where ``v`` is a vector, the
    vector written back onto ``v``'s diagonal where it is a matrix."""
    return np.diag(g, k) if np.ndim(v) == 1 else _undiagonal(g, v, k)


def _untake_along_axis(g, arr, indices, axis):
    """The adjoint of ``np.take_along_axis(arr, indices, axis)``: each value of ``g`` added
    back where it was taken from (an index taken twice gets both)."""
    out = np.zeros(np.shape(arr), dtype=np.result_type(g, float))
    if axis is None:
        np.add.at(out.reshape(-1), np.asarray(indices), g)
        return out
    where = list(np.indices(np.shape(indices), sparse=True))
    where[axis] = np.asarray(indices)
    np.add.at(out, tuple(where), g)
    return out


def _unrepeat(g, a, repeats, axis=None):
    """The adjoint of ``np.repeat(a, repeats, axis)``: the copies of each element summed back
    onto it (``axis=None`` repeats ``a`` flattened)."""
    g = np.asarray(g)
    if axis is None:
        out = np.zeros(np.size(a), dtype=np.result_type(g, float))
        np.add.at(out, np.repeat(np.arange(np.size(a)), repeats), g)
        return out.reshape(np.shape(a))
    axis = axis % np.ndim(a)
    out = np.zeros(np.shape(a), dtype=np.result_type(g, float))
    source = np.repeat(np.arange(np.shape(a)[axis]), repeats)
    np.add.at(np.moveaxis(out, axis, 0), source, np.moveaxis(g, axis, 0))
    return out


def _untake(g, a, indices, axis=None):
    """The adjoint of ``np.take(a, indices, axis)``: each value of ``g`` added back where it
    was taken from (an index taken twice gets both; ``axis=None`` takes from ``a`` flattened)."""
    out = np.zeros(np.shape(a), dtype=np.result_type(g, float))
    indices = np.asarray(indices)
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
        return out
    axis = axis % np.ndim(a)
    taken = tuple(range(axis, axis + indices.ndim))
    np.add.at(np.moveaxis(out, axis, 0), indices,
              np.moveaxis(g, taken, tuple(range(indices.ndim))))
    return out


def _linear_pad(mode):
    """``mode`` of ``np.pad`` where padding is linear in the array (copies of its elements, or
    a constant), so that its derivative pads the tangent the same way; else an error, never a
    wrong derivative ('maximum', 'median' pick elements by value)."""
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise ValueError("the derivative of np.pad is written for the modes 'constant', "
                         f"'edge', 'reflect', 'symmetric' and 'wrap', not {mode!r}")
    return mode


def _unpad(g, a, pad_width, mode="constant", constant_values=0):
    """The adjoint of ``np.pad(a, pad_width, mode)``: each element of ``g`` added back onto
    the element of ``a`` it copies (the constant ``constant_values`` sends nothing back)."""
    flat = np.arange(np.size(a)).reshape(np.shape(a))
    if _linear_pad(mode) == "constant":
        source = np.pad(flat, pad_width, constant_values=-1)
    else:
        source = np.pad(flat, pad_width, mode=mode)
    out = np.zeros(np.size(a), dtype=np.result_type(g, float))
    np.add.at(out, source[source >= 0], np.asarray(g)[source >= 0])
    return out.reshape(np.shape(a))


def _kron_blocks(a, b):
    """The shapes ``np.kron(a, b)`` gives ``a`` and ``b`` (as many axes, ones in front) and
    the shape of its result with their axes interleaved, ``(a0, b0, a1, b1, ...)``."""
    ndim = max(np.ndim(a), np.ndim(b))
    shape_a = (1,) * (ndim - np.ndim(a)) + tuple(np.shape(a))
    shape_b = (1,) * (ndim - np.ndim(b)) + tuple(np.shape(b))
    return shape_a, shape_b, [n for pair in zip(shape_a, shape_b) for n in pair]


def _unkron_a(g, a, b):
    """The adjoint of ``a`` in ``np.kron(a, b)``: each block of ``g`` weighed by ``b``."""
    shape_a, shape_b, blocks = _kron_blocks(a, b)
    spread_b = [n for pair in zip((1,) * len(shape_b), shape_b) for n in pair]
    weighed = np.reshape(g, blocks) * np.reshape(b, spread_b)
    return np.sum(weighed, axis=tuple(range(1, len(blocks), 2))).reshape(np.shape(a))


def _unkron_b(g, a, b):
    """The adjoint of ``b`` in ``np.kron(a, b)``: the blocks of ``g`` weighed by ``a``."""
    shape_a, shape_b, blocks = _kron_blocks(a, b)
    spread_a = [n for pair in zip(shape_a, (1,) * len(shape_a)) for n in pair]
    weighed = np.reshape(g, blocks) * np.reshape(a, spread_a)
    return np.sum(weighed, axis=tuple(range(0, len(blocks), 2))).reshape(np.shape(b))


def _uncross(g, a, b, axis=None):
    """The adjoint of ``a`` in ``np.cross(a, b, axis=axis)``: ``g . (a x b) = a . (b x g)``.
    For 3-vectors only (NumPy 2 deprecates the cross product of 2-vectors)."""
    axis = -1 if axis is None else axis
    if np.shape(a)[axis] != 3 or np.shape(b)[axis] != 3:
        raise ValueError("the derivative of np.cross is written for 3-vectors")
    return _unbroadcast(np.cross(b, g, axis=axis), a)


def _ptp_mask(a, axis=None, keepdims=False):
    """The partials of ``np.ptp(a, axis)``, the max minus the min: a share of +1 on the maxima
    and of -1 on the minima (ties split it, as for ``np.max``; 0 where all are equal)."""
    highest = np.max(a, axis=axis, keepdims=keepdims)
    lowest = np.min(a, axis=axis, keepdims=keepdims)
    return (_extreme_mask(a, highest, axis=axis, keepdims=keepdims)
            - _extreme_mask(a, lowest, axis=axis, keepdims=keepdims))


def _spread_weights(a, axis=None, weights=None):
    """The weights of ``np.average(a, axis, weights)`` stretched to the shape of ``a`` (a 1-D
    ``weights`` lies along ``axis``; none: ones)."""
    if weights is None:
        return np.ones(np.shape(a))
    w = np.asarray(weights, dtype=float)
    if w.shape != np.shape(a):
        w = np.reshape(w, [-1 if n == axis % np.ndim(a) else 1 for n in range(np.ndim(a))])
    return np.broadcast_to(w, np.shape(a))


def _unspread_weights(g, a, axis=None, weights=None):
    """The adjoint of ``_spread_weights``: ``g`` summed back to the shape of ``weights``."""
    g = np.broadcast_to(g, np.shape(a))
    if np.shape(weights) == np.shape(a):
        return np.array(g, dtype=float)
    others = tuple(n for n in range(np.ndim(a)) if n != axis % np.ndim(a))
    return np.reshape(np.sum(g, axis=others), np.shape(weights))


def _average_weights(a, axis=None, weights=None):
    """Each element's weight in ``np.average(a, axis, weights)``: its weight over the sum of
    the weights it is averaged with."""
    spread = _spread_weights(a, axis, weights)
    return spread / np.sum(spread, axis=axis, keepdims=True)


def _trapezoid_weights(y, x=None, dx=1.0, axis=-1):
    """Each sample's weight in ``np.trapezoid(y, x, dx, axis)``: half of the steps on either
    side of it (``x``'s differences, or ``dx``), shaped to multiply ``y``."""
    given, axis = axis, axis % np.ndim(y)
    if x is None:
        steps = np.full(np.shape(y)[axis] - 1, float(dx)) if np.ndim(dx) == 0 else dx
    else:  # along the axis as given, as np.trapezoid takes it (x may have fewer axes)
        steps = np.diff(x, axis=given if np.ndim(x) > 1 else -1)
    if np.ndim(steps) == 1:
        steps = np.reshape(steps, [-1 if n == axis else 1 for n in range(np.ndim(y))])
    steps = np.reshape(steps, (1,) * (np.ndim(y) - np.ndim(steps)) + np.shape(steps))
    zero = [(1, 0) if n == axis else (0, 0) for n in range(np.ndim(steps))]
    return (np.pad(steps, zero) + np.pad(steps, [p[::-1] for p in zero])) / 2.0


def _untrapezoid_x(g, y, x, axis=-1):
    """The adjoint of ``x`` in ``np.trapezoid(y, x, axis=axis)``: the result is the sum of the
    mean of each pair of neighbours in ``y`` times the step of ``x`` between them, so ``x``
    gets the transpose of its differences applied to those means times ``g``."""
    axis = axis % np.ndim(y)
    count = np.shape(y)[axis]
    means = (np.take(y, range(1, count), axis) + np.take(y, range(count - 1), axis)) / 2.0
    out = _undiff(means * (np.expand_dims(g, axis) if np.ndim(g) else g), axis=axis)
    if np.ndim(x) == 1:  # the steps of a 1-D x lie along axis
        return np.sum(out, axis=tuple(n for n in range(np.ndim(out)) if n != axis))
    return _unbroadcast(out, np.asarray(x))


def _gradient_axis(f, axis=None):
    """The one axis ``np.gradient(f, ..., axis=axis)`` differentiates along, counted from 0;
    an error where it gives a list of arrays (several axes), whose derivative has no rule."""
    if axis is None and np.ndim(f) == 1:
        return 0
    if axis is None or not isinstance(axis, (int, np.integer)):
        raise ValueError("the derivative of np.gradient is written for one axis: give axis=k "
                         "(or a 1-D array)")
    return axis % np.ndim(f)


def _ungradient(g, f, spacing=1.0, axis=None, edge_order=1):
    """The adjoint of ``np.gradient(f, spacing, axis=axis)``: a linear map along the axis,
    whose matrix (the differences of the identity) is transposed onto ``g``."""
    axis = _gradient_axis(f, axis)
    count = np.shape(f)[axis]
    weights = np.gradient(np.eye(count), spacing, axis=0, edge_order=edge_order)
    moved = np.tensordot(weights.T, np.moveaxis(np.asarray(g, dtype=float), axis, 0), axes=1)
    return np.moveaxis(moved, 0, axis)


def _chosen(condlist, choicelist):
    """Which choice ``np.select(condlist, choicelist)`` takes at each element (-1: the
    default): the first whose condition holds."""
    return np.select(condlist, [np.full(np.shape(c), i) for i, c in enumerate(condlist)], -1)


def _unselect(g, condlist, choicelist, position):
    """The adjoint of ``choicelist[position]`` in ``np.select(condlist, choicelist)``: ``g``
    where that choice was taken, 0 elsewhere, summed back over broadcasting."""
    if position is Ellipsis:  # the choices as one array: each its piece
        return np.stack([_unselect(g, condlist, choicelist, i) for i in range(len(choicelist))])
    piece = np.where(_chosen(condlist, choicelist) == position, g, 0.0)
    return _unbroadcast(piece, np.asarray(choicelist[position]))


def _reselect(piece, condlist, choicelist, position):
    """``piece`` where ``choicelist[position]`` was chosen, zeros elsewhere: the adjoint of
    ``_unselect``."""
    return np.select(condlist, _with_zeros(piece, choicelist, position))


def _unconvolve(g, other, like, mode="full"):
    """The adjoint of ``like`` in ``np.convolve(like, other, mode)`` (or ``(other, like)``: a
    convolution is symmetric): ``g`` put back in the full convolution's place, correlated with
    ``other``."""
    n, m = np.size(like), np.size(other)
    start = {"full": 0, "same": (min(n, m) - 1) // 2, "valid": min(n, m) - 1}[mode]
    full = np.zeros(n + m - 1, dtype=np.result_type(g, float))
    full[start:start + np.size(g)] = g
    return np.convolve(full, np.asarray(other)[::-1], "valid")


def _interp_weights(x, xp, left=None, right=None):
    """The weight of each ``fp[j]`` in ``np.interp(x, xp, fp, left, right)``, on a last axis:
    the interpolation is linear in ``fp`` (beyond the knots, a ``left`` or ``right`` given is
    a constant, so the weights are 0 there)."""
    beyond = {"left": None if left is None else 0.0, "right": None if right is None else 0.0}
    return np.stack([np.interp(x, xp, e, **beyond) for e in np.eye(np.size(xp))], axis=-1)


def _interp_slopes(x, xp, left=None, right=None):
    """How the weights ``_interp_weights(x, xp, left, right)`` change with ``x``: -1 / h and
    1 / h on the ends of the segment holding ``x`` (the one to its right at a knot), 0 outside
    ``xp``'s range, where ``np.interp`` is constant (``fp``'s end, or ``left`` and ``right``,
    which therefore change nothing here)."""
    x, xp = np.asarray(x, dtype=float), np.asarray(xp, dtype=float)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, np.size(xp) - 2)
    inside = (x >= xp[0]) & (x <= xp[-1])
    step = np.where(inside, 1.0 / (xp[i + 1] - xp[i]), 0.0)
    slopes = np.zeros((*np.shape(x), np.size(xp)))
    np.put_along_axis(slopes, np.expand_dims(i, -1), -np.expand_dims(step, -1), -1)
    np.put_along_axis(slopes, np.expand_dims(i + 1, -1), np.expand_dims(step, -1), -1)
    return slopes


def _along_last(x, axis=None):
    """``x`` with ``axis`` moved last (``axis=None``: flattened), as a running product or sum
    along an axis is taken."""
    return np.ravel(x) if axis is None else np.moveaxis(x, axis, -1)


def _back_from_last(x, a, axis=None):
    """``x``, laid out as ``_along_last(a, axis)``, put back in the shape of ``a``."""
    return np.reshape(x, np.shape(a)) if axis is None else np.moveaxis(x, -1, axis)


def _products_before(b):
    """The running products of the elements before each one along the last axis (1 for the
    first): multiplied out, never divided, so exact where an element is 0."""
    ones = np.ones((*np.shape(b)[:-1], 1))
    return np.cumprod(np.concatenate([ones, b[..., :-1]], axis=-1), axis=-1)


def _cumprod_tangent(a, u, axis=None):
    """The tangent of ``np.cumprod(a, axis)`` along ``u``: ``y[i] = y[i-1] * a[i]``, so
    ``dy[i] = dy[i-1] * a[i] + y[i-1] * u[i]``, run along the axis (no division by ``a``)."""
    b = _along_last(a, axis)
    u = _along_last(np.broadcast_to(u, np.shape(a)), axis)
    before = _products_before(b)
    out = np.zeros(np.shape(b), dtype=np.result_type(b, u, float))
    running = np.zeros(np.shape(b)[:-1])
    for i in range(np.shape(b)[-1]):
        running = running * b[..., i] + before[..., i] * u[..., i]
        out[..., i] = running
    return out if axis is None else np.moveaxis(out, -1, axis)


def _uncumprod(g, a, axis=None):
    """The adjoint of ``np.cumprod(a, axis)``: ``a[j]`` gets ``before[j] * s[j]``, with
    ``before[j]`` the product of the elements before it and ``s[j] = g[j] + a[j+1] * s[j+1]``
    the adjoints after it weighed by the elements between (exact where ``a`` is 0)."""
    b, g = _along_last(a, axis), _along_last(g, axis)
    before = _products_before(b)
    out = np.zeros(np.shape(b), dtype=np.result_type(b, g, float))
    running = np.zeros(np.shape(b)[:-1])
    for j in reversed(range(np.shape(b)[-1])):
        following = b[..., j + 1] if j + 1 < np.shape(b)[-1] else 0.0
        running = g[..., j] + following * running
        out[..., j] = before[..., j] * running
    return _back_from_last(out, a, axis)


def _cumprod_along(a, u, v, axis=None):
    """How ``_cumprod_tangent(a, u, axis)`` changes as ``a`` moves along ``v``: its recurrence
    differentiated once more (a second derivative of ``np.cumprod``)."""
    b = _along_last(a, axis)
    u = _along_last(np.broadcast_to(u, np.shape(a)), axis)
    v = _along_last(np.broadcast_to(v, np.shape(a)), axis)
    out = np.zeros(np.shape(b), dtype=np.result_type(b, u, v, float))
    before, d_before = np.ones(np.shape(b)[:-1]), np.zeros(np.shape(b)[:-1])
    running, d_running = np.zeros(np.shape(b)[:-1]), np.zeros(np.shape(b)[:-1])
    for i in range(np.shape(b)[-1]):
        d_running = d_running * b[..., i] + running * v[..., i] + d_before * u[..., i]
        running = running * b[..., i] + before * u[..., i]
        d_before = d_before * b[..., i] + before * v[..., i]
        before = before * b[..., i]
        out[..., i] = d_running
    return out if axis is None else np.moveaxis(out, -1, axis)


def _uncumprod_along(g, a, v, axis=None):
    """How ``_uncumprod(g, a, axis)`` changes as ``a`` moves along ``v`` (the Hessian of
    ``g . np.cumprod(a)`` times ``v``; it is symmetric, so this is also its adjoint)."""
    b, g = _along_last(a, axis), _along_last(g, axis)
    v = _along_last(np.broadcast_to(v, np.shape(a)), axis)
    before = _products_before(b)
    d_before = _cumprod_tangent(np.concatenate([np.ones((*np.shape(b)[:-1], 1)), b[..., :-1]],
                                               axis=-1),
                                np.concatenate([np.zeros((*np.shape(b)[:-1], 1)), v[..., :-1]],
                                               axis=-1), -1)
    out = np.zeros(np.shape(b), dtype=np.result_type(b, g, v, float))
    running, d_running = np.zeros(np.shape(b)[:-1]), np.zeros(np.shape(b)[:-1])
    for j in reversed(range(np.shape(b)[-1])):
        last = j + 1 == np.shape(b)[-1]
        following, d_following = (0.0, 0.0) if last else (b[..., j + 1], v[..., j + 1])
        d_running = d_following * running + following * d_running
        running = g[..., j] + following * running
        out[..., j] = d_before[..., j] * running + before[..., j] * d_running
    return _back_from_last(out, a, axis)


def _einsum_parts(subscripts, ndims):
    """The letters of each operand and of the result of ``np.einsum(subscripts, ...)`` for
    operands of ``ndims`` axes: ``...`` written out as letters of its own, an implicit result
    (the letters used once, in alphabetical order, after those of ``...``) made explicit."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    inputs = inputs.split(",")
    spare = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
             if c not in subscripts]
    widths = [n - len(s.replace("...", "")) for s, n in zip(inputs, ndims) if "..." in s]
    dots = "".join(spare[:max(widths, default=0)])
    inputs = [s.replace("...", dots[len(dots) - (n - len(s) + 3):]) if "..." in s else s
              for s, n in zip(inputs, ndims)]
    if not arrow:
        letters = "".join(inputs)
        output = dots + "".join(sorted(c for c in set(letters) - set(dots)
                                       if letters.count(c) == 1))
    return inputs, output.replace("...", dots)


def _einsum_adjoint(subscripts, g, k, *operands):
    """The adjoint of operand ``k`` of ``np.einsum(subscripts, *operands)``, for the adjoint
    ``g`` of its result: the same contraction with ``g`` in the place of operand ``k``; a letter
    found in operand ``k`` alone is spread over, and a letter repeated in it (a diagonal,
    ``'ii->i'``) puts the adjoint on that diagonal."""
    inputs, output = _einsum_parts(subscripts, [np.ndim(x) for x in operands])
    wanted, shape = inputs[k], np.shape(operands[k])
    others = [s for i, s in enumerate(inputs) if i != k]
    unique = "".join(dict.fromkeys(wanted))
    kept = "".join(c for c in unique if c in output + "".join(others))
    result = np.einsum(",".join([output, *others]) + "->" + kept, g,
                       *[x for i, x in enumerate(operands) if i != k])
    sizes = {c: n for c, n in zip(wanted, shape)}
    for c in unique:
        if c not in kept:  # summed away in operand k alone: every element gets the same
            result = np.expand_dims(result, -1)
    result = np.moveaxis(result, range(result.ndim),
                         [unique.index(c) for c in kept + "".join(c for c in unique
                                                                   if c not in kept)])
    stretched = tuple(i for i, c in enumerate(unique) if sizes[c] == 1 and result.shape[i] != 1)
    if stretched:  # a length of 1 that einsum broadcast
        result = np.sum(result, axis=stretched, keepdims=True)
    result = np.broadcast_to(result, tuple(sizes[c] for c in unique))
    if len(unique) == len(wanted):
        return result.copy()
    fresh = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
             if c not in unique]
    spread, diagonals = [], []
    for c in wanted:
        if c in spread or c in "".join(d[0] for d in diagonals):
            diagonals.append(c + fresh[len(diagonals)])
            spread.append(fresh[len(diagonals) - 1])
        else:
            spread.append(c)
    eyes = [np.eye(sizes[d[0]]) for d in diagonals]
    return np.einsum(",".join([unique, *diagonals]) + "->" + "".join(spread), result, *eyes)


def _multi_dot_subscripts(arrays):
    """``np.linalg.multi_dot(arrays)`` as the subscripts of one ``np.einsum``: matrix ``i``
    spans the letters ``i`` and ``i + 1``; a vector first or last is a row or a column whose
    other axis is dropped (``[v, A, w]``: ``'b,bc,c->'``)."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    parts = [letters[i:i + 2] for i in range(len(arrays))]
    first, last = np.ndim(arrays[0]) == 2, np.ndim(arrays[-1]) == 2
    parts[0], parts[-1] = parts[0][1 - first:], parts[-1][:1 + last]
    return ",".join(parts) + "->" + parts[0][:first] + parts[-1][len(parts[-1]) - last:]


def _multi_dot_tangent(arrays, d_arrays):
    """The tangent of ``np.linalg.multi_dot(arrays)``: each array in turn replaced by its
    tangent (``d_arrays``, zeros for a constant)."""
    subscripts = _multi_dot_subscripts(arrays)
    return sum(_einsum_with(subscripts, k, d, *arrays) for k, d in enumerate(d_arrays))


def _multi_dot_batched(arrays, d_arrays):
    """The batched tangent of ``np.linalg.multi_dot(arrays)``: directions last."""
    subscripts = _multi_dot_subscripts(arrays)
    return sum(_einsum_with(_einsum_batched(subscripts, k, *arrays), k, d, *arrays)
               for k, d in enumerate(d_arrays))


def _multi_dot_adjoint(g, arrays, position):
    """The adjoint of ``arrays[position]`` in ``np.linalg.multi_dot(arrays)``, for the
    adjoint ``g`` of the product: the products on either side of it, transposed, around ``g``."""
    return _einsum_adjoint(_multi_dot_subscripts(arrays), g, position, *arrays)


def _multi_dot_adjoint_along(g, arrays, position, d_arrays):
    """How ``_multi_dot_adjoint(g, arrays, position)`` changes as ``arrays`` move along
    ``d_arrays``: linear in each array but the one at ``position``."""
    subscripts = _multi_dot_subscripts(arrays)
    return sum(_einsum_adjoint_along(subscripts, g, position, j, d, *arrays)
               for j, d in enumerate(d_arrays))


def _multi_dot_adjoint_swap(g, arrays, position, j, r):
    """The adjoint of ``_multi_dot_adjoint(g, arrays, position)`` along ``arrays[j]``, for
    the adjoint ``r`` of its result."""
    return _einsum_adjoint_swap(_multi_dot_subscripts(arrays), g, position, j, r, *arrays)


def _multi_dot_with(arrays, position, g):
    """``np.linalg.multi_dot(arrays)`` with ``g`` in the place of ``arrays[position]``."""
    return _einsum_with(_multi_dot_subscripts(arrays), position, g, *arrays)


def _lower_half(x):
    """The lower triangle of each matrix in ``x`` with its diagonal halved: the part of a
    symmetric ``m = X + X.T`` that is ``X``, for a lower triangular ``X`` (self-adjoint)."""
    return np.tril(x) - 0.5 * x * np.eye(np.shape(x)[-1])


def _symmetric_from_lower(x):
    """The symmetric matrices whose lower triangles are those of ``x``: what a function that
    reads only the lower triangle (``np.linalg.cholesky``, ``eigvalsh``) sees of ``x``."""
    return np.tril(x) + np.swapaxes(np.tril(x, -1), -1, -2)


def _lower_of_symmetric(g):
    """The adjoint of ``_symmetric_from_lower``: the adjoint of an element below the
    diagonal and of its mirror image, on the element below; nothing above."""
    return np.tril(g + np.swapaxes(g, -1, -2)) - g * np.eye(np.shape(g)[-1])


def _pinv_tangent(a, p, d_a):
    """The tangent of ``p = np.linalg.pinv(a)`` where ``a``'s rank does not change about it
    (full rank): ``-p da p + p p.T da.T (I - a p) + (I - p a) da.T p.T p``, for stacks too."""
    d_t, p_t = np.swapaxes(d_a, -1, -2), np.swapaxes(p, -1, -2)
    rows = p @ (p_t @ d_t)
    columns = d_t @ (p_t @ p)
    return -(p @ d_a @ p) + rows - rows @ a @ p + columns - p @ (a @ columns)


def _block_upper(a, e):
    """The block matrices ``[[a, e], [0, a]]`` (for stacks, of the last two axes): the power
    of one has the derivative of the power of ``a`` along ``e`` in its upper right block."""
    top = np.concatenate([a, e], axis=-1)
    bottom = np.concatenate([np.zeros_like(top[..., :np.shape(a)[-1]]), a], axis=-1)
    return np.concatenate([top, bottom], axis=-2)


def _upper_right(x):
    """The upper right quarter of each matrix in ``x``."""
    half = np.shape(x)[-1] // 2
    return x[..., :half, half:]


def _diagonal_blocks(g):
    """The sum of the upper left and lower right quarters of each matrix in ``g``: what
    ``a`` gets back from the adjoint ``g`` of ``_block_upper(a, e)``."""
    half = np.shape(g)[-1] // 2
    return g[..., :half, :half] + g[..., half:, half:]


def _digamma(x):
    """The digamma function psi = Gamma' / Gamma of a number, the derivative of math.lgamma
    (``math`` has none, and scipy is optional): psi(x) = psi(1 - x) - pi / tan(pi x) below
    1/2, psi(x) = psi(x + 1) - 1 / x up to 10, then the asymptotic series in 1 / x**2, whose
    terms are Bernoulli numbers B_2k / 2k; within a few 1e-16 of the value's size."""
    if x < 0.5:
        # tan and sin**2 repeat every whole number: x - round(x) is exact, pi * x is not
        return _digamma(1.0 - x) - math.pi / math.tan(math.pi * (x - round(x)))
    shift = 0.0
    while x < 10.0:
        shift -= 1.0 / x
        x += 1.0
    w = 1.0 / (x * x)
    series = w * (1 / 12 - w * (1 / 120 - w * (1 / 252 - w * (1 / 240 - w * (
        1 / 132 - w * (691 / 32760 - w / 12))))))
    return shift + math.log(x) - 0.5 / x - series


def _trigamma(x):
    """The derivative of ``_digamma``: psi'(x) = pi**2 / sin(pi x)**2 - psi'(1 - x) below 1/2,
    psi'(x + 1) + 1 / x**2 up to 10, then the asymptotic series B_2k / x**(2k + 1)."""
    if x < 0.5:
        return (math.pi / math.sin(math.pi * (x - round(x)))) ** 2 - _trigamma(1.0 - x)
    shift = 0.0
    while x < 10.0:
        shift += 1.0 / (x * x)
        x += 1.0
    w = 1.0 / (x * x)
    series = w * (1 / 6 - w * (1 / 30 - w * (1 / 42 - w * (1 / 30 - w * (
        5 / 66 - w * (691 / 2730 - w * 7 / 6))))))
    return shift + 1.0 / x + 0.5 * w + series / x


def _eigenvectors(a):
    """The eigenvectors (columns) of the symmetric matrices made of ``a``'s lower triangles,
    in the order of ``np.linalg.eigvalsh(a)``'s values: what its derivative is made of."""
    return np.linalg.eigh(a)[1]


def _eigen_gaps(a):
    """``1 / (w[j] - w[i])`` off the diagonal, 0 on it, ``w`` the eigenvalues of ``a``: how
    much an eigenvector turns toward another for a change of the matrix between them."""
    w = np.linalg.eigvalsh(a)
    gaps = w[..., None, :] - w[..., :, None]
    off = ~np.eye(np.shape(w)[-1], dtype=bool)
    return np.divide(1.0, gaps, out=np.zeros_like(gaps), where=off)


def _eigenvectors_tangent(a, v, d_a):
    """The tangent of ``v = _eigenvectors(a)``, for distinct eigenvalues: ``v (F * (v.T dE
    v))``, ``F`` the gaps, ``dE`` the symmetric change ``d_a``'s lower triangle makes."""
    turn = np.swapaxes(v, -1, -2) @ _symmetric_from_lower(d_a) @ v
    return v @ (_eigen_gaps(a) * turn)


def _eigenvectors_adjoint(g, a, v):
    """The adjoint of ``a`` in ``v = _eigenvectors(a)`` for ``v``'s adjoint ``g``, the
    transpose of ``_eigenvectors_tangent``: ``v (F * (v.T g)) v.T``, on the lower triangle."""
    v_t = np.swapaxes(v, -1, -2)
    return _lower_of_symmetric(v @ (_eigen_gaps(a) * (v_t @ g)) @ v_t)


def _svdvals_tangent(a, d_a):
    """The tangent of ``np.linalg.svdvals(a)`` for distinct singular values: ``u_i.T da
    v_i``, the singular vectors of ``a`` around ``d_a`` (for stacks too)."""
    u, _, v_t = np.linalg.svd(a, full_matrices=False)
    return np.einsum("...ji,...jk,...ik->...i", u, d_a, v_t)


def _svdvals_adjoint(g, a):
    """The adjoint of ``a`` in ``np.linalg.svdvals(a)``: ``u diag(g) v.T``."""
    u, _, v_t = np.linalg.svd(a, full_matrices=False)
    return (u * np.expand_dims(g, -2)) @ v_t


def _svdvals_adjoint_along(g, a, d_a):
    """How ``_svdvals_adjoint(g, a)``, the gradient of ``g . s(a)``, changes as ``a`` moves
    along ``d_a``: that sum's Hessian times ``d_a`` (symmetric), from the singular vectors'
    change (distinct nonzero singular values)."""
    u, s, v_t = np.linalg.svd(a, full_matrices=False)
    d_u, d_v = _singular_vectors_tangent(a, d_a, u, s, v_t)
    weights = np.expand_dims(g, -2)
    return (d_u * weights) @ v_t + (u * weights) @ np.swapaxes(d_v, -1, -2)


def _norm_axes(x, ord=None, axis=None):
    """The axes ``np.linalg.norm(x, ord, axis)`` reduces, as a tuple, and whether it takes a
    matrix norm over them (two axes, or a matrix with no axis and an ``ord``)."""
    if axis is None:
        axes = tuple(range(np.ndim(x)))
        return axes, ord is not None and len(axes) == 2
    axes = tuple(a % np.ndim(x) for a in (axis if isinstance(axis, tuple) else (axis,)))
    return axes, len(axes) == 2


def _norm_partial(x, ord=None, axis=None):
    """The derivative of ``np.linalg.norm(x, ord, axis)`` along each element of ``x``, with
    NumPy's choices where there is none: 0 where the norm is 0 or an element is 0 (|x|'s
    kink), ties of a largest or smallest element, row or column shared evenly (as np.max)."""
    x = np.asarray(x, dtype=float)
    axes, matrix = _norm_axes(x, ord, axis)
    r = np.linalg.norm(x, ord, axis, keepdims=True)
    if ord is None or (ord == "fro" and matrix) or (ord == 2 and not matrix):
        return x / _nonzero(r)
    sign = np.sign(x)
    if not matrix:
        if ord in (np.inf, -np.inf):
            hit = np.abs(x) == r
            return sign * hit / np.sum(hit, axis=axes, keepdims=True)
        if ord == 0:
            return np.zeros_like(x)
        if ord == 1:
            return sign
        scaled = np.abs(x) / _nonzero(r)  # sign(x) |x|^(p-1) / r^(p-1)
        return np.where(x == 0, 0.0, sign * np.power(np.where(x == 0, 1.0, scaled), ord - 1))
    rows, columns = axes
    if ord in (1, -1, np.inf, -np.inf):  # the largest (smallest) column (row) sum
        along, across = (rows, columns) if ord in (1, -1) else (columns, rows)
        hit = np.sum(np.abs(x), axis=along, keepdims=True) == r
        return sign * hit / np.sum(hit, axis=across, keepdims=True)
    u, s, v_t = np.linalg.svd(np.moveaxis(x, axes, (-2, -1)), full_matrices=False)
    if ord == "nuc":
        part = u @ v_t
    else:  # 2 or -2: the largest or smallest singular value's vectors
        k = 0 if ord == 2 else -1
        part = u[..., :, k:k + 1 or None] @ v_t[..., k:k + 1 or None, :]
    return np.moveaxis(part, (-2, -1), axes) * (r != 0)


def _norm_partial_along(x, v, ord=None, axis=None):
    """How ``_norm_partial(x, ord, axis)`` changes as ``x`` moves along ``v``: the norm's
    Hessian times ``v``, symmetric, so the adjoint too. A kink (1, inf, -inf, 0, and the
    matrix norms made of them) has 0; a p-norm (2 and Frobenius too)
    ``(p - 1) / r * ((|x| / r)^(p - 2) v - g (g . v))``, ``g`` the derivative; the singular
    values' norms the change of their singular vectors (distinct singular values)."""
    x, v = np.asarray(x, dtype=float), np.asarray(v, dtype=float)
    axes, matrix = _norm_axes(x, ord, axis)
    p = 2 if ord is None or ord == "fro" else ord
    if (not matrix or ord is None or ord == "fro") and p not in (1, 0, np.inf, -np.inf):
        r = _nonzero(np.linalg.norm(x, ord, axis, keepdims=True))
        g = _norm_partial(x, ord, axis)
        flat = axes if axis is not None or ord is not None else None
        scaled = np.where(x == 0, 0.0, np.power(np.where(x == 0, 1.0, np.abs(x) / r), p - 2))
        return (p - 1) / r * (scaled * v - g * np.sum(g * v, axis=flat, keepdims=True))
    if not matrix or ord in (1, -1, np.inf, -np.inf):
        return np.zeros_like(x)
    moved, d = np.moveaxis(x, axes, (-2, -1)), np.moveaxis(v, axes, (-2, -1))
    u, s, v_t = np.linalg.svd(moved, full_matrices=False)
    d_u, d_v = _singular_vectors_tangent(moved, d, u, s, v_t)
    if ord == "nuc":
        part = d_u @ v_t + u @ np.swapaxes(d_v, -1, -2)
    else:
        k = slice(0, 1) if ord == 2 else slice(-1, None)
        part = (d_u[..., :, k] @ v_t[..., k, :]
                + u[..., :, k] @ np.swapaxes(d_v[..., :, k], -1, -2))
    return np.moveaxis(part, (-2, -1), axes)


def _singular_vectors_tangent(a, d_a, u, s, v_t):
    """The tangents of the thin SVD's ``u`` and ``v`` (``a = u diag(s) v_t``) along ``d_a``,
    for distinct nonzero singular values: ``du = u (F * (P S + S P.T)) + (I - u u.T) da v / s``
    and ``dv = v (F * (S P + P.T S)) + (I - v v.T) da.T u / s``, ``P = u.T da v`` and
    ``F = 1 / (s_j**2 - s_i**2)`` off the diagonal."""
    v, u_t = np.swapaxes(v_t, -1, -2), np.swapaxes(u, -1, -2)
    p = u_t @ d_a @ v
    squares = s[..., None, :] ** 2 - s[..., :, None] ** 2
    off = ~np.eye(np.shape(s)[-1], dtype=bool)
    f = np.divide(1.0, squares, out=np.zeros_like(squares), where=off)
    ps, sp = p * s[..., None, :], s[..., :, None] * p
    p_t = np.swapaxes(p, -1, -2)
    rest_u = d_a @ v - u @ p  # (I - u u.T) da v
    rest_v = np.swapaxes(d_a, -1, -2) @ u - v @ p_t  # (I - v v.T) da.T u
    d_u = u @ (f * (ps + np.swapaxes(ps, -1, -2))) + rest_u / s[..., None, :]
    d_v = v @ (f * (sp + np.swapaxes(sp, -1, -2))) + rest_v / s[..., None, :]
    return d_u, d_v


def _vector_norm_partial(x, ord=2, axis=None):
    """``_norm_partial`` of ``np.linalg.vector_norm``, which takes the elements along all of
    ``axis`` (every axis where it is None) for one vector, whatever their number."""
    moved, shape = _as_vectors(x, axis)
    return np.reshape(_norm_partial(moved, ord, -1), shape).transpose(_back(x, axis))


def _vector_norm_partial_along(x, v, ord=2, axis=None):
    """``_norm_partial_along`` of ``np.linalg.vector_norm``."""
    moved, shape = _as_vectors(x, axis)
    along = _norm_partial_along(moved, _as_vectors(v, axis)[0], ord, -1)
    return np.reshape(along, shape).transpose(_back(x, axis))


def _as_vectors(x, axis):
    """``x`` with the axes of ``axis`` (all where None) last and made one, and the shape it
    has with them last but not yet one."""
    x = np.asarray(x, dtype=float)
    axes = _vector_axes(x, axis)
    kept = [a for a in range(np.ndim(x)) if a not in axes]
    moved = np.transpose(x, kept + list(axes))
    return np.reshape(moved, (*np.shape(moved)[:len(kept)], -1)), np.shape(moved)


def _vector_axes(x, axis):
    if axis is None:
        return tuple(range(np.ndim(x)))
    return tuple(a % np.ndim(x) for a in (axis if isinstance(axis, tuple) else (axis,)))


def _back(x, axis):
    """The transposition that undoes ``_as_vectors``' move of the axes."""
    axes = _vector_axes(x, axis)
    order = [a for a in range(np.ndim(x)) if a not in axes] + list(axes)
    return tuple(np.argsort(order))


def _vecdot_tangent(d, other, axis=-1):
    """The batched tangent of ``np.linalg.vecdot`` along one operand, ``d`` its batched
    tangent: the vectors' axis of each moved last (before the directions' of ``d``)."""
    moved = np.moveaxis(d, axis if axis >= 0 else axis - 1, -2)
    return np.einsum("...il,...i->...l", moved, np.moveaxis(other, axis, -1))


def _vecdot_adjoint(g, x, other, axis=-1):
    """The adjoint of ``x`` in ``np.linalg.vecdot(x, other, axis=axis)`` (either operand):
    ``g`` times the other's vectors, summed back over what ``x`` was broadcast along."""
    piece = np.expand_dims(g, -1) * np.moveaxis(other, axis, -1)
    return np.moveaxis(_unbroadcast(piece, np.moveaxis(x, axis, -1)), -1, axis)


def _cross_adjoint(left, right, like, axis=-1):
    """``np.linalg.cross(left, right, axis=axis)`` summed back to the shape of ``like``, the
    operand whose adjoint it is: ``a x b`` sends ``b x g`` to ``a`` and ``g x a`` to ``b``."""
    product = np.cross(np.moveaxis(left, axis, -1), np.moveaxis(right, axis, -1))
    return np.moveaxis(_unbroadcast(product, np.moveaxis(like, axis, -1)), -1, axis)


def _cross_tangent(d_left, right, axis=-1, first=True):
    """The batched tangent of ``np.linalg.cross`` along ``left`` (``first``) or ``right``:
    ``e_ijk`` times the tangent's vectors and the other operand's, directions last."""
    levi_civita = np.zeros((3, 3, 3))
    levi_civita[[0, 1, 2], [1, 2, 0], [2, 0, 1]] = 1.0
    levi_civita[[0, 1, 2], [2, 0, 1], [1, 2, 0]] = -1.0
    moved = np.moveaxis(d_left, axis if axis >= 0 else axis - 1, -2)
    other = np.moveaxis(right, axis, -1)
    spec = "ijk,...jl,...k->...il" if first else "ijk,...kl,...j->...il"
    return np.moveaxis(np.einsum(spec, levi_civita, moved, other), -2,
                       axis if axis >= 0 else axis - 1)


def _unconcatenate(g, arrays, position, axis=0):
    """The piece of ``g`` that ``np.concatenate(arrays, axis)`` took from ``arrays[position]``
    (``axis=None`` joins them flattened)."""
    if axis is None:
        sizes = [np.size(x) for x in arrays]
        start = sum(sizes[:position])
        return np.reshape(g[start:start + sizes[position]], np.shape(arrays[position]))
    axis = axis % np.ndim(g)
    sizes = [np.shape(x)[axis] for x in arrays]
    start = sum(sizes[:position])
    index = (slice(None),) * axis + (slice(start, start + sizes[position]),)
    return g[index]


def _reconcatenate(piece, arrays, position, axis=0):
    """``piece`` in the place of ``arrays[position]`` in their concatenation, zeros elsewhere:
    the adjoint of ``_unconcatenate``."""
    if axis is None:
        parts = [np.ravel(piece) if i == position else np.zeros(np.size(x))
                 for i, x in enumerate(arrays)]
        return np.concatenate(parts)
    return np.concatenate(_with_zeros(piece, arrays, position), axis=axis)


def _with_zeros(piece, arrays, position):
    """``arrays`` with ``piece`` in the place of ``arrays[position]`` and zeros of the shape of
    each of the others: a piece of joined arrays' adjoint, joined back."""
    return [piece if i == position else np.zeros(np.shape(x)) for i, x in enumerate(arrays)]


def _unstack(g, arrays, position, axis=0):
    """The slice of ``g`` that ``np.stack(arrays, axis)`` made of ``arrays[position]``."""
    return np.take(g, position, axis=axis)


def _restack(piece, arrays, position, axis=0):
    """``piece`` in the place of ``arrays[position]`` in their stack, zeros elsewhere."""
    return np.stack(_with_zeros(piece, arrays, position), axis=axis)


def _unhstack(g, arrays, position):
    """The piece of ``g`` that ``np.hstack(arrays)`` took from ``arrays[position]``."""
    pieces = [np.atleast_1d(x) for x in arrays]
    axis = 0 if np.ndim(arrays[0]) <= 1 else 1
    return _unconcatenate(g, pieces, position, axis=axis).reshape(np.shape(arrays[position]))


def _rehstack(piece, arrays, position):
    """``piece`` in the place of ``arrays[position]`` in ``np.hstack(arrays)``, zeros elsewhere."""
    return np.hstack(_with_zeros(piece, arrays, position))


def _unvstack(g, arrays, position):
    """The piece of ``g`` that ``np.vstack(arrays)`` took from ``arrays[position]``."""
    rows = [np.atleast_2d(x) for x in arrays]
    return _unconcatenate(g, rows, position, axis=0).reshape(np.shape(arrays[position]))


def _revstack(piece, arrays, position):
    """``piece`` in the place of ``arrays[position]`` in ``np.vstack(arrays)``, zeros elsewhere."""
    return np.vstack(_with_zeros(piece, arrays, position))


def _as_columns(x):
    """What ``np.column_stack`` joins for ``x``: a vector (or a number) as one column."""
    return np.reshape(x, (-1, 1)) if np.ndim(x) < 2 else x


def _uncolumn_stack(g, arrays, position):
    """The piece of ``g`` that ``np.column_stack(arrays)`` took from ``arrays[position]``."""
    columns = [_as_columns(x) for x in arrays]
    return _unconcatenate(g, columns, position, axis=1).reshape(np.shape(arrays[position]))


def _recolumn_stack(piece, arrays, position):
    """``piece`` in the place of ``arrays[position]`` in ``np.column_stack(arrays)``, zeros
    elsewhere."""
    return np.column_stack(_with_zeros(piece, arrays, position))


def _undstack(g, arrays, position):
    """The piece of ``g`` that ``np.dstack(arrays)`` took from ``arrays[position]``."""
    layers = [np.atleast_3d(x) for x in arrays]
    return _unconcatenate(g, layers, position, axis=2).reshape(np.shape(arrays[position]))


def _redstack(piece, arrays, position):
    """``piece`` in the place of ``arrays[position]`` in ``np.dstack(arrays)``, zeros elsewhere."""
    return np.dstack(_with_zeros(piece, arrays, position))


def _rolled_to(a, axis, start=0):
    """Where ``np.rollaxis(a, axis, start)`` puts ``axis``, as ``np.moveaxis`` counts."""
    ndim = np.ndim(a)
    axis, start = axis % ndim, start + ndim if start < 0 else start
    return start - 1 if axis < start else start


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


def _writable(d_a, a, batched=False):
    """A copy of the tangent ``d_a`` with the whole shape of ``a`` (and the directions, if
    ``batched``), to write into where ``a`` is written into."""
    shape = (*np.shape(a), *(np.shape(d_a)[-1:] if batched else ()))
    return np.array(np.broadcast_to(d_a, shape), dtype=float)


def _check_distinct(index, a):
    """Refuse a write into ``a[index]`` that picks an element twice: NumPy does not say which
    of the values written there it keeps, so the write has no derivative."""
    picked = np.zeros(np.shape(a), dtype=int)
    np.add.at(picked, index, 1)
    if picked.size and picked.max() > 1:
        raise ValueError("the index of a write into an array picks an element more than once: "
                         "which value NumPy keeps there is not defined, nor its derivative")


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


def _roll_tangent(d_a, shift, axis=None):
    """The batched tangent of ``np.roll(a, shift, axis)``: ``axis=None`` rolls ``a`` flattened,
    each direction on its own."""
    if axis is None:
        flat = np.reshape(d_a, (-1, np.shape(d_a)[-1]))
        return np.reshape(np.roll(flat, shift, axis=0), np.shape(d_a))
    return np.roll(d_a, shift, axis=_shifted_axis(axis))


def _diff_tangent(d_a, n=1, axis=-1):
    """The batched tangent of ``np.diff(a, n, axis)``: the axis counted as ``a``'s."""
    return np.diff(d_a, n, axis=_shifted_axis(axis))


def _diagonal_tangent(d_a, offset=0, axis1=0, axis2=1):
    """The batched tangent of ``np.diagonal``: the diagonal's axis before the directions'."""
    diagonal = np.diagonal(d_a, offset, _shifted_axis(axis1), _shifted_axis(axis2))
    return np.moveaxis(diagonal, -1, -2)


def _diag_tangent(d_v, v, k=0):
    """The batched tangent of ``np.diag(v, k)``, each direction on its own."""
    return np.stack([np.diag(d_v[..., j], k) for j in range(np.shape(d_v)[-1])], axis=-1)


def _take_along_tangent(d_arr, indices, axis):
    """The batched tangent of ``np.take_along_axis``: the same values of each direction."""
    if axis is None:
        flat = np.reshape(d_arr, (-1, np.shape(d_arr)[-1]))
        return np.take_along_axis(flat, np.expand_dims(np.asarray(indices), -1), 0)
    return np.take_along_axis(d_arr, np.expand_dims(indices, -1), _shifted_axis(axis))


def _flat_concatenate_tangent(d_arrays):
    """The batched tangent of ``np.concatenate(arrays, axis=None)``: each direction of each
    array flattened, the directions kept apart."""
    return np.concatenate([np.reshape(d, (-1, np.shape(d)[-1])) for d in d_arrays], axis=0)


def _repeat_tangent(d_a, repeats, axis=None):
    """The batched tangent of ``np.repeat(a, repeats, axis)``, each direction on its own."""
    if axis is None:
        return np.repeat(np.reshape(d_a, (-1, np.shape(d_a)[-1])), repeats, axis=0)
    return np.repeat(d_a, repeats, axis=_shifted_axis(axis))


def _cumprod_batched(a, d_a, axis=None):
    """The batched tangent of ``np.cumprod(a, axis)``, each direction on its own."""
    return np.stack([_cumprod_tangent(a, d_a[..., k], axis) for k in range(np.shape(d_a)[-1])],
                    axis=-1)


def _pad_tangent(d_a, a, pad_width, mode="constant"):
    """The batched tangent of ``np.pad(a, pad_width, mode)``: the directions' axis not padded."""
    widths = np.broadcast_to(np.asarray(pad_width), (np.ndim(a), 2)).tolist()
    return np.pad(d_a, [*widths, (0, 0)], mode=_linear_pad(mode))


def _column_stack_tangent(d_arrays, arrays):
    """The batched tangent of ``np.column_stack(arrays)``: a vector's directions one column."""
    return np.concatenate([np.reshape(d, (*np.shape(_as_columns(a)), -1))
                           for d, a in zip(d_arrays, arrays)], axis=1)


def _dstack_tangent(d_arrays, arrays):
    """The batched tangent of ``np.dstack(arrays)``: each array given three axes first."""
    return np.concatenate([np.reshape(d, (*np.shape(np.atleast_3d(a)), -1))
                           for d, a in zip(d_arrays, arrays)], axis=2)


def _select_tangent(condlist, d_choicelist, default=0):
    """The batched tangent of ``np.select(condlist, choicelist, default)``: the conditions
    given the directions' axis, the constant default zeros."""
    zeros = np.expand_dims(np.zeros(np.shape(default)), -1)
    return np.select([np.expand_dims(c, -1) for c in condlist], d_choicelist, zeros)


def _convolve_tangent(d_a, v, mode="full"):
    """The batched tangent of ``np.convolve(a, v, mode)``, each direction on its own."""
    return np.stack([np.convolve(d_a[:, k], v, mode) for k in range(np.shape(d_a)[-1])], -1)


def _trapezoid_x_tangent(y, d_x, axis=-1):
    """The batched tangent of ``np.trapezoid(y, x, axis=axis)`` along ``x``, each direction
    on its own (it is linear in ``x``)."""
    return np.stack([np.trapezoid(y, x=d_x[..., k], axis=axis)
                     for k in range(np.shape(d_x)[-1])], axis=-1)


def _average_weights_tangent(a, d_weights, result, axis=None, weights=None, keepdims=False):
    """The batched tangent of ``np.average(a, axis, weights)`` along ``weights``: the elements'
    distances from the average, weighed by each direction of the weights' tangent."""
    apart = a - _unreduce(result, a, axis=axis, keepdims=keepdims)
    total = np.sum(_spread_weights(a, axis, weights), axis=axis, keepdims=keepdims)
    return np.stack([np.sum(apart * _spread_weights(a, axis, d_weights[..., k]), axis=axis,
                            keepdims=keepdims) / total
                     for k in range(np.shape(d_weights)[-1])], axis=-1)


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


def _outer_tangent_a(d_a, b):
    """The batched tangent of ``np.outer(a, b)`` along ``a``."""
    return np.einsum("ik,j->ijk", np.reshape(d_a, (-1, np.shape(d_a)[-1])), np.ravel(b))


def _outer_tangent_b(a, d_b):
    """The batched tangent of ``np.outer(a, b)`` along ``b``."""
    return np.einsum("i,jk->ijk", np.ravel(a), np.reshape(d_b, (-1, np.shape(d_b)[-1])))


def _einsum_batched(subscripts, k, *operands):
    """The subscripts of ``np.einsum(subscripts, *operands)`` with operand ``k`` replaced by
    its batched tangent: the axis of directions gets a letter of its own, kept last in the
    output (``'ij,jk->ik'`` along ``b``: ``'ij,jkz->ikz'``)."""
    inputs, output = _einsum_parts(subscripts, [np.ndim(x) for x in operands])
    free = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                if c not in "".join(inputs))
    inputs[k] += free
    return ",".join(inputs) + "->" + output + free


def _hstack_tangent(d_arrays, arrays):
    """The batched tangent of ``np.hstack(arrays)``: vectors join along their only axis."""
    axis = 0 if np.ndim(arrays[0]) <= 1 else 1
    return np.concatenate([np.reshape(d, (-1, np.shape(d)[-1])) if np.ndim(a) == 0 else d
                           for d, a in zip(d_arrays, arrays)], axis=axis)


def _vstack_tangent(d_arrays, arrays):
    """The batched tangent of ``np.vstack(arrays)``: a vector (or number) is one row."""
    return np.concatenate([np.reshape(d, (1, -1, np.shape(d)[-1])) if np.ndim(a) < 2 else d
                           for d, a in zip(d_arrays, arrays)], axis=0)



# Zero-safe products and nonsmooth points (the rules in rules/numpy.py say which convention).


def _grouped(a, axis=None):
    """``a`` with the axes a reduction along ``axis`` removes moved last and made one, and the
    function that undoes it: a product of the others is taken along that one axis."""
    a = np.asarray(a, dtype=float)
    axes = tuple(range(a.ndim)) if axis is None else tuple(
        n % a.ndim for n in (axis if isinstance(axis, tuple) else (axis,)))
    moved = np.moveaxis(a, axes, tuple(range(a.ndim - len(axes), a.ndim)))
    kept = moved.shape[:a.ndim - len(axes)]
    grouped = moved.reshape(*kept, -1)

    def back(b):
        return np.moveaxis(np.reshape(b, moved.shape), tuple(range(a.ndim - len(axes), a.ndim)),
                           axes)

    return grouped, back


def _prod_others(a, axis=None):
    """Each element's partial of ``np.prod(a, axis)``: the product of the other elements it is
    multiplied with, as exclusive running products from both ends, so that a zero in ``a`` gives
    the right number (dividing the product by the element would give 0 / 0)."""
    b, back = _grouped(a, axis)
    ones = np.ones((*b.shape[:-1], 1))
    before = np.cumprod(np.concatenate([ones, b[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, b[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return back(before * after)


def _prod_others_along(a, d, axis=None):
    """How ``_prod_others(a, axis)`` changes as ``a`` moves along ``d``: the Jacobian (the
    second derivatives of the product, which is symmetric, so it is also the adjoint) times
    ``d``, from the running products and their tangents, zero-safe as they are."""
    b, back = _grouped(a, axis)
    e, _ = _grouped(np.broadcast_to(d, np.shape(a)), axis)
    n = b.shape[-1]
    before, d_before = np.ones(b.shape), np.zeros(b.shape)
    after, d_after = np.ones(b.shape), np.zeros(b.shape)
    for k in range(1, n):
        before[..., k] = before[..., k - 1] * b[..., k - 1]
        d_before[..., k] = d_before[..., k - 1] * b[..., k - 1] + before[..., k - 1] * e[..., k - 1]
        j = n - 1 - k
        after[..., j] = after[..., j + 1] * b[..., j + 1]
        d_after[..., j] = d_after[..., j + 1] * b[..., j + 1] + after[..., j + 1] * e[..., j + 1]
    return back(d_before * after + before * d_after)


def _power_log(base):
    """``log(base)`` as the derivative of ``base ** y`` along ``y`` uses it: 0 where the base is
    0 (``0 ** y`` is 0 for every ``y > 0``), nan where it is negative (``base ** y`` is real only
    at whole ``y``, so it has no derivative along ``y``), as JAX and autograd give."""
    positive = np.greater(base, 0)
    logs = np.log(np.where(positive, base, 1.0))
    value = np.where(positive, logs, np.where(np.equal(base, 0), 0.0, np.nan))
    return float(value) if np.ndim(value) == 0 else value


def _nonzero(value):
    """``value`` with 1.0 where it is 0: a spread or a norm of 0 divides an adjoint of 0, so
    that the derivative there is 0 (the smallest subgradient), not 0 / 0."""
    safe = np.where(np.equal(value, 0), 1.0, value)
    return float(safe) if np.ndim(safe) == 0 else safe



# Contractions (np.dot, np.inner, np.tensordot) of any shapes, as np.tensordot writes them: the
# axes summed over are found at run time from the operands' numbers of axes.


def _dot_axes(a, b):
    """The axes ``np.dot(a, b)`` sums over: ``a``'s last and ``b``'s second to last (its only
    one for a vector); none where either is a number (``np.dot`` is then a product)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return (), ()
    return (np.ndim(a) - 1,), (max(np.ndim(b) - 2, 0),)


def _inner_axes(a, b):
    """The axes ``np.inner(a, b)`` sums over: the last of each (none for a number)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return (), ()
    return (np.ndim(a) - 1,), (np.ndim(b) - 1,)


def _tensordot_axes(a, b, axes=2):
    """``axes`` of ``np.tensordot(a, b, axes)`` as two tuples of axes counted from 0."""
    if np.ndim(axes) == 0:
        return (tuple(range(np.ndim(a) - int(axes), np.ndim(a))), tuple(range(int(axes))))
    along_a, along_b = (tuple(np.atleast_1d(x).tolist()) for x in axes)
    return (tuple(n % np.ndim(a) for n in along_a), tuple(n % np.ndim(b) for n in along_b))


def _contraction_adjoint_a(g, a, b, axes):
    """The adjoint of ``a`` in ``np.tensordot(a, b, axes)``: ``g`` contracted with ``b`` over
    ``b``'s free axes, the axes put back in ``a``'s order."""
    along_a, along_b = _tensordot_axes(a, b, axes)
    free_a = [n for n in range(np.ndim(a)) if n not in along_a]
    free_b = [n for n in range(np.ndim(b)) if n not in along_b]
    part = np.tensordot(g, b, axes=(tuple(range(len(free_a), np.ndim(g))), tuple(free_b)))
    order = free_a + [along_a[along_b.index(n)] for n in sorted(along_b)]
    return np.reshape(np.transpose(part, np.argsort(order).astype(int)), np.shape(a))


def _contraction_adjoint_b(g, a, b, axes):
    """The adjoint of ``b`` in ``np.tensordot(a, b, axes)``."""
    along_a, along_b = _tensordot_axes(a, b, axes)
    free_a = [n for n in range(np.ndim(a)) if n not in along_a]
    free_b = [n for n in range(np.ndim(b)) if n not in along_b]
    part = np.tensordot(a, g, axes=(tuple(free_a), tuple(range(len(free_a)))))
    order = [along_b[along_a.index(n)] for n in sorted(along_a)] + free_b
    return np.reshape(np.transpose(part, np.argsort(order).astype(int)), np.shape(b))


def _contraction_tangent_a(d_a, a, b, axes):
    """The batched tangent of ``np.tensordot(a, b, axes)`` along ``a``: the axis of directions
    is a free axis of ``d_a``, moved last."""
    along_a, along_b = _tensordot_axes(a, b, axes)
    part = np.tensordot(d_a, b, axes=(along_a, along_b))
    return np.moveaxis(part, np.ndim(a) - len(along_a), -1)


def _contraction_tangent_b(a, d_b, b, axes):
    """The batched tangent of ``np.tensordot(a, b, axes)`` along ``b``: already last."""
    return np.tensordot(a, d_b, axes=_tensordot_axes(a, b, axes))


HELPERS = {
    name: helper for name, helper in globals().items()
    if name.startswith("_") and not name.startswith("__") and callable(helper)
    and getattr(helper, "__module__", None) == __name__
}

# The helpers a rule's templates call on its options to refuse what they cannot differentiate:
# run on literal options when the derivative is made, so the refusal comes then.
OPTION_CHECKS = {helper.__name__: helper for helper in (_linear_pad,)}

# The helpers whose value depends on nothing but their arguments' numbers of dimensions and their
# options: where those are known, the transpiler writes the value in place of the call.
SHAPE_ONLY = {helper.__name__: helper for helper in (
    _reduced_axes, _shifted_axis, _transposed_axes, _dot_axes, _inner_axes, _tensordot_axes,
    _einsum_batched, _rolled_to)}
