"""Infer pass (the value model): the kind of every variable of a normalized function.

It runs once, after normalization; analysis and both modes read its answer instead of guessing
from the syntax. In ``for i in range(len(xs)): r = math.sin(omega * xs[i]) - ys[i]`` with
``xs: list[float]``, ``xs[i]`` is a float, so is ``math.sin(...)`` (``math`` takes and gives
numbers), and so every value of the loop: the derivative is scalar code, with no NumPy.

The analysis is flow-insensitive: a variable's kind is the join of the kinds of all its
assignments, iterated to a fixed point (normalization gives a name reassigned at the top level
a new version, so little is lost). What it cannot classify is ``UNKNOWN``, which every pass
treats as "may be an array", as it did before there was a model.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

import gast

from ad_transpile.kinds import (
    BOOL,
    FLOAT,
    INT,
    UNKNOWN,
    Kind,
    array,
    item_of,
    join,
    kind_of_annotation,
    list_of,
    tuple_of,
)
from ad_transpile.numpy_kinds import kind_of_numpy_call
from ad_transpile.parse import NUMBER_CONSTANTS, ParsedFunction
from ad_transpile.primitives import name, primitive
from ad_transpile.trees import walk

MATH_INTS = {"math.floor", "math.ceil", "math.trunc", "math.factorial", "math.isqrt",
             "math.gcd", "math.lcm", "math.comb", "math.perm"}
MATH_BOOLS = {"math.isnan", "math.isinf", "math.isfinite", "math.isclose"}
NUMBER_BUILTINS = {"builtins.abs", "builtins.min", "builtins.max", "builtins.pow"}


@dataclass
class Kinds:
    """The answer of the pass: a kind for each variable (``UNKNOWN`` where none is known)."""

    of_var: dict[str, Kind]
    complete: bool = True  # False: nothing was inferred, every value may be anything
    assumed: frozenset[str] = frozenset()  # parameters taken for numbers by convention only

    def proven(self, var: str) -> Kind:
        """The kind of ``var`` where the source, an annotation or the call shows it."""
        return UNKNOWN if var in self.assumed else self.of(var)

    def of(self, var: str) -> Kind:
        return self.of_var.get(var) or UNKNOWN

    def of_expr(self, expr: gast.expr) -> Kind:
        return _Evaluate(self.of_var, {}).kind(expr)

    def is_number(self, expr: gast.expr) -> bool:
        return self.of_expr(expr).is_number

    @property
    def numbers(self) -> set[str]:
        return {v for v, k in self.of_var.items() if k is not None and k.is_number}

    @property
    def holds_arrays(self) -> bool:
        """Whether any value of the function is, holds or may be a NumPy array."""
        return self.any_array(self.of_var)

    def any_array(self, names) -> bool:
        """Whether any of ``names`` is, holds or may be a NumPy array: where none of the
        values with derivatives does, the derivative is scalar code."""
        return not self.complete or any(self.of(n).holds_arrays for n in names)


def param_kinds(parsed: ParsedFunction, given: dict[str, Kind] | None = None) -> dict[str, Kind]:
    """Each parameter's kind: given (by the command line or the call), else its annotation."""
    given = given or {}
    kinds = {}
    args = parsed.tree.args
    for param in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        kind = given.get(param.id)
        if kind in (None, UNKNOWN) and param.annotation is not None:
            kind = kind_of_annotation(_annotation(param))
        kinds[param.id] = kind or UNKNOWN
    return kinds


def assumed_kinds(parsed: ParsedFunction) -> dict[str, Kind]:
    """The parameters' kinds the derivative of ``parsed`` is written for when no call is seen:
    annotations and ``--arg``, then the convention of scalar code (see ``infer``)."""
    from ad_transpile.tuples import with_tuples_split  # t[0] of a tuple is no indexing

    kinds = param_kinds(parsed, parsed.arg_kinds)
    return {**kinds, **_by_convention(with_tuples_split(parsed), kinds)}


