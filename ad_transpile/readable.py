"""Refuse what hides a function's data flow from its source text.

The derivative is read off the source: every name a function reads must be fixed by the text,
so that what flows where can be seen. ``eval("x * x")`` reads ``x`` through a string,
``locals()["x"]`` through a dict, ``getattr(np, name)`` through a computed name, and a builtin
the module rebinds (``sum = np.sum``) is not the builtin. Each is refused, located at the name,
in the function and in every function of its module it calls (which run in the primal sweep)::

    def f(x):                    example.py:2:12: 'eval' is not supported: it runs code
        return eval("x * x")     written in a string, whose data flow cannot be read ...
"""

from __future__ import annotations

import builtins
from typing import Callable, NamedTuple

import gast

from ad_transpile import errors
from ad_transpile.trees import walk

STRING_CODE = "it runs code written in a string, whose data flow cannot be read from the source"
BY_NAME = ("it reads or writes variables by a name computed at run time, which the source "
           "does not show")
DYNAMIC = {
    "builtins.eval": STRING_CODE,
    "builtins.exec": STRING_CODE,
    "builtins.compile": STRING_CODE,
    "builtins.locals": BY_NAME,
    "builtins.globals": BY_NAME,
    "builtins.vars": BY_NAME,
    "builtins.setattr": "it changes an object in place, which cannot be differentiated",
    "builtins.delattr": "it changes an object in place, which cannot be differentiated",
    "builtins.__import__": "it imports a module named at run time; import it at the top",
    "builtins.__builtins__": BY_NAME,
    "sys._getframe": BY_NAME,
    "sys.modules": BY_NAME,
    "inspect.currentframe": BY_NAME,
    "inspect.stack": BY_NAME,
}
DYNAMIC_MODULES = {"importlib": "it imports a module named at run time; import it at the top"}
NAMED = ("builtins.getattr", "builtins.hasattr")  # readable with a literal name only
OUTER_WRITES = {  # worded as normalize words them, which refuses them in the function itself
    gast.Global: ("'global'", "writes to globals cannot be differentiated"),
    gast.Nonlocal: ("'nonlocal'", "writes to enclosing scopes cannot be differentiated"),
}
TRANSPARENT = {"builtins.staticmethod", "builtins.classmethod", "functools.cache",
               "functools.lru_cache"}  # decorators that leave what a function computes alone
TRANSPARENT_MODULES = ("ad_transpile.", "numba.")
HIDDEN_ATTRIBUTES = {"__dict__", "__globals__", "__builtins__", "f_locals", "f_globals",
                     "__code__", "__closure__"}

Qualify = Callable[[gast.expr, set[str]], "str | None"]
Error = Callable[..., errors.TranspileError]


def refuse_hidden_flow(tree: gast.FunctionDef, module: gast.Module, functions: dict,
                       qualify: Qualify, local_names: Callable, error: Error) -> None:
    """Refuse, in ``tree`` and every function of the module it calls, what hides data flow."""
    _refuse_star_imports(module, error)
    rebound = module_rebindings(module)
    pending, seen = [tree], set()
    while pending:
        fn = pending.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        local = local_names(fn)
        _refuse_decorators(fn, qualify, error)
        _refuse_in(fn, local, qualify, rebound, error)
        pending += [functions[n.func.id] for n in walk(fn)
                    if isinstance(n, gast.Call) and isinstance(n.func, gast.Name)
                    and n.func.id in functions and n.func.id not in local]


def _refuse_in(fn: gast.FunctionDef, local: set[str], qualify: Qualify,
               rebound: dict[str, gast.AST], error: Error) -> None:
    literal_lookups = {id(n.func) for n in walk(fn) if _is_literal_lookup(n, local, qualify)}
    for node in walk(fn):
        if isinstance(node, (gast.Global, gast.Nonlocal)):
            raise error(errors.Unsupported, node, construct=OUTER_WRITES[type(node)][0],
                        why=OUTER_WRITES[type(node)][1])
        if isinstance(node, gast.Call) and qualify(node.func, local) in NAMED \
                and id(node.func) not in literal_lookups:
            shown = qualify(node.func, local).removeprefix("builtins.")
            raise error(errors.Unsupported, node, construct=f"'{shown}' with a computed name",
                        why=BY_NAME + "; write the attribute out (obj.name)")
        if isinstance(node, gast.Attribute) and node.attr in HIDDEN_ATTRIBUTES:
            raise error(errors.Unsupported, node, construct=f"'.{node.attr}'", why=BY_NAME)
        if not isinstance(node, (gast.Name, gast.Attribute)) or \
                not isinstance(node.ctx, gast.Load):
            continue
        qualname = qualify(node, local)
        why = _why_dynamic(qualname)
        if why:
            shown = qualname.removeprefix("builtins.")
            raise error(errors.Unsupported, node, construct=f"'{shown}'", why=why)
        if isinstance(node, gast.Name) and node.id not in local and node.id in rebound:
            raise error(
                errors.Unsupported, node, construct=f"reading '{node.id}'",
                why=f"the module binds it at line {rebound[node.id].lineno} too (or instead of "
                "an import or a builtin), so which value the function sees cannot be read "
                "from the source: give each value its own name",
            )


