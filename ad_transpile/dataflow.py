"""Statement-level simplifications that follow branches and loops, for the simplify pass.

Each function takes a block and returns a new one computing the same values. A loop is analysed
until its facts stop changing, so that a fact from one iteration never leaks into a wrong one.
"""

from __future__ import annotations

import ast
import copy
from collections import Counter
from typing import Callable

import gast

from ad_transpile.primitives import constant_value, is_constant, name

LOOPS = (gast.For, gast.While)


def stores(node: gast.AST) -> set[str]:
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Store)}


def loads(node: gast.AST | None) -> set[str]:
    if node is None:
        return set()
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}


def _single_target(stmt: gast.stmt) -> str | None:
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
        return stmt.targets[0].id
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
        return stmt.target.id
    return None


def _updated_in_place(stmt: gast.AST) -> str | None:
    """``d_x[i] += v`` and ``y[i] = v`` change ``d_x`` and ``y`` without assigning them."""
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Subscript):
        return stmt.target.value.id
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
        return stmt.targets[0].value.id
    return None


def _is_zero(expr: gast.expr) -> bool:
    return is_constant(expr) and constant_value(expr) == 0


def _bodies(stmt: gast.stmt) -> list[str]:
    return [f for f in ("body", "orelse") if getattr(stmt, f, None)]


# d += e on a known zero


def assign_known_zeros(block: list[gast.stmt]) -> list[gast.stmt]:
    """``d = 0.0; ...; d += e`` -> ``d = e`` where ``d`` is surely still zero."""
    _zeros(block, set(), apply=True)
    return block


def _zeros(block: list[gast.stmt], zero: set[str], apply: bool) -> set[str]:
    for i, stmt in enumerate(block):
        target = _single_target(stmt)
        if isinstance(stmt, gast.AugAssign):
            if target in zero and isinstance(stmt.op, (gast.Add, gast.Sub)) and apply:
                value = stmt.value
                if isinstance(stmt.op, gast.Sub):
                    value = gast.UnaryOp(op=gast.USub(), operand=value)
                block[i] = gast.copy_location(
                    gast.Assign(targets=[name(target, True)], value=value, type_comment=None),
                    stmt,
                )
            zero.discard(target)
        elif target in zero and apply and _adds_to(stmt.value, target):
            value = stmt.value.right  # d = d + e on a known zero: d = e
            if isinstance(stmt.value.op, gast.Sub):
                value = gast.UnaryOp(op=gast.USub(), operand=value)
            stmt.value = value
            zero.discard(target)
        elif target is not None:
            zero.discard(target)
            if _is_zero(stmt.value):
                zero.add(target)
        elif isinstance(stmt, gast.If):
            zero = _zeros(stmt.body, set(zero), apply) & _zeros(stmt.orelse, set(zero), apply)
        elif isinstance(stmt, LOOPS):
            entry = set(zero) - stores(stmt.target) if isinstance(stmt, gast.For) else set(zero)
            while True:
                exit_ = _zeros(copy.deepcopy(stmt.body), set(entry), apply=False)
                if entry <= exit_:
                    break
                entry &= exit_
            _zeros(stmt.body, set(entry), apply)
            zero = entry - stores(stmt) if _has_break(stmt.body) else entry
        else:
            zero -= stores(stmt)
    return zero


ZEROS = ("zeros", "zeros_like")


def write_into_zeros(block: list[gast.stmt]) -> list[gast.stmt]:
    """``d = np.zeros_like(x); d[1:] += e`` -> ``d[1:] = e``: the first addition into an array
    of zeros, before anything else reads or changes it, is a write (one pass less over it)."""
    zeros: set[str] = set()
    for i, stmt in enumerate(block):
        target = _single_target(stmt)
        if isinstance(stmt, gast.Assign) and target is not None:
            zeros -= {target} | loads(stmt.value)
            value = stmt.value
            if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                    and value.func.attr in ZEROS and target not in loads(value):
                zeros.add(target)
            continue
        owner = _updated_in_place(stmt)
        if owner in zeros and isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add) \
                and not loads(stmt.target.slice) & zeros and owner not in loads(stmt.value):
            write = gast.Subscript(value=name(owner), slice=stmt.target.slice, ctx=gast.Store())
            block[i] = gast.copy_location(
                gast.Assign(targets=[write], value=stmt.value, type_comment=None), stmt)
            zeros.discard(owner)
            continue
        zeros -= loads(stmt) | stores(stmt) | set(_all_stores(stmt))
    return block


