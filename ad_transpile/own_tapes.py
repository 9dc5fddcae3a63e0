"""A loop that tapes the same values on every trip gets a list of its own, walked backwards.

The reverse sweep saves values on one shared stack and pops them one at a time. Where a loop
outside any other loop appends the same values on every trip, and its reversed loop pops them
on every trip, a person keeps them in a list of their own and walks it backwards, as the
reversed loop's variable: no ``pop`` call per value, no trip counter::

    _stack = []                          _xs = []
    for _ in range(n):                   for _ in range(n):
        _stack.append(x)                     _xs.append(x)
        x = x * a + math.sin(x)      ->      x = x * a + math.sin(x)
    ...                                  ...
    for _ in reversed(range(n)):         for x in reversed(_xs):
        x = _stack.pop()                     d_a += x * d_x
        d_a += x * d_x                       d_x = (math.cos(x) + a) * d_x
        d_x = (math.cos(x) + a) * d_x

The reverse pass marks each loop and its reversed loop with the same ``tape_pair``; the rewrite
takes a pair only where the values are sure to match: every append and every pop at the top of
its loop's body (no ``break``, ``continue`` or ``return`` skips one), as many of each, and
nothing before a pop in the reversed body touching the names it assigns.
"""

from __future__ import annotations

import gast

from ad_transpile.dataflow import children, loads, stores
from ad_transpile.explain import OWN_TAPE, SAVED, TAPE, noted
from ad_transpile.primitives import assign, name

LOOPS = (gast.For, gast.While)


def own_tapes(fn: gast.FunctionDef) -> gast.FunctionDef:
    """``fn`` with each taped loop pair outside other loops on lists of its own."""
    taken = {n.id for n in children(fn) if isinstance(n, gast.Name)}
    taken |= {a.id for a in fn.args.args}
    for block in _blocks_outside_loops(fn.body):
        _rewrite_block(block, taken)
    _drop_unused(fn)
    return fn


def _blocks_outside_loops(block: list[gast.stmt]):
    yield block
    for stmt in block:
        if isinstance(stmt, gast.If):
            yield from _blocks_outside_loops(stmt.body)
            yield from _blocks_outside_loops(stmt.orelse)


def _rewrite_block(block: list[gast.stmt], taken: set[str]) -> None:
    loops = {}
    for stmt in block:
        pair = getattr(stmt, "tape_pair", None)
        if isinstance(stmt, LOOPS) and pair is not None:
            loops.setdefault(pair, []).append(stmt)
    for (_, stack), found in loops.items():
        if len(found) != 2:
            continue
        primal, backwards = found
        if not isinstance(backwards, gast.For) or block.index(primal) > block.index(backwards):
            continue
        pushes = _pushes(primal, stack)
        pops = _pops(backwards, stack)
        if not pushes or pops is None or len(pushes) != len(pops) or not _walkable(pops):
            continue
        pairs = list(zip(reversed(pushes), pops))  # in the order popped: the last taped first
        tapes = [_fresh(_tape_name(pop.targets[0]), taken) for _, pop in pairs]
        for (push, _), tape in zip(pairs, tapes):
            push.value.func.value = name(tape)
            push.own_tape = SAVED
        where = block.index(primal)
        block[where:where] = _empty_lists(tapes)
        _walk_backwards(backwards, [pop for _, pop in pairs], tapes)


def _pushes(loop: gast.stmt, stack: str) -> list[gast.Expr] | None:
    """The appends to ``stack`` at the top of ``loop``'s body, if the stack is touched
    nowhere else in it and every trip makes them."""
    if not _every_trip(loop):
        return None
    pushes = [s for s in loop.body if _is_call_on(s, stack, "append")]
    if len(pushes) != _uses(loop.body, stack):
        return None
    return pushes


def _pops(loop: gast.For, stack: str) -> list[gast.Assign] | None:
    """The pops from ``stack`` at the top of ``loop``'s body, if the stack is touched nowhere
    else in it and nothing before a pop reads or assigns what the pop assigns."""
    if not _every_trip(loop):
        return None
    pops, before = [], set()
    for stmt in loop.body:
        if isinstance(stmt, gast.Assign) and _is_pop(stmt.value, stack):
            if stores(stmt.targets[0]) & before:
                return None
            pops.append(stmt)
        before |= loads(stmt) | stores(stmt)
    if len(pops) != _uses(loop.body, stack) or stores(loop.target) & _popped(pops):
        return None
    return pops


