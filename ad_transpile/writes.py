"""Refuse an in-place write ``y[idx] = v`` (or ``y[idx] op= v``) the derivative cannot follow.

A write is differentiated only into a NumPy array the function made itself (``x.copy()``,
``np.zeros(n)``, ``x * 1.0``): never into an argument (the caller's data would change), and
never while another name that may hold the same array (``z = y``, a view ``z = y[1:]``) is read
later, since its derivative would miss the write::

    def f(x):                 example.py:4:5: writing into 'y' is not supported: 'z' may hold
        y = np.zeros(3)       the same array (line 3), and it is read after the write (line 5),
        z = y                 which its derivative would miss; copy it (z = y.copy())
        y[0] = x
        return np.sum(z)

Which names may share an object is followed statement by statement (branches joined, loops to
a fixed point); each place that makes an array stands for the newest array it made and for all
older ones, so that ``u_new = u.copy()`` in a loop is a new array, not the one ``u`` holds.
"""

from __future__ import annotations

import gast

from ad_transpile import errors
from ad_transpile.aliases import _bindings, _fresh

ARRAY_MAKERS = {"copy", "astype", "flatten", "clip", "cumsum", "dot"}  # methods: a new array


def is_write(stmt: gast.stmt) -> bool:
    """``y[idx] = v`` or ``y[idx] op= v``: changes part of an object in place."""
    if isinstance(stmt, gast.Assign):
        return any(isinstance(t, gast.Subscript) for t in stmt.targets)
    return isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Subscript)


