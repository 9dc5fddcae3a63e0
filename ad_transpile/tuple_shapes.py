"""Which variables hold tuples, and of what structure, as far as the source tells.

A shape is ``None`` for a value that is not a known tuple, else a tuple of the shapes of its
components: ``t = ((a, b), c)`` gives ``t`` the shape ``((None, None), None)``. Lengths come
only from the source: literals, constant indices and slices, the names a tuple is unpacked
into, and a user function's ``return a, b``. A variable keeps one shape everywhere; one that
holds a tuple in one place and another value (or another tuple length) elsewhere is refused.
"""

from __future__ import annotations

import copy
from collections import Counter

import gast

from ad_transpile import errors
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import is_constant, name
from ad_transpile.trees import walk

Shape = tuple | None
TUPLE_ITERS = ("builtins.enumerate", "builtins.zip", "builtins.reversed")
LIBRARIES = ("builtins.", "math.", "numpy.", "operator.", "ad_transpile.", "logging.")


FOLDED = {gast.Add: int.__add__, gast.Sub: int.__sub__, gast.Mult: int.__mul__}


def constant_index(expr: gast.expr) -> int | None:
    """``2``, ``-1`` or ``0 + 1`` written in the source, else None."""
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        inner = constant_index(expr.operand)
        return None if inner is None else -inner
    if isinstance(expr, gast.BinOp) and type(expr.op) in FOLDED:
        left, right = constant_index(expr.left), constant_index(expr.right)
        if left is not None and right is not None:
            return FOLDED[type(expr.op)](left, right)
    if isinstance(expr, gast.Constant) and type(expr.value) is int:
        return expr.value
    return None


def is_range_loop(loop: gast.AST) -> bool:
    """``for i in range(...)``: its index may index a tuple, once the loop is unrolled."""
    return (isinstance(loop, gast.For) and isinstance(loop.target, gast.Name)
            and isinstance(loop.iter, gast.Call)
            and getattr(loop.iter, "qualname", None) == "builtins.range")


