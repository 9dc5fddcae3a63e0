"""Local functions lifted to the module: a nested ``def`` (or a lambda) that is only called
becomes a module-level function taking what it closes over as parameters of its own::

    def f(x, a):                             def f(x, a):
        def step(s):                             return f_step(x, a) + f_step(2.0 * x, a)
            t = s * a
            return t * t                     def f_step(s, a):
        return step(x) + step(2.0 * x)           t = s * a
                                                 return t * t

Python reads ``a`` when ``step`` is called, from the scope that defines it; the lifted call
passes ``a`` as it is at the call, which is the same value. The derivative then goes through
the call as through any call of the user's functions. ``lambdas`` has already written local
functions of one expression where they are called outside comprehensions; this takes the rest:
several statements, or calls inside comprehensions and generator expressions.
"""

from __future__ import annotations

import copy

import gast

from ad_transpile.lambdas import SCOPES, plain_parameters
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import name
from ad_transpile.trees import walk

COMPREHENSIONS = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


def lift_local_functions(parsed: ParsedFunction, fn: gast.FunctionDef) -> gast.FunctionDef:
    """``fn`` with each local function that is only called replaced by a module-level one,
    added to ``parsed.functions`` so that its calls are calls of the user's functions."""
    bound_in_fn = _bound(fn)
    for definition in list(fn.body):
        found = _local_function(definition)
        if found is None or _binders(fn).count(found[0]) != 1:
            continue
        local, params, body = found
        calls = _calls(fn, local, definition)
        if calls is None or any(c.keywords or len(c.args) != len(params) for c in calls):
            continue
        inner = gast.FunctionDef(name="", args=_arguments(params), body=body,
                                 decorator_list=[], returns=None, type_comment=None,
                                 type_params=[])
        free = sorted((_read(inner) - _bound(inner)) & bound_in_fn - {local})
        if any(set(free) & _comprehension_targets(fn, call) for call in calls):
            continue  # a comprehension's variable would stand for what the function reads
        lifted = _fresh(f"{fn.name}_{local}", parsed)
        inner.name, inner.args = lifted, _arguments(params + free)
        parsed.functions[lifted] = gast.copy_location(inner, definition)
        for call in calls:
            call.func = gast.copy_location(name(lifted), call.func)
            call.args = [*call.args, *[name(v) for v in free]]
            call.qualname = f"{parsed.module_name}.{lifted}"
        fn.body = [s for s in fn.body if s is not definition]
    return fn


def _local_function(stmt: gast.stmt) -> tuple[str, list[str], list[gast.stmt]] | None:
    """``(name, parameters, body)`` of ``def name(...)`` or ``name = lambda ...: ...`` with
    plain parameters and no decorator."""
    if isinstance(stmt, gast.FunctionDef) and not stmt.decorator_list and not stmt.returns:
        params = plain_parameters(stmt.args)
        return (stmt.name, params, copy.deepcopy(stmt.body)) if params is not None else None
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Lambda):
        params = plain_parameters(stmt.value.args)
        body = [gast.Return(value=copy.deepcopy(stmt.value.body))]
        return (stmt.targets[0].id, params, body) if params is not None else None
    return None


def _arguments(params: list[str]) -> gast.arguments:
    return gast.arguments(
        args=[gast.Name(id=p, ctx=gast.Param(), annotation=None, type_comment=None)
              for p in params],
        posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])


def _calls(fn: gast.FunctionDef, local: str, definition: gast.stmt) -> list[gast.Call] | None:
    """Every call of ``local`` after its definition, in ``fn``'s body or its comprehensions;
    None where it is read any other way, or inside another function or lambda."""
    inside = {id(n) for n in walk(definition)}
    calls = [n for n in walk(fn) if isinstance(n, gast.Call) and isinstance(n.func, gast.Name)
             and n.func.id == local and id(n) not in inside]
    callees = {id(c.func) for c in calls}
    reads = [n for n in walk(fn) if isinstance(n, gast.Name) and n.id == local
             and id(n) not in inside and not isinstance(n.ctx, gast.Store)]
    if any(id(n) not in callees for n in reads):
        return None
    for scope in walk(fn):
        if isinstance(scope, SCOPES) and not isinstance(scope, COMPREHENSIONS) \
                and scope is not fn and id(scope) not in inside \
                and any(isinstance(n, gast.Name) and n.id == local for n in walk(scope)):
            return None
    position = fn.body.index(definition)
    later = {id(n) for s in fn.body[position + 1:] for n in walk(s)}
    return calls if calls and all(id(c) in later for c in calls) else None


def _binders(fn: gast.FunctionDef) -> list[str]:
    """Every name ``fn`` binds, once per binding (a nested function's name too)."""
    names = [n.id for n in walk(fn) if isinstance(n, gast.Name)
             and isinstance(n.ctx, (gast.Store, gast.Del))]
    return names + [s.name for s in walk(fn) if isinstance(s, gast.FunctionDef) and s is not fn]


def _bound(fn: gast.FunctionDef) -> set[str]:
    """The names local to ``fn``: its parameters and what it assigns."""
    params = {p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    return params | set(_binders(fn))


def _read(fn: gast.FunctionDef) -> set[str]:
    return {n.id for n in walk(fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _comprehension_targets(fn: gast.FunctionDef, call: gast.Call) -> set[str]:
    """The names the comprehensions around ``call`` bind."""
    targets: set[str] = set()
    for scope in walk(fn):
        if isinstance(scope, COMPREHENSIONS) and any(n is call for n in walk(scope)):
            targets |= {n.id for g in scope.generators for n in walk(g.target)
                        if isinstance(n, gast.Name)}
    return targets


def _fresh(wanted: str, parsed: ParsedFunction) -> str:
    taken = set(parsed.functions) | set(parsed.imports) | set(parsed.constants)
    while wanted in taken:
        wanted += "_"
    return wanted