def _adds_to(value: gast.expr, target: str) -> bool:
    """``target + e`` or ``target - e``: how array code accumulates an adjoint."""
    return (isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Sub))
            and isinstance(value.left, gast.Name) and value.left.id == target
            and target not in loads(value.right))


def _has_break(body: list[gast.stmt]) -> bool:
    return any(isinstance(n, gast.Break) for s in body for n in _walk_same_loop(s))


def _walk_same_loop(stmt: gast.stmt):
    yield stmt
    if isinstance(stmt, gast.If):
        for s in [*stmt.body, *stmt.orelse]:
            yield from _walk_same_loop(s)


# constants and copies


def propagate(block: list[gast.stmt]) -> list[gast.stmt]:
    """Replace a name assigned once with its value when that value is a constant or a name."""
    counts = Counter(n for s in block for n in _all_stores(s))
    _propagate_block(block, counts)
    return block


def _all_stores(stmt: gast.stmt) -> list[str]:
    """Every name ``stmt`` assigns, adds into (``d_x[i] += v``) or changes as a list in place
    (``v.append(e)``, ``x = v.pop()``, ``v[i] = e``), in one walk."""
    found = []
    for n in gast.walk(stmt):
        if isinstance(n, gast.Name):
            if isinstance(n.ctx, gast.Store):
                found.append(n.id)
        elif isinstance(n, gast.AugAssign):
            found.append(_single_target(n) or _updated_in_place(n))
        elif isinstance(n, gast.Call):
            func = n.func
            if isinstance(func, gast.Attribute) and func.attr in LIST_CHANGES \
                    and isinstance(func.value, gast.Name):
                found.append(func.value.id)
        elif isinstance(n, gast.Assign):
            found += [t.value.id for t in n.targets if isinstance(t, gast.Subscript)
                      and isinstance(t.value, gast.Name)]
    return found


LIST_CHANGES = ("append", "pop", "insert", "extend")


def _propagate_block(block: list[gast.stmt], counts: Counter) -> None:
    for i, stmt in enumerate(block):
        for field in _bodies(stmt):
            _propagate_block(getattr(stmt, field), counts)
        target = _single_target(stmt)
        if not isinstance(stmt, gast.Assign) or target is None or counts[target] != 1:
            continue
        value = stmt.value
        if not (is_constant(value) or isinstance(value, gast.Name)) or loads(value) == {target}:
            continue
        for later in block[i + 1:]:
            if target in stores(later) or loads(value) & set(_all_stores(later)):
                _Replace(target, value).visit_until_store(later, loads(value) | {target})
                break
            _Replace(target, value).visit(later)


class _Replace(gast.NodeTransformer):
    def __init__(self, name_: str, value: gast.expr) -> None:
        self.name, self.value = name_, value

    def visit_Name(self, node):
        if node.id == self.name and isinstance(node.ctx, gast.Load):
            return copy.deepcopy(self.value)
        return node

    def visit_Subscript(self, node):
        if is_constant(self.value):  # 1.0[0] is no code
            node.slice = self.visit(node.slice)
            return node
        return self.generic_visit(node)

    def visit_until_store(self, stmt: gast.stmt, watched: set[str]) -> None:
        """Replace only in the value of an assignment that itself overwrites a watched name."""
        if isinstance(stmt, (gast.Assign, gast.AugAssign)):
            stmt.value = self.visit(stmt.value)


# negations


def fold_signs(block: list[gast.stmt], absorb: Callable) -> list[gast.stmt]:
    """``v = -e`` or ``v = c * e`` (``c`` a number), used once by a later statement of the same
    block, is folded into that use where ``absorb`` finds that this costs no operation, so that
    ``d = -g; s = s + a * d`` becomes ``s = s - a * g``: one pass over an array fewer."""
    counts = Counter(n for s in block for n in _all_stores(s))
    uses = Counter(n.id for s in block for n in gast.walk(s)
                   if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load))
    _fold_signs_block(block, counts, uses, absorb)
    return block


