"""Refuse an augmented assignment that NumPy would run in place on an object another name holds.

``total += v`` rebinds a number but adds into an array (or extends a list) in place: after
``total = x``, NumPy changes ``x`` too, and on an argument it changes the caller's array. The
derivative code writes ``total = total + v`` and cannot follow that, so such an update is
refused unless the target surely holds a number or a fresh object of its own::

    def f(x):                 example.py:3:5: 'total += ...' is not supported: 'total' may be
        total = x             the array 'x' holds (line 2), which NumPy would change in place
        total += x            too; write total = total + ..., or copy it (total = x.copy())
        return np.sum(total)
"""

from __future__ import annotations

import gast

from ad_transpile import errors
from ad_transpile.parse import is_number_constant
from ad_transpile.trees import walk

NUMBER_ANNOTATIONS = {"float", "int", "bool"}
NUMBER_CALLS = {"builtins.float", "builtins.int", "builtins.len", "builtins.round",
                "builtins.bool", "math.fsum"}
REDUCTIONS = {"numpy.sum", "numpy.mean", "numpy.prod", "numpy.max", "numpy.min", "numpy.std",
              "numpy.var", "numpy.linalg.norm", "numpy.trace"}
VIEWS = {  # NumPy calls whose result may be (a view of) their argument
    "numpy.reshape", "numpy.ravel", "numpy.transpose", "numpy.squeeze", "numpy.asarray",
    "numpy.asanyarray", "numpy.atleast_1d", "numpy.atleast_2d", "numpy.atleast_3d",
    "numpy.broadcast_to", "numpy.expand_dims", "numpy.diagonal", "numpy.moveaxis",
    "numpy.swapaxes", "numpy.real", "numpy.imag", "numpy.asfarray", "numpy.require",
    "numpy.flip", "numpy.fliplr", "numpy.flipud", "numpy.rot90", "numpy.diag",
    "numpy.rollaxis", "numpy.permute_dims", "numpy.matrix_transpose",
}
VIEW_METHODS = {"reshape", "ravel", "transpose", "squeeze", "diagonal", "view", "swapaxes"}
SHARING_BUILTINS = {"builtins.max", "builtins.min", "builtins.next", "builtins.iter",
                    "builtins.getattr"}
LIST_USES = {"builtins.len", "builtins.sum", "builtins.zip", "builtins.enumerate",  # not range
             "builtins.list", "builtins.sorted", "builtins.reversed", "builtins.min",
             "builtins.max", "math.fsum"}


def refuse_shared_updates(parsed, fn: gast.FunctionDef) -> None:
    """Refuse ``t op= v`` where ``t`` may be an array or list that another name also holds."""
    params = [p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    bindings = _bindings(fn, params)
    numbers = _numbers(fn, parsed, params, bindings)
    for node in walk(fn):
        if not (isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name)):
            continue
        target = node.target.id
        if target in numbers:
            continue
        op = _OPERATORS.get(type(node.op), "op")
        shown = f"'{target} {op}= ...'"
        if target in params and None in bindings[target]:
            raise parsed.error(
                errors.Unsupported, node, construct=f"{shown} on the argument '{target}'",
                why="if it is an array, NumPy changes the caller's array in place, which the "
                f"derivative cannot follow; write {target} = {target} {op} ... (or annotate "
                f"'{target}: float' if it is a number)",
            )
        if None in bindings[target]:  # unpacked from a call, or an item of a loop
            raise parsed.error(
                errors.Unsupported, node, construct=shown,
                why=f"'{target}' may hold an array another name holds too (it is unpacked "
                "or looped over), which NumPy would change in place; write "
                f"{target} = {target} {op} ...",
            )
        shared = [b for b in bindings[target] if b is not None and not _fresh(b, parsed)]
        if shared:
            raise parsed.error(
                errors.Unsupported, node, construct=shown,
                why=f"'{target}' may hold the array or list that '{_source(shared[0])}' holds "
                f"(line {shared[0].lineno}), which NumPy would change in place too; write "
                f"{target} = {target} {op} ..., or copy it first ({target} = "
                f"{_source(shared[0])}.copy())",
            )
        viewers = [name for name, values in bindings.items()
                   if name != target and name not in numbers and any(
                       v is not None and not _fresh(v, parsed) and _reads(v, target)
                       for v in values)]
        if viewers:  # v = t[::-1]; t -= e changes v too
            raise parsed.error(
                errors.Unsupported, node, construct=shown,
                why=f"'{viewers[0]}' may hold '{target}' or a view of it, which NumPy would "
                f"change in place too; write {target} = {target} {op} ..., or make "
                f"'{viewers[0]}' a copy (.copy())",
            )


