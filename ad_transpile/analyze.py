"""Analyze pass: which variables are active, that is depend on ``wrt`` and reach the result.

Only active variables get a tangent or an adjoint. In ``y = x * c; n = round(x); return y + n``
with ``wrt=x``, ``y`` is active; ``n`` is not (``round`` carries no derivative), nor is ``c``.
The analysis looks at every assignment regardless of where it stands, so a variable is active
if any of its assignments is: safe for branches and loops alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import gast

from ad_transpile import errors, runtime
from ad_transpile.calls import Calls, assigned_names
from ad_transpile.infer import Kinds
from ad_transpile.list_rules import ARRAYS, ListStatements
from ad_transpile.normalize import scatter_parts
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import GETITEM, operands, primitive
from ad_transpile.registry import Registry
from ad_transpile.trees import walk
from ad_transpile.writes import is_write


@dataclass
class Activity:
    varied: set[str]
    useful: set[str]
    saved: dict[str, set[str]] = field(default_factory=dict)  # save/restore list -> its names
    # the value model's answer (infer.py); until it is given, nothing is known
    kinds: Kinds = field(default_factory=lambda: Kinds({}, complete=False))

    def carries_list(self, owner: str) -> bool:
        """Whether a list holds values with derivatives (and so needs a tangent list)."""
        if owner in self.saved:
            return bool(self.saved[owner] & self.active)
        return owner in self.active

    @cached_property
    def active(self) -> set[str]:
        """Once: the passes ask for every statement (``varied`` and ``useful`` are final)."""
        return self.varied & self.useful

    @property
    def arrays(self) -> bool:
        """Whether a value with a derivative may be an array (else: scalar code)."""
        return self.kinds.any_array(self.varied)

    def is_active(self, expr: gast.expr) -> bool:
        return isinstance(expr, gast.Name) and expr.id in self.active


def analyze(
    fn: gast.FunctionDef, wrt: list[str], registry: Registry, parsed: ParsedFunction,
    calls: Calls | None = None,
) -> Activity:
    """Find the active variables of a normalized function, checking every active call has a rule."""
    assigns = [s for s in walk(fn) if isinstance(s, gast.Assign) and not is_write(s)]
    saved = save_restore_lists(fn)
    appends = [  # saved.append(v): the list holds v (unless it only saves and restores)
        (s.value.func.value.id, reads(s.value.args[0]))
        for s in walk(fn) if isinstance(s, gast.Expr) and is_list_call(s.value, "append")
        and s.value.func.value.id not in saved
    ]
    lists = ListStatements(fn, set(saved))
    appends += [(lists.owner(s), {n for v in lists.values(s) for n in reads(v)})
                for s in walk(fn) if lists.kind(s) in ("insert", "write")]
    assigns = [s for s in assigns
               if not (is_list_call(s.value, "pop") and s.value.func.value.id in saved)]
    loop_items = [  # for x in xs: x holds items of xs (a range's items are counts)
        (target, reads(loop.iter))
        for loop in walk(fn) if isinstance(loop, gast.For) and not _counts(loop.iter)
        for target in reads(loop.target)
    ]
    flows = [(t, reads(s.value)) for s in assigns if _carries(s.value, registry)
             for t in assigned_names(s)]
    scatters = [(owner, reads(value)) for owner, _, value in
                filter(None, (scatter_parts(s) for s in walk(fn)))]  # np.add.at
    scatters += [(s.targets[0].value.id, reads(s.value))  # y[i] = v: y holds v
                 for s in walk(fn) if is_write(s)]
    varied = _closure(set(wrt), flows + loop_items + appends + scatters)
    useful = _closure(
        {n for s in walk(fn) if isinstance(s, gast.Return) for n in reads(s.value)},
        [(n, set(assigned_names(s))) for s in assigns for n in reads(s.value)]
        + [(n, {target}) for target, sources in loop_items + appends + scatters
           for n in sources],
    )
    activity = Activity(varied, useful, saved)
    for loop in (s for s in walk(fn) if isinstance(s, gast.For)):
        if reads(loop.iter) & activity.active:
            raise parsed.error(
                errors.Unsupported, loop.iter, construct="looping over a value that depends on wrt",
                why="differentiating through the elements of a list is not supported yet",
            )
    for stmt in assigns:
        if isinstance(stmt.targets[0], gast.Tuple) and not (
            calls and calls.callee(primitive(stmt.value) or "")
        ) and not is_list_call(stmt.value, "pop"):
            raise parsed.error(
                errors.Unsupported, stmt, construct="unpacking the result of this call",
                why="only your own functions may return several values",
            )
        if set(assigned_names(stmt)) & activity.active and not lists.kind(stmt):
            _check_rule(stmt.value, registry, parsed, calls, activity)
    _check_wrt_is_not_only_a_bound(fn, wrt, activity, assigns, parsed)
    return activity


STRUCTURAL = ("builtins.list", "builtins.zip", "builtins.enumerate", "builtins.reversed",
              "builtins.tuple")


def is_number(expr: gast.expr, known: set[str]) -> bool:
    """A literal number or a variable known to hold one."""
    return (isinstance(expr, gast.Constant) and isinstance(expr.value, (int, float))) or (
        isinstance(expr, gast.UnaryOp) and is_number(expr.operand, known)) or (
        isinstance(expr, gast.Name) and expr.id in known)


def is_unbroadcast(expr: gast.expr) -> bool:
    """A call of the broadcast-reduction helper that reverse mode writes into its files."""
    return (getattr(expr, "qualname", None) or "").rpartition(".")[2] == "_unbroadcast"


def is_list_call(expr: gast.expr, method: str) -> bool:
    return getattr(expr, "qualname", None) == f"<list>.{method}"


def active_lists(fn: gast.FunctionDef, activity: Activity) -> list[gast.stmt]:
    """The ``saved.append(v)`` statements that save values depending on ``wrt``."""
    return [s for s in walk(fn) if isinstance(s, gast.Expr)
            and is_list_call(s.value, "append") and s.value.func.value.id in activity.saved
            and activity.carries_list(s.value.func.value.id)]


def save_restore_lists(fn: gast.FunctionDef) -> dict[str, set[str]]:
    """Lists used only to save variables and restore the same ones, as reverse mode does.

    ``saved.append((a, b))`` ... ``a, b = saved.pop()`` gives ``a`` and ``b`` back their own
    values: no value flows between variables through such a list.
    """
    pushed: dict[str, set[tuple[str, ...]]] = {}
    popped: dict[str, set[tuple[str, ...]]] = {}
    for node in walk(fn):
        if isinstance(node, gast.Expr) and is_list_call(node.value, "append"):
            value = node.value.args[0]
            elts = value.elts if isinstance(value, gast.Tuple) else [value]
            key = tuple(getattr(e, "id", "") for e in elts)
            pushed.setdefault(node.value.func.value.id, set()).add(key)
        elif isinstance(node, gast.Assign) and is_list_call(node.value, "pop"):
            popped.setdefault(node.value.func.value.id, set()).add(tuple(assigned_names(node)))
    receivers = {id(n.func.value) for n in walk(fn)
                 if is_list_call(n, "append") or is_list_call(n, "pop")}
    read_otherwise = {n.id for n in walk(fn) if isinstance(n, gast.Name)
                      and isinstance(n.ctx, gast.Load) and id(n) not in receivers}

    def restores(push: tuple[str, ...], pop: tuple[str, ...]) -> bool:
        # a pushed constant (which branch ran) is popped into the branch's test variable
        return len(push) == len(pop) and all(p in ("", q) for p, q in zip(push, pop))

    return {
        owner: {n for key in keys | popped.get(owner, set()) for n in key if n}
        for owner, keys in pushed.items()
        if owner not in read_otherwise  # a list read in any other way carries its values
        and owner in popped  # a list only appended to is the function's own, unused
        and all(any(restores(p, q) for p in keys) for q in popped.get(owner, set()))
    }


def reads(expr: gast.AST) -> set[str]:
    return {n.id for n in walk(expr) if isinstance(n, gast.Name)}


def _counts(iterable: gast.expr) -> bool:
    """A range, or a range reversed: its items are counts. (In ``zip(range(n), xs)`` the
    items of ``xs`` come along: the loop's variables hold them.)"""
    if getattr(iterable, "qualname", None) == "builtins.reversed" and iterable.args:
        iterable = iterable.args[0]
    return getattr(iterable, "qualname", None) == "builtins.range"


def _closure(start: set[str], edges: list[tuple[str, set[str]]]) -> set[str]:
    """Every name reached from ``start``: ``(target, sources)`` adds target once a source is in."""
    targets: dict[str, list[str]] = {}  # a source -> the targets it reaches
    for target, sources in edges:
        for source in sources:
            targets.setdefault(source, []).append(target)
    found = set(start)
    work = list(found)
    while work:
        for target in targets.get(work.pop(), ()):
            if target not in found:
                found.add(target)
                work.append(target)
    return found


def _carries(value: gast.expr, registry: Registry) -> bool:
    if getattr(value, "no_gradient", False):
        return False
    name = primitive(value)
    return name is None or name not in registry.nondifferentiable


def _check_wrt_is_not_only_a_bound(fn, wrt, activity, assigns, parsed) -> None:
    """A parameter that only counts loop iterations has no derivative: say so, not 0.0."""
    bounds = set()
    for node in walk(fn):
        if isinstance(node, gast.Call) and getattr(node, "qualname", None) == "builtins.range":
            bounds |= _read_not_as_length(node)
        elif isinstance(node, gast.While):
            bounds |= _read_not_as_length(node.test)
    sources = _closure(bounds, [(n, set(assigned_names(s))) for s in assigns
                                for n in _read_not_as_length(s.value)])
    for w in wrt:
        other_uses = [s for s in assigns if w in reads(s.value)
                      and not set(assigned_names(s)) <= sources]
        if w in sources and w not in activity.active and not other_uses:
            raise parsed.error(
                errors.BadWrt, fn, wrt=w,
                why="it is only used as a loop bound or to count iterations, "
                "which carries no derivative",
            )


def _read_not_as_length(expr: gast.expr) -> set[str]:
    """The names ``expr`` reads but in ``len(...)``: a list's length is a count whatever
    values it holds (``n = len(items)`` bounds a loop, the items do not)."""
    lengths = {id(n) for call in walk(expr) if isinstance(call, gast.Call)
               and getattr(call, "qualname", None) == "builtins.len" for n in walk(call)}
    return {n.id for n in walk(expr) if isinstance(n, gast.Name) and id(n) not in lengths}


def _by_name(value: gast.expr, rule) -> list[tuple[str | None, gast.expr]]:
    """The call's arguments with the names its rule gives them (None where it has no rule)."""
    args = operands(value)
    params = list(rule.params[:len(args)]) if rule else [None] * len(args)
    keywords = getattr(value, "keywords", [])
    return [*zip(params, args), *[(k.arg, k.value) for k in keywords]]


def _of_module(expr: gast.expr, parsed: ParsedFunction) -> bool:
    """``np.r_``: an attribute of an imported module (indexing it builds an array)."""
    if not isinstance(expr, gast.Attribute):
        return False
    while isinstance(expr, gast.Attribute):
        expr = expr.value
    return isinstance(expr, gast.Name) and expr.id in parsed.imports


def _spelled(expr: gast.expr) -> str:
    if isinstance(expr, gast.Attribute):
        return f"{_spelled(expr.value)}.{expr.attr}"
    return getattr(expr, "id", "this value")


def _check_structural(value: gast.expr, rule, shown: str, parsed: ParsedFunction,
                      is_active) -> None:
    """Refuse what a structural rule would silently give no derivative for: a value that
    depends on wrt in an argument the rule has no template for (``np.einsum(x, (0, 1))`` puts
    ``x`` where the subscripts go), or inside a nested sequence the rule does not read.
    A runtime helper's argument without a template only gives a shape, and is not refused."""
    if rule.primitive.startswith("ad_transpile.runtime."):
        return
    for param, arg in _by_name(value, rule):
        index = rule.params.index(param) if param in rule.params else None
        if index is None or not any(is_active(n) for n in walk(arg)):
            continue
        nested = isinstance(arg, (gast.List, gast.Tuple)) and any(
            isinstance(e, (gast.List, gast.Tuple)) and any(is_active(n) for n in walk(e))
            for e in arg.elts)
        if not rule.differentiable(index) or (nested and not rule.nests(index)):
            raise parsed.error(
                errors.Unsupported, arg, construct=f"a value that depends on wrt as the "
                f"argument '{param}' of '{shown}'" + (" (in a nested sequence)" if nested
                                                      else ""),
                why="its derivative rule gives no derivative along it")
        if isinstance(arg, gast.Name) and rule.joins(index) and not rule.nests(index) \
                and rule.primitive not in ARRAYS:
            # its adjoint gives each array its piece by its place in a written-out sequence
            raise parsed.error(
                errors.Unsupported, arg, construct=f"the arrays '{arg.id}' held in one name, "
                f"passed to '{shown}'", why=f"write them out: {shown}([a, b, ...])")


def _check_options(value: gast.expr, rule, shown: str, parsed: ParsedFunction) -> None:
    """Refuse, before any code is written, a literal option the rule's own check would refuse
    when the derivative runs (``np.pad(x, 1, mode="maximum")``: ``_linear_pad``)."""
    given = {param: arg for param, arg in _by_name(value, rule)}
    for check, options in rule.checked_options(runtime.OPTION_CHECKS):
        args = [given.get(o, rule.defaults[o]) for o in options]
        if not all(isinstance(a, gast.Constant) for a in args):
            continue  # known when it runs: the check runs there
        try:
            runtime.OPTION_CHECKS[check](*(a.value for a in args))
        except ValueError as refusal:
            shown_options = ", ".join(f"{o}={a.value!r}" for o, a in zip(options, args))
            raise parsed.error(errors.Unsupported, value, why=str(refusal),
                               construct=f"the option {shown_options} of '{shown}'") from None


def _keyed_by_text(index: gast.expr) -> bool:
    """``params["omega"]``: an index no array or list takes, so the value is a mapping."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return any(isinstance(p, gast.Constant) and isinstance(p.value, (str, bytes)) for p in parts)


def _check_rule(value: gast.expr, registry: Registry, parsed: ParsedFunction,
                calls: Calls | None, activity: Activity) -> None:
    def is_active(node: gast.AST) -> bool:
        return isinstance(node, gast.Name) and node.id in activity.active

    name = primitive(value)
    if name is None:
        return
    if calls is not None and calls.callee(name) is not None:
        return
    if name == GETITEM and _of_module(value.value, parsed):  # np.r_[x, y]
        raise parsed.error(
            errors.Unsupported, value.value, construct=f"indexing '"
            f"{_spelled(value.value)}' with values that depend on wrt",
            why="it has no derivative rule; join arrays with np.concatenate instead")
    if name == GETITEM and is_active(value.value) and _keyed_by_text(value.slice):
        raise parsed.error(
            errors.Unsupported, value.value, construct=f"indexing '{_spelled(value.value)}' "
            "with a string key",
            why="a dict along wrt is differentiated where the function only reads it by "
            "constant keys (params['omega']); here it is also used whole")
    if name.startswith("<list>.") or is_unbroadcast(value) or name == GETITEM:
        return
    if name in registry.nondifferentiable:  # an array made to be added into: zero derivative
        return
    keywords = getattr(value, "keywords", [])
    arity = len(operands(value)) + len(keywords)
    rule = registry.lookup(name, arity)
    for param, arg in _by_name(value, rule):
        index = rule.params.index(param) if rule and param in rule.params else None
        needed = index is not None and rule.differentiable(index) and not (
            rule.structural and rule.joins(index))  # np.stack([a, b]) joins, a shape does not
        if needed and isinstance(arg, (gast.Tuple, gast.List)) and any(
                is_active(n) for n in walk(arg)):
            raise parsed.error(
                errors.Unsupported, arg, construct="a tuple or list of values that depend on "
                "wrt, passed to a function", why="its elements' derivatives would be lost; "
                "combine arrays with arithmetic instead (or declare a rule)",
            )
    if name in STRUCTURAL:
        raise parsed.error(
            errors.Unsupported, value, construct=f"'{name.removeprefix('builtins.')}' of values "
            "that depend on wrt", why="lists of such values are not supported yet",
        )
    shown = name.removeprefix("builtins.")
    if rule is not None and rule.structural:
        _check_structural(value, rule, shown, parsed, is_active)
        ignored = rule.ignored_options([param for param, _ in _by_name(value, rule)])
        if ignored:
            raise parsed.error(
                errors.Unsupported, value, construct=f"the option '{ignored[0]}' of '{shown}'",
                why="its derivative rule is written without it",
            )
        _check_options(value, rule, shown, parsed)
    if rule is not None:
        unknown = [k.arg for k in keywords if k.arg not in rule.params]
        if unknown:
            raise parsed.error(
                errors.Unsupported, value, construct=f"the keyword '{unknown[0]}' of '{shown}'",
                why=f"its derivative rule names the arguments ({', '.join(rule.params)})",
            )
        return
    if registry.knows(name):
        raise parsed.error(
            errors.Unsupported, value, construct=f"calling '{shown}' with {arity} argument(s)",
            why="its derivative rule takes a different number of arguments",
        )
    raise parsed.error(errors.NoRule, value, name=shown)
