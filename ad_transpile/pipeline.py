"""The pipeline: source function in, derivative module text out, one pass after another.

    parse -> restructure -> normalize -> analyze -> forward | reverse -> simplify -> emit
"""

from __future__ import annotations

import copy
import math

import gast

from ad_transpile import errors
from ad_transpile.analyze import analyze
from ad_transpile.emit import emit
from ad_transpile.forward import forward
from ad_transpile.header import Header
from ad_transpile.names import Namer, derivative_name
from ad_transpile.normalize import normalize
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import name, positional_signature
from ad_transpile.registry import Registry, builtin
from ad_transpile.restructure import restructure
from ad_transpile.reverse import reverse
from ad_transpile.simplify import simplify
from ad_transpile.spelling import Spelling
from ad_transpile.version import __version__

MODES = ("reverse", "forward")
KINDS = ("grad", "value_and_grad", "jvp", "vjp")
WrtSpec = int | str | tuple[int | str, ...] | list[int | str]


def transpile(
    parsed: ParsedFunction,
    wrt: WrtSpec = 0,
    mode: str = "reverse",
    kind: str = "grad",
    registry: Registry | None = None,
) -> tuple[str, str]:
    """The derivative module's text and the name of its entry function."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    registry = registry or builtin()
    wrt_names = resolve_wrt(parsed, wrt)
    namer = Namer(_taken_names(parsed))
    fn = normalize(parsed, restructure(parsed, namer), namer)
    activity = analyze(fn, wrt_names, registry, parsed)
    spell = Spelling(parsed.imports)
    entry = derivative_name(fn.name) if kind == "grad" else namer.fresh(f"{fn.name}_{kind}")
    several = isinstance(wrt, (tuple, list))
    passes = dict(wrt=wrt_names, activity=activity, registry=registry, spell=spell, namer=namer)
    if mode == "forward" and kind in ("grad", "value_and_grad") and several:
        core = forward(fn, **passes, seeded=False, returns_value=True, several=False)
        core.name = namer.fresh(f"{fn.name}_jvp")
        functions = [simplify(core), _sweep_per_argument(fn, core.name, wrt_names, kind, entry)]
    else:
        differentiate = forward if mode == "forward" else reverse
        core = differentiate(
            fn, **passes, seeded=kind not in ("jvp", "vjp"), returns_value=kind != "grad",
            several=several,
        )
        core.name = entry
        functions = [simplify(core)]
    for function in functions:
        _spell_infinities(function, spell)
    for function, function_kind in zip(functions, ["jvp", kind][-len(functions):]):
        _comment(function, parsed)
        function.body.insert(0, _docstring(parsed.name, wrt_names, mode, function_kind))
    module = gast.Module(body=[*_imports(parsed, spell, functions), *functions], type_ignores=[])
    header = Header(
        __version__, parsed.path, parsed.name, tuple(wrt_names), mode, parsed.source_hash
    )
    return emit(module, header), entry


def resolve_wrt(parsed: ParsedFunction, wrt: WrtSpec) -> list[str]:
    """Parameter names from positions and names; an unknown one is an error."""
    if parsed.tree.args.vararg or parsed.tree.args.kwarg:
        raise parsed.error(
            errors.Unsupported, parsed.tree, construct="*args or **kwargs",
            why="name every parameter so that it can be differentiated",
        )
    params = [p.id for p in [*parsed.tree.args.posonlyargs, *parsed.tree.args.args]]
    params += [p.id for p in parsed.tree.args.kwonlyargs]
    specs = list(wrt) if isinstance(wrt, (tuple, list)) else [wrt]
    if not specs:
        raise parsed.error(errors.BadWrt, parsed.tree, wrt=wrt, why="no argument is named")
    names = []
    for spec in specs:
        is_position = isinstance(spec, int) and not isinstance(spec, bool)
        if is_position and -len(params) <= spec < len(params):
            names.append(params[spec])
        elif isinstance(spec, str) and spec in params:
            names.append(spec)
        else:
            why = f"{parsed.name} has the parameters ({', '.join(params)})"
            raise parsed.error(errors.BadWrt, parsed.tree, wrt=spec, why=why)
    if len(set(names)) != len(names):
        raise parsed.error(errors.BadWrt, parsed.tree, wrt=wrt, why="an argument is named twice")
    return names


def _taken_names(parsed: ParsedFunction) -> set[str]:
    return (
        parsed.local | set(parsed.imports) | set(parsed.constants) | set(parsed.functions)
        | {parsed.name}
    )


def _sweep_per_argument(
    fn: gast.FunctionDef, core: str, wrt: list[str], kind: str, entry: str
) -> gast.FunctionDef:
    """``fpr`` for forward mode with several ``wrt``: one tangent sweep per argument."""
    params = [p.id for p in positional_signature(fn, []).args]
    body: list[gast.stmt] = []
    derivatives = []
    for i, w in enumerate(wrt):
        seeds = [gast.Constant(value=1.0 if j == i else 0.0, kind=None) for j in range(len(wrt))]
        call = gast.Call(func=name(core), args=[name(p) for p in params] + seeds, keywords=[])
        value = "value" if i == 0 and kind == "value_and_grad" else "_"
        derivatives.append(f"d_{w}")
        targets = gast.Tuple(elts=[name(value, True), name(f"d_{w}", True)], ctx=gast.Store())
        body.append(gast.Assign(targets=[targets], value=call, type_comment=None))
    grads = gast.Tuple(elts=[name(d) for d in derivatives], ctx=gast.Load())
    result = grads if kind == "grad" else gast.Tuple(elts=[name("value"), grads], ctx=gast.Load())
    body.append(gast.Return(value=result))
    return gast.FunctionDef(
        name=entry, args=copy.deepcopy(fn.args), body=body, decorator_list=[], returns=None,
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
    what = {
        "grad": "Derivative",
        "value_and_grad": "Value and derivative",
        "jvp": "Value and Jacobian-vector product",
        "vjp": "Value and vector-Jacobian product",
    }[kind]
    text = f"{what} of {function} with respect to {', '.join(wrt)}, by {mode} mode."
    return gast.Expr(value=gast.Constant(value=text, kind=None))


def _comment(fn: gast.FunctionDef, parsed: ParsedFunction) -> None:
    """Name the source line above each group of statements it became, in longer functions."""
    if len(fn.body) <= 3:
        return
    previous = None
    for stmt in fn.body:
        line = getattr(stmt, "lineno", None)
        if line and line != previous and not isinstance(stmt, gast.Return):
            stmt.comment = f"line {line}: {parsed.lines[line - 1].strip()}"
        previous = line


def _imports(
    parsed: ParsedFunction, spell: Spelling, functions: list[gast.FunctionDef]
) -> list[gast.stmt]:
    """The source module's imports and constants the generated code uses, and any a rule needs."""
    used = {n.id for f in functions for n in gast.walk(f) if isinstance(n, gast.Name)}
    constants = []
    for const_name, stmt in reversed(list(parsed.constants.items())):
        if const_name in used:
            used |= {n.id for n in gast.walk(stmt.value) if isinstance(n, gast.Name)}
            constants.insert(0, copy.deepcopy(stmt))
    statements: list[gast.stmt] = []
    for node in parsed.import_nodes:
        aliases = [a for a in node.names if (a.asname or a.name.split(".")[0]) in used]
        if aliases:
            kept = copy.deepcopy(node)
            kept.names = copy.deepcopy(aliases)
            statements.append(kept)
    for local, module in sorted(spell.added.items()):
        if local not in used:
            continue
        alias = gast.alias(name=module, asname=None if local == module else local)
        statements.append(gast.Import(names=[alias]))
    return statements + constants
