"""Forward pass: carry a tangent ``d_v`` beside every active ``v`` (forward-mode differentiation).

Each active assignment is followed by its tangent, the sum over active arguments of the partial
derivative times the argument's tangent; branches and loops keep their shape::

    y = math.sin(x)          ->     y = math.sin(x)
                                    d_y = math.cos(x) * d_x

The tangents of ``wrt`` are either parameters (a Jacobian-vector product) or seeded with 1.0.
"""

from __future__ import annotations

import copy
from typing import Callable

import gast

from ad_transpile.analyze import Activity, is_list_call, is_unbroadcast, scalars, uses_arrays
from ad_transpile.calls import Calls, assigned_names
from ad_transpile.chain import partial_terms, structural_rule, structural_tangents, times
from ad_transpile.names import Namer
from ad_transpile.normalize import scatter_parts
from ad_transpile.primitives import (
    GETITEM,
    assign,
    make_constant,
    name,
    positional_signature,
    primitive,
)
from ad_transpile.registry import Registry
from ad_transpile.shapes import Shapes, shapes


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
) -> gast.FunctionDef:
    """The tangent function of ``fn``: returns the tangent of the result (and the result)."""
    tangents = [namer.derivative(w) for w in wrt]
    seeds = [gast.copy_location(assign(t, make_constant(1.0)), fn) for t in tangents]
    params = [p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    # a parameter that becomes active only by assignment starts with no tangent
    zeros = [assign(namer.derivative(p), make_constant(0.0)) for p in params
             if p in activity.active and p not in wrt]
    # a directional derivative is one number; a gradient asked for as a tuple is a tuple
    sweep = _TangentSweep(activity, registry, spell, namer, returns_value, several and seeded)
    sweep.calls = calls
    sweep.scattered = {parts[0] for parts in map(scatter_parts, gast.walk(fn)) if parts}
    if uses_arrays(fn):
        sweep.shapes, sweep.numbers = shapes(fn, registry), scalars(fn)
    if seeded and uses_arrays(fn):  # a seed of 1.0 is the derivative for a number only
        seeds = [refuse_array(w, spell) for w in wrt] + seeds
    body = (seeds if seeded else []) + zeros + sweep.block(fn.body)
    args = fn.args if seeded else positional_signature(fn, tangents)
    return gast.FunctionDef(
        name=fn.name, args=args, body=body, decorator_list=[], returns=None,
        type_comment=None, type_params=[], lineno=fn.lineno, col_offset=fn.col_offset,
    )


class _TangentSweep:
    calls: Calls | None = None
    shapes: Shapes | None = None  # in NumPy code
    numbers: set[str] = set()

    def __init__(self, activity, registry, spell, namer, returns_value, several) -> None:
        self.activity, self.registry, self.spell = activity, registry, spell
        self.namer, self.returns_value, self.several = namer, returns_value, several

    def block(self, statements: list[gast.stmt]) -> list[gast.stmt]:
        out: list[gast.stmt] = []
        for stmt in statements:
            out += self.statement(stmt)
        return out

    def statement(self, stmt: gast.stmt) -> list[gast.stmt]:
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
                return self.calls.forward(stmt, site, self.activity, self.namer)
            return [stmt, *self.tangent(stmt)]
        if isinstance(stmt, gast.Return):
            return [self.return_(stmt)]
        if isinstance(stmt, gast.If):
            stmt.body, stmt.orelse = self.block(stmt.body), self.block(stmt.orelse)
        elif isinstance(stmt, (gast.For, gast.While)):
            stmt.body = self.block(stmt.body)
            if isinstance(stmt, gast.For):  # the items carry no derivative
                zeros = [assign(self.namer.derivative(n.id), make_constant(0.0))
                         for n in gast.walk(stmt.target)
                         if isinstance(n, gast.Name) and n.id in self.activity.active]
                stmt.body = zeros + stmt.body
        return [stmt]

    def tangent(self, stmt: gast.Assign) -> list[gast.stmt]:
        target = stmt.targets[0].id
        if target not in self.activity.active:
            return []
        if is_unbroadcast(stmt.value):  # linear: the tangent is summed the same way
            value, like = stmt.value.args
            tangent = make_constant(0.0)
            if self.activity.is_active(value):
                tangent = gast.Call(func=copy.deepcopy(stmt.value.func), keywords=[],
                                    args=[name(self.namer.derivative(value.id)),
                                          copy.deepcopy(like)])
            return [gast.copy_location(assign(self.namer.derivative(target), tangent), stmt)]
        rule = structural_rule(stmt.value, self.registry)
        if primitive(stmt.value) == GETITEM:  # the tangent of x[i] is d_x[i]
            products = [gast.Subscript(value=self.tangent_of(stmt.value.value),
                                       slice=copy.deepcopy(stmt.value.slice), ctx=gast.Load())]
        elif rule is not None:
            products = structural_tangents(stmt, rule, self.activity, self.spell,
                                           self.namer.derivative)
        else:
            terms = partial_terms(stmt, self.activity, self.registry, self.spell)
            products = [times(p, self.namer.derivative(arg)) for arg, p in terms]
            if products and not self.whole(target, terms):
                products = [gast.Call(func=name("_broadcast_like"), keywords=[],
                                      args=[_sum(products), name(target)])]
        tangent = _sum(products) if products else make_constant(0.0)
        if not products and target in self.scattered:  # an array added into in place
            tangent = gast.Call(func=self.spell("numpy.zeros_like"), args=[name(target)],
                                keywords=[])
        return [gast.copy_location(assign(self.namer.derivative(target), tangent), stmt)]

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
        tangent = copy.deepcopy(stmt)
        for node in gast.walk(tangent):
            if isinstance(node, gast.Name) and node.id in (owner, value.id):
                node.id = self.namer.derivative(node.id)
        return [tangent]

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

    def return_(self, stmt: gast.Return) -> gast.Return:
        value = stmt.value
        if isinstance(value, gast.Tuple):
            tangent: gast.expr = gast.Tuple(elts=[self.tangent_of(v) for v in value.elts],
                                            ctx=gast.Load())
        else:
            tangent = self.tangent_of(value)
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


def _sum(terms: list[gast.expr]) -> gast.expr:
    total = terms[0]
    for term in terms[1:]:
        total = gast.BinOp(left=total, op=gast.Add(), right=term)
    return total
