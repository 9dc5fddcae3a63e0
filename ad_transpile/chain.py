"""The chain rule's ingredients for one statement: the partial along each active argument."""

from __future__ import annotations

import copy
from typing import Callable

import gast

from ad_transpile.analyze import Activity
from ad_transpile.explain import describe, describe_structural, noted
from ad_transpile.primitives import make_constant, name, operands, primitive
from ad_transpile.registry import Registry, Rule
from ad_transpile.rule_forms import form_for
from ad_transpile.trees import walk


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
    if rule is None or rule.structural:
        return []
    result = name(stmt.targets[0].id)
    terms: dict[str, gast.expr] = {}
    for i, arg in enumerate(args):
        if activity.is_active(arg):
            partial = noted(_floats(rule.instantiate(i, args, result, spell)),
                            describe(rule, i))
            if arg.id in terms:  # x * x: both partials go to x
                partial = gast.BinOp(left=terms[arg.id], op=gast.Add(), right=partial)
            terms[arg.id] = partial
    return list(terms.items())


def _floats(partial: gast.expr) -> gast.expr:
    """Write whole numbers in a derivative as floats: ``2.0 * x`` runs faster than ``2 * x``."""
    for node in walk(partial):
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
    if rule is None:  # nondifferentiable: np.zeros_like(x, dtype=float)
        return args
    by_name = {k.arg: k.value for k in keywords}
    return args + [by_name[p] for p in rule.params[len(args):] if p in by_name]


def structural_rule(value: gast.expr, registry: Registry) -> Rule | None:
    """The rule of ``value``'s operation if it is structural (its derivative is a template)."""
    name_ = primitive(value)
    if name_ is None or isinstance(value, gast.Name):
        return None
    arity = len(operands(value)) + len(getattr(value, "keywords", []))
    rule = registry.lookup(name_, arity)
    return rule if rule is not None and rule.structural else None


def _by_parameter(value: gast.expr, rule: Rule) -> list[gast.expr | None]:
    """The call's arguments in the rule's parameter order; None for an option left out."""
    args = operands(value)
    by_name = {k.arg: k.value for k in getattr(value, "keywords", [])}
    return args + [by_name.get(p) for p in rule.params[len(args):]]


def structural_tangents(
    stmt: gast.Assign, rule: Rule, activity: Activity, spell: Callable[[str], gast.expr],
    tangent: Callable[[str], str], *, batched: Callable[[gast.Name], gast.expr] | None = None,
) -> list[gast.expr]:
    """The tangent of ``target = op(...)`` along each active argument, from the rule's template.

    With ``batched`` (which writes an argument's batched tangent) the rule's
    ``@batched_tangents`` template is used: tangents with a last axis of directions.
    """
    args = _by_parameter(stmt.value, rule)
    which = "tangents" if batched is None else "batched"
    rule = form_for(rule, which, args, activity.kinds)
    write = batched or (lambda arg: name(tangent(arg.id)))
    terms = []
    for i, arg in enumerate(args):
        if arg is None or not rule.differentiable(i):
            continue
        leaves = [e for _, e in _leaves(arg, rule.nests(i))] if _joined(rule, i, arg) else []
        if any(activity.is_active(e) for e in leaves):
            # np.stack([a, b]): the tangent stacks d_a and d_b (zeros for a constant)
            def tangent_of(e: gast.expr, leaves: list[gast.expr] = leaves) -> gast.expr:
                if activity.is_active(e):
                    return write(e)
                return _zeros(e, leaves, activity, spell, write, batched is not None)
            d_arg: gast.expr = _joined_tangent(arg, rule.nests(i), tangent_of)
        elif activity.is_active(arg):
            d_arg = write(arg)
        else:
            continue
        values = {f"d_{rule.params[i]}": d_arg, "result": name(stmt.targets[0].id)}
        terms.append(noted(rule.template(which, i, _given(args, rule), values, spell),
                           describe_structural(rule.primitive, "tangent")))
    return terms


def _zeros(constant: gast.expr, elts: list[gast.expr], activity: Activity,
           spell: Callable[[str], gast.expr], write, batched: bool) -> gast.expr:
    """The tangent of a constant among arrays joined: zeros (with the directions of an active
    neighbour's tangent, for batched tangents)."""
    if not batched:
        return gast.Call(func=spell("numpy.zeros_like"), args=[copy.deepcopy(constant)],
                         keywords=[])
    neighbour = next(e for e in elts if activity.is_active(e))
    return gast.Call(func=spell("ad_transpile.runtime._zero_tangent"),
                     args=[copy.deepcopy(constant), write(neighbour)], keywords=[])


def structural_adjoints(
    stmt: gast.Assign, rule: Rule, activity: Activity, spell: Callable[[str], gast.expr],
    d_target: str,
) -> list[tuple[str, gast.expr]]:
    """What the adjoint of ``target = op(...)`` adds to each active argument's adjoint."""
    args = _by_parameter(stmt.value, rule)
    rule = form_for(rule, "adjoints", args, activity.kinds)
    values = {"result": name(stmt.targets[0].id), "d_result": name(d_target)}
    terms = []
    for i, arg in enumerate(args):
        if arg is None or not rule.differentiable(i):
            continue
        if _joined(rule, i, arg):  # each element of np.stack([a, b]) gets its piece back
            terms += [(e.id, rule.template("adjoints", i, _given(args, rule), {
                **values, "item": _position(path)}, spell))
                for path, e in _leaves(arg, rule.nests(i)) if activity.is_active(e)]
        elif activity.is_active(arg):  # a whole array to join: its piece is all of it
            whole = {**values, "item": gast.Constant(value=Ellipsis, kind=None)}
            terms.append((arg.id, rule.template("adjoints", i, _given(args, rule), whole,
                                                spell)))
    note = describe_structural(rule.primitive, "adjoint")
    return [(arg, noted(term, note)) for arg, term in terms]


def _joined(rule: Rule, index: int, arg: gast.expr) -> bool:
    """``[a, b]`` in ``np.stack([a, b])``: a literal sequence of arrays the rule joins."""
    return rule.joins(index) and isinstance(arg, (gast.List, gast.Tuple))


def _leaves(arg: gast.expr, nested: bool, path: tuple[int, ...] = ()):
    """``(position, element)`` of a literal sequence, into nested ones where the rule takes
    them (``np.array([[c, s], [s, c]])``: ``(1, 0)`` is ``s``)."""
    for k, e in enumerate(arg.elts):
        if nested and isinstance(e, (gast.List, gast.Tuple)):
            yield from _leaves(e, nested, (*path, k))
        else:
            yield (*path, k), e


def _joined_tangent(arg: gast.expr, nested: bool, tangent_of) -> gast.expr:
    """The literal sequence ``arg`` with each element's tangent in its place."""
    return gast.List(ctx=gast.Load(), elts=[
        _joined_tangent(e, nested, tangent_of)
        if nested and isinstance(e, (gast.List, gast.Tuple)) else tangent_of(e)
        for e in arg.elts])


def _position(path: tuple[int, ...]) -> gast.expr:
    if len(path) == 1:
        return make_constant(path[0])
    return gast.Tuple(ctx=gast.Load(), elts=[make_constant(k) for k in path])


def _given(args: list[gast.expr | None], rule: Rule) -> dict[str, gast.expr]:
    return {p: a for p, a in zip(rule.params, args) if a is not None}


def times(partial: gast.expr, derivative: str) -> gast.expr:
    """``partial * d_y``; the simplifier removes a factor of one."""
    return gast.BinOp(left=partial, op=gast.Mult(), right=name(derivative))
