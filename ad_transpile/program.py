"""The derivative module as a whole: every function it needs, generated once, and their imports.

The entry derivative may call the derivatives of the user's functions it calls (``helper_pr``),
and the primal sweep may call the functions themselves: each is generated or copied once, callees
first, and the module imports exactly what they use.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import math
import textwrap
from typing import Callable

import gast

from ad_transpile import errors, runtime
from ad_transpile.analyze import Activity, active_lists, analyze
from ad_transpile.array_shapes import shape_of_kind
from ad_transpile.batched_seeds import known_points, seeded_sweep
from ad_transpile.calls import Calls
from ad_transpile.coalesce import coalesce_copies
from ad_transpile.directions import NotAlongEach, along_each
from ad_transpile.element_sweeps import element_sweeps, lists_along
from ad_transpile.explain import explain
from ad_transpile.forward import forward, refuse_array
from ad_transpile.fresh_results import fresh_results
from ad_transpile.hoist import hoist_invariants
from ad_transpile.infer import infer, param_kinds, return_kind
from ad_transpile.kinds import UNKNOWN, Kind
from ad_transpile.list_adjoints import refuse_list_forms
from ad_transpile.lists import lower_lists
from ad_transpile.loop_targets import discard_unread_loop_targets
from ad_transpile.names import Namer, derivative_name
from ad_transpile.normalize import normalize, scatter_parts
from ad_transpile.orphans import rename_orphans
from ad_transpile.own_tapes import own_tapes
from ad_transpile.parse import ParsedFunction, function_hash, parse_text
from ad_transpile.plain_numpy import plain_numpy
from ad_transpile.primitives import copy_tree, name, positional_signature
from ad_transpile.records import (
    KINDS_WITH_RECORDS,
    Record,
    flat_wrt,
    flattened,
    records_of,
    unpacked,
)
from ad_transpile.registry import Registry
from ad_transpile.restructure import restructure
from ad_transpile.reverse import reverse
from ad_transpile.simplify import simplify
from ad_transpile.spelling import Spelling
from ad_transpile.starts import chain_equal_starts
from ad_transpile.trees import walk
from ad_transpile.tuples import split_tuples

WHAT = {
    "grad": "Derivative",
    "value_and_grad": "Value and derivative",
    "jvp": "Value and Jacobian-vector product",
    "vjp": "Value and vector-Jacobian product",
    "callee_vjp": "Vector-Jacobian product",
}


ALONG = "_along"  # a gradient kind made one sweep with a tangent per direction


class ScalarCode(Exception):
    """Raised by a batched program for a function whose values are all numbers: one sweep per
    input is then the plain forward mode a person writes."""


class Program:
    """Collects the functions of one generated module."""

    def __init__(self, mode: str, registry: Registry, batched: bool = False) -> None:
        self.mode, self.registry = mode, registry.copy()
        self.batched = batched  # forward mode with a last axis of tangent directions
        self.functions: list[tuple[gast.FunctionDef, ParsedFunction]] = []
        self.generated: dict[tuple, str] = {}
        self.in_progress: set[tuple[str, str]] = set()
        self.names = Namer(set())
        self.spellings: dict[str, Spelling] = {}
        self.registries: dict[str, Registry] = {}
        self.sources: dict[tuple[str, str], str] = {}  # (module, function) -> source hash
        self.definitions = ""  # the module-level imports and constants the module binds
        self.kinds_of: dict[str, Activity] = {}  # function name -> its activity and kinds
        self.number_results: dict[str, bool] = {}  # whether it returns a number with a tangent
        self.return_kinds: dict[tuple, Kind] = {}
        self.scalar_fallback = False  # batched: raise ScalarCode for a function of numbers
        self.explain = False  # a comment naming the rules above each derivative line
        self.tangent_prefix = "d_"  # ``t_`` at order 2, where the ``d_`` names are adjoints

    def source_hash(self) -> str:
        """One hash over the source of every function the module was generated from, and the
        module-level imports and constants they read (known once ``module`` has run)."""
        rules = {(r.where, r.digest) for r in self.registry.rules.values() if r.user}
        hashes = [self.sources[key] for key in sorted(self.sources)] + [
            digest for _, digest in sorted(rules)]
        if self.definitions:
            hashes.append(hashlib.sha256(self.definitions.encode()).hexdigest()[:16])
        if len(hashes) == 1:
            return hashes[0]
        combined = hashlib.sha256(" ".join(hashes).encode()).hexdigest()[:16]
        return f"sha256:{combined}"

    # what the pipeline asks for

    def entry(self, parsed: ParsedFunction, wrt: list[str], kind: str, several: bool) -> str:
        """Generate the derivative asked for and return its name."""
        records = records_of(parsed, wrt)
        if records:
            return self.record_entry(parsed, records, wrt, kind, several)
        self.names.taken |= _module_names(parsed)
        base = derivative_name(parsed.name)
        entry = base if kind == "grad" else self.names.numbered(f"{parsed.name}_{kind}")
        self.names.taken.add(entry)
        if self.batched and kind in ("grad", "value_and_grad"):
            core = self.names.numbered(f"{parsed.name}_jvp")
            self.generate(parsed, wrt, "jvp", core, several=False)
            points = [self.kinds_of[parsed.name].kinds.proven(w) for w in wrt]
            if self.number_results[parsed.name] and known_points(points):
                params = [p.id for p in positional_signature(parsed.tree, []).args]
                wrapper = _wrapper(parsed.tree, entry, seeded_sweep(
                    params, wrt, points, core, kind, several, self.spelling_of(parsed)))
            else:
                wrapper = _batched_sweep(parsed.tree, core, wrt, kind, entry, several)
            self.add_wrapper(wrapper, parsed, wrt, kind)
        elif self.mode == "forward" and kind in ("grad", "value_and_grad") and several \
                and self.tangent_prefix == "d_" and not lists_along(parsed, wrt) \
                and self.along_each(parsed, wrt, kind, entry):
            pass  # one sweep, a tangent per direction
        elif self.mode == "forward" and kind in ("grad", "value_and_grad") and (
                several or lists_along(parsed, wrt)):
            core = self.names.numbered(f"{parsed.name}_jvp")
            self.generate(parsed, wrt, "jvp", core, several=False)
            lists = lists_along(parsed, wrt)
            params = [p.id for p in positional_signature(parsed.tree, []).args]
            wrapper = _wrapper(parsed.tree, entry,
                               element_sweeps(params, wrt, lists, core, kind, several))
            if self.kinds_of[parsed.name].arrays:  # each sweep seeds one number
                spell = self.spelling_of(parsed)
                wrapper.body[:0] = [refuse_array(w, spell) for w in wrt if w not in lists]
            self.add_wrapper(wrapper, parsed, wrt, kind)
        else:
            self.generate(parsed, wrt, kind, entry, several)
        return entry

    def record_entry(self, parsed: ParsedFunction, records: list[Record], wrt: list[str],
                     kind: str, several: bool) -> str:
        """The derivative of ``parsed`` with a parameter per field of each record (see
        ``records``), and a wrapper with ``parsed``'s signature that reads the fields and
        packs their gradients back into records."""
        if kind not in KINDS_WITH_RECORDS:
            raise parsed.error(
                errors.Unsupported, parsed.tree, construct=f"the {kind} of a function of a "
                f"record ('{records[0].param}' read field by field)",
                why="records work with grad and value_and_grad: pass the fields as arguments")
        flat, along = flattened(parsed, records), flat_wrt(records, wrt)
        inner = self.entry(flat, along, kind, several=len(along) > 1)
        entry = derivative_name(parsed.name) if kind == "grad" else self.names.numbered(
            f"{parsed.name}_{kind}")
        self.names.taken.add(entry)
        by_param = {r.param: r for r in records}
        arguments = parsed.tree.args
        args = [read for p in [*arguments.posonlyargs, *arguments.args]
                for read in _reads_of(p.id, by_param)]
        keywords = [gast.keyword(arg=flat_param, value=read) for p in arguments.kwonlyargs
                    for flat_param, read in zip(_flat_names(p.id, by_param),
                                                _reads_of(p.id, by_param))]
        call = gast.Call(func=name(inner), args=args, keywords=keywords)
        taken = {n.id for n in walk(parsed.tree) if isinstance(n, gast.Name)}
        gradients = [_free(f"d_{w}", taken) for w in along]
        stored = [gast.Name(id=g, ctx=gast.Store(), annotation=None, type_comment=None)
                  for g in gradients]
        targets = stored[0] if len(stored) == 1 else gast.Tuple(elts=stored, ctx=gast.Store())
        packed = unpacked(records, wrt, gast.Tuple(elts=[name(g) for g in gradients],
                                                   ctx=gast.Load()), several)
        if kind == "value_and_grad":
            value = _free("value", taken)
            targets = gast.Tuple(elts=[gast.Name(id=value, ctx=gast.Store(), annotation=None,
                                                 type_comment=None), targets], ctx=gast.Store())
            packed = gast.Tuple(elts=[name(value), packed], ctx=gast.Load())
        body = [gast.Assign(targets=[targets], value=call, type_comment=None),
                gast.Return(value=packed)]
        self.add_wrapper(_wrapper(parsed.tree, entry, body), parsed, wrt, kind)
        return entry

    def along_each(self, parsed: ParsedFunction, wrt: list[str], kind: str, entry: str) -> bool:
        """Generate the forward-mode gradient along several numbers as one sweep carrying a
        tangent per direction (see ``directions``); False where it cannot be one."""
        functions, generated = len(self.functions), dict(self.generated)
        taken = set(self.names.taken)
        try:
            self.generate(parsed, wrt, f"{kind}{ALONG}", entry, several=True)
        except NotAlongEach:
            del self.functions[functions:]  # callees made for it are made again as needed
            self.generated, self.names.taken = generated, taken
            self.in_progress.discard((parsed.module_name, parsed.name))
            return False
        return True

    def add_wrapper(self, wrapper: gast.FunctionDef, parsed: ParsedFunction, wrt: list[str],
                    kind: str) -> None:
        """A derivative that runs the generated sweeps (``fpr`` calling ``f_jvp``)."""
        if self.explain:
            explain(wrapper, self.mode, self.tangent_prefix)
        wrapper.body.insert(0, _docstring(parsed.name, wrt, self.mode, kind))
        self.functions.append((wrapper, parsed))

    def derivative_of(self, callee: ParsedFunction, wrt: tuple[str, ...],
                      caller: ParsedFunction, where: gast.AST) -> str:
        """The name of ``callee``'s derivative along ``wrt``, generating it the first time."""
        key = (callee.module_name, callee.name, wrt)
        if key in self.generated:
            return self.generated[key]
        if (callee.module_name, callee.name) in self.in_progress:
            raise caller.error(
                errors.Unsupported, where, construct=f"the recursive call to '{callee.name}'",
                why="recursion cannot be differentiated: write it as a loop",
            )
        if self.mode == "forward":  # value and tangent: a Jacobian-vector product
            name_ = self.names.numbered(f"{callee.name}_jvp")
        else:
            name_ = self.names.numbered(derivative_name(callee.name))
        kind = "jvp" if self.mode == "forward" else "callee_vjp"
        self.generate(callee, list(wrt), kind, name_, several=len(wrt) > 1)
        self.generated[key] = name_
        return name_

    # generating one function

    def generate(self, parsed: ParsedFunction, wrt: list[str], kind: str, entry: str,
                 several: bool) -> None:
        key = (parsed.module_name, parsed.name)
        self.in_progress.add(key)
        self.sources[key] = parsed.source_hash
        registry = self.registry_of(parsed)
        namer = Namer(_module_names(parsed) | parsed.local | self.names.taken,
                      self.tangent_prefix)
        fn = normalize(parsed, split_tuples(parsed, lower_lists(
            parsed, restructure(parsed, namer), namer, tuple(wrt)), namer), namer)
        if kind == "callee_vjp":  # the caller's primal sweep already printed and logged
            fn = _without_reports(fn)
        calls = Calls(parsed, registry, self, self.mode)
        _keep_calls_that_report(fn, calls)
        kinds = infer(fn, param_kinds(parsed, parsed.arg_kinds), parsed.constants,
                      self.returns(calls))
        fn = hoist_invariants(fn, kinds, parsed.constants)
        activity = analyze(fn, wrt, registry, parsed, calls)
        activity.kinds = kinds
        self.kinds_of[parsed.name] = activity
        self.number_results[parsed.name] = _returns_active_number(fn, activity)
        if self.scalar_fallback and not activity.arrays and self.in_progress == {key}:
            raise ScalarCode(parsed.name)
        if self.mode == "reverse":
            _refuse_reverse_over_reverse(fn, activity, parsed)
            refuse_list_forms(fn, activity, parsed)
            _refuse_in_place_additions(fn, activity, parsed)
            _refuse_several_results(fn, kind, parsed)
        spell = self.spelling_of(parsed)
        differentiate = forward if self.mode == "forward" else reverse
        along, kind = kind.endswith(ALONG), kind.removesuffix(ALONG)
        if along and (activity.arrays or self.batched):
            raise NotAlongEach(parsed.name)
        core = differentiate(
            fn, wrt=wrt, activity=activity, registry=registry, spell=spell, namer=namer,
            seeded=kind in ("grad", "value_and_grad") and not along,
            returns_value=kind in ("value_and_grad", "jvp", "vjp"),
            several=several, calls=calls,
            **({"source_names": frozenset(parsed.local)} if self.mode == "reverse" else {}),
            **({"batched": True, "where": parsed.error} if self.batched else {}),
        )
        if along:
            core = along_each(core, fn.args, wrt,
                              [namer.derivative(w) for w in wrt], set(namer.adjoints.values()),
                              namer, returns_value=kind == "value_and_grad")
        core.name = entry
        plain = self.mode == "reverse" and activity.arrays
        if plain:
            core = plain_numpy(core, _param_shapes(core, parsed), spell)
        core = simplify(core, frozenset(parsed.local))
        core = rename_orphans(core, namer, frozenset(parsed.local))
        if self.mode == "reverse":
            core = own_tapes(core)
        if not activity.arrays:
            core = coalesce_copies(core, frozenset(parsed.local), frozenset(namer.derivatives))
        if plain:
            core = fresh_results(core, _param_shapes(core, parsed))
        core = chain_equal_starts(discard_unread_loop_targets(core))
        _spell_infinities(core, spell)
        _comment(core, parsed)
        if self.explain:
            explain(core, self.mode, self.tangent_prefix)
        core.body.insert(0, _docstring(parsed.name, wrt, self.mode, kind))
        self.functions.append((core, parsed))
        self.in_progress.discard(key)

    def returns(self, calls: Calls) -> Callable[[str, list[Kind]], Kind]:
        """The kind a user function called with arguments of given kinds returns."""
        def kind(qualname: str, args: list[Kind]) -> Kind:
            if qualname.startswith("ad_transpile."):
                return UNKNOWN
            callee = calls.callee(qualname) or calls.parsed.callee(qualname)  # a rule's too
            if callee is None:
                return UNKNOWN
            key = (callee.module_name, callee.name, tuple(args))
            if key not in self.return_kinds:
                self.return_kinds[key] = UNKNOWN  # while it is found: a recursive call
                given = dict(zip(_parameters(callee.tree), args))
                inner = Calls(callee, self.registry_of(callee), self, self.mode)
                self.return_kinds[key] = return_kind(
                    callee.tree, param_kinds(callee, given), callee.constants,
                    self.returns(inner))
            return self.return_kinds[key]
        return kind

    def registry_of(self, parsed: ParsedFunction) -> Registry:
        """The rules, with those the user declared in the function's module merged in.

        Primitives are named by module (``act.softplus``), so one registry serves every module
        of the program: a rule declared next to a callee applies wherever it is called.
        """
        if parsed.module_name not in self.registries:
            self.registries[parsed.module_name] = self.registry
            self.registry.add_module(parsed.module, parsed.path, parsed.module_name)
        return self.registry

    def spelling_of(self, parsed: ParsedFunction) -> Spelling:
        return self.spellings.setdefault(parsed.module_name, Spelling(parsed.imports))

    # the module

    def module(self) -> gast.Module:
        """Imports, constants, the user functions the code calls, then the derivatives."""
        functions = list(self.functions)
        defined = {f.name for f, _ in functions}
        copied_from: dict[str, str] = {}
        primal: list[tuple[gast.FunctionDef, ParsedFunction]] = []
        pending = list(functions)
        while pending:
            function, parsed = pending.pop()
            for called in sorted(_called_names(function) - set(runtime.HELPERS)):
                if called in parsed.functions and copied_from.get(called, parsed.module_name) \
                        != parsed.module_name:
                    raise parsed.error(
                        errors.Unsupported, parsed.functions[called],
                        construct=f"two functions named '{called}' (in "
                        f"{copied_from[called]} and {parsed.module_name})",
                        why="the derivative is one module: rename one of them",
                    )
                if called in parsed.functions and called not in defined:
                    copied_from[called] = parsed.module_name
                    copied = _primal_copy(parsed.functions[called])
                    self.sources[(parsed.module_name, called)] = function_hash(
                        parsed.lines, parsed.functions[called])
                    defined.add(called)
                    primal.append((copied, parsed))
                    pending.append((copied, parsed))
        everything = primal[::-1] + functions
        used = {n.id for f, _ in everything for n in walk(f) if isinstance(n, gast.Name)}
        helpers = _helpers(used)
        imports = self.imports(everything)
        if helpers and not _binds(imports, "np", "numpy"):
            imports.append(gast.Import(names=[gast.alias(name="numpy", asname="np")]))
        if any(_reads(h, "math") for h in helpers) and not _binds(imports, "math", "math"):
            imports.append(gast.Import(names=[gast.alias(name="math", asname=None)]))  # digamma
        return gast.Module(body=[*imports, *helpers, *[f for f, _ in everything]],
                           type_ignores=[])

    def imports(self, functions) -> list[gast.stmt]:
        statements: list[gast.stmt] = []
        constants: list[gast.stmt] = []
        seen_imports: set[str] = set()
        seen_constants: set[str] = set()
        by_module: dict[str, tuple[ParsedFunction, set[str]]] = {}
        for function, parsed in functions:
            used = by_module.setdefault(parsed.module_name, (parsed, set()))[1]
            used |= {n.id for n in walk(function) if isinstance(n, gast.Name)}
        bound: dict[str, tuple[str, str]] = {}  # a module-level name -> (what, which module)
        for module_name, (parsed, used) in by_module.items():
            for const_name, stmt in reversed(list(parsed.constants.items())):
                if const_name in used:
                    _bind_once(bound, const_name, gast.dump(stmt.value), parsed, stmt)
                if const_name in used and const_name not in seen_constants:
                    used |= {n.id for n in walk(stmt.value) if isinstance(n, gast.Name)}
                    constants.insert(0, copy.deepcopy(stmt))
                    seen_constants.add(const_name)
            for local in used & set(parsed.imports):
                _bind_once(bound, local, parsed.imports[local], parsed, parsed.tree)
            for node in parsed.import_nodes:
                aliases = [a for a in node.names if (a.asname or a.name.split(".")[0]) in used]
                kept = copy.deepcopy(node)
                kept.names = [copy.deepcopy(a) for a in aliases]
                text = gast.dump(kept)
                if aliases and text not in seen_imports:
                    seen_imports.add(text)
                    statements.append(kept)
            spell = self.spellings.get(module_name)
            for local, module in sorted(spell.added.items()) if spell else []:
                alias = gast.alias(name=module, asname=None if local == module else local)
                node = gast.Import(names=[alias])
                if local in used and gast.dump(node) not in seen_imports:
                    seen_imports.add(gast.dump(node))
                    statements.append(node)
        self.definitions = "\n".join(gast.dump(s) for s in statements + constants)
        return statements + constants


