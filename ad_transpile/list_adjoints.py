"""Reverse mode for lists: the adjoint of each core list statement (see ``list_rules``).

An adjoint list starts as zeros of its list's length where the adjoint sweep first needs it: at
the start of the sweep for a list the function makes at its top level (it then has its final
length), and, for a list made inside a loop or a branch, at the start of the reversed block
that makes it, from the length the primal sweep saved at the end of that block::

    for i in range(3):                    for i in reversed(range(3)):
        h = [a * i]               ->          d_h = [0.0] * _stack.pop()
        s = s + h[0]                          ...
        _stack.append(len(h))
"""

from __future__ import annotations

import gast

from ad_transpile import errors
from ad_transpile.list_rules import ListStatements, added, spread
from ad_transpile.primitives import assign, is_constant, make_constant, name
from ad_transpile.trees import walk


class ListAdjoints:
    """The list rules of one adjoint sweep (``reverse._AdjointSweep``)."""

    def __init__(self, sweep, fn: gast.FunctionDef) -> None:
        self.sweep = sweep
        self.statements = ListStatements(fn, set(sweep.activity.saved))
        self.items = (sweep.namer.fresh("p"), sweep.namer.fresh("q"))
        self.in_block = self._made_in_blocks(fn)

    @property
    def names(self) -> set[str]:
        return self.statements.names

    def _made_in_blocks(self, fn: gast.FunctionDef) -> dict[int, list[str]]:
        """For each block of a loop or a branch, the active lists it makes."""
        return {id(block): made for block, made in made_in_blocks(fn, self.statements,
                                                                   self.sweep.activity)}

    def handles(self, stmt: gast.stmt) -> bool:
        return self.statements.kind(stmt) is not None

    def is_list(self, var: str) -> bool:
        return var in self.names

    def reads(self, stmt: gast.stmt) -> set[str]:
        return self.statements.reads(stmt)

    def zero(self, var: str) -> gast.expr:
        return self.statements.zeros(var, self.items[0])

    def made_in_block(self, var: str) -> bool:
        return any(var in made for made in self.in_block.values())

    # blocks

    def block(self, statements: list, body: list, body_adjoint: list) -> tuple[list, list]:
        """The length of each list a block makes (a list of lists itself), saved at its end,
        gives the zeros its adjoint starts from where the reversed block starts."""
        made = self.in_block.get(id(statements), [])
        if not made:
            return body, body_adjoint
        from ad_transpile.reverse import _before_jump
        nested = self.statements.nested
        saved = [name(v) if v in nested else
                 gast.Call(func=name("len"), args=[name(v)], keywords=[]) for v in made]
        value = saved[0] if len(saved) == 1 else gast.Tuple(elts=saved, ctx=gast.Load())
        body = _before_jump(body, self.sweep.push_value(value))
        held = [v if v in nested else self.sweep.namer.fresh(f"len_{v.lstrip('_')}")
                for v in made]
        pop = gast.Call(func=gast.Attribute(value=name(self.sweep.stack), attr="pop",
                                            ctx=gast.Load()), args=[], keywords=[])
        targets = [name(h, store=True) for h in held]
        restore = gast.Assign(targets=[targets[0] if len(targets) == 1 else gast.Tuple(
            elts=targets, ctx=gast.Store())], value=pop, type_comment=None)
        starts = [restore]
        for var, length in zip(made, held):
            zeros = self.zero(var) if var in nested else gast.BinOp(
                left=gast.List(elts=[make_constant(0.0)], ctx=gast.Load()), op=gast.Mult(),
                right=name(length))
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
        if kind in ("item", "pop", "sum", "array"):
            target = stmt.targets[0].id
            return self.sweep.reset([target], stmt)
        return []  # a list made: its adjoint starts where its block does

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
        """``v.insert(i, e)``: ``e`` landed at ``i``, or where Python put it for an ``i``
        counted from the end or past either end."""
        position = stmt.value.args[0]
        if isinstance(position, gast.Constant) and position.value == 0:
            return self._removed(stmt, d_owner, [position])
        last = gast.BinOp(left=gast.Call(func=name("len"), args=[d_owner], keywords=[]),
                          op=gast.Sub(), right=make_constant(1))
        if isinstance(position, gast.Constant):  # at most at the end
            return self._removed(stmt, d_owner, [gast.Call(
                func=name("min"), args=[position, last], keywords=[])])
        from_end = gast.Call(func=name("max"), args=[make_constant(0), gast.BinOp(
            left=last, op=gast.Add(), right=position)], keywords=[])
        if isinstance(position, gast.UnaryOp):  # a constant counted from the end
            return self._removed(stmt, d_owner, [from_end])
        landed = gast.IfExp(
            test=gast.Compare(left=position, ops=[gast.GtE()], comparators=[make_constant(0)]),
            body=gast.Call(func=name("min"), args=[position, last], keywords=[]),
            orelse=from_end)
        return self._removed(stmt, d_owner, [landed])

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
        d_target = name(self.sweep.namer.derivative(target))
        at = gast.Subscript(value=d_owner, slice=stmt.value.slice, ctx=gast.Store())
        if target in self.names:  # a row of a list of lists
            row = gast.Subscript(value=d_owner, slice=stmt.value.slice, ctx=gast.Load())
            return [gast.Assign(targets=[at], value=added(row, d_target, self.items),
                                type_comment=None)]
        update = gast.AugAssign(target=at, op=gast.Add(), value=d_target)
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
    made: dict[str, list[gast.stmt]] = {}
    for stmt in walk(fn):
        var = statements.made(stmt)
        if var and var in activity.active:
            made.setdefault(var, []).append(stmt)
        if statements.kind(stmt) == "array" and (stmt.value.keywords or
                                                len(stmt.value.args) > 1) and \
                stmt.targets[0].id in activity.active:
            raise parsed.error(errors.Unsupported, stmt, construct="joining a list along "
                               "another axis than the first in reverse mode",
                               why="not supported yet: use forward mode")
        if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.BinOp) and any(
                activity.is_active(v) and v.id in statements.names
                for v in (stmt.value.left, stmt.value.right)):
            raise parsed.error(errors.Unsupported, stmt, construct="repeating a list that "
                               "depends on wrt (v * n) in reverse mode",
                               why="not supported yet: build it with a loop of appends")
    _refuse_changes_of_held_lists(fn, statements, activity, parsed)
    blocks: dict[str, list[list]] = {}
    for block, names in made_in_blocks(fn, statements, activity):
        for var in names:
            blocks.setdefault(var, []).append(block)
    for var, places in made.items():
        if var not in blocks and len(places) == 1:
            continue  # made once, at the top level
        # each block that makes it makes it once, and it is read in that block only
        trees = [gast.Module(body=b, type_ignores=[]) for b in blocks.get(var, [])]
        once = len(trees) == len(places) and all(
            sum(1 for s in b if statements.made(s) == var) == 1 for b in blocks[var])
        inside = all(any(_within(n, t) for t in trees) for n in walk(fn)
                     if isinstance(n, gast.Name) and n.id == var)
        if not (once and inside):
            raise parsed.error(errors.Unsupported, places[-1], construct="a list made in a "
                               f"loop or a branch and read after it, or made more than once "
                               f"('{var}')", why="not supported yet in reverse mode: make it "
                               "once before the loop or branch, or use forward mode")


