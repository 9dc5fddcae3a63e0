"""Lists pass: Python's list forms reduced to a small core, before normalization.

The core is a list literal, ``append``, ``insert``, ``pop``, reading ``v[i]`` and ``v[a:b]``,
writing ``v[i] = e``, ``list(v)``, ``sum(v)`` and ``len(v)``; the differentiating passes have a
rule for each (``list_rules``). Everything else is written in terms of them::

    m = max(x * c for c in cs)          _l = []
                                        for c in cs:
                                  ->        _l.append(x * c)
                                        i_max = max(range(len(_l)), key=_l.__getitem__)
                                        m = _l[i_max]

and ``for x in v`` over a list becomes ``for _i in range(len(v)): x = v[_i]`` (``zip`` and
``enumerate`` likewise, by index), ``sorted(v)`` the list of ``v[j]`` along the permutation,
``v.extend(w)`` and ``a + b`` loops of appends, ``v[i] += e`` a read and a write.
"""

from __future__ import annotations

import copy

import gast

from ad_transpile import errors
from ad_transpile.list_expressions import Expressions
from ad_transpile.list_kinds import (
    MUTATORS,
    UNSUPPORTED_METHODS,
    assign,
    call,
    item,
    length,
    list_names,
    list_params,
    method,
)
from ad_transpile.names import Namer
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import name
from ad_transpile.trees import walk


def lower_lists(parsed: ParsedFunction, tree: gast.FunctionDef, namer: Namer,
                wrt: tuple[str, ...] | None = None) -> gast.FunctionDef:
    """A copy of the restructured ``tree`` whose list forms are the core ones. A list passed
    in and not among ``wrt`` (None: any may be) carries no derivative: a loop over it stays
    a loop over its items (``for x in xs``), which costs less than one by index."""
    fn = copy.deepcopy(tree)
    _Lowering(parsed, fn, namer, wrt).run()
    return fn