_OPERATORS = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.Pow: "**",
              gast.FloorDiv: "//", gast.Mod: "%", gast.MatMult: "@", gast.BitOr: "|",
              gast.BitAnd: "&", gast.BitXor: "^", gast.LShift: "<<", gast.RShift: ">>"}


def _reads(expr: gast.expr, name: str) -> bool:
    return any(isinstance(n, gast.Name) and n.id == name for n in walk(expr))


def _source(expr: gast.expr) -> str:
    if isinstance(expr, gast.Name):
        return expr.id
    if isinstance(expr, gast.Attribute):
        return f"{_source(expr.value)}.{expr.attr}"
    return "it"


def _bindings(fn: gast.FunctionDef, params: list[str]) -> dict[str, list]:
    """Every value each name is bound to (None: the caller's object, or an unknown one)."""
    found: dict[str, list] = {p: [None] for p in params}

    def bind(target: gast.expr, value: gast.expr | None) -> None:
        if isinstance(target, gast.Name):
            found.setdefault(target.id, []).append(value)
        elif isinstance(target, (gast.Tuple, gast.List)):
            same = isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(
                target.elts)
            for i, element in enumerate(target.elts):
                bind(element, value.elts[i] if same else None)

    for node in walk(fn):
        if isinstance(node, gast.Assign):
            for target in node.targets:
                bind(target, node.value)
        elif isinstance(node, (gast.AnnAssign, gast.NamedExpr)) and node.value is not None:
            bind(node.target, node.value)
        elif isinstance(node, (gast.For, gast.comprehension)):
            counts = isinstance(node.iter, gast.Call) and getattr(
                node.iter, "qualname", None) == "builtins.range"
            bind(node.target, gast.Constant(value=0, kind=None) if counts else None)
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            # t += v: a new value if t is a number (a number if v is one), else t itself
            found.setdefault(node.target.id, []).append(gast.BinOp(
                left=gast.Constant(value=0, kind=None), op=node.op, right=node.value))
    return found


def _fresh(expr: gast.expr, parsed) -> bool:
    """Whether ``expr`` surely makes a new object (or a number), shared with no other name."""
    if isinstance(expr, (gast.Constant, gast.BinOp, gast.UnaryOp, gast.Compare, gast.List,
                         gast.Tuple, gast.Dict, gast.Set, gast.ListComp, gast.DictComp,
                         gast.SetComp, gast.JoinedStr)):
        return True
    if isinstance(expr, gast.IfExp):
        return _fresh(expr.body, parsed) and _fresh(expr.orelse, parsed)
    if isinstance(expr, gast.Call):
        qualname = getattr(expr, "qualname", None)
        if qualname is None:  # a method: x.copy() is new, x.reshape(...) a view
            return isinstance(expr.func, gast.Attribute) and expr.func.attr not in VIEW_METHODS \
                and parsed.qualify(expr.func.value) is None and expr.func.attr in FRESH_METHODS
        namespace = qualname.split(".")[0]
        return (namespace in ("numpy", "math") and qualname not in VIEWS) or (
            namespace == "builtins" and qualname not in SHARING_BUILTINS)
    return False  # a name, an item or a slice (a view), an attribute, a user function's result


FRESH_METHODS = {"copy", "sum", "mean", "prod", "max", "min", "std", "var", "dot", "flatten",
                 "clip", "cumsum", "cumprod", "trace", "astype", "argmax", "argmin", "argsort",
                 "any", "all", "tolist"}

ARRAY_ATTRIBUTES = FRESH_METHODS | VIEW_METHODS | {"T", "shape", "ndim", "size", "dtype"}


