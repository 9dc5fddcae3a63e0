"""Values written where they are used, for the simplify pass: a sign or constant factor folded
into its one use, a value used once moved into the statement that uses it, and ``v = e;
return v`` written ``return e``.

Whether a value may move to its use (nothing in between changes an operand, jumps, or writes
into an array) is read from the table ``dataflow.ahead`` builds in one backward walk.
"""

from __future__ import annotations

import ast
import copy
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import gast

from ad_transpile.copies import _Substitute, store_counts
from ad_transpile.dataflow import (
    Ahead,
    Facts,
    ahead,
    bodies,
    children,
    loads,
    pure,
    shareable,
    single_target,
)
from ad_transpile.primitives import copy_tree, is_constant, name

# negations


def fold_signs(block: list[gast.stmt], absorb: Callable,
               counts: Counter | None = None) -> list[gast.stmt]:
    """``v = -e`` or ``v = c * e`` (``c`` a number), used once by a later statement of the same
    block, is folded into that use where ``absorb`` finds that this costs no operation, so that
    ``d = -g; s = s + a * d`` becomes ``s = s - a * g``: one pass over an array fewer."""
    counts = store_counts(block) if counts is None else counts
    uses = Counter(n.id for s in block for n in children(s)
                   if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load))
    _fold_signs_block(block, counts, uses, absorb)
    return block


def _fold_signs_block(block: list[gast.stmt], counts: Counter, uses: Counter,
                      absorb: Callable) -> None:
    for stmt in block:
        for part in bodies(stmt):
            _fold_signs_block(getattr(stmt, part), counts, uses, absorb)
    uses_of: dict[int, int] = {}
    for i, table, _ in ahead(block):
        stmt = block[i]
        target = single_target(stmt)
        if (not isinstance(stmt, gast.Assign) or target is None or counts[target] != 1
                or uses[target] != 1 or not _scaled(stmt.value) or not pure(stmt.value)):
            continue
        j = table.read.get(target)
        if j is not None and table.first_store(loads(stmt.value)) >= j and table.compound >= j:
            uses_of[i] = j
    for i, j in sorted(uses_of.items()):
        stmt, later = block[i], block[j]
        target = single_target(stmt)
        if isinstance(later, (gast.Assign, gast.AugAssign)) and target not in loads(
                getattr(later, "target", None)):
            replaced = _Substitute({target: stmt.value}).visit(copy_tree(later.value))
            folded = absorb(later.value, replaced)
            if folded is not None:
                later.value = folded
                stmt.value = name(target)  # v = v: removed as dead code


def _scaled(value: gast.expr) -> bool:
    """``-e``, or ``c * e`` for a number ``c``."""
    if isinstance(value, gast.UnaryOp):
        return isinstance(value.op, gast.USub) and not is_constant(value)
    return (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult)
            and is_constant(value.left) and not is_constant(value.right))


# return


def inline_into_return(block: list[gast.stmt]) -> list[gast.stmt]:
    """``v = expr; return v`` reads better as ``return expr`` when nothing else uses ``v``."""
    if len(block) < 2:
        return block
    last, before = block[-1], block[-2]
    if (
        isinstance(last, gast.Return)
        and isinstance(last.value, gast.Name)
        and isinstance(before, gast.Assign)
        and single_target(before) == last.value.id
        and pure(before.value)
    ):
        uses = sum(1 for s in block for n in children(s)
                   if isinstance(n, gast.Name) and n.id == last.value.id)
        if uses == 2:
            return [*block[:-2], gast.copy_location(gast.Return(value=before.value), last)]
    return block


# values used once


def inline_single_uses(block: list[gast.stmt], named: frozenset[str] = frozenset(),
                       limit: int = 6, counts: Counter | None = None) -> list[gast.stmt]:
    """``t = a * b; u = math.sin(t) + c`` reads better as ``u = math.sin(a * b) + c`` when
    nothing else uses ``t``: a value used once, by a later statement of the same block (not
    from inside a loop, where it would be computed again), whose operands do not change in
    between, is written where it is used, while that statement stays short (``limit``
    operations). A name assigned in several places is inlined only if every one of its
    values is, each into its own use."""
    stored = store_counts(block) if counts is None else counts
    used = Counter(n.id for stmt in block for n in children(stmt) if isinstance(n, gast.Name)
                   and isinstance(n.ctx, gast.Load))
    wanted = {t for t, n in used.items() if n == stored[t] and not _named(t, named)}
    found: dict[str, list[_Inline]] = {}
    _inlinable(block, found, limit, wanted)
    touched: set[int] = set()
    for target, places in found.items():
        if not (len(places) == stored[target] == used[target]) or _named(target, named):
            continue
        ids = {id(s) for place in places for s in (place.definition, place.use)}
        if ids & touched:
            continue
        touched |= ids
        for place in places:
            setattr(place.use, place.part, place.after)
            place.owner.remove(place.definition)
    return block


