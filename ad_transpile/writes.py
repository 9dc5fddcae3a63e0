"""Refuse an in-place write ``y[idx] = v`` (or ``y[idx] op= v``) the derivative cannot follow.

A write is differentiated only into a NumPy array the function made itself (``x.copy()``,
``np.zeros(n)``, ``x * 1.0``): never into an argument (the caller's data would change), and
never while another name that may hold the same array (``z = y``, a view ``z = y[1:]``) is read
later, since its derivative would miss the write::

    def f(x):                 example.py:4:5: writing into 'y' is not supported: 'z' may hold
        y = np.zeros(3)       the same array, and it is read after the write (line 5), which its
        z = y                 derivative would miss; copy it first (z = y.copy())
        y[0] = x
        return np.sum(z)

Which names may share an object is followed statement by statement (branches joined, loops to
a fixed point); each place that makes an array stands for the newest array it made and for all
older ones, so that ``u_new = u.copy()`` in a loop is a new array, not the one ``u`` holds.
"""

from __future__ import annotations

import gast

from ad_transpile import errors
from ad_transpile.aliases import _fresh
from ad_transpile.trees import walk

# methods that give a new array
ARRAY_MAKERS = {"copy", "astype", "flatten", "clip", "cumsum", "cumprod", "dot"}


def is_write(stmt: gast.stmt) -> bool:
    """``y[idx] = v`` or ``y[idx] op= v``: changes part of an object in place."""
    if isinstance(stmt, gast.Assign):
        return any(isinstance(t, gast.Subscript) for t in stmt.targets)
    return isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Subscript)


def refuse_unsafe_writes(parsed, fn: gast.FunctionDef, lists: set[str] = frozenset()) -> None:
    """Refuse each write into something other than an array of the function's own, and each
    read of a name that may share the written array after the write. Writes into ``lists``
    (the lists pass's own names) are the lists pass's to check."""
    writes = [node for node in walk(fn) if is_write(node)]
    if not writes:
        return
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
    sharing = _Sharing(parsed, params)
    sharing.lists = set(lists)
    sharing.run(fn.body)


def _source(expr: gast.expr) -> str:
    if isinstance(expr, gast.Attribute):
        return f"{_source(expr.value)}.{expr.attr}"
    return getattr(expr, "id", "a call")


def _owner(write: gast.stmt) -> str:
    target = write.targets[0] if isinstance(write, gast.Assign) else write.target
    return target.value.id


