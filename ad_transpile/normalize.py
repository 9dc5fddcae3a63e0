"""Normalize pass: one operation per statement.

Nested expressions are split into assignments to readable temporaries; augmented assignment,
tuple unpacking, conditional expressions, ``and``/``or`` and ``sum`` over a comprehension are
desugared. A variable assigned again at the top level gets a new version name; one assigned
inside a branch or loop keeps its name, and ``v = v * a`` there becomes ``_t = v * a; v = _t``
(an increment ``v = v + a`` stays as it is)::

    def h(x):                            def h(x):
        y = math.sin(x) ** 2                 sin_x = math.sin(x)
        y += 1.0                    ->       y = sin_x ** 2
        return y * x                         y_1 = y + 1.0
                                             y_1_x = y_1 * x
                                             return y_1_x
"""

from __future__ import annotations

import copy

import gast

from ad_transpile import errors
from ad_transpile.aliases import refuse_shared_updates
from ad_transpile.list_kinds import is_index_of, list_names, list_params
from ad_transpile.names import Namer
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import assign, is_constant, name, operands
from ad_transpile.trees import walk
from ad_transpile.writes import is_write, refuse_unsafe_writes

LOCAL_FUNCTIONS = ("a local function is differentiated where it is defined once in the "
                   "function's own body and only called, with no comprehension around a call "
                   "binding a name it reads; otherwise define it at the top level of the module")
REFUSED = {
    gast.Try: ("'try'", "exceptions cannot be differentiated"),
    gast.With: ("'with'", "context managers cannot be differentiated"),
    gast.Global: ("'global'", "writes to globals cannot be differentiated"),
    gast.Nonlocal: ("'nonlocal'", "writes to enclosing scopes cannot be differentiated"),
    gast.Delete: ("'del'", "deleting a variable cannot be differentiated"),
    gast.FunctionDef: ("a nested function", LOCAL_FUNCTIONS),
    gast.Lambda: ("a lambda", LOCAL_FUNCTIONS),
    gast.AsyncFunctionDef: ("'async def'", "a coroutine cannot be differentiated"),
    gast.AsyncFor: ("'async for'", "a coroutine cannot be differentiated"),
    gast.AsyncWith: ("'async with'", "a coroutine cannot be differentiated"),
    gast.ClassDef: ("a class definition", "define it outside the function"),
    gast.Raise: ("'raise'", "exceptions cannot be differentiated"),
    gast.Import: ("an import inside the function", "import at the top of the module"),
    gast.ImportFrom: ("an import inside the function", "import at the top of the module"),
}
ARRAY_METHODS = {  # x.sum(axis=0) is np.sum(x, axis=0): the rules of the functions apply
    "sum", "mean", "prod", "max", "min", "std", "var", "dot", "reshape", "ravel", "flatten",
    "transpose", "squeeze", "clip", "cumsum", "cumprod", "trace", "diagonal", "astype", "copy",
    "argmax", "argmin", "argsort", "any", "all", "nonzero", "swapaxes", "round",
}
PACKED = ("reshape", "transpose")  # x.reshape(2, 3) is np.reshape(x, (2, 3))
ARRAY_ATTRIBUTES = {"T": "numpy.ndarray.T", "shape": "numpy.shape", "size": "numpy.size",
                    "ndim": "numpy.ndim", "dtype": "numpy.dtype"}
LOOP_HELPERS = ("builtins.range", "builtins.zip", "builtins.enumerate", "builtins.reversed")
SUMS = ("builtins.sum", "math.fsum")


def normalize(parsed: ParsedFunction, tree: gast.FunctionDef, namer: Namer) -> gast.FunctionDef:
    """A copy of the restructured ``tree`` with one operation per statement."""
    return _Normalizer(parsed, tree, namer).run()


def refuse_unsupported(parsed: ParsedFunction, tree: gast.FunctionDef) -> None:
    """Refuse statements and generators that can never be differentiated, before anything else."""
    guards = {id(s.body[0]) for s in walk(tree) if _is_guard(s)}
    for node in walk(tree):
        if node is tree or id(node) in guards:
            continue
        if type(node) in REFUSED:
            raise parsed.error(errors.Unsupported, node, construct=REFUSED[type(node)][0],
                               why=REFUSED[type(node)][1])
        if isinstance(node, (gast.Yield, gast.YieldFrom, gast.Await)):
            raise parsed.error(errors.Unsupported, node, construct=describe(node),
                               why="a generator or coroutine has no single result to "
                               "differentiate")
    refuse_shared_updates(parsed, tree)
    refuse_unsafe_writes(parsed, tree, list_names(tree, list_params(parsed.tree, parsed.arg_kinds)))


