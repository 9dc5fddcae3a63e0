"""Loop invariants computed once, before the loop, as a person writes them.

Normalizing ``vx = vx - DT * DRAG * relative * air`` splits off ``DT_DRAG = DT * DRAG``, which
reads only names the loop never assigns; left in the loop it is computed (and, in reverse mode,
saved) on every trip::

    while y >= 0.0:                    DT_DRAG = DT * DRAG
        DT_DRAG = DT * DRAG     ->     while y >= 0.0:
        ...                                ...

Only arithmetic that cannot raise moves (``+``, ``-``, ``*`` of numbers, division by a nonzero
constant), into a name assigned nowhere else, and never into a parameter (whose own value is
what a loop that runs no trip leaves), so that running it once more, or before a loop that runs
no trip, changes nothing.
"""

from __future__ import annotations

from collections import Counter

import gast

from ad_transpile.infer import _constant_kinds
from ad_transpile.trees import walk

SAFE_OPS = (gast.Add, gast.Sub, gast.Mult)


def hoist_invariants(fn: gast.FunctionDef, kinds, constants: dict | None = None
                     ) -> gast.FunctionDef:
    """Move each loop-invariant assignment of a number out of the loops it does not vary in
    (``constants``: the module-level ones the function reads)."""
    counts = Counter(n.id for n in walk(fn) if isinstance(n, gast.Name)
                     and isinstance(n.ctx, gast.Store))
    params = {p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    never_assigned = {n.id for n in walk(fn) if isinstance(n, gast.Name)} - set(counts)
    numbers = {c for c, k in _constant_kinds(constants or {}).items() if k.is_number}
    fn.body = _Hoister(counts, kinds, numbers - set(counts), params).block(
        fn.body, params | never_assigned)
    return fn


class _Hoister:
    def __init__(self, counts: Counter, kinds, constants: set[str], params: set[str]) -> None:
        self.counts, self.kinds, self.constants = counts, kinds, constants
        self.params = params  # assigned once in the body, but holding a value before it

    def number(self, var: str) -> bool:
        return var in self.constants or self.kinds.of(var).is_number

    def block(self, statements: list[gast.stmt], defined: set[str]) -> list[gast.stmt]:
        """``statements`` with invariants moved out of their loops; ``defined``: the names that
        surely hold their value here (parameters, constants, assignments above)."""
        defined = set(defined)
        out: list[gast.stmt] = []
        for stmt in statements:
            if isinstance(stmt, (gast.For, gast.While)):
                inner = defined | (_stored(stmt.target) if isinstance(stmt, gast.For) else set())
                stmt.body = self.block(stmt.body, inner)
                stmt.orelse = self.block(stmt.orelse, defined)
                if not stmt.orelse:
                    hoisted = self.invariants(stmt, defined)
                    out += hoisted
                    defined |= {s.targets[0].id for s in hoisted}
            elif isinstance(stmt, gast.If):
                stmt.body = self.block(stmt.body, defined)
                stmt.orelse = self.block(stmt.orelse, defined)
            elif isinstance(stmt, gast.Assign):
                defined |= {n for t in stmt.targets for n in _stored(t)}
            out.append(stmt)
        return out

    def invariants(self, loop: gast.stmt, defined: set[str]) -> list[gast.Assign]:
        """Take out of ``loop``'s body the top-level assignments that do not vary in it."""
        varying = {n.id for n in walk(loop) if isinstance(n, gast.Name)
                   and isinstance(n.ctx, gast.Store)}
        hoisted: list[gast.Assign] = []
        available = set(defined)
        for stmt in list(loop.body):
            if len(loop.body) == 1:
                break  # a loop keeps a body
            if self.invariant(stmt, varying - {s.targets[0].id for s in hoisted}, available):
                loop.body.remove(stmt)
                hoisted.append(stmt)
                available.add(stmt.targets[0].id)
        return hoisted

    def invariant(self, stmt: gast.stmt, varying: set[str], available: set[str]) -> bool:
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name)):
            return False
        target = stmt.targets[0].id
        if self.counts[target] != 1 or target in self.params or not self.number(target):
            return False  # a parameter keeps its own value where the loop runs no trip
        operands = _operands(stmt.value)
        return operands is not None and all(
            isinstance(o, gast.Constant) or (
                o.id in available and o.id not in varying and self.number(o.id))
            for o in operands)


def _operands(expr: gast.expr) -> list[gast.expr] | None:
    """The names and numbers of an expression that cannot raise, or None."""
    if isinstance(expr, gast.Constant):
        ok = type(expr.value) in (int, float)
        return [expr] if ok else None
    if isinstance(expr, gast.Name):
        return [expr]
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, (gast.USub, gast.UAdd)):
        return _operands(expr.operand)
    if isinstance(expr, gast.BinOp):
        if isinstance(expr.op, gast.Div):
            ok = (isinstance(expr.right, gast.Constant) and type(expr.right.value) in (int, float)
                  and expr.right.value != 0)
            return _operands(expr.left) if ok else None
        if isinstance(expr.op, SAFE_OPS):
            left, right = _operands(expr.left), _operands(expr.right)
            return None if left is None or right is None else left + right
    return None


def _stored(target: gast.expr) -> set[str]:
    return {n.id for n in walk(target) if isinstance(n, gast.Name)}
