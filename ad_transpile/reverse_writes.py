"""Reverse mode of an in-place write ``y[idx] = v``, for the adjoint sweep of reverse.py.

The primal sweep saves the part it overwrites; the adjoint sweep gives ``v`` the adjoint of that
part (summed back to the shape of ``v`` where it was broadcast), makes it zero (the old part has
no share in what came after) and puts the old part back into ``y``. Every write is undone in the
reverse order it ran, so each adjoint before it sees the values of the original run::

    y[i] = v                 ->     _stack.append((y[i].copy(), v))     # in a loop: on the stack
                                    y[i] = v
                                    ...
                                    y_old, v = _stack.pop()     # v for its shape
                                    d_v = d_v + _unbroadcast(d_y[i].copy(), v)
                                    d_y[i] = 0.0
                                    y[i] = y_old
"""

from __future__ import annotations

import copy

import gast

from ad_transpile.aliases import VIEW_METHODS, VIEWS
from ad_transpile.analyze import reads
from ad_transpile.primitives import assign, make_constant, name
from ad_transpile.trees import walk
from ad_transpile.writes import is_write


class WriteAdjoints:
    """The part of the adjoint sweep that undoes writes (mixed into ``_AdjointSweep``)."""

    loops: tuple = ()  # the loops around the statement whose adjoint is being made

    def write(self, stmt: gast.Assign, loops: tuple) -> tuple[list, list]:
        """The primal and adjoint statements of ``y[idx] = v`` (see the module docstring)."""
        written = stmt.targets[0]
        owner, value = written.value.id, stmt.value
        self.loops = loops
        read = [reads(written.slice) | {owner}]
        if self.activity.is_active(value) and value.id not in self.scalars:
            read.append({value.id})  # for its shape: a number's is known
        saved = self.to_save(read, stmt, loops)
        number = self.activity.kinds.of_expr(written).is_number  # y[i] of a 1-d array
        adjoint = []
        if owner in self.activity.active:
            d_owner = self.namer.derivative(owner)
            adjoint += self.materialize(owner, stmt)  # d_y may still be the number 0.0
            if self.activity.is_active(value) and number and value.id in self.scalars:
                # one number into one element: its adjoint, no view, nothing to sum
                adjoint.append(self.accumulate(value.id, self.part(written, d_owner), stmt))
            elif self.activity.is_active(value):
                # a copy: d_y[i] may be a view, and it is made zero next
                part = _copy(self.part(written, d_owner))
                contribution = gast.Call(func=name("_unbroadcast"), args=[part, name(value.id)],
                                         keywords=[])
                adjoint.append(self.accumulate(value.id, contribution, stmt))
            adjoint.append(gast.Assign(targets=[self.part(written, d_owner, store=True)],
                                       value=make_constant(0.0), type_comment=None))
        old = self.namer.numbered(f"{owner}_old")  # y_old, y_old_2: one per write
        kept = self.part(written, owner) if number else _copy(self.part(written, owner))
        if loops:  # a part for every time round, with what the adjoint reads: on the stack
            primal = self.push([old, *saved])
            primal[0].value.args[0] = _with_first(primal[0].value.args[0], kept)
            restore = self.pop([old, *saved])
        else:
            primal = [assign(old, kept), *self.push(saved)]
            restore = self.pop(saved)
        adjoint.append(gast.Assign(targets=[self.part(written, owner, store=True)],
                                   value=name(old), type_comment=None))
        if not self.basic(written.slice):  # an int array may repeat an index
            index = copy.deepcopy(written.slice)
            if any(isinstance(n, gast.Slice) for n in walk(index)):  # y[i, 1:]
                index = gast.Subscript(value=self.spell("numpy.s_"), slice=index,
                                       ctx=gast.Load())
            check = gast.Call(func=name("_check_distinct"), args=[index, name(owner)],
                              keywords=[])
            primal.insert(0, gast.Expr(value=check))
        primal = [gast.copy_location(s, stmt) for s in [*primal, stmt]]
        return primal, [gast.copy_location(s, stmt) for s in [*restore, *adjoint]]

    def materialize(self, owner: str, where: gast.stmt) -> list[gast.stmt]:
        """``d_y = d_y + np.zeros_like(y)`` where ``d_y`` may still be the number ``0.0`` and
        part of it is written: once before the outermost loop around ``where`` that does not
        assign ``y`` (``y`` saved after it), else here."""
        if owner not in self.shaped_late:
            return []
        loop = self.invariant_loop(owner, self.loops)
        if loop is not None:
            self.lifted.setdefault(id(loop), set()).add(owner)
            self.made_whole.setdefault(id(loop), set()).add(owner)
            return []
        d_owner = self.namer.derivative(owner)
        whole = gast.BinOp(left=name(d_owner), op=gast.Add(), right=self.zeros_like(owner))
        return [gast.copy_location(assign(d_owner, whole), where)]

    def materialized_before(self, loop: gast.stmt) -> list[gast.stmt]:
        """The adjoints made whole before the reversed ``loop`` (see ``materialize``)."""
        out = []
        for owner in sorted(self.made_whole.pop(id(loop), set())):
            d_owner = self.namer.derivative(owner)
            whole = gast.BinOp(left=name(d_owner), op=gast.Add(), right=self.zeros_like(owner))
            out.append(gast.copy_location(assign(d_owner, whole), loop))
        return out

    @staticmethod
    def part(written: gast.Subscript, owner: str, store: bool = False) -> gast.Subscript:
        ctx = gast.Store() if store else gast.Load()
        return gast.Subscript(value=name(owner), slice=copy.deepcopy(written.slice), ctx=ctx)

    def kept_result(self, result: gast.expr, spell) -> tuple[list, gast.expr]:
        """A returned array written into (or a view of one) is put back as it was by the
        adjoint sweep: the value returned is a copy taken before."""
        elts = result.elts if isinstance(result, gast.Tuple) else [result]
        out, kept = [], []
        for elt in elts:
            if isinstance(elt, gast.Name) and elt.id in self.sharing_written:
                value = self.namer.fresh("value")
                out.append(assign(value, gast.Call(func=spell("numpy.copy"), args=[elt],
                                                   keywords=[])))
                elt = name(value)
            kept.append(elt)
        if not out:
            return [], result
        return out, (gast.Tuple(elts=kept, ctx=gast.Load()) if isinstance(result, gast.Tuple)
                     else kept[0])

    @property
    def sharing_written(self) -> set[str]:
        """The arrays written into and the names that may hold them or a view of them."""
        sharing = {s.targets[0].value.id for s in self.writes}
        assigns = [s for s in self.assigns if isinstance(s.targets[0], gast.Name)]
        changed = True
        while changed:
            changed = False
            for stmt in assigns:
                target, value = stmt.targets[0].id, stmt.value
                while isinstance(value, gast.Subscript) or (
                        isinstance(value, gast.Attribute) and value.attr == "T"):
                    value = value.value  # y[1:], y.T
                if isinstance(value, gast.Call) and getattr(value, "receiver", False) \
                        and value.func.attr in VIEW_METHODS:
                    value = value.func.value  # x.reshape(...)
                elif isinstance(value, gast.Call) and value.args \
                        and getattr(value, "qualname", None) in VIEWS:
                    value = value.args[0]  # np.reshape(x, ...), np.transpose(x)
                if isinstance(value, gast.Name) and value.id in sharing and target not in sharing:
                    sharing.add(target)
                    changed = True
        return sharing

    def note_writes(self, fn: gast.FunctionDef) -> None:
        self.writes = [s for s in walk(fn) if is_write(s)]
        self.assigns = [s for s in walk(fn) if isinstance(s, gast.Assign)
                        and not is_write(s)]


def _copy(part: gast.expr) -> gast.Call:
    return gast.Call(func=gast.Attribute(value=part, attr="copy", ctx=gast.Load()), args=[],
                     keywords=[])


def _with_first(pushed: gast.expr, value: gast.expr) -> gast.expr:
    """The pushed name or tuple of names with ``value`` in place of the first."""
    if isinstance(pushed, gast.Tuple):
        pushed.elts[0] = value
        return pushed
    return value
