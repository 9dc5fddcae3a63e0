"""Facts about statements that the simplify pass's rewrites share: what a statement reads and
writes, and, for each statement of a block, where those names are next read or written.

The rewrites themselves live beside this module (``known_zeros``, ``copies``, ``inlining``,
``liveness``). Each takes a block and returns one computing the same values, in time linear in
the block: a question such as "does anything between a value and its use change one of its
operands?" is answered from a table built in one backward walk (``ahead``), never by walking
the statements in between again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator

import gast

from ad_transpile.primitives import constant_value, is_constant
from ad_transpile.trees import children

LOOPS = (gast.For, gast.While)
LIST_CHANGES = ("append", "pop", "insert", "extend")
NEVER = math.inf


def fingerprint(node: gast.AST) -> tuple:
    """What ``gast.dump(node)`` tells apart (node types, fields, values), as a tuple built in
    one walk: equal for equal trees, several times cheaper than the text. Constants keep their
    type (``1`` is not ``1.0``) and compare by ``repr`` (a nan equals itself)."""
    found: list = []
    stack: list = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, gast.AST):
            found.append(type(item).__name__)
            stack.extend(getattr(item, f, None) for f in item._fields)
        elif isinstance(item, list):
            found.append(len(item))
            stack.extend(item)
        elif isinstance(item, str) or item is None:
            found.append(item)
        else:
            found.append((type(item).__name__, repr(item)))
    return tuple(found)


def stores(node: gast.AST) -> set[str]:
    return {n.id for n in children(node) if type(n) is gast.Name
            and type(n.ctx) is gast.Store}


def loads(node: gast.AST | None) -> set[str]:
    if node is None:
        return set()
    return {n.id for n in children(node) if type(n) is gast.Name
            and type(n.ctx) is gast.Load}


def single_target(stmt: gast.stmt) -> str | None:
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
        return stmt.targets[0].id
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
        return stmt.target.id
    return None


def updated_in_place(stmt: gast.AST) -> str | None:
    """``d_x[i] += v`` and ``y[i] = v`` change ``d_x`` and ``y`` without assigning them."""
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Subscript):
        return stmt.target.value.id
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
        return stmt.targets[0].value.id
    return None


def all_stores(stmt: gast.stmt) -> list[str]:
    """Every name ``stmt`` assigns, adds into (``d_x[i] += v``) or changes as a list in place
    (``v.append(e)``, ``x = v.pop()``, ``v[i] = e``), in one walk."""
    found = []
    for n in children(stmt):
        if isinstance(n, gast.Name):
            if isinstance(n.ctx, gast.Store):
                found.append(n.id)
        elif isinstance(n, gast.AugAssign):
            found.append(single_target(n) or updated_in_place(n))
        elif isinstance(n, gast.Call):
            func = n.func
            if isinstance(func, gast.Attribute) and func.attr in LIST_CHANGES \
                    and isinstance(func.value, gast.Name):
                found.append(func.value.id)
        elif isinstance(n, gast.Assign):
            found += [t.value.id for t in n.targets if isinstance(t, gast.Subscript)
                      and isinstance(t.value, gast.Name)]
    return found


def is_zero(expr: gast.expr) -> bool:
    return is_constant(expr) and constant_value(expr) == 0


def bodies(stmt: gast.stmt) -> list[str]:
    return [f for f in ("body", "orelse") if getattr(stmt, f, None)]


def pure(expr: gast.expr) -> bool:
    if getattr(expr, "impure", False):
        return False
    return not any(
        isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute)
        and n.func.attr in ("pop", "append")
        for n in children(expr)
    )


def shareable(expr: gast.expr) -> bool:
    """Two equal expressions may be one value: not so for a new list, or an iterator."""
    return pure(expr) and not any(
        isinstance(n, (gast.List, gast.Dict, gast.Set)) or (
            isinstance(n, gast.Call) and isinstance(n.func, gast.Name)
            and n.func.id in ("list", "zip", "enumerate", "reversed", "iter", "map")
        )
        for n in children(expr)
    )


def head(stmt: gast.stmt) -> list[gast.AST]:
    """What a statement evaluates once, before any body: all of a simple statement."""
    if isinstance(stmt, gast.For):
        return [stmt.iter]
    if isinstance(stmt, (gast.If, gast.While)):
        return [stmt.test] if isinstance(stmt, gast.If) else []
    return [stmt]


@dataclass
class Facts:
    """What one statement reads in its head and in all of it, what it stores, and whether it
    jumps or writes into an array (past which no value moves)."""

    head: set[str]
    reads: set[str]
    stored: set[str]
    barrier: bool
    compound: bool

    @classmethod
    def of(cls, stmt: gast.stmt) -> Facts:
        """In one walk of ``stmt`` (this runs for every statement of every block)."""
        reads: set[str] = set()
        stored: list[str] = []
        barrier = False
        for n in children(stmt):
            if isinstance(n, gast.Name):
                (reads.add(n.id) if isinstance(n.ctx, gast.Load) else stored.append(n.id))
            elif isinstance(n, (gast.Return, gast.Break, gast.Continue)):
                barrier = True
            elif isinstance(n, gast.AugAssign):
                stored.append(single_target(n) or updated_in_place(n))
                barrier = barrier or isinstance(n.target, (gast.Subscript, gast.Attribute))
            elif isinstance(n, gast.Assign):
                for t in n.targets:
                    if isinstance(t, (gast.Subscript, gast.Attribute)):
                        barrier = True
                        if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name):
                            stored.append(t.value.id)
            elif isinstance(n, gast.Call):
                func = n.func
                if isinstance(func, gast.Attribute) and func.attr in LIST_CHANGES \
                        and isinstance(func.value, gast.Name):
                    stored.append(func.value.id)
        compound = isinstance(stmt, (gast.For, gast.If, gast.While, gast.With, gast.Try))
        return cls(
            head=set().union(*(loads(part) for part in head(stmt))) if compound else reads,
            reads=reads, stored=set(stored), barrier=barrier, compound=bool(bodies(stmt)),
        )


@dataclass
class Ahead:
    """For the statements after some position of a block: the index of the first that reads
    each name, of the first that stores it, and of the first barrier and compound statement."""

    read: dict[str, int] = field(default_factory=dict)
    stored: dict[str, int] = field(default_factory=dict)
    barrier: float = NEVER
    compound: float = NEVER

    def first_store(self, names: set[str]) -> float:
        return min((self.stored.get(n, NEVER) for n in names), default=NEVER)


def ahead(block: list[gast.stmt]) -> Iterator[tuple[int, Ahead, list[Facts]]]:
    """``(i, what lies ahead of block[i], the facts of every statement)``, from the last
    statement to the first: one backward walk, each statement's facts found once."""
    facts = [Facts.of(stmt) for stmt in block]
    table = Ahead()
    for i in range(len(block) - 1, -1, -1):
        yield i, table, facts
        fact = facts[i]
        table.read.update(dict.fromkeys(fact.reads, i))
        table.stored.update(dict.fromkeys(fact.stored, i))
        if fact.barrier:
            table.barrier = i
        if fact.compound:
            table.compound = i
