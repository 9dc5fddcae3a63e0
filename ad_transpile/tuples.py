"""Tuples pass: a tuple variable becomes one variable per component (scalar replacement of
aggregates), so that its derivative is one per component too and no tuple adjoint is needed::

    def f(a, b):                         def f(a, b):
        t = (a, b * 2.0)                     t_0, t_1 = a, b * 2.0
        x, y = t                  ->         x, y = t_0, t_1
        for v in t:                          v = t_0
            x = x + v                        x = x + v
        return t[-1] * x + len(t)            v = t_1
                                             x = x + v
                                             return t_1 * x + 2

A whole tuple is rebuilt only where one is needed (``np.array(t)``, ``return t``); a loop over
a tuple is unrolled; a user function's tuple result is unpacked where it is called.
"""

from __future__ import annotations

import copy

import gast

from ad_transpile import errors
from ad_transpile.names import Namer
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import make_constant, name
from ad_transpile.trees import walk
from ad_transpile.tuple_calls import called_name, split_call
from ad_transpile.tuple_loops import Unrolling
from ad_transpile.tuple_shapes import Shape, TupleShapes, fixed_components

REDUCED = {"builtins.sum": gast.Add, "math.fsum": gast.Add, "builtins.max": "max",
           "builtins.min": "min"}
HOISTING_STOPS = (gast.Lambda, gast.IfExp, gast.BoolOp, gast.ListComp, gast.GeneratorExp,
                  gast.SetComp, gast.DictComp)


def split_tuples(parsed: ParsedFunction, fn: gast.FunctionDef, namer: Namer) -> gast.FunctionDef:
    """``fn`` with every tuple variable replaced by its components."""
    shapes = TupleShapes(parsed, fn)
    fn.body = _Splitter(parsed, shapes, namer, fixed_components(fn, shapes)).block(fn.body)
    return fn


def with_tuples_split(parsed: ParsedFunction) -> gast.FunctionDef:
    """A copy of ``parsed``'s function with its tuples split, to ask what it computes
    (indexing a tuple is no NumPy code); the function itself where splitting is refused (the
    refusal comes later, in its turn)."""
    taken = set(parsed.local) | set(parsed.functions) | set(parsed.imports)
    try:
        return split_tuples(parsed, copy.deepcopy(parsed.tree), Namer(taken))
    except errors.TranspileError:
        return parsed.tree