Returns = Callable[[str, list[Kind]], Kind]  # (user function, argument kinds) -> result kind


def infer(fn: gast.FunctionDef, params: dict[str, Kind],
          constants: dict[str, gast.stmt] | None = None, returns: Returns | None = None) -> Kinds:
    """The kinds of ``fn``'s variables, given its parameters' kinds.

    A parameter of unknown kind in code with no NumPy, no indexing and no ``@`` is taken to be
    a number, or a list of numbers where it is looped over or passed to ``len``/``sum``/``zip``
    (the convention of scalar code: ``def h(x): return math.sin(x) ** 2``).
    """
    assumed = _by_convention(fn, params)
    params = {**params, **assumed}
    known: dict[str, Kind | None] = dict(params)
    bindings = [(t, source, _reads(node)) for t, source, node in _bindings(fn)
                if t not in params]
    for target, _, _ in bindings:
        known.setdefault(target, None)
    evaluate = _Evaluate(known, _constant_kinds(constants or {}), returns)
    # first only the bindings whose names all have a kind (a loop's start before its
    # update), then all: a name still without one reads as UNKNOWN
    for ready_only in (True, False):
        for _ in range(2 * len(bindings) + 2):  # kinds only grow coarser: this ends
            changed = False
            for target, source, read in bindings:
                if ready_only and any(known.get(n, FLOAT) is None for n in read):
                    continue
                kind = join(known[target], source(evaluate))
                if kind != known[target]:
                    known[target], changed = kind, True
            if not changed:
                break
    return Kinds({v: k for v, k in known.items()}, assumed=frozenset(assumed))


def _reads(node: gast.AST) -> set[str]:
    return {n.id for n in walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}


def return_kind(fn: gast.FunctionDef, params: dict[str, Kind],
                constants: dict[str, gast.stmt], returns: Returns | None = None) -> Kind:
    """The kind of what ``fn`` returns (its source need not be normalized); ``UNKNOWN`` where
    it rests on a parameter taken for a number by convention only (the caller may pass an
    array: ``twice(x)`` of an array ``x`` is an array)."""
    kinds = infer(fn, params, constants, returns)
    if kinds.assumed:
        return UNKNOWN
    evaluate = _Evaluate(kinds.of_var, _constant_kinds(constants), returns)
    joined = None
    for node in walk(fn):
        if isinstance(node, gast.Return):
            joined = join(joined, evaluate.kind(node.value) if node.value else UNKNOWN)
    return joined or UNKNOWN


LOOP_WRAPPERS = ("builtins.zip", "builtins.enumerate", "builtins.reversed")
CONTAINER_USES = {"builtins.len", "builtins.sum", "builtins.zip", "builtins.enumerate",
                  "builtins.list", "builtins.tuple", "builtins.sorted", "builtins.reversed",
                  "builtins.iter", "builtins.map", "builtins.filter", "builtins.any",
                  "builtins.all", "builtins.set", "builtins.dict", "math.fsum", "math.prod"}


def _by_convention(fn: gast.FunctionDef, params: dict[str, Kind]) -> dict[str, Kind]:
    """Parameters of unknown kind in scalar code: numbers, or lists of numbers."""
    unknown = {p for p, k in params.items() if k == UNKNOWN}
    if not unknown:
        return {}
    containers = set()
    for node in walk(fn):
        if isinstance(node, (gast.Subscript, gast.MatMult, gast.Starred)) or (
                getattr(node, "qualname", None) or "").startswith("numpy"):
            return {}
        if isinstance(node, (gast.For, gast.comprehension)):
            looped = [node.iter]
            if getattr(node.iter, "qualname", None) in LOOP_WRAPPERS:
                looped = node.iter.args
            containers |= {n.id for n in looped if isinstance(n, gast.Name)}
        if isinstance(node, gast.Call):
            if getattr(node, "qualname", None) in CONTAINER_USES or (
                    getattr(node, "qualname", None) in ("builtins.max", "builtins.min")
                    and len(node.args) == 1):
                containers |= {a.id for a in node.args if isinstance(a, gast.Name)}
        if isinstance(node, gast.Attribute) and getattr(node.value, "id", None) in unknown:
            return {}  # a method or an attribute: an object we cannot see into
    return {p: list_of(FLOAT) if p in containers else FLOAT for p in unknown}


