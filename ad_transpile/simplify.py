"""Simplify pass: make generated code read as a person would write it.

Constant folding and algebraic identities (``x * 1.0 -> x``, ``0.0 + x -> x``), propagation of
constants and copies, common subexpressions, a single-use value inlined into ``return``, and dead
code removal, repeated until nothing changes::

    d_x = 1.0                                   def fpr(x):
    _t1 = 3 * x                      ->             return 3.0
    d_t1 = 3 * d_x
    return d_t1
"""

from __future__ import annotations

import copy
import math
from collections import Counter

import gast

from ad_transpile.primitives import constant_value, is_constant, make_constant

FOLDABLE = {
    gast.Add: lambda a, b: a + b,
    gast.Sub: lambda a, b: a - b,
    gast.Mult: lambda a, b: a * b,
    gast.Div: lambda a, b: a / b,
    gast.Pow: lambda a, b: a**b,
}


def simplify(fn: gast.FunctionDef) -> gast.FunctionDef:
    """A simpler function computing the same values."""
    fn = copy.deepcopy(fn)
    before = None
    while before != gast.dump(fn):
        before = gast.dump(fn)
        for stmt in fn.body:
            _Fold().visit(stmt)
        fn.body = _drop_useless_updates(fn.body)
        fn.body = _propagate(fn.body)
        fn.body = _share_common(fn.body)
        fn.body = _inline_into_return(fn.body)
        fn.body = _remove_dead(fn.body)
    return fn


class _Fold(gast.NodeTransformer):
    """Fold constants and apply identities bottom-up in one expression."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, type(node.op)
        if is_constant(left) and is_constant(right) and op in FOLDABLE:
            folded = _evaluate(FOLDABLE[op], constant_value(left), constant_value(right))
            if folded is not None:
                return make_constant(folded)
        return _identity(node, left, right, op) or node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        operand = node.operand
        if isinstance(node.op, gast.UAdd):
            return operand
        if isinstance(node.op, gast.USub):
            if _is_neg(operand):
                return operand.operand
            if is_constant(operand) and not isinstance(operand, gast.Constant):
                return make_constant(-constant_value(operand))
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.Add) and _is_neg(node.value):
            node.op, node.value = gast.Sub(), node.value.operand
        elif isinstance(node.op, gast.Add) and is_constant(node.value) and _value(node.value) < 0:
            node.op, node.value = gast.Sub(), make_constant(-_value(node.value))
        return node


def _identity(node, left, right, op):
    """``x * 1 -> x``, ``0 + x -> x``, ``-1 * x -> -x``, ``a + -b -> a - b`` and friends."""
    lv, rv = _value(left), _value(right)
    if op is gast.Mult:
        if rv == 1:
            return left
        if lv == 1:
            return right
        if lv == 0 or rv == 0:
            return make_constant(0.0)
        if rv == -1:
            return _neg(left)
        if lv == -1:
            return _neg(right)
    if op is gast.Add:
        if rv == 0:
            return left
        if lv == 0:
            return right
        if _is_neg(right):
            return gast.BinOp(left=left, op=gast.Sub(), right=right.operand)
        if gast.dump(left) == gast.dump(right):
            return gast.BinOp(left=make_constant(2), op=gast.Mult(), right=left)
    if op is gast.Sub:
        if rv == 0:
            return left
        if lv == 0:
            return _neg(right)
        if _is_neg(right):
            return gast.BinOp(left=left, op=gast.Add(), right=right.operand)
    if op is gast.Div and rv == 1:
        return left
    if op is gast.Pow and rv == 1:
        return left
    return None


def _value(expr):
    return constant_value(expr) if is_constant(expr) else None


def _is_neg(expr) -> bool:
    return isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub)


def _neg(expr):
    if is_constant(expr):
        return make_constant(-constant_value(expr))
    if _is_neg(expr):
        return expr.operand
    return gast.UnaryOp(op=gast.USub(), operand=expr)


def _evaluate(fold, a, b):
    try:
        value = fold(a, b)
    except (ArithmeticError, ValueError):
        return None
    if isinstance(value, complex) or not math.isfinite(value) or abs(value) > 1e15:
        return None
    return value


# statements


def _target(stmt) -> str | None:
    if isinstance(stmt, (gast.Assign, gast.AugAssign)):
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
        return target.id if isinstance(target, gast.Name) else None
    return None


def _reads(node) -> list[str]:
    value = node.value if isinstance(node, (gast.Assign, gast.AugAssign, gast.Return)) else node
    names = [n.id for n in gast.walk(value) if isinstance(n, gast.Name)] if value else []
    if isinstance(node, gast.AugAssign):
        names.append(node.target.id)
    return names


def _writes(body) -> Counter:
    return Counter(_target(s) for s in body if _target(s))


def _drop_useless_updates(body):
    """``d_x += 0.0`` adds nothing."""
    return [
        s for s in body
        if not (isinstance(s, gast.AugAssign) and is_constant(s.value) and _value(s.value) == 0)
    ]


def _propagate(body):
    """Replace a name assigned once with its value when that value is a constant or a name."""
    writes = _writes(body)
    for i, stmt in enumerate(body):
        target = _target(stmt)
        if not isinstance(stmt, gast.Assign) or writes[target] != 1:
            continue
        value = stmt.value
        if isinstance(value, gast.Name) and writes[value.id] and any(
            _target(s) == value.id for s in body[i + 1 :]
        ):
            continue
        if is_constant(value) or isinstance(value, gast.Name):
            for later in body[i + 1 :]:
                _Replace(target, value).visit(later)
    return body


class _Replace(gast.NodeTransformer):
    def __init__(self, name: str, value: gast.expr) -> None:
        self.name, self.value = name, value

    def visit_Name(self, node):
        if node.id == self.name and isinstance(node.ctx, gast.Load):
            return copy.deepcopy(self.value)
        return node


def _share_common(body):
    """A value computed twice is computed once: the second becomes a copy of the first."""
    writes = _writes(body)
    seen: dict[str, tuple[int, str]] = {}
    for i, stmt in enumerate(body):
        if isinstance(stmt, gast.Assign) and writes[_target(stmt)] == 1:
            value = stmt.value
            if isinstance(value, gast.Name) or is_constant(value):
                continue
            key = gast.dump(value)
            if key in seen:
                j, first = seen[key]
                changed = {_target(s) for s in body[j + 1 : i]}
                if not changed & set(_reads(stmt)):
                    stmt.value = gast.Name(id=first, ctx=gast.Load(), annotation=None,
                                           type_comment=None)
                    continue
            seen[key] = (i, _target(stmt))
    return body


def _inline_into_return(body):
    """``v = expr; return v`` reads better as ``return expr`` when nothing else uses ``v``."""
    if len(body) < 2:
        return body
    last, before = body[-1], body[-2]
    if (
        isinstance(last, gast.Return)
        and isinstance(last.value, gast.Name)
        and isinstance(before, gast.Assign)
        and _target(before) == last.value.id
        and _writes(body)[last.value.id] == 1
        and sum(1 for s in body for n in _reads(s) if n == last.value.id) == 1
    ):
        return [*body[:-2], gast.copy_location(gast.Return(value=before.value), last)]
    return body


def _remove_dead(body):
    """Drop assignments whose value is never read (every expression here is pure)."""
    live: set[str] = set()
    kept = []
    for stmt in reversed(body):
        target = _target(stmt)
        if target is not None and target not in live:
            continue
        if isinstance(stmt, gast.Assign):
            live.discard(target)
        live.update(_reads(stmt))
        kept.append(stmt)
    return kept[::-1]