def _fold_signs_block(block: list[gast.stmt], counts: Counter, uses: Counter,
                      absorb: Callable) -> None:
    for i, stmt in enumerate(block):
        for field in _bodies(stmt):
            _fold_signs_block(getattr(stmt, field), counts, uses, absorb)
        target = _single_target(stmt)
        if (not isinstance(stmt, gast.Assign) or target is None or counts[target] != 1
                or uses[target] != 1 or not _scaled(stmt.value) or not _pure(stmt.value)):
            continue
        watched = loads(stmt.value)
        for later in block[i + 1:]:
            if target in loads(later):
                if isinstance(later, (gast.Assign, gast.AugAssign)) and target not in loads(
                        getattr(later, "target", None)):
                    replaced = _Replace(target, stmt.value).visit(copy.deepcopy(later.value))
                    folded = absorb(later.value, replaced)
                    if folded is not None:
                        later.value = folded
                        stmt.value = name(target)  # v = v: removed as dead code
                break
            if watched & set(_all_stores(later)) or _bodies(later):
                break


def _scaled(value: gast.expr) -> bool:
    """``-e``, or ``c * e`` for a number ``c``."""
    if isinstance(value, gast.UnaryOp):
        return isinstance(value.op, gast.USub) and not is_constant(value)
    return (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult)
            and is_constant(value.left) and not is_constant(value.right))


# common subexpressions


def share_common(block: list[gast.stmt]) -> list[gast.stmt]:
    """Within straight-line code, a value computed twice is computed once."""
    counts = Counter(n for s in block for n in _all_stores(s))
    _share_block(block, counts)
    return block


def _share_block(block: list[gast.stmt], counts: Counter) -> None:
    seen: dict[str, str] = {}
    for stmt in block:
        for field in _bodies(stmt):
            _share_block(getattr(stmt, field), counts)
        written = set(_all_stores(stmt))
        target = _single_target(stmt)
        if isinstance(stmt, gast.Assign) and target and counts[target] == 1:
            value = stmt.value
            if not (isinstance(value, gast.Name) or is_constant(value)) and _shareable(value):
                key = gast.dump(value)
                if key in seen:
                    stmt.value = name(seen[key])
                else:
                    seen[key] = target
        seen = {k: v for k, v in seen.items()
                if v not in written - {target} and not _reads_any(k, written)}


def _reads_any(dumped: str, names: set[str]) -> bool:
    return any(f"id='{n}'" in dumped for n in names)


def _pure(expr: gast.expr) -> bool:
    if getattr(expr, "impure", False):
        return False
    return not any(
        isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute)
        and n.func.attr in ("pop", "append")
        for n in gast.walk(expr)
    )


def _shareable(expr: gast.expr) -> bool:
    """Two equal expressions may be one value: not so for a new list, or an iterator."""
    return _pure(expr) and not any(
        isinstance(n, (gast.List, gast.Dict, gast.Set)) or (
            isinstance(n, gast.Call) and isinstance(n.func, gast.Name)
            and n.func.id in ("list", "zip", "enumerate", "reversed", "iter", "map")
        )
        for n in gast.walk(expr)
    )


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
        and _single_target(before) == last.value.id
        and _pure(before.value)
    ):
        uses = sum(1 for s in block for n in gast.walk(s)
                   if isinstance(n, gast.Name) and n.id == last.value.id)
        if uses == 2:
            return [*block[:-2], gast.copy_location(gast.Return(value=before.value), last)]
    return block


def inline_single_uses(block: list[gast.stmt], named: frozenset[str] = frozenset(),
                       limit: int = 6) -> list[gast.stmt]:
    """``t = a * b; u = math.sin(t) + c`` reads better as ``u = math.sin(a * b) + c`` when
    nothing else uses ``t``: a value used once, by a later statement of the same block (not
    from inside a loop, where it would be computed again), whose operands do not change in
    between, is written where it is used, while that statement stays short (``limit``
    operations). A name assigned in several places is inlined only if every one of its
    values is, each into its own use."""
    every = [s for stmt in block for s in gast.walk(stmt)]
    stored = Counter(n for s in block for n in _all_stores(s))
    used = Counter(n.id for n in every if isinstance(n, gast.Name)
                   and isinstance(n.ctx, gast.Load))
    found: dict[str, list[tuple[list, gast.Assign, gast.stmt]]] = {}
    _inlinable(block, found, limit)
    touched: set[int] = set()
    for target, places in found.items():
        if not (len(places) == stored[target] == used[target]) or _named(target, named):
            continue
        ids = {id(s) for _, d, u in places for s in (d, u)}
        if ids & touched or any(_inline_into(u, target, d.value, limit, apply=False) is False
                                for _, d, u in places):
            continue
        touched |= ids
        for owner, definition, use in places:
            _inline_into(use, target, definition.value, limit, apply=True)
            owner.remove(definition)
    return block