def made_in_blocks(fn: gast.FunctionDef, statements: ListStatements, activity):
    """``(block, lists)``: the active lists each block inside a loop or a branch makes."""
    found: list[tuple[list, list[str]]] = []

    def visit(block, top):
        made = []
        for stmt in block:
            var = statements.made(stmt)
            if var and not top and var in activity.active and var not in made:
                made.append(var)
            for field in ("body", "orelse"):
                if getattr(stmt, field, None):
                    visit(getattr(stmt, field), False)
        if made:
            found.append((block, made))

    visit(fn.body, True)
    return found


def _within(node: gast.AST, tree: gast.AST) -> bool:
    return any(n is node for n in walk(tree))


def _refuse_changes_of_held_lists(fn, statements: ListStatements, activity, parsed) -> None:
    """A list put into another list (or read out of one) is shared with it: changing it later
    changes both, which the two adjoint lists would not follow. Changing it first is fine:
    made, changed, then put in, all in one iteration of the same loop."""
    order: dict[int, tuple[int, int | None]] = {}  # statement -> (position, innermost loop)

    def number(block, loop):
        for stmt in block:
            order[id(stmt)] = (len(order), loop)
            inner = id(stmt) if isinstance(stmt, (gast.For, gast.While)) else loop
            for field in ("body", "orelse"):
                number(getattr(stmt, field, []) or [], inner)

    number(fn.body, None)
    stmts = [s for s in walk(fn) if id(s) in order]
    for held_at in stmts:
        kind = statements.kind(held_at)
        if kind in ("literal", "append", "insert", "write"):
            held = [v.id for v in statements.values(held_at) if isinstance(v, gast.Name)]
        elif kind == "item":
            held = [held_at.targets[0].id]
        else:
            continue
        for var in set(held) & statements.names & activity.active:
            made = [s for s in stmts if statements.made(s) == var]
            for change in stmts:
                if statements.kind(change) not in ("append", "insert", "pop", "write") or \
                        statements.owner(change) != var:
                    continue
                position = order[id(change)][0]
                first = kind != "item" and all(  # made, changed, put in: in that order
                    order[id(m)][1] == order[id(held_at)][1]
                    and order[id(m)][0] < position < order[id(held_at)][0] for m in made)
                if not (made and first):
                    raise parsed.error(
                        errors.Unsupported, change, construct="changing a list that is also "
                        "an item of another list, in reverse mode", why="not supported yet: "
                        "copy it first (list(...)), or use forward mode")