def _every_trip(loop: gast.stmt) -> bool:
    """Whether each trip runs the whole top of the body: no ``break``, ``continue`` or
    ``return`` in it, no ``else``."""
    return not loop.orelse and not any(
        isinstance(n, (gast.Break, gast.Continue, gast.Return))
        for s in loop.body for n in children(s))


def _walkable(pops: list[gast.Assign]) -> bool:
    """Whether each pop assigns one name. A tuple stays on the shared stack, where it is one
    append a trip (``_stack.append((vy, air, relative))``): as the item of a list walked
    backwards, forward mode over this code (for a Hessian) could not follow it."""
    return all(isinstance(p.targets[0], gast.Name) for p in pops)


def _own_reads(loop: gast.For) -> set[str]:
    return stores(loop.target) & {n for s in loop.body for n in loads(s)}


def _walk_backwards(loop: gast.For, pops: list[gast.Assign], tapes: list[str]) -> None:
    """The reversed loop's variables become the taped values, read from the lists backwards
    beside its own iterable where its own variable is read."""
    own = _own_reads(loop)
    lists = [_reversed(name(tape)) for tape in tapes]
    targets = [pop.targets[0] for pop in pops]
    if own:
        lists.insert(0, loop.iter)
        targets.insert(0, loop.target)
    loop.iter = lists[0] if len(lists) == 1 else gast.Call(func=name("zip"), args=lists,
                                                           keywords=[])
    loop.target = targets[0] if len(targets) == 1 else gast.Tuple(elts=targets,
                                                                  ctx=gast.Store())
    loop.body = [s for s in loop.body if not any(s is p for p in pops)] or [gast.Pass()]
    noted(loop, OWN_TAPE)


def _drop_unused(fn: gast.FunctionDef) -> None:
    """The shared stack and a while loop's trip counter go where nothing reads them now
    (``_trips += 1`` counts, it does not read)."""
    read = {n.id for n in children(fn) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}
    for node in children(fn):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                block[:] = [s for s in block if not _only_sets_unread(s, read)] or [gast.Pass()]


def _only_sets_unread(stmt: gast.stmt, read: set[str]) -> bool:
    """``_stack = []``, ``_trips = 0`` or ``_trips += 1`` of a name nothing reads."""
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1:
        target, value = stmt.targets[0], stmt.value
        fresh = (isinstance(value, gast.List) and not value.elts) or (
            isinstance(value, gast.Constant) and value.value == 0)
    elif isinstance(stmt, gast.AugAssign):
        target, fresh = stmt.target, isinstance(stmt.value, gast.Constant)
    else:
        return False
    return fresh and isinstance(target, gast.Name) and target.id.startswith("_") \
        and target.id not in read


def _is_call_on(stmt: gast.stmt, stack: str, method: str) -> bool:
    return isinstance(stmt, gast.Expr) and _is_method(stmt.value, stack, method) \
        and len(stmt.value.args) == 1


def _is_pop(value: gast.expr, stack: str) -> bool:
    return _is_method(value, stack, "pop") and not value.args


def _is_method(value: gast.expr, stack: str, method: str) -> bool:
    return isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
        and value.func.attr == method and isinstance(value.func.value, gast.Name) \
        and value.func.value.id == stack and not value.keywords


def _uses(block: list[gast.stmt], stack: str) -> int:
    return sum(isinstance(n, gast.Name) and n.id == stack for s in block for n in children(s))


def _popped(pops: list[gast.Assign]) -> set[str]:
    return {n for p in pops for n in stores(p.targets[0])}


def _tape_name(target: gast.expr) -> str:
    """``_xs`` for the values of ``x``; ``_tape`` for a tuple of them."""
    if isinstance(target, gast.Name):
        return f"_{target.id.lstrip('_')}s"
    return "_tape"


def _fresh(base: str, taken: set[str]) -> str:
    found, number = base, 1
    while found in taken:
        number += 1
        found = f"{base}{number}"
    taken.add(found)
    return found


def _empty_lists(tapes: list[str]) -> list[gast.stmt]:
    lists = [assign(tape, gast.List(elts=[], ctx=gast.Load())) for tape in tapes]
    for made in lists:
        made.own_tape = TAPE
    return lists


def _reversed(value: gast.expr) -> gast.Call:
    return gast.Call(func=name("reversed"), args=[value], keywords=[])
