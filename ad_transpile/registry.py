"""The rule registry: reads the rule files in ``rules/`` (as text) into templates the passes use.

A rule's partial derivatives are expressions in its parameters; ``instantiate`` puts the actual
arguments in their place and spells every module reference as the target module spells it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import gast

from ad_transpile import errors
from ad_transpile.parse import collect_imports, parse_text, qualify
from ad_transpile.primitives import copy_tree
from ad_transpile.trees import walk

RULE_MARKS = ("ad_transpile.rulebook.partials", "ad_transpile.partials")
TANGENT_MARKS = ("ad_transpile.rulebook.tangents", "ad_transpile.tangents")
ADJOINT_MARKS = ("ad_transpile.rulebook.adjoints", "ad_transpile.adjoints")
BATCHED_MARKS = ("ad_transpile.rulebook.batched_tangents", "ad_transpile.batched_tangents")
_MARK = {"tangents": "tangents", "adjoints": "adjoints", "batched": "batched_tangents"}
NONDIFF_MARKS = ("ad_transpile.rulebook.nondifferentiable", "ad_transpile.nondifferentiable")
NDIM_MARKS = ("ad_transpile.rulebook.ndim",)
MOST_OPERANDS = 8  # a rule taking ``*operands`` (np.einsum) serves calls of 1 to 8 of them


@dataclass(frozen=True)
class Condition:
    """What a rule's form asks of an argument: an array of ``ndim`` dimensions (``ndim(2)``
    in a rule file), or an option given as the literal ``value`` (``keepdims=True``)."""

    ndim: int | None = None
    value: object = None


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
    defaults: dict[str, gast.expr] = field(default_factory=dict)  # options: no derivative
    tangents: tuple[gast.expr | None, ...] = ()  # a structural rule's templates, per argument
    adjoints: tuple[gast.expr | None, ...] = ()
    batched: tuple[gast.expr | None, ...] = ()  # tangents with a last axis of directions
    # forms for calls whose arguments are known: (which templates, conditions, templates)
    forms: tuple[tuple[str, dict[str, Condition], tuple[gast.expr | None, ...]], ...] = ()

    @property
    def structural(self) -> bool:
        return bool(self.tangents)

    def form(self, which: str, holds: Callable[[str, Condition], bool]) -> Rule:
        """The rule with its first form of ``which`` templates whose conditions all hold for
        the call (``holds(parameter, condition)``), or as it is if none does."""
        for kind, conditions, templates in self.forms:
            if kind == which and all(holds(p, c) for p, c in conditions.items()):
                return dataclasses.replace(self, **{which: templates})
        return self

    def ignored_options(self, given: list[str]) -> list[str]:
        """The options among ``given`` that no template reads, so it could not honour them."""
        read = {n.id for t in (*self.tangents, *self.adjoints) if t is not None
                for n in walk(t) if isinstance(n, gast.Name)}
        return [p for p in given if p in self.defaults and p not in read]

    def checked_options(self, checks: dict[str, Callable]) -> list[tuple[str, tuple[str, ...]]]:
        """The checks (runtime helpers named in ``checks``) the templates run on options, each
        with the options it is given: ``_linear_pad(mode)`` is ``("_linear_pad", ("mode",))``."""
        found = []
        for template in (*self.tangents, *self.adjoints):
            for n in walk(template) if template is not None else ():
                if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) \
                        and n.func.id in checks and all(
                            isinstance(a, gast.Name) and a.id in self.defaults for a in n.args):
                    found.append((n.func.id, tuple(a.id for a in n.args)))
        return list(dict.fromkeys(found))

    def joins(self, index: int) -> bool:
        """Whether argument ``index`` is a sequence of arrays (its adjoint names an ``item``)."""
        template = self.adjoints[index] if index < len(self.adjoints) else None
        return template is not None and any(
            isinstance(n, gast.Name) and n.id == "item" for n in walk(template))

    def nests(self, index: int) -> bool:
        """Whether argument ``index`` may be nested sequences, each number or array in them
        getting ``d_result[item]`` back, ``item`` its position (``np.array``)."""
        template = self.adjoints[index] if self.joins(index) else None
        return template is not None and any(
            isinstance(n, gast.Subscript) and isinstance(n.slice, gast.Name)
            and n.slice.id == "item" for n in walk(template))

    def differentiable(self, index: int) -> bool:
        """Whether the operation has a derivative along argument ``index``."""
        if self.structural:
            return index < len(self.tangents) and self.tangents[index] is not None
        return index < len(self.partials)

    def template(
        self,
        which: str,
        index: int,
        given: dict[str, gast.expr],
        values: dict[str, gast.expr],
        spell: Callable[[str], gast.expr],
    ) -> gast.expr:
        """A structural rule's tangent or adjoint along argument ``index``, written for a call.

        ``given`` are the call's arguments by parameter (options it leaves out missing);
        ``values`` gives the other names a template uses: ``d_a``, ``result``, ``d_result``.
        """
        missing = {p for p in self.params if p not in given}
        bound = {**{p: self.defaults[p] for p in missing}, **given, **values}
        template = _copy(getattr(self, which)[index])
        template = _DropLeftOut(missing).visit(template)
        return _Substitute(bound, self.imports, set(bound), spell).visit(template)

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
        if name is None or self.spell is None:  # parts of a rule: its module names stay
            return self.generic_visit(node)
        return self.spell(name)


class _DropLeftOut(gast.NodeTransformer):
    """``np.sum(d_a, axis=axis)`` for a call without ``axis`` is ``np.sum(d_a)``."""

    def __init__(self, missing: set[str]) -> None:
        self.missing = missing

    def visit_Call(self, node):
        self.generic_visit(node)
        node.keywords = [k for k in node.keywords if not _reads_any(k.value, self.missing)]
        return node


def _reads_any(expr: gast.expr, names: set[str]) -> bool:
    return any(isinstance(n, gast.Name) and n.id in names for n in walk(expr))


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
        self.halves: dict[tuple[str, int], dict[str, tuple]] = {}  # a structural rule's halves
        for node in module.body:
            self._add_statement(node, where)
        # a rule for a fixed number of arguments wins over one taking *operands
        for (primitive, count), halves in sorted(self.halves.items(),
                                                 key=lambda item: type(item[0][1]) is int):
            if isinstance(count, tuple):
                for operands in range(1, MOST_OPERANDS + 1):
                    self._add_structural(primitive, _spread(halves, count[1], operands), where)
            else:
                self._add_structural(primitive, halves, where)

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
            if isinstance(d, gast.Call) and self._qualify(d.func) in
            RULE_MARKS + TANGENT_MARKS + ADJOINT_MARKS + BATCHED_MARKS
        ]
        if not marks:
            return
        if self._qualify(marks[0].func) not in RULE_MARKS:
            # one template may serve several names of one operation (np.max and np.amax)
            for mark in marks:
                kind = self._qualify(mark.func)
                which = ("tangents" if kind in TANGENT_MARKS else
                         "batched" if kind in BATCHED_MARKS else "adjoints")
                self._add_half(node, mark, which, where)
            return
        params = tuple(arg.id for arg in node.args.args)
        result = [arg.id for arg in node.args.kwonlyargs]
        if len(result) > 1 or (result and result[0] != "result"):
            raise _bad(where, node, "the only keyword-only parameter a rule takes is 'result'")
        ret, partials = _returned(node, where, "partials")
        if len(partials) != len(params):
            raise _bad(
                where, ret,
                f"rule '{node.name}' has {len(params)} parameter(s) but returns "
                f"{len(partials)} partial derivative(s)",
            )
        digest = hashlib.sha256(gast.dump(node).encode()).hexdigest()[:16]
        for mark in marks:  # one rule may serve several names (np.arccos and np.acos)
            if self._qualify(mark.func) not in RULE_MARKS or len(mark.args) != 1:
                raise _bad(where, mark, "@partials takes exactly one primitive")
            primitive = self._primitive(mark.args[0], where)
            key = (primitive, len(params))
            if key in self.added_now:
                raise _bad(where, node,
                           f"a second rule for {primitive} with {len(params)} argument(s)")
            self.added_now.add(key)
            self.rules[key] = Rule(  # a later file's rule wins: the user's over the built-in
                primitive, params, partials, result[0] if result else None, imports,
                f"{where}:{node.lineno}", digest, user=self.user,
            )

    def _add_half(self, node: gast.FunctionDef, mark: gast.Call, which: str, where: str) -> None:
        """Keep one template function of a structural rule until its other half is read."""
        if len(mark.args) != 1:
            raise _bad(where, mark, f"@{_MARK[which]} takes exactly one primitive")
        primitive = self._primitive(mark.args[0], where)
        args = node.args.args
        defaults = dict(zip([a.id for a in args[len(args) - len(node.args.defaults):]],
                            node.args.defaults))
        params = tuple(a.id for a in args)
        extra = tuple(a.id for a in node.args.kwonlyargs)
        vararg = node.args.vararg.id if node.args.vararg else None
        if vararg and (defaults or mark.keywords):
            raise _bad(where, node, f"rule '{node.name}' takes *{vararg}: it can have neither "
                       "options nor forms")
        allowed = {"result"} | ({f"d_{p}" for p in params} if which != "adjoints"
                               else {"d_result", "item"})
        if vararg:  # each operand in turn: its tangent, and its position among them
            allowed |= {"item"} | ({f"d_{vararg}"} if which != "adjoints" else set())
        if set(extra) - allowed:
            raise _bad(where, node, f"@{_MARK[which]} rule '{node.name}' may only name "
                       f"{', '.join(sorted(allowed))} after '*'")
        ret, templates = _returned(node, where, "templates")
        templates = tuple(None if isinstance(t, gast.Constant) and t.value is None else t
                          for t in templates)
        required = [p for p in params if p not in defaults] + ([f"*{vararg}"] if vararg else [])
        # one template per argument without a default (one for *operands), and optionally for
        # the options after them that have a derivative too (np.trapezoid's x)
        most = len(required) if vararg else len(params)
        if not len(required) <= len(templates) <= most:
            raise _bad(where, ret, f"rule '{node.name}' has {len(required)} argument(s) "
                       f"without a default but returns {len(templates)} template(s)")
        halves = self.halves.setdefault((primitive, (len(params), vararg) if vararg
                                         else len(params)), {})
        if mark.keywords:  # a form for calls that meet its conditions
            conditions = self._conditions(mark, params, where)
            halves.setdefault("forms", []).append((which, conditions, templates, node, params))
            return
        if which in halves:
            raise _bad(where, node, f"a second @{_MARK[which]} rule for {primitive}")
        halves[which] = (node, params, defaults, templates)

    def _conditions(self, mark: gast.Call, params: tuple[str, ...],
                    where: str) -> dict[str, Condition]:
        """``@batched_tangents(np.matmul, a=ndim(2), b=ndim(1))``: what a form asks of the call."""
        conditions = {}
        for keyword in mark.keywords:
            value = keyword.value
            if keyword.arg not in params:
                raise _bad(where, mark, f"a form's condition names '{keyword.arg}', which is "
                           "not a parameter of the rule")
            if isinstance(value, gast.Call) and self._qualify(value.func) in NDIM_MARKS \
                    and len(value.args) == 1 and isinstance(value.args[0], gast.Constant) \
                    and type(value.args[0].value) is int:
                conditions[keyword.arg] = Condition(ndim=value.args[0].value)
            elif isinstance(value, gast.Constant):
                conditions[keyword.arg] = Condition(value=value.value)
            else:
                raise _bad(where, mark, "a form's condition is ndim(N) or a literal option")
        return conditions

    def _add_structural(self, primitive: str, halves: dict[str, tuple], where: str) -> None:
        batched = halves.pop("batched", None)
        forms = halves.pop("forms", [])
        if not halves and forms:
            raise _bad(where, forms[0][3], f"a form of the rule for {primitive} comes "
                       "without the rule itself")
        if len(halves) != 2:
            node = next(iter(halves.values()))[0] if halves else batched[0]
            lacking = "adjoints" if "tangents" in halves else "tangents"
            raise _bad(where, node, f"the rule for {primitive} needs @{lacking} too")
        tangent_node, params, defaults, tangents = halves["tangents"]
        adjoint_node, adjoint_params, _, adjoints = halves["adjoints"]
        for other, other_params in ((adjoint_node, adjoint_params),
                                    *([batched[:2]] if batched else []),
                                    *[(f[3], f[4]) for f in forms]):
            if other_params != params:
                raise _bad(where, other, "@tangents, @adjoints and @batched_tangents must "
                           "take the same parameters")
        text = gast.dump(tangent_node) + gast.dump(adjoint_node) + "".join(
            gast.dump(f[3]) for f in forms)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        for arity in range(len(params) - len(defaults), len(params) + 1):
            self.rules[(primitive, arity)] = Rule(
                primitive, params, (), "result", self.scope[0],
                f"{where}:{tangent_node.lineno}", digest, user=self.user, defaults=defaults,
                tangents=tangents, adjoints=adjoints, batched=batched[3] if batched else (),
                forms=tuple((which, conditions, templates)
                            for which, conditions, templates, _, _ in forms),
            )


def _spread(halves: dict[str, tuple], vararg: str, count: int) -> dict[str, tuple]:
    """The halves of a rule taking ``*operands``, written out for ``count`` operands named
    ``operands_0``, ``operands_1``, ...: the rule's template for an operand stands once for
    each, ``item`` its position, ``d_operands`` its tangent, ``*operands`` them all and
    ``*d_operands`` them all with the operand in turn replaced by its tangent."""
    names = [f"{vararg}_{i}" for i in range(count)]
    spread = {}
    for which, (node, params, defaults, templates) in halves.items():
        *fixed, each = templates
        fixed = [None if t is None else _Spread(vararg, names, None).visit(_copy(t))
                 for t in fixed]
        written = [None if each is None else
                   _Spread(vararg, names, i).visit(_copy(each)) for i in range(count)]
        spread[which] = (node, (*params, *names), defaults, (*fixed, *written))
    return spread


class _Spread(gast.NodeTransformer):
    def __init__(self, vararg: str, names: list[str], position: int | None) -> None:
        self.vararg, self.names, self.position = vararg, names, position

    def visit_Call(self, node):
        args = []
        for arg in node.args:
            spread = isinstance(arg, gast.Starred) and isinstance(arg.value, gast.Name)
            if spread and arg.value.id in (self.vararg, f"d_{self.vararg}"):
                tangent = arg.value.id != self.vararg
                args += [_name(f"d_{n}" if tangent and i == self.position else n)
                         for i, n in enumerate(self.names)]
            else:
                args.append(arg)
        node.args = args
        return self.generic_visit(node)

    def visit_Name(self, node):
        if node.id == "item":
            return gast.Constant(self.position, None)
        if node.id == f"d_{self.vararg}":
            return _name(f"d_{self.names[self.position]}")
        return node


def _name(identifier: str) -> gast.Name:
    return gast.Name(identifier, gast.Load(), None, None)


def _returned(node: gast.FunctionDef, where: str, what: str) -> tuple[gast.Return, tuple]:
    """A rule's return statement and the expressions it returns, its named parts written in."""
    body = _inline_parts([s for s in node.body if not _is_docstring(s)])
    if len(body) != 1 or not isinstance(body[0], gast.Return) or body[0].value is None:
        raise _bad(where, node, f"rule '{node.name}' must name parts (part = ...) and "
                   f"then return its {what}")
    value = body[0].value
    return body[0], tuple(value.elts) if isinstance(value, gast.Tuple) else (value,)


def _inline_parts(body: list[gast.stmt]) -> list[gast.stmt]:
    """``mask = m(a); return mask * d_a`` is ``return m(a) * d_a``: parts are for reading."""
    parts: dict[str, gast.expr] = {}
    while len(body) > 1 and isinstance(body[0], gast.Assign) and isinstance(
            body[0].targets[0], gast.Name):
        first, body = body[0], body[1:]
        parts[first.targets[0].id] = _Substitute(parts, {}, set(parts), None).visit(first.value)
    if parts:
        body = [_Substitute(parts, {}, set(parts), None).visit(s) for s in body]
    return body


def _bad(where: str, node: object, why: str) -> errors.BadRule:
    return errors.BadRule(
        where, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1, why=why
    )


def _is_docstring(node: gast.stmt) -> bool:
    return isinstance(node, gast.Expr) and isinstance(node.value, gast.Constant)


def _copy(node: gast.AST) -> gast.AST:
    return copy_tree(node)


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
