"""Batched tangents as a person writes them, where the value model knows the kinds.

A batched tangent carries a last axis of directions (see ``forward``). Its generic form asks
helpers for what depends on shapes; where the kinds of the values are known, the answer is
written in their place::

    np.expand_dims(1.0 - h * h, -1) * d_t1     ->   (1.0 - h * h)[..., None] * d_t1
    np.expand_dims(2.0, -1) * d_x              ->   2.0 * d_x
    np.sum(d_a, axis=_reduced_axes(a))         ->   np.sum(d_a, axis=(0, 1))   # a: 2-D

A helper in ``runtime.SHAPE_ONLY`` depends on nothing but its arguments' numbers of dimensions
and its options, so it is run here, on stand-ins of those dimensions, and its value written.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import gast
import numpy as np

from ad_transpile import runtime
from ad_transpile.analyze import is_number
from ad_transpile.infer import Kinds
from ad_transpile.primitives import make_constant
from ad_transpile.rule_forms import proven_kind

RUNTIME = "ad_transpile.runtime."


def with_directions(partial: gast.expr, kinds: Kinds, spell: Callable[[str], gast.expr],
                    numbers: set[str] = frozenset()) -> gast.expr:
    """``partial`` given the axis of directions, to multiply a batched tangent: nothing for
    a number, ``partial[..., None]`` for an array, else ``np.expand_dims(partial, -1)``."""
    kind = proven_kind(partial, kinds)
    if kind.is_number or is_number(partial, numbers):
        return partial
    if kind.is_array:
        return _last_axis(partial)
    return gast.Call(func=spell("numpy.expand_dims"), args=[partial, make_constant(-1)],
                     keywords=[])


def specialized(expr: gast.expr, kinds: Kinds, spell: Callable[[str], gast.expr]) -> gast.expr:
    """``expr`` (a batched template written for a call) with every shape-only helper whose
    arguments' kinds are known replaced by its value, ``np.expand_dims(e, -1)`` of an array
    ``e`` written ``e[..., None]``, and the stretched tangent or the zeros of an array in
    plain NumPy (see ``full_tangent``, ``zero_tangent``)."""
    return _Specialize(kinds, spell).visit(expr)


class _Specialize(gast.NodeTransformer):
    def __init__(self, kinds: Kinds, spell: Callable[[str], gast.expr]) -> None:
        self.kinds, self.spell = kinds, spell

    def visit_Call(self, node: gast.Call) -> gast.expr:
        self.generic_visit(node)
        spelled = getattr(node.func, "spelled", None) or ""
        helper = spelled.removeprefix(RUNTIME)
        if spelled.startswith(RUNTIME) and helper in runtime.SHAPE_ONLY:
            value = self.evaluate(helper, node)
            return node if value is _UNKNOWN else _literal(value)
        if helper == "_full_tangent" and spelled.startswith(RUNTIME) \
                and len(node.args) == 2 and not node.keywords:
            return full_tangent(*node.args, self.kinds, self.spell)
        if helper == "_zero_tangent" and spelled.startswith(RUNTIME) \
                and len(node.args) == 2 and not node.keywords:
            return zero_tangent(*node.args, self.kinds, self.spell)
        if spelled == "numpy.expand_dims" and len(node.args) == 2 and not node.keywords \
                and _constant(node.args[1]) == -1 \
                and proven_kind(node.args[0], self.kinds).is_array:
            return _last_axis(node.args[0])
        return node

    def visit_keyword(self, node: gast.keyword) -> gast.keyword:
        self.generic_visit(node)
        value = _constant(node.value)  # axis=(1,) reads as axis=1
        if node.arg == "axis" and isinstance(value, tuple) and len(value) == 1:
            node.value = make_constant(value[0])
        return node

    def evaluate(self, helper: str, call: gast.Call) -> Any:
        """The helper's value for the call, or ``_UNKNOWN`` where an argument is not known."""
        args = [self.stand_in(a) for a in call.args]
        keywords = {k.arg: self.stand_in(k.value) for k in call.keywords}
        if _UNKNOWN in args or _UNKNOWN in keywords.values() or None in keywords:
            return _UNKNOWN
        try:
            value = runtime.SHAPE_ONLY[helper](*args, **keywords)
        except Exception:  # noqa: BLE001 - the call fails at run time too: leave it there
            return _UNKNOWN
        return value if _is_literal(value) else _UNKNOWN

    def stand_in(self, expr: gast.expr) -> Any:
        """A value with ``expr``'s number of dimensions (or ``expr``'s value, a constant)."""
        value = _constant(expr)
        if value is not _UNKNOWN:
            return value
        kind = proven_kind(expr, self.kinds)
        if kind.is_number:
            return 0.0
        if kind.is_array and kind.ndim is not None:
            return np.zeros((1,) * kind.ndim)
        return _UNKNOWN