def assigned_in_compound(tree: gast.FunctionDef) -> set[str]:
    """Names assigned inside a branch or a loop, or used as a loop variable."""
    names = set()
    for node in walk(tree):
        if isinstance(node, (gast.If, gast.For, gast.While)):
            for inner in walk(node):
                if isinstance(inner, gast.Name) and isinstance(inner.ctx, gast.Store):
                    names.add(inner.id)
    return names


class _Normalizer:
    def __init__(self, parsed: ParsedFunction, tree: gast.FunctionDef, namer: Namer) -> None:
        self.parsed, self.tree, self.namer = parsed, tree, namer
        self.compound = assigned_in_compound(tree)
        self.own_lists = {  # lists the function makes itself, like our saved-value lists
            s.targets[0].id for s in walk(tree)
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
            and isinstance(s.value, gast.List) and not s.value.elts
        }
        self.list_params = list_params(parsed.tree, parsed.arg_kinds)
        self.lists = list_names(tree, self.list_params) | self.own_lists
        self.current: dict[str, str] = {}
        self.body: list[gast.stmt] = []

    def error(self, node, construct: str, why: str) -> errors.TranspileError:
        return self.parsed.error(errors.Unsupported, node, construct=construct, why=why)

    def run(self) -> gast.FunctionDef:
        tree = self.tree
        if tree.args.vararg or tree.args.kwarg:
            raise self.error(tree, "*args or **kwargs", "name every parameter instead")
        for param in [*tree.args.posonlyargs, *tree.args.args, *tree.args.kwonlyargs]:
            self.current[param.id] = param.id
        body = self.block(tree.body)
        if not body or not isinstance(body[-1], gast.Return):
            raise self.error(tree, "a function without 'return'", "there is no result")
        args = copy.deepcopy(tree.args)
        for param in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            param.annotation = None
        fn = gast.FunctionDef(
            name=tree.name, args=args, body=body, decorator_list=[], returns=None,
            type_comment=None, type_params=[], lineno=tree.lineno, col_offset=tree.col_offset,
        )
        fn.list_params = self.list_params  # the annotations are gone: keep what they said
        return fn

    def block(self, statements: list[gast.stmt]) -> list[gast.stmt]:
        """Normalize ``statements`` into a new list, temporaries included."""
        outer, self.body = self.body, []
        for stmt in statements:
            self.statement(stmt)
        block, self.body = self.body, outer
        return block

    # statements

    def statement(self, stmt: gast.stmt) -> None:
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant):
            return  # a docstring
        if isinstance(stmt, gast.Pass):
            return
        if is_write(stmt) and not self.into_list(stmt):
            return self.write(stmt)
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1:
            return self.assign(stmt.targets[0], stmt.value, stmt)
        if isinstance(stmt, gast.AnnAssign) and stmt.value is not None:
            return self.assign(stmt.target, stmt.value, stmt)
        if isinstance(stmt, gast.Expr) and is_add_at(stmt.value):
            owner, index, value = stmt.value.args
            call = gast.Call(func=copy.deepcopy(stmt.value.func), keywords=[], args=[
                self.reference(owner), self.index(index), self.atom(value)])
            call.qualname = stmt.value.qualname
            return self.emit(gast.Expr(value=call), stmt)
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
            value = gast.BinOp(left=name(stmt.target.id), op=stmt.op, right=stmt.value)
            return self.assign(stmt.target, gast.copy_location(value, stmt), stmt)
        if isinstance(stmt, gast.Return):
            if stmt.value is None:
                raise self.error(stmt, "'return' without a value", "there is no result")
            if isinstance(stmt.value, gast.Tuple):
                atoms = []
                for v in stmt.value.elts:  # distinct names: each output gets its own adjoint
                    atom = self.atom(v)
                    if not isinstance(atom, gast.Name) or atom.id in [a.id for a in atoms]:
                        copied = self.namer.fresh()
                        self.emit(assign(copied, atom), v)
                        atom = name(copied)
                    atoms.append(atom)
                value = gast.Tuple(elts=atoms, ctx=gast.Load())
            else:
                value = self.atom(stmt.value)
            return self.emit(gast.Return(value=value), stmt)
        if isinstance(stmt, gast.Assert) or _is_report(stmt) or _is_guard(stmt):
            return self.emit(_RenameReads(self.current).visit(copy.deepcopy(stmt)), stmt)
        if isinstance(stmt, gast.Expr) and any(
                self.list_method(stmt.value, m) for m in ("append", "insert")):
            return self.emit(gast.Expr(value=self.list_call(stmt.value)), stmt)
        if isinstance(stmt, gast.Expr) and self.list_method(stmt.value, "pop"):
            popped = self.namer.fresh("_popped")  # v.pop() for its effect alone
            return self.emit(assign(popped, self.list_call(stmt.value)), stmt)
        if isinstance(stmt, gast.If):
            return self.if_(stmt)
        if isinstance(stmt, gast.For):
            return self.for_(stmt)
        if isinstance(stmt, gast.While):
            return self.while_(stmt)
        if isinstance(stmt, (gast.Break, gast.Continue)):
            return self.emit(type(stmt)(), stmt)
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, (gast.Yield, gast.YieldFrom)):
            raise self.error(stmt, describe(stmt.value), "a generator has no single result to "
                             "differentiate")
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
            raise self.error(stmt, "a call whose result is unused",
                             "it may change a value in place; only print and logging calls "
                             "are kept (and left out of the derivative)")
        if isinstance(stmt, gast.Expr):
            raise self.error(stmt, f"{describe(stmt.value)} as a statement", "not supported yet")
        default = (f"'{type(stmt).__name__}'", "not supported yet")
        raise self.error(stmt, *REFUSED.get(type(stmt), default))

    def emit(self, stmt: gast.stmt, where: gast.AST) -> None:
        self.body.append(gast.copy_location(stmt, where))

    def assign(self, target: gast.expr, value: gast.expr, stmt: gast.stmt) -> None:
        if isinstance(target, gast.Name):
            return self.store(target.id, self.operation(value), stmt)
        if (
            isinstance(target, gast.Tuple)
            and isinstance(value, gast.Tuple)
            and len(target.elts) == len(value.elts)
            and all(isinstance(t, gast.Name) for t in target.elts)
        ):
            atoms = [self.atom(v) for v in value.elts]
            targets = {self.current.get(t.id, t.id) for t in target.elts}
            for i, atom in enumerate(atoms):  # a, b = b, a: read every value before storing
                if isinstance(atom, gast.Name) and atom.id in targets:
                    held = self.namer.fresh(f"{atom.id}_was")
                    self.emit(assign(held, atom), stmt)
                    atoms[i] = name(held)
            for t, atom in zip(target.elts, atoms):
                self.store(t.id, atom, stmt)
            return None
        if (
            isinstance(target, gast.Tuple)
            and isinstance(value, gast.Call)
            and all(isinstance(t, gast.Name) for t in target.elts)
        ):  # u, v = helper(x): a function returning a tuple (or a saved tuple popped)
            call = self.list_call(value) if self.list_method(value, "pop") else self.call(value)
            reads = {n.id for n in walk(call) if isinstance(n, gast.Name)}
            if not self.list_method(value, "pop") and any(
                    t.id in self.compound and t.id in reads for t in target.elts):
                # x, y = helper(x, y) in a loop: the call's own values stay for its adjoint,
                # as store() keeps them for x = helper(x)
                held = [self.namer.fresh(f"{t.id}_new") for t in target.elts]
                self.emit(gast.Assign(targets=[gast.Tuple(
                    elts=[name(h, store=True) for h in held], ctx=gast.Store())],
                    value=call, type_comment=None), stmt)
                for t, h in zip(target.elts, held):
                    self.store(t.id, name(h), stmt)
                return None
            names = [self.bind_unchecked(t.id) for t in target.elts]
            stores = [name(n, store=True) for n in names]
            unpack = gast.Assign(targets=[gast.Tuple(elts=stores, ctx=gast.Store())],
                                 value=call, type_comment=None)
            return self.emit(unpack, stmt)
        sequence = self.sequence_constant(value)
        if isinstance(target, gast.Tuple) and sequence is not None \
                and all(isinstance(t, gast.Name) for t in target.elts) \
                and len(target.elts) == len(sequence.elts):  # a, b = PAIR: each item read
            for k, t in enumerate(target.elts):
                item = gast.Subscript(value=copy.deepcopy(value),
                                      slice=gast.Constant(value=k, kind=None), ctx=gast.Load())
                self.store(t.id, self.atom(gast.copy_location(item, value)), stmt)
            return None
        if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name) \
                and target.value.id in self.lists:  # v[i] = e into a list
            write = gast.Subscript(value=self.reference(target.value),
                                   slice=self.atom(target.slice), ctx=gast.Store())
            return self.emit(gast.Assign(targets=[write], value=self.atom(value),
                                         type_comment=None), stmt)
        raise self.error(
            target, "this assignment target",
            "assign to plain names, or unpack a tuple of the same length",
        )

    def into_list(self, stmt: gast.stmt) -> bool:
        """``v[i] = e`` into a list: the lists pass lowered it; ``assign`` keeps it as it is."""
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
        return isinstance(stmt, gast.Assign) and getattr(target.value, "id", None) in self.lists

    def write(self, stmt: gast.Assign | gast.AugAssign) -> None:
        """``y[idx] = v`` with atoms; ``y[idx] op= v`` becomes ``t = y[idx]; t2 = t op v;
        y[idx] = t2``, so that the plain write is the one primitive that changes an array."""
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else stmt.target
        owner = self.reference(target.value)
        index = self.index(target.slice)
        if isinstance(stmt, gast.AugAssign):
            part = gast.Subscript(value=copy.deepcopy(owner), slice=copy.deepcopy(index),
                                  ctx=gast.Load())
            held = self.namer.fresh(hint(part))
            self.emit(assign(held, part), stmt)
            value = gast.BinOp(left=name(held), op=stmt.op, right=self.atom(stmt.value))
            updated = self.namer.fresh(hint(value))
            self.emit(assign(updated, value), stmt)
            value = name(updated)
        else:
            value = self.atom(stmt.value)
        written = gast.Subscript(value=owner, slice=index, ctx=gast.Store())
        self.emit(gast.Assign(targets=[written], value=value, type_comment=None), stmt)

    def store(self, source_name: str, value: gast.expr, where: gast.AST) -> None:
        """``source_name = value``, where ``value`` is one operation on atoms."""
        if source_name in self.compound:
            reads = {n.id for n in walk(value) if isinstance(n, gast.Name)}
            if source_name in reads and not _is_increment(value, source_name):
                temporary = self.namer.fresh(hint(value))
                self.emit(assign(temporary, value), where)
                value = name(temporary)
            self.current[source_name] = source_name
            return self.emit(assign(source_name, value), where)
        new = self.namer.version(source_name) if source_name in self.current else source_name
        self.current[source_name] = new
        self.emit(assign(new, value), where)

    def bind_unchecked(self, source_name: str) -> str:
        """The name a value unpacked from a call is stored under."""
        if source_name in self.compound or source_name not in self.current:
            self.current[source_name] = source_name
        else:
            self.current[source_name] = self.namer.version(source_name)
        return self.current[source_name]

    def if_(self, stmt: gast.If) -> None:
        test = self.condition(stmt.test, [*stmt.body, *stmt.orelse])
        body, orelse = self.block(stmt.body), self.block(stmt.orelse)
        self.emit(gast.If(test=test, body=body or [gast.Pass()], orelse=orelse), stmt)

    def for_(self, stmt: gast.For) -> None:
        targets = [n for n in walk(stmt.target) if not isinstance(n, (gast.Tuple,
                                                                            gast.expr_context))]
        if not all(isinstance(t, gast.Name) for t in targets):
            raise self.error(stmt.target, "this loop variable",
                             "loop over plain names, or tuples of them")
        assigned = _stores(stmt.body)
        for t in targets:
            if t.id in assigned:
                raise self.error(
                    stmt.target, f"assigning to the loop variable '{t.id}' inside the loop",
                    "use another name for the new value",
                )
        iterable = self.iterable(stmt.iter, assigned)
        for t in targets:
            self.current[t.id] = t.id
        body = self.block(stmt.body)
        loop = gast.For(target=copy.deepcopy(stmt.target), iter=iterable, body=body or
                        [gast.Pass()], orelse=[], type_comment=None)
        self.emit(loop, stmt)

    def iterable(self, expr: gast.expr, assigned: set[str]) -> gast.expr:
        """The loop's iterable: range, zip, enumerate or reversed of atoms, or an atom."""
        if isinstance(expr, gast.Call) and getattr(expr, "qualname", None) in LOOP_HELPERS:
            if expr.keywords:
                raise self.error(expr, "keywords in a loop header", "pass them by position")
            # nested helpers stay nested: zip(...) and reversed(...) give one-pass iterators
            call = gast.Call(func=copy.deepcopy(expr.func), keywords=[],
                             args=[self.iterable(a, assigned) for a in expr.args])
            call.qualname = expr.qualname
            return gast.copy_location(call, expr)
        if isinstance(expr, gast.Subscript) and isinstance(expr.slice, gast.Slice):
            bounds = {k: getattr(expr.slice, k) for k in ("lower", "upper", "step")}
            sliced = gast.Slice(**{k: self.atom(v) if v is not None else None
                                   for k, v in bounds.items()})
            value = self.iterable(expr.value, assigned)
            return gast.Subscript(value=value, slice=sliced, ctx=gast.Load())
        if isinstance(expr, (gast.Tuple, gast.List)):  # for c in (0.5, 1.0): written out
            return self.argument(expr)
        return self.unchanging(self.atom(expr), assigned)

    def unchanging(self, atom: gast.expr, assigned: set[str]) -> gast.expr:
        """``atom``, copied first if the loop assigns it, so a loop header reads fixed values."""
        if isinstance(atom, gast.Name) and atom.id in assigned:
            temporary = self.namer.fresh(f"{atom.id}_start")
            self.emit(assign(temporary, atom), atom)
            return name(temporary)
        return atom

    def while_(self, stmt: gast.While) -> None:
        before = self.body
        self.body = []
        test = self.operation(stmt.test)
        preparation, self.body = self.body, before
        body = self.block(stmt.body)
        if not preparation:
            self.emit(gast.While(test=test, body=body or [gast.Pass()], orelse=[]), stmt)
            return
        flag = self.namer.fresh("go_on")
        check = gast.If(test=name(flag), body=body or [gast.Pass()], orelse=[gast.Break()])
        loop_body = [*preparation, assign(flag, test), gast.copy_location(check, stmt)]
        self.emit(gast.While(test=gast.Constant(value=True, kind=None), body=loop_body,
                             orelse=[]), stmt)

    def condition(self, test: gast.expr, branches: list[gast.stmt]) -> gast.expr:
        """An ``if`` test as an atom the branches do not reassign."""
        atom = self.atom(test)
        return self.unchanging(atom, _stores(branches))

    # expressions

    def atom(self, expr: gast.expr) -> gast.expr:
        """``expr`` as a name or constant, computing it into a temporary first if needed."""
        if is_constant(expr) or isinstance(expr, gast.Constant):
            return copy.deepcopy(expr)
        if self.receiver_attribute(expr):  # self.scale: a constant, read into a name
            target = self.namer.fresh(hint(expr))
            self.emit(assign(target, copy.deepcopy(expr)), expr)
            return name(target)
        if isinstance(expr, (gast.Name, gast.Attribute)) and not self.array_attribute(expr):
            return self.reference(expr)
        if isinstance(expr, (gast.IfExp, gast.BoolOp)) or _is_sum_of_comprehension(expr):
            return self.operation(expr)
        value = self.operation(expr)
        target = self.namer.fresh(hint(value))
        self.emit(assign(target, value), expr)
        return name(target)

    def operation(self, expr: gast.expr) -> gast.expr:
        """``expr`` as a single operation on atoms (or an atom)."""
        if self.array_attribute(expr):
            attribute = gast.Attribute(value=self.atom(expr.value), attr=expr.attr,
                                       ctx=gast.Load())
            attribute.qualname = ARRAY_ATTRIBUTES[expr.attr]
            return gast.copy_location(attribute, expr)
        if is_constant(expr) or isinstance(expr, (gast.Name, gast.Attribute, gast.Constant)):
            return self.atom(expr)
        if isinstance(expr, gast.Subscript):
            value = self.atom(expr.value)
            return gast.Subscript(value=value, slice=self.index(expr.slice), ctx=gast.Load())
        if isinstance(expr, gast.List):
            if any(isinstance(e, gast.Starred) for e in expr.elts):
                raise self.error(expr, "'*' in a list", "write the items out")
            return gast.List(elts=[self.atom(e) for e in expr.elts], ctx=gast.Load())
        if self.list_method(expr, "pop"):
            return self.list_call(expr)
        if isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Mult, gast.Div)) \
                and _negation(expr.left):  # -a * b -> -(a * b): the same number, one sign
            inner = gast.BinOp(left=expr.left.operand, op=expr.op, right=expr.right)
            return gast.UnaryOp(op=gast.USub(), operand=self.atom(gast.copy_location(inner, expr)))
        if isinstance(expr, gast.BinOp):
            left = self.atom(expr.left)
            return gast.BinOp(left=left, op=expr.op, right=self.atom(expr.right))
        if isinstance(expr, gast.UnaryOp):
            return gast.UnaryOp(op=expr.op, operand=self.atom(expr.operand))
        if isinstance(expr, gast.Compare):
            return self.compare(expr)
        if isinstance(expr, gast.IfExp):
            return self.if_expression(expr)
        if isinstance(expr, gast.BoolOp):
            return self.bool_operation(expr)
        if _is_sum_of_comprehension(expr):
            return self.sum_of_comprehension(expr)
        if isinstance(expr, gast.Call):
            return self.call(expr)
        raise self.error(expr, describe(expr), "not supported yet")

    def sequence_constant(self, expr: gast.expr) -> gast.Tuple | gast.List | None:
        """The literal of a module constant that is a tuple or list of numbers (``PAIR``)."""
        if not isinstance(expr, gast.Name) or expr.id in self.current:
            return None
        stmt = self.parsed.constants.get(expr.id)
        return stmt.value if getattr(stmt, "constant_kind", None) == "sequence" else None

    def receiver_attribute(self, expr: gast.expr) -> bool:
        """``self.scale`` in a method: the receiver is never differentiated, so what its
        attributes hold at the call is read as a constant."""
        base = expr
        while isinstance(base, gast.Attribute):
            base = base.value
        receiver = self.parsed.receiver
        return (isinstance(expr, gast.Attribute) and isinstance(base, gast.Name)
                and receiver is not None and base.id == receiver
                and receiver not in _stores(self.tree.body) and not self.array_attribute(expr))

    def array_attribute(self, expr: gast.expr) -> bool:
        """``x.T`` or ``x.shape`` of a value (not of a module, like ``np.pi``)."""
        return (isinstance(expr, gast.Attribute) and expr.attr in ARRAY_ATTRIBUTES
                and self.parsed.qualify(expr.value) is None)

    def index(self, expr: gast.expr) -> gast.expr:
        """The index of ``x[...]`` with atoms for bounds: ``x[i + 1]`` reads a temporary."""
        if isinstance(expr, gast.Slice):
            bounds = {k: getattr(expr, k) for k in ("lower", "upper", "step")}
            return gast.Slice(**{k: self.atom(v) if v is not None else None
                                 for k, v in bounds.items()})
        if isinstance(expr, gast.Tuple):
            return gast.Tuple(elts=[self.index(e) for e in expr.elts], ctx=gast.Load())
        return self.atom(expr)

    def argument(self, expr: gast.expr) -> gast.expr:
        """A call's argument as an atom; a literal tuple or list (a shape, axes, indices) keeps
        its form, with atoms inside."""
        if isinstance(expr, (gast.Tuple, gast.List)) and not any(
                isinstance(e, gast.Starred) for e in expr.elts):
            literal = type(expr)(elts=[self.argument(e) for e in expr.elts], ctx=gast.Load())
            return gast.copy_location(literal, expr)
        return self.atom(expr)

    def method_call(self, expr: gast.Call) -> gast.Call:
        """``x.sum(axis=0)``: NumPy's function applied to the receiver, written as a method."""
        method = expr.func.attr
        receiver = self.atom(expr.func.value)
        args = [self.argument(a) for a in expr.args]
        if method in PACKED and len(args) > 1:
            args = [gast.Tuple(elts=args, ctx=gast.Load())]
        keywords = [gast.keyword(arg=k.arg, value=self.argument(k.value))
                    for k in expr.keywords]
        func = gast.Attribute(value=receiver, attr=method, ctx=gast.Load())
        call = gast.Call(func=func, args=args, keywords=keywords)
        call.qualname = "numpy.ndarray.flatten" if method == "flatten" else f"numpy.{method}"
        call.receiver = True
        return gast.copy_location(call, expr)

    def compare(self, expr: gast.Compare) -> gast.expr:
        if len(expr.ops) == 1:
            left = self.atom(expr.left)
            right = self.atom(expr.comparators[0])
            return gast.Compare(left=left, ops=expr.ops, comparators=[right])
        operands = [expr.left, *expr.comparators]
        pairs = [
            gast.copy_location(gast.Compare(left=a, ops=[op], comparators=[b]), expr)
            for a, op, b in zip(operands, expr.ops, operands[1:])
        ]
        return self.bool_operation(gast.copy_location(gast.BoolOp(op=gast.And(), values=pairs),
                                                      expr))

    def if_expression(self, expr: gast.IfExp) -> gast.expr:
        """``a if c else b`` -> ``if c: t = a`` / ``else: t = b``."""
        test = self.atom(expr.test)
        target = self.namer.fresh()
        branches = []
        for value in (expr.body, expr.orelse):
            outer, self.body = self.body, []
            self.emit(assign(target, self.operation(value)), value)
            branches.append(self.body)
            self.body = outer
        self.emit(gast.If(test=test, body=branches[0], orelse=branches[1]), expr)
        return name(target)

    def bool_operation(self, expr: gast.BoolOp) -> gast.expr:
        """``a and b`` -> ``t = a; if t: t = b``, keeping Python's short-circuit."""
        target = self.namer.fresh()
        self.emit(assign(target, self.operation(expr.values[0])), expr)
        for value in expr.values[1:]:
            outer, self.body = self.body, []
            self.emit(assign(target, self.operation(value)), value)
            rest, self.body = self.body, outer
            if isinstance(expr.op, gast.And):
                self.emit(gast.If(test=name(target), body=rest, orelse=[]), expr)
            else:
                self.emit(gast.If(test=name(target), body=[gast.Pass()], orelse=rest), expr)
        return name(target)

    def sum_of_comprehension(self, expr: gast.Call) -> gast.expr:
        """``sum(e for x in xs if c)`` -> a loop adding ``e`` to a running total."""
        comprehension = expr.args[0]
        total = self.namer.fresh("total")
        self.emit(assign(total, gast.Constant(value=0, kind=None)), expr)
        saved = dict(self.current)
        self.emit_generators(comprehension.generators, comprehension.elt, total)
        self.current = saved
        return name(total)

    def emit_generators(self, generators: list, element: gast.expr, total: str) -> None:
        if not generators:
            value = self.atom(element)
            return self.emit(assign(total, gast.BinOp(left=name(total), op=gast.Add(),
                                                      right=value)), element)
        first, rest = generators[0], generators[1:]
        if first.is_async:
            raise self.error(first.iter, "'async for'", "a coroutine cannot be differentiated")
        iterable = self.iterable(first.iter, set())
        renamed = copy.deepcopy(first.target)
        for node in walk(renamed):
            if isinstance(node, gast.Name):
                # a comprehension's variable is its own: rename it if the function has one too
                fresh = self.namer.version(node.id) if node.id in self.current else node.id
                self.current[node.id] = fresh
                node.id = fresh
        outer, self.body = self.body, []
        guards = []
        for condition in first.ifs:
            guards.append(self.atom(condition))
        body_start = self.body
        self.body = []
        self.emit_generators(rest, element, total)
        inner = self.body
        for guard in reversed(guards):
            inner = [gast.If(test=guard, body=inner, orelse=[])]
        self.body = body_start + inner
        loop_body, self.body = self.body, outer
        loop = gast.For(target=renamed, iter=iterable, body=loop_body, orelse=[],
                        type_comment=None)
        self.emit(loop, first.iter)

    def list_method(self, expr: gast.expr | None, method: str) -> bool:
        """``v.append(e)``, ``v.insert(i, e)``, ``v.pop()`` or ``v.pop(i)`` on a list."""
        arities = {"append": (1,), "insert": (2,), "pop": (0, 1)}[method]
        return (
            isinstance(expr, gast.Call)
            and isinstance(expr.func, gast.Attribute)
            and expr.func.attr == method
            and isinstance(expr.func.value, gast.Name)
            and expr.func.value.id in self.lists
            and not expr.keywords
            and len(expr.args) in arities
        )

    def list_call(self, expr: gast.Call) -> gast.Call:
        args = []
        for arg in expr.args:
            if isinstance(arg, gast.Tuple):
                args.append(gast.Tuple(elts=[self.atom(e) for e in arg.elts], ctx=gast.Load()))
            else:
                args.append(self.atom(arg))
        owner = self.reference(expr.func.value)
        func = gast.Attribute(value=owner, attr=expr.func.attr, ctx=gast.Load())
        call = gast.Call(func=func, args=args, keywords=[])
        call.qualname = f"<list>.{expr.func.attr}"
        return gast.copy_location(call, expr)

    def call(self, expr: gast.Call) -> gast.Call:
        qualname = getattr(expr, "qualname", None)
        if (qualname is None and isinstance(expr.func, gast.Attribute)
                and expr.func.attr in ARRAY_METHODS
                and self.parsed.qualify(expr.func.value) is None):
            return self.method_call(expr)
        if qualname is None:
            raise self.error(
                expr, "calling a local value",
                "only functions of imported modules, builtins and rules can be called",
            )
        if is_index_of(expr, self.lists):  # max(range(len(v)), key=v.__getitem__)
            call = _RenameReads(self.current).visit(copy.deepcopy(expr))
            call.no_gradient = True  # a position: no derivative flows through it
            return call
        if qualname == STOP_GRADIENT and len(expr.args) == 1 and not expr.keywords:
            stopped = copy.deepcopy(self.atom(expr.args[0]))
            stopped.no_gradient = True  # analyze: the value flows on, its derivative does not
            return stopped
        if any(isinstance(a, gast.Starred) for a in expr.args) or any(
            k.arg is None for k in expr.keywords
        ):
            raise self.error(expr, "*args or **kwargs in a call", "pass each argument by name")
        for arg in expr.args:
            if isinstance(arg, (gast.GeneratorExp, gast.ListComp)):
                raise self.error(
                    arg, f"{describe(arg)} passed to '{dotted(expr.func)}'",
                    "only sum(...) over a comprehension is supported",
                )
        args = [self.argument(a) for a in expr.args]
        keywords = [gast.keyword(arg=k.arg, value=self.argument(k.value))
                    for k in expr.keywords]
        call = gast.Call(func=copy.deepcopy(expr.func), args=args, keywords=keywords)
        call.qualname = qualname
        return gast.copy_location(call, expr)

    def reference(self, expr: gast.expr) -> gast.expr:
        """A name the function reads: a variable's current version, a constant or an import."""
        if isinstance(expr, gast.Name) and expr.id in self.current:
            return gast.copy_location(name(self.current[expr.id]), expr)
        if isinstance(expr, gast.Name) and expr.id in self.parsed.constants:
            return copy.deepcopy(expr)
        if self.parsed.qualify(expr) is not None:
            return copy.deepcopy(expr)
        raise self.error(
            expr, f"reading '{dotted(expr)}'",
            "it is neither a parameter, an assigned variable, a module constant nor an import",
        )


