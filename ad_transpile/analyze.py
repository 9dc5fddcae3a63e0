"""Analyze pass: which variables are active, that is depend on ``wrt`` and reach the result.

Only active variables get a tangent or an adjoint. In ``y = x * c; n = round(x); return y + n``
with ``wrt=x``, ``y`` is active; ``n`` is not (``round`` carries no derivative), nor is ``c``.
"""

from __future__ import annotations

from dataclasses import dataclass

import gast

from ad_transpile import errors
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import operands, primitive
from ad_transpile.registry import Registry


@dataclass
class Activity:
    varied: set[str]
    useful: set[str]

    @property
    def active(self) -> set[str]:
        return self.varied & self.useful

    def is_active(self, expr: gast.expr) -> bool:
        return isinstance(expr, gast.Name) and expr.id in self.active


def analyze(
    fn: gast.FunctionDef, wrt: list[str], registry: Registry, parsed: ParsedFunction
) -> Activity:
    """Find the active variables of a normalized function, checking every active call has a rule."""
    assigns = [s for s in fn.body if isinstance(s, gast.Assign)]
    varied = set(wrt)
    for stmt in assigns:
        if _carries_derivative(stmt.value, registry) and _reads(stmt.value) & varied:
            varied.add(stmt.targets[0].id)
    useful = set()
    for stmt in fn.body:
        if isinstance(stmt, gast.Return):
            useful |= _reads(stmt.value)
    for stmt in reversed(assigns):
        if stmt.targets[0].id in useful:
            useful |= _reads(stmt.value)
    activity = Activity(varied, useful)
    for stmt in assigns:
        if stmt.targets[0].id in activity.active:
            _check_rule(stmt.value, registry, parsed)
    return activity


def _reads(expr: gast.expr) -> set[str]:
    return {n.id for n in gast.walk(expr) if isinstance(n, gast.Name)}


def _carries_derivative(value: gast.expr, registry: Registry) -> bool:
    name = primitive(value)
    return name is None or name not in registry.nondifferentiable


def _check_rule(value: gast.expr, registry: Registry, parsed: ParsedFunction) -> None:
    name = primitive(value)
    if name is None:
        return
    arity = len(operands(value)) + len(getattr(value, "keywords", []))
    if registry.lookup(name, arity) is not None:
        return
    shown = name.removeprefix("builtins.").removeprefix("<user>.")
    if name.startswith("<user>."):
        raise parsed.error(
            errors.Unsupported, value, construct=f"calling your function '{shown}'",
            why="calls to user functions are not differentiated yet",
        )
    if registry.knows(name):
        raise parsed.error(
            errors.Unsupported, value, construct=f"calling '{shown}' with {arity} argument(s)",
            why="its derivative rule takes a different number of arguments",
        )
    raise parsed.error(errors.NoRule, value, name=shown)
