"""Shape analysis: which values surely have the same shape, found without running the code.

A shape is written as the set of values whose shapes broadcast together to give it, so that the
order and repetition of operands do not matter: ``y = 2.0 * x`` has the shape ``{x}``,
``r = a - b`` the shape ``{a, b}``, ``np.sum(r)`` the empty set (a number). Values whose sets are
equal have equal shapes whatever arrays the function is called with. Reverse mode then writes no
``_unbroadcast`` between them, and code that reads only a shape (``np.size(v)``) reads it from
the earliest value of that shape, so that nothing is computed for its shape alone::

    head = x[:-1]             head: {x less 1}
    tail = x[1:]              tail: {x less 1}    (each drops one item of x's first axis)
    t = tail - head ** 2      t:    {x less 1}    -> the shape of head and of tail

Only the statements at the top of a normalized function are read, and only names they assign
once (and parameters never assigned): there, a value stays what it was when the adjoint sweep
comes back to it. Any other name has no known shape.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import gast

from ad_transpile.calls import assigned_names
from ad_transpile.chain import arguments
from ad_transpile.primitives import GETITEM, constant_value, is_constant, operands, primitive
from ad_transpile.registry import Registry
from ad_transpile.trees import walk

Shape = frozenset  # of atoms: names, or (name, n) for a name's shape less n items on axis 0

REDUCTIONS = ("numpy.sum", "numpy.mean", "numpy.prod", "numpy.max", "numpy.min", "numpy.std",
              "numpy.var", "numpy.linalg.norm")  # over every axis: a number
ELEMENTWISE_NAMESPACES = ("numpy.", "operator.", "math.", "builtins.")
ELEMENTWISE_WITHOUT_RULE = {  # elementwise functions that carry no derivative, seen in partials
    "numpy.sign", "numpy.floor", "numpy.ceil", "numpy.trunc", "numpy.rint", "numpy.round",
    "numpy.isnan", "numpy.isinf", "numpy.isfinite", "numpy.equal", "numpy.less",
    "numpy.greater", "numpy.less_equal", "numpy.greater_equal",
}


@dataclass
class Shapes:
    known: dict[str, Shape]
    order: list[str]  # parameters, then assigned names, in the order they get their values
    registry: Registry

    def of(self, var: str) -> Shape | None:
        return self.known.get(var)

    def same(self, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` surely have one shape."""
        return a in self.known and self.known.get(a) == self.known.get(b)

    def of_expr(self, expr: gast.expr) -> Shape | None:
        """The shape of a built-in rule's partial derivative: an elementwise expression in the
        operation's arguments, whose calls are all elementwise too (``np.cos(x)``)."""
        if isinstance(expr, gast.Name):
            return self.of(expr.id)
        if isinstance(expr, gast.Constant):
            return Shape() if isinstance(expr.value, (int, float, bool)) else None
        if not isinstance(expr, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.BoolOp,
                                 gast.IfExp, gast.Call)):
            return None
        children = [e for e in gast.iter_child_nodes(expr) if isinstance(e, gast.expr)
                    and not (isinstance(expr, gast.Call) and e is expr.func)]
        parts = [self.of_expr(e) for e in children]
        return None if None in parts else Shape().union(*parts)

    def representative(self, var: str) -> str:
        """The first value that has the shape of ``var`` (``var`` itself if none is known)."""
        shape = self.of(var)
        if shape is None:
            return var
        return next(v for v in self.order if self.known.get(v) == shape)


def shapes(fn: gast.FunctionDef, registry: Registry, numbers: set[str]) -> Shapes:
    """The shapes of the values of ``fn``'s top-level straight-line statements; ``numbers``
    are the names known to hold one number (the value model's numbers, ``infer.Kinds.numbers``)."""
    params = [p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    stores = Counter(n.id for n in walk(fn)
                     if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store))
    known: dict[str, Shape] = {p: Shape({p}) for p in params if not stores[p]}
    order = [p for p in params if p in known]
    for stmt in fn.body:
        if not isinstance(stmt, gast.Assign) or not isinstance(stmt.targets[0], gast.Name):
            continue
        target = stmt.targets[0].id
        if stores[target] != 1 or assigned_names(stmt) != [target]:
            continue
        known[target] = Shape() if target in numbers else _shape_of_value(
            stmt.value, target, known, registry)
        order.append(target)
    return Shapes(known, order, registry)


def _shape_of_value(value: gast.expr, target: str, known: dict[str, Shape],
                    registry: Registry) -> Shape:
    """The shape ``target = value`` gives; a value of its own where nothing better is known."""
    own = Shape({target})
    if isinstance(value, gast.Name):
        return known.get(value.id, own)
    name_ = primitive(value)
    if name_ in REDUCTIONS and len(operands(value)) == 1 and not getattr(value, "keywords", []):
        return Shape()
    if name_ == GETITEM:
        return _shape_of_slice(value, known) or own
    if not _elementwise(value, registry):
        return own
    shapes_ = [_shape_of_operand(a, known) for a in arguments(value, registry)]
    return own if None in shapes_ else Shape().union(*shapes_)


def _shape_of_operand(arg: gast.expr, known: dict[str, Shape]) -> Shape | None:
    if isinstance(arg, gast.Name):
        return known.get(arg.id)
    return Shape() if is_constant(arg) else None


def _shape_of_slice(value: gast.Subscript, known: dict[str, Shape]) -> Shape | None:
    """``x[s:-e]`` along the first axis, for whole numbers ``s >= 0`` and ``e > 0``: x's shape
    less ``s + e`` items (none left if x has fewer), whatever the length of x."""
    index = value.slice
    if not isinstance(value.value, gast.Name) or not isinstance(index, gast.Slice):
        return None
    base = known.get(value.value.id)
    start = 0 if index.lower is None else _whole(index.lower)
    stop = 0 if index.upper is None else _whole(index.upper)
    step = 1 if index.step is None else _whole(index.step)
    if base is None or start is None or stop is None or step != 1 or start < 0 or stop > 0:
        return None
    dropped = start - stop
    if dropped == 0:
        return base
    if len(base) != 1:
        return None
    (atom,) = base
    owner, less = atom if isinstance(atom, tuple) else (atom, 0)
    return Shape({(owner, less + dropped)})


def _whole(expr: gast.expr) -> int | None:
    if is_constant(expr) and type(constant_value(expr)) is int:
        return constant_value(expr)
    return None


def _elementwise(value: gast.expr, registry: Registry) -> bool:
    """A built-in elementwise operation: its result has its arguments' broadcast shape."""
    if not isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Call)):
        return False
    name_ = primitive(value) or ""
    keywords = getattr(value, "keywords", [])
    if name_ in ELEMENTWISE_WITHOUT_RULE:
        return not keywords
    if not name_.startswith(ELEMENTWISE_NAMESPACES) or getattr(value, "receiver", False):
        return False
    rule = registry.lookup(name_, len(operands(value)) + len(keywords))
    if rule is None or rule.structural or rule.user:
        return False
    return {k.arg for k in keywords} <= set(rule.params)
