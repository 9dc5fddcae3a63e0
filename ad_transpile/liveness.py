"""Dead code, for the simplify pass: assignments whose value is never read, and branches and
loops left empty.

A backward liveness walk. A loop's live names are a fixed point over its body; the walk starts
each loop's iteration from the names it found live there the last time (they only grow, since
the names live after a loop only grow while an outer loop's fixed point is found), so a nest of
loops costs a few walks of each level, not a number growing with the depth.
"""

from __future__ import annotations

from collections import Counter

import gast

from ad_transpile.dataflow import (
    LOOPS,
    children,
    loads,
    pure,
    single_target,
    stores,
    updated_in_place,
)


def remove_dead(block: list[gast.stmt]) -> list[gast.stmt]:
    """Drop assignments whose value is never read, and branches and loops left empty."""
    return _Liveness().block(_without_faint(block), set(), set(), apply=True)[0]


def _without_faint(block: list[gast.stmt]) -> list[gast.stmt]:
    """Drop the updates ``s = s + e`` of a name that nothing else reads: a sum in a loop reads
    itself on the next trip, which a liveness walk takes for a use (the primal sum of a
    gradient that never needs its value). Not ``s += e``, which may change an array in place
    that another name holds."""
    real: Counter = Counter()
    updates: dict[int, str] = {}
    for stmt in block:
        for node in children(stmt):
            if type(node) is gast.Name:
                if type(node.ctx) is gast.Load:
                    real[node.id] += 1
            elif type(node) is gast.Assign and len(node.targets) == 1 \
                    and type(node.targets[0]) is gast.Name:
                target = node.targets[0].id
                if target in loads(node.value) and pure(node.value):
                    updates[id(node)] = target
                    real[target] -= 1  # its own read, counted with the names below it
    faint = {t for t in updates.values() if real[t] <= 0}
    return _dropped(block, faint, updates) if faint else block


def _dropped(block: list[gast.stmt], faint: set[str], updates: dict[int, str]
             ) -> list[gast.stmt]:
    kept = []
    for stmt in block:
        if updates.get(id(stmt)) in faint:
            continue
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, _dropped(inner, faint, updates) or [gast.Pass()])
        kept.append(stmt)
    return kept


class _Liveness:
    def __init__(self) -> None:
        self.found: dict[int, set[str]] = {}  # a loop -> the names live at its body's start

    def block(self, block, live_out: set[str], loop_exit: set[str], apply: bool):
        """The block without dead statements (if ``apply``) and the names live at its start."""
        live = set(live_out)
        kept: list[gast.stmt] = []
        for stmt in reversed(block):
            keep, live = self.statement(stmt, live, loop_exit, apply)
            if keep:
                kept.append(keep)
        return kept[::-1], live

    def statement(self, stmt, live: set[str], loop_exit: set[str], apply: bool):
        target = single_target(stmt)
        if isinstance(stmt, gast.Assign) and target is not None and pure(stmt.value):
            if target not in live:
                return None, live
            if isinstance(stmt.value, gast.Name) and stmt.value.id == target:
                return None, live
            return stmt, (live - {target}) | loads(stmt.value)
        if isinstance(stmt, gast.AugAssign):
            if (target or updated_in_place(stmt)) not in live and pure(stmt.value):
                return None, live
            return stmt, live | loads(stmt)
        if isinstance(stmt, gast.Return):
            return stmt, loads(stmt.value)
        if isinstance(stmt, gast.Break):
            return stmt, set(loop_exit)
        if isinstance(stmt, gast.If):
            body, body_live = self.block(stmt.body, live, loop_exit, apply)
            orelse, orelse_live = self.block(stmt.orelse, live, loop_exit, apply)
            if apply:
                if not body and not orelse:
                    return None, live
                stmt.body, stmt.orelse = body or [gast.Pass()], orelse
            return stmt, body_live | orelse_live | loads(stmt.test)
        if isinstance(stmt, LOOPS):
            return self.loop(stmt, live, apply)
        if isinstance(stmt, gast.Pass):
            return None, live
        return stmt, (live - stores(stmt)) | loads(stmt)

    def loop(self, stmt, live_after: set[str], apply: bool):
        header = loads(stmt.iter) if isinstance(stmt, gast.For) else loads(stmt.test)
        targets = stores(stmt.target) if isinstance(stmt, gast.For) else set()
        again = header if isinstance(stmt, gast.While) else set()
        body_in = self.found.get(id(stmt), set())
        while True:
            body_out = live_after | (body_in - targets) | again
            _, new_in = self.block(stmt.body, body_out, live_after, apply=False)
            if new_in <= body_in:
                break
            body_in = body_in | new_in
        self.found[id(stmt)] = body_in
        live_before = live_after | (body_in - targets) | header
        if apply:
            body_out = live_after | (body_in - targets) | again
            body, _ = self.block(stmt.body, body_out, live_after, apply=True)
            if not body and isinstance(stmt, gast.For) and not targets & live_after:
                return None, live_after
            stmt.body = body or [gast.Pass()]
        return stmt, live_before
