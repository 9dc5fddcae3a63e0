"""The pipeline: source function in, derivative module text out, one pass after another.

    parse -> restructure -> split tuples -> normalize -> analyze -> forward | reverse
        -> simplify -> emit

``Program`` runs the passes for the requested function and for every user function it calls
(the local functions restructure lifts to the module among them); a function of records
(``params.omega``) is first given a parameter per field (``records``).
"""

from __future__ import annotations

from pathlib import Path

from ad_transpile import errors
from ad_transpile.emit import emit
from ad_transpile.header import Header
from ad_transpile.parse import ParsedFunction, function_in_text
from ad_transpile.program import Program, ScalarCode
from ad_transpile.records import records_of, refuse_second_derivatives
from ad_transpile.registry import builtin, load
from ad_transpile.version import __version__

MODES = ("reverse", "forward")
KINDS = ("grad", "value_and_grad", "jvp", "vjp", "batched_jvp")
WrtSpec = int | str | tuple[int | str, ...] | list[int | str]


def transpile(
    parsed: ParsedFunction,
    wrt: WrtSpec = 0,
    mode: str = "reverse",
    kind: str = "grad",
    rules: tuple[Path, ...] = (),
    order: int = 1,
    batched: bool = True,
    explain: bool = False,
) -> tuple[str, str]:
    """The derivative module's text and the name of its entry function.

    With ``order=2`` the first derivative (in ``mode``) is differentiated again in forward
    mode: ``fpr`` becomes ``fprpr``. A forward-mode gradient of NumPy code takes one sweep of
    batched tangents unless ``batched`` is false (or an operation has no batched rule). With
    ``explain`` a comment above each derivative line names the rules that made it.
    """
    if order == 2:
        return _second_derivative(parsed, wrt, mode, rules, explain)
    if order != 1:
        raise ValueError(f"order must be 1 or 2, not {order!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    wrt_names = resolve_wrt(parsed, wrt)
    registry = load(rules) if rules else builtin()
    several = isinstance(wrt, (tuple, list))
    if kind == "batched_jvp" and mode != "forward":
        raise ValueError("batched tangents are forward mode")
    program = None
    if kind == "batched_jvp" or (batched and mode == "forward" and kind in (
            "grad", "value_and_grad")):
        # a gradient of arrays in one sweep of batched tangents, where every operation has
        # a batched rule; else (a file only) each sweep seeds one number, as for scalar code
        try:
            program = Program(mode, registry, batched=True)
            program.explain = explain
            program.scalar_fallback = kind != "batched_jvp"
            entry = program.entry(parsed, wrt_names, kind.removeprefix("batched_"), several)
        except (errors.NoBatchedTangent, ScalarCode):
            if kind == "batched_jvp":
                raise
            program = None
    if program is None:
        program = Program(mode, registry)
        program.explain = explain
        entry = program.entry(parsed, wrt_names, kind, several=several)
    module = program.module()
    header = Header(__version__, parsed.path, parsed.name, tuple(wrt_names), mode,
                    program.source_hash(), tuple(str(r) for r in rules),
                    args=given_kinds(parsed), explain=explain)
    return emit(module, header), entry


def given_kinds(parsed: ParsedFunction) -> tuple[str, ...]:
    """The kinds given for parameters (``--arg``), as the header records them."""
    return tuple(f"{n}={k}" for n, k in parsed.arg_kinds.items())


def _second_derivative(parsed: ParsedFunction, wrt: WrtSpec, mode: str,
                       rules: tuple[Path, ...], explain: bool) -> tuple[str, str]:
    """``fprpr``: the generated ``fpr`` read back as source and differentiated in forward mode."""
    refuse_second_derivatives(parsed)
    # the first derivative seeds one number: its batched helpers have no rules to go again
    first, first_entry = transpile(parsed, wrt, mode, "grad", rules, batched=False)
    virtual_path = str(Path(parsed.path).with_name(f"{first_entry}.py"))
    generated = function_in_text(first, virtual_path, first_entry, parsed.module_name)
    generated.line_label = f"{first_entry} line"
    generated.receiver = parsed.receiver
    generated.arg_kinds = parsed.arg_kinds
    wrt_names = resolve_wrt(parsed, wrt)
    program = Program("forward", load(rules) if rules else builtin())
    program.tangent_prefix = "t_"  # the first derivative's d_ names are its adjoints
    program.explain = explain
    entry = program.entry(generated, wrt_names, "grad", several=isinstance(wrt, (tuple, list)))
    header = Header(__version__, parsed.path, parsed.name, tuple(wrt_names),
                    f"forward over {mode}", Header.read(first).source_hash,
                    tuple(str(r) for r in rules), args=given_kinds(parsed), explain=explain)
    return emit(program.module(), header), entry


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
        elif isinstance(spec, str) and spec.partition(".")[0] in params and spec.count(".") == 1:
            names.append(spec)  # a field of a record: params.omega, self.k
        else:
            why = f"{parsed.name} has the parameters ({', '.join(params)})"
            raise parsed.error(errors.BadWrt, parsed.tree, wrt=spec, why=why)
    bases = {n.partition(".")[0] for n in names if "." in n} | ({parsed.receiver} & set(names))
    records = {r.param: r for r in records_of(parsed, names)} if bases else {}
    for base in sorted(bases):
        if base not in records:
            why = ("the receiver of a method is read as a constant, unless it is only read "
                   "field by field" if base == parsed.receiver else
                   f"'{base}' is used whole, not only read field by field")
            raise parsed.error(errors.BadWrt, parsed.tree, wrt=base, why=why)
    for n in names:
        base, _, field_ = n.partition(".")
        if field_ and field_ not in records[base].fields:
            raise parsed.error(errors.BadWrt, parsed.tree, wrt=n,
                               why=f"{parsed.name} does not read {n}")
    if len(set(names)) != len(names):
        raise parsed.error(errors.BadWrt, parsed.tree, wrt=wrt, why="an argument is named twice")
    return names
