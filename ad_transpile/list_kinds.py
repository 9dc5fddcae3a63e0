"""Which variables hold Python lists, and the core list forms written as trees.

The value model (infer.py) will replace ``list_names``: until then a list is known by how it is
made (a literal, a comprehension, ``list(...)``, ``sorted(...)``, a slice or copy of a list,
``a + b`` or ``[0.0] * n`` of lists, a row of a list of lists) or by a ``list`` annotation.
"""

from __future__ import annotations

import gast

from ad_transpile.primitives import name
from ad_transpile.trees import walk

MUTATORS = ("append", "insert", "pop", "extend")
UNSUPPORTED_METHODS = ("remove", "clear", "sort", "reverse", "index", "count")
EXTREMES = ("builtins.max", "builtins.min")


def list_names(fn: gast.FunctionDef, params: set[str] = frozenset()) -> set[str]:
    """Variables that hold a Python list, decided from how each is made: a list literal, a
    comprehension, ``list(...)``, ``sorted(...)``, a slice or copy of a list, ``a + b`` of
    lists, or a parameter annotated ``list``. A name assigned anything else somewhere is not
    one. The value model (infer.py) will replace this function."""
    assigns = [s for s in walk(fn) if isinstance(s, (gast.Assign, gast.AnnAssign))
               and s.value is not None]
    by_name: dict[str, list[gast.expr]] = {}
    others: set[str] = set()
    for stmt in assigns:
        targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
        for target in targets:
            if isinstance(target, gast.Name):
                by_name.setdefault(target.id, []).append(stmt.value)
            else:
                others |= {n.id for n in walk(target) if isinstance(n, gast.Name)
                           and isinstance(n.ctx, gast.Store)}
    for loop in walk(fn):
        if isinstance(loop, gast.For):
            others |= {n.id for n in walk(loop.target) if isinstance(n, gast.Name)}
    found = set(params)
    changed = True
    while changed:
        changed = False
        nested = nested_lists(fn, found)
        for var, values in by_name.items():
            if var not in found and var not in others and all(
                    makes_list(v, found) or _item_of(v, nested) for v in values):
                found.add(var)
                changed = True
    return found


def nested_lists(fn: gast.FunctionDef, lists: set[str]) -> set[str]:
    """The lists among ``lists`` whose items are lists: a literal of lists, lists appended,
    inserted or written into it."""
    found = set()
    for node in walk(fn):
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name) \
                and isinstance(node.value, gast.List) and any(
                    is_listlike(e, lists) for e in node.value.elts):
            found.add(node.targets[0].id)
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr in ("append", "insert") and node.args \
                and is_listlike(node.func.value, lists) and is_listlike(node.args[-1], lists):
            found.add(node.func.value.id)
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Subscript) \
                and is_listlike(node.targets[0].value, lists) and is_listlike(node.value, lists):
            found.add(node.targets[0].value.id)
    return found


def _item_of(value: gast.expr, nested: set[str]) -> bool:
    """``m[i]`` of a list of lists."""
    return (isinstance(value, gast.Subscript) and not isinstance(value.slice, gast.Slice)
            and isinstance(value.value, gast.Name) and value.value.id in nested)


def makes_list(value: gast.expr, lists: set[str]) -> bool:
    """Whether ``value`` surely makes a new list (given the variables known to hold lists)."""
    if isinstance(value, (gast.List, gast.ListComp)) or (
            isinstance(value, gast.Name) and value.id in lists):
        return True
    qualname = getattr(value, "qualname", None)
    if isinstance(value, gast.Call) and qualname in ("builtins.list", "builtins.sorted"):
        return True
    if is_list_copy(value, lists):
        return True
    if isinstance(value, gast.Subscript) and isinstance(value.slice, gast.Slice):
        return is_listlike(value.value, lists)
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add):
        return is_listlike(value.left, lists) and is_listlike(value.right, lists)
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult):  # [0.0] * len(v)
        return is_listlike(value.left, lists) or is_listlike(value.right, lists)
    return False


def is_index_of(call: gast.expr, lists: set[str]) -> bool:
    """``max(range(len(v)), key=v.__getitem__)`` (as ``index_of`` writes it) of a list."""
    if getattr(call, "index_of", None):
        return True
    keys = [k.value for k in getattr(call, "keywords", []) if k.arg == "key"]
    return (getattr(call, "qualname", None) in (*EXTREMES, "builtins.sorted") and len(keys) == 1
            and isinstance(keys[0], gast.Attribute) and keys[0].attr == "__getitem__"
            and isinstance(keys[0].value, gast.Name) and keys[0].value.id in lists)


def is_list_copy(value: gast.expr, lists: set[str]) -> bool:
    """``v.copy()`` of a list."""
    return (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
            and value.func.attr == "copy" and not value.args and not value.keywords
            and is_listlike(value.func.value, lists))


def is_listlike(expr: gast.expr, lists: set[str]) -> bool:
    return (isinstance(expr, gast.Name) and expr.id in lists) or isinstance(
        expr, (gast.List, gast.ListComp))


def list_params(tree: gast.FunctionDef, kinds: dict | None = None) -> set[str]:
    """Parameters annotated ``list`` or ``list[...]`` (``List[...]`` too), or whose kind
    (``--arg``, or a call's argument in the API: ``parsed.arg_kinds``) is a list."""
    found = {p for p, kind in (kinds or {}).items() if kind.name == "list"}
    for param in [*tree.args.posonlyargs, *tree.args.args, *tree.args.kwonlyargs]:
        note = param.annotation
        if isinstance(note, gast.Subscript):
            note = note.value
        if isinstance(note, gast.Attribute):
            note = gast.Name(id=note.attr, ctx=gast.Load(), annotation=None, type_comment=None)
        if isinstance(note, gast.Name) and note.id in ("list", "List"):
            found.add(param.id)
    return found



def call(qualname: str, *args: gast.expr, **keywords: gast.expr) -> gast.Call:
    call = gast.Call(func=name(qualname.rpartition(".")[2]), args=list(args),
                     keywords=[gast.keyword(arg=k, value=v) for k, v in keywords.items()])
    call.qualname = qualname
    return call


def length(var: str) -> gast.Call:
    return call("builtins.len", name(var))


def item(var: str, index: gast.expr) -> gast.Subscript:
    return gast.Subscript(value=name(var), slice=index, ctx=gast.Load())


def method(owner: str, method: str, *args: gast.expr) -> gast.Expr:
    func = gast.Attribute(value=name(owner), attr=method, ctx=gast.Load())
    return gast.Expr(value=gast.Call(func=func, args=list(args), keywords=[]))


def assign(target: gast.expr | str, value: gast.expr) -> gast.Assign:
    target = name(target, store=True) if isinstance(target, str) else target
    return gast.Assign(targets=[target], value=value, type_comment=None)


def index_of(op: str, var: str, **keywords: gast.expr) -> gast.Call:
    """``max(range(len(v)), key=v.__getitem__)``: the position of ``v``'s largest item, the
    first of equal ones as ``max(v)`` returns it (so ties give it the whole derivative)."""
    key = gast.Attribute(value=name(var), attr="__getitem__", ctx=gast.Load())
    position = call(op, call("builtins.range", length(var)), key=key, **keywords)
    position.index_of = var  # normalize keeps it whole; it carries no derivative
    return position
