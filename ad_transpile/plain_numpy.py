"""Plain NumPy pass: the broadcast helpers of a reverse sweep written as a person writes them,
where the arguments' kinds give the shapes (see ``array_shapes``).

With ``X: ndarray[_, _]``, ``w, y: ndarray[_]``::

    d_t2 = _unreduce(1.0 / np.size(y_z), y_z)      ->   d_t2 = 1.0 / len(X)
    d_z = _unbroadcast(-(y * d_t2), z)              ->   d_z = -(y * d_t2)
    return _matmul_adjoint_b(d_z, X, w)             ->   return X.T @ d_z

``_unbroadcast`` disappears where nothing was stretched and becomes ``np.sum`` over the axes
NumPy stretched; ``_unreduce`` disappears where the adjoint already has the shape, and is left
to broadcasting (``d_s`` for the whole of ``x``) where every reader of its result broadcasts it
against a value of that shape; a helper with a plain form in the rules (``@plain``) takes it.
Where a shape is not known, the helper stays: it is correct for every shape.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Callable

import gast

from ad_transpile.array_shapes import Evaluate, Lengths, Shape, expanded, qualname_of
from ad_transpile.parse import collect_imports, parse_text
from ad_transpile.primitives import make_constant, name
from ad_transpile.registry import _Substitute, builtin_rule_files

CONTRACTIONS = {"_contraction_adjoint_a": "_matmul_adjoint_a",
                "_contraction_adjoint_b": "_matmul_adjoint_b"}
Small = tuple  # (origin, full shape): a value that stands for an array of the full shape
MUTATORS = {"fill", "sort", "put", "resize", "itemset", "setfield", "partition"}
VIEWS = {"numpy.reshape", "numpy.transpose", "numpy.ravel", "numpy.squeeze", "numpy.asarray",
         "numpy.expand_dims", "numpy.broadcast_to", "numpy.ndarray.reshape", "numpy.swapaxes",
         "numpy.moveaxis", "numpy.atleast_1d", "numpy.atleast_2d", "numpy.diagonal"}


def plain_numpy(fn: gast.FunctionDef, params: dict[str, Shape],
                spell: Callable[[str], gast.expr]) -> gast.FunctionDef:
    """``fn`` with the helpers whose arguments' shapes are known written in plain NumPy."""
    if not any(s for s in params.values()):
        return fn

    lengths = Lengths()
    # an array written into in place may be an adjoint's too once a spread of 1.0 is folded
    # away (x * 1.0 is x): there, every adjoint is made an array of its own, as before
    writes = any((isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store)) or (
        isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute)
        and n.func.attr in MUTATORS) for n in gast.walk(fn))
    _Rewrite(params, lengths, spell, set(), writes).body(copy.deepcopy(fn.body))  # lengths
    refused: set = set()
    for _ in range(len(fn.body) + 2):  # each round refuses one more small value, or ends
        rewrite = _Rewrite(params, lengths, spell, refused, writes)
        body = rewrite.body(copy.deepcopy(fn.body))
        if not rewrite.escaped - refused:
            fn.body = body
            return fn
        refused |= rewrite.escaped
    return fn