def _bindings(fn: gast.FunctionDef):
    """``(name, source)`` for every way a name gets a value; ``source(evaluate)`` is its kind."""
    for node in walk(fn):
        if isinstance(node, gast.Assign):
            for target in node.targets:
                for t, source in _targets(target, lambda e, v=node.value: e.kind(v)):
                    yield t, source, node.value
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            op = gast.BinOp(left=name(node.target.id), op=node.op, right=node.value)
            yield node.target.id, lambda e, v=op: e.kind(v), op
        elif isinstance(node, (gast.For, gast.comprehension)):
            for t, source in _targets(node.target, lambda e, it=node.iter: e.item(it)):
                yield t, source, node.iter
        elif isinstance(node, gast.Expr) and _is_append(node.value):
            owner, item = node.value.func.value.id, node.value.args[0]
            yield owner, lambda e, o=owner, i=item: _appended(e, o, i), node.value


def _appended(evaluate: _Evaluate, owner: str, item: gast.expr) -> Kind:
    """``owner.append(item)``: a list stays a list, of the join of its items' kinds."""
    kind = evaluate.known.get(owner)
    if kind is not None and kind.name == "list":
        return list_of(join(kind.items[0], evaluate.kind(item)))
    return kind if kind is not None else UNKNOWN


def _targets(target: gast.expr, source):
    if isinstance(target, gast.Name):
        yield target.id, source
    elif isinstance(target, (gast.Tuple, gast.List)):
        for position, element in enumerate(target.elts):
            yield from _targets(element, lambda e, p=position: _part(source(e), p))
    # a write into a subscript or attribute binds no name


def _part(kind: Kind, position: int) -> Kind:
    if kind.name == "tuple" and position < len(kind.items):
        return kind.items[position]
    return item_of(kind)


def _is_append(call: gast.expr) -> bool:
    return (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute)
            and call.func.attr == "append" and isinstance(call.func.value, gast.Name)
            and len(call.args) == 1)


def _constant_kinds(constants: dict[str, gast.stmt]) -> dict[str, Kind]:
    """Module-level constants bound to a number: ``SCALE = 2.0`` and ``TWO_PI = 2.0 * math.pi``
    are floats."""
    kinds: dict[str, Kind] = {}
    for constant, stmt in constants.items():  # in the module's order: each may read those above
        value = getattr(stmt, "value", None)
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and value is not None:
            kind = _Evaluate({}, dict(kinds)).kind(value)
            if kind.known:
                kinds[constant] = kind
    return kinds