_UNKNOWN = object()


def _constant(expr: gast.expr) -> Any:
    """The value of a literal number, string, None, or tuple of them; else ``_UNKNOWN``."""
    if isinstance(expr, gast.Constant) and (expr.value is None or type(expr.value) in (
            int, float, bool, str)):
        return expr.value
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        value = _constant(expr.operand)
        return -value if type(value) in (int, float) else _UNKNOWN
    if isinstance(expr, gast.Tuple):
        items = tuple(_constant(e) for e in expr.elts)
        return _UNKNOWN if _UNKNOWN in items else items
    return _UNKNOWN


def _is_literal(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(map(_is_literal, value))
    return value is None or type(value) in (int, str) or isinstance(value, np.integer)


def _literal(value: Any) -> gast.expr:
    if isinstance(value, tuple):
        return gast.Tuple(elts=[_literal(v) for v in value], ctx=gast.Load())
    if value is None or isinstance(value, str):
        return gast.Constant(value=value, kind=None)
    return make_constant(int(value))


def _last_axis(expr: gast.expr) -> gast.expr:
    """``expr[..., None]``: an axis of length one last, where the directions go."""
    index = gast.Tuple(elts=[gast.Constant(value=Ellipsis, kind=None),
                             gast.Constant(value=None, kind=None)], ctx=gast.Load())
    return gast.Subscript(value=copy.deepcopy(expr), slice=index, ctx=gast.Load())


def full_tangent(tangent: gast.expr, value: gast.expr, kinds: Kinds,
                 spell: Callable[[str], gast.expr]) -> gast.expr:
    """``tangent`` stretched to the shape of its ``value`` and the directions: for an array,
    ``np.broadcast_to(d_v, v.shape + d_v.shape[-1:])``; else the runtime helper."""
    if not proven_kind(value, kinds).is_array:
        return gast.Call(func=spell("ad_transpile.runtime._full_tangent"),
                         args=[tangent, value], keywords=[])
    shape = gast.BinOp(left=_attribute(value, "shape"), op=gast.Add(),
                       right=_directions_of(tangent))
    return gast.Call(func=spell("numpy.broadcast_to"), args=[tangent, shape], keywords=[])


def broadcast_like(tangent: gast.expr, value: gast.expr, kinds: Kinds,
                   spell: Callable[[str], gast.expr]) -> gast.expr:
    """A tangent (one direction) that broadcasting may have left smaller than its ``value``,
    stretched to it: ``np.broadcast_to(d_v, v.shape)`` for an array, else the runtime helper
    (which finds whether it must when it runs)."""
    kind = proven_kind(value, kinds)
    if kind.is_number:  # a number made of numbers: so is its tangent
        return tangent
    if not kind.is_array:
        return gast.Call(func=spell("ad_transpile.runtime._broadcast_like"),
                         args=[tangent, value], keywords=[])
    return gast.Call(func=spell("numpy.broadcast_to"),
                     args=[tangent, _attribute(value, "shape")], keywords=[])


def zero_tangent(value: gast.expr, like: gast.expr | None, kinds: Kinds,
                 spell: Callable[[str], gast.expr]) -> gast.expr:
    """Zeros of the shape of ``value`` and as many directions as the batched tangent ``like``
    has (none without it: ``np.zeros(v.shape)``)."""
    kind = proven_kind(value, kinds)
    if like is None and kind.is_array:
        shape: gast.expr = _attribute(value, "shape")
    elif like is not None and kind.is_number:
        shape = _directions_of(like)
    elif like is not None and kind.is_array:
        shape = gast.BinOp(left=_attribute(value, "shape"), op=gast.Add(),
                           right=_directions_of(like))
    else:
        args = [value] if like is None else [value, like]
        return gast.Call(func=spell("ad_transpile.runtime._zero_tangent"), args=args,
                         keywords=[])
    return gast.Call(func=spell("numpy.zeros"), args=[shape], keywords=[])


def _attribute(value: gast.expr, attr: str) -> gast.expr:
    return gast.Attribute(value=copy.deepcopy(value), attr=attr, ctx=gast.Load())


def _directions_of(tangent: gast.expr) -> gast.expr:
    """``d_x.shape[-1:]``: the shape of the axis of directions a batched tangent carries."""
    last = gast.Slice(lower=make_constant(-1), upper=None, step=None)
    return gast.Subscript(value=_attribute(tangent, "shape"), slice=last, ctx=gast.Load())
