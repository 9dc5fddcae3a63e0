"""Loop variables nothing reads are named ``_``, as a person (and ruff's B007) writes them.

    for x, y in reversed(_items):         for x, _ in reversed(_items):
        d_w += x * d_t               ->       d_w += x * d_t

The adjoint sweep walks the items of a loop whose primal reads both, but its derivative may need
only some: after simplification a name that nothing reads from the loop on is a discard.
"""

from __future__ import annotations

import copy

import gast

from ad_transpile.trees import walk


def discard_unread_loop_targets(fn: gast.FunctionDef) -> gast.FunctionDef:
    """Rename each loop-target name of ``fn`` whose value nothing can read to ``_``.

    A name read before the loop keeps its value from there on either way; a read in the
    top-level statement around the loop (a loop of loops runs it again) or after it would see
    the loop's value, and keeps the name. A loop in or around another loop (which must not
    assign the other's variable), or in a function that has a ``_`` already, gets ``_name``.
    """
    used = {n.id for n in walk(fn) if isinstance(n, gast.Name)}
    last_read = {}  # each name -> the last top-level statement that reads it (one walk)
    for position, stmt in enumerate(fn.body):
        last_read.update(dict.fromkeys(_reads([stmt]), position))
    for position, stmt in enumerate(fn.body):
        for loop, nested in _loops(stmt, inside=False):
            loop.target = copy.deepcopy(loop.target)  # the primal's loop may share it
            for target in _names(loop.target):
                if last_read.get(target.id, -1) >= position or target.id.startswith("_"):
                    continue
                plain = "_" not in used and not nested
                discard = "_" if plain else f"_{target.id}"
                if discard == "_" or discard not in used:
                    target.id = discard
    return fn


def _loops(stmt: gast.stmt, inside: bool):
    """The ``for`` loops in ``stmt``, each with whether it is in or around another loop."""
    if isinstance(stmt, gast.For):
        inner = [loop for s in stmt.body + stmt.orelse for loop in _loops(s, True)]
        yield stmt, inside or bool(inner)
        yield from inner
        return
    if isinstance(stmt, gast.While):
        inside = True
    for field in ("body", "orelse"):
        for child in getattr(stmt, field, None) or []:
            yield from _loops(child, inside)


def _reads(statements: list[gast.stmt]) -> set[str]:
    return {n.id for s in statements for n in walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _names(target: gast.expr) -> list[gast.Name]:
    if isinstance(target, gast.Name):
        return [target]
    if isinstance(target, (gast.Tuple, gast.List)):
        return [n for elt in target.elts for n in _names(elt)]
    return []  # a subscript or an attribute is a write that stays
