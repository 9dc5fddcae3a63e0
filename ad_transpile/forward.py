"""Forward pass: carry a tangent ``d_v`` beside every active ``v`` (forward-mode differentiation).

Each active assignment is followed by its tangent, the sum over active arguments of the partial
derivative times the argument's tangent; branches and loops keep their shape::

    y = math.sin(x)          ->     y = math.sin(x)
                                    d_y = math.cos(x) * d_x

The tangents of ``wrt`` are either parameters (a Jacobian-vector product) or seeded with 1.0.

Batched tangents carry a last axis of ``k`` directions (``d_x.shape == (*x.shape, k)``), so that
one sweep gives a whole gradient: an array partial gets that axis, structural operations use
their ``@batched_tangents`` rule, and an operation without one is refused with
``NoBatchedTangent`` (the caller then takes one direction at a time)::

    y = np.sin(x)            ->     y = np.sin(x)
                                    d_y = np.expand_dims(np.cos(x), -1) * d_x
"""

from __future__ import annotations

import copy
from typing import Callable

import gast

from ad_transpile import errors
from ad_transpile.analyze import (
    Activity,
    is_list_call,
    is_number,
    is_unbroadcast,
)
from ad_transpile.batched_forms import (
    broadcast_like,
    full_tangent,
    specialized,
    with_directions,
    zero_tangent,
)
from ad_transpile.calls import Calls, assigned_names
from ad_transpile.chain import (
    arguments,
    partial_terms,
    structural_rule,
    structural_tangents,
    times,
)
from ad_transpile.list_rules import zeros_of
from ad_transpile.list_tangents import ListTangents
from ad_transpile.names import Namer
from ad_transpile.normalize import scatter_parts
from ad_transpile.primitives import (
    GETITEM,
    assign,
    constant_value,
    is_constant,
    make_constant,
    name,
    positional_signature,
    primitive,
)
from ad_transpile.registry import Registry
from ad_transpile.shapes import Shapes, shapes
from ad_transpile.trees import walk
from ad_transpile.writes import is_write


