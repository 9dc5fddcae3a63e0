"""Shapes of the arrays of a generated function, axis by axis, where the arguments' kinds tell.

Each axis's length is ``1``, a name for a length other than 1 (``"X.0"``: the first axis of
``X``), or None (not known: it may be 1). Broadcasting two named lengths other than 1 proves
them equal (NumPy raises otherwise), so names are merged as they meet::

    X: ndarray[_, _], w: ndarray[_]     X -> (X.0, X.1)    w -> (w.0,)
    z = X @ w                           z -> (X.0,)        and X.1 is w.0
    r = z - y                           r -> (X.0,)        and y.0 is X.0

Only facts that hold whenever the function runs to its end are used: the statements at the top
of its body, which run on every call.
"""

from __future__ import annotations

import gast

from ad_transpile.kinds import UNNAMED, Kind
from ad_transpile.numpy_kinds import ELEMENTWISE, PREDICATES
from ad_transpile.primitives import operands

Dim = int | str | None
Shape = tuple[Dim, ...] | None  # None: not known at all

REDUCING = {"numpy.sum", "numpy.mean", "numpy.max", "numpy.min", "numpy.prod", "numpy.amax",
            "numpy.amin", "numpy.std", "numpy.var", "scipy.special.logsumexp"}
SAME_SHAPE = {"numpy.zeros_like", "numpy.ones_like", "numpy.copy", "numpy.asarray",
              "numpy.full_like", "numpy.empty_like", "numpy.flip", "numpy.fliplr",
              "numpy.flipud", "numpy.roll", "numpy.nan_to_num", "scipy.special.softmax",
              "scipy.special.log_softmax"}
HELPER_SHAPES = {"_unreduce": 1, "_extreme_mask": 0, "_matmul_adjoint_a": 1,
                 "_matmul_adjoint_b": 2, "_contraction_adjoint_a": 1, "_contraction_adjoint_b": 2,
                 "_centered": 0, "_nonzero": 0, "_prod_others": 0, "_power_log": 0,
                 "_uncumprod": 1, "_untake": 1, "_unpad": 1, "_unconvolve": 2, "_uncross": 1,
                 "_unkron_a": 1, "_unkron_b": 2, "_ungradient": 1, "_untrapezoid_x": 2,
                 "_ptp_mask": 0, "_average_weights": 0,
                 "_spread_weights": 0}  # the argument whose shape it has


class Lengths:
    """Named lengths, merged where broadcasting or a product proves two of them equal."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, dim: Dim) -> Dim:
        if not isinstance(dim, str):
            return dim
        while self.parent.get(dim, dim) != dim:
            dim = self.parent[dim]
        return dim

    def merge(self, a: Dim, b: Dim) -> None:
        a, b = self.find(a), self.find(b)
        if isinstance(a, str) and isinstance(b, str) and a != b:
            self.parent[max(a, b)] = min(a, b)

    def same(self, a: Shape, b: Shape) -> bool:
        """Whether ``a`` and ``b`` are surely one shape."""
        return a is not None and b is not None and len(a) == len(b) and all(
            x is not None and self.find(x) == self.find(y) for x, y in zip(a, b))

    def broadcast(self, a: Shape, b: Shape, merge: bool = True) -> Shape:
        """The shape of ``a`` and ``b`` broadcast; two named lengths that meet are one, where
        the broadcast runs (``merge``), else not known."""
        if a is None or b is None:
            return None
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        out: list[Dim] = []
        for x, y in zip(a, b):
            x, y = self.find(x), self.find(y)
            if x == 1 or x == y:
                out.append(y)
            elif y == 1:
                out.append(x)
            elif isinstance(x, str) and isinstance(y, str):
                if not merge:
                    out.append(None)
                    continue
                self.merge(x, y)
                out.append(self.find(x))
            else:  # a length not known against a named one: the named one, else not known
                out.append(x if isinstance(x, str) else y if isinstance(y, str) else None)
        return tuple(out)


def shape_of_kind(param: str, kind: Kind) -> Shape:
    """An argument's shape from its kind: each length other than 1 named after the argument
    (or as the command line named it), a number's shape ``()``."""
    if kind.is_number:
        return ()
    if not kind.is_array or kind.dims is None:
        return None
    return tuple(1 if d == 1 else f"{param}.{i}" if d == UNNAMED else f"'{d}'"
                 for i, d in enumerate(kind.dims))


def qualname_of(call: gast.Call) -> str | None:
    """What a call calls: the source's qualified name, a rule's spelled one, or a helper."""
    found = getattr(call, "qualname", None) or getattr(call.func, "spelled", None)
    if found:
        return found.replace("ad_transpile.runtime.", "")
    return call.func.id if isinstance(call.func, gast.Name) else None


