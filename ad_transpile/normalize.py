"""Normalize pass: one operation per statement, each variable assigned once.

Nested expressions are split into assignments to readable temporaries, augmented assignment and
tuple unpacking are desugared, and a variable assigned again gets a new version name, so that the
differentiating passes see one primitive per statement::

    def h(x):                            def h(x):
        y = math.sin(x) ** 2                 sin_x = math.sin(x)
        y += 1.0                    ->       y = sin_x ** 2
        return y * x                         y_1 = y + 1.0
                                             y_x = y_1 * x
                                             return y_x
"""

from __future__ import annotations

import copy

import gast

from ad_transpile import errors
from ad_transpile.names import Namer
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import assign, is_constant, name

REFUSED = {
    gast.If: ("an 'if' statement", "control flow is not supported yet"),
    gast.For: ("a 'for' loop", "control flow is not supported yet"),
    gast.While: ("a 'while' loop", "control flow is not supported yet"),
    gast.Try: ("'try'", "exceptions cannot be differentiated"),
    gast.With: ("'with'", "context managers cannot be differentiated"),
    gast.Global: ("'global'", "writes to globals cannot be differentiated"),
    gast.Nonlocal: ("'nonlocal'", "writes to enclosing scopes cannot be differentiated"),
    gast.Delete: ("'del'", "deleting a variable cannot be differentiated"),
    gast.FunctionDef: ("a nested function", "define it at the top level of the module"),
    gast.ClassDef: ("a class definition", "define it outside the function"),
    gast.Raise: ("'raise'", "exceptions cannot be differentiated"),
}


def normalize(parsed: ParsedFunction, namer: Namer) -> gast.FunctionDef:
    """A copy of ``parsed.tree`` with one operation per statement."""
    return _Normalizer(parsed, namer).run()


