"""Loops over tuples, unrolled for the tuples pass: a copy of the body per component.

    for v in (a, b * 2.0):          v = a
        total = total + v * v   ->  total = total + v * v
                                    v = b * 2.0
                                    total = total + v * v

likewise ``for i in range(len(t))`` whose body reads ``t[i]`` (``i`` a constant in each
copy), and ``sum(v * v for v in t)`` -> ``sum((t_0 * t_0, t_1 * t_1))``, which the pass then
adds up.
"""

from __future__ import annotations

import copy

import gast

from ad_transpile.primitives import make_constant, name
from ad_transpile.trees import walk
from ad_transpile.tuple_calls import called_name
from ad_transpile.tuple_shapes import constant_index, is_range_loop


class Unrolling:
    """What the tuples pass does with loops over tuples (mixed into its splitter, whose
    ``statement``, ``parts``, ``leaves_of``, ``shapes``, ``namer`` and ``error`` these use)."""

    def unrolled(self, loop: gast.For) -> list[gast.stmt]:
        """``for v in (a, b): body`` -> ``v = a; body; v = b; body``."""
        _refuse_jumps(self, loop)
        items = self.items(loop.iter)
        stored = {n.id for n in walk(loop) if isinstance(n, gast.Name)
                  and isinstance(n.ctx, gast.Store)}
        stored |= {c for v in stored if v in self.shapes.of
                   for c in self.leaves_of(v) if isinstance(c, str)}
        read = {n.id for item in items for n in walk(item) if isinstance(n, gast.Name)}
        out: list[gast.stmt] = []
        if read & stored:  # the tuple is made before the loop changes what it is made of
            held = [self.namer.fresh(f"{loop.target.id}_{i}" if isinstance(
                loop.target, gast.Name) else None) for i in range(len(items))]
            out.append(gast.copy_location(gast.Assign(
                targets=[gast.Tuple(elts=[name(h, True) for h in held], ctx=gast.Store())],
                value=gast.Tuple(elts=items, ctx=gast.Load()), type_comment=None), loop))
            items = [name(h) for h in held]
        for item in items:
            start = gast.copy_location(gast.Assign(targets=[copy.deepcopy(loop.target)],
                                                   value=item, type_comment=None), loop)
            self.before = out
            out += self.statement(start)
            for stmt in copy.deepcopy(loop.body):
                self.before = out
                out += self.statement(stmt)
        return out

    def indexes_tuples(self, loop: gast.For) -> bool:
        """``for i in range(...)`` whose body indexes a tuple with ``i``."""
        if not is_range_loop(loop):
            return False
        return any(isinstance(n, gast.Subscript) and self.shapes.shape(n.value) is not None
                   and loop.target.id in {m.id for m in walk(n.slice)
                                          if isinstance(m, gast.Name)}
                   for n in walk(loop))

    def unrolled_range(self, loop: gast.For) -> list[gast.stmt]:
        """``for i in range(len(t)): body`` -> ``i = 0; body[i := 0]; i = 1; body[i := 1]``."""
        header = self.expr(loop.iter)
        bounds = [constant_index(a) for a in header.args]
        if header.keywords or not bounds or None in bounds:
            raise self.error(loop.iter, "indexing a tuple with the index of this loop",
                             "its bounds must be numbers in the source, as in range(len(t))")
        _refuse_jumps(self, loop)
        if any(isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
               and n.id == loop.target.id for s in loop.body for n in walk(s)):
            raise self.error(loop.target, f"assigning to the loop variable '{loop.target.id}' "
                             "inside the loop", "use another name for the new value")
        out: list[gast.stmt] = []
        for k in range(*bounds):
            index = gast.copy_location(gast.Assign(
                targets=[copy.deepcopy(loop.target)], value=make_constant(k),
                type_comment=None), loop)
            body = [index, *(_Substitute({loop.target.id: make_constant(k)}).visit(
                copy.deepcopy(s)) for s in loop.body)]
            for stmt in body:
                self.before = out
                out += self.statement(stmt)
        return out

    def items(self, iterable: gast.expr) -> list[gast.expr]:
        qualname = getattr(iterable, "qualname", None) if isinstance(iterable, gast.Call) else None
        if qualname == "builtins.reversed":
            return self.items(iterable.args[0])[::-1]
        if qualname == "builtins.enumerate":
            return [gast.Tuple(elts=[make_constant(i), v], ctx=gast.Load())
                    for i, v in enumerate(self.items(iterable.args[0]))]
        if qualname == "builtins.zip":
            return [gast.Tuple(elts=list(vs), ctx=gast.Load())
                    for vs in zip(*[self.items(a) for a in iterable.args])]
        return self.parts(iterable, self.shapes.shape(iterable))

    def over_tuple(self, expr: gast.expr | None, filtered: bool = False) -> bool:
        """``(e for v in t)``: one loop over a tuple (with no filter unless ``filtered``)."""
        return (isinstance(expr, (gast.GeneratorExp, gast.ListComp))
                and len(expr.generators) == 1 and (filtered or not expr.generators[0].ifs)
                and not expr.generators[0].is_async
                and self.shapes.items(expr.generators[0].iter) is not None)

    def comprehension_items(self, comprehension: gast.GeneratorExp) -> gast.Tuple:
        """``(v * v for v in (a, b))`` -> ``(a * a, b * b)``."""
        loop = comprehension.generators[0]
        elts = []
        for item in self.items(loop.iter):
            bound: dict[str, gast.expr] = {}
            if not _bind_names(loop.target, item, bound):
                raise self.error(loop.target, "this loop variable over a tuple",
                                 "loop over plain names, or tuples of them")
            elts.append(_Substitute(bound).visit(copy.deepcopy(comprehension.elt)))
        return gast.copy_location(gast.Tuple(elts=elts, ctx=gast.Load()), comprehension)

    def reduce(self, call: gast.Call, how, shape: tuple) -> gast.expr:
        """``sum(t)`` -> ``t_0 + t_1``, ``max(t)`` -> ``max(t_0, t_1)``."""
        if any(s is not None for s in shape):
            raise self.error(call, f"'{called_name(call)}' of nested tuples", "not supported")
        parts = self.parts(call.args[0], shape)
        if not parts:
            if how is gast.Add:
                return make_constant(0)
            raise self.error(call, f"'{called_name(call)}' of an empty tuple", "it has no value")
        result = parts[0]
        for part in parts[1:]:
            if how is gast.Add:
                result = gast.BinOp(left=result, op=gast.Add(), right=part)
            else:
                result = gast.Call(func=copy.deepcopy(call.func), args=[result, part],
                                   keywords=[])
                result.qualname = call.qualname
        return result