def _numbers(fn: gast.FunctionDef, parsed, params: list[str], bindings: dict) -> set[str]:
    """Names that surely hold numbers (immutable, so ``+=`` rebinds them).

    In code that uses no arrays, every name but those that may hold lists; in NumPy code,
    parameters annotated as numbers and what is computed from numbers only.
    """
    if not _uses_arrays(fn, parsed):
        return set(bindings) - _lists(bindings, _used_as_lists(fn))
    numbers = {p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
               if isinstance(p.annotation, gast.Name) and p.annotation.id in NUMBER_ANNOTATIONS}
    changed = True
    while changed:
        changed = False
        for name, values in bindings.items():
            if name in numbers or None in values:  # the caller's object, or unknown
                continue
            if all(_number(v, numbers, parsed) for v in values):
                numbers.add(name)
                changed = True
    return numbers


def _lists(bindings: dict, seeds: set[str]) -> set[str]:
    """Names that may hold a list: bound to a list display, ``list(...)``, or such a name."""
    lists = set(seeds)
    changed = True
    while changed:
        changed = False
        for name, values in bindings.items():
            if name not in lists and any(_list_like(v, lists) for v in values if v is not None):
                lists.add(name)
                changed = True
    return lists


def _list_like(expr: gast.expr, lists: set[str]) -> bool:
    if isinstance(expr, (gast.List, gast.ListComp)):
        return True
    if isinstance(expr, gast.Call):
        return getattr(expr, "qualname", None) in ("builtins.list", "builtins.sorted")
    if isinstance(expr, gast.BinOp):  # t += [v] extends in place
        return _list_like(expr.right, lists) or _list_like(expr.left, lists)
    return isinstance(expr, gast.Name) and expr.id in lists  # not xs[i], saved.pop(): items


def _number(expr: gast.expr, numbers: set[str], parsed) -> bool:
    if isinstance(expr, gast.Constant):
        return isinstance(expr.value, (int, float, complex))
    if isinstance(expr, gast.Name):
        return expr.id in numbers or is_number_constant(parsed.constants, expr.id)
    if isinstance(expr, gast.UnaryOp):
        return _number(expr.operand, numbers, parsed)
    if isinstance(expr, gast.BinOp):
        return _number(expr.left, numbers, parsed) and _number(expr.right, numbers, parsed)
    if isinstance(expr, gast.IfExp):
        return _number(expr.body, numbers, parsed) and _number(expr.orelse, numbers, parsed)
    if isinstance(expr, gast.Call):
        qualname = getattr(expr, "qualname", None) or ""
        whole = len(expr.args) == 1 and not expr.keywords  # np.sum(x): no axis, one number
        return qualname in NUMBER_CALLS or qualname.startswith("math.") or (
            qualname in REDUCTIONS and whole)
    return False


def _uses_arrays(fn: gast.FunctionDef, parsed) -> bool:
    """NumPy code: a NumPy name, ``@``, an array's method or attribute (values may be arrays;
    indexing alone may be of a list)."""
    for node in walk(fn):
        if isinstance(node, gast.MatMult):
            return True
        if isinstance(node, (gast.Name, gast.Attribute)) and isinstance(
                getattr(node, "ctx", None), gast.Load):
            if (parsed.qualify(node) or "").split(".")[0] == "numpy":
                return True
        if isinstance(node, gast.Attribute) and node.attr in ARRAY_ATTRIBUTES \
                and parsed.qualify(node.value) is None:  # x.sum(), x.T; not saved.pop()
            return True
    return False


def _used_as_lists(fn: gast.FunctionDef) -> set[str]:
    """Names looped over, indexed, or passed to ``len``, ``sum``, ``zip`` and the like."""
    used = set()
    for node in walk(fn):
        if isinstance(node, (gast.For, gast.comprehension)) and isinstance(node.iter, gast.Name):
            used.add(node.iter.id)
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name):
            used.add(node.value.id)
        if isinstance(node, gast.Call) and getattr(node, "qualname", None) in LIST_USES:
            used |= {a.id for a in node.args if isinstance(a, gast.Name)}
        if isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name) \
                and isinstance(node.value, (gast.List, gast.Tuple, gast.ListComp)):
            used.add(node.target.id)
    return used