STOP_GRADIENT = "ad_transpile.stop_gradient"
REPORTS = ("builtins.print",)


def _is_report(stmt: gast.stmt) -> bool:
    """``print(...)``, ``logging.info(...)``, ``log.debug(...)``: kept, never differentiated."""
    if not (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call)):
        return False
    call = stmt.value
    qualname = getattr(call, "qualname", None) or ""
    method = call.func.attr if isinstance(call.func, gast.Attribute) else ""
    return (
        qualname in REPORTS
        or qualname.startswith("logging.")
        or method in ("debug", "info", "warning", "error", "critical", "exception", "log")
    )


def is_add_at(expr: gast.expr) -> bool:
    """``np.add.at(x, i, v)``: adds into an array in place, each repeated index again."""
    return (getattr(expr, "qualname", None) == "numpy.add.at" and len(expr.args) == 3
            and not expr.keywords and isinstance(expr.args[0], gast.Name))


def scatter_parts(stmt: gast.stmt) -> tuple[str, gast.expr, gast.expr] | None:
    """``(owner, index, value)`` of ``np.add.at(owner, index, value)``, else None."""
    if isinstance(stmt, gast.Expr) and is_add_at(stmt.value):
        owner, index, value = stmt.value.args
        return owner.id, index, value
    return None