def _parameters(fn: gast.FunctionDef) -> list[str]:
    return [p.id for p in [*fn.args.posonlyargs, *fn.args.args]]


def _bind_once(bound: dict, name_: str, meaning: str, parsed: ParsedFunction, where) -> None:
    """One generated module has one namespace: refuse a name two source modules bind apart."""
    if name_ in bound and bound[name_][0] != meaning:
        raise parsed.error(
            errors.Unsupported, where, construct=f"the name '{name_}' in both "
            f"{bound[name_][1]} and {parsed.module_name}",
            why="they mean different things and the derivative is one module: rename one",
        )
    bound.setdefault(name_, (meaning, parsed.module_name))


def _param_shapes(core: gast.FunctionDef, parsed: ParsedFunction) -> dict:
    """The shapes of the derivative's parameters that the kinds given for them tell."""
    kinds = param_kinds(parsed, parsed.arg_kinds)
    params = [a.id for a in [*core.args.posonlyargs, *core.args.args, *core.args.kwonlyargs]]
    return {p: shape_of_kind(p, kinds[p]) for p in params if p in kinds}


def _returns_active_number(fn: gast.FunctionDef, activity: Activity) -> bool:
    """Whether every ``return`` gives a value that depends on ``wrt`` and is surely a number:
    its batched tangent is then a vector of one entry per direction."""
    returned = [n.value for n in walk(fn) if isinstance(n, gast.Return)]
    return bool(returned) and all(activity.is_active(v) and activity.kinds.proven(v.id).is_number
                                  for v in returned)


