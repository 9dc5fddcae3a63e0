"""The core list statements of a normalized function, and their derivative rules.

The tangent of a list is the list of its items' tangents; the adjoint, the list of their
adjoints. Forward mode does to the tangent list what the function does to the list::

    h.append(e)      ->  d_h.append(d_e)          s = sum(h)   ->  d_s = sum(d_h)

Reverse mode starts each adjoint list as zeros of the list's final length and undoes each change
of its structure in reverse order, so that every position holds the adjoint of the item that was
there at that point of the original run::

    h.append(e)      ->  d_e += d_h.pop()         x = h.pop()  ->  d_h.append(d_x)
    h[i] = e         ->  d_e += d_h[i]; d_h[i] = 0.0

Adjoint rules read no item of a list: normalization reads every item into a variable of its
own first, and reverse mode saves such variables where they are overwritten. So the primal
lists need no undoing, only their adjoints.
"""

from __future__ import annotations

import copy

import gast

from ad_transpile.list_kinds import list_names, nested_lists
from ad_transpile.primitives import make_constant, name
from ad_transpile.trees import walk

SUMS = ("builtins.sum", "math.fsum")
ARRAYS = ("numpy.array", "numpy.asarray", "numpy.stack")


class ListStatements:
    """Which statements of ``fn`` are core list statements, and what each one reads."""

    def __init__(self, fn: gast.FunctionDef, saved: set[str] = frozenset()) -> None:
        self.names = list_names(fn, getattr(fn, "list_params", set())) - set(saved)
        for stmt in walk(fn):  # list(xs), sum(xs) of a parameter: xs is a sequence
            if isinstance(stmt, gast.Assign) and self.consumer(stmt.value):
                self.names.add(stmt.value.args[0].id)
        self.nested = nested_lists(fn, self.names)  # lists of lists

    def consumer(self, value: gast.expr) -> bool:
        return (isinstance(value, gast.Call)
                and getattr(value, "qualname", None) in (*SUMS, "builtins.list")
                and len(value.args) == 1 and not value.keywords
                and isinstance(value.args[0], gast.Name))

    def kind(self, stmt: gast.stmt) -> str | None:
        """``literal``, ``append``, ``insert``, ``pop``, ``item``, ``slice``, ``write``,
        ``sum``, ``copy``, ``repeat`` or ``array``; None for any other statement."""
        if isinstance(stmt, gast.Expr):
            owner = _receiver(stmt.value)
            method = stmt.value.func.attr if owner else None
            return method if owner in self.names and method in ("append", "insert") else None
        if not isinstance(stmt, gast.Assign):
            return None
        target, value = stmt.targets[0], stmt.value
        if isinstance(target, gast.Subscript):
            return "write" if getattr(target.value, "id", None) in self.names else None
        if not isinstance(target, gast.Name):
            return None
        if isinstance(value, gast.List):
            return "literal" if target.id in self.names else None
        if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult) \
                and target.id in self.names:
            return "repeat"  # [0.0] * n
        owner = _receiver(value)
        if owner in self.names and value.func.attr == "pop":
            return "pop"
        if isinstance(value, gast.Subscript) and getattr(value.value, "id", None) in self.names:
            return "slice" if isinstance(value.slice, gast.Slice) else "item"
        if isinstance(value, gast.Name) and value.id in self.names:
            return "copy"  # a list the lowering made, under its final name
        qualname = getattr(value, "qualname", None)
        if self.consumer(value):
            return "sum" if qualname in SUMS else "copy"
        if (qualname in ARRAYS and value.args and isinstance(value.args[0], gast.Name)
                and value.args[0].id in self.names):
            return "array"
        return None

    def owner(self, stmt: gast.stmt) -> str:
        """The list the statement reads or changes."""
        if isinstance(stmt, gast.Expr):
            return stmt.value.func.value.id
        target, value = stmt.targets[0], stmt.value
        if isinstance(target, gast.Subscript):
            return target.value.id
        if isinstance(value, gast.List):
            return target.id
        if isinstance(value, gast.Subscript):
            return value.value.id
        if isinstance(value, gast.Name):
            return value.id
        if isinstance(value, gast.BinOp):
            return value.left.id if getattr(value.left, "id", None) in self.names \
                else value.right.id
        if isinstance(value.func, gast.Attribute) and value.func.attr == "pop":
            return value.func.value.id
        return value.args[0].id

    def made(self, stmt: gast.stmt) -> str | None:
        """The new list a statement makes: ``v = [...]``, ``v = list(w)``, ``v = w[a:b]``."""
        kind = self.kind(stmt)
        if kind in ("literal", "copy", "slice", "repeat") or (
                kind == "item" and stmt.targets[0].id in self.names):
            return stmt.targets[0].id
        return None

    def zeros(self, var: str, row: str) -> gast.expr:
        """``[0.0] * len(v)``; for a list of lists ``[[0.0] * len(r) for r in v]`` (``row``
        names ``r``)."""
        if var not in self.nested:
            return zeros_of(var)
        comp = gast.comprehension(target=name(row, store=True), iter=name(var), ifs=[],
                                  is_async=0)
        return gast.ListComp(elt=zeros_of(row), generators=[comp])

    def reads(self, stmt: gast.stmt) -> set[str]:
        """The variables the statement's derivative rules read: positions, not items."""
        kind = self.kind(stmt)
        if kind in ("insert", "pop"):
            call = stmt.value
            return {n.id for a in call.args[:1] for n in walk(a)
                    if isinstance(n, gast.Name)}
        if kind in ("item", "slice"):
            return {n.id for n in walk(stmt.value.slice) if isinstance(n, gast.Name)}
        if kind == "write":
            return {n.id for n in walk(stmt.targets[0].slice) if isinstance(n, gast.Name)}
        return set()

    def values(self, stmt: gast.stmt) -> list[gast.expr]:
        """What flows into the list: the items of a literal, the appended or written value."""
        kind = self.kind(stmt)
        if kind == "literal":
            return list(stmt.value.elts)
        if kind in ("append", "insert"):
            return [stmt.value.args[-1]]
        if kind == "write":
            return [stmt.value]
        return []