def _named(target: str, named: frozenset[str]) -> bool:
    """A name of the source, or a new version of one (``y_1`` for ``y`` assigned again)."""
    base, _, version = target.rpartition("_")
    return target in named or (version.isdigit() and base in named)


def _inlinable(block: list[gast.stmt], found: dict, limit: int) -> None:
    for stmt in block:
        for field in _bodies(stmt):
            _inlinable(getattr(stmt, field), found, limit)
    facts: list = [None] * len(block)  # each statement's reads and writes, found once
    for i, stmt in enumerate(block):
        target = _single_target(stmt)
        if isinstance(stmt, gast.Assign) and target is not None and _movable(stmt.value):
            j = _the_use(block, i, target, facts)
            if j is not None and _inline_into(block[j], target, stmt.value, limit, apply=False):
                found.setdefault(target, []).append((block, stmt, block[j]))


def _facts(stmt: gast.stmt) -> tuple[set[str], set[str], set[str], bool]:
    """What the head of ``stmt`` reads, what all of it reads, what it stores, and whether it
    jumps or writes into an array (past which no value moves)."""
    head = set().union(*(loads(part) for part in _head(stmt)))
    return head, loads(stmt), set(_all_stores(stmt)), _jumps(stmt) or _writes_in_place(stmt)


def _the_use(block: list[gast.stmt], i: int, target: str, facts: list) -> int | None:
    """The later statement of ``block`` that reads ``target`` outside any loop body, if the
    operands of ``block[i]`` keep their values until then."""
    operands = loads(block[i].value) | {target}
    for j in range(i + 1, len(block)):
        if facts[j] is None:
            facts[j] = _facts(block[j])
        head, read, stored, barrier = facts[j]
        if target in head:
            return None if target in stored else j
        if target in read or operands & stored or barrier:
            return None  # a write into an array may change a view the value reads
    return None


def _head(stmt: gast.stmt) -> list[gast.AST]:
    """What a statement evaluates once, before any body: all of a simple statement."""
    if isinstance(stmt, gast.For):
        return [stmt.iter]
    if isinstance(stmt, (gast.If, gast.While)):
        return [stmt.test] if isinstance(stmt, gast.If) else []
    return [stmt]


def _writes_in_place(stmt: gast.stmt) -> bool:
    """``y[i] = v`` or ``y[i] += v``: a change of ``y`` that views of it see too."""
    for node in gast.walk(stmt):
        if isinstance(node, (gast.Assign, gast.AugAssign)) and any(
                isinstance(t, (gast.Subscript, gast.Attribute))
                for t in (node.targets if isinstance(node, gast.Assign) else [node.target])):
            return True
    return False  # v.append(e) shows as a store of v: a value reading v stays where it is


def _jumps(stmt: gast.stmt) -> bool:
    return any(isinstance(n, (gast.Return, gast.Break, gast.Continue)) for n in gast.walk(stmt))


def _inline_into(stmt: gast.stmt, target: str, value: gast.expr, limit: int,
                 apply: bool) -> bool:
    parts = [p for p in ("value", "iter", "test") if getattr(stmt, p, None) is not None]
    if isinstance(stmt, gast.AugAssign) or not parts:
        part = "value"
    else:
        part = parts[0]
    before = getattr(stmt, part, None)
    if before is None or target not in loads(before):
        return False
    after = _Replace(target, value).visit(copy.deepcopy(before))
    if _operations(after) > limit:
        return False
    whole = copy.copy(stmt)
    setattr(whole, part, after)
    if not isinstance(stmt, (gast.For, gast.If, gast.While)) and len(_text(whole)) > SHORT:
        return False
    if apply:
        setattr(stmt, part, after)
    return True