class _Rewrite:
    """One walk down the function's top-level statements, shapes known as it goes."""

    def __init__(self, params, lengths, spell, refused, writes) -> None:
        self.writes = writes
        self.known: dict[str, Shape] = dict(params)
        self.params = set(params)
        self.lengths, self.spell, self.refused = lengths, spell, refused
        self.evaluate = Evaluate(lengths, self.known)
        self.small: dict[str, Small] = {}  # names holding a value smaller than it stands for
        self.escaped: set = set()  # origins of small values read where a whole array is needed
        self.where = 0

    def body(self, statements: list[gast.stmt]) -> list[gast.stmt]:
        for self.where, stmt in enumerate(statements):
            if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], gast.Name):
                target = stmt.targets[0].id
                stmt.value, shape, small = self.expr(stmt.value, tolerant=True)
                self.known[target] = shape
                self.small.pop(target, None)
                if small is not None:
                    self.small[target] = small
                continue
            if isinstance(stmt, gast.Return) and stmt.value is not None:
                stmt.value = self.expr(stmt.value)[0]
            else:
                self.escape_all(stmt)
            for node in gast.walk(stmt):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                    self.known[node.id] = None
                    self.small.pop(node.id, None)
        return statements

    def escape_all(self, stmt: gast.stmt) -> None:
        """Small values read by a statement this pass does not look into need their whole."""
        for node in gast.walk(stmt):
            if isinstance(node, gast.Name) and node.id in self.small:
                self.escaped.add(self.small[node.id][0])

    def expr(self, node: gast.expr, tolerant: bool = False):
        """``(node, shape, small)``: ``node`` rewritten, its shape, and if it is a small value
        standing for a bigger array (only where ``tolerant``), where it came from."""
        if isinstance(node, gast.Name):
            small = self.small.get(node.id)
            if small is not None and not tolerant:
                self.escaped.add(small[0])
            return node, self.known.get(node.id), small if tolerant else None
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
            node.operand, shape, small = self.expr(node.operand, tolerant)
            return node, shape, small
        if isinstance(node, gast.BinOp) and not isinstance(node.op, gast.MatMult):
            node.left, left, small_left = self.expr(node.left, tolerant=True)
            node.right, right, small_right = self.expr(node.right, tolerant=True)
            shape = self.lengths.broadcast(left, right)
            if small_left is not None and small_right is not None:
                self.escaped |= {small_left[0], small_right[0]}
                return node, shape, None
            for small, other in ((small_left, right), (small_right, left)):
                if small is None:
                    continue
                whole = self.lengths.broadcast(other, small[1], merge=False)
                if self.lengths.same(whole, shape):
                    return node, shape, None  # the other operand gives the whole shape
                if tolerant and self.lengths.same(whole, small[1]):
                    return node, shape, small  # 0.0 + s: still small
                self.escaped.add(small[0])
            return node, shape, None
        if isinstance(node, gast.Call):
            return self.call(node, tolerant)
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.expr):
                setattr(node, field, self.expr(value)[0])
            elif isinstance(value, list):
                setattr(node, field, [self.expr(v)[0] if isinstance(v, gast.expr) else v
                                      for v in value])
        return node, self.evaluate(node), None

    def call(self, node: gast.Call, tolerant: bool):
        helper = qualname_of(node)
        origin = (self.where, gast.dump(node))
        if helper == "_unreduce" and len(node.args) == 2:
            return self.unreduce(node, tolerant and origin not in self.refused, origin)
        if helper == "_unbroadcast" and len(node.args) == 2:
            return self.unbroadcast(node, tolerant)
        node.args = [self.expr(a)[0] for a in node.args]
        for k in node.keywords:
            k.value = self.expr(k.value)[0]
        shape = self.evaluate(node)
        if helper in PLAIN and len(node.args) == 3:
            return self.plain(node, helper), shape, None
        if helper in CONTRACTIONS and len(node.args) == 4 and self.like_matmul(node):
            matmul = gast.Call(func=node.func, args=node.args[:3], keywords=[])
            written = self.plain(matmul, CONTRACTIONS[helper])
            return (node if written is matmul else written), shape, None
        if helper == "_centered" and len(node.args) == 1 and shape is not None:
            return self.centered(node), shape, None
        if helper == "_nonzero" and len(node.args) == 1 and shape is not None:
            return self.nonzero(node.args[0], shape), shape, None
        if helper == "numpy.size" and len(node.args) == 1 and not node.keywords:
            return self.size(node), shape, None
        if helper == "_extreme_mask" and len(node.args) == 2:
            return self.extremes(node), shape, None
        return node, shape, None

    def unreduce(self, node: gast.Call, tolerant: bool, origin):
        """``_unreduce(g, a, axis=k)``: ``g`` with the axis ``k`` put back, where that is the
        shape of ``a`` or, ``tolerant``, where every reader broadcasts it to that shape."""
        g, a = node.args
        g, g_shape, g_small = self.expr(g, tolerant=True)
        a, a_shape, _ = self.expr(a)
        node.args = [g, a]
        if g_small is not None and g_shape != ():
            self.escaped.add(g_small[0])
        options = {k.arg: k.value for k in node.keywords}
        if g_shape is None or a_shape is None or options.keys() - {"axis", "keepdims"} or not all(
                isinstance(v, gast.Constant) for v in options.values()):
            return node, a_shape, None
        axis = options["axis"].value if "axis" in options else None
        keepdims = options["keepdims"].value if "keepdims" in options else False
        spread = g
        if axis is not None and not keepdims and g_shape != ():
            if type(axis) is not int or len(g_shape) + 1 != len(a_shape):
                return node, a_shape, None
            g_shape = expanded(g_shape, make_constant(axis))
            spread = _with_axis(g, axis % len(a_shape))
        if self.lengths.same(g_shape, a_shape) and not (self.writes and spread is g):
            return spread, a_shape, None  # (an array written into may be g itself)
        if tolerant and self.fits(g_shape, a_shape) and not self.writes:
            return spread, g_shape, (origin, a_shape)
        like = self.like(a_shape)
        if g_shape == () and like is not None:  # a number for every element: np.full
            shape = gast.Attribute(value=like, attr="shape", ctx=gast.Load())
            return gast.Call(func=self.spell("numpy.full"), args=[shape, g],
                             keywords=[]), a_shape, None
        return node, a_shape, None

    def like(self, shape: Shape) -> gast.expr | None:
        """An argument of ``shape``, to read the shape from."""
        for param in sorted(self.params):
            if self.lengths.same(self.known.get(param), shape):
                return name(param)
        return None

    def fits(self, small: Shape, whole: Shape) -> bool:
        """Whether NumPy broadcasts an array of shape ``small`` to ``whole``."""
        find = self.lengths.find
        return len(small) <= len(whole) and all(
            d == 1 or (d is not None and find(d) == find(w))
            for d, w in zip(small[::-1], whole[::-1]))

    def unbroadcast(self, node: gast.Call, tolerant: bool):
        """``_unbroadcast(v, like)``: ``v`` summed over the axes broadcasting stretched; a
        small ``v`` standing for an array of the shape of ``like`` is that array already."""
        value, value_shape, small = self.expr(node.args[0], tolerant=True)
        like, target, _ = self.expr(node.args[1])
        node.args = [value, like]
        if small is not None:
            if tolerant and self.lengths.same(small[1], target):
                return value, value_shape, small
            self.escaped.add(small[0])
        return self.summed(node), self.evaluate(node), None

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
        for form in PLAIN[helper]:
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
                        return gast.Call(func=name("len"), args=[name(param)], keywords=[])
                    shape = gast.Attribute(value=name(param), attr="shape", ctx=gast.Load())
                    return gast.Subscript(value=shape, slice=make_constant(i), ctx=gast.Load())
        return None