def forward(
    fn: gast.FunctionDef,
    wrt: list[str],
    activity: Activity,
    registry: Registry,
    spell: Callable[[str], gast.expr],
    namer: Namer,
    *,
    seeded: bool,
    returns_value: bool,
    several: bool = False,
    calls: Calls | None = None,
    batched: bool = False,
    where: Callable[..., errors.TranspileError] | None = None,
) -> gast.FunctionDef:
    """The tangent function of ``fn``: returns the tangent of the result (and the result).

    ``batched`` tangents have a last axis of directions (``seeded`` must then be false);
    ``where(error_class, node, **fields)`` makes a located error for an operation without a
    batched rule.
    """
    tangents = [namer.derivative(w) for w in wrt]
    seeds = [gast.copy_location(assign(t, make_constant(1.0)), fn) for t in tangents]
    params = [p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    # a parameter that becomes active only by assignment starts with no tangent
    # a directional derivative is one number; a gradient asked for as a tuple is a tuple
    sweep = _TangentSweep(activity, registry, spell, namer, returns_value, several and seeded)
    sweep.calls = calls
    sweep.lists = ListTangents(sweep, fn)
    sweep.scattered = {parts[0] for parts in map(scatter_parts, walk(fn)) if parts}
    sweep.written = {s.targets[0].value.id for s in walk(fn) if is_write(s)
                     and not sweep.lists.handles(s)}  # arrays written into
    arrays = activity.arrays
    if arrays:
        sweep.numbers = activity.kinds.numbers
        sweep.shapes = shapes(fn, registry, sweep.numbers)
    if batched:
        sweep.batch(fn, wrt, where)
        sweep.directions = tangents[0]
        sweep.full |= sweep.written  # each value of theirs gets a whole tangent of its own
        sweep.full |= _copies_of(fn, sweep.full)
    zeros = [assign(namer.derivative(p), sweep.zero(p)) for p in params
             if p in activity.active and p not in wrt]
    if seeded and (arrays or set(wrt) & sweep.lists.statements.names):
        # a seed of 1.0 is the derivative for a number only
        seeds = [refuse_array(w, spell) for w in wrt] + seeds
    body = (seeds if seeded else []) + zeros + sweep.block(fn.body)
    args = fn.args if seeded else positional_signature(fn, tangents)
    return gast.FunctionDef(
        name=fn.name, args=args, body=body, decorator_list=[], returns=None,
        type_comment=None, type_params=[], lineno=fn.lineno, col_offset=fn.col_offset,
    )


class _TangentSweep:
    calls: Calls | None = None
    batched = False
    shapes: Shapes | None = None  # in NumPy code
    numbers: set[str] = set()

    def __init__(self, activity, registry, spell, namer, returns_value, several) -> None:
        self.activity, self.registry, self.spell = activity, registry, spell
        self.namer, self.returns_value, self.several = namer, returns_value, several

    def batch(self, fn: gast.FunctionDef, wrt: list[str], where) -> None:
        """Carry batched tangents: ``full`` holds the names whose tangent surely has the shape
        of the value (plus the directions); broadcasting may leave another one smaller."""
        self.batched, self.where = True, where
        counts: dict[str, int] = {}
        for node in walk(fn):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                counts[node.id] = counts.get(node.id, 0) + 1
        self.once = {n for n, count in counts.items() if count == 1}  # assigned in one place
        self.full = set(wrt) - set(counts)
        self.counters = {n.target.id for n in walk(fn) if isinstance(n, gast.For)
                         and isinstance(n.target, gast.Name)
                         and primitive(n.iter) == "builtins.range"}
        steps = [s for s in walk(fn) if isinstance(s, gast.Assign)  # i - 1, i + 1
                 and isinstance(s.targets[0], gast.Name) and s.targets[0].id in self.once
                 and isinstance(s.value, gast.BinOp) and isinstance(s.value.op, (gast.Add,
                                                                                 gast.Sub))]
        for stmt in steps:  # in order: a step of a step comes after it
            sides = (stmt.value.left, stmt.value.right)
            if all(getattr(a, "id", None) in self.counters or (
                    isinstance(a, gast.Constant) and type(a.value) is int) for a in sides):
                self.counters.add(stmt.targets[0].id)

    def refuse(self, node: gast.AST, what: str) -> errors.TranspileError:
        return self.where(errors.NoBatchedTangent, node, name=what)

    def batched_tangent(self, value: gast.Name) -> gast.expr:
        """The batched tangent of ``value``, stretched to its shape unless it surely has it."""
        tangent = name(self.namer.derivative(value.id))
        if value.id in self.full:
            return tangent
        return full_tangent(tangent, name(value.id), self.activity.kinds, self.spell)

    def batched_times(self, partial: gast.expr, derivative: str) -> gast.expr:
        """``partial * d_y``, an array partial given the axis of directions."""
        partial = with_directions(partial, self.activity.kinds, self.spell, self.numbers)
        return times(partial, derivative)

    def zero(self, value: str) -> gast.expr:
        """The tangent of ``value`` where it does not depend on ``wrt`` (yet): ``0.0`` for a
        number, else zeros of its shape (and the directions), as an operation other than
        broadcasting (``W @ d_h``, ``d_h[0]``, ``np.sum(d_h, axis=0)``) needs them."""
        if self.batched:
            return zero_tangent(name(value), name(self.directions), self.activity.kinds,
                                self.spell)
        if value in self.lists.statements.names:
            return zeros_of(value)
        if self.shapes is None or value in self.numbers:
            return make_constant(0.0)
        return zero_tangent(name(value), None, self.activity.kinds, self.spell)

    def mark_full(self, target: str, full: bool) -> None:
        if self.batched and full and target in self.once:
            self.full.add(target)

    def block(self, statements: list[gast.stmt]) -> list[gast.stmt]:
        out: list[gast.stmt] = []
        for stmt in statements:
            out += self.statement(stmt)
        return out

    def statement(self, stmt: gast.stmt) -> list[gast.stmt]:
        if self.lists.handles(stmt):
            return [stmt, *self.lists.tangent(stmt)]
        if is_write(stmt):
            return [stmt, *self.write_tangent(stmt)]
        if scatter_parts(stmt) is not None:
            return [stmt, *self.scatter_tangent(stmt)]
        if isinstance(stmt, gast.Expr) and is_list_call(stmt.value, "append"):
            return [stmt, *self.saved_tangent(stmt.value)]
        if isinstance(stmt, gast.Assign) and (
            isinstance(stmt.value, gast.List) or is_list_call(stmt.value, "pop")
        ):
            return [stmt, *self.list_tangent(stmt)]
        if isinstance(stmt, gast.Assign):
            site = self.calls.site(stmt) if self.calls else None
            if site is not None:
                tangent = self.batched_tangent if self.batched else None
                return self.calls.forward(stmt, site, self.activity, self.namer, tangent,
                                          self.zero)
            return [stmt, *self.tangent(stmt)]
        if isinstance(stmt, gast.Return):
            return [self.return_(stmt)]
        if isinstance(stmt, gast.If):
            stmt.body, stmt.orelse = self.block(stmt.body), self.block(stmt.orelse)
        elif isinstance(stmt, (gast.For, gast.While)):
            stmt.body = self.block(stmt.body)
            if isinstance(stmt, gast.For):  # the items carry no derivative
                zeros = [assign(self.namer.derivative(n.id), self.zero(n.id))
                         for n in walk(stmt.target)
                         if isinstance(n, gast.Name) and n.id in self.activity.active]
                stmt.body = zeros + stmt.body
        return [stmt]

    def tangent(self, stmt: gast.Assign) -> list[gast.stmt]:
        target = stmt.targets[0].id
        if target not in self.activity.active:
            return []
        if is_unbroadcast(stmt.value):
            return [gast.copy_location(self.unbroadcast_tangent(stmt.value, target), stmt)]
        products = self.products(stmt, target)
        tangent = _sum(products) if products else self.zero(target)
        if not products and target in self.scattered and self.batched:
            raise self.refuse(stmt, "adding into an array in place")
        if not products and target in self.scattered:  # an array added into in place
            tangent = gast.Call(func=self.spell("numpy.zeros_like"), args=[name(target)],
                                keywords=[])
        copied = stmt.value.func.value if getattr(stmt.value, "receiver", False) else None
        if (products and target in self.written and self.batched and isinstance(copied, gast.Name)
                and primitive(stmt.value) == "numpy.copy" and copied.id in self.full):
            tangent = gast.Call(func=gast.Attribute(value=name(self.namer.derivative(copied.id)),
                                                    attr="copy", ctx=gast.Load()),
                                args=[], keywords=[])  # u_new = u.copy(): d_u_new = d_u.copy()
        elif products and target in self.written:  # an array written into: its own tangent
            batched = [make_constant(True)] if self.batched else []
            tangent = gast.Call(func=self.spell("ad_transpile.runtime._writable"),
                                args=[tangent, name(target), *batched], keywords=[])
        return [gast.copy_location(assign(self.namer.derivative(target), tangent), stmt)]

    def unbroadcast_tangent(self, call: gast.Call, target: str) -> gast.stmt:
        """``_unbroadcast`` is linear: the tangent is summed the same way."""
        if self.batched:
            raise self.refuse(call, "_unbroadcast")
        value, like = call.args
        tangent = make_constant(0.0)
        if self.activity.is_active(value):
            tangent = gast.Call(func=copy.deepcopy(call.func), keywords=[],
                                args=[name(self.namer.derivative(value.id)), copy.deepcopy(like)])
        return assign(self.namer.derivative(target), tangent)

    def products(self, stmt: gast.Assign, target: str) -> list[gast.expr]:
        """The terms of the tangent of ``target = <one operation>``, one per active argument."""
        rule = structural_rule(stmt.value, self.registry)
        if primitive(stmt.value) == GETITEM:  # the tangent of x[i] is d_x[i]
            if not self.activity.is_active(stmt.value.value):  # an item of a constant
                return []
            self.mark_full(target, True)
            return [self.item_tangent(stmt.value)]
        if rule is not None and not self.batched:
            return structural_tangents(stmt, rule, self.activity, self.spell,
                                       self.namer.derivative)
        if rule is not None:
            if not rule.batched:
                raise self.refuse(stmt.value, rule.primitive)
            self.mark_full(target, True)
            terms = structural_tangents(stmt, rule, self.activity, self.spell,
                                        self.namer.derivative, batched=self.batched_tangent)
            return [specialized(t, self.activity.kinds, self.spell) for t in terms]
        # a partial that is zero whatever the values (W - W) would leave 0.0 * d_W, which the
        # simplifier makes 0.0, a number: the tangent is then the zero of the value's shape
        terms = [(arg, p) for arg, p in partial_terms(stmt, self.activity, self.registry,
                                                      self.spell) if not _zero(p)]
        if not self.batched:
            products = [times(p, self.namer.derivative(arg)) for arg, p in terms]
            if products and not self.whole(target, terms):
                products = [broadcast_like(_sum(products), name(target), self.activity.kinds,
                                           self.spell)]
            return products
        # the tangent has the value's shape if every array operand's tangent has, or if one
        # term has it: a whole tangent times a partial, together of the value's shape
        operands = ([stmt.value] if isinstance(stmt.value, gast.Name)
                    else arguments(stmt.value, self.registry))
        self.mark_full(target, bool(terms) and all(
            is_number(a, self.numbers) or (isinstance(a, gast.Name) and a.id in self.full)
            for a in operands) or any(
            arg in self.full and self.whole(target, [(arg, p)]) for arg, p in terms))
        return [self.batched_times(p, self.namer.derivative(arg)) for arg, p in terms]

    def item_tangent(self, item: gast.Subscript) -> gast.expr:
        """``d_x[i]``; for batched tangents ``d_x[..., 1:, :]`` keeps the directions out of an
        index that counts from the end."""
        if not self.batched:
            return gast.Subscript(value=self.tangent_of(item.value),
                                  slice=copy.deepcopy(item.slice), ctx=gast.Load())
        index = copy.deepcopy(item.slice)
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        if any(isinstance(p, gast.Constant) and p.value is Ellipsis for p in parts):
            everything = gast.Slice(lower=None, upper=None, step=None)
            index = gast.Tuple(elts=[*parts, everything], ctx=gast.Load())
        elif isinstance(index, gast.Name) and index.id not in self.numbers | self.counters:
            # a variable may hold a tuple with `...`: the helper keeps the directions last
            index = gast.Call(func=self.spell("ad_transpile.runtime._tangent_index"),
                              args=[index], keywords=[])
        return gast.Subscript(value=self.batched_tangent(item.value), slice=index,
                              ctx=gast.Load())

    def whole(self, target: str, terms: list[tuple[str, gast.expr]]) -> bool:
        """Whether the tangent surely has the shape of ``target``: a tangent of a number added
        to an array (``x + z``) has the number's shape until it is stretched."""
        if self.shapes is None or target in self.numbers:
            return True
        shape = self.shapes.of(target)
        return shape is not None and any(
            self.shapes.of_expr(p) is not None and self.shapes.of(arg) is not None
            and self.shapes.of_expr(p) | self.shapes.of(arg) == shape for arg, p in terms)

    def scatter_tangent(self, stmt: gast.stmt) -> list[gast.stmt]:
        """``x[i] += v`` adds ``d_v`` into ``d_x`` the same way (``np.add.at`` likewise)."""
        owner, _, value = scatter_parts(stmt)
        if owner not in self.activity.active or not self.activity.is_active(value):
            return []
        if self.batched:
            raise self.refuse(stmt, "adding into an array in place")
        tangent = copy.deepcopy(stmt)
        for node in walk(tangent):
            if isinstance(node, gast.Name) and node.id in (owner, value.id):
                node.id = self.namer.derivative(node.id)
        return [tangent]

    def write_tangent(self, stmt: gast.Assign) -> list[gast.stmt]:
        """``y[i] = v`` writes ``d_v`` into ``d_y`` the same way (``0.0`` for a constant ``v``),
        ``d_y`` an array of its own (see ``tangent``)."""
        written = stmt.targets[0]
        owner = written.value.id
        if owner not in self.activity.active:
            return []
        value = stmt.value
        if self.batched:
            part = self.item_tangent(gast.Subscript(value=written.value, slice=written.slice,
                                                    ctx=gast.Load()))
            tangent = (self.batched_tangent(value) if self.activity.is_active(value)
                       else make_constant(0.0))
        else:
            part = gast.Subscript(value=name(self.namer.derivative(owner)),
                                  slice=copy.deepcopy(written.slice), ctx=gast.Load())
            tangent = self.tangent_of(value)
        part.ctx = gast.Store()
        return [gast.copy_location(gast.Assign(targets=[part], value=tangent, type_comment=None),
                                   stmt)]

    def saved_tangent(self, append: gast.Call) -> list[gast.stmt]:
        """``saved.append(v)`` saves ``d_v`` on ``d_saved`` alongside (forward over reverse)."""
        owner = append.func.value.id
        if not self.activity.carries_list(owner):
            return []
        value = append.args[0]
        tangent = (gast.Tuple(elts=[self.tangent_of(v) for v in value.elts], ctx=gast.Load())
                   if isinstance(value, gast.Tuple) else self.tangent_of(value))
        method = gast.Attribute(value=name(self.namer.derivative(owner)), attr="append",
                                ctx=gast.Load())
        return [gast.Expr(value=gast.Call(func=method, args=[tangent], keywords=[]))]

    def list_tangent(self, stmt: gast.Assign) -> list[gast.stmt]:
        """``d_saved = []`` beside ``saved = []``; ``d_v = d_saved.pop()`` beside the pop."""
        value = stmt.value
        if isinstance(value, gast.List):
            owner = stmt.targets[0].id
            if not self.activity.carries_list(owner):
                return []
            return [assign(self.namer.derivative(owner), gast.List(elts=[], ctx=gast.Load()))]
        owner = value.func.value.id
        if not self.activity.carries_list(owner):
            return []
        targets = [name(self.namer.derivative(t), store=True) for t in assigned_names(stmt)]
        target = (targets[0] if isinstance(stmt.targets[0], gast.Name)
                  else gast.Tuple(elts=targets, ctx=gast.Store()))
        method = gast.Attribute(value=name(self.namer.derivative(owner)), attr="pop",
                                ctx=gast.Load())
        pop = gast.Call(func=method, args=[], keywords=[])
        return [gast.Assign(targets=[target], value=pop, type_comment=None)]

    def tangent_of(self, value: gast.expr) -> gast.expr:
        if self.activity.is_active(value):
            return name(self.namer.derivative(value.id))
        return make_constant(0.0)

    def result_tangent(self, value: gast.expr) -> gast.expr:
        """The tangent of a result: zeros of its shape if it does not depend on ``wrt``."""
        if isinstance(value, gast.Name) and not self.activity.is_active(value):
            return self.zero(value.id)
        return self.tangent_of(value)

    def return_(self, stmt: gast.Return) -> gast.Return:
        value = stmt.value
        if isinstance(value, gast.Tuple):
            tangent: gast.expr = gast.Tuple(elts=[self.result_tangent(v) for v in value.elts],
                                            ctx=gast.Load())
        else:
            tangent = self.result_tangent(value)
        if self.several:  # wrt given as a tuple: the derivative is a tuple too
            tangent = gast.Tuple(elts=[tangent], ctx=gast.Load())
        result = tangent
        if self.returns_value:
            result = gast.Tuple(elts=[value, tangent], ctx=gast.Load())
        return gast.copy_location(gast.Return(value=result), stmt)


def refuse_array(param: str, spell: Callable[[str], gast.expr]) -> gast.stmt:
    """``if np.ndim(x) != 0: raise ValueError(...)``: forward mode seeds one number."""
    ndim = gast.Call(func=spell("numpy.ndim"), args=[name(param)], keywords=[])
    test = gast.Compare(left=ndim, ops=[gast.NotEq()], comparators=[make_constant(0)])
    message = gast.Constant(value=f"{param} is an array: use reverse mode or jvp", kind=None)
    error = gast.Call(func=name("ValueError"), args=[message], keywords=[])
    raised = gast.Raise(exc=error, cause=None)
    return gast.If(test=test, body=[raised], orelse=[])


def _copies_of(fn: gast.FunctionDef, full: set[str]) -> set[str]:
    """Names only ever assigned a copy of names in ``full`` (``u = u0.copy()``, ``u = u_new``):
    their tangents have the whole shape too."""
    sources: dict[str, list[str | None]] = {}
    for stmt in walk(fn):
        for node in walk(stmt.target) if isinstance(stmt, gast.For) else []:
            if isinstance(node, gast.Name):
                sources.setdefault(node.id, []).append(None)
        if not (isinstance(stmt, gast.Assign) and not is_write(stmt)):
            continue
        value = stmt.value
        if getattr(value, "qualname", None) == "numpy.copy":
            value = value.func.value if getattr(value, "receiver", False) else value.args[0]
        for target in assigned_names(stmt):
            whole = isinstance(stmt.targets[0], gast.Name) and isinstance(value, gast.Name)
            sources.setdefault(target, []).append(value.id if whole else None)
    copies: set[str] = set()
    changed = True
    while changed:
        changed = False
        for target, names in sources.items():
            if target not in copies and all(n in full | copies for n in names):
                copies.add(target)
                changed = True
    return copies


def _zero(partial: gast.expr) -> bool:
    """Whether ``partial`` is arithmetic on numbers that comes to zero (``1.0 + -1.0``)."""
    return _number(partial) == 0


def _number(expr: gast.expr) -> float | None:
    """The value of a sum, difference or product of numbers; None for anything else."""
    if is_constant(expr):
        return constant_value(expr)
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        value = _number(expr.operand)
        return None if value is None else -value
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Add, gast.Sub, gast.Mult)):
        left, right = _number(expr.left), _number(expr.right)
        if left is None or right is None:
            return None
        return {gast.Add: left + right, gast.Sub: left - right,
                gast.Mult: left * right}[type(expr.op)]
    return None


def _sum(terms: list[gast.expr]) -> gast.expr:
    total = terms[0]
    for term in terms[1:]:
        total = gast.BinOp(left=total, op=gast.Add(), right=term)
    return total
