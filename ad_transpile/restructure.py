"""Restructure pass: make every ``break``, ``continue`` and ``return`` the last step of its path.

The differentiating passes then see structured code: a ``return`` inside a loop becomes a flag and
a ``break``; the statements after an ``if`` that may jump move into the branches that fall
through; a ``continue`` at the end of a loop body disappears; several returns become one::

    for x in xs:                             for x in xs:
        if x < 0.0:                              if x < 0.0:
            continue                     ->          pass
        total += x                               else:
    return total                                     total += x
                                             return total
"""

from __future__ import annotations

import copy

import gast

from ad_transpile import errors
from ad_transpile.functional import write_out_functional
from ad_transpile.lambdas import inline_local_functions
from ad_transpile.lifting import lift_local_functions
from ad_transpile.names import Namer
from ad_transpile.normalize import refuse_unsupported
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import is_constant
from ad_transpile.trees import walk

JUMPS = (gast.Break, gast.Continue, gast.Return)
LOOPS = (gast.For, gast.While)


def restructure(parsed: ParsedFunction, namer: Namer) -> gast.FunctionDef:
    """A copy of ``parsed.tree`` whose jumps all end their paths, with one final ``return``."""
    fn = write_out_functional(_split_chained(copy.deepcopy(parsed.tree)), parsed)
    fn = inline_local_functions(fn, parsed.qualify)
    fn = lift_local_functions(parsed, fn)
    refuse_unsupported(parsed, fn)
    _refuse_loop_else(fn, parsed)
    if any(_returns_inside(loop.body) for loop in _loops(fn.body)):
        fn.body = _ReturnsInLoops(namer, _size(fn)).lower(fn.body)
    fn.body = _to_leaves(fn.body)
    fn.body = _without_trailing_continue(fn.body, in_loop=False)
    fn.body = _single_return(fn, namer, parsed)
    return fn


class _SplitChained(gast.NodeTransformer):
    """``a = b = e`` is ``a = e; b = a`` (Python assigns the targets left to right), and
    ``a = b = 0.0`` is two assignments of the number: each a statement the passes know."""

    def visit_Assign(self, node):
        targets = node.targets
        if len(targets) < 2 or not all(isinstance(t, gast.Name) for t in targets):
            return node
        first = gast.copy_location(
            gast.Assign(targets=[targets[0]], value=node.value, type_comment=None), node)
        rest = [gast.copy_location(gast.Assign(
            targets=[t], value=copy.deepcopy(node.value) if is_constant(node.value)
            else gast.Name(id=targets[0].id, ctx=gast.Load(), annotation=None,
                           type_comment=None), type_comment=None), node) for t in targets[1:]]
        return [first, *rest]


def _split_chained(fn: gast.FunctionDef) -> gast.FunctionDef:
    return _SplitChained().visit(fn)


def _refuse_loop_else(fn: gast.FunctionDef, parsed: ParsedFunction) -> None:
    for node in walk(fn):
        if isinstance(node, LOOPS) and node.orelse:
            raise parsed.error(
                errors.Unsupported, node, construct="'else' on a loop",
                why="move the code after the loop and use a flag",
            )


def _loops(body: list[gast.stmt]):
    for stmt in body:
        for node in walk(stmt):
            if isinstance(node, LOOPS):
                yield node


def _returns_inside(body: list[gast.stmt]) -> bool:
    return any(isinstance(n, gast.Return) for s in body for n in walk(s))


def _size(fn: gast.FunctionDef) -> int:
    """How many values every ``return`` gives (0 for one value that is not a tuple), or 0 where
    they differ (``_single_return`` says so)."""
    sizes = {len(n.value.elts) if isinstance(n.value, gast.Tuple) else 0
             for n in walk(fn) if isinstance(n, gast.Return)}
    return sizes.pop() if len(sizes) == 1 else 0


class _ReturnsInLoops:
    """``return v`` inside a loop -> ``result = v; returned = True; break``, checked after it.

    ``return a, b`` keeps its two values apart (``result_1, result_2 = a, b``), so that the
    returns still give tuples of one size."""

    def __init__(self, namer: Namer, size: int) -> None:
        self.results = [namer.fresh(f"result_{i + 1}") for i in range(size)] or [
            namer.fresh("result")]
        self.flag = namer.fresh("returned")

    def result(self, ctx: type) -> gast.expr:
        names = [gast.Name(id=r, ctx=ctx(), annotation=None, type_comment=None)
                 for r in self.results]
        return names[0] if len(names) == 1 else gast.Tuple(elts=names, ctx=ctx())

    def lower(self, body: list[gast.stmt]) -> list[gast.stmt]:
        start = _assign(self.flag, gast.Constant(value=False, kind=None))
        return [gast.copy_location(start, body[0]), *self.block(body, in_loop=False)]

    def block(self, body: list[gast.stmt], in_loop: bool) -> list[gast.stmt]:
        out: list[gast.stmt] = []
        for stmt in body:
            if isinstance(stmt, gast.Return) and in_loop:
                out += [
                    gast.copy_location(gast.Assign(targets=[self.result(gast.Store)],
                                                   value=stmt.value, type_comment=None), stmt),
                    gast.copy_location(_assign(self.flag, gast.Constant(True, None)), stmt),
                    gast.copy_location(gast.Break(), stmt),
                ]
                continue
            if isinstance(stmt, LOOPS):
                had_return = _returns_inside(stmt.body)
                stmt.body = self.block(stmt.body, in_loop=True)
                out.append(stmt)
                if had_return:
                    exit_ = (gast.Break() if in_loop
                             else gast.Return(value=self.result(gast.Load)))
                    check = gast.If(test=_load(self.flag), body=[exit_], orelse=[])
                    out.append(gast.copy_location(check, stmt))
                continue
            if isinstance(stmt, gast.If):
                stmt.body = self.block(stmt.body, in_loop)
                stmt.orelse = self.block(stmt.orelse, in_loop)
            out.append(stmt)
        return out