class TupleShapes:
    """The shape of every tuple-valued variable of one function (restructured, not normalized)."""

    def __init__(self, parsed: ParsedFunction, fn: gast.FunctionDef,
                 visiting: frozenset = frozenset()) -> None:
        self.parsed, self.fn = parsed, fn
        self.visiting = visiting | {(parsed.module_name, fn.name)}
        self.of: dict[str, tuple] = {}
        self.plain: dict[str, gast.AST] = {}  # a variable given a value that is no known tuple
        self.results: dict[str, Shape] = {}  # a user function's result shape, by qualname
        self.callees: dict[str, ParsedFunction | None] = {}
        params = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
        self.params = {p.id for p in params}
        self.indices = {n.target.id for n in walk(fn) if is_range_loop(n)}
        self.plain.update({p.id: p for p in params})
        changed = True
        while changed:  # shapes only grow: a name's shape may come from a later line
            before = dict(self.of)
            for node in walk(fn):
                self.learn(node, check=False)
            changed = before != self.of
        for node in walk(fn):
            self.learn(node, check=True)

    def learn(self, node: gast.AST, check: bool) -> None:
        if isinstance(node, gast.Assign) and len(node.targets) == 1:
            self.bind(node.targets[0], self.shape(node.value), check)
        elif isinstance(node, gast.AnnAssign) and node.value is not None:
            self.bind(node.target, self.shape(node.value), check)
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            if node.target.id in self.of or self.shape(node.value) is not None:
                raise self.parsed.error(
                    errors.Unsupported, node, construct=f"'{node.target.id} += ...' on a "
                    "tuple", why="it changes the tuple's length; build the new tuple by name")
            self.bind(node.target, None, check)
        elif isinstance(node, gast.For):
            items = self.items(node.iter)
            for item in items if items is not None else [None]:
                self.bind(node.target, item, check)

    def bind(self, target: gast.expr, shape: Shape, check: bool) -> None:
        if isinstance(target, gast.Name):
            given = shape is not None and target.id in self.params  # an argument: a number
            if given or check and (shape is None) != (target.id not in self.of):
                where = target if shape is None else self.plain.get(target.id, target)
                raise self.parsed.error(
                    errors.Unsupported, where, construct=f"'{target.id}' holding a tuple "
                    "and another value", why="a variable holds one tuple length throughout; "
                    "use another name for the other value")
            if shape is None:
                self.plain.setdefault(target.id, target)
            elif self.of.setdefault(target.id, shape) != shape:
                raise self.parsed.error(
                    errors.Unsupported, target, construct=f"'{target.id}' holding tuples of "
                    "different structure", why="a variable holds one tuple length throughout; "
                    "use another name for the other tuple")
        elif isinstance(target, (gast.Tuple, gast.List)):
            for sub, part in zip(target.elts, self.split(target, shape)):
                self.bind(sub.value if isinstance(sub, gast.Starred) else sub, part, check)

    def split(self, target: gast.Tuple | gast.List, shape: Shape) -> list[Shape]:
        """The shape each name of ``a, *rest, b = value`` receives."""
        if shape is None:
            return [None] * len(target.elts)
        starred = [i for i, e in enumerate(target.elts) if isinstance(e, gast.Starred)]
        fixed = len(target.elts) - len(starred)
        if (not starred and fixed != len(shape)) or fixed > len(shape) or len(starred) > 1:
            raise self.parsed.error(
                errors.Unsupported, target, construct=f"unpacking a tuple of {len(shape)} "
                f"values into {len(target.elts)} names", why="the numbers must match")
        if not starred:
            return list(shape)
        k = starred[0]
        rest = len(shape) - (fixed - k)
        return [*shape[:k], tuple(shape[k:rest]), *shape[rest:]]

    def shape(self, expr: gast.expr) -> Shape:
        """The tuple shape of ``expr``, or None if it is no tuple known from the source."""
        if isinstance(expr, gast.Tuple):
            parts: list[Shape] = []
            for e in expr.elts:
                inner = self.shape(e.value) if isinstance(e, gast.Starred) else None
                parts += list(inner) if inner is not None else [self.shape(e)]
            return tuple(parts)
        if isinstance(expr, gast.Name):
            return self.of.get(expr.id)
        if isinstance(expr, gast.Subscript):
            whole = self.shape(expr.value)
            if whole is None:
                return None
            if isinstance(expr.slice, gast.Slice):
                return whole[self.constant_slice(expr.slice)]
            if constant_index(expr.slice) is None and whole and {
                    n.id for n in walk(expr.slice) if isinstance(n, gast.Name)
            } & self.indices and len(set(whole)) == 1:
                return whole[0]  # t[i] in a loop over range(len(t)), which is unrolled
            return whole[self.position(expr, len(whole))]
        if isinstance(expr, gast.Call) and getattr(expr, "qualname", None):
            return self.result(expr.qualname)
        if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Add):  # t + (c,)
            left, right = self.shape(expr.left), self.shape(expr.right)
            return left + right if left is not None and right is not None else None
        if isinstance(expr, gast.IfExp):  # (a, b) if c else (b, a)
            body, orelse = self.shape(expr.body), self.shape(expr.orelse)
            return body if body == orelse else None
        return None

    def position(self, subscript: gast.Subscript, length: int) -> int:
        """The component ``t[k]`` reads, ``k`` a constant in range."""
        k = constant_index(subscript.slice)
        if k is None:
            raise self.parsed.error(
                errors.Unsupported, subscript, construct="indexing a tuple with a variable",
                why="a tuple's components are separate variables; index it with a constant "
                "(or use a list)")
        if not -length <= k < length:
            raise self.parsed.error(
                errors.Unsupported, subscript, construct=f"index {k} of a tuple of {length}",
                why="it is out of range")
        return k % length

    def constant_slice(self, s: gast.Slice) -> slice:
        bounds = [None if b is None else constant_index(b) for b in (s.lower, s.upper, s.step)]
        if any(b is None and given is not None
               for b, given in zip(bounds, (s.lower, s.upper, s.step))):
            raise self.parsed.error(
                errors.Unsupported, s, construct="slicing a tuple with variable bounds",
                why="a tuple's length must be known from the source; slice with constants")
        return slice(*bounds)

    def items(self, iterable: gast.expr) -> list[Shape] | None:
        """The shapes of what ``for v in iterable`` gives, if ``iterable`` is a known tuple."""
        qualname = getattr(iterable, "qualname", None) if isinstance(iterable, gast.Call) else None
        if qualname in TUPLE_ITERS and not iterable.keywords and iterable.args:
            inner = [self.items(a) for a in iterable.args]
            if any(i is None for i in inner):
                return None
            if qualname == "builtins.reversed":
                return inner[0][::-1]
            if qualname == "builtins.enumerate":
                return [(None, s) for s in inner[0]] if len(inner) == 1 else None
            return [tuple(parts) for parts in zip(*inner)]
        whole = self.shape(iterable)
        return list(whole) if whole is not None else None

    def user(self, qualname: str | None) -> ParsedFunction | None:
        """The user function ``qualname`` names (not a library's), if there is one."""
        if not qualname or qualname.startswith(LIBRARIES):
            return None
        if qualname not in self.callees:
            self.callees[qualname] = self.parsed.callee(qualname)
        return self.callees[qualname]

    def result(self, qualname: str) -> Shape:
        """The shape a user function returns: every ``return`` gives the same tuple."""
        if qualname not in self.results:
            self.results[qualname] = None
            callee = self.user(qualname)
            if callee is not None and (callee.module_name, callee.name) not in self.visiting:
                inner = TupleShapes(callee, callee.tree, self.visiting)
                shapes = {inner.shape(n.value) for n in walk(callee.tree)
                          if isinstance(n, gast.Return) and n.value is not None}
                if len(shapes) == 1:
                    self.results[qualname] = shapes.pop()
        return self.results[qualname]


def fixed_components(fn: gast.FunctionDef, shapes: TupleShapes) -> dict[str, object]:
    """Components that stay what they were made of: ``t = (a, 1.0)``, assigned once at the top
    of the function from a parameter (or module constant) never assigned and a number, reads
    ``a`` for ``t[0]`` and ``1.0`` for ``t[1]``, with no copy of its own."""
    stored = Counter(n.id for n in walk(fn)
                     if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store))

    def fixed(expr: gast.expr, shape: Shape):
        if shape is not None:
            if not isinstance(expr, gast.Tuple) or len(expr.elts) != len(shape):
                return None
            return tuple(fixed(e, s) for e, s in zip(expr.elts, shape))
        if is_constant(expr):
            return copy.deepcopy(expr)
        if isinstance(expr, gast.Name) and not stored[expr.id] and expr.id not in shapes.of:
            return name(expr.id)
        return None

    return {
        stmt.targets[0].id: fixed(stmt.value, shapes.of[stmt.targets[0].id])
        for stmt in fn.body
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
        and stmt.targets[0].id in shapes.of and stored[stmt.targets[0].id] == 1
        and isinstance(stmt.value, gast.Tuple)
        and not any(isinstance(e, gast.Starred) for e in walk(stmt.value))
    }
