"""Forward pass: carry a tangent ``d_v`` beside every active ``v`` (forward-mode differentiation).

Each active statement is followed by its tangent, the sum over active arguments of the partial
derivative times the argument's tangent::

    y = math.sin(x)          ->     y = math.sin(x)
                                    d_y = math.cos(x) * d_x

The tangents of ``wrt`` are either parameters (a Jacobian-vector product) or seeded with 1.0.
"""

from __future__ import annotations

from typing import Callable

import gast

from ad_transpile.analyze import Activity
from ad_transpile.chain import partial_terms, times
from ad_transpile.names import Namer
from ad_transpile.primitives import assign, make_constant, name, positional_signature
from ad_transpile.registry import Registry


def forward(
    fn: gast.FunctionDef,
    wrt: list[str],
    activity: Activity,
    registry: Registry,
    spell: Callable[[str], gast.expr],
    namer: Namer,
    *,
    seeded: bool,
    returns_value: bool,
) -> gast.FunctionDef:
    """The tangent function of ``fn``: returns the tangent of the result (and the result)."""
    body: list[gast.stmt] = []
    tangents = [namer.derivative(w) for w in wrt]
    if seeded:
        body += [gast.copy_location(assign(t, make_constant(1.0)), fn) for t in tangents]
    for stmt in fn.body:
        if isinstance(stmt, gast.Return):
            body.append(_return(stmt, activity, namer, returns_value))
            continue
        body.append(stmt)
        target = stmt.targets[0].id
        if target in activity.active:
            terms = partial_terms(stmt, activity, registry, spell)
            tangent = _sum([times(p, namer.derivative(arg)) for arg, p in terms])
            body.append(gast.copy_location(assign(namer.derivative(target), tangent), stmt))
    args = fn.args if seeded else positional_signature(fn, tangents)
    return gast.FunctionDef(
        name=fn.name, args=args, body=body, decorator_list=[], returns=None,
        type_comment=None, type_params=[], lineno=fn.lineno, col_offset=fn.col_offset,
    )


def _return(stmt: gast.Return, activity: Activity, namer: Namer, returns_value: bool):
    value = stmt.value
    if activity.is_active(value):
        tangent: gast.expr = name(namer.derivative(value.id))
    else:
        tangent = make_constant(0.0)
    result = gast.Tuple(elts=[value, tangent], ctx=gast.Load()) if returns_value else tangent
    return gast.copy_location(gast.Return(value=result), stmt)


def _sum(terms: list[gast.expr]) -> gast.expr:
    total = terms[0]
    for term in terms[1:]:
        total = gast.BinOp(left=total, op=gast.Add(), right=term)
    return total