def _refuse_reverse_over_reverse(fn, activity, parsed: ParsedFunction) -> None:
    saved = active_lists(fn, activity)
    if saved:
        raise parsed.error(
            errors.Unsupported, saved[0], construct="reverse mode over a list of saved values",
            why="differentiate reverse-mode output again in forward mode (forward over reverse)",
        )


def _refuse_in_place_additions(fn, activity, parsed: ParsedFunction) -> None:
    for stmt in walk(fn):
        parts = scatter_parts(stmt)
        if parts and parts[0] in activity.active:
            raise parsed.error(
                errors.Unsupported, stmt, construct="adding into an array in place in reverse "
                "mode", why="the values it overwrites are lost; use forward mode, or build the "
                "array without writing into it",
            )


def _refuse_several_results(fn, kind: str, parsed: ParsedFunction) -> None:
    ret = fn.body[-1]
    if kind in ("grad", "value_and_grad") and isinstance(ret.value, gast.Tuple):
        raise parsed.error(
            errors.Unsupported, ret, construct="the gradient of a function returning several "
            "values", why="a gradient needs one result: use vjp, or forward mode for the "
            "derivative of each",
        )


def _keep_calls_that_report(fn: gast.FunctionDef, calls: Calls) -> None:
    """A call to a function that prints or logs runs in the primal sweep even if its value is
    not needed there: dead-code removal must not drop it."""
    for stmt in walk(fn):
        site = calls.site(stmt) if isinstance(stmt, gast.Assign) else None
        if site and any(isinstance(n, (gast.Expr, gast.Assert)) and not _is_docstring(n)
                        for n in walk(site.callee.tree)):
            stmt.value.impure = True