def _to_leaves(body: list[gast.stmt]) -> list[gast.stmt]:
    """Move what follows an ``if`` that may jump into the paths of it that fall through."""
    out: list[gast.stmt] = []
    for i, stmt in enumerate(body):
        if isinstance(stmt, gast.If):
            stmt.body, stmt.orelse = _to_leaves(stmt.body), _to_leaves(stmt.orelse)
        elif isinstance(stmt, LOOPS):
            stmt.body = _to_leaves(stmt.body)
        out.append(stmt)
        if isinstance(stmt, JUMPS):
            return out
        if isinstance(stmt, gast.If) and _may_jump(stmt):
            rest = _to_leaves(body[i + 1 :])
            if rest:
                stmt.body = _append_to_fallthrough(stmt.body, rest)
                stmt.orelse = _append_to_fallthrough(stmt.orelse, rest)
            return out
    return out


def _may_jump(stmt: gast.stmt) -> bool:
    """Whether some path through ``stmt`` jumps out of the block it stands in."""
    if isinstance(stmt, JUMPS):
        return True
    if isinstance(stmt, gast.If):
        return any(_may_jump(s) for s in [*stmt.body, *stmt.orelse])
    return False


def _append_to_fallthrough(block: list[gast.stmt], rest: list[gast.stmt]) -> list[gast.stmt]:
    if not block:
        return copy.deepcopy(rest)
    last = block[-1]
    if isinstance(last, JUMPS):
        return block
    if isinstance(last, gast.If) and _may_jump(last):
        last.body = _append_to_fallthrough(last.body, rest)
        last.orelse = _append_to_fallthrough(last.orelse, rest)
        return block
    return block + copy.deepcopy(rest)


def _without_trailing_continue(body: list[gast.stmt], in_loop: bool) -> list[gast.stmt]:
    """A ``continue`` that ends a path through a loop body does nothing: drop it."""
    out = []
    for i, stmt in enumerate(body):
        last = i == len(body) - 1
        if isinstance(stmt, gast.Continue) and last and in_loop:
            continue
        if isinstance(stmt, gast.If):
            stmt.body = _without_trailing_continue(stmt.body, in_loop and last)
            stmt.orelse = _without_trailing_continue(stmt.orelse, in_loop and last)
        elif isinstance(stmt, LOOPS):
            stmt.body = _without_trailing_continue(stmt.body, in_loop=True)
        out.append(stmt)
    return out


def _single_return(fn: gast.FunctionDef, namer: Namer, parsed: ParsedFunction) -> list:
    """Several ``return v`` at path ends become ``result = v``, and one ``return result``."""
    returns = [n for n in walk(fn) if isinstance(n, gast.Return)]
    body = fn.body
    if len(returns) == 1 and body and body[-1] is returns[0]:
        return body
    _check_every_path_returns(body, fn, parsed)
    sizes = {len(r.value.elts) if isinstance(r.value, gast.Tuple) else 0 for r in returns}
    if len(sizes) > 1:
        raise parsed.error(
            errors.Unsupported, returns[-1], construct="returning tuples of different sizes",
            why="every return must give the same number of values",
        )
    size = sizes.pop()
    results = [namer.fresh("result")] if not size else [
        namer.fresh(f"result_{i + 1}") for i in range(size)]

    class Replace(gast.NodeTransformer):
        def visit_Return(self, node):
            if node.value is None:
                raise parsed.error(
                    errors.Unsupported, node, construct="'return' without a value",
                    why="there is no result to differentiate",
                )
            targets = [gast.Name(id=r, ctx=gast.Store(), annotation=None, type_comment=None)
                       for r in results]
            target = targets[0] if not size else gast.Tuple(elts=targets, ctx=gast.Store())
            assign = gast.Assign(targets=[target], value=node.value, type_comment=None)
            return gast.copy_location(assign, node)

    body = [Replace().visit(s) for s in body]
    last = returns[-1] if returns else fn
    value = _load(results[0]) if not size else gast.Tuple(
        elts=[_load(r) for r in results], ctx=gast.Load())
    return body + [gast.copy_location(gast.Return(value=value), last)]


def _check_every_path_returns(body, fn, parsed: ParsedFunction) -> None:
    if not _always_returns(body):
        raise parsed.error(
            errors.Unsupported, fn, construct="a path that ends without 'return'",
            why="every path must return a value to differentiate",
        )


def _always_returns(block: list[gast.stmt]) -> bool:
    if not block:
        return False
    last = block[-1]
    if isinstance(last, gast.Return):
        return True
    if isinstance(last, gast.If):
        return _always_returns(last.body) and _always_returns(last.orelse)
    return False


def _assign(target: str, value: gast.expr) -> gast.Assign:
    store = gast.Name(id=target, ctx=gast.Store(), annotation=None, type_comment=None)
    return gast.Assign(targets=[store], value=value, type_comment=None)


def _load(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
