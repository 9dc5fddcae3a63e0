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
from typing import Callable

import gast

from ad_transpile.array_shapes import Evaluate, Lengths, Shape, expanded, qualname_of
from ad_transpile.plain_forms import CONTRACTIONS, WrittenOut, plain_forms, with_axis
from ad_transpile.primitives import make_constant
from ad_transpile.trees import walk

Small = tuple  # (origin, full shape): a value that stands for an array of the full shape
MUTATORS = {"fill", "sort", "put", "resize", "itemset", "setfield", "partition"}


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
        and n.func.attr in MUTATORS) for n in walk(fn))
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


class _Rewrite(WrittenOut):
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
            for node in walk(stmt):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                    self.known[node.id] = None
                    self.small.pop(node.id, None)
        return statements

    def escape_all(self, stmt: gast.stmt) -> None:
        """Small values read by a statement this pass does not look into need their whole."""
        for node in walk(stmt):
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
        if helper in plain_forms() and len(node.args) == 3:
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
            spread = with_axis(g, axis % len(a_shape))
        if g_shape == a_shape == ():
            return g, (), None  # a number spread over a number
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
