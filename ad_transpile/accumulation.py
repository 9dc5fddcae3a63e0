"""Loops whose iterations are independent but for sums: their adjoint needs no tape.

In ``for i in range(n): r = math.sin(w * xs[i]) - ys[i]; total = total + r * r`` each
iteration reads only values the loop does not change (``w``, ``xs``, ``ys``), its counter,
and what it computed itself; what it carries to the next one is a sum, whose adjoint stays the
same through the loop. The adjoint sweep can then run the iterations again, in their own
order, each computing its values and at once its adjoint, as a person writes the gradient:
nothing is saved on a stack, and no second pass walks the loop backwards.
"""

from __future__ import annotations

import gast

from ad_transpile.trees import walk

WRAPPERS = ("builtins.zip", "builtins.enumerate", "builtins.reversed")
SEQUENCES = ("list", "tuple", "ndarray")


def accumulates_only(loop: gast.For, outside: set[str], calls=None) -> bool:
    """Whether ``loop`` qualifies: a straight-line body of assignments, every value it carries
    an accumulation ``s = s + e`` read nowhere else in the body, and every other value it
    assigns unread ``outside`` the loop. (Where the header cannot be walked again, see
    ``walks_again``, its items are kept in a list, or the adjoint joins the one pass.)"""
    body = loop.body
    if not body or not all(isinstance(s, gast.Assign) and len(s.targets) == 1
                           and isinstance(s.targets[0], gast.Name) for s in body):
        return False
    targets = {n.id for n in walk(loop.target) if isinstance(n, gast.Name)}
    assigned = [s.targets[0].id for s in body]
    sums = {t for t, s in zip(assigned, body) if _accumulates(s.value, t)}
    defined: set[str] = set(targets)
    for stmt, target in zip(body, assigned):
        read = _reads(stmt.value)
        if target in sums:
            if assigned.count(target) != 1 or target in _reads_elsewhere(body, stmt):
                return False
            read = read - {target}
        if read & (set(assigned) - defined):  # carried from the iteration before
            return False
        if target not in sums and (target in defined or target in outside):
            return False  # assigned twice, or read after the loop
        defined.add(target)
    return not (targets & outside)


def nested_accumulates(loop: gast.For, fn: gast.FunctionDef, calls=None) -> bool:
    """Whether ``loop`` is a loop of sums around a loop of sums: assignments (none carried
    from one iteration to the next, none reading a sum), then one inner loop that qualifies
    by itself (``for xi in xs: for xj in xs: e = e + f(xi, xj)``). Its sums are the outer
    loop's: nothing else in the outer loop reads them."""
    if not loop.body or not isinstance(loop.body[-1], gast.For):
        return False
    *first, inner = loop.body
    if inner.orelse or not accumulates_only(inner, names_outside(fn, inner), calls):
        return False
    if not all(isinstance(s, gast.Assign) and len(s.targets) == 1
               and isinstance(s.targets[0], gast.Name) for s in first):
        return False
    sums = {s.targets[0].id for s in inner.body if _accumulates(s.value, s.targets[0].id)}
    outside = names_outside(fn, loop)
    targets = {n.id for n in walk(loop.target) if isinstance(n, gast.Name)}
    assigned = [s.targets[0].id for s in first]
    defined = set(targets)
    for stmt, target in zip(first, assigned):
        read = _reads(stmt.value)
        if read & (set(assigned) - defined) or read & sums:
            return False  # carried from the iteration before, or a partial sum
        if target in defined or target in outside or target in sums:
            return False
        defined.add(target)
    return not (_reads(inner.iter) & sums) and not (targets & outside)


def sums_of(loop: gast.For) -> set[str]:
    """The names a loop of sums adds into (``s = s + e``)."""
    return {s.targets[0].id for s in loop.body
            if isinstance(s, gast.Assign) and _accumulates(s.value, s.targets[0].id)}


def walks_again(iterable: gast.expr, kinds) -> bool:
    """Whether a second ``for`` over ``iterable`` gives the same items: not so for an iterator
    (a ``range``, lists, tuples and arrays, zipped or not, do)."""
    qualname = getattr(iterable, "qualname", None)
    if qualname == "builtins.range":
        return True
    if qualname in WRAPPERS:
        return bool(iterable.args) and not iterable.keywords and all(
            walks_again(a, kinds) for a in iterable.args)
    return isinstance(iterable, gast.Name) and kinds.proven(iterable.id).name in SEQUENCES


def _accumulates(value: gast.expr, target: str) -> bool:
    """``s + e``, ``e + s`` or ``s - e``, ``e`` not reading ``s``."""
    if not isinstance(value, gast.BinOp) or not isinstance(value.op, (gast.Add, gast.Sub)):
        return False
    left = isinstance(value.left, gast.Name) and value.left.id == target
    right = isinstance(value.right, gast.Name) and value.right.id == target
    if isinstance(value.op, gast.Sub):
        return left and not right
    return left != right


def _reads(expr: gast.AST) -> set[str]:
    return {n.id for n in walk(expr) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}


def _reads_elsewhere(body: list[gast.Assign], own: gast.Assign) -> set[str]:
    return {n for s in body if s is not own for n in _reads(s.value)}


def names_outside(fn: gast.FunctionDef, loop: gast.For) -> set[str]:
    """The names read or assigned anywhere in ``fn`` but inside ``loop``."""
    inside = {id(n) for n in walk(loop)}
    return {n.id for n in walk(fn) if isinstance(n, gast.Name) and id(n) not in inside}
