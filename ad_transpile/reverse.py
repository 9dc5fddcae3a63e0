"""Reverse pass: the primal sweep, then an adjoint sweep that walks the statements backwards.

For every active ``y = op(a, b)``, read from the last to the first, each active argument receives
its partial derivative times the adjoint of ``y`` (backpropagation)::

    y = math.sin(x)          ->     y = math.sin(x)
    return y                        d_y = 1.0
                                    d_x = math.cos(x) * d_y
                                    return d_x

The first contribution to an adjoint assigns it, later ones add to it; nothing starts at zero
unless nothing reaches it.
"""

from __future__ import annotations

from typing import Callable

import gast

from ad_transpile.analyze import Activity
from ad_transpile.chain import partial_terms, times
from ad_transpile.names import Namer
from ad_transpile.primitives import assign, make_constant, name, positional_signature
from ad_transpile.registry import Registry


def reverse(
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
    """The adjoint function of ``fn``: returns the adjoints of ``wrt`` (and the result)."""
    primal = [s for s in fn.body if isinstance(s, gast.Assign)]
    ret = next(s for s in fn.body if isinstance(s, gast.Return))
    sweep = _AdjointSweep(namer)
    seed = namer.derivative(ret.value.id) if isinstance(ret.value, gast.Name) else None
    if activity.is_active(ret.value):
        if seeded:
            sweep.accumulate(ret.value.id, make_constant(1.0), ret)
        else:
            sweep.started.add(ret.value.id)
    for stmt in reversed(primal):
        target = stmt.targets[0].id
        if target in activity.active and target in sweep.started:
            for arg, partial in partial_terms(stmt, activity, registry, spell):
                sweep.accumulate(arg, times(partial, namer.derivative(target)), stmt)
    for w in wrt:
        if w not in sweep.started:
            sweep.accumulate(w, make_constant(0.0), ret)
    adjoints = [name(namer.derivative(w)) for w in wrt]
    grads = adjoints[0] if len(adjoints) == 1 else gast.Tuple(elts=adjoints, ctx=gast.Load())
    result = gast.Tuple(elts=[ret.value, grads], ctx=gast.Load()) if returns_value else grads
    body = [*primal, *sweep.body, gast.copy_location(gast.Return(value=result), ret)]
    if seeded:
        args = fn.args
    else:
        args = positional_signature(fn, [seed or namer.fresh("d_result")])
    return gast.FunctionDef(
        name=fn.name, args=args, body=body, decorator_list=[], returns=None,
        type_comment=None, type_params=[], lineno=fn.lineno, col_offset=fn.col_offset,
    )


class _AdjointSweep:
    """Collects adjoint statements, assigning each adjoint first and adding to it after."""

    def __init__(self, namer: Namer) -> None:
        self.namer = namer
        self.body: list[gast.stmt] = []
        self.started: set[str] = set()

    def accumulate(self, var: str, contribution: gast.expr, where: gast.AST) -> None:
        adjoint = self.namer.derivative(var)
        if var in self.started:
            stmt = gast.AugAssign(
                target=name(adjoint, store=True), op=gast.Add(), value=contribution
            )
        else:
            stmt = assign(adjoint, contribution)
            self.started.add(var)
        self.body.append(gast.copy_location(stmt, where))
