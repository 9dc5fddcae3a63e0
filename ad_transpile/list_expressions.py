"""The list forms inside one statement's expressions, rewritten by the lists pass.

``max(v)`` becomes ``v[i_max]`` after ``i_max = max(range(len(v)), key=v.__getitem__)``;
``sorted(v)`` the items of ``v`` along the permutation; a comprehension a list built by a loop
of appends before the statement; ``a + b`` of lists a copy of ``a`` extended by ``b``.
"""

from __future__ import annotations

import gast

from ad_transpile.list_kinds import EXTREMES, assign, call, index_of, is_list_copy, item
from ad_transpile.primitives import name


class Expressions(gast.NodeTransformer):
    """Rewrites the list forms in one statement's expressions, hoisting what they need."""

    def __init__(self, lowering) -> None:  # a lists._Lowering
        self.lowering = lowering

    def visit_Lambda(self, node):
        return node

    def visit_ListComp(self, node):
        return name(self.lowering.hoisted(node))

    def visit_GeneratorExp(self, node):  # its items, in a list: read once, they are the same
        comp = gast.ListComp(elt=node.elt, generators=node.generators)
        return name(self.lowering.hoisted(gast.copy_location(comp, node)))

    def visit_Call(self, node):
        low = self.lowering
        qualname = getattr(node, "qualname", None)
        if len(node.args) == 1 and isinstance(node.args[0], gast.GeneratorExp):
            gen = node.args[0]
            sums = qualname in ("builtins.sum", "math.fsum")
            if not (sums and not _loops_over_lists(gen, low)):
                node.args[0] = gast.copy_location(
                    gast.ListComp(elt=gen.elt, generators=gen.generators), gen)
        if qualname in ("builtins.sum", "math.fsum") and len(node.args) == 1 \
                and isinstance(node.args[0], gast.ListComp) \
                and not _loops_over_lists(node.args[0], low):
            return node  # normalize sums a comprehension as it goes
        if qualname == "builtins.list" and len(node.args) == 1 \
                and isinstance(node.args[0], gast.ListComp):
            return self.visit(node.args[0])
        self.generic_visit(node)
        if is_list_copy(node, low.lists):
            return gast.copy_location(call("builtins.list", node.func.value), node)
        single = len(node.args) == 1 and not node.keywords
        if qualname in EXTREMES and single and _listlike(node.args[0], low):
            var = low.hoisted(node.args[0])
            op = qualname.rpartition(".")[2]
            at = low.namer.fresh(f"i_{op}")
            low.before += low.located([assign(at, index_of(qualname, var))], node)
            return gast.copy_location(item(var, name(at)), node)
        if qualname == "builtins.sorted" and len(node.args) == 1 \
                and all(k.arg == "reverse" for k in node.keywords) \
                and _listlike(node.args[0], low):
            var = low.hoisted(node.args[0])
            order = low.namer.fresh("order")
            low.indices.add(order)
            low.lists.add(order)
            keywords = {k.arg: k.value for k in node.keywords}
            low.before += low.located([assign(order, index_of(qualname, var, **keywords))],
                                      node)
            j = low.namer.fresh("j")
            comp = gast.ListComp(elt=item(var, name(j)), generators=[gast.comprehension(
                target=name(j, store=True), iter=name(order), ifs=[], is_async=0)])
            sorted_ = low.fresh_list("ordered")
            low.before += low.comprehension(gast.copy_location(comp, node), sorted_)
            return gast.copy_location(name(sorted_), node)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        low = self.lowering
        if isinstance(node.op, gast.Add) and _listlike(node.left, low) \
                and _listlike(node.right, low):  # a + b: a copy of a, then b appended
            joined = low.fresh_list("joined")
            low.before += low.located([assign(joined, call("builtins.list", node.left))],
                                      node)
            low.before += low.extend(joined, node.right)
            return gast.copy_location(name(joined), node)
        return node


def _listlike(expr: gast.expr, low) -> bool:
    return isinstance(expr, (gast.List, gast.ListComp)) or low.is_list(expr)


def _loops_over_lists(comp: gast.AST, low) -> bool:
    return any(low.lowers(g.iter) for g in comp.generators)
