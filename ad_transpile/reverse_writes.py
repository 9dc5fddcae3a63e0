"""Reverse mode of an in-place write ``y[idx] = v``, for the adjoint sweep of reverse.py.

The primal sweep saves the part it overwrites; the adjoint sweep gives ``v`` the adjoint of that
part (summed back to the shape of ``v`` where it was broadcast), makes it zero (the old part has
no share in what came after) and puts the old part back into ``y``. Every write is undone in the
reverse order it ran, so each adjoint before it sees the values of the original run::

    y[i] = v                 ->     _stack.append(y[i].copy())      # in a loop: on the stack
                                    y[i] = v
                                    ...
                                    d_v = d_v + _unbroadcast(d_y[i].copy(), v)
                                    d_y[i] = 0.0
                                    y[i] = _stack.pop()
"""

from __future__ import annotations

import copy

import gast

from ad_transpile.analyze import reads
from ad_transpile.primitives import assign, make_constant, name
from ad_transpile.writes import is_write


class WriteAdjoints:
    """The part of the adjoint sweep that undoes writes (mixed into ``_AdjointSweep``)."""

    def write(self, stmt: gast.Assign, loops: tuple) -> tuple[list, list]:
        written = stmt.targets[0]
        owner, value = written.value.id, stmt.value
        old = gast.Call(func=gast.Attribute(value=self.part(written, owner), attr="copy",
                                            ctx=gast.Load()), args=[], keywords=[])
        if loops:  # a part for every time round: on the stack
            primal = self.push_value(old)
            pop = gast.Attribute(value=name(self.stack), attr="pop", ctx=gast.Load())
            restored: gast.expr = gast.Call(func=pop, args=[], keywords=[])
        else:
            held = self.namer.fresh(f"{owner}_old")
            primal, restored = [assign(held, old)], name(held)
        primal = [gast.copy_location(s, stmt) for s in primal] + [stmt]
        adjoint = []
        if owner in self.activity.active:
            d_owner = self.namer.derivative(owner)
            if owner in self.shaped_late:  # d_y may still be the number 0.0: an array first
                whole = gast.BinOp(left=name(d_owner), op=gast.Add(), right=self.zeros_like(owner))
                adjoint.append(assign(d_owner, whole))
            if self.activity.is_active(value):
                # a copy: d_y[i] may be a view, and it is made zero next
                part = gast.Call(func=gast.Attribute(value=self.part(written, d_owner),
                                                     attr="copy", ctx=gast.Load()),
                                 args=[], keywords=[])
                contribution = gast.Call(func=name("_unbroadcast"), args=[part, name(value.id)],
                                         keywords=[])
                adjoint.append(self.accumulate(value.id, contribution, stmt))
            adjoint.append(gast.Assign(targets=[self.part(written, d_owner, store=True)],
                                       value=make_constant(0.0), type_comment=None))
        adjoint.append(gast.Assign(targets=[self.part(written, owner, store=True)],
                                   value=restored, type_comment=None))
        read = [reads(written.slice) | {owner}]
        if self.activity.is_active(value):
            read.append({value.id})
        saved = self.to_save(read, stmt, loops)
        primal += self.push(saved)
        return primal, [*self.pop(saved), *[gast.copy_location(s, stmt) for s in adjoint]]

    @staticmethod
    def part(written: gast.Subscript, owner: str, store: bool = False) -> gast.Subscript:
        ctx = gast.Store() if store else gast.Load()
        return gast.Subscript(value=name(owner), slice=copy.deepcopy(written.slice), ctx=ctx)

    def kept_result(self, result: gast.expr, spell) -> tuple[list, gast.expr]:
        """A returned array written into is put back as it was by the adjoint sweep: the value
        returned is a copy taken before."""
        written = {s.targets[0].value.id for s in self.writes}
        elts = result.elts if isinstance(result, gast.Tuple) else [result]
        out, kept = [], []
        for elt in elts:
            if isinstance(elt, gast.Name) and elt.id in written:
                value = self.namer.fresh("value")
                out.append(assign(value, gast.Call(func=spell("numpy.copy"), args=[elt],
                                                   keywords=[])))
                elt = name(value)
            kept.append(elt)
        if not out:
            return [], result
        return out, (gast.Tuple(elts=kept, ctx=gast.Load()) if isinstance(result, gast.Tuple)
                     else kept[0])

    @staticmethod
    def writes_of(fn: gast.FunctionDef) -> list[gast.Assign]:
        return [s for s in gast.walk(fn) if is_write(s)]
