"""Records pass: a parameter read only field by field (``params.omega``, ``params["omega"]``)
becomes one parameter per field, and the derivative a wrapper with the original signature::

    def loss(params, x):                        def loss_fields(params_omega, params_phase, x):
        return sin(params.omega * x              return sin(params_omega * x + params_phase)
                   + params.phase)
                                           ->   def loss_pr(params, x):
                                                    d_params_omega, d_params_phase = \\
                                                        loss_fields_pr(params.omega,
                                                                       params.phase, x)
                                                    return _like_record(params, {
                                                        "omega": d_params_omega,
                                                        "phase": d_params_phase})

A dataclass of parameters, a ``NamedTuple`` or a dict with constant keys is then differentiated
as its numbers are, and its gradient has its type (``_like_record``). A parameter used whole
anywhere (passed on, assigned, looped over) is not a record and is left as it is.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import gast

from ad_transpile import errors
from ad_transpile.aliases import ARRAY_ATTRIBUTES
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import name
from ad_transpile.trees import walk

KINDS_WITH_RECORDS = ("grad", "value_and_grad")
# what an array has that a record of parameters does not: ``x.real`` reads an array whole
NOT_FIELDS = ARRAY_ATTRIBUTES | {"real", "imag", "flat", "mT", "strides", "itemsize",
                                 "nbytes", "base", "data", "device", "ctypes", "flags"}


@dataclass(frozen=True)
class Record:
    """A parameter read field by field: each field, whether it is read by key (a dict) or as
    an attribute, and the parameter that stands for it in the flattened function."""

    param: str
    fields: tuple[str, ...]
    by_key: bool
    flat: tuple[str, ...]

    def read(self, index: int) -> gast.expr:
        """``params.omega`` or ``params["omega"]``: how the wrapper reads field ``index``."""
        field_ = self.fields[index]
        if self.by_key:
            return gast.Subscript(value=name(self.param),
                                  slice=gast.Constant(value=field_, kind=None), ctx=gast.Load())
        return gast.Attribute(value=name(self.param), attr=field_, ctx=gast.Load())


def records_of(parsed: ParsedFunction, wrt: list[str] = (),
               visiting: frozenset = frozenset()) -> list[Record]:
    """The parameters of ``parsed`` read only field by field, in the order of the signature;
    a method's receiver (whose fields are otherwise constants) only where ``wrt`` asks for it
    or for one of its fields (``self.k``)."""
    asked = {w.partition(".")[0] for w in wrt}
    fn = parsed.tree
    params = [p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    taken = {n.id for n in walk(fn) if isinstance(n, gast.Name)}
    found = []
    for param in params:
        if (param == parsed.receiver and param not in asked) or param in _with_defaults(fn):
            continue
        fields = _fields_read(parsed, param, visiting | {parsed.name})
        if fields is None:
            continue
        keys = {by_key for _, by_key in fields}
        if len(keys) != 1:
            continue  # read both as params.a and params["a"]: not one kind of record
        names = [f for f, _ in fields]
        flat = []
        for field_ in names:
            flat_name = f"{param}_{field_}" if field_.isidentifier() else None
            if flat_name is None:
                raise parsed.error(errors.Unsupported, fn, construct=f"the key {field_!r} of "
                                   f"'{param}'", why="a record's keys must be identifiers")
            while flat_name in taken:
                flat_name += "_"
            taken.add(flat_name)
            flat.append(flat_name)
        found.append(Record(param, tuple(names), keys.pop(), tuple(flat)))
    return found


def refuse_second_derivatives(parsed: ParsedFunction) -> None:
    """A Hessian along or beside a record is not made yet: say so where it is asked for."""
    records = records_of(parsed)
    if records:
        raise parsed.error(
            errors.Unsupported, parsed.tree, construct=f"a second derivative of a function "
            f"of a record ('{records[0].param}' read field by field)",
            why="pass the fields as arguments of their own")


def _with_defaults(fn: gast.FunctionDef) -> set[str]:
    positional = [*fn.args.posonlyargs, *fn.args.args]
    with_default = positional[len(positional) - len(fn.args.defaults):]
    keywords = [p for p, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults) if d is not None]
    return {p.id for p in [*with_default, *keywords]}


def _fields_read(parsed: ParsedFunction, param: str,
                 visiting: frozenset) -> list[tuple[str, bool]] | None:
    """The fields ``param`` is read by (in order of first reading, with whether by key), here
    or in the user's functions it is passed on to (``model(params, X)``, which reads
    ``params.W``), or None where it is used any other way or never read by field. The uses
    here are looked at first, so that a parameter used whole parses no callee."""
    fn = parsed.tree
    parents = {id(child): node for node in walk(fn) for child in gast.iter_child_nodes(node)}
    uses = [n for n in walk(fn) if isinstance(n, gast.Name) and n.id == param
            and not isinstance(n.ctx, gast.Param)]
    reads: list[tuple[str, bool] | tuple[str, int]] = []  # a field, or (callee, position)
    for node in sorted(uses, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0))):
        parent = parents.get(id(node))
        read = _passed_to(parsed, parent, node, visiting) or _field(parent, node)
        called = parents.get(id(parent))
        if read is None or (isinstance(called, gast.Call) and called.func is parent):
            return None  # used whole, or a method called on it (self.position(t))
        reads.append(read)
    fields: list[tuple[str, bool]] = []
    for read in reads:
        if isinstance(read[1], int) and not isinstance(read[1], bool):
            callee = parsed.callee(read[0])
            inner = records_of(callee, (), visiting) if callee is not None else []
            record = next((r for r in inner if r.param == _param_at(callee, read[1])), None)
            if record is None:
                return None
            read = [(f, record.by_key) for f in record.fields]
        else:
            read = [read]
        fields += [f for f in read if f not in fields]
    return fields or None


def _passed_to(parsed: ParsedFunction, parent: gast.AST | None, node: gast.Name,
               visiting: frozenset) -> tuple[str, int] | None:
    """The user's function ``node`` is passed to as a positional argument (its qualified
    name), and where."""
    if not isinstance(parent, gast.Call) or not any(a is node for a in parent.args):
        return None
    qualname = getattr(parent, "qualname", None) or ""
    module, _, called = qualname.rpartition(".")
    if module != parsed.module_name or called not in parsed.functions or called in visiting:
        return None
    return qualname, [i for i, a in enumerate(parent.args) if a is node][0]


def _param_at(parsed: ParsedFunction, position: int) -> str | None:
    positional = [*parsed.tree.args.posonlyargs, *parsed.tree.args.args]
    return positional[position].id if position < len(positional) else None


def _field(parent: gast.AST | None, node: gast.Name) -> tuple[str, bool] | None:
    if isinstance(parent, gast.Attribute) and parent.value is node \
            and isinstance(parent.ctx, gast.Load) and parent.attr not in NOT_FIELDS:
        return parent.attr, False
    if isinstance(parent, gast.Subscript) and parent.value is node \
            and isinstance(parent.ctx, gast.Load) and isinstance(parent.slice, gast.Constant) \
            and isinstance(parent.slice.value, str):
        return parent.slice.value, True
    return None


def flattened(parsed: ParsedFunction, records: list[Record],
              made: dict[str, gast.FunctionDef] | None = None) -> ParsedFunction:
    """``parsed`` named ``<name>_fields``, with a parameter per field in place of each record;
    a call passing a record on calls the callee's own ``<callee>_fields``, added to ``made``
    (``parsed.functions``, which its callees share)."""
    made = parsed.functions if made is None else made
    tree = copy.deepcopy(parsed.tree)
    by_param = {r.param: r for r in records}

    class Flatten(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            passed = [a for a in node.args if isinstance(a, gast.Name) and a.id in by_param]
            if not passed:
                return node
            callee = parsed.callee(node.qualname)
            inner = records_of(callee)
            flat = f"{callee.name}_fields"
            if flat not in made:
                made[flat] = flattened(callee, inner, made).tree
            node.args = [a for i, arg in enumerate(node.args) for a in _passed_fields(
                arg, _param_at(callee, i), inner, by_param, parsed)]
            node.func = gast.copy_location(name(flat), node.func)
            node.qualname = f"{parsed.module_name}.{flat}"
            return node

        def visit_Attribute(self, node):
            return self.field(node, node.attr) or self.generic_visit(node)

        def visit_Subscript(self, node):
            key = node.slice.value if isinstance(node.slice, gast.Constant) else None
            return self.field(node, key) or self.generic_visit(node)

        def field(self, node, key):
            record = by_param.get(getattr(node.value, "id", None))
            if record is None or key not in record.fields:
                return None
            return gast.copy_location(name(record.flat[record.fields.index(key)]), node)

    tree.body = [Flatten().visit(stmt) for stmt in tree.body]
    tree.args = _flat_args(tree.args, by_param)
    tree.name = f"{parsed.name}_fields"
    kinds = {k: v for k, v in parsed.arg_kinds.items() if k not in by_param}
    for record in records:
        for field_, flat in zip(record.fields, record.flat):
            kind = parsed.arg_kinds.get(f"{record.param}.{field_}")
            if kind is not None:
                kinds[flat] = kind
    return dataclasses.replace(parsed, tree=tree, arg_kinds=kinds)


def _passed_fields(arg: gast.expr, param: str | None, inner: list[Record],
                   outer: dict[str, Record], parsed: ParsedFunction) -> list[gast.expr]:
    """What a call passes for the callee's parameter ``param``: the fields of a record the
    callee reads (the caller's own field parameters, or reads of a name's fields), else
    ``arg`` itself."""
    record = next((r for r in inner if r.param == param), None)
    if record is None:
        return [arg]
    if isinstance(arg, gast.Name) and arg.id in outer:
        mine = outer[arg.id]
        return [name(mine.flat[mine.fields.index(f)]) for f in record.fields]
    if not isinstance(arg, gast.Name):
        raise parsed.error(errors.Unsupported, arg, construct="a record made in the call of "
                           "a function that reads it field by field", why="bind it to a name "
                           "first")
    reading = dataclasses.replace(record, param=arg.id)
    return [reading.read(i) for i in range(len(record.fields))]


def _flat_args(args: gast.arguments, by_param: dict[str, Record]) -> gast.arguments:
    def expand(params: list[gast.Name]) -> list[gast.Name]:
        out = []
        for p in params:
            record = by_param.get(p.id)
            out += [gast.Name(id=f, ctx=gast.Param(), annotation=None, type_comment=None)
                    for f in record.flat] if record else [p]
        return out

    keywords = expand(args.kwonlyargs)
    defaults = dict(zip([p.id for p in args.kwonlyargs], args.kw_defaults))
    return gast.arguments(
        args=expand(args.args), posonlyargs=expand(args.posonlyargs), vararg=args.vararg,
        kwonlyargs=keywords, kw_defaults=[defaults.get(p.id) for p in keywords],
        kwarg=args.kwarg, defaults=args.defaults)


def flat_wrt(records: list[Record], wrt: list[str]) -> list[str]:
    """``wrt`` with each record replaced by its fields' parameters, and each field asked for
    (``params.omega``) by its own."""
    by_param = {r.param: r for r in records}
    flat = []
    for w in wrt:
        base, _, field_ = w.partition(".")
        record = by_param[base] if base in by_param else None
        if record is None:
            flat.append(w)
        elif field_:
            flat.append(record.flat[record.fields.index(field_)])
        else:
            flat += record.flat
    return flat


def unpacked(records: list[Record], wrt: list[str], flat: gast.Tuple, several: bool
             ) -> gast.expr:
    """The gradient along ``wrt`` from ``flat``, the tuple of gradients along the flattened
    ``wrt``: each record's fields packed back into one of its type."""
    parts: list[gast.expr] = []
    elts = list(flat.elts)
    by_param = {r.param: r for r in records}
    for w in wrt:
        record = by_param.get(w)
        if record is None:  # an argument, or a field asked for by name
            parts.append(elts.pop(0))
            continue
        values = [elts.pop(0) for _ in record.fields]
        mapping = gast.Dict(keys=[gast.Constant(value=f, kind=None) for f in record.fields],
                            values=values)
        like = gast.Call(func=name("_like_record"), args=[name(record.param), mapping],
                         keywords=[])
        parts.append(like)
    return gast.Tuple(elts=parts, ctx=gast.Load()) if several else parts[0]