def _refuse_decorators(fn: gast.FunctionDef, qualify: Qualify, error: Error) -> None:
    """A decorator may change what the function computes: only known harmless ones pass."""
    for decorator in fn.decorator_list:
        called = decorator.func if isinstance(decorator, gast.Call) else decorator
        qualname = qualify(called, set()) or ""
        if qualname in TRANSPARENT or qualname.startswith(TRANSPARENT_MODULES):
            continue
        shown = _dotted(called)
        raise error(
            errors.Unsupported, decorator, construct=f"the decorator '@{shown}'",
            why="what it does to the function cannot be read from the function's source; "
            "differentiate the undecorated function",
        )


def _dotted(expr: gast.expr) -> str:
    if isinstance(expr, gast.Attribute):
        return f"{_dotted(expr.value)}.{expr.attr}"
    return getattr(expr, "id", "...")


def _why_dynamic(qualname: str | None) -> str | None:
    if qualname is None:
        return None
    if qualname in DYNAMIC:
        return DYNAMIC[qualname]
    top = qualname.split(".")[0]
    return DYNAMIC_MODULES.get(top)


def _is_literal_lookup(node: gast.AST, local: set[str], qualify: Qualify) -> bool:
    """``getattr(obj, "name")``: the name is in the source, so the flow can be read."""
    return (isinstance(node, gast.Call) and qualify(node.func, local) in NAMED
            and len(node.args) >= 2 and isinstance(node.args[1], gast.Constant)
            and isinstance(node.args[1].value, str))


def _refuse_star_imports(module: gast.Module, error: Error) -> None:
    for node in walk(module):
        if isinstance(node, gast.ImportFrom) and any(a.name == "*" for a in node.names):
            raise error(
                errors.Unsupported, node, construct=f"'from {node.module} import *'",
                why="the names it binds cannot be read from the source; import them by name",
            )


def module_rebindings(module: gast.Module) -> dict[str, gast.AST]:
    """Module-level names bound by anything other than one top-level ``import``, ``def`` or
    literal assignment: by a second, different binding, under ``if``/``try``/``for``, or by
    ``global`` in a function. The node returned is where the extra binding is."""
    first: dict[str, str] = {}
    rebound: dict[str, gast.AST] = {}

    def bind(name: str, meaning: str, node: gast.AST) -> None:
        if name in first and first[name] != meaning and name not in rebound:
            rebound[name] = node
        first.setdefault(name, meaning)

    for stmt in module.body:
        for name, meaning in _plain_bindings(stmt):
            bind(name, meaning, stmt)
        if _plain_bindings(stmt):
            continue
        for node in _module_level_nodes(stmt):
            for name in _stored_names(node):  # gast gives ``except E as e``'s name no line
                line = getattr(node, "lineno", stmt.lineno)
                bind(name, f"line {line}", node if hasattr(node, "lineno") else stmt)
    for name, meaning in first.items():  # sum = np.sum: not the builtin qualify sees
        if meaning.startswith("line ") and hasattr(builtins, name):
            rebound.setdefault(name, _Line(int(meaning.removeprefix("line "))))
    for node in walk(module):
        if isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef)):
            declared = {n for s in walk(node) if isinstance(s, gast.Global) for n in s.names}
            for inner in walk(node):
                if isinstance(inner, gast.Name) and isinstance(inner.ctx, gast.Store) \
                        and inner.id in declared:
                    rebound.setdefault(inner.id, inner)
    return rebound


class _Line(NamedTuple):
    lineno: int


def _plain_bindings(stmt: gast.stmt) -> list[tuple[str, str]]:
    """What one top-level ``import``, ``def`` or literal ``NAME = value`` binds, and to what."""
    if isinstance(stmt, gast.Import):
        return [(a.asname or a.name.split(".")[0], f"import {a.name} as {a.asname}")
                for a in stmt.names]
    if isinstance(stmt, gast.ImportFrom):
        return [(a.asname or a.name, f"from {stmt.module} import {a.name}") for a in stmt.names]
    if isinstance(stmt, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
        return [(stmt.name, f"def at line {stmt.lineno}")]
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], gast.Name) and _is_literal(stmt.value):
        return [(stmt.targets[0].id, "a literal")]  # the last one counts, as when it runs
    return []


def _is_literal(expr: gast.expr) -> bool:
    if isinstance(expr, gast.Constant):
        return True
    if isinstance(expr, gast.UnaryOp):
        return _is_literal(expr.operand)
    if isinstance(expr, gast.BinOp):
        return _is_literal(expr.left) and _is_literal(expr.right)
    return False


def _module_level_nodes(stmt: gast.stmt):
    """The nodes of a top-level statement that run at module level (not inside a def)."""
    stack = [stmt]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef,
                             gast.Lambda)):
            continue
        stack.extend(gast.iter_child_nodes(node))


def _stored_names(node: gast.AST) -> list[str]:
    if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
        return [node.id]
    if isinstance(node, (gast.Import, gast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in node.names]
    if isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
        return [node.name]
    return []