def known_arrays(fn: gast.FunctionDef, parsed) -> set[str]:
    """Names that surely hold a NumPy array the function made: every value bound to them is a
    NumPy call, an array method like ``.copy()``, or arithmetic on an array or with a float.

    A stand-in until the value model (infer.py) gives every name its kind: a name this cannot
    tell is not an array here, and a write into it is refused.
    """
    params = [p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    bindings = _bindings(fn, params)

    def makes_array(expr: gast.expr) -> bool:
        if isinstance(expr, gast.Name):
            return expr.id in arrays
        if isinstance(expr, gast.Constant):
            return type(expr.value) is float
        if isinstance(expr, gast.Call):
            qualname = getattr(expr, "qualname", None) or ""
            if qualname.split(".")[0] == "numpy":
                return True
            return (not qualname and isinstance(expr.func, gast.Attribute)
                    and expr.func.attr in ARRAY_MAKERS and parsed.qualify(expr.func.value) is None
                    and not _list_made(expr.func.value, bindings))
        if isinstance(expr, gast.BinOp):
            return makes_array(expr.left) or makes_array(expr.right)
        if isinstance(expr, gast.UnaryOp):
            return isinstance(expr.operand, gast.Name) and makes_array(expr.operand)
        if isinstance(expr, gast.IfExp):
            return makes_array(expr.body) and makes_array(expr.orelse)
        return False

    # the largest set that holds together: y = y + v keeps an array an array
    arrays = {n for n, values in bindings.items() if values and None not in values}
    changed = True
    while changed:
        changed = False
        for name_ in sorted(arrays):
            if not all(makes_array(v) for v in bindings[name_]):
                arrays.discard(name_)
                changed = True
    return arrays


def _list_made(expr: gast.expr, bindings: dict) -> bool:
    """``xs`` bound to a list display or ``list(...)``: ``xs.copy()`` is a list."""
    if not isinstance(expr, gast.Name):
        return False
    return any(isinstance(v, (gast.List, gast.ListComp)) or getattr(v, "qualname", None) in (
        "builtins.list", "builtins.sorted") for v in bindings.get(expr.id, []) if v is not None)


def refuse_unsafe_writes(parsed, fn: gast.FunctionDef) -> None:
    """Refuse each write into something other than an array of the function's own, and each
    read of a name that may share the written array after the write."""
    writes = [node for node in gast.walk(fn) if is_write(node)]
    if not writes:
        return
    arrays = known_arrays(fn, parsed)
    for write in writes:
        targets = write.targets if isinstance(write, gast.Assign) else [write.target]
        if len(targets) != 1:
            raise parsed.error(errors.Unsupported, write, construct="a chained assignment "
                               "into an array", why="write each target in its own statement")
        owner = targets[0].value
        if not isinstance(owner, gast.Name):
            raise parsed.error(errors.Unsupported, targets[0], construct="writing into this "
                               "target", why="write into a named array: y[i, j] = v")
    params = [p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    _Sharing(parsed, arrays, params).run(fn.body)


def _owner(write: gast.stmt) -> str:
    target = write.targets[0] if isinstance(write, gast.Assign) else write.target
    return target.value.id


class _Sharing:
    """Which objects each name may hold, and which names a write has made stale."""

    def __init__(self, parsed, arrays: set[str], params: list[str]) -> None:
        self.parsed, self.arrays = parsed, arrays
        self.holds: dict[str, frozenset] = {p: frozenset({("argument", p)}) for p in params}
        self.stale: dict[str, tuple] = {}  # name -> (write, the name that shares)
        self.exits: list[list] = []

    def run(self, block: list[gast.stmt]) -> None:
        for stmt in block:
            self.statement(stmt)

    def state(self):
        return dict(self.holds), dict(self.stale)

    def join(self, *states) -> None:
        holds, stale = {}, {}
        for h, s in states:
            for k, v in h.items():
                holds[k] = holds.get(k, frozenset()) | v
            stale.update(s)
        self.holds, self.stale = holds, stale

    def statement(self, stmt: gast.stmt) -> None:
        if isinstance(stmt, gast.If):
            self.read(stmt.test)
            before = self.state()
            self.run(stmt.body)
            after_body = self.state()
            self.holds, self.stale = dict(before[0]), dict(before[1])
            self.run(stmt.orelse)
            return self.join(after_body, self.state())
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt)
        if isinstance(stmt, (gast.Break, gast.Continue)):
            if self.exits:
                self.exits[-1].append(self.state())
            return None
        if is_write(stmt):
            return self.write(stmt)
        self.read(stmt)
        if isinstance(stmt, (gast.Assign, gast.AnnAssign)) and stmt.value is not None:
            objects = self.objects(stmt.value)
            for target in (stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]):
                self.bind(target, objects)
        return None

    def loop(self, stmt) -> None:
        self.read(stmt.iter if isinstance(stmt, gast.For) else stmt.test)
        while True:
            entry = self.state()
            self.exits.append([])
            if isinstance(stmt, gast.For):
                self.bind(stmt.target, self.objects(stmt.iter))
            self.run(stmt.body)
            exits = self.exits.pop()
            self.join(entry, self.state(), *exits)
            if self.state() == entry:
                return

    def bind(self, target: gast.expr, objects: frozenset) -> None:
        for node in gast.walk(target):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                self.holds[node.id] = objects
                self.stale.pop(node.id, None)

    def objects(self, expr: gast.expr) -> frozenset:
        """What ``expr`` may be: a new array (newest of its place), or what its parts hold."""
        if isinstance(expr, gast.Constant):
            return frozenset()
        if _fresh(expr, self.parsed):
            site = id(expr)
            for k, held in self.holds.items():  # the arrays made here before are older now
                if (site, True) in held:
                    self.holds[k] = (held - {(site, True)}) | {(site, False)}
            return frozenset({(site, True)})
        if isinstance(expr, gast.Name):
            return self.holds.get(expr.id, frozenset({("outside", expr.id)}))
        found = frozenset()
        for child in gast.iter_child_nodes(expr):
            if isinstance(child, gast.expr):
                found |= self.objects(child)
        return found

    def read(self, node: gast.AST) -> None:
        for n in gast.walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in self.stale:
                write, owner = self.stale[n.id]
                raise self.parsed.error(
                    errors.Unsupported, write, construct=f"writing into '{owner}'",
                    why=f"'{n.id}' may hold the same array, and it is read after the write "
                    f"(line {n.lineno}), which its derivative would miss; copy it first "
                    f"({n.id} = {owner}.copy())",
                )

    def write(self, stmt: gast.stmt) -> None:
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
        self.read(stmt.value)
        self.read(target)
        owner = _owner(stmt)
        held = self.holds.get(owner, frozenset({("outside", owner)}))
        outside = sorted(o[1] for o in held if o[0] in ("argument", "outside"))
        if outside:
            what = "the argument" if ("argument", outside[0]) in held else "the value"
            raise self.parsed.error(
                errors.Unsupported, stmt, construct=f"writing into {what} '{outside[0]}'",
                why="it would change the caller's array in place; copy it first "
                f"({owner} = {outside[0]}.copy())" if owner == outside[0] else
                f"'{owner}' may hold the array '{outside[0]}' holds, which the caller sees; "
                f"copy it first ({owner} = {outside[0]}.copy())",
            )
        if owner not in self.arrays:
            raise self.parsed.error(
                errors.Unsupported, stmt, construct=f"writing into '{owner}'",
                why="it is not known to be a NumPy array of the function's own (writes into "
                "lists are not supported here); make it with np.zeros(...), np.array(...) or "
                "x.copy()",
            )
        for other, objects in self.holds.items():
            if other != owner and objects & held:
                self.stale[other] = (stmt, owner)