class _Sharing:
    """Which objects each name may hold, and which names a write has made stale.

    An object is ``(place, newest)`` for an array or number made in the function, or
    ``("argument", name)``, ``("outside", what)`` for one it was given."""

    def __init__(self, parsed, params: list[str]) -> None:
        self.parsed = parsed
        self.arrays: set[int] = set()  # the places that make NumPy arrays
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
            entry, arrays = self.state(), set(self.arrays)
            self.exits.append([])
            if isinstance(stmt, gast.For):
                self.bind(stmt.target, self.objects(stmt.iter))
            self.run(stmt.body)
            if isinstance(stmt, gast.While):
                self.read(stmt.test)  # tested again after each time round
            exits = self.exits.pop()
            self.join(entry, self.state(), *exits)
            if self.state() == entry and self.arrays == arrays:
                return

    def bind(self, target: gast.expr, objects: frozenset) -> None:
        for node in walk(target):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                self.holds[node.id] = objects
                self.stale.pop(node.id, None)

    def objects(self, expr: gast.expr) -> frozenset:
        """What ``expr`` may be: a new array (newest of its place), or what its parts hold."""
        if isinstance(expr, gast.Constant):
            return frozenset()
        if _fresh(expr, self.parsed):
            site = id(expr)
            if self.makes_array(expr):
                self.arrays.add(site)
            else:  # in a loop, what it reads may hold more now
                self.arrays.discard(site)
            for k, held in self.holds.items():  # the arrays made here before are older now
                if (site, True) in held:
                    self.holds[k] = (held - {(site, True)}) | {(site, False)}
            return frozenset({(site, True)})
        if isinstance(expr, gast.Name):
            return self.holds.get(expr.id, frozenset({("outside", expr.id)}))
        found = frozenset()
        if isinstance(expr, gast.Call):  # a user function may return what it was given
            found = frozenset({("outside", f"{_source(expr.func)}(...)")})
            expr = gast.Tuple(elts=[*expr.args, *(k.value for k in expr.keywords)],
                              ctx=gast.Load())
        for child in gast.iter_child_nodes(expr):
            if isinstance(child, gast.expr):
                found |= self.objects(child)
        return found

    def array(self, name_: str) -> bool:
        """Whether ``name_`` surely holds a NumPy array the function made."""
        held = self.holds.get(name_, frozenset())
        return bool(held) and all(o[0] in self.arrays for o in held)

    def makes_array(self, expr: gast.expr) -> bool:
        """Whether ``expr`` makes a NumPy array: a NumPy call, an array method like
        ``.copy()``, or arithmetic on an array or with a float.

        A stand-in until the value model (infer.py) gives every value its kind: what this
        cannot tell is not an array here, and a write into it is refused.
        """
        if isinstance(expr, gast.Name):
            return self.array(expr.id)
        if isinstance(expr, gast.Constant):
            return type(expr.value) is float
        if isinstance(expr, gast.Call):
            qualname = getattr(expr, "qualname", None) or ""
            if qualname.split(".")[0] == "numpy":
                return True
            receiver = expr.func.value if isinstance(expr.func, gast.Attribute) else None
            return (not qualname and receiver is not None and expr.func.attr in ARRAY_MAKERS
                    and self.parsed.qualify(receiver) is None and not self.list_held(receiver))
        if isinstance(expr, gast.BinOp):
            return self.makes_array(expr.left) or self.makes_array(expr.right)
        if isinstance(expr, gast.UnaryOp):
            return isinstance(expr.operand, gast.Name) and self.array(expr.operand.id)
        if isinstance(expr, gast.IfExp):
            return self.makes_array(expr.body) and self.makes_array(expr.orelse)
        return False

    def list_held(self, expr: gast.expr) -> bool:
        """``xs`` may hold something the function made that is no array (a list)."""
        held = self.holds.get(expr.id, frozenset()) if isinstance(expr, gast.Name) else ()
        return any(isinstance(o[0], int) and o[0] not in self.arrays for o in held)

    def read(self, node: gast.AST) -> None:
        for n in walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in self.stale:
                write, owner = self.stale[n.id]
                raise self.parsed.error(
                    errors.Unsupported, write, construct=f"writing into '{owner}'",
                    why=f"'{n.id}' may hold the same array, and it is read after the write "
                    f"(line {n.lineno}), which its derivative would miss; copy it first "
                    f"({n.id} = {owner}.copy())",
                )

    lists: set[str] = set()

    def write(self, stmt: gast.stmt) -> None:
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
        if getattr(target.value, "id", None) in self.lists:  # a list's item: lists.py's
            self.read(stmt.value)
            return
        self.read(stmt.value)
        self.read(target)
        owner = _owner(stmt)
        held = self.holds.get(owner, frozenset({("outside", owner)}))
        outside = sorted(o[1] for o in held if o[0] in ("argument", "outside"))
        if outside and outside[0].endswith("(...)"):
            raise self.parsed.error(
                errors.Unsupported, stmt, construct=f"writing into '{owner}'",
                why=f"it may hold an array that {outside[0]} returns, which another name may "
                f"hold too; copy it first ({owner} = {owner}.copy())")
        if outside and outside[0] in self.parsed.constants:
            copy_name = owner.lower() if owner != owner.lower() else f"{owner}_copy"
            raise self.parsed.error(
                errors.Unsupported, stmt, construct=f"writing into the module constant "
                f"'{outside[0]}'", why="it would change the module's value in place; copy it "
                f"first ({copy_name} = {outside[0]}.copy())" if owner == outside[0] else
                f"'{owner}' may hold the module's value '{outside[0]}'; copy it first "
                f"({owner} = {outside[0]}.copy())")
        if outside:
            what = "the argument" if ("argument", outside[0]) in held else "the value"
            raise self.parsed.error(
                errors.Unsupported, stmt, construct=f"writing into {what} '{outside[0]}'",
                why="it would change the caller's array in place; copy it first "
                f"({owner} = {outside[0]}.copy())" if owner == outside[0] else
                f"'{owner}' may hold the array '{outside[0]}' holds, which the caller sees; "
                f"copy it first ({owner} = {outside[0]}.copy())",
            )
        if not self.array(owner):
            raise self.parsed.error(
                errors.Unsupported, stmt, construct=f"writing into '{owner}'",
                why="it is not known to be a NumPy array of the function's own (writes into "
                "lists are not supported here); make it with np.zeros(...), np.array(...) or "
                "x.copy()",
            )
        for other, objects in self.holds.items():
            if other != owner and objects & held:
                self.stale[other] = (stmt, owner)
