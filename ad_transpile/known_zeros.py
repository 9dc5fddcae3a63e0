"""Additions into a value known to be zero, for the simplify pass: ``d = 0.0; d += e`` is
``d = e``, and the first ``+=`` into an array of zeros is a write.

Which names are surely zero is a must-analysis of the gen/kill kind (a statement makes a name
zero, makes it not zero, or leaves it), so a loop's facts are found from one walk of its body:
a name zero at the loop's entry stays zero in every iteration unless the body makes it nonzero
and does not make it zero again by the end.
"""

from __future__ import annotations

import gast

from ad_transpile.dataflow import (
    LOOPS,
    all_stores,
    is_zero,
    loads,
    single_target,
    stores,
    updated_in_place,
)
from ad_transpile.primitives import name


def assign_known_zeros(block: list[gast.stmt]) -> list[gast.stmt]:
    """``d = 0.0; ...; d += e`` -> ``d = e`` where ``d`` is surely still zero."""
    _zeros(block, set(), apply=True)
    return block


def _zeros(block: list[gast.stmt], zero: set[str], apply: bool) -> set[str]:
    """The names surely zero after ``block`` given those surely zero before it; with ``apply``,
    each addition into one of them is made an assignment on the way."""
    for i, stmt in enumerate(block):
        target = single_target(stmt)
        if isinstance(stmt, gast.AugAssign):
            if target in zero and isinstance(stmt.op, (gast.Add, gast.Sub)) and apply:
                value = stmt.value
                if isinstance(stmt.op, gast.Sub):
                    value = gast.UnaryOp(op=gast.USub(), operand=value)
                block[i] = gast.copy_location(
                    gast.Assign(targets=[name(target, True)], value=value, type_comment=None),
                    stmt,
                )
            zero.discard(target)
        elif target in zero and apply and _adds_to(stmt.value, target):
            value = stmt.value.right  # d = d + e on a known zero: d = e
            if isinstance(stmt.value.op, gast.Sub):
                value = gast.UnaryOp(op=gast.USub(), operand=value)
            stmt.value = value
            zero.discard(target)
        elif target is not None:
            zero.discard(target)
            if is_zero(stmt.value):
                zero.add(target)
        elif isinstance(stmt, gast.If):
            zero = _zeros(stmt.body, set(zero), apply) & _zeros(stmt.orelse, set(zero), apply)
        elif isinstance(stmt, LOOPS):
            zero = _loop(stmt, zero, apply)
        else:
            zero -= stores(stmt)
    return zero


def _loop(stmt: gast.For | gast.While, zero: set[str], apply: bool) -> set[str]:
    """Names zero at entry stay zero in the loop where one iteration keeps them zero: for a
    gen/kill analysis the first intersection is already the fixed point."""
    entry = set(zero) - stores(stmt.target) if isinstance(stmt, gast.For) else set(zero)
    entry &= _zeros(stmt.body, set(entry), apply=False)
    if apply:
        _zeros(stmt.body, set(entry), apply=True)
    return entry - stores(stmt) if _has_break(stmt.body) else entry


def _adds_to(value: gast.expr, target: str) -> bool:
    """``target + e`` or ``target - e``: how array code accumulates an adjoint."""
    return (isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Sub))
            and isinstance(value.left, gast.Name) and value.left.id == target
            and target not in loads(value.right))


def _has_break(body: list[gast.stmt]) -> bool:
    return any(isinstance(n, gast.Break) for s in body for n in _walk_same_loop(s))


def _walk_same_loop(stmt: gast.stmt):
    yield stmt
    if isinstance(stmt, gast.If):
        for s in [*stmt.body, *stmt.orelse]:
            yield from _walk_same_loop(s)


ZEROS = ("zeros", "zeros_like")


def write_into_zeros(block: list[gast.stmt]) -> list[gast.stmt]:
    """``d = np.zeros_like(x); d[1:] += e`` -> ``d[1:] = e``: the first addition into an array
    of zeros, before anything else reads or changes it, is a write (one pass less over it)."""
    zeros: set[str] = set()
    for i, stmt in enumerate(block):
        target = single_target(stmt)
        if isinstance(stmt, gast.Assign) and target is not None:
            zeros -= {target} | loads(stmt.value)
            value = stmt.value
            if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                    and value.func.attr in ZEROS and target not in loads(value):
                zeros.add(target)
            continue
        owner = updated_in_place(stmt)
        if owner in zeros and isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add) \
                and not loads(stmt.target.slice) & zeros and owner not in loads(stmt.value):
            write = gast.Subscript(value=name(owner), slice=stmt.target.slice, ctx=gast.Store())
            block[i] = gast.copy_location(
                gast.Assign(targets=[write], value=stmt.value, type_comment=None), stmt)
            zeros.discard(owner)
            continue
        zeros -= loads(stmt) | stores(stmt) | set(all_stores(stmt))
    return block