def _is_docstring(node: gast.stmt) -> bool:
    return isinstance(node, gast.Expr) and isinstance(node.value, gast.Constant)


def _without_reports(fn: gast.FunctionDef) -> gast.FunctionDef:
    """``fn`` without its print, logging and assert statements (kept in the caller's sweep)."""

    class Drop(gast.NodeTransformer):
        def visit_Expr(self, node):
            report = isinstance(node.value, gast.Call) and not (
                getattr(node.value, "qualname", None) or "").startswith("<list>.")
            return None if report else node

        def visit_Assert(self, node):
            return None

    fn = Drop().visit(copy.deepcopy(fn))
    for node in walk(fn):
        if isinstance(getattr(node, "body", None), list) and not node.body:
            node.body = [gast.Pass()]  # a branch that only printed
    return fn


def _helpers(used: set[str]) -> list[gast.FunctionDef]:
    """The runtime helpers the code uses, and those they use in turn, in a fixed order."""
    wanted = {h for h in runtime.HELPERS if h in used}
    while True:
        more = {n for h in wanted for n in _helpers_called(h)} - wanted
        if not more:
            return [copy_tree(_helper(h)) for h in sorted(wanted)]
        wanted |= more


@functools.cache
def _helpers_called(name_: str) -> frozenset[str]:
    return frozenset(n.id for n in walk(_helper(name_))
                     if isinstance(n, gast.Name) and n.id in runtime.HELPERS)


