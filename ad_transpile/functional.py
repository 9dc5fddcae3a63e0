"""``map``, ``filter`` and ``functools.partial`` written as what they stand for::

    map(f, xs)                        ->  (f(v) for v in xs)
    map(f, xs, ys)                    ->  (f(v, w) for v, w in zip(xs, ys))
    map(lambda s: s * a, xs)          ->  (v * a for v in xs)
    filter(p, xs)                     ->  (v for v in xs if p(v))
    g = functools.partial(h, a, k=b)
    g(x)                              ->  h(a, x, k=b)

A generator expression is as lazy as ``map`` and ``filter``, so the values are read when they
were; the local functions, comprehensions and calls they become are then differentiated as
written out. A partial's arguments are taken when it is made: it is written out only where
they are constants, or names bound once, outside loops and branches, before it.
"""

from __future__ import annotations

import copy
from typing import Callable

import gast

from ad_transpile import errors
from ad_transpile.lambdas import Substitute, plain_parameters
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import name
from ad_transpile.trees import walk

PARTIALS = ("functools.partial",)


def write_out_functional(fn: gast.FunctionDef, parsed: ParsedFunction) -> gast.FunctionDef:
    """``fn`` with each ``map`` and ``filter`` a generator expression and each partial that is
    only called written as calls of its function (any other partial is refused)."""
    qualify = parsed.qualify

    def refuse(node: gast.AST, construct: str, why: str) -> Exception:
        return parsed.error(errors.Unsupported, node, construct=construct, why=why)

    taken = {n.id for n in walk(fn) if isinstance(n, gast.Name)}

    def fresh() -> str:
        index = len(taken)
        while f"item{index}" in taken:
            index += 1
        taken.add(f"item{index}")
        return f"item{index}"

    class WriteOut(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            called = qualify(node.func)
            if node.keywords or len(node.args) < 2:
                return node
            if called == "builtins.map":
                return gast.copy_location(_mapped(node, fresh, qualify), node)
            if called == "builtins.filter" and len(node.args) == 2:
                return gast.copy_location(_filtered(node, fresh(), qualify), node)
            return node

    fn = WriteOut().visit(fn)
    _write_out_partials(fn, qualify, refuse)
    return fn


def _applied(function: gast.expr, args: list[gast.expr],
             qualify: Callable[[gast.expr], str | None]) -> gast.expr:
    """``function(*args)``, a lambda's body with its parameters replaced by ``args``."""
    if isinstance(function, gast.Lambda):
        params = plain_parameters(function.args)
        if params is not None and len(params) == len(args):
            return Substitute(dict(zip(params, args))).visit(copy.deepcopy(function.body))
    call = gast.Call(func=copy.deepcopy(function), args=args, keywords=[])
    call.qualname = qualify(function)
    return call


def _mapped(call: gast.Call, fresh: Callable[[], str],
            qualify: Callable[[gast.expr], str | None]) -> gast.expr:
    function, sequences = call.args[0], call.args[1:]
    items = [fresh() for _ in sequences]
    if len(sequences) == 1:
        target, iterated = _store(items[0]), sequences[0]
    else:
        target = gast.Tuple(elts=[_store(i) for i in items], ctx=gast.Store())
        iterated = gast.Call(func=name("zip"), args=list(sequences), keywords=[])
        iterated.qualname = "builtins.zip"
    element = _applied(function, [name(i) for i in items], qualify)
    return gast.GeneratorExp(elt=element, generators=[gast.comprehension(
        target=target, iter=iterated, ifs=[], is_async=0)])


def _filtered(call: gast.Call, item: str,
              qualify: Callable[[gast.expr], str | None]) -> gast.expr:
    predicate, sequence = call.args
    test = name(item) if isinstance(predicate, gast.Constant) and predicate.value is None \
        else _applied(predicate, [name(item)], qualify)
    return gast.GeneratorExp(elt=name(item), generators=[gast.comprehension(
        target=_store(item), iter=sequence, ifs=[test], is_async=0)])


def _store(identifier: str) -> gast.Name:
    return gast.Name(id=identifier, ctx=gast.Store(), annotation=None, type_comment=None)


def _write_out_partials(fn: gast.FunctionDef, qualify: Callable[[gast.expr], str | None],
                        refuse: Callable[[gast.AST, str, str], Exception]) -> None:
    bindings = [n.id for n in walk(fn) if isinstance(n, gast.Name)
                and isinstance(n.ctx, (gast.Store, gast.Del))]
    params = {p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    at_top = {n.id for s in fn.body if isinstance(s, gast.Assign) for t in s.targets
              for n in walk(t) if isinstance(n, gast.Name)}
    for position, stmt in enumerate(list(fn.body)):
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Call)
                and qualify(stmt.value.func) in PARTIALS and stmt.value.args):
            continue
        partial, made = stmt.targets[0].id, stmt.value
        bound = [*made.args[1:], *[k.value for k in made.keywords]]
        if bindings.count(partial) != 1 or not all(
                _fixed(a, bindings, params, at_top) for a in bound):
            raise refuse(made, "a functools.partial whose arguments may change before it is "
                         "called, or bound twice", "bind constants, or names assigned once "
                         "before it, or call the function itself")
        calls = [n for n in walk(fn) if isinstance(n, gast.Call)
                 and isinstance(n.func, gast.Name) and n.func.id == partial]
        reads = [n for n in walk(fn) if isinstance(n, gast.Name) and n.id == partial
                 and isinstance(n.ctx, gast.Load)]
        later = {id(n) for s in fn.body[position + 1:] for n in walk(s)}
        if len(reads) != len(calls) or not all(id(c) in later for c in calls):
            raise refuse(made, "a functools.partial used other than by calling it",
                         "call it, or call the function itself")
        for call in calls:
            call.func = copy.deepcopy(made.args[0])
            call.args = [*copy.deepcopy(made.args[1:]), *call.args]
            given = {k.arg for k in call.keywords}
            call.keywords = [*[copy.deepcopy(k) for k in made.keywords if k.arg not in given],
                             *call.keywords]
            call.qualname = qualify(call.func)
        fn.body = [s for s in fn.body if s is not stmt]


def _fixed(arg: gast.expr, bindings: list[str], params: set[str], at_top: set[str]) -> bool:
    """Whether ``arg`` holds the same value wherever the partial is called: a constant, or a
    name bound once (a parameter never rebound, or one assignment at the top of the body)."""
    if isinstance(arg, gast.Constant):
        return True
    if not isinstance(arg, gast.Name):
        return False
    if arg.id in params:
        return arg.id not in bindings
    return bindings.count(arg.id) == 1 and arg.id in at_top
