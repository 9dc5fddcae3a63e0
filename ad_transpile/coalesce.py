"""No copy of a number made only so that another statement can go first: the statements go in
the order that needs no copy, as a person orders them.

Two shapes come out of the sweeps. A tangent computed from the old value of a variable the
primal then updates, and a new value computed aside and copied in::

    h_k = h * k                            d_h = k * d_h + h
    d_h_k = k * d_h + h                    h = h * k
    h = h_k                        ->      d_total = d_total + 0.5 / math.sqrt(h) * d_h
    d_h = d_h_k
    d_total = d_total + 0.5 / math.sqrt(h_k) * d_h

and an adjoint saved before it is overwritten, for a statement after it::

    d_x_a = d_x                            d_a += x * d_x
    d_x = math.cos(x) * d_x + a * d_x  ->  d_x = math.cos(x) * d_x + a * d_x
    d_a += x * d_x_a

A statement moves only past statements it shares no name with (it reads nothing they write,
and writes nothing they read or write), and only where every statement involved is an
assignment of plain arithmetic to a name: the rewrite is for numbers, never for arrays, which
a write into one could change through another name.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import gast

from ad_transpile.dataflow import bodies, children, loads, stores

PURE_CALLS = ("math.", "builtins.abs", "builtins.float", "builtins.min", "builtins.max")
TEMPORARY = re.compile(r"_t\d+")
WINDOW = 8  # statements apart, at most: a copy made for a reordering is made close by


def coalesce_copies(fn: gast.FunctionDef, named: frozenset[str],
                    derivatives: frozenset[str] = frozenset()) -> gast.FunctionDef:
    """``fn`` with the copies described above gone; the values ``named`` by the source keep
    their names, and a value never takes the name of a derivative (of ``derivatives``), nor
    a derivative the name of a value: ``vx = speed * dvx_dspeed`` would read as a tangent."""
    stored = Counter(n.id for n in children(fn) if isinstance(n, gast.Name)
                     and not isinstance(n.ctx, gast.Load))
    read = Counter(n.id for n in children(fn) if isinstance(n, gast.Name)
                   and isinstance(n.ctx, gast.Load))
    _coalesce_block(fn.body, stored, read, _Naming(named, derivatives))
    return fn


@dataclass(frozen=True)
class _Naming:
    """Which names a rewrite may give a value: the source's stay, and a value and a derivative
    keep names of their own kinds (a temporary ``_t3`` may become either)."""

    named: frozenset[str]
    derivatives: frozenset[str]

    def derivative(self, var: str) -> bool:
        return var in self.derivatives or var.startswith("d_")

    def may_become(self, old: str, new: str) -> bool:
        base, _, version = old.rpartition("_")
        if old in self.named or (version.isdigit() and base in self.named):
            return False  # a name of the source, or a new version of one (y_1 for y)
        return bool(TEMPORARY.fullmatch(old) or TEMPORARY.fullmatch(new)) \
            or self.derivative(old) == self.derivative(new)


def _coalesce_block(block: list[gast.stmt], stored: Counter, read: Counter,
                    naming: _Naming) -> None:
    for stmt in block:
        for part in bodies(stmt):
            _coalesce_block(getattr(stmt, part), stored, read, naming)
    changed = True
    while changed:  # each rewrite removes a statement: at most as many rounds as statements
        changed = _compute_then_copy(block, stored, read, naming) \
            or _save_then_overwrite(block, stored, read, naming)


def _compute_then_copy(block, stored, read, naming: _Naming) -> bool:
    """``t = e; ...; v = t`` -> ``v = e; ...`` (the reads of ``t`` read ``v``)."""
    for j, copy in enumerate(block):
        pair = _copy(copy)
        if pair is None or not naming.may_become(pair[1], pair[0]) or stored[pair[1]] != 1:
            continue
        v, t = pair
        i = _definition(block, t, j)
        if i is None or not _plain(block[i]):
            continue
        moved = _moved_above(block, i, j, v)
        if moved is None:
            continue
        i = moved.index(block[i])
        moved.remove(copy)
        if _reads_until_written(moved, i + 1, t, v) != read[t] - 1:
            continue
        moved[i].targets[0].id = v
        for stmt in moved[i + 1:]:
            _rename_reads(stmt, t, v)
        block[:] = moved
        stored[t] -= 1
        read[v] += read[t] - 1
        read[t] = 0
        return True
    return False


def _save_then_overwrite(block, stored, read, naming: _Naming) -> bool:
    """``c = v; ...; v = e; ...; u = f(c)`` -> ``...; u = f(v); v = e; ...``: each use of the
    copy moves above the write, where ``v`` still holds the value."""
    for i, copy in enumerate(block):
        pair = _copy(copy)
        if pair is None or not naming.may_become(pair[0], pair[1]) or stored[pair[0]] != 1:
            continue
        c, v = pair
        j = next((k for k in range(i + 1, min(i + WINDOW, len(block)))
                  if v in stores(block[k]) or c in loads(block[k])), None)
        if j is None or c in loads(block[j]) or not _plain(block[j]):
            continue
        users = [s for s in block[j + 1:j + WINDOW] if c in loads(s)]
        if sum(_count_reads(s, c) for s in users) != read[c]:
            continue
        rest = block[j:]
        for stmt in users:
            if not _plain(stmt) or not _independent(stmt, rest[:rest.index(stmt)]):
                break
            rest.remove(stmt)
        else:
            for stmt in users:
                _rename_reads(stmt, c, v)
            block[:] = [*block[:i], *block[i + 1:j], *users, *rest]
            stored[c] -= 1
            read[v] += read[c] - 1
            read[c] = 0
            return True
    return False


def _copy(stmt: gast.stmt) -> tuple[str, str] | None:
    """``(target, source)`` of ``target = source``, two names."""
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Name):
        return stmt.targets[0].id, stmt.value.id
    return None


def _definition(block: list[gast.stmt], target: str, before: int) -> int | None:
    """The index of the assignment of ``target`` a few statements before ``before``."""
    for i in range(before - 1, max(before - WINDOW, 0) - 1, -1):
        if target in stores(block[i]):
            stmt = block[i]
            ok = isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
            return i if ok else None
    return None


def _moved_above(block, i, j, v) -> list[gast.stmt] | None:
    """``block`` with each statement between ``i`` and ``j`` that reads or writes ``v``
    moved just above ``i``, if each can go there; else None."""
    ahead, between = [], []
    for stmt in block[i + 1:j]:
        names = loads(stmt) | stores(stmt)
        if v not in names:
            between.append(stmt)
            continue
        if not _plain(stmt) or v in stores(stmt) \
                or not _independent(stmt, [block[i], *between]):
            return None
        ahead.append(stmt)
    return [*block[:i], *ahead, block[i], *between, *block[j:]]


def _reads_until_written(block, start, t, v) -> int | None:
    """How many reads of ``t`` the statements from ``start`` on make before ``v`` is assigned
    again; None if one reads ``t`` after that (or in a loop that also assigns ``v``)."""
    count, written = 0, False
    for stmt in block[start:]:
        reads_t = _count_reads(stmt, t)
        writes_v = v in stores(stmt)
        if reads_t and (written or writes_v and not _plain(stmt)):
            return None
        count += reads_t
        written = written or writes_v
    return count


def _count_reads(stmt: gast.AST, target: str) -> int:
    return sum(isinstance(n, gast.Name) and n.id == target and isinstance(n.ctx, gast.Load)
               for n in children(stmt))


def _independent(stmt: gast.stmt, others: list[gast.stmt]) -> bool:
    """Whether ``stmt`` can go before all of ``others``: no name in common but reads."""
    reads, writes = loads(stmt), stores(stmt)
    for other in others:
        other_reads, other_writes = loads(other), stores(other)
        if reads & other_writes or writes & (other_reads | other_writes):
            return False
    return True


def _plain(stmt: gast.stmt) -> bool:
    """An assignment (or ``+=``) to a name of arithmetic and pure calls."""
    if isinstance(stmt, gast.Assign):
        if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], gast.Name):
            return False
    elif not (isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name)):
        return False
    for node in children(stmt.value):
        if isinstance(node, gast.Call):
            qualname = getattr(node, "qualname", None) or getattr(node.func, "spelled", "")
            if not qualname.startswith(PURE_CALLS):
                return False
        elif isinstance(node, (gast.Subscript, gast.Attribute)) and not (
                isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name)
                and node.value.id == "math"):
            return False
        elif isinstance(node, (gast.Lambda, gast.NamedExpr, gast.Yield, gast.Await,
                               gast.List, gast.Dict, gast.Set, gast.Tuple)):
            return False
    return True


def _rename_reads(stmt: gast.AST, old: str, new: str) -> None:
    for node in children(stmt):
        if isinstance(node, gast.Name) and node.id == old and isinstance(node.ctx, gast.Load):
            node.id = new