class Evaluate:
    """The shape of an expression, from the shapes known of the names it reads."""

    def __init__(self, lengths: Lengths, known: dict[str, Shape]) -> None:
        self.lengths, self.known = lengths, known

    def __call__(self, node: gast.expr) -> Shape:
        if isinstance(node, gast.Constant):
            return () if isinstance(node.value, (int, float, bool)) else None
        if isinstance(node, gast.Name):
            return self.known.get(node.id)
        if isinstance(node, gast.UnaryOp):
            return self(node.operand)
        if isinstance(node, gast.BinOp):
            if isinstance(node.op, gast.MatMult):
                return self.matmul(self(node.left), self(node.right))
            return self.lengths.broadcast(self(node.left), self(node.right))
        if isinstance(node, gast.Compare):
            return self.broadcast_all([node.left, *node.comparators])
        if isinstance(node, gast.Attribute) and node.attr == "T":
            inner = self(node.value)
            return None if inner is None else inner[::-1]
        if isinstance(node, gast.Subscript):
            return self.subscript(node)
        if isinstance(node, gast.Call):
            return self.call(node)
        return None

    def broadcast_all(self, nodes: list[gast.expr]) -> Shape:
        shape: Shape = ()
        for node in nodes:
            shape = self.lengths.broadcast(shape, self(node))
        return shape

    def matmul(self, a: Shape, b: Shape) -> Shape:
        if a is None or b is None or not 1 <= len(a) <= 2 or not 1 <= len(b) <= 2:
            return None
        self.lengths.merge(a[-1], b[0])
        return a[:-1] + b[1:]

    def subscript(self, node: gast.Subscript) -> Shape:
        """``x[:, None]``, ``x[0]``: whole slices keep an axis, ``None`` adds one of length 1,
        a whole number takes one away; anything else gives axes of lengths not known."""
        owner = self(node.value)
        parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if owner is None:
            return None
        out: list[Dim] = []
        axis = 0
        for part in parts:
            if isinstance(part, gast.Constant) and part.value is None:
                out.append(1)
                continue
            if axis >= len(owner):
                return None
            if isinstance(part, gast.Slice):
                whole = part.lower is None and part.upper is None and part.step is None
                out.append(owner[axis] if whole else None)
            elif not (isinstance(part, gast.Constant) and type(part.value) is int):
                return None
            axis += 1
        return (*out, *owner[axis:])

    def call(self, node: gast.Call) -> Shape:
        qualname = qualname_of(node) or ""
        keywords = {k.arg: k.value for k in node.keywords}
        args = operands(node)  # x.sum(0): x, then 0
        if qualname in HELPER_SHAPES and len(args) > HELPER_SHAPES[qualname]:
            return self(args[HELPER_SHAPES[qualname]])
        if qualname == "_unbroadcast" and len(args) == 2:
            value = self(args[0])
            return value if value in ((), None) else self(args[1])
        if qualname in ("numpy.dot", "numpy.matmul") and len(args) == 2 and not keywords:
            return self.matmul(self(args[0]), self(args[1]))
        if qualname in ELEMENTWISE | PREDICATES and not keywords:
            return self.broadcast_all(args)
        if qualname in SAME_SHAPE and args:
            return self(args[0])
        if qualname in ("numpy.size", "numpy.ndim", "builtins.len", "builtins.float", "len",
                        "float"):
            return ()
        if qualname == "numpy.transpose" and len(args) == 1 and not keywords:
            inner = self(args[0])
            return None if inner is None else inner[::-1]
        if qualname == "numpy.outer" and len(args) == 2:
            a, b = self(args[0]), self(args[1])
            return (a[0], b[0]) if a is not None and b is not None and len(a) == len(b) == 1 \
                else None
        if qualname == "numpy.expand_dims" and len(args) == 2:
            return expanded(self(args[0]), args[1])
        if qualname in REDUCING and len(args) == 1:
            return self.reduced(self(args[0]), keywords)
        return None

    def reduced(self, shape: Shape, keywords: dict[str, gast.expr]) -> Shape:
        if shape is None or keywords.keys() - {"axis", "keepdims", "ddof"}:
            return None
        keepdims = keywords.get("keepdims")
        keep = isinstance(keepdims, gast.Constant) and keepdims.value is True
        if keepdims is not None and not isinstance(keepdims, gast.Constant):
            return None
        axis = keywords.get("axis")
        if axis is None or (isinstance(axis, gast.Constant) and axis.value is None):
            return (1,) * len(shape) if keep else ()
        if not (isinstance(axis, gast.Constant) and type(axis.value) is int) \
                or not -len(shape) <= axis.value < len(shape):
            return None
        n = axis.value % len(shape)
        return shape[:n] + ((1,) if keep else ()) + shape[n + 1:]


def expanded(shape: Shape, axis: gast.expr) -> Shape:
    """The shape of ``np.expand_dims(a, axis)`` for a whole number ``axis``."""
    if shape is None or not (isinstance(axis, gast.Constant) and type(axis.value) is int):
        return None
    n = axis.value % (len(shape) + 1)
    return shape[:n] + (1,) + shape[n:]