class _Evaluate:
    """The kind of an expression, from the kinds known of the names it reads."""

    def __init__(self, known: dict[str, Kind | None], constants: dict[str, Kind],
                 returns: Returns | None = None) -> None:
        self.known, self.constants, self.returns = known, constants, returns

    def name(self, node: gast.Name) -> Kind:
        if node.id in self.known:
            return self.known[node.id] or UNKNOWN
        if getattr(node, "qualname", None) in NUMBER_CONSTANTS:
            return FLOAT
        return self.constants.get(node.id, UNKNOWN)

    def kind(self, node: gast.expr) -> Kind:
        if isinstance(node, gast.Constant):
            return _CONSTANTS.get(type(node.value), UNKNOWN)
        if isinstance(node, gast.Name):
            return self.name(node)
        if isinstance(node, gast.Tuple):
            return tuple_of(*(self.kind(e) for e in node.elts))
        if isinstance(node, gast.List):
            joined = None
            for element in node.elts:
                joined = join(joined, self.kind(element))
            return list_of(joined) if joined is not None else list_of(FLOAT)
        if isinstance(node, gast.UnaryOp):
            operand = self.kind(node.operand)
            if isinstance(node.op, gast.Not):
                return BOOL
            return INT if operand.name == "bool" else operand
        if isinstance(node, gast.BinOp):
            return self.binary(node)
        if isinstance(node, gast.Compare):
            kinds = [self.kind(node.left), *(self.kind(c) for c in node.comparators)]
            return BOOL if all(k.is_number for k in kinds) else _broadcast(kinds, BOOL)
        if isinstance(node, gast.IfExp):
            return join(self.kind(node.body), self.kind(node.orelse))
        if isinstance(node, gast.BoolOp):  # a and b: one of them
            joined = None
            for value in node.values:
                joined = join(joined, self.kind(value))
            return joined
        if isinstance(node, gast.Subscript):
            return self.subscript(node)
        if isinstance(node, (gast.Call, gast.Attribute)):
            return self.call(node)
        return UNKNOWN

    def binary(self, node: gast.BinOp) -> Kind:
        left, right = self.kind(node.left), self.kind(node.right)
        if isinstance(node.op, gast.MatMult):
            return _matmul(left, right)
        if left.is_number and right.is_number:
            if isinstance(node.op, (gast.Div, gast.Pow)) or FLOAT in (left, right):
                return FLOAT
            return INT
        if isinstance(node.op, gast.Add) and left.name == right.name == "list":
            return join(left, right)
        if isinstance(node.op, gast.Add) and left.name == right.name == "tuple":
            return tuple_of(*left.items, *right.items)
        if isinstance(node.op, gast.Mult) and {left.name, right.name} <= {"list", "int"} \
                and "list" in (left.name, right.name):
            return left if left.name == "list" else right
        return _broadcast([left, right], FLOAT)

    def subscript(self, node: gast.Subscript) -> Kind:
        owner = self.kind(node.value)
        index = node.slice
        if owner.name == "tuple" and isinstance(index, gast.Constant) \
                and type(index.value) is int \
                and -len(owner.items) <= index.value < len(owner.items):
            return owner.items[index.value]
        if isinstance(index, gast.Slice):
            return owner if owner.name in ("list", "ndarray") else UNKNOWN
        if owner.name in ("list", "tuple"):
            return item_of(owner) if self.kind(index).name in ("int", "bool") else UNKNOWN
        if owner.name == "ndarray" and owner.ndim is not None:
            parts = index.elts if isinstance(index, gast.Tuple) else [index]
            if all(self.kind(p).name == "int" for p in parts) and len(parts) <= owner.ndim:
                left = owner.ndim - len(parts)
                return FLOAT if left == 0 else array(left)
            if all(isinstance(p, gast.Slice) or self.kind(p).name == "int" for p in parts):
                left = owner.ndim - sum(not isinstance(p, gast.Slice) for p in parts)
                return FLOAT if left == 0 else array(left)
            return _new_axes(owner.ndim, parts, self)
        if owner.name == "ndarray" and self.kind(index).is_array:  # a mask or int array
            return array(None)
        return UNKNOWN

    def item(self, iterable: gast.expr) -> Kind:
        """The kind of each item a ``for`` loop over ``iterable`` takes."""
        qualname = getattr(iterable, "qualname", None)
        if qualname == "builtins.range":
            return INT
        if qualname == "builtins.zip":
            return tuple_of(*(self.item(a) for a in iterable.args))
        if qualname == "builtins.enumerate" and iterable.args:
            return tuple_of(INT, self.item(iterable.args[0]))
        if qualname == "builtins.reversed" and iterable.args:
            return self.item(iterable.args[0])
        return item_of(self.kind(iterable))

    def call(self, node: gast.expr) -> Kind:
        qualname = primitive(node) or ""
        if getattr(node, "constant", None) in NUMBER_CONSTANTS:  # np.pi, math.e
            return FLOAT
        args = [self.kind(a) for a in _arguments(node)]
        if qualname.startswith("math."):
            if qualname in MATH_INTS:
                return INT
            return BOOL if qualname in MATH_BOOLS else FLOAT
        if qualname in ("builtins.len", "builtins.int", "builtins.round") and len(args) == 1:
            return INT
        if qualname in ("builtins.float", "builtins.round"):
            return FLOAT
        if qualname in ("builtins.bool", "builtins.isinstance"):
            return BOOL
        if qualname in NUMBER_BUILTINS:
            if qualname == "builtins.abs" and len(args) == 1:  # the size of a number: one
                return args[0] if args[0].is_number else _broadcast(args, FLOAT)
            if len(args) == 1 and not _keywords(node):  # max(values)
                return item_of(args[0]) if args[0].name in ("list", "tuple") else UNKNOWN
            return _numbers(args)
        if qualname in ("builtins.sum", "math.fsum") and len(args) == 1:
            item = item_of(args[0])
            return item if item.is_number else UNKNOWN
        if qualname in ("builtins.list", "builtins.sorted") and len(args) == 1:
            return list_of(self.item(_arguments(node)[0]))
        if qualname.startswith(("numpy.", "scipy.special.")) or qualname == "numpy":
            return kind_of_numpy_call(qualname, node, args, self)
        if qualname and self.returns is not None and isinstance(node, gast.Call) \
                and not node.keywords and not qualname.startswith(("builtins.", "operator.")):
            return self.returns(qualname, args)  # a user function's result, from its source
        return UNKNOWN


