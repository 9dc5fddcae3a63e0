"""Derivatives of NumPy's running products and of its functions that pick, add or pad
elements: structural rules (see rules/numpy.py), a tangent, a batched tangent and an adjoint.
"""

import numpy as np

from ad_transpile.rulebook import adjoints, batched_tangents, tangents
from ad_transpile.runtime import _cumprod_batched, _cumprod_tangent, _uncumprod

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
