"""The rule registry: reads the rule files in ``rules/`` (as text) into templates the passes use.

A rule's partial derivatives are expressions in its parameters; ``instantiate`` puts the actual
arguments in their place and spells every module reference as the target module spells it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import gast

from ad_transpile import errors
from ad_transpile.parse import collect_imports, parse_text, qualify

RULE_MARKS = ("ad_transpile.rulebook.partials", "ad_transpile.partials")
NONDIFF_MARKS = ("ad_transpile.rulebook.nondifferentiable", "ad_transpile.nondifferentiable")


@dataclass(frozen=True)
class Rule:
    """The partial derivatives of one primitive called with ``len(params)`` arguments."""

    primitive: str
    params: tuple[str, ...]
    partials: tuple[gast.expr, ...]
    result: str | None
    imports: dict[str, str]
    where: str
    digest: str = ""  # a hash of the rule's text, so that a changed rule makes a file stale
    user: bool = False

    def instantiate(
        self,
        index: int,
        args: list[gast.expr],
        result: gast.expr,
        spell: Callable[[str], gast.expr],
    ) -> gast.expr:
        """The partial with respect to argument ``index``, written in terms of ``args``."""
        values = dict(zip(self.params, args))
        if self.result:
            values[self.result] = result
        local = set(values)
        return _Substitute(values, self.imports, local, spell).visit(_copy(self.partials[index]))


class _Substitute(gast.NodeTransformer):
    def __init__(self, values, imports, local, spell):
        self.values, self.imports, self.local, self.spell = values, imports, local, spell

    def visit_Name(self, node):
        if node.id in self.values:
            return _copy(self.values[node.id])
        return self._module_reference(node)

    def visit_Attribute(self, node):
        return self._module_reference(node)

    def _module_reference(self, node):
        name = qualify(node, self.imports, {}, self.local)
        if name is None:
            return self.generic_visit(node)
        return self.spell(name)


class Registry:
    """Every known rule, looked up by the qualified name of a primitive and its arity."""

    def __init__(self) -> None:
        self.rules: dict[tuple[str, int], Rule] = {}
        self.nondifferentiable: set[str] = set()
        self.scope: tuple[dict[str, str], dict, str] = ({}, {}, "")
        self.user = False

    def lookup(self, primitive: str, arity: int) -> Rule | None:
        return self.rules.get((primitive, arity))

    def knows(self, primitive: str) -> bool:
        return primitive in self.nondifferentiable or any(
            name == primitive for name, _ in self.rules
        )

    def add_file(self, path: Path) -> None:
        """Read one rule file; a mistake in it is an error located in that file."""
        where = str(path)
        if not path.is_file():
            raise errors.MissingFile(where, 1, 1, what=where)
        module = parse_text(path.read_text(encoding="utf-8"), where)
        self.add_module(module, where, Path(where).stem)

    def copy(self) -> Registry:
        twin = Registry()
        twin.rules, twin.nondifferentiable = dict(self.rules), set(self.nondifferentiable)
        twin.user = True  # what is added to a copy comes from the user
        return twin

    def add_module(self, module: gast.Module, where: str, module_name: str) -> None:
        """Add the rules a module declares, its own functions named ``module_name.f``."""
        self.added_now: set[tuple[str, int]] = set()
        imports, _ = collect_imports(module)
        functions = {n.name: n for n in module.body if isinstance(n, gast.FunctionDef)}
        self.scope = (imports, functions, module_name)
        for node in module.body:
            self._add_statement(node, where)

    def _qualify(self, expr: gast.expr) -> str | None:
        imports, functions, module_name = self.scope
        return qualify(expr, imports, functions, set(), module_name)

    def _add_statement(self, node: gast.stmt, where: str) -> None:
        if isinstance(node, gast.FunctionDef):
            self._add_partials(node, where)
        elif isinstance(node, gast.Expr) and isinstance(node.value, gast.Call):
            call = node.value
            if self._qualify(call.func) in NONDIFF_MARKS:
                self.nondifferentiable.update(self._primitive(arg, where) for arg in call.args)

    def _primitive(self, expr: gast.expr, where: str) -> str:
        name = self._qualify(expr)
        if name is None:
            raise _bad(where, expr, "a primitive must be a function: imported, yours, or a builtin")
        return name

    def _add_partials(self, node: gast.FunctionDef, where: str) -> None:
        imports = self.scope[0]
        marks = [
            d for d in node.decorator_list
            if isinstance(d, gast.Call) and self._qualify(d.func) in RULE_MARKS
        ]
        if not marks:
            return
        mark = marks[0]
        if len(mark.args) != 1:
            raise _bad(where, mark, "@partials takes exactly one primitive")
        primitive = self._primitive(mark.args[0], where)
        params = tuple(arg.id for arg in node.args.args)
        result = [arg.id for arg in node.args.kwonlyargs]
        if len(result) > 1 or (result and result[0] != "result"):
            raise _bad(where, node, "the only keyword-only parameter a rule takes is 'result'")
        body = [s for s in node.body if not _is_docstring(s)]
        if len(body) != 1 or not isinstance(body[0], gast.Return) or body[0].value is None:
            raise _bad(where, node, f"rule '{node.name}' must be a single return statement")
        value = body[0].value
        partials = tuple(value.elts) if isinstance(value, gast.Tuple) else (value,)
        if len(partials) != len(params):
            raise _bad(
                where, body[0],
                f"rule '{node.name}' has {len(params)} parameter(s) but returns "
                f"{len(partials)} partial derivative(s)",
            )
        key = (primitive, len(params))
        if key in self.added_now:
            raise _bad(where, node, f"a second rule for {primitive} with {len(params)} argument(s)")
        self.added_now.add(key)
        digest = hashlib.sha256(gast.dump(node).encode()).hexdigest()[:16]
        self.rules[key] = Rule(  # a later file's rule wins: the user's over the built-in
            primitive, params, partials, result[0] if result else None, imports,
            f"{where}:{node.lineno}", digest, user=self.user,
        )


def _bad(where: str, node: object, why: str) -> errors.BadRule:
    return errors.BadRule(
        where, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1, why=why
    )


def _is_docstring(node: gast.stmt) -> bool:
    return isinstance(node, gast.Expr) and isinstance(node.value, gast.Constant)


def _copy(node: gast.AST) -> gast.AST:
    return copy.deepcopy(node)


def builtin_rule_files() -> list[Path]:
    """The rule files shipped with ad-transpile, in a fixed order."""
    try:
        from importlib.resources import files

        folder = Path(str(files("ad_transpile.rules")))
    except ModuleNotFoundError:
        folder = Path(__file__).resolve().parent.parent / "rules"
    return sorted(p for p in folder.glob("*.py") if p.name != "__init__.py")


def load(extra: Iterable[Path] = ()) -> Registry:
    """The built-in rules, plus the user's rule files in ``extra`` (whose rules win)."""
    registry = Registry()
    for path in builtin_rule_files():
        registry.add_file(path)
    registry.user = True
    for path in extra:
        registry.add_file(path)
    return registry


@functools.cache
def builtin() -> Registry:
    return load()
