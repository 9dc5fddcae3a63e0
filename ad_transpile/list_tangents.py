"""Forward mode for lists: the tangent of each core list statement (see ``list_rules``).

The tangent list changes as its list does, item for item::

    v = [a, 2.0]     ->  d_v = [d_a, 0.0]         x = v.pop(i)  ->  d_x = d_v.pop(i)
    v[i] = e         ->  d_v[i] = d_e             y = np.array(v) -> d_y = np.array(d_v)
"""

from __future__ import annotations

import copy

import gast

from ad_transpile.list_rules import ListStatements
from ad_transpile.primitives import assign, make_constant, name


class ListTangents:
    """The list rules of one tangent sweep (``forward._TangentSweep``)."""

    def __init__(self, sweep, fn: gast.FunctionDef) -> None:
        self.sweep = sweep
        self.statements = ListStatements(fn, set(sweep.activity.saved))

    def handles(self, stmt: gast.stmt) -> bool:
        return self.statements.kind(stmt) is not None

    def tangent_of(self, value: gast.expr) -> gast.expr:
        """``d_e``; for a value without one, zeros of its kind."""
        if isinstance(value, gast.Tuple):  # saved together, as reverse mode saves values
            return gast.Tuple(elts=[self.tangent_of(e) for e in value.elts], ctx=gast.Load())
        if self.sweep.activity.is_active(value):
            return name(self.sweep.namer.derivative(value.id))
        return self.zero(value.id) if isinstance(value, gast.Name) else make_constant(0.0)

    def zero(self, var: str) -> gast.expr:
        """The tangent of a value that has no derivative: zeros of its kind."""
        if var in self.statements.names:
            return self.statements.zeros(var, self.sweep.namer.fresh("r"))
        return self.sweep.zero(var)

    def tangent(self, stmt: gast.stmt) -> list[gast.stmt]:
        if self.sweep.batched:  # a sweep per input instead: items may be numbers or arrays
            raise self.sweep.refuse(stmt, "a list")
        kind = self.statements.kind(stmt)
        owner = self.statements.owner(stmt)
        active = self.sweep.activity.active
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else None
        made = isinstance(target, gast.Name) and target.id in active
        d_owner = name(self.sweep.namer.derivative(owner))
        if kind == "literal":
            if not made:
                return []
            items = [self.tangent_of(e) for e in stmt.value.elts]
            return [assign(d_owner.id, gast.List(elts=items, ctx=gast.Load()))]
        if owner not in active:  # a value without derivative overwrites one that had some
            return [assign(self.sweep.namer.derivative(target.id),
                           self.zero(target.id))] if made else []
        if kind in ("append", "insert"):
            call = copy.deepcopy(stmt.value)
            call.func.value = d_owner
            call.args[-1] = self.tangent_of(call.args[-1])
            return [gast.Expr(value=call)]
        if kind == "write":
            written = copy.deepcopy(stmt.targets[0])
            written.value = d_owner
            return [gast.Assign(targets=[written], value=self.tangent_of(stmt.value),
                                type_comment=None)]
        if kind == "pop":  # the tangent list loses its item even where the item is unused
            call = copy.deepcopy(stmt.value)
            call.func.value = d_owner
            if not made:
                return [gast.Expr(value=call)]
            return [assign(self.sweep.namer.derivative(target.id), call)]
        if not made:
            return []
        value = copy.deepcopy(stmt.value)
        if kind == "repeat":  # [c] * n: the count is a whole number, without derivative
            side = "left" if getattr(value.left, "id", None) == owner else "right"
            setattr(value, side, d_owner)
        elif isinstance(value, gast.Name):  # v = ordered: the list the lowering made
            value = d_owner
        elif kind in ("item", "slice"):
            value.value = d_owner
        else:  # sum, copy, array: linear in the list
            value.args[0] = d_owner
        return [assign(self.sweep.namer.derivative(target.id), value)]
