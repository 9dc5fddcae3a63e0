"""Forward mode along several numbers in one sweep: a tangent per direction, as a person
carries them, instead of one sweep of the Jacobian-vector product per direction.

The tangent statements of the sweep are written once for each of ``wrt``, each copy with the
tangents of that direction (``dx_da``: the tangent of ``x`` along ``a``), seeded with 1.0 along
its own parameter and 0.0 along the others; the values are computed once::

    def f_jvp(x, a, d_x, d_a):            def fpr(x, a):
        y = x * a                              dx_dx, da_dx = 1.0, 0.0  (folded away)
        d_y = a * d_x + x * d_a    ->          y = x * a
        return y, d_y                          dy_dx = a
                                               dy_da = x
                                               return dy_dx, dy_da

Only for numbers: a statement that computes a value and a tangent at once (a callee's
Jacobian-vector product) keeps the sweep per direction (``NotAlongEach``).
"""

from __future__ import annotations

import copy

import gast

from ad_transpile.dataflow import children
from ad_transpile.names import Namer
from ad_transpile.normalize import hint
from ad_transpile.primitives import assign, make_constant

COMPOUND = (gast.If, gast.For, gast.While)


class NotAlongEach(Exception):
    """The sweep mixes values and tangents in one statement: one sweep per direction."""


def along_each(fn: gast.FunctionDef, params: gast.arguments, wrt: list[str],
               tangents: list[str], made: set[str], namer: Namer,
               returns_value: bool) -> gast.FunctionDef:
    """``fn``, a Jacobian-vector product taking the function's ``params`` then the
    ``tangents`` of ``wrt`` (``made``: every tangent name it assigns), as one function of
    ``params`` returning the gradient (and the value first, if ``returns_value``)."""
    names = _tangent_names(fn, made | set(tangents))
    along = {w: {t: _directed(t, w, namer) for t in sorted(names)} for w in wrt}
    seeds = [assign(along[w][t], make_constant(1.0 if v == w else 0.0))
             for w in wrt for v, t in zip(wrt, tangents)]
    body = seeds + _block(fn.body, names, along, returns_value, namer)
    return gast.FunctionDef(name=fn.name, args=copy.deepcopy(params), body=body,
                            decorator_list=[],
                            returns=None, type_comment=None, type_params=[],
                            lineno=fn.lineno, col_offset=fn.col_offset)


def _directed(tangent: str, direction: str, namer: Namer) -> str:
    """``d_x`` along ``a`` -> ``dx_da``."""
    base = tangent[2:] if tangent.startswith("d_") else tangent
    directed = namer.numbered(f"d{base}_d{direction}")
    namer.derivatives.add(directed)
    return directed


def _block(block: list[gast.stmt], names: set[str], along: dict, returns_value: bool,
           namer: Namer):
    out: list[gast.stmt] = []
    for stmt in block:
        if isinstance(stmt, COMPOUND):
            stmt.body = _block(stmt.body, names, along, returns_value, namer)
            stmt.orelse = _block(stmt.orelse, names, along, returns_value, namer)
            if _touches(getattr(stmt, "test", None) or getattr(stmt, "iter", None), names):
                raise NotAlongEach(stmt)
            out.append(stmt)
        elif isinstance(stmt, gast.Return):
            out.append(_returned(stmt, along, returns_value))
        elif _touches(stmt, names):
            if _stores_value(stmt, names):
                raise NotAlongEach(stmt)
            out += _partials_once(stmt, names, namer)
            out += [gast.copy_location(_renamed(stmt, renaming), stmt)
                    for renaming in along.values()]
        else:
            out.append(stmt)
    return out


def _partials_once(stmt: gast.stmt, names: set[str], namer: Namer) -> list[gast.Assign]:
    """A call in a tangent statement that reads no tangent (a partial, ``math.cos(x)``) is the
    same in every direction: computed once, before the statement's copies, and read by name."""
    found: dict[str, tuple[str, gast.expr]] = {}

    class Partials(gast.NodeTransformer):
        def visit_Call(self, node):
            if _touches(node, names) or not str(getattr(node, "qualname", None) or getattr(
                    node.func, "spelled", "")).startswith("math."):
                return self.generic_visit(node)
            key = gast.dump(node)
            if key not in found:
                found[key] = (namer.fresh(hint(node)), node)
            return gast.copy_location(gast.Name(id=found[key][0], ctx=gast.Load(),
                                                annotation=None, type_comment=None), node)

    Partials().visit(stmt)
    return [gast.copy_location(assign(held, value), stmt) for held, value in found.values()]


def _returned(stmt: gast.Return, along: dict, returns_value: bool) -> gast.Return:
    """``return y, d_y`` -> ``return y, (dy_dx, dy_da)``; ``return d_y`` -> the tuple."""
    value = stmt.value
    tangent = value.elts[1] if returns_value else value
    grads = gast.Tuple(elts=[_renamed(tangent, r) for r in along.values()], ctx=gast.Load())
    result = gast.Tuple(elts=[value.elts[0], grads], ctx=gast.Load()) if returns_value \
        else grads
    return gast.copy_location(gast.Return(value=result), stmt)


def _tangent_names(fn: gast.FunctionDef, names: set[str]) -> set[str]:
    """``names`` and every name assigned from them (a temporary holding part of a tangent):
    values never read tangents."""
    names = set(names)
    statements = [s for s in children(fn) if isinstance(s, (gast.Assign, gast.AugAssign))]
    grown = True
    while grown:
        grown = False
        for stmt in statements:
            target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
            one = isinstance(target, gast.Name) and len(getattr(stmt, "targets", [1])) == 1
            if one and target.id not in names and _touches(stmt.value, names):
                names.add(target.id)  # (a value and its tangent at once stay apart)
                grown = True
    return names


def _touches(node: gast.AST | None, names: set[str]) -> bool:
    return node is not None and any(isinstance(n, gast.Name) and n.id in names
                                    for n in children(node))


def _stores_value(stmt: gast.AST, names: set[str]) -> bool:
    """Whether ``stmt`` assigns a name that is no tangent (a value)."""
    return any(isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)
               and n.id not in names for n in children(stmt))


def _renamed(node: gast.AST, renaming: dict[str, str]) -> gast.AST:
    node = copy.deepcopy(node)
    for n in children(node):
        if isinstance(n, gast.Name) and n.id in renaming:
            n.id = renaming[n.id]
    return node

