"""Local functions of one expression, written where they are called.

``f = lambda s: a * s * s`` or ``def f(s): return a * s * s``, defined once in the function and
only ever called (``f(t) + f(2.0 * t)``), is the expression itself at each call:
``a * t * t + a * (2.0 * t) * (2.0 * t)``. Python reads ``a`` when ``f`` is called, in the
scope of the function that defines it, so the expression reads the same values where the call
was; the rest of the pipeline then sees ordinary arithmetic. A local function used any other
way (passed to ``map``, returned, with defaults or ``*args``, called inside a comprehension,
or with an argument that might do something when evaluated twice) is left for the refusal
that names it.
"""

from __future__ import annotations

import copy
from typing import Callable

import gast

from ad_transpile.trees import walk

PURE = (gast.Name, gast.Constant, gast.BinOp, gast.UnaryOp, gast.Attribute, gast.Subscript,
        gast.Tuple, gast.Slice, gast.Compare, gast.IfExp, gast.BoolOp)
SCOPES = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp, gast.Lambda,
          gast.FunctionDef)


def inline_local_functions(fn: gast.FunctionDef,
                           qualify: Callable[[gast.expr], str | None]) -> gast.FunctionDef:
    """``fn`` with each local function of one expression written where it is called;
    ``qualify`` names what a call calls (``numpy.sin``)."""
    for name, definition, params, body in _local_functions(fn):
        calls = _calls_of(fn, name, definition)
        if calls is None or not all(len(c.args) == len(params) and not c.keywords
                                    and all(_pure(a, qualify) for a in c.args) for c in calls):
            continue
        for call in calls:
            expression = Substitute(dict(zip(params, call.args))).visit(copy.deepcopy(body))
            _replace(fn, call, gast.copy_location(expression, call))
        _remove(fn, definition)
    return fn


def _local_functions(fn: gast.FunctionDef):
    """``(name, statement, parameters, expression)`` of each local function of one expression
    defined once in ``fn``'s own body (not under a branch or loop)."""
    assigned = [n.id for n in walk(fn) if isinstance(n, gast.Name)  # any binding: a loop's too
                and isinstance(n.ctx, (gast.Store, gast.Del))]
    assigned += [s.name for s in walk(fn) if isinstance(s, gast.FunctionDef) and s is not fn]
    for stmt in list(fn.body):
        found = _one_expression(stmt)
        if found is not None and assigned.count(found[0]) == 1:
            yield found


def _one_expression(stmt: gast.stmt) -> tuple[str, gast.stmt, list[str], gast.expr] | None:
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Lambda):
        params = plain_parameters(stmt.value.args)
        body = stmt.value.body
        name = stmt.targets[0].id
    elif isinstance(stmt, gast.FunctionDef) and not stmt.decorator_list and not stmt.returns:
        params = plain_parameters(stmt.args)
        body_stmts = stmt.body[1:] if _is_docstring(stmt.body[0]) else stmt.body
        if len(body_stmts) != 1 or not isinstance(body_stmts[0], gast.Return) \
                or body_stmts[0].value is None:
            return None
        body, name = body_stmts[0].value, stmt.name
    else:
        return None
    if params is None or any(isinstance(n, SCOPES) for n in walk(body)):
        return None
    if any(isinstance(n, gast.Name) and n.id == name for n in walk(body)):
        return None  # recursive
    return name, stmt, params, body


def plain_parameters(args: gast.arguments) -> list[str] | None:
    if args.vararg or args.kwarg or args.kwonlyargs or args.defaults or args.posonlyargs:
        return None
    names = [a.id for a in args.args]
    return names if len(set(names)) == len(names) else None


def _is_docstring(stmt: gast.stmt) -> bool:
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant) \
        and isinstance(stmt.value.value, str)


def _calls_of(fn: gast.FunctionDef, name: str, definition: gast.stmt) -> list[gast.Call] | None:
    """Every call of ``name`` in ``fn`` after its definition, or None where ``name`` is read
    in any other way, before it is defined, or inside a comprehension or another scope."""
    inside_definition = {id(n) for n in walk(definition)}
    calls, callees = [], set()
    for node in walk(fn):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
                and node.func.id == name:
            calls.append(node)
            callees.add(id(node.func))
    for node in walk(fn):
        if isinstance(node, SCOPES) and node is not fn and id(node) not in inside_definition \
                and any(isinstance(n, gast.Name) and n.id == name for n in walk(node)):
            return None
    reads = [n for n in walk(fn) if isinstance(n, gast.Name) and n.id == name
             and isinstance(n.ctx, gast.Load) and id(n) not in inside_definition]
    if any(id(n) not in callees for n in reads):
        return None
    position = fn.body.index(definition)
    later = {id(n) for s in fn.body[position + 1:] for n in walk(s)}
    return calls if all(id(c) in later for c in calls) else None


def _pure(expr: gast.expr, qualify: Callable[[gast.expr], str | None]) -> bool:
    """An argument that gives the same value however often it is written out: no call but of
    ``math`` and NumPy functions of its other parts."""
    for node in walk(expr):
        if isinstance(node, gast.Call):
            called = qualify(node.func) or ""
            if not called.startswith(("math.", "numpy.")) or called.startswith("numpy.random."):
                return False  # (a random draw written twice would be two draws)
        elif isinstance(node, gast.expr) and not isinstance(node, PURE):
            return False
    return True


class Substitute(gast.NodeTransformer):
    """Each read of a parameter becomes (a copy of) its argument."""

    def __init__(self, arguments: dict[str, gast.expr]) -> None:
        self.arguments = arguments

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in self.arguments:
            return copy.deepcopy(self.arguments[node.id])
        return node


def _replace(fn: gast.FunctionDef, old: gast.expr, new: gast.expr) -> None:
    for node in walk(fn):
        for field_, value in gast.iter_fields(node):
            if value is old:
                setattr(node, field_, new)
                return
            if isinstance(value, list) and any(v is old for v in value):
                value[[i for i, v in enumerate(value) if v is old][0]] = new
                return


def _remove(fn: gast.FunctionDef, definition: gast.stmt) -> None:
    fn.body = [s for s in fn.body if s is not definition]