def _reads(tree: gast.AST, identifier: str) -> bool:
    return any(isinstance(n, gast.Name) and n.id == identifier for n in walk(tree))


def _binds(imports: list[gast.stmt], local: str, module: str) -> bool:
    return any(isinstance(s, gast.Import) and any(
        a.name == module and (a.asname or a.name) == local for a in s.names) for s in imports)


@functools.cache
def _helper_text(name_: str) -> str:
    return textwrap.dedent(inspect.getsource(runtime.HELPERS[name_]))


@functools.cache
def _helper(name_: str) -> gast.FunctionDef:
    """A helper from ``runtime``, copied into the generated file so that it runs alone (parsed
    once; each file gets a copy)."""
    return parse_text(_helper_text(name_), runtime.__file__).body[0]


def _module_names(parsed: ParsedFunction) -> set[str]:
    return (set(parsed.imports) | set(parsed.constants) | set(parsed.functions)
            | {parsed.name})


def _called_names(function: gast.FunctionDef) -> set[str]:
    return {n.func.id for n in walk(function)
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Name)}


def _primal_copy(function: gast.FunctionDef) -> gast.FunctionDef:
    copied = copy.deepcopy(function)
    copied.decorator_list = []
    return copied


def _batched_sweep(fn: gast.FunctionDef, core: str, wrt: list[str], kind: str, entry: str,
                   several: bool) -> gast.FunctionDef:
    """``fpr`` for forward mode on arrays: one sweep of batched tangents, seeded with the
    identity basis (a direction per element of ``wrt``), gives the whole gradient."""
    params = [p.id for p in positional_signature(fn, []).args]
    tangents = [f"d_{w}" for w in wrt]
    points = [name(w) for w in wrt]
    seeds: gast.expr = gast.Tuple(elts=[name(t, True) for t in tangents], ctx=gast.Store())
    seeds = seeds if several else seeds.elts[0]
    directions = gast.Call(func=name("_directions" if several else "_basis"), args=points,
                           keywords=[])
    value = "value" if kind == "value_and_grad" else "_"
    call = gast.Call(func=name(core), args=[name(p) for p in params + tangents], keywords=[])
    sweep = gast.Tuple(elts=[name(value, True), name("d_value", True)], ctx=gast.Store())
    grads = gast.Call(func=name("_gradients" if several else "_gradient"),
                      args=[name("d_value"), *copy.deepcopy(points)], keywords=[])
    result = grads if kind == "grad" else gast.Tuple(elts=[name("value"), grads],
                                                     ctx=gast.Load())
    body = [gast.Assign(targets=[seeds], value=directions, type_comment=None),
            gast.Assign(targets=[sweep], value=call, type_comment=None),
            gast.Return(value=result)]
    return _wrapper(fn, entry, body)


