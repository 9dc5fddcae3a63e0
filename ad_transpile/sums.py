"""Adjoint sums written as one sum, for the simplify pass.

The reverse sweep adds each contribution to an adjoint where it is found: ``d_x = a`` and,
lines later, ``d_x += b``. A person writes ``d_x = a + b`` once ``b`` is known. Where nothing
in between reads or writes ``d_x``, changes what ``a`` reads, jumps, or writes into an array,
the two statements become one at the place of the second, while it stays short.
"""

from __future__ import annotations

from collections import defaultdict

import gast

from ad_transpile.dataflow import Facts, bodies, loads, pure, single_target
from ad_transpile.inlining import SHORT, _length, _operations

LIMIT = 8  # operations in one merged sum


def merge_sums(block: list[gast.stmt]) -> list[gast.stmt]:
    """``d = a; ...; d += b`` -> ``...; d = a + b`` in every block, in one walk of each."""
    for stmt in block:
        for part in bodies(stmt):
            setattr(stmt, part, merge_sums(getattr(stmt, part)))
    pending: dict[str, int] = {}  # an adjoint -> the index of its assignment still open
    readers: defaultdict[str, set[str]] = defaultdict(set)  # a name -> open sums reading it
    merged: set[int] = set()  # indexes of assignments written into a later statement
    for i, stmt in enumerate(block):
        target = single_target(stmt)
        if target in pending and _adds(stmt, target):
            first = block[pending[target]]
            total = gast.BinOp(left=first.value, op=_op(stmt), right=stmt.value)
            whole = gast.Assign(targets=stmt.targets if isinstance(stmt, gast.Assign)
                                else [stmt.target], value=total, type_comment=None)
            if _operations(total) <= LIMIT and _length(whole) <= SHORT:
                block[i] = gast.copy_location(whole, stmt)
                merged.add(pending.pop(target))
                _open(pending, readers, target, i, block[i])
                continue
        fact = Facts.of(stmt)
        if fact.barrier or fact.compound:
            pending.clear()
            readers.clear()
        closed = (fact.reads | fact.stored) & pending.keys()
        closed |= {d for n in fact.stored for d in readers.get(n, ())}
        for d in closed:
            pending.pop(d, None)
        if isinstance(stmt, gast.Assign) and target is not None and pure(stmt.value) \
                and not fact.barrier:
            _open(pending, readers, target, i, stmt)
    return [stmt for i, stmt in enumerate(block) if i not in merged]


def _open(pending: dict, readers: defaultdict, target: str, i: int, stmt: gast.Assign) -> None:
    pending[target] = i
    for operand in loads(stmt.value):
        readers[operand].add(target)


def _adds(stmt: gast.stmt, target: str) -> bool:
    """``d += b`` or ``d -= b`` (or ``d = d + b``) whose ``b`` does not read ``d``."""
    if isinstance(stmt, gast.AugAssign):
        return isinstance(stmt.op, (gast.Add, gast.Sub)) and target not in loads(stmt.value) \
            and pure(stmt.value)
    return False


def _op(stmt: gast.AugAssign) -> gast.operator:
    return gast.Sub() if isinstance(stmt.op, gast.Sub) else gast.Add()
