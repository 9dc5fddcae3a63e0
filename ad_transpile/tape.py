"""A small tape for a run of assignments: one append per run, holding only what cannot be had
again more cheaply.

The adjoint sweep of a run saves each value its adjoints read just before something overwrites
it. Left at that, the projectile's loop makes two appends per trip, of ``vy`` before its update
and of ``(air, relative, DT_DRAG_relative, DRAG_relative)`` at the end. A person tapes one
tuple::

    _stack.append((vy, air, relative))   # vy before its update: air and relative hold already
    vy = vy - DT * (GRAVITY + DRAG_relative * vy)

and in the adjoint sweep computes ``DRAG_relative = DRAG * relative`` again from the taped
``relative``: a product of a taped value and one the loop never changes costs less than its
place on the tape.
"""

from __future__ import annotations

import gast

from ad_transpile.calls import assigned_names
from ad_transpile.trees import walk

CHEAP = (gast.Add, gast.Sub, gast.Mult)


def recompute_cheap(sweep, run: list[gast.Assign], pushes: dict[int, list[str]],
                    again: dict[int, list[gast.Assign]], loops: tuple,
                    pushed_at: dict[str, int] | None = None) -> None:
    """Take off ``pushes`` (restore point -> names) the values that are a ``+``, ``-`` or
    ``*`` of numbers at hand where they are restored (constants, values the loops never
    change, values restored at the same point or before it in the adjoint sweep that still
    held the value they were computed from when saved: ``pushed_at``, where they are saved
    in the primal sweep, if not at their restore point), and compute them again there."""
    if sweep.arrays:
        return  # shapes and broadcasting: keep to the values as they were
    restored_by_loop = {n.id for loop in loops if isinstance(loop, gast.For)
                        for n in walk(loop.target) if isinstance(n, gast.Name)}
    restored_at = {v: p for p, names in pushes.items() for v in names}
    pushed_at = pushed_at or restored_at
    index = {id(s): i for i, s in enumerate(run)}
    for point in sorted(pushes):
        for var in list(pushes[point]):
            stmt = sweep.read_once.get(var)
            operands = _operands(stmt.value) if stmt is not None else None
            if operands is None or id(stmt) not in index \
                    or not sweep.activity.kinds.of(var).is_number:
                continue
            made = index[id(stmt)]
            here = (sweep, run, stmt, made, point, restored_at, pushed_at, restored_by_loop,
                    loops)
            if all(_at_hand(o, *here) for o in operands):
                pushes[point].remove(var)
                del restored_at[var]
                if stmt not in again.setdefault(point, []):
                    again[point].append(stmt)
    for statements in again.values():  # in the primal's order: each reads the ones
        statements.sort(key=lambda s: index.get(id(s), -1))  # before it


def _at_hand(operand: gast.expr, sweep, run, stmt, made: int, point: int, restored_at: dict,
             pushed_at: dict, restored_by_loop: set[str], loops: tuple) -> bool:
    """Whether ``operand`` of ``stmt`` (run[made]) holds, where the adjoint sweep computes
    ``stmt`` again at ``point``, the value ``stmt`` read."""
    if isinstance(operand, gast.Constant):
        return True
    var = operand.id
    if var in restored_at:  # restored with it or before it, and saved before it changed
        saved = pushed_at[var]
        return restored_at[var] >= point and made < saved and not any(
            var in assigned_names(run[j]) for j in range(made + 1, saved))
    return _unchanging(sweep, var, stmt, restored_by_loop, loops)


def _unchanging(sweep, var: str, stmt: gast.Assign, restored_by_loop: set[str],
                loops: tuple) -> bool:
    """Whether ``var`` holds, when the adjoint of ``stmt`` runs, the value ``stmt`` read."""
    if not sweep.activity.kinds.of(var).is_number and var in sweep.assigned_at:
        return False
    if var in restored_by_loop or var not in sweep.assigned_at:
        return True  # a loop variable given back by the reversed header, or a constant
    if sweep.invariant_loop(var, loops) is not None:
        return True  # saved once after the loop it does not change in
    return not sweep.overwritten_later(var, stmt, loops)


def _operands(expr: gast.expr) -> list[gast.expr] | None:
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, CHEAP):
        parts = [expr.left, expr.right]
    elif isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        parts = [expr.operand]
    else:
        return None
    if all(isinstance(p, gast.Name) or (isinstance(p, gast.Constant)
                                        and type(p.value) in (int, float)) for p in parts):
        return parts
    return None


def one_push(sweep, run: list[gast.Assign], pushes: dict[int, list[str]],
             again: dict[int, list[gast.Assign]],
             pieces: dict[int, list[gast.stmt]]) -> dict[int, list[str]] | None:
    """The run's saves as one append at the first point that saves anything, popped where the
    adjoint of the run starts; None where that would change a value an adjoint reads:
    a value saved later must already hold at the first point, and a value saved before it
    is overwritten must not be read, as its new value, by the adjoints that run before it
    used to be restored (``pieces``: the adjoint statements of each statement of the run)."""
    points = sorted(p for p, names in pushes.items() if names)
    if len(points) < 2 or sweep.arrays:
        return None
    first, end = points[0], len(run)
    for point in points[1:]:
        for var in pushes[point]:
            if any(var in assigned_names(run[j]) for j in range(first, point)):
                return None
    every = [v for p in points for v in pushes[p]]
    if len(set(every)) != len(every):
        return None
    for point in points:
        if point == end:
            continue
        names = set(pushes[point])
        ahead = [s for i in range(point, end) for s in pieces.get(i, [])]
        ahead += [s for p in range(point + 1, end + 1) for s in again.get(p, [])]
        if any(names & _names(s) for s in ahead):
            return None
    return {first: every}


def _names(stmt: gast.AST) -> set[str]:
    return {n.id for n in walk(stmt) if isinstance(n, gast.Name)}