def _reads_of(param: str, records: dict[str, Record]) -> list[gast.expr]:
    """What a record wrapper passes for ``param``: the field reads of a record, else itself."""
    record = records.get(param)
    return [record.read(i) for i in range(len(record.fields))] if record else [name(param)]


def _flat_names(param: str, records: dict[str, Record]) -> tuple[str, ...]:
    record = records.get(param)
    return record.flat if record else (param,)


def _free(wanted: str, taken: set[str]) -> str:
    while wanted in taken:
        wanted += "_"
    taken.add(wanted)
    return wanted


def _wrapper(fn: gast.FunctionDef, entry: str, body: list[gast.stmt]) -> gast.FunctionDef:
    """``entry``, with ``fn``'s parameters (without annotations), running ``body``."""
    args = copy.deepcopy(fn.args)
    for param in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        param.annotation = None
    return gast.FunctionDef(
        name=entry, args=args, body=body, decorator_list=[], returns=None,
        type_comment=None, type_params=[],
    )


def _spell_infinities(fn: gast.FunctionDef, spell: Spelling) -> None:
    """``1e400`` prints as ``1e1000``: write ``math.inf`` (and ``math.nan``) instead."""

    class Spell(gast.NodeTransformer):
        def visit_Constant(self, node):
            if isinstance(node.value, float) and not math.isfinite(node.value):
                if math.isnan(node.value):
                    return spell("math.nan")
                inf = spell("math.inf")
                return inf if node.value > 0 else gast.UnaryOp(op=gast.USub(), operand=inf)
            return node

    Spell().visit(fn)


def _docstring(function: str, wrt: list[str], mode: str, kind: str) -> gast.Expr:
    text = f"{WHAT[kind]} of {function} with respect to {', '.join(wrt)}, by {mode} mode."
    if len(text) > 78:  # to fit in 88 columns the arguments go on a line of their own
        text = (f"{WHAT[kind]} of {function}, by {mode} mode.\n\n"
                f"    With respect to {', '.join(wrt)}.\n    ")
    return gast.Expr(value=gast.Constant(value=text, kind=None))


def _comment(fn: gast.FunctionDef, parsed: ParsedFunction) -> None:
    """Name the source line above each group of statements it became, in longer functions."""
    if len(fn.body) <= 3:
        return
    previous = None
    for stmt in fn.body:
        line = getattr(stmt, "lineno", None)
        if line and line != previous and not isinstance(stmt, gast.Return):
            stmt.comment = f"{parsed.line_label} {line}: {parsed.lines[line - 1].strip()}"
        previous = line
