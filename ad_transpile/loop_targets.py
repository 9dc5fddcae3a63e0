"""Loop variables nothing reads are named ``_``, as a person (and ruff's B007) writes them.

    for x, y in reversed(_items):         for x, _ in reversed(_items):
        d_w += x * d_t               ->       d_w += x * d_t

The adjoint sweep walks the items of a loop whose primal reads both, but its derivative may need
only some: after simplification a name that nothing reads from the loop on is a discard.
"""

from __future__ import annotations

import copy

import gast


def discard_unread_loop_targets(fn: gast.FunctionDef) -> gast.FunctionDef:
    """Rename to ``_`` each loop-target name of ``fn`` whose value nothing can read.

    A name read before the loop keeps its value from there on either way; a read in the
    top-level statement around the loop (a loop of loops runs it again) or after it would see
    the loop's value, and keeps the name.
    """
    if "_" in _reads(fn.body):  # ``_`` means something here: keep every name as it is
        return fn
    for position, stmt in enumerate(fn.body):
        later = _reads(fn.body[position:])
        for loop in gast.walk(stmt):
            if isinstance(loop, (gast.For, gast.AsyncFor)):
                loop.target = copy.deepcopy(loop.target)  # the primal's loop may share it
                for target in _names(loop.target):
                    if target.id not in later:
                        target.id = "_"
    return fn


def _reads(statements: list[gast.stmt]) -> set[str]:
    return {n.id for s in statements for n in gast.walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _names(target: gast.expr) -> list[gast.Name]:
    if isinstance(target, gast.Name):
        return [target]
    if isinstance(target, (gast.Tuple, gast.List)):
        return [n for elt in target.elts for n in _names(elt)]
    return []  # a subscript or an attribute is a write that stays