class _Lowering:
    def __init__(self, parsed: ParsedFunction, fn: gast.FunctionDef, namer: Namer,
                 wrt: tuple[str, ...] | None = None) -> None:
        self.parsed, self.fn, self.namer = parsed, fn, namer
        self.params = {p.id for p in [*fn.args.posonlyargs, *fn.args.args,
                                      *fn.args.kwonlyargs]}
        in_comprehensions = {id(n) for c in walk(fn) if isinstance(c, gast.comprehension)
                             for n in walk(c.target)}
        self.assigned = {n.id for n in walk(fn) if isinstance(n, gast.Name)
                         and isinstance(n.ctx, gast.Store) and id(n) not in in_comprehensions}
        self.constant = set() if wrt is None else self.params - set(wrt) - self.assigned
        self.lists = list_names(fn, list_params(parsed.tree, parsed.arg_kinds))
        self.indices: set[str] = set()  # permutations: lists of positions, not of values
        self.before: list[gast.stmt] = []

    def error(self, node, construct: str, why: str) -> errors.TranspileError:
        return self.parsed.error(errors.Unsupported, node, construct=construct, why=why)

    def run(self) -> None:
        self.fn.body = self.block(self.fn.body)

    def fresh_list(self, hint: str = "_l") -> str:
        var = self.namer.numbered(hint)
        self.lists.add(var)
        return var

    def block(self, statements: list[gast.stmt]) -> list[gast.stmt]:
        out: list[gast.stmt] = []
        for stmt in statements:
            out += self.statement(stmt)
        return out

    def located(self, statements: list[gast.stmt], where: gast.AST) -> list[gast.stmt]:
        for stmt in statements:
            for node in walk(stmt):
                if isinstance(node, (gast.stmt, gast.expr)) and not hasattr(node, "lineno"):
                    gast.copy_location(node, where)
        return statements

    def statement(self, stmt: gast.stmt) -> list[gast.stmt]:
        """``stmt`` in core forms, after the statements its expressions need first."""
        self.refuse_mutating_arguments(stmt)
        outer, self.before = self.before, []
        if isinstance(stmt, gast.If):
            stmt.test = self.expression(stmt.test)
            stmt.body, stmt.orelse = self.block(stmt.body), self.block(stmt.orelse)
            lowered = [stmt]
        elif isinstance(stmt, gast.For):
            stmt.iter = self.expression(stmt.iter)
            lowered = self.loop(stmt)
        elif isinstance(stmt, gast.While):
            stmt.body = self.block(stmt.body)
            lowered = [stmt]
        else:
            lowered = self.simple(stmt)
        done, self.before = self.before, outer
        return self.located(done + lowered, stmt)

    def simple(self, stmt: gast.stmt) -> list[gast.stmt]:
        if (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name)
                and isinstance(stmt.value, gast.ListComp)
                and stmt.targets[0].id not in _reads(stmt.value)):
            # v = [e for x in xs]: build v itself
            self.lists.add(stmt.targets[0].id)
            return self.comprehension(stmt.value, stmt.targets[0].id)
        if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Name) \
                and stmt.value.id in self.lists and stmt.value.id not in self.indices:
            raise self.error(stmt, f"a second name for the list '{stmt.value.id}'",
                             "changing one would change the other: copy it with "
                             f"list({stmt.value.id})")
        if (isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Subscript)
                and self.is_list(stmt.target.value)):  # v[i] += e: read, then write
            read = gast.Subscript(value=copy.deepcopy(stmt.target.value),
                                  slice=copy.deepcopy(stmt.target.slice), ctx=gast.Load())
            value = gast.BinOp(left=read, op=stmt.op, right=stmt.value)
            stmt = gast.copy_location(assign(stmt.target, value), stmt)
        if isinstance(stmt, gast.Expr) and self.list_method(stmt.value, "extend"):
            owner = stmt.value.func.value.id
            if len(stmt.value.args) != 1 or stmt.value.keywords:
                raise self.error(stmt, "this call of 'extend'", "pass one list")
            return self.extend(owner, stmt.value.args[0])
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
            func = stmt.value.func
            if isinstance(func, gast.Attribute) and func.attr in UNSUPPORTED_METHODS \
                    and self.is_list(func.value):
                raise self.error(stmt, f"the list method '{func.attr}'",
                                 "not supported yet: build a new list instead")
        for field in ("value", "test", "msg"):
            if getattr(stmt, field, None) is not None:
                setattr(stmt, field, self.expression(getattr(stmt, field)))
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
            stmt.targets[0].slice = self.expression(stmt.targets[0].slice)
        return [stmt]

    def is_list(self, expr: gast.expr) -> bool:
        return isinstance(expr, gast.Name) and expr.id in self.lists

    def list_method(self, expr: gast.expr, method: str) -> bool:
        return (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Attribute)
                and expr.func.attr == method and self.is_list(expr.func.value))

    def refuse_mutating_arguments(self, stmt: gast.stmt) -> None:
        """A list passed in is the caller's: changing it would change their data."""
        owners = []
        for node in walk(stmt):
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                    and node.func.attr in MUTATORS + UNSUPPORTED_METHODS:
                owners.append((node.func.value, node))
        if isinstance(stmt, (gast.Assign, gast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
            owners += [(t.value, t) for t in targets if isinstance(t, gast.Subscript)]
        for owner, node in owners:
            if isinstance(owner, gast.Name) and owner.id in self.params \
                    and owner.id not in self.assigned and owner.id in self.lists:
                raise self.error(node, f"changing the argument '{owner.id}' in place",
                                 "it is the caller's list: copy it first "
                                 f"({owner.id} = list({owner.id}))")

    # expressions

    def expression(self, expr: gast.expr) -> gast.expr:
        return Expressions(self).visit(expr)

    def hoisted(self, expr: gast.expr, hint: str = "_l") -> str:
        """A list-valued ``expr`` held in a name, computed before the statement."""
        if isinstance(expr, gast.Name):
            return expr.id
        if isinstance(expr, gast.ListComp):
            var = self.fresh_list(hint)
            self.before += self.comprehension(expr, var)
            return var
        var = self.fresh_list(hint)
        self.before += self.located([assign(var, expr)], expr)
        return var

    def comprehension(self, comp: gast.ListComp, var: str, fresh: bool = True) -> list:
        """``[e for x in xs if c]`` -> ``var = []`` and a loop appending ``e`` to it."""
        renames: dict[str, str] = {}
        for generator in comp.generators:
            if generator.is_async:
                raise self.error(generator.iter, "'async for'",
                                 "a coroutine cannot be differentiated")
            for node in walk(generator.target):
                if isinstance(node, gast.Name):
                    renames[node.id] = (self.namer.version(node.id)
                                        if node.id in self.assigned | set(renames.values())
                                        else node.id)
                    self.assigned.add(renames[node.id])
        _Rename(renames).visit(comp)
        body: list[gast.stmt] = [method(var, "append", comp.elt)]
        for generator in reversed(comp.generators):
            for condition in reversed(generator.ifs):
                body = [gast.If(test=condition, body=body, orelse=[])]
            body = [gast.For(target=generator.target, iter=generator.iter, body=body,
                             orelse=[], type_comment=None)]
        made = [assign(var, gast.List(elts=[], ctx=gast.Load()))] if fresh else []
        return self.block(self.located(made + body, comp))

    def extend(self, owner: str, items: gast.expr) -> list[gast.stmt]:
        """``v.extend(w)``: one append per item."""
        if isinstance(items, gast.List):
            return self.block([method(owner, "append", e) for e in items.elts])
        if isinstance(items, (gast.ListComp, gast.GeneratorExp)):
            comp = gast.ListComp(elt=items.elt, generators=items.generators)
            return self.comprehension(comp, owner, fresh=False)
        source = self.hoisted(self.expression(items))
        counter = self.namer.numbered("_i")
        loop = gast.For(target=name(counter, store=True),
                        iter=call("builtins.range", length(source)),
                        body=[method(owner, "append", item(source, name(counter)))],
                        orelse=[], type_comment=None)
        return self.before_and([loop])

    def before_and(self, statements: list[gast.stmt]) -> list[gast.stmt]:
        done, self.before = self.before, []
        return done + self.block(statements)

    # loops

    def loop(self, stmt: gast.For) -> list[gast.stmt]:
        """``for x in v`` over a list -> by index, so that each item has its adjoint."""
        iterable, target = stmt.iter, stmt.target
        qualname = getattr(iterable, "qualname", None)
        sources: list[gast.expr] | None = None
        targets: list[gast.expr] = []
        counter: gast.expr | None = None
        backwards = False
        if self.lowers(iterable):
            sources, targets = [iterable], [target]
        elif qualname == "builtins.reversed" and len(iterable.args) == 1 \
                and self.lowers(iterable.args[0]):
            sources, targets, backwards = [iterable.args[0]], [target], True
        elif qualname == "builtins.enumerate" and len(iterable.args) == 1 \
                and not iterable.keywords and self.lowers(iterable.args[0]) \
                and _pair(target):
            sources, targets, counter = [iterable.args[0]], [target.elts[1]], target.elts[0]
        elif qualname == "builtins.zip" and iterable.args and not iterable.keywords \
                and any(self.lowers(_forwards(a)) for a in iterable.args) \
                and all(_indexable(a) for a in iterable.args) \
                and isinstance(target, gast.Tuple) and len(target.elts) == len(iterable.args):
            sources, targets = list(iterable.args), list(target.elts)
        if sources is None or not all(isinstance(t, gast.Name) for t in targets):
            stmt.body = self.block(stmt.body)  # items that are tuples stay as they are
            return [stmt]
        turned = [_forwards(s) is not s for s in sources]  # zip(xs, reversed(ys))
        held = [self.hoisted(_forwards(s)) for s in sources]
        changed = _changed_lists(stmt.body)
        for var in held:
            if var in changed:
                raise self.error(stmt.iter, f"changing the list '{var}' while looping over it",
                                 "loop over a copy (list(...)), or by index")
        if counter is None:
            counter = name(self.namer.numbered("_i"), store=True)
        lengths = [length(v) for v in held]
        bound = lengths[0] if len(lengths) == 1 else call("builtins.min", *lengths)
        positions: gast.expr = call("builtins.range", bound)
        if backwards:
            positions = call("builtins.reversed", positions)
        reads = [assign(copy.deepcopy(t), item(v, _position(v, counter.id, back)))
                 for t, v, back in zip(targets, held, turned)]
        loop = gast.For(target=counter, iter=positions, body=reads + stmt.body,
                        orelse=[], type_comment=None)
        gast.copy_location(loop, stmt)
        loop.body = self.block(self.located(reads, stmt)) + self.block(stmt.body)
        return [loop]

    def lowers(self, iterable: gast.expr) -> bool:
        """An iterable to loop over by index: a list (not a permutation), or a literal with
        values in it that are not constants."""
        if isinstance(iterable, gast.Name):
            return iterable.id in self.lists and iterable.id not in self.indices \
                and iterable.id not in self.constant
        return isinstance(iterable, gast.List) and not all(
            isinstance(e, gast.Constant) or (isinstance(e, gast.UnaryOp)
                                             and isinstance(e.operand, gast.Constant))
            for e in iterable.elts)


def _forwards(iterable: gast.expr) -> gast.expr:
    """What ``reversed(v)`` walks backwards: ``v``; any other iterable as it is."""
    if getattr(iterable, "qualname", None) == "builtins.reversed" and len(iterable.args) == 1 \
            and not iterable.keywords:
        return iterable.args[0]
    return iterable


def _indexable(iterable: gast.expr) -> bool:
    """A list, a literal or a range, or one of them reversed: each item is had by index."""
    forwards = _forwards(iterable)
    return isinstance(forwards, (gast.Name, gast.List)) \
        or getattr(forwards, "qualname", None) == "builtins.range"


def _position(var: str, counter: str, backwards: bool) -> gast.expr:
    """``i``, or ``len(v) - 1 - i`` for ``v`` walked backwards."""
    if not backwards:
        return name(counter)
    last = gast.BinOp(left=length(var), op=gast.Sub(), right=gast.Constant(value=1, kind=None))
    return gast.BinOp(left=last, op=gast.Sub(), right=name(counter))


def _pair(target: gast.expr) -> bool:
    return (isinstance(target, gast.Tuple) and len(target.elts) == 2
            and all(isinstance(t, gast.Name) for t in target.elts))


def _changed_lists(body: list[gast.stmt]) -> set[str]:
    """Lists a loop body changes in place (appends, pops, writes into)."""
    changed = set()
    for node in (n for s in body for n in walk(s)):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr in MUTATORS and isinstance(node.func.value, gast.Name):
            changed.add(node.func.value.id)
        if isinstance(node, (gast.Assign, gast.AugAssign)):
            targets = node.targets if isinstance(node, gast.Assign) else [node.target]
            changed |= {t.value.id for t in targets if isinstance(t, gast.Subscript)
                        and isinstance(t.value, gast.Name)}
    return changed


def _reads(expr: gast.AST) -> set[str]:
    return {n.id for n in walk(expr) if isinstance(n, gast.Name)}


class _Rename(gast.NodeTransformer):
    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames

    def visit_Name(self, node):
        node.id = self.renames.get(node.id, node.id)
        return node
