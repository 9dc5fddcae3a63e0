"""The chain rule's ingredients for one statement: the partial along each active argument."""

from __future__ import annotations

from typing import Callable

import gast

from ad_transpile.analyze import Activity
from ad_transpile.primitives import make_constant, name, operands, primitive
from ad_transpile.registry import Registry


def partial_terms(
    stmt: gast.Assign,
    activity: Activity,
    registry: Registry,
    spell: Callable[[str], gast.expr],
) -> list[tuple[str, gast.expr]]:
    """``(argument, partial)`` for each active argument of ``target = <one operation>``."""
    value = stmt.value
    if isinstance(value, gast.Name):
        return [(value.id, make_constant(1.0))] if activity.is_active(value) else []
    args = arguments(value, registry)
    rule = registry.lookup(primitive(value), len(args))
    result = name(stmt.targets[0].id)
    terms: dict[str, gast.expr] = {}
    for i, arg in enumerate(args):
        if activity.is_active(arg):
            partial = _floats(rule.instantiate(i, args, result, spell))
            if arg.id in terms:  # x * x: both partials go to x
                partial = gast.BinOp(left=terms[arg.id], op=gast.Add(), right=partial)
            terms[arg.id] = partial
    return list(terms.items())


def _floats(partial: gast.expr) -> gast.expr:
    """Write whole numbers in a derivative as floats: ``2.0 * x`` runs faster than ``2 * x``."""
    for node in gast.walk(partial):
        if isinstance(node, gast.Constant) and type(node.value) is int:
            node.value = float(node.value)
    return partial


def arguments(value: gast.expr, registry: Registry) -> list[gast.expr]:
    """The operation's arguments in the order its rule names them, keywords put in place."""
    args = operands(value)
    keywords = getattr(value, "keywords", [])
    if not keywords:
        return args
    rule = registry.lookup(primitive(value), len(args) + len(keywords))
    by_name = {k.arg: k.value for k in keywords}
    return args + [by_name[p] for p in rule.params[len(args):]]


def times(partial: gast.expr, derivative: str) -> gast.expr:
    """``partial * d_y``; the simplifier removes a factor of one."""
    return gast.BinOp(left=partial, op=gast.Mult(), right=name(derivative))