class _Splitter(Unrolling):
    def __init__(self, parsed: ParsedFunction, shapes: TupleShapes, namer: Namer,
                 fixed: dict[str, object]) -> None:
        self.parsed, self.shapes, self.namer, self.fixed = parsed, shapes, namer, fixed
        self.components: dict[str, object] = {}  # variable -> nested tuple of component names
        self.before: list[gast.stmt] | None = None  # where a call's tuple result is unpacked

    def error(self, node, construct: str, why: str) -> errors.TranspileError:
        return self.parsed.error(errors.Unsupported, node, construct=construct, why=why)

    def names_of(self, var: str) -> object:
        """``t`` of shape ``((None, None), None)`` -> ``(('t_0_0', 't_0_1'), 't_1')``; a
        component fixed for good is the value itself (``t = (a, 1.0)`` -> ``(a, 1.0)``)."""
        if var not in self.components:
            def build(base: str, shape: Shape, fixed):
                if shape is None:
                    return fixed if fixed is not None else self.namer.numbered(base)
                fixed = fixed or (None,) * len(shape)
                return tuple(build(f"{base}_{i}", s, f)
                             for i, (s, f) in enumerate(zip(shape, fixed)))
            self.components[var] = build(var, self.shapes.of[var], self.fixed.get(var))
        return self.components[var]

    def leaves_of(self, var: str) -> list:
        """The component variables of ``var`` (names), and its fixed values (expressions)."""
        return _leaves(self.names_of(var))

    # statements

    def block(self, statements: list[gast.stmt]) -> list[gast.stmt]:
        out: list[gast.stmt] = []
        for stmt in statements:
            self.before = out
            out += self.statement(stmt)
        return out

    def statement(self, stmt: gast.stmt) -> list[gast.stmt]:
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1:
            return self.assign(stmt.targets[0], stmt.value, stmt)
        if isinstance(stmt, gast.AnnAssign) and stmt.value is not None:
            return self.assign(stmt.target, stmt.value, stmt)
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name) \
                and stmt.target.id in self.shapes.of:
            raise self.error(stmt, f"'{stmt.target.id} += ...' on a tuple",
                             "it changes the tuple's length; build the new tuple by name")
        if isinstance(stmt, gast.For) and self.shapes.items(stmt.iter) is not None:
            return self.unrolled(stmt)
        if isinstance(stmt, gast.For) and self.indexes_tuples(stmt):
            return self.unrolled_range(stmt)
        if isinstance(stmt, (gast.For, gast.If)):
            field = "iter" if isinstance(stmt, gast.For) else "test"
            setattr(stmt, field, self.expr(getattr(stmt, field)))
            stmt.body, stmt.orelse = self.block(stmt.body), self.block(stmt.orelse)
            return [stmt]
        if isinstance(stmt, gast.While):
            outer, self.before = self.before, None  # the test runs again on every turn
            stmt.test = self.expr(stmt.test)
            self.before = outer
            stmt.body = self.block(stmt.body)
            return [stmt]
        for field in ("value", "test", "msg"):
            if getattr(stmt, field, None) is not None and isinstance(stmt, (
                    gast.Return, gast.Expr, gast.Assert, gast.AugAssign)):
                setattr(stmt, field, self.expr(getattr(stmt, field)))
        return [stmt]

    def assign(self, target: gast.expr, value: gast.expr, stmt: gast.stmt) -> list[gast.stmt]:
        shape = self.shapes.shape(value)
        if shape is None and isinstance(target, (gast.Tuple, gast.List)) and isinstance(
                value, gast.Name) and value.id in self.shapes.params:
            raise self.error(stmt, f"unpacking the argument '{value.id}'", "its length is not "
                             "known from the source; pass its components as arguments of their "
                             "own")
        if shape is None or isinstance(target, (gast.Subscript, gast.Attribute)):
            stmt.value = self.expr(value)
            return [stmt]
        targets = self.flat_targets(target, shape)
        if isinstance(value, gast.Call) and self.is_flat(shape):  # t = helper(a)
            values: gast.expr = self.call(value)
        else:
            values = gast.Tuple(elts=self.flat_values(value, shape), ctx=gast.Load())
        if isinstance(values, gast.Tuple):  # a fixed component is never stored
            kept = [(t, v) for t, v in zip(targets, values.elts) if isinstance(t, str)]
            targets, values.elts = [t for t, _ in kept], [v for _, v in kept]
        if not targets:
            return []
        unpack = gast.Tuple(elts=[name(t, store=True) for t in targets], ctx=gast.Store())
        if len(targets) == 1 and isinstance(values, gast.Tuple):
            unpack, values = unpack.elts[0], values.elts[0]
        return [gast.copy_location(gast.Assign(targets=[unpack], value=values,
                                               type_comment=None), stmt)]

    def flat_targets(self, target: gast.expr, shape: Shape) -> list[str]:
        """The component names ``target`` stores, in order, for a value of ``shape``."""
        if isinstance(target, gast.Starred):
            target = target.value
        if isinstance(target, gast.Name):
            return [target.id] if shape is None else self.leaves_of(target.id)
        if isinstance(target, (gast.Tuple, gast.List)):
            parts = self.shapes.split(target, shape)
            return [n for t, s in zip(target.elts, parts) for n in self.flat_targets(t, s)]
        raise self.error(target, "unpacking a tuple into this target",
                         "unpack a tuple into plain names")

    # expressions

    def parts(self, expr: gast.expr, shape: tuple) -> list[gast.expr]:
        """The components of a tuple-valued ``expr``, rewritten (a nested one as a tuple)."""
        if isinstance(expr, gast.Name):
            return [_rebuilt(c) for c in self.names_of(expr.id)]
        if isinstance(expr, gast.Call):
            return [name(n) for n in self.unpacked(expr, shape)]
        if isinstance(expr, gast.BinOp):
            return (self.parts(expr.left, self.shapes.shape(expr.left))
                    + self.parts(expr.right, self.shapes.shape(expr.right)))
        if isinstance(expr, gast.IfExp) and self.is_flat(shape):  # one choice per component
            outer, self.before = self.before, None
            test = self.expr(expr.test)
            chosen = zip(self.parts(expr.body, shape), self.parts(expr.orelse, shape))
            self.before = outer
            return [gast.IfExp(test=copy.deepcopy(test), body=b, orelse=o) for b, o in chosen]
        if not isinstance(expr, (gast.Tuple, gast.Subscript)):
            raise self.error(expr, "a tuple made this way", "not supported yet")
        return self.expr(expr).elts

    def flat_values(self, expr: gast.expr, shape: tuple) -> list[gast.expr]:
        return [leaf for part, s in zip(self.parts(expr, shape), shape)
                for leaf in _flattened(part, s)]

    def unpacked(self, call: gast.Call, shape: tuple) -> list[str]:
        """``pair(a)`` used as a tuple: ``pair_0, pair_1 = pair(a)`` first, its names after."""
        if not self.is_flat(shape):
            raise self.error(call, "a function returning nested tuples",
                             "return a flat tuple of values")
        if self.before is None:
            raise self.error(call, f"a tuple returned by '{called_name(call)}' here",
                             "assign it to names first (p, q = helper(...))")
        parts = [self.namer.numbered(f"{called_name(call)}_{i}") for i in range(len(shape))]
        unpack = gast.Tuple(elts=[name(p, True) for p in parts], ctx=gast.Store())
        self.before.append(gast.copy_location(gast.Assign(
            targets=[unpack], value=self.call(call), type_comment=None), call))
        return parts

    def expr(self, expr: gast.expr) -> gast.expr:
        """``expr`` with tuple variables read by component."""
        if self.over_tuple(expr, filtered=True):
            if expr.generators[0].ifs:
                raise self.error(expr, "a filtered comprehension over a tuple",
                                 "the tuple's loop is unrolled: write it as a loop with an 'if'")
            if isinstance(expr, gast.ListComp):  # [v * v for v in t] -> [t_0 * t_0, ...]
                items = self.comprehension_items(expr)
                return self.expr(gast.copy_location(gast.List(elts=items.elts,
                                                              ctx=gast.Load()), expr))
        if isinstance(expr, HOISTING_STOPS):  # only parts of it run: call nothing before it
            outer, self.before = self.before, None
            result = self.fields(expr)
            self.before = outer
            return result
        if isinstance(expr, gast.Subscript) and self.shapes.shape(expr.value) is not None:
            whole = self.parts(expr.value, self.shapes.shape(expr.value))
            expr.slice = self.expr(expr.slice)  # t[len(t) - 1] reads t[3 - 1]
            if isinstance(expr.slice, gast.Slice):
                picked = whole[self.shapes.constant_slice(expr.slice)]
                return gast.copy_location(gast.Tuple(elts=picked, ctx=gast.Load()), expr)
            return whole[self.shapes.position(expr, len(whole))]
        if isinstance(expr, gast.Call):
            qualname = getattr(expr, "qualname", None)
            arg = expr.args[0] if len(expr.args) == 1 and not expr.keywords else None
            if qualname in REDUCED and self.over_tuple(arg):  # sum(v * v for v in t)
                arg = expr.args[0] = self.comprehension_items(arg)
            inner = self.shapes.shape(arg) if arg is not None else None
            if inner is not None and qualname == "builtins.len":
                return gast.copy_location(make_constant(len(inner)), expr)
            if inner is not None and qualname in REDUCED:
                return gast.copy_location(self.reduce(expr, REDUCED[qualname], inner), expr)
        shape = self.shapes.shape(expr)
        if isinstance(expr, gast.Call) and shape is None:
            return self.call(expr)
        if shape is None or isinstance(expr, gast.Tuple):
            return self.fields(expr)
        return gast.copy_location(gast.Tuple(elts=self.parts(expr, shape), ctx=gast.Load()),
                                  expr)

    def call(self, call: gast.Call) -> gast.Call:
        """A call with its arguments rewritten; a user function given a tuple is called as
        its twin that takes the components."""
        call = self.fields(call)
        qualname = getattr(call, "qualname", None)
        call.args = [a for arg in call.args for a in (  # f(*t) -> f(t_0, t_1)
            arg.value.elts if isinstance(arg, gast.Starred) and isinstance(arg.value, gast.Tuple)
            else [arg])]
        passed = [a for a in [*call.args, *[k.value for k in call.keywords]]
                  if isinstance(a, gast.Tuple) and _reads_values(a)]
        if passed and self.shapes.user(qualname):  # step(s, dt) -> step_split(s_0, s_1, dt)
            module, _, callee = qualname.rpartition(".")
            return split_call(self.parsed, call, callee if module == self.parsed.module_name
                              else None)
        return call

    def fields(self, node: gast.AST) -> gast.AST:
        """``node`` with each child expression rewritten."""
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.expr):
                setattr(node, field, self.expr(value))
            elif isinstance(value, list):
                setattr(node, field, [self.expr(v) if isinstance(v, gast.expr) else
                                      self.fields(v) if isinstance(v, gast.AST) else v
                                      for v in value])
            elif isinstance(value, gast.AST) and not isinstance(value, gast.expr_context):
                setattr(node, field, self.fields(value))
        if isinstance(node, gast.Tuple):  # (*t, c) -> (t_0, t_1, c)
            elts = []
            for e in node.elts:
                inner = isinstance(e, gast.Starred) and isinstance(e.value, gast.Tuple)
                elts += e.value.elts if inner else [e]
            node.elts = elts
        return node

    @staticmethod
    def is_flat(shape: tuple) -> bool:
        return all(s is None for s in shape)


def _leaves(names) -> list:
    if not isinstance(names, tuple):
        return [names]
    return [n for c in names for n in _leaves(c)]


def _rebuilt(names) -> gast.expr:
    if isinstance(names, str):
        return name(names)
    if isinstance(names, tuple):
        return gast.Tuple(elts=[_rebuilt(c) for c in names], ctx=gast.Load())
    return copy.deepcopy(names)


def _flattened(expr: gast.expr, shape: Shape) -> list[gast.expr]:
    """The leaves of a rewritten component: itself, or a nested tuple's leaves in order."""
    if shape is None:
        return [expr]
    return [leaf for e, s in zip(expr.elts, shape) for leaf in _flattened(e, s)]


def _reads_values(expr: gast.expr) -> bool:
    return any(isinstance(n, (gast.Name, gast.Call)) for n in walk(expr))
