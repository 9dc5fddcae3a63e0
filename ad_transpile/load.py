"""Load: compile generated source text into a live function."""

from __future__ import annotations

import ast
import hashlib
import linecache
from typing import Callable

LIVE = "__ad_transpile_globals__"  # the source module's globals, in a loaded module's namespace
LIVE_NAMES = "__ad_transpile_live__"  # the names read from them


def load(text: str, name: str, label: str, live: dict | None = None,
         names: frozenset[str] = frozenset(),
         guard: tuple[tuple[type, ...], Callable] | None = None) -> Callable:
    """Run the generated module ``text`` and return its function ``name``.

    The text is registered with ``linecache`` under ``label`` so that tracebacks through
    generated code show its lines. Module-level ``names`` are read from ``live`` (the source
    function's globals) at call time, as the source function reads them, and not from the
    copies the text binds: a constant the user changes at run time changes the derivative too.

    A ``guard`` ``(types, other)`` makes the function check that its arguments have exactly
    ``types`` (those it was made for), and hand any other call to ``other``; its results
    (each item of a tuple it returns) are floats. The check is the whole cost of the API's
    wrapper on the hot path.
    """
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    filename = f"<ad-transpile {label} {digest}>"  # unique per text: linecache keys must not clash
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    namespace: dict[str, object] = {"__name__": f"ad_transpile.generated.{name}"}
    tree = ast.parse(text, filename)
    if live is not None and names:
        tree = ast.fix_missing_locations(_ReadLive(names).visit(tree))
        namespace.update({LIVE: live, LIVE_NAMES: names})
    if guard is not None:
        types, other = guard
        tree = ast.fix_missing_locations(_Guarded(name, len(types)).visit(tree))
        namespace.update({f"{GUARD}{i}": t for i, t in enumerate(types)})
        namespace.update({f"{GUARD}other": other, f"{GUARD}float": float})
    exec(compile(tree, filename, "exec"), namespace)
    return namespace[name]  # type: ignore[return-value]


GUARD = "__ad_transpile_guard_"


class _Guarded(ast.NodeTransformer):
    """``def fpr(x): ...`` -> ``def fpr(x): if type(x) is not T0: return other(x); ...``, each
    ``return e`` becoming ``return float(e)``."""

    def __init__(self, name: str, count: int) -> None:
        self.name, self.count = name, count

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        if node.name != self.name:
            return node
        params = [a.arg for a in node.args.args][: self.count]
        checks = [ast.Compare(left=ast.Call(func=ast.Name("type", ast.Load()),
                                            args=[ast.Name(p, ast.Load())], keywords=[]),
                              ops=[ast.IsNot()], comparators=[ast.Name(f"{GUARD}{i}", ast.Load())])
                  for i, p in enumerate(params)]
        test = checks[0] if len(checks) == 1 else ast.BoolOp(op=ast.Or(), values=checks)
        other = ast.Return(ast.Call(func=ast.Name(f"{GUARD}other", ast.Load()),
                                    args=[ast.Name(p, ast.Load()) for p in params], keywords=[]))
        docstring = node.body[:1] if ast.get_docstring(node) is not None else []
        body = [self.visit(stmt) for stmt in node.body[len(docstring):]]
        node.body = [*docstring, ast.If(test=test, body=[other], orelse=[]), *body]
        return node

    def visit_Return(self, node: ast.Return) -> ast.Return:
        values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
        floats = [ast.Call(func=ast.Name(f"{GUARD}float", ast.Load()), args=[v], keywords=[])
                  for v in values]
        node.value = ast.Tuple(floats, ast.Load()) if isinstance(node.value, ast.Tuple) \
            else floats[0]
        return node


class _ReadLive(ast.NodeTransformer):
    """``NAME`` -> ``__ad_transpile_globals__['NAME']`` where a function reads a live global;
    module-level code (a constant defined from another) and a function's own locals stay."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names: frozenset[str] = names
        self.inside = False

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        local = {n.id for n in ast.walk(node)
                 if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        local |= {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
        outer, outer_inside = self.names, self.inside
        self.names, self.inside = self.names - local, True
        node.body = [self.visit(stmt) for stmt in node.body]
        self.names, self.inside = outer, outer_inside
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if self.inside and node.id in self.names and isinstance(node.ctx, ast.Load):
            read = ast.Subscript(value=ast.Name(LIVE, ast.Load()), slice=ast.Constant(node.id),
                                 ctx=ast.Load())
            return ast.copy_location(read, node)
        return node
