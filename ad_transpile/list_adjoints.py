"""Reverse mode for lists: the adjoint of each core list statement (see ``list_rules``).

An adjoint list starts as zeros of its list's length where the adjoint sweep first needs it: at
the start of the sweep for a list made outside loops (it then has its final length), and at the
start of each reversed iteration for a list made inside a loop, from the length the primal
sweep saved at the end of that iteration::

    for i in range(3):                    for i in reversed(range(3)):
        h = [a * i]               ->          d_h = [0.0] * _stack.pop()
        s = s + h[0]                          ...
        _stack.append(len(h))
"""

from __future__ import annotations

import gast

from ad_transpile import errors
from ad_transpile.list_rules import ListStatements, added, spread, zeros_of
from ad_transpile.primitives import assign, is_constant, make_constant, name


class ListAdjoints:
    """The list rules of one adjoint sweep (``reverse._AdjointSweep``)."""

    def __init__(self, sweep, fn: gast.FunctionDef) -> None:
        self.sweep = sweep
        self.statements = ListStatements(fn, set(sweep.activity.saved))
        self.items = (sweep.namer.fresh("p"), sweep.namer.fresh("q"))
        self.in_loop = self._made_in_loops(fn)

    @property
    def names(self) -> set[str]:
        return self.statements.names

    def _made_in_loops(self, fn: gast.FunctionDef) -> dict[int, list[str]]:
        """For each loop, the active lists made anew in each of its iterations."""
        found: dict[int, list[str]] = {}

        def visit(statements, loop):
            for stmt in statements:
                made = self.statements.made(stmt)
                if made and loop is not None and made in self.sweep.activity.active:
                    if made not in found.setdefault(id(loop), []):
                        found[id(loop)].append(made)
                inner = stmt if isinstance(stmt, (gast.For, gast.While)) else loop
                for field in ("body", "orelse"):
                    visit(getattr(stmt, field, []) or [], inner)

        visit(fn.body, None)
        return found

    def handles(self, stmt: gast.stmt) -> bool:
        return self.statements.kind(stmt) is not None

    def is_list(self, var: str) -> bool:
        return var in self.names

    def reads(self, stmt: gast.stmt) -> set[str]:
        return self.statements.reads(stmt)

    def zero(self, var: str) -> gast.expr:
        return zeros_of(var)

    def made_in_loop(self, var: str) -> bool:
        return any(var in made for made in self.in_loop.values())

    # loops

    def loop(self, loop: gast.stmt, body: list, body_adjoint: list) -> tuple[list, list]:
        """The length of each list made in ``loop``'s body, saved at the end of an iteration,
        gives the zeros its adjoint starts from in the reversed iteration."""
        made = self.in_loop.get(id(loop), [])
        if not made:
            return body, body_adjoint
        from ad_transpile.reverse import _before_jump
        lengths = [gast.Call(func=name("len"), args=[name(v)], keywords=[]) for v in made]
        value = lengths[0] if len(lengths) == 1 else gast.Tuple(elts=lengths, ctx=gast.Load())
        body = _before_jump(body, self.sweep.push_value(value))
        starts = []
        pop = gast.Call(func=gast.Attribute(value=name(self.sweep.stack), attr="pop",
                                            ctx=gast.Load()), args=[], keywords=[])
        if len(made) == 1:
            held = [pop]
        else:
            counts = [self.sweep.namer.fresh(f"len_{v.lstrip('_')}") for v in made]
            starts.append(gast.Assign(targets=[gast.Tuple(
                elts=[name(c, store=True) for c in counts], ctx=gast.Store())], value=pop,
                type_comment=None))
            held = [name(c) for c in counts]
        for var, length in zip(made, held):
            zeros = gast.BinOp(left=gast.List(elts=[make_constant(0.0)], ctx=gast.Load()),
                               op=gast.Mult(), right=length)
            starts.append(assign(self.sweep.namer.derivative(var), zeros))
        return body, starts + body_adjoint

    # statements

    def adjoint(self, stmt: gast.stmt) -> list[gast.stmt]:
        kind = self.statements.kind(stmt)
        owner = self.statements.owner(stmt)
        if owner not in self.sweep.activity.active:
            return self.inactive(stmt, kind)
        d_owner = name(self.sweep.namer.derivative(owner))
        rule = getattr(self, f"_{kind}")
        out = rule(stmt, d_owner)
        return [gast.copy_location(s, stmt) for s in out]

    def inactive(self, stmt: gast.stmt, kind: str) -> list[gast.stmt]:
        """A list without derivatives: only the item read from it may need its adjoint reset."""
        if kind in ("item", "pop", "sum", "array", "slice", "copy", "literal"):
            target = stmt.targets[0].id
            return self.sweep.reset([target], stmt)
        return []

    def accumulate(self, value: gast.expr, contribution: gast.expr, stmt) -> list[gast.stmt]:
        if not self.sweep.activity.is_active(value):
            return []
        if value.id in self.names:  # a list in a list: add item by item
            d_value = name(self.sweep.namer.derivative(value.id))
            return [assign(d_value.id, added(d_value, contribution, self.items))]
        return [self.sweep.accumulate(value.id, contribution, stmt)]

    def _literal(self, stmt, d_owner):
        out = []
        for k, item in enumerate(stmt.value.elts):
            at = gast.Subscript(value=d_owner, slice=make_constant(k), ctx=gast.Load())
            out += self.accumulate(item, at, stmt)
        return out

    def _append(self, stmt, d_owner):
        return self._removed(stmt, d_owner, [])

    def _insert(self, stmt, d_owner):
        return self._removed(stmt, d_owner, [stmt.value.args[0]])

    def _removed(self, stmt, d_owner, args):
        """``v.append(e)`` or ``v.insert(i, e)``: the adjoint of ``e`` leaves ``d_v``."""
        pop = gast.Call(func=gast.Attribute(value=d_owner, attr="pop", ctx=gast.Load()),
                        args=args, keywords=[])
        value = stmt.value.args[-1]
        if self.sweep.activity.is_active(value):
            return self.accumulate(value, pop, stmt)
        return [gast.Expr(value=pop)]

    def _pop(self, stmt, d_owner):
        """``x = v.pop(i)``: ``d_x`` goes back where ``x`` was."""
        target = stmt.targets[0].id
        d_target = (name(self.sweep.namer.derivative(target))
                    if target in self.sweep.activity.active else make_constant(0.0))
        if not stmt.value.args or _minus_one(stmt.value.args[0]):
            call = gast.Attribute(value=d_owner, attr="append", ctx=gast.Load())
            args = [d_target]
        else:
            position = stmt.value.args[0]
            if not (is_constant(position) and not isinstance(position, gast.UnaryOp)):
                # where i counted from the end: i % (the length before the pop)
                length = gast.BinOp(left=gast.Call(func=name("len"), args=[d_owner],
                                                   keywords=[]),
                                    op=gast.Add(), right=make_constant(1))
                position = gast.BinOp(left=position, op=gast.Mod(), right=length)
            call = gast.Attribute(value=d_owner, attr="insert", ctx=gast.Load())
            args = [position, d_target]
        put_back = gast.Expr(value=gast.Call(func=call, args=args, keywords=[]))
        return [put_back, *self.sweep.reset([target], stmt)]

    def _item(self, stmt, d_owner):
        target = stmt.targets[0].id
        if target not in self.sweep.activity.active:
            return []
        at = gast.Subscript(value=d_owner, slice=stmt.value.slice, ctx=gast.Store())
        update = gast.AugAssign(target=at, op=gast.Add(),
                                value=name(self.sweep.namer.derivative(target)))
        return [update, *self.sweep.reset([target], stmt)]

    def _slice(self, stmt, d_owner):
        target = stmt.targets[0].id
        if target not in self.sweep.activity.active:
            return []
        part = gast.Subscript(value=d_owner, slice=stmt.value.slice, ctx=gast.Load())
        whole = added(part, name(self.sweep.namer.derivative(target)), self.items)
        write = gast.Subscript(value=d_owner, slice=stmt.value.slice, ctx=gast.Store())
        return [gast.Assign(targets=[write], value=whole, type_comment=None)]

    def _write(self, stmt, d_owner):
        """``v[i] = e``: ``d_e`` takes ``d_v[i]``, and the overwritten item had none."""
        index = stmt.targets[0].slice
        at = gast.Subscript(value=d_owner, slice=index, ctx=gast.Load())
        out = self.accumulate(stmt.value, at, stmt)
        cleared = gast.Subscript(value=d_owner, slice=index, ctx=gast.Store())
        return out + [gast.Assign(targets=[cleared], value=make_constant(0.0),
                                  type_comment=None)]

    def _sum(self, stmt, d_owner):
        target = stmt.targets[0].id
        if target not in self.sweep.activity.active:
            return []
        d_target = name(self.sweep.namer.derivative(target))
        return [assign(d_owner.id, spread(d_owner, d_target, self.items[0])),
                *self.sweep.reset([target], stmt)]

    def _copy(self, stmt, d_owner):
        target = stmt.targets[0].id
        if target not in self.sweep.activity.active:
            return []
        d_target = name(self.sweep.namer.derivative(target))
        return [assign(d_owner.id, added(d_owner, d_target, self.items))]

    def _array(self, stmt, d_owner):
        """``np.array(v)``: each item's adjoint is its row of the array's adjoint."""
        target = stmt.targets[0].id
        if target not in self.sweep.activity.active:
            return []
        d_target = name(self.sweep.namer.derivative(target))
        # d_y may still be a number standing for an array: rows of the whole array
        rows = gast.Call(func=name("_unreduce"), args=[d_target, name(target)], keywords=[])
        self.sweep.spread.discard(target)
        return [assign(d_owner.id, added(d_owner, rows, self.items)),
                *self.sweep.reset([target], stmt)]


