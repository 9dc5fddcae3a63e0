"""Helpers that generated files carry with them, written here once as ordinary tested code.

The emitter copies the source of a helper into a generated module that uses it, so the module
still runs without ad-transpile installed.
"""

from __future__ import annotations


def _unbroadcast(value, like):
    """Sum ``value`` down to the shape of ``like``: the adjoint of NumPy broadcasting."""
    shape = getattr(like, "shape", ())
    if getattr(value, "shape", ()) == shape:
        return value
    if shape == ():
        return float(value.sum())
    value = value.sum(axis=tuple(range(value.ndim - len(shape))))
    ones = [i for i, n in enumerate(shape) if n == 1]
    stretched = tuple(i for i in ones if value.shape[i] != 1)
    return value.sum(axis=stretched, keepdims=True) if stretched else value


HELPERS = {"_unbroadcast": _unbroadcast}