def _is_guard(stmt: gast.stmt) -> bool:
    """``if bad: raise ValueError(...)``: kept as it is, like an ``assert``."""
    return (isinstance(stmt, gast.If) and len(stmt.body) == 1
            and isinstance(stmt.body[0], gast.Raise) and not stmt.orelse)


class _RenameReads(gast.NodeTransformer):
    """Read the current version of each variable in a kept statement."""

    def __init__(self, current: dict[str, str]) -> None:
        self.current = current

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in self.current:
            node.id = self.current[node.id]
        return node


def _is_increment(value: gast.expr, target: str) -> bool:
    """``v + a``, ``a + v`` or ``v - a``: an update whose derivative needs no saved value."""
    if not isinstance(value, gast.BinOp) or not isinstance(value.op, (gast.Add, gast.Sub)):
        return False
    left = getattr(value.left, "id", None) == target
    right = getattr(value.right, "id", None) == target
    if isinstance(value.op, gast.Sub):
        return left and not right
    return left != right


def _is_sum_of_comprehension(expr: gast.expr) -> bool:
    return (
        isinstance(expr, gast.Call)
        and getattr(expr, "qualname", None) in SUMS
        and len(expr.args) == 1
        and not expr.keywords
        and isinstance(expr.args[0], (gast.GeneratorExp, gast.ListComp))
    )


