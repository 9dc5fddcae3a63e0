"""No derivative named for a temporary that is gone.

Simplification folds temporaries into the expressions that read them, but the adjoint or
tangent of a folded ``_t5`` keeps the name ``d_t5``: a reader looks for ``_t5`` and finds
none. Such a derivative is a temporary like any other and takes a temporary's name::

    _t2 = -(DT * d_vy)     (was d_t2, where no _t2 is computed)
    d_vy += DRAG * relative * _t2

Derivatives named for what they hold keep their names (``d_neg_x_x``, the adjoint of
``-x * x``, reads as what it is), as do those of the user's own variables (``d_total``) and
parameters.
"""

from __future__ import annotations

import itertools
import re

import gast

from ad_transpile.names import Namer
from ad_transpile.trees import walk


def rename_orphans(fn: gast.FunctionDef, namer: Namer, source_names: frozenset[str]
                   ) -> gast.FunctionDef:
    """Give each derivative of a temporary that ``fn`` no longer computes a fresh name."""
    present = {n.id for n in walk(fn) if isinstance(n, gast.Name)}
    params = {a.id for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    orphans = {derivative for var, derivative in namer.adjoints.items()
               if derivative in present and derivative not in params
               and var not in present and var not in source_names
               and re.fullmatch(r"_t\d+", var)}
    renames: dict[str, str] = {}
    numbers = (f"_t{k}" for k in itertools.count(1))
    for node in _in_order(fn.body):  # numbered as a reader meets them, from _t1 on: the
        if node.id in orphans:  # numbers of temporaries folded away are free again
            if node.id not in renames:
                renames[node.id] = next(n for n in numbers if n not in present)
            node.id = renames[node.id]
    return fn


def _in_order(statements: list[gast.stmt]):
    """The names of ``statements`` in the order they are written (targets first)."""
    found: list[gast.Name] = []

    class Names(gast.NodeVisitor):
        def visit_Name(self, node: gast.Name) -> None:
            found.append(node)

    for stmt in statements:
        Names().visit(stmt)
    return found
