"""Gradients returned as arrays of their own: a gradient that may be an argument or a view of
one (``d_w = x`` for ``np.sum(w * x)``, once simplify folds ``x * 1.0``) is copied, so that a
caller who changes a gradient in place never changes an argument."""

from __future__ import annotations

import gast

from ad_transpile.array_shapes import Evaluate, Lengths, Shape, qualname_of
from ad_transpile.trees import walk

VIEWS = {"numpy.reshape", "numpy.transpose", "numpy.ravel", "numpy.squeeze", "numpy.asarray",
         "numpy.expand_dims", "numpy.broadcast_to", "numpy.ndarray.reshape", "numpy.swapaxes",
         "numpy.moveaxis", "numpy.atleast_1d", "numpy.atleast_2d", "numpy.atleast_3d",
         "numpy.diagonal", "numpy.flip", "numpy.fliplr", "numpy.flipud", "numpy.rot90",
         "numpy.diag", "numpy.rollaxis", "numpy.permute_dims", "numpy.matrix_transpose"}


def fresh_results(fn: gast.FunctionDef, params: dict[str, Shape]) -> gast.FunctionDef:
    """A gradient that may be an argument or a view of one (``d_w = x`` for ``np.sum(w * x)``
    once ``x * 1.0`` is folded) returned as a copy: the caller may change the gradient in
    place, and must not change its argument so. Only arrays are copied, never numbers."""
    known: dict[str, Shape] = dict(params)
    evaluate = Evaluate(Lengths(), known)
    made: dict[str, gast.expr] = {}
    for stmt in fn.body:
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name):
            known[stmt.targets[0].id] = evaluate(stmt.value)
            made[stmt.targets[0].id] = stmt.value
        elif isinstance(stmt, gast.Return) and stmt.value is not None:
            stmt.value = _fresh(stmt.value, known, made, set(params))
        else:
            for node in walk(stmt):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                    known[node.id] = None
                    made.pop(node.id, None)
    return fn


def _fresh(value: gast.expr, known, made, params) -> gast.expr:
    if isinstance(value, gast.Tuple):
        value.elts = [_fresh(e, known, made, params) for e in value.elts]
        return value
    if not isinstance(value, gast.Name) or not known.get(value.id):
        return value
    source = made.get(value.id)
    view = value.id in params or isinstance(source, (gast.Name, gast.Subscript, gast.Attribute)
                                            ) or (isinstance(source, gast.Call)
                                                  and qualname_of(source) in VIEWS)
    return _copied(value) if view else value


def _copied(value: gast.Name) -> gast.expr:
    method = gast.Attribute(value=value, attr="copy", ctx=gast.Load())
    return gast.Call(func=method, args=[], keywords=[])
