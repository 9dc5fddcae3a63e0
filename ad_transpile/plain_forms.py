"""Helpers of a reverse sweep written out in plain NumPy, for ``plain_numpy``: the sum over
stretched axes, ``np.size`` from an argument's lengths, the rules' ``@plain`` forms (the
adjoints of ``a @ b``), ``_extreme_mask``, ``_centered`` and ``_nonzero``.

Each method returns the call it was given where what it needs to know is not known.
"""

from __future__ import annotations

import copy
from functools import cache

import gast

from ad_transpile.array_shapes import Shape, qualname_of
from ad_transpile.parse import collect_imports, parse_text
from ad_transpile.primitives import make_constant, name
from ad_transpile.registry import _Substitute, builtin_rule_files

CONTRACTIONS = {"_contraction_adjoint_a": "_matmul_adjoint_a",
                "_contraction_adjoint_b": "_matmul_adjoint_b"}


class WrittenOut:
    """The written-out forms; ``evaluate``, ``lengths``, ``known``, ``params`` and ``spell``
    come from the pass (``plain_numpy._Rewrite``)."""

    def like(self, shape: Shape) -> gast.expr | None:
        """An array argument of ``shape``, to read the shape from."""
        if not shape:
            return None
        for param in sorted(self.params):
            if self.lengths.same(self.known.get(param), shape):
                return name(param)
        return None

    def summed(self, node: gast.Call) -> gast.expr:
        value, like = node.args
        shape, target = self.evaluate(value), self.evaluate(like)
        if shape is None or target is None:
            return node
        if shape == () or self.lengths.same(shape, target):
            return value
        if len(shape) < len(target):
            return node
        find = self.lengths.find
        leading = tuple(range(len(shape) - len(target)))
        kept = []
        for i, (d, t) in enumerate(zip(shape[len(leading):], target)):
            if t == 1 and d != 1:
                if d is None:
                    return node  # stretched, or of length 1 already: not known
                kept.append(i)
            elif t is None or d is None or find(d) != find(t):
                return node
        summed = self.sum(value, leading, keepdims=False) if leading else value
        return self.sum(summed, tuple(kept), keepdims=True) if kept else summed

    def sum(self, value: gast.expr, axes: tuple[int, ...], keepdims: bool) -> gast.expr:
        keywords = [gast.keyword(arg="axis", value=make_constant(axes[0]) if len(axes) == 1
                                 else gast.Tuple(elts=[make_constant(a) for a in axes],
                                                 ctx=gast.Load()))] if axes else []
        if keepdims:
            keywords.append(gast.keyword(arg="keepdims", value=make_constant(True)))
        return gast.Call(func=self.spell("numpy.sum"), args=[value], keywords=keywords)

    def plain(self, node: gast.Call, helper: str) -> gast.expr:
        """A helper's plain form from the rules, where its operands have the numbers of
        dimensions the form is for and the adjoint has the shape of the product."""
        g, a, b = node.args
        shapes = {"a": self.evaluate(a), "b": self.evaluate(b)}
        if None in shapes.values() or not self.lengths.same(
                self.evaluate(g), self.evaluate.matmul(shapes["a"], shapes["b"])):
            return node
        ndims = {k: len(s) for k, s in shapes.items()}
        for form in plain_forms()[helper]:
            if form.ndims == ndims:
                return form.written(dict(zip(form.params, node.args)), self.spell)
        return node

    def like_matmul(self, node: gast.Call) -> bool:
        """``_contraction_adjoint_a(g, a, b, _dot_axes(a, b))``: ``np.dot`` of vectors and
        matrices is ``a @ b`` (``np.inner`` of vectors too)."""
        axes = node.args[3]
        if not isinstance(axes, gast.Call) or qualname_of(axes) not in ("_dot_axes",
                                                                        "_inner_axes"):
            return False
        ndims = [len(s) if s is not None else None for s in map(self.evaluate, node.args[1:3])]
        return ndims[0] in (1, 2) and ndims[1] in (1, 2) and (
            qualname_of(axes) == "_dot_axes" or ndims == [1, 1])

    def centered(self, node: gast.Call) -> gast.expr:
        """``_centered(a, axis=k)``: ``a - np.mean(a, axis=k, keepdims=True)``."""
        (a,) = node.args
        keywords = [k for k in node.keywords if k.arg == "axis"]
        if len(keywords) != len(node.keywords):
            return node
        mean = gast.Call(func=self.spell("numpy.mean"), args=[copy.deepcopy(a)], keywords=[
            *keywords, gast.keyword(arg="keepdims", value=make_constant(True))] if keywords
            else [])
        return gast.BinOp(left=a, op=gast.Sub(), right=mean)

    def nonzero(self, value: gast.expr, shape: Shape) -> gast.expr:
        """``_nonzero(v)``: 1.0 where ``v`` is 0, so that dividing by it gives 0, not 0 / 0."""
        zero = gast.Compare(left=copy.deepcopy(value), ops=[gast.Eq()],
                            comparators=[make_constant(0.0)])
        if shape == ():
            return gast.IfExp(test=zero, body=make_constant(1.0), orelse=value)
        return gast.Call(func=self.spell("numpy.where"), keywords=[],
                         args=[zero, make_constant(1.0), value])

    def extremes(self, node: gast.Call) -> gast.expr:
        """``_extreme_mask(a, m, axis=k, keepdims=True)``: where ``a`` reaches ``m``, each tie
        its share, ``(a == m) / np.sum(a == m, axis=k, keepdims=True)``."""
        a, result = node.args
        options = {k.arg: k.value for k in node.keywords}
        shape, reduced = self.evaluate(a), self.evaluate(result)
        keep = self.evaluate.reduced(shape, {**options, "keepdims": make_constant(True)})
        if options.keys() - {"axis", "keepdims"} or keep is None or reduced is None or not (
                self.lengths.same(reduced, keep) or reduced == ()):
            return node

        def hit() -> gast.expr:
            return gast.Compare(left=copy.deepcopy(a), ops=[gast.Eq()],
                                comparators=[copy.deepcopy(result)])
        axis = [k for k in node.keywords if k.arg == "axis"]
        count = gast.Call(func=self.spell("numpy.sum"), args=[hit()], keywords=[
            *copy.deepcopy(axis), gast.keyword(arg="keepdims", value=make_constant(True))])
        return gast.BinOp(left=hit(), op=gast.Div(), right=count)

    def size(self, node: gast.Call) -> gast.expr:
        """``np.size(v)`` of a value made in the function, from an argument's lengths, so that
        ``v`` need not be kept for its size."""
        (value,) = node.args
        shape = self.evaluate(value)
        if not isinstance(value, gast.Name) or value.id in self.params or shape is None:
            return node
        factors = []
        for dim in shape:
            if dim == 1:
                continue
            found = self.length(dim)
            if found is None:
                return node
            factors.append(found)
        product = factors[0] if factors else make_constant(1)
        for factor in factors[1:]:
            product = gast.BinOp(left=product, op=gast.Mult(), right=factor)
        return product

    def length(self, dim) -> gast.expr | None:
        """``len(p)`` or ``p.shape[i]`` for an argument ``p`` with the length ``dim``."""
        if dim is None:
            return None
        for param in sorted(self.params):
            for i, d in enumerate(self.known.get(param) or ()):
                if d is not None and d != 1 and self.lengths.find(d) == self.lengths.find(dim):
                    if i == 0:
                        length = gast.Call(func=name("len"), args=[name(param)], keywords=[])
                        length.qualname = "builtins.len"  # a number: simplify may move it
                        return length
                    shape = gast.Attribute(value=name(param), attr="shape", ctx=gast.Load())
                    return gast.Subscript(value=shape, slice=make_constant(i), ctx=gast.Load())
        return None