def _stores(statements: list[gast.stmt]) -> set[str]:
    return {
        n.id
        for s in statements
        for n in walk(s)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
    }


def hint(value: gast.expr) -> str | None:
    """A short name for what ``value`` holds: ``omega_x``, ``sin_x``, ``neg_x``."""
    if isinstance(value, gast.Compare) or getattr(value, "keywords", None):
        return None
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
        index = value.slice
        base = value.value.id.lstrip("_")
        if isinstance(index, gast.Constant) and type(index.value) is int:
            return f"{base}_{index.value}"
        return f"{base}_{index.id}" if isinstance(index, gast.Name) else None
    if isinstance(value, gast.Attribute) and isinstance(value.value, gast.Name):
        return f"{value.value.id.lstrip('_')}_{value.attr}"
    names = [getattr(v, "id", None) for v in operands(value)]
    if not names or None in names:
        return None
    a = names[0].lstrip("_")
    if isinstance(value, gast.Call) and len(names) == 1:
        func = value.func.attr if isinstance(value.func, gast.Attribute) else value.func.id
        return f"{func}_{a}"
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
        return f"neg_{a}"
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult):
        return f"{a}_{names[1].lstrip('_')}"
    return None


def dotted(expr: gast.expr) -> str:
    if isinstance(expr, gast.Attribute):
        return f"{dotted(expr.value)}.{expr.attr}"
    return getattr(expr, "id", "?")


def describe(expr: gast.expr) -> str:
    """How a user would name this kind of expression in a sentence."""
    names = {
        gast.IfExp: "a conditional expression", gast.BoolOp: "'and'/'or'",
        gast.Lambda: "a lambda", gast.ListComp: "a list comprehension",
        gast.GeneratorExp: "a generator expression", gast.Subscript: "indexing",
        gast.Yield: "'yield'", gast.Call: "a call", gast.YieldFrom: "'yield from'",
        gast.Await: "'await'", gast.Compare: "a comparison", gast.List: "a list",
        gast.Tuple: "a tuple", gast.Dict: "a dict", gast.NamedExpr: "':='",
        gast.JoinedStr: "an f-string", gast.SetComp: "a set comprehension",
        gast.DictComp: "a dict comprehension", gast.Set: "a set",
    }
    return names.get(type(expr), f"'{type(expr).__name__}'")


def _negation(expr: gast.expr) -> bool:
    """``-a`` of a value (not of a constant, which is a number as written)."""
    return (isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub)
            and not is_constant(expr))