def _with_axis(value: gast.expr, axis: int) -> gast.expr:
    """``value[:, None]``: ``value`` with an axis of length 1 put in at ``axis``."""
    whole = [gast.Slice(lower=None, upper=None, step=None) for _ in range(axis)]
    parts = [*whole, gast.Constant(value=None, kind=None)]
    index = parts[0] if len(parts) == 1 else gast.Tuple(elts=parts, ctx=gast.Load())
    return gast.Subscript(value=value, slice=index, ctx=gast.Load())


def fresh_results(fn: gast.FunctionDef, params: dict[str, Shape]) -> gast.FunctionDef:
    """A gradient that may be an argument or a view of one (``d_w = x`` for ``np.sum(w * x)``
    once ``x * 1.0`` is folded) returned as a copy: the caller may change the gradient in
    place, and must not change its argument so. Only arrays are copied, never numbers."""
    known: dict[str, Shape] = dict(params)
    evaluate = Evaluate(Lengths(), known)
    made: dict[str, gast.expr] = {}
    for stmt in fn.body:
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name):
            known[stmt.targets[0].id] = evaluate(stmt.value)
            made[stmt.targets[0].id] = stmt.value
        elif isinstance(stmt, gast.Return) and stmt.value is not None:
            stmt.value = _fresh(stmt.value, known, made, set(params))
        else:
            for node in gast.walk(stmt):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                    known[node.id] = None
                    made.pop(node.id, None)
    return fn


def _fresh(value: gast.expr, known, made, params) -> gast.expr:
    if isinstance(value, gast.Tuple):
        value.elts = [_fresh(e, known, made, params) for e in value.elts]
        return value
    if not isinstance(value, gast.Name) or not known.get(value.id):
        return value
    source = made.get(value.id)
    view = value.id in params or isinstance(source, (gast.Name, gast.Subscript, gast.Attribute)
                                            ) or (isinstance(source, gast.Call)
                                                  and qualname_of(source) in VIEWS)
    return _copied(value) if view else value


def _copied(value: gast.Name) -> gast.expr:
    method = gast.Attribute(value=value, attr="copy", ctx=gast.Load())
    return gast.Call(func=method, args=[], keywords=[])


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
def _plain_forms() -> dict[str, list[_Form]]:
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


class _Forms(dict):
    def __missing__(self, key):
        raise KeyError(key)

    def __contains__(self, key) -> bool:
        return key in _plain_forms()

    def __getitem__(self, key):
        return _plain_forms()[key]


PLAIN = _Forms()