def _bind_names(target: gast.expr, item: gast.expr, bound: dict[str, gast.expr]) -> bool:
    if isinstance(target, gast.Name):
        bound[target.id] = item
        return True
    if isinstance(target, gast.Tuple) and isinstance(item, gast.Tuple) \
            and len(target.elts) == len(item.elts):
        return all(_bind_names(t, i, bound) for t, i in zip(target.elts, item.elts))
    return False


class _Substitute(gast.NodeTransformer):
    """Read each loop variable of a comprehension as the item it stands for."""

    def __init__(self, bound: dict[str, gast.expr]) -> None:
        self.bound = bound

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in self.bound:
            return copy.deepcopy(self.bound[node.id])
        return node


def _refuse_jumps(splitter, loop: gast.For) -> None:
    jumps = [n for n in _outside_inner_loops(loop.body)
             if isinstance(n, (gast.Break, gast.Continue))]
    if jumps:
        raise splitter.error(jumps[0], "'break', 'continue' or 'return' in a loop over a tuple",
                             "the loop is unrolled, one copy of its body per component")


def _outside_inner_loops(body: list[gast.stmt]):
    for stmt in body:
        yield stmt
        if isinstance(stmt, gast.If):
            yield from _outside_inner_loops(stmt.body)
            yield from _outside_inner_loops(stmt.orelse)