def with_axis(value: gast.expr, axis: int) -> gast.expr:
    """``value[:, None]``: ``value`` with an axis of length 1 put in at ``axis``."""
    whole = [gast.Slice(lower=None, upper=None, step=None) for _ in range(axis)]
    parts = [*whole, gast.Constant(value=None, kind=None)]
    index = parts[0] if len(parts) == 1 else gast.Tuple(elts=parts, ctx=gast.Load())
    return gast.Subscript(value=value, slice=index, ctx=gast.Load())


class _Form:
    """One ``@plain`` rule: a helper written in plain NumPy for operands of given ndims."""

    def __init__(self, node: gast.FunctionDef, ndims: dict[str, int], imports) -> None:
        self.params = [a.id for a in node.args.args]
        self.ndims, self.imports = ndims, imports
        self.template = node.body[-1].value

    def written(self, values: dict[str, gast.expr], spell) -> gast.expr:
        bound = {k: copy.deepcopy(v) for k, v in values.items()}
        return _Substitute(bound, self.imports, set(bound), spell).visit(
            copy.deepcopy(self.template))


@cache
def plain_forms() -> dict[str, list[_Form]]:
    """The ``@plain`` rules of the rule files, by the helper they write out."""
    forms: dict[str, list[_Form]] = {}
    for path in builtin_rule_files():
        module = parse_text(path.read_text(), str(path))
        imports, _ = collect_imports(module)
        for node in module.body:
            for mark in getattr(node, "decorator_list", []):
                if isinstance(mark, gast.Call) and getattr(mark.func, "id", None) == "plain":
                    helper = mark.args[0].id
                    ndims = {k.arg: k.value.value for k in mark.keywords}
                    forms.setdefault(helper, []).append(_Form(node, ndims, imports))
    return forms