def _receiver(value: gast.expr) -> str | None:
    if (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
            and isinstance(value.func.value, gast.Name)
            and (getattr(value, "qualname", None) or "").startswith("<list>.")):
        return value.func.value.id
    return None


def zeros_of(var: str) -> gast.expr:
    """``[0.0] * len(v)``."""
    length = gast.Call(func=name("len"), args=[name(var)], keywords=[])
    return gast.BinOp(left=gast.List(elts=[make_constant(0.0)], ctx=gast.Load()),
                      op=gast.Mult(), right=length)


def added(left: gast.expr, right: gast.expr, items: tuple[str, str]) -> gast.ListComp:
    """``[p + q for p, q in zip(left, right)]``: two lists (or arrays) added item by item;
    ``items`` names ``p`` and ``q`` (names of the function's own would be shadowed)."""
    p, q = items
    target = gast.Tuple(elts=[name(p, store=True), name(q, store=True)], ctx=gast.Store())
    iterable = gast.Call(func=name("zip"), args=[copy.deepcopy(left), copy.deepcopy(right)],
                         keywords=[])
    elt = gast.BinOp(left=name(p), op=gast.Add(), right=name(q))
    return gast.ListComp(elt=elt, generators=[
        gast.comprehension(target=target, iter=iterable, ifs=[], is_async=0)])


def spread(items: gast.expr, value: gast.expr, item: str) -> gast.ListComp:
    """``[p + g for p in items]``: one number added to every item."""
    elt = gast.BinOp(left=name(item), op=gast.Add(), right=copy.deepcopy(value))
    return gast.ListComp(elt=elt, generators=[gast.comprehension(
        target=name(item, store=True), iter=copy.deepcopy(items), ifs=[], is_async=0)])
