"""Constants, copies and common subexpressions, for the simplify pass.

Both rewrites walk a block forward once, keeping what is known (a name that stands for a
constant or another name; an expression some name already holds) and forgetting it at the
first statement that writes a name it depends on, found through an index from each name to the
facts that read it.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import gast

from ad_transpile.dataflow import (
    all_stores,
    bodies,
    children,
    fingerprint,
    loads,
    shareable,
    single_target,
)
from ad_transpile.primitives import copy_tree, is_constant, name


def store_counts(block: list[gast.stmt]) -> Counter:
    """How many statements store each name: what the rewrites read as "assigned once"; none of
    them stores a name more often than before."""
    return Counter(n for s in block for n in all_stores(s))


def propagate(block: list[gast.stmt], counts: Counter | None = None) -> list[gast.stmt]:
    """Replace a name assigned once with its value when that value is a constant or a name."""
    counts = store_counts(block) if counts is None else counts
    _propagate_block(block, counts)
    return block


def _propagate_block(block: list[gast.stmt], counts: Counter) -> None:
    known: dict[str, gast.expr] = {}
    readers: defaultdict[str, set[str]] = defaultdict(set)  # operand -> names known through it
    for stmt in block:
        for part in bodies(stmt):
            _propagate_block(getattr(stmt, part), counts)
        written = set(all_stores(stmt))
        lost = {k for w in written for k in readers.get(w, ())} | (written & known.keys())
        kept = {k: v for k, v in known.items() if k not in lost} if lost else known
        _Substitute(kept).visit(stmt)
        if lost and isinstance(stmt, (gast.Assign, gast.AugAssign)):
            # the value is read before its own assignment overwrites an operand
            stmt.value = _Substitute({k: known[k] for k in lost}).visit(stmt.value)
        for k in lost:
            for operand in loads(known.pop(k)) | {k}:
                readers[operand].discard(k)
        target = single_target(stmt)
        if not isinstance(stmt, gast.Assign) or target is None or counts[target] != 1:
            continue
        value = stmt.value
        operands = loads(value)
        if not (is_constant(value) or isinstance(value, gast.Name)) or operands == {target}:
            continue
        known[target] = value
        for operand in operands | {target}:
            readers[operand].add(target)


class _Substitute(gast.NodeTransformer):
    """Each read of a known name becomes a copy of what it stands for."""

    def __init__(self, known: dict[str, gast.expr]) -> None:
        self.known = known

    def visit(self, node):
        return super().visit(node) if self.known else node

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in self.known:
            return copy_tree(self.known[node.id])
        return node

    def visit_Subscript(self, node):
        value = node.value
        if isinstance(value, gast.Name) and is_constant(self.known.get(value.id)):
            node.slice = self.visit(node.slice)  # 1.0[0] is no code
            return node
        return self.generic_visit(node)


def share_common(block: list[gast.stmt], counts: Counter | None = None) -> list[gast.stmt]:
    """Within straight-line code, a value computed twice is computed once."""
    counts = store_counts(block) if counts is None else counts
    _share_block(block, counts)
    return block


def _share_block(block: list[gast.stmt], counts: Counter) -> None:
    seen: dict[tuple, str] = {}  # an expression's fingerprint -> the name that holds it
    readers: defaultdict[str, set[tuple]] = defaultdict(set)  # a name -> expressions reading it
    holders: defaultdict[str, set[tuple]] = defaultdict(set)  # a name -> expressions it holds
    for stmt in block:
        for part in bodies(stmt):
            _share_block(getattr(stmt, part), counts)
        target = single_target(stmt)
        if seen and isinstance(stmt, (gast.Assign, gast.AugAssign, gast.Return)) \
                and stmt.value is not None:
            stmt.value = _Shared(seen).visit(stmt.value)
        if isinstance(stmt, gast.Assign) and target and counts[target] == 1:
            value = stmt.value
            if not (isinstance(value, gast.Name) or is_constant(value)) and shareable(value):
                key = fingerprint(value)
                if key in seen:
                    stmt.value = name(seen[key])
                else:
                    seen[key] = target
                    holders[target].add(key)
                    for n in _names(value):
                        readers[n].add(key)
        for w in set(all_stores(stmt)):
            for k in readers.pop(w, ()):
                seen.pop(k, None)
            if w != target:
                for k in holders.pop(w, ()):
                    seen.pop(k, None)


class _Shared(gast.NodeTransformer):
    """A part of an expression that a name already holds becomes that name:
    ``math.cos(angle)`` after ``cos_angle = math.cos(angle)``."""

    def __init__(self, seen: dict[str, str]) -> None:
        self.seen = seen

    def visit(self, node):
        if isinstance(node, gast.Call) or isinstance(node, (gast.BinOp, gast.UnaryOp)) and sum(
                isinstance(n, (gast.BinOp, gast.UnaryOp, gast.Call)) for n in children(node)) > 1:
            # (one operation such as ``2.0 * y`` costs no more to write again than a name)
            holder = self.seen.get(fingerprint(node))
            if holder is not None:
                return name(holder)
        return super().visit(node)


def _names(expr: gast.expr) -> set[str]:
    return {n.id for n in children(expr) if isinstance(n, gast.Name)}