def _operations(expr: gast.AST) -> int:
    return sum(isinstance(n, (gast.BinOp, gast.UnaryOp, gast.Call, gast.Compare, gast.Subscript))
               for n in gast.walk(expr))


SHORT = 60  # characters of a statement that reads at a glance, and fits a line when indented


def _text(node: gast.AST) -> str:
    tree = gast.gast_to_ast(copy.deepcopy(node))
    return ast.unparse(ast.fix_missing_locations(tree))


MOVABLE_CALLS = ("math.", "numpy.", "builtins.abs", "builtins.float", "builtins.len",
                 "builtins.min", "builtins.max", "operator.")


def _movable(value: gast.expr) -> bool:
    """An expression that only computes (no effect, no new list or iterator) and is no bigger
    than an operation on operations."""
    if not _shareable(value) or isinstance(value, (gast.Name, gast.Constant)):
        return False
    for node in gast.walk(value):
        if isinstance(node, gast.Call):
            qualname = getattr(node, "qualname", None) or getattr(node.func, "spelled", "")
            if not qualname.startswith(MOVABLE_CALLS) or qualname.startswith("numpy.random"):
                return False
        if isinstance(node, (gast.Lambda, gast.NamedExpr, gast.Yield, gast.Await)):
            return False
    return True


# dead code


def remove_dead(block: list[gast.stmt]) -> list[gast.stmt]:
    """Drop assignments whose value is never read, and branches and loops left empty."""
    return _live(block, set(), set(), apply=True)[0]


def _live(block, live_out: set[str], loop_exit: set[str], apply: bool):
    """The block without dead statements (if ``apply``) and the names live at its start."""
    live = set(live_out)
    kept: list[gast.stmt] = []
    for stmt in reversed(block):
        keep, live = _live_statement(stmt, live, loop_exit, apply)
        if keep:
            kept.append(keep)
    return kept[::-1], live


def _live_statement(stmt, live: set[str], loop_exit: set[str], apply: bool):
    target = _single_target(stmt)
    if isinstance(stmt, gast.Assign) and target is not None and _pure(stmt.value):
        if target not in live and not (isinstance(stmt.value, gast.Name)
                                       and stmt.value.id == target and False):
            return None, live
        if isinstance(stmt.value, gast.Name) and stmt.value.id == target:
            return None, live
        return stmt, (live - {target}) | loads(stmt.value)
    if isinstance(stmt, gast.AugAssign):
        if (target or _updated_in_place(stmt)) not in live and _pure(stmt.value):
            return None, live
        return stmt, live | loads(stmt)
    if isinstance(stmt, gast.Return):
        return stmt, loads(stmt.value)
    if isinstance(stmt, gast.Break):
        return stmt, set(loop_exit)
    if isinstance(stmt, gast.If):
        body, body_live = _live(stmt.body, live, loop_exit, apply)
        orelse, orelse_live = _live(stmt.orelse, live, loop_exit, apply)
        if apply:
            if not body and not orelse:
                return None, live
            stmt.body, stmt.orelse = body or [gast.Pass()], orelse
        return stmt, body_live | orelse_live | loads(stmt.test)
    if isinstance(stmt, LOOPS):
        return _live_loop(stmt, live, apply)
    if isinstance(stmt, gast.Pass):
        return None, live
    return stmt, (live - stores(stmt)) | loads(stmt)


def _live_loop(stmt, live_after: set[str], apply: bool):
    header = loads(stmt.iter) if isinstance(stmt, gast.For) else loads(stmt.test)
    targets = stores(stmt.target) if isinstance(stmt, gast.For) else set()
    body_in: set[str] = set()
    while True:
        body_out = live_after | (body_in - targets) | (header if isinstance(stmt, gast.While)
                                                         else set())
        _, new_in = _live(copy.deepcopy(stmt.body), body_out, live_after, apply=False)
        if new_in <= body_in:
            break
        body_in |= new_in
    body_out = live_after | (body_in - targets) | (header if isinstance(stmt, gast.While)
                                                     else set())
    body, _ = _live(stmt.body, body_out, live_after, apply)
    live_before = live_after | (body_in - targets) | header
    if apply:
        if not body and isinstance(stmt, gast.For) and not targets & live_after:
            return None, live_after
        stmt.body = body or [gast.Pass()]
    return stmt, live_before
