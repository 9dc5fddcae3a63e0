"""Simplify pass: make generated code read as a person would write it.

Constant folding and algebraic identities (``x * 1.0 -> x``, ``0.0 + x -> x``), propagation of
constants and copies, ``d += e`` on a known zero becoming ``d = e``, common subexpressions, a
single-use value inlined into ``return``, and dead code removal, repeated until nothing changes.
Everything but folding follows the branches and loops (see ``dataflow``)::

    d_x = 1.0                                   def fpr(x):
    _t1 = 3 * x                      ->             return 3.0
    d_t1 = 3 * d_x
    return d_t1
"""

from __future__ import annotations

import math

import gast

from ad_transpile.copies import propagate, share_common, store_counts
from ad_transpile.dataflow import children, fingerprint
from ad_transpile.explain import carry_notes
from ad_transpile.inlining import fold_signs, inline_into_return, inline_single_uses
from ad_transpile.known_zeros import assign_known_zeros, write_into_zeros
from ad_transpile.liveness import remove_dead
from ad_transpile.primitives import (
    constant_value,
    copy_tree,
    is_constant,
    make_constant,
    negative,
)
from ad_transpile.sums import merge_sums

FOLDABLE = {
    gast.Add: lambda a, b: a + b,
    gast.Sub: lambda a, b: a - b,
    gast.Mult: lambda a, b: a * b,
    gast.Div: lambda a, b: a / b,
    gast.Pow: lambda a, b: a**b,
}


def simplify(fn: gast.FunctionDef, named: frozenset[str] = frozenset()) -> gast.FunctionDef:
    """A simpler function computing the same values; the values the source ``named`` keep
    their names (they are what a reader looks for), temporaries used once are inlined."""
    fn = copy_tree(fn)
    after = fingerprint(fn)
    before = None
    while before != after:
        before = after
        in_place = _written_in_place(fn)
        for stmt in fn.body:
            _Fold(in_place).visit(stmt)
        fn.body = assign_known_zeros(fn.body)
        fn.body = write_into_zeros(fn.body)
        counts = store_counts(fn.body)  # the next four rewrite values, never stores
        fn.body = propagate(fn.body, counts)
        fn.body = fold_signs(fn.body, _absorbed_sign, counts)
        fn.body = share_common(fn.body, counts)
        fn.body = inline_into_return(fn.body)
        fn.body = inline_single_uses(fn.body, named, counts=counts)
        fn.body = merge_sums(fn.body)
        fn.body = remove_dead(fn.body)
        after = fingerprint(fn)
    return fn


def _absorbed_sign(use: gast.expr, folded: gast.expr) -> gast.expr | None:
    """``folded`` simplified, if it costs no more operations than ``use`` did: the sign or the
    factor folded into it became a subtraction or a constant (``a - b``, ``-2.0 * x``)."""
    before = None
    while before != gast.dump(folded):
        before = gast.dump(folded)
        folded = _Fold().visit(folded)
    return folded if _operations(folded) <= _operations(use) else None


def _operations(expr: gast.expr) -> int:
    return sum(1 for n in children(expr) if isinstance(n, (gast.BinOp, gast.Call, gast.Compare))
               or (_is_neg(n) and not isinstance(n.operand, gast.Constant)))


def _written_in_place(fn: gast.FunctionDef) -> set[str]:
    """Names whose array is written into (``y[i] += v``, ``np.add.at(y, i, v)``)."""
    written = set()
    for node in children(fn):
        if isinstance(node, (gast.AugAssign, gast.Assign)):
            targets = node.targets if isinstance(node, gast.Assign) else [node.target]
            written |= {t.value.id for t in targets if isinstance(t, gast.Subscript)
                        and isinstance(t.value, gast.Name)}
        if isinstance(node, gast.Call) and getattr(node, "qualname", None) == "numpy.add.at" \
                and node.args and isinstance(node.args[0], gast.Name):
            written.add(node.args[0].id)
    return written


class _Fold(gast.NodeTransformer):
    """Fold constants and apply identities bottom-up in one expression.

    ``y = x * 1.0`` stays when ``y`` is written into: ``y = x`` would make ``y[0] += v``
    write into ``x`` too.
    """

    def __init__(self, in_place: set[str] = frozenset()) -> None:
        self.in_place = in_place

    def visit(self, node):
        result = super().visit(node)
        if result is not node and isinstance(result, gast.AST):
            carry_notes(node, result)  # explain mode's rule notes live on the nodes
        return result

    def visit_Assign(self, node):
        value = node.value
        self.generic_visit(node)
        target = node.targets[0] if len(node.targets) == 1 else None
        if isinstance(target, gast.Name) and target.id in self.in_place \
                and isinstance(node.value, gast.Name) and not isinstance(value, gast.Name):
            node.value = value  # its operands folded, itself not made a second name
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, type(node.op)
        if is_constant(left) and is_constant(right) and op in FOLDABLE:
            folded = _evaluate(FOLDABLE[op], constant_value(left), constant_value(right))
            if folded is not None:
                return make_constant(folded)
        return _identity(node, left, right, op) or node

    def visit_Subscript(self, node):
        """``e[...]`` reads all of ``e`` (a rule's piece of a whole array): ``e``."""
        self.generic_visit(node)
        if isinstance(node.ctx, gast.Load) and isinstance(node.slice, gast.Constant) \
                and node.slice.value is Ellipsis:
            return node.value
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        operand = node.operand
        if isinstance(node.op, gast.UAdd):
            return operand
        if isinstance(node.op, gast.USub):
            if _is_neg(operand):
                return operand.operand
            if (isinstance(operand, gast.BinOp) and isinstance(operand.op, gast.Mult)
                    and is_constant(operand.left)):  # -(2.0 * x) -> -2.0 * x
                return gast.BinOp(left=_neg(operand.left), op=gast.Mult(), right=operand.right)
            if is_constant(operand) and not isinstance(operand, gast.Constant):
                return make_constant(-constant_value(operand))
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (gast.Add, gast.Sub)) and _negated(node.value) is not None:
            node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
            node.value = _negated(node.value)
        return node


