"""Which primitive a single-operation expression applies: ``a * b`` is ``operator.mul``."""

from __future__ import annotations

import gast

BINARY = {
    gast.Add: "operator.add",
    gast.Sub: "operator.sub",
    gast.Mult: "operator.mul",
    gast.Div: "operator.truediv",
    gast.Pow: "operator.pow",
    gast.Mod: "operator.mod",
    gast.FloorDiv: "operator.floordiv",
    gast.MatMult: "operator.matmul",
}
GETITEM = "operator.getitem"  # x[i]: its derivative scatters back (forward and reverse know it)
UNARY = {gast.USub: "operator.neg", gast.UAdd: "operator.pos", gast.Not: "operator.not_"}
COMPARE = {
    gast.Lt: "operator.lt",
    gast.LtE: "operator.le",
    gast.Gt: "operator.gt",
    gast.GtE: "operator.ge",
    gast.Eq: "operator.eq",
    gast.NotEq: "operator.ne",
    gast.Is: "operator.is_",
    gast.IsNot: "operator.is_not",
    gast.In: "operator.contains",
}


def primitive(expr: gast.expr) -> str | None:
    """The qualified name of the operation ``expr`` applies, or None for a plain value."""
    if isinstance(expr, gast.BinOp):
        return BINARY.get(type(expr.op))
    if isinstance(expr, gast.UnaryOp):
        return UNARY.get(type(expr.op))
    if isinstance(expr, gast.Compare):
        return COMPARE.get(type(expr.ops[0]))
    if isinstance(expr, (gast.Call, gast.Attribute)):
        return getattr(expr, "qualname", None)
    if isinstance(expr, gast.Subscript):
        return GETITEM
    return None


def operands(expr: gast.expr) -> list[gast.expr]:
    """The arguments of a single operation, in the order its rule names them."""
    if isinstance(expr, gast.BinOp):
        return [expr.left, expr.right]
    if isinstance(expr, gast.UnaryOp):
        return [expr.operand]
    if isinstance(expr, gast.Compare):
        return [expr.left, *expr.comparators]
    if isinstance(expr, gast.Call) and getattr(expr, "receiver", False):
        return [expr.func.value, *expr.args]  # x.sum(axis=0): x is the first argument
    if isinstance(expr, gast.Call):
        return list(expr.args)
    if isinstance(expr, gast.Attribute) and hasattr(expr, "qualname"):
        return [expr.value]  # x.T
    if isinstance(expr, gast.Subscript):
        return [expr.value, expr.slice]
    return []


def is_constant(expr: gast.expr) -> bool:
    """A number written in the source: ``2``, ``0.5``, ``-1.0``."""
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, (gast.USub, gast.UAdd)):
        return is_constant(expr.operand)
    return (
        isinstance(expr, gast.Constant)
        and isinstance(expr.value, (int, float, complex))
        and not isinstance(expr.value, bool)
    )


def constant_value(expr: gast.expr) -> float | int | complex:
    if isinstance(expr, gast.UnaryOp):
        value = constant_value(expr.operand)
        return -value if isinstance(expr.op, gast.USub) else value
    return expr.value


def make_constant(value: float | int) -> gast.expr:
    """A number as source would write it: a negative one is unary minus on a positive constant."""
    if isinstance(value, bool):
        return gast.Constant(value=value, kind=None)
    if value < 0 or (isinstance(value, float) and str(value).startswith("-")):
        return gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=-value, kind=None))
    return gast.Constant(value=value, kind=None)


def copy_tree(node):
    """A deep copy of a tree (or a list of them), the attributes passes put on nodes included:
    ``copy.deepcopy`` without its memo, which a tree that shares no node does not need, and
    several times faster. The simplify pass copies expressions in every round."""
    if isinstance(node, list):
        return [copy_tree(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    new = node.__class__.__new__(node.__class__)
    new.__dict__.update(
        (key, copy_tree(value) if isinstance(value, (gast.AST, list)) else value)
        for key, value in node.__dict__.items()
    )
    return new


def name(id_: str, store: bool = False) -> gast.Name:
    ctx = gast.Store() if store else gast.Load()
    return gast.Name(id=id_, ctx=ctx, annotation=None, type_comment=None)


def assign(target: str, value: gast.expr) -> gast.Assign:
    return gast.Assign(targets=[name(target, store=True)], value=value, type_comment=None)


def positional_signature(fn: gast.FunctionDef, extra: list[str]) -> gast.arguments:
    """``fn``'s parameters, all positional and without defaults, followed by ``extra`` ones."""
    params = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
    params = [name(p.id) for p in params] + [name(e) for e in extra]
    for param in params:
        param.ctx = gast.Param()
    return gast.arguments(
        args=params, posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
        defaults=[],
    )