def _minus_one(position: gast.expr) -> bool:
    return (isinstance(position, gast.UnaryOp) and isinstance(position.op, gast.USub)
            and isinstance(position.operand, gast.Constant) and position.operand.value == 1)


def refuse_list_forms(fn: gast.FunctionDef, activity, parsed) -> None:
    """What reverse mode cannot do with lists yet, refused where it stands."""
    statements = ListStatements(fn, set(activity.saved))
    loops = [s for s in gast.walk(fn) if isinstance(s, (gast.For, gast.While))]
    made: dict[str, list[gast.stmt]] = {}
    for stmt in gast.walk(fn):
        var = statements.made(stmt)
        if var and var in activity.active:
            made.setdefault(var, []).append(stmt)
        if statements.kind(stmt) == "array" and (stmt.value.keywords or
                                                len(stmt.value.args) > 1) and \
                stmt.targets[0].id in activity.active:
            raise parsed.error(errors.Unsupported, stmt, construct="joining a list along "
                               "another axis than the first in reverse mode",
                               why="not supported yet: use forward mode")
    for var, places in made.items():
        inner = [loop for loop in loops if any(_within(p, loop) for p in places)]
        if not inner:
            continue
        innermost = min(inner, key=lambda loop: sum(1 for _ in gast.walk(loop)))
        used_outside = any(isinstance(n, gast.Name) and n.id == var and not _within(n, innermost)
                           for n in gast.walk(fn))
        if used_outside or len(places) > 1:
            raise parsed.error(errors.Unsupported, places[-1], construct="a list made in a "
                               f"loop and read after it, or made more than once ('{var}')",
                               why="not supported yet in reverse mode: make it once before "
                               "the loop, or use forward mode")


def _within(node: gast.AST, tree: gast.AST) -> bool:
    return any(n is node for n in gast.walk(tree))
