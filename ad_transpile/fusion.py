"""One loop for a sum's values and their adjoints, where the sum's adjoint is known before it.

A loop of independent iterations but for sums (see ``accumulation``) is walked twice in
reverse mode: the primal sweep computes the sums, the adjoint sweep computes each iteration's
values again and their adjoints. Where nothing between the two loops reads what the first
one computed (the result is linear in the sums: ``return total`` gives ``d_total = 1.0``), the
adjoint can run in the same pass, as a person writes the gradient of a sum over data points::

    for x, y in zip(xs, ys):             d_omega = 0.0
        total += (sin(omega x) - y)**2   for x, y in zip(xs, ys):
    d_total = 1.0                ->          total += (sin(omega x) - y)**2
    d_omega = 0.0                            d_omega += 2 (...) cos(omega x) x d_total
    for x, y in _items: ...

and then the items are walked once, so an iterator (an unannotated ``xs`` may be one) needs no
list of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import gast

from ad_transpile.explain import carried
from ad_transpile.trees import walk


@dataclass
class Accumulation:
    """What the adjoint sweep made of one accumulation loop."""

    primal: gast.For  # the loop as written (over ``items`` when there is a list)
    adjoint: gast.For  # the same loop again: its values recomputed, then their adjoints
    recomputed: int  # how many statements at the start of ``adjoint`` recompute values
    header: gast.expr  # the iterable as the source wrote it
    sums: set[str]
    items: gast.Assign | None = None  # ``_items = list(header)``, where there is one
    inner: Accumulation | None = None  # a loop of sums ending the body, made the same way

    def adjoints(self) -> list[gast.stmt]:
        """The statements that compute adjoints, not values (those of the inner loop too)."""
        own = self.adjoint.body[self.recomputed:]
        if self.inner is None:
            return own
        return [*self.inner.adjoints(), *own[1:]]  # own[0] is the inner loop walked again

    def fused_body(self) -> list[gast.stmt]:
        """One iteration computing the values, then their adjoints."""
        own = self.adjoint.body[self.recomputed:]
        if self.inner is None:
            return [*self.primal.body, *own]
        inner = self.inner
        loop = gast.For(target=inner.primal.target, iter=inner.primal.iter,
                        body=inner.fused_body(), orelse=[], type_comment=None)
        loop = gast.copy_location(loop, inner.primal)
        return [*self.primal.body[:-1], loop, *own[1:]]


def fuse(body: list[gast.stmt], accumulations: list[Accumulation]) -> list[gast.stmt]:
    """``body`` with each accumulation's two loops made one where that computes the same."""
    for found in accumulations:
        body = _fuse(body, found)
    return body


def _fuse(body: list[gast.stmt], found: Accumulation) -> list[gast.stmt]:
    where = {id(s): i for i, s in enumerate(body)}
    if id(found.primal) not in where or id(found.adjoint) not in where:
        return body
    first, second = where[id(found.primal)], where[id(found.adjoint)]
    made, read = _stores(found.primal), _loads(found.primal)
    adjoints = found.adjoints()
    for stmt in adjoints:  # run in the pass: reads no partial sum, changes nothing it reads
        if _loads(stmt) & found.sums or _stores(stmt) & (read | made):
            return body
    ahead: list[gast.stmt] = []  # moved before the loop: what the adjoints start from
    behind: list[gast.stmt] = []  # kept after it: what reads the loop's results (the value)
    late: set[str] = set()  # what ``behind`` reads and writes
    for stmt in body[first + 1:second]:
        loads, stores = _loads(stmt), _stores(stmt)
        if (loads | stores) & (made | _written(behind)):
            behind.append(stmt)
            late |= loads | stores
        elif stores & (read | late):
            return body
        else:
            ahead.append(stmt)
    if any((_loads(s) | _stores(s)) & _written(behind) or _stores(s) & late for s in adjoints):
        return body
    before = body[:first]
    header = found.primal.iter
    if found.items is not None and before and before[-1] is found.items:
        before, header = before[:-1], found.header  # walked once: no list needed
    loop = gast.For(target=found.primal.target, iter=header,
                    body=found.fused_body(), orelse=[], type_comment=None)
    loop = carried(found.adjoint, gast.copy_location(loop, found.primal))
    return [*before, *ahead, loop, *behind,
            *body[second + 1:]]


def _written(statements: list[gast.stmt]) -> set[str]:
    return {n for s in statements for n in _stores(s)}


def _stores(node: gast.AST) -> set[str]:
    """The names ``node`` assigns or may change in place (``v[i] = e``, ``v.append(e)``)."""
    names = set()
    for n in walk(node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del)):
            names.add(n.id)
        elif isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            names.add(n.target.id)
        elif isinstance(n, gast.Subscript) and isinstance(n.ctx, (gast.Store, gast.Del)):
            names |= {v.id for v in walk(n.value) if isinstance(v, gast.Name)}
        elif isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and not (
                getattr(n, "qualname", None) or getattr(n.func, "spelled", None)):
            # a method (not math.sin) may change its object, or its arguments (np.add.at)
            names |= {v.id for part in [n.func.value, *n.args] for v in walk(part)
                      if isinstance(v, gast.Name)}
    return names


def _loads(node: gast.AST) -> set[str]:
    return {n.id for n in walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)} | {
        n.target.id for n in walk(node)
        if isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name)}