@dataclass
class _Inline:
    """``definition`` (in ``owner``) written into the ``part`` of ``use``, giving ``after``."""

    owner: list[gast.stmt]
    definition: gast.Assign
    use: gast.stmt
    part: str
    after: gast.expr


def _named(target: str, named: frozenset[str]) -> bool:
    """A name of the source, or a new version of one (``y_1`` for ``y`` assigned again)."""
    base, _, version = target.rpartition("_")
    return target in named or (version.isdigit() and base in named)


def _inlinable(block: list[gast.stmt], found: dict, limit: int, wanted: set[str]) -> None:
    """Into ``found``: each place where a name of ``wanted`` (read as often as it is
    assigned) can be written into its one use."""
    for stmt in block:
        for part in bodies(stmt):
            _inlinable(getattr(stmt, part), found, limit, wanted)
    places: list[tuple[str, _Inline]] = []
    for i, table, facts in ahead(block):
        stmt = block[i]
        target = single_target(stmt)
        if isinstance(stmt, gast.Assign) and target in wanted and _movable(stmt.value):
            j = _the_use(stmt, target, table, facts)
            inlined = j is not None and _inlined(block[j], target, stmt.value, limit)
            if inlined:
                places.append((target, _Inline(block, stmt, block[j], *inlined)))
    for target, place in reversed(places):  # in the order of the block
        found.setdefault(target, []).append(place)


def _the_use(stmt: gast.Assign, target: str, table: Ahead, facts: list[Facts]) -> int | None:
    """The index of the later statement that reads ``target`` outside any loop body, if the
    operands of ``stmt`` keep their values until then and no barrier lies in between."""
    j = table.read.get(target)
    if j is None or target not in facts[j].head or target in facts[j].stored:
        return None
    operands = loads(stmt.value) | {target}
    if table.first_store(operands) < j or table.barrier < j:
        return None  # a write into an array may change a view the value reads
    return j


def _inlined(stmt: gast.stmt, target: str, value: gast.expr,
             limit: int) -> tuple[str, gast.expr] | None:
    """The part of ``stmt`` that reads ``target``, and that part with ``value`` written in,
    if the statement stays short."""
    parts = [p for p in ("value", "iter", "test") if getattr(stmt, p, None) is not None]
    part = "value" if isinstance(stmt, gast.AugAssign) or not parts else parts[0]
    before = getattr(stmt, part, None)
    if before is None or target not in loads(before):
        return None
    after = _Substitute({target: value}).visit(copy_tree(before))
    if _operations(_reading(after, before, target)) > limit:
        return None
    whole = copy.copy(stmt)
    setattr(whole, part, after)
    if not isinstance(stmt, (gast.For, gast.If, gast.While)) and _length(whole) > SHORT:
        return None
    return part, after


def _reading(after: gast.expr, before: gast.expr, target: str) -> gast.expr:
    """What the limit on operations counts: of several values returned together, the one that
    read ``target`` (each is a line of its own to a reader); else all of ``after``."""
    if isinstance(before, gast.Tuple) and isinstance(after, gast.Tuple):
        for old, new in zip(before.elts, after.elts):
            if target in loads(old):
                return new
    return after


def _operations(expr: gast.AST) -> int:
    return sum(isinstance(n, (gast.BinOp, gast.UnaryOp, gast.Call, gast.Compare, gast.Subscript))
               for n in children(expr))


SHORT = 72  # characters of a statement that reads at a glance, and fits a line when indented


def _length(node: gast.AST) -> int:
    """The length of ``node`` as source. ``ast.unparse`` reads gast's expression nodes as they
    are (they have the names and fields of ``ast``'s), which saves converting the tree for
    each candidate; it only writes a tuple index with parentheses, two characters more."""
    odd = 0
    for n in children(node):
        if isinstance(n, (gast.JoinedStr, gast.Lambda)):
            return len(ast.unparse(gast.gast_to_ast(node)))
        odd += isinstance(n, gast.Subscript) and isinstance(n.slice, gast.Tuple)
    if isinstance(node, gast.stmt) and not hasattr(node, "lineno"):
        node = copy.copy(node)
        node.lineno = 0  # ast.unparse looks a statement's type comment up by its line
    return len(ast.unparse(node)) - 2 * odd


MOVABLE_CALLS = ("math.", "numpy.", "builtins.abs", "builtins.float", "builtins.len",
                 "builtins.min", "builtins.max", "operator.")


def _movable(value: gast.expr) -> bool:
    """An expression that only computes (no effect, no new list or iterator) and is no bigger
    than an operation on operations."""
    if not shareable(value) or isinstance(value, (gast.Name, gast.Constant)):
        return False
    for node in children(value):
        if isinstance(node, gast.Call):
            qualname = getattr(node, "qualname", None) or getattr(node.func, "spelled", "")
            if not qualname.startswith(MOVABLE_CALLS) or qualname.startswith("numpy.random"):
                return False
        if isinstance(node, (gast.Lambda, gast.NamedExpr, gast.Yield, gast.Await)):
            return False
    return True