def _new_axes(ndim: int, parts: list[gast.expr], evaluate: _Evaluate) -> Kind:
    """``x[:, None]``, ``x[..., 0]``: each ``None`` adds an axis, each int removes one, ``...``
    stands for the axes no other part names (the result is an array, 0-d at least)."""
    constants = [p.value if isinstance(p, gast.Constant) else 0 for p in parts]
    ints = sum(not isinstance(p, gast.Slice) and c is not None and c is not Ellipsis
               for p, c in zip(parts, constants))
    if constants.count(Ellipsis) > 1 or not all(
            isinstance(p, gast.Slice) or c is None or c is Ellipsis
            or evaluate.kind(p).name == "int" for p, c in zip(parts, constants)):
        return UNKNOWN
    named = sum(isinstance(p, gast.Slice) for p in parts) + ints
    if named > ndim:
        return UNKNOWN
    return array(ndim - ints + constants.count(None))


def _arguments(node: gast.expr) -> list[gast.expr]:
    if isinstance(node, gast.Call):
        receiver = [node.func.value] if getattr(node, "receiver", False) else []
        return receiver + list(node.args)
    if isinstance(node, gast.Attribute):
        return [node.value]
    return []


def _keywords(node: gast.expr) -> list:
    return getattr(node, "keywords", [])


def _numbers(kinds: list[Kind]) -> Kind:
    if kinds and all(k.is_number for k in kinds):
        joined = None
        for k in kinds:
            joined = join(joined, k)
        return joined
    return UNKNOWN


def _broadcast(kinds: list[Kind], number: Kind) -> Kind:
    """The kind of an elementwise operation: a number of numbers, an array if any is one."""
    if all(k.is_number for k in kinds):
        return number
    if all(k.is_number or k.is_array for k in kinds):
        ndims = [k.ndim for k in kinds if k.is_array]
        return array(None if None in ndims else max(ndims))
    return UNKNOWN


def _matmul(a: Kind, b: Kind) -> Kind:
    if not (a.is_array and b.is_array) or a.ndim is None or b.ndim is None:
        return array(None) if a.is_array or b.is_array else UNKNOWN
    ndim = max(a.ndim, b.ndim, 2) - (a.ndim == 1) - (b.ndim == 1)
    return FLOAT if ndim == 0 else array(ndim)


def _annotation(param: gast.Name) -> str:
    return ast.unparse(gast.gast_to_ast(param.annotation))


_CONSTANTS = {bool: BOOL, int: INT, float: FLOAT}