def _common_factor(left: gast.expr, right: gast.expr) -> bool:
    """``a * d`` and ``b * d``, the same name ``d`` (an adjoint or a tangent the chain rule
    multiplied each partial by): one product of the sum, as a person writes it."""
    return all(isinstance(e, gast.BinOp) and isinstance(e.op, gast.Mult)
               and isinstance(e.right, gast.Name) for e in (left, right)) \
        and left.right.id == right.right.id and not is_constant(left.left) \
        and not is_constant(right.left)


def _identity(node, left, right, op):
    """``x * 1 -> x``, ``0 + x -> x``, ``-1 * x -> -x``, ``a + -b -> a - b`` and friends."""
    lv, rv = _value(left), _value(right)
    if op is gast.Mult:
        folded = _fold_factors(left, right)
        if folded is not None:
            return folded
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
        if _is_neg(right):  # a * -b -> -(a * b)
            return _neg(gast.BinOp(left=left, op=gast.Mult(), right=right.operand))
    if op in (gast.Add, gast.Sub) and _common_factor(left, right):  # a * d + b * d
        inner = gast.BinOp(left=left.left, op=op(), right=right.left)
        return gast.BinOp(left=inner, op=gast.Mult(), right=left.right)
    if op is gast.Add:
        if rv == 0:
            return left
        if lv == 0:
            return right
        if _negated(right) is not None:  # a + -b -> a - b
            return gast.BinOp(left=left, op=gast.Sub(), right=_negated(right))
        if _negated(left) is not None and not is_constant(right):  # -a + b -> b - a
            return gast.BinOp(left=right, op=gast.Sub(), right=_negated(left))
        if gast.dump(left) == gast.dump(right):
            return gast.BinOp(left=make_constant(2.0), op=gast.Mult(), right=left)
    if op is gast.Sub:
        if rv == 0:
            return left
        if lv == 0:
            return _neg(right)
        if _negated(right) is not None:
            return gast.BinOp(left=left, op=gast.Add(), right=_negated(right))
    if op is gast.Mult and _reciprocal(left) is not None:  # 1.0 / a * b -> b / a
        return gast.BinOp(left=right, op=gast.Div(), right=_reciprocal(left))
    if op is gast.Mult and _reciprocal(right) is not None:
        return gast.BinOp(left=left, op=gast.Div(), right=_reciprocal(right))
    if op is gast.Div and rv == 1:
        return left
    if op is gast.Pow and rv == 1:
        return left
    if op is gast.Pow and rv == 0:
        return make_constant(1.0)
    return None


def _fold_factors(left, right):
    """``(2.0 * x) * 100.0 -> 200.0 * x``: two constant factors of a product become one."""
    outer, inner = (left, right) if is_constant(left) else (right, left)
    if not is_constant(outer) or not isinstance(inner, gast.BinOp) or not isinstance(
            inner.op, gast.Mult) or not is_constant(inner.left) or is_constant(inner.right):
        return None
    factor = _evaluate(FOLDABLE[gast.Mult], constant_value(outer), constant_value(inner.left))
    if factor is None:
        return None
    return gast.BinOp(left=make_constant(factor), op=gast.Mult(), right=inner.right)


def _negated(expr):
    """``e`` for an expression that reads as ``-e``: ``-e`` itself, or a product or quotient
    whose first factor is negated (``-a * b``, ``-2.0 * b``); the same number, exactly."""
    if _is_neg(expr) and not is_constant(expr):
        return expr.operand
    if is_constant(expr):
        return make_constant(-constant_value(expr)) if constant_value(expr) < 0 else None
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Mult, gast.Div)):
        first = _negated(expr.left)
        if first is not None:
            if _value(first) == 1 and isinstance(expr.op, gast.Mult):
                return expr.right
            return gast.BinOp(left=first, op=expr.op, right=expr.right)
    return None


def _reciprocal(expr):
    """``a`` for ``1.0 / a``."""
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Div) and _value(expr.left) == 1:
        return expr.right
    return None


def _value(expr):
    return constant_value(expr) if is_constant(expr) else None


def _is_neg(expr) -> bool:
    return isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub)


def _neg(expr):
    return negative(expr)


def _evaluate(fold, a, b):
    try:
        value = fold(a, b)
    except (ArithmeticError, ValueError):
        return None
    if isinstance(value, complex) or not math.isfinite(value) or abs(value) > 1e15:
        return None
    return value