class _Normalizer:
    def __init__(self, parsed: ParsedFunction, namer: Namer) -> None:
        self.parsed, self.namer = parsed, namer
        self.current: dict[str, str] = {}
        self.body: list[gast.stmt] = []
        self.returned = False

    def run(self) -> gast.FunctionDef:
        tree = self.parsed.tree
        self._check_signature(tree)
        for param in [*tree.args.posonlyargs, *tree.args.args, *tree.args.kwonlyargs]:
            self.current[param.id] = param.id
        for stmt in tree.body:
            if self.returned:
                break
            self.statement(stmt)
        if not self.returned:
            raise self.parsed.error(
                errors.Unsupported, tree, construct="a function without 'return'",
                why="there is no result to differentiate",
            )
        args = copy.deepcopy(tree.args)
        for param in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            param.annotation = None
        return gast.FunctionDef(
            name=tree.name, args=args, body=self.body, decorator_list=[], returns=None,
            type_comment=None, type_params=[], lineno=tree.lineno, col_offset=tree.col_offset,
        )

    def _check_signature(self, tree: gast.FunctionDef) -> None:
        if tree.args.vararg or tree.args.kwarg:
            raise self.parsed.error(
                errors.Unsupported, tree, construct="*args or **kwargs",
                why="name every parameter so that it can be differentiated",
            )

    # statements

    def statement(self, stmt: gast.stmt) -> None:
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant):
            return  # a docstring
        if isinstance(stmt, gast.Pass):
            return
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1:
            return self.assign(stmt.targets[0], stmt.value, stmt)
        if isinstance(stmt, gast.AnnAssign) and stmt.value is not None:
            return self.assign(stmt.target, stmt.value, stmt)
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
            value = gast.BinOp(left=name(stmt.target.id), op=stmt.op, right=stmt.value)
            return self.assign(stmt.target, gast.copy_location(value, stmt), stmt)
        if isinstance(stmt, gast.Return):
            return self.return_(stmt)
        if isinstance(stmt, gast.Expr):
            construct, why = f"{describe(stmt.value)} as a statement", "not supported yet"
        else:
            default = (f"'{type(stmt).__name__}'", "not supported yet")
            construct, why = REFUSED.get(type(stmt), default)
        raise self.parsed.error(errors.Unsupported, stmt, construct=construct, why=why)

    def assign(self, target: gast.expr, value: gast.expr, stmt: gast.stmt) -> None:
        if isinstance(target, gast.Name):
            value = self.operation(value)
            self.emit(self.bind(target.id), value, stmt)
        elif (
            isinstance(target, gast.Tuple)
            and isinstance(value, gast.Tuple)
            and len(target.elts) == len(value.elts)
            and all(isinstance(t, gast.Name) for t in target.elts)
        ):
            atoms = [self.atom(v) for v in value.elts]
            for t, atom in zip(target.elts, atoms):
                self.emit(self.bind(t.id), atom, stmt)
        else:
            raise self.parsed.error(
                errors.Unsupported, target, construct="this assignment target",
                why="assign to plain names, or unpack a tuple of the same length",
            )

    def return_(self, stmt: gast.Return) -> None:
        if stmt.value is None:
            raise self.parsed.error(
                errors.Unsupported, stmt, construct="'return' without a value",
                why="there is no result to differentiate",
            )
        value = self.atom(stmt.value)
        self.body.append(gast.copy_location(gast.Return(value=value), stmt))
        self.returned = True

    def emit(self, target: str, value: gast.expr, where: gast.AST) -> None:
        self.body.append(gast.copy_location(assign(target, value), where))

    def bind(self, source_name: str) -> str:
        """The name a new value of ``source_name`` is stored under (a new version if reassigned)."""
        new = self.namer.version(source_name) if source_name in self.current else source_name
        self.current[source_name] = new
        return new

    # expressions

    def atom(self, expr: gast.expr) -> gast.expr:
        """``expr`` as a name or constant, computing it into a temporary first if needed."""
        if is_constant(expr):
            return copy.deepcopy(expr)
        if isinstance(expr, (gast.Name, gast.Attribute)):
            return self.reference(expr)
        value = self.operation(expr)
        target = self.namer.fresh(hint(value))
        self.emit(target, value, expr)
        return name(target)

    def operation(self, expr: gast.expr) -> gast.expr:
        """``expr`` as a single operation on atoms."""
        if is_constant(expr) or isinstance(expr, (gast.Name, gast.Attribute)):
            return self.atom(expr)
        if isinstance(expr, gast.BinOp):
            left = self.atom(expr.left)
            return gast.BinOp(left=left, op=expr.op, right=self.atom(expr.right))
        if isinstance(expr, gast.UnaryOp):
            return gast.UnaryOp(op=expr.op, operand=self.atom(expr.operand))
        if isinstance(expr, gast.Call):
            return self.call(expr)
        if isinstance(expr, gast.Compare) and len(expr.ops) == 1:
            left = self.atom(expr.left)
            right = self.atom(expr.comparators[0])
            return gast.Compare(left=left, ops=expr.ops, comparators=[right])
        raise self.parsed.error(
            errors.Unsupported, expr, construct=describe(expr), why="not supported yet"
        )

    def call(self, expr: gast.Call) -> gast.Call:
        qualname = getattr(expr, "qualname", None)
        if qualname is None:
            raise self.parsed.error(
                errors.Unsupported, expr, construct="calling a local value",
                why="only functions of imported modules, builtins and rules can be called",
            )
        if any(isinstance(a, gast.Starred) for a in expr.args) or any(
            k.arg is None for k in expr.keywords
        ):
            raise self.parsed.error(
                errors.Unsupported, expr, construct="*args or **kwargs in a call",
                why="pass each argument by name or position",
            )
        args = [self.atom(a) for a in expr.args]
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value)) for k in expr.keywords]
        call = gast.Call(func=copy.deepcopy(expr.func), args=args, keywords=keywords)
        call.qualname = qualname
        return gast.copy_location(call, expr)

    def reference(self, expr: gast.expr) -> gast.expr:
        """A name read by the function: a current variable version, a constant or a module value."""
        if isinstance(expr, gast.Name) and expr.id in self.current:
            return gast.copy_location(name(self.current[expr.id]), expr)
        if isinstance(expr, gast.Name) and expr.id in self.parsed.constants:
            return copy.deepcopy(expr)
        if self.parsed.qualify(expr) is not None:
            return copy.deepcopy(expr)
        raise self.parsed.error(
            errors.Unsupported, expr, construct=f"reading '{dotted(expr)}'",
            why="it is neither a parameter, a local variable, a module constant nor an import",
        )


def hint(value: gast.expr) -> str | None:
    """A short name for what ``value`` holds: ``omega_x``, ``sin_x``, ``neg_x``, ``r_sq``."""
    names = [getattr(v, "id", None) for v in _operands(value)]
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


def _operands(value: gast.expr) -> list[gast.expr]:
    if isinstance(value, gast.BinOp):
        return [value.left, value.right]
    if isinstance(value, gast.UnaryOp):
        return [value.operand]
    if isinstance(value, gast.Call) and not value.keywords:
        return list(value.args)
    return []


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
        gast.Await: "'await'",
        gast.Compare: "a chained comparison", gast.List: "a list", gast.Tuple: "a tuple",
        gast.Dict: "a dict", gast.NamedExpr: "':='", gast.JoinedStr: "an f-string",
    }
    return names.get(type(expr), f"'{type(expr).__name__}'")
