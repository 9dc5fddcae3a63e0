"""Derivatives of the helpers that generated NumPy code calls, so that it can be differentiated
again (a Hessian-vector product is forward mode over the reverse-mode gradient).

Each helper is linear in the adjoint it receives (and ``a @ b``'s in the other operand too); an
argument that only gives a shape has no derivative (``None``).
"""

import numpy as np

from ad_transpile.rulebook import adjoints, nondifferentiable, tangents
from ad_transpile.runtime import (
    _centered,
    _dot_adjoint_a,
    _dot_adjoint_b,
    _extreme_mask,
    _matmul_adjoint_a,
    _matmul_adjoint_b,
    _uncumsum,
    _unreduce,
    _untile,
)


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


@tangents(_dot_adjoint_a)
def dot_adjoint_a_tangent(g, a, b, *, d_g, d_b):
    return _dot_adjoint_a(d_g, a, b), None, _dot_adjoint_a(g, a, d_b)


@adjoints(_dot_adjoint_a)
def dot_adjoint_a_adjoint(g, a, b, *, d_result):
    return np.dot(d_result, b), None, _dot_adjoint_b(g, d_result, b)


@tangents(_dot_adjoint_b)
def dot_adjoint_b_tangent(g, a, b, *, d_g, d_a):
    return _dot_adjoint_b(d_g, a, b), _dot_adjoint_b(g, d_a, b), None


@adjoints(_dot_adjoint_b)
def dot_adjoint_b_adjoint(g, a, b, *, d_result):
    return np.dot(a, d_result), _dot_adjoint_a(g, a, d_result), None


@tangents(_uncumsum)
def uncumsum_tangent(g, a, axis=None, *, d_g):
    return _uncumsum(d_g, a, axis=axis), None


@adjoints(_uncumsum)
def uncumsum_adjoint(g, a, axis=None, *, d_result):
    return np.cumsum(d_result, axis=axis), None


@tangents(_untile)
def untile_tangent(g, a, reps, *, d_g):
    return _untile(d_g, a, reps), None, None


@adjoints(_untile)
def untile_adjoint(g, a, reps, *, d_result):
    return np.tile(d_result, reps), None, None


nondifferentiable(_extreme_mask)
