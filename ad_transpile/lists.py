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
from ad_transpile.names import Namer
from ad_transpile.parse import ParsedFunction
from ad_transpile.primitives import name

MUTATORS = ("append", "insert", "pop", "extend")
UNSUPPORTED_METHODS = ("remove", "clear", "sort", "reverse", "index", "count")
EXTREMES = ("builtins.max", "builtins.min")


def list_names(fn: gast.FunctionDef, params: set[str] = frozenset()) -> set[str]:
    """Variables that hold a Python list, decided from how each is made: a list literal, a
    comprehension, ``list(...)``, ``sorted(...)``, a slice or copy of a list, ``a + b`` of
    lists, or a parameter annotated ``list``. A name assigned anything else somewhere is not
    one. The value model (infer.py) will replace this function."""
    assigns = [s for s in gast.walk(fn) if isinstance(s, (gast.Assign, gast.AnnAssign))
               and s.value is not None]
    by_name: dict[str, list[gast.expr]] = {}
    others: set[str] = set()
    for stmt in assigns:
        targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
        for target in targets:
            if isinstance(target, gast.Name):
                by_name.setdefault(target.id, []).append(stmt.value)
            else:
                others |= {n.id for n in gast.walk(target) if isinstance(n, gast.Name)
                           and isinstance(n.ctx, gast.Store)}
    for loop in gast.walk(fn):
        if isinstance(loop, gast.For):
            others |= {n.id for n in gast.walk(loop.target) if isinstance(n, gast.Name)}
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
    for node in gast.walk(fn):
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name) \
                and isinstance(node.value, gast.List) and any(
                    _is_list(e, lists) for e in node.value.elts):
            found.add(node.targets[0].id)
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr in ("append", "insert") and node.args \
                and _is_list(node.func.value, lists) and _is_list(node.args[-1], lists):
            found.add(node.func.value.id)
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Subscript) \
                and _is_list(node.targets[0].value, lists) and _is_list(node.value, lists):
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
        return _is_list(value.value, lists)
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add):
        return _is_list(value.left, lists) and _is_list(value.right, lists)
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult):  # [0.0] * len(v)
        return _is_list(value.left, lists) or _is_list(value.right, lists)
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
            and _is_list(value.func.value, lists))


def _is_list(expr: gast.expr, lists: set[str]) -> bool:
    return (isinstance(expr, gast.Name) and expr.id in lists) or isinstance(
        expr, (gast.List, gast.ListComp))


def list_params(tree: gast.FunctionDef) -> set[str]:
    """Parameters annotated ``list`` or ``list[...]`` (``List[...]`` too)."""
    found = set()
    for param in [*tree.args.posonlyargs, *tree.args.args, *tree.args.kwonlyargs]:
        note = param.annotation
        if isinstance(note, gast.Subscript):
            note = note.value
        if isinstance(note, gast.Attribute):
            note = gast.Name(id=note.attr, ctx=gast.Load(), annotation=None, type_comment=None)
        if isinstance(note, gast.Name) and note.id in ("list", "List"):
            found.add(param.id)
    return found


def lower_lists(parsed: ParsedFunction, tree: gast.FunctionDef, namer: Namer) -> gast.FunctionDef:
    """A copy of the restructured ``tree`` whose list forms are the core ones."""
    fn = copy.deepcopy(tree)
    _Lowering(parsed, fn, namer).run()
    return fn


def _call(qualname: str, *args: gast.expr, **keywords: gast.expr) -> gast.Call:
    call = gast.Call(func=name(qualname.rpartition(".")[2]), args=list(args),
                     keywords=[gast.keyword(arg=k, value=v) for k, v in keywords.items()])
    call.qualname = qualname
    return call


def _length(var: str) -> gast.Call:
    return _call("builtins.len", name(var))


def _item(var: str, index: gast.expr) -> gast.Subscript:
    return gast.Subscript(value=name(var), slice=index, ctx=gast.Load())


def _method(owner: str, method: str, *args: gast.expr) -> gast.Expr:
    func = gast.Attribute(value=name(owner), attr=method, ctx=gast.Load())
    return gast.Expr(value=gast.Call(func=func, args=list(args), keywords=[]))


def _assign(target: gast.expr | str, value: gast.expr) -> gast.Assign:
    target = name(target, store=True) if isinstance(target, str) else target
    return gast.Assign(targets=[target], value=value, type_comment=None)


def index_of(op: str, var: str, **keywords: gast.expr) -> gast.Call:
    """``max(range(len(v)), key=v.__getitem__)``: the position of ``v``'s largest item, the
    first of equal ones as ``max(v)`` returns it (so ties give it the whole derivative)."""
    key = gast.Attribute(value=name(var), attr="__getitem__", ctx=gast.Load())
    call = _call(op, _call("builtins.range", _length(var)), key=key, **keywords)
    call.index_of = var  # normalize keeps it whole; it carries no derivative
    return call


class _Lowering:
    def __init__(self, parsed: ParsedFunction, fn: gast.FunctionDef, namer: Namer) -> None:
        self.parsed, self.fn, self.namer = parsed, fn, namer
        self.params = {p.id for p in [*fn.args.posonlyargs, *fn.args.args,
                                      *fn.args.kwonlyargs]}
        in_comprehensions = {id(n) for c in gast.walk(fn) if isinstance(c, gast.comprehension)
                             for n in gast.walk(c.target)}
        self.assigned = {n.id for n in gast.walk(fn) if isinstance(n, gast.Name)
                         and isinstance(n.ctx, gast.Store) and id(n) not in in_comprehensions}
        self.lists = list_names(fn, list_params(parsed.tree))
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
            for node in gast.walk(stmt):
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
            stmt = gast.copy_location(_assign(stmt.target, value), stmt)
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
        for node in gast.walk(stmt):
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
        return _Expressions(self).visit(expr)

    def hoisted(self, expr: gast.expr, hint: str = "_l") -> str:
        """A list-valued ``expr`` held in a name, computed before the statement."""
        if isinstance(expr, gast.Name):
            return expr.id
        if isinstance(expr, gast.ListComp):
            var = self.fresh_list(hint)
            self.before += self.comprehension(expr, var)
            return var
        var = self.fresh_list(hint)
        self.before += self.located([_assign(var, expr)], expr)
        return var

    def comprehension(self, comp: gast.ListComp, var: str, fresh: bool = True) -> list:
        """``[e for x in xs if c]`` -> ``var = []`` and a loop appending ``e`` to it."""
        renames: dict[str, str] = {}
        for generator in comp.generators:
            if generator.is_async:
                raise self.error(generator.iter, "'async for'",
                                 "a coroutine cannot be differentiated")
            for node in gast.walk(generator.target):
                if isinstance(node, gast.Name):
                    renames[node.id] = (self.namer.version(node.id)
                                        if node.id in self.assigned | set(renames.values())
                                        else node.id)
                    self.assigned.add(renames[node.id])
        _Rename(renames).visit(comp)
        body: list[gast.stmt] = [_method(var, "append", comp.elt)]
        for generator in reversed(comp.generators):
            for condition in reversed(generator.ifs):
                body = [gast.If(test=condition, body=body, orelse=[])]
            body = [gast.For(target=generator.target, iter=generator.iter, body=body,
                             orelse=[], type_comment=None)]
        made = [_assign(var, gast.List(elts=[], ctx=gast.Load()))] if fresh else []
        return self.block(self.located(made + body, comp))

    def extend(self, owner: str, items: gast.expr) -> list[gast.stmt]:
        """``v.extend(w)``: one append per item."""
        if isinstance(items, gast.List):
            return self.block([_method(owner, "append", e) for e in items.elts])
        if isinstance(items, (gast.ListComp, gast.GeneratorExp)):
            comp = gast.ListComp(elt=items.elt, generators=items.generators)
            return self.comprehension(comp, owner, fresh=False)
        source = self.hoisted(self.expression(items))
        counter = self.namer.numbered("_i")
        loop = gast.For(target=name(counter, store=True),
                        iter=_call("builtins.range", _length(source)),
                        body=[_method(owner, "append", _item(source, name(counter)))],
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
                and any(self.lowers(a) for a in iterable.args) \
                and all(isinstance(a, (gast.Name, gast.List)) for a in iterable.args) \
                and isinstance(target, gast.Tuple) and len(target.elts) == len(iterable.args):
            sources, targets = list(iterable.args), list(target.elts)
        if sources is None or not all(isinstance(t, gast.Name) for t in targets):
            stmt.body = self.block(stmt.body)  # items that are tuples stay as they are
            return [stmt]
        held = [self.hoisted(s) for s in sources]
        changed = _changed_lists(stmt.body)
        for var in held:
            if var in changed:
                raise self.error(stmt.iter, f"changing the list '{var}' while looping over it",
                                 "loop over a copy (list(...)), or by index")
        if counter is None:
            counter = name(self.namer.numbered("_i"), store=True)
        lengths = [_length(v) for v in held]
        bound = lengths[0] if len(lengths) == 1 else _call("builtins.min", *lengths)
        positions: gast.expr = _call("builtins.range", bound)
        if backwards:
            positions = _call("builtins.reversed", positions)
        reads = [_assign(copy.deepcopy(t), _item(v, name(counter.id)))
                 for t, v in zip(targets, held)]
        loop = gast.For(target=counter, iter=positions, body=reads + stmt.body,
                        orelse=[], type_comment=None)
        gast.copy_location(loop, stmt)
        loop.body = self.block(self.located(reads, stmt)) + self.block(stmt.body)
        return [loop]

    def lowers(self, iterable: gast.expr) -> bool:
        """An iterable to loop over by index: a list (not a permutation), or a literal with
        values in it that are not constants."""
        if isinstance(iterable, gast.Name):
            return iterable.id in self.lists and iterable.id not in self.indices
        return isinstance(iterable, gast.List) and not all(
            isinstance(e, gast.Constant) or (isinstance(e, gast.UnaryOp)
                                             and isinstance(e.operand, gast.Constant))
            for e in iterable.elts)


class _Expressions(gast.NodeTransformer):
    """Rewrites the list forms in one statement's expressions, hoisting what they need."""

    def __init__(self, lowering: _Lowering) -> None:
        self.lowering = lowering

    def visit_Lambda(self, node):
        return node

    def visit_ListComp(self, node):
        return name(self.lowering.hoisted(node))

    def visit_GeneratorExp(self, node):  # its items, in a list: read once, they are the same
        comp = gast.ListComp(elt=node.elt, generators=node.generators)
        return name(self.lowering.hoisted(gast.copy_location(comp, node)))

    def visit_Call(self, node):
        low = self.lowering
        qualname = getattr(node, "qualname", None)
        if len(node.args) == 1 and isinstance(node.args[0], gast.GeneratorExp):
            gen = node.args[0]
            sums = qualname in ("builtins.sum", "math.fsum")
            if not (sums and not _loops_over_lists(gen, low)):
                node.args[0] = gast.copy_location(
                    gast.ListComp(elt=gen.elt, generators=gen.generators), gen)
        if qualname in ("builtins.sum", "math.fsum") and len(node.args) == 1 \
                and isinstance(node.args[0], gast.ListComp) \
                and not _loops_over_lists(node.args[0], low):
            return node  # normalize sums a comprehension as it goes
        if qualname == "builtins.list" and len(node.args) == 1 \
                and isinstance(node.args[0], gast.ListComp):
            return self.visit(node.args[0])
        self.generic_visit(node)
        if is_list_copy(node, low.lists):
            return gast.copy_location(_call("builtins.list", node.func.value), node)
        single = len(node.args) == 1 and not node.keywords
        if qualname in EXTREMES and single and _listlike(node.args[0], low):
            var = low.hoisted(node.args[0])
            op = qualname.rpartition(".")[2]
            at = low.namer.fresh(f"i_{op}")
            low.before += low.located([_assign(at, index_of(qualname, var))], node)
            return gast.copy_location(_item(var, name(at)), node)
        if qualname == "builtins.sorted" and len(node.args) == 1 \
                and all(k.arg == "reverse" for k in node.keywords) \
                and _listlike(node.args[0], low):
            var = low.hoisted(node.args[0])
            order = low.namer.fresh("order")
            low.indices.add(order)
            low.lists.add(order)
            keywords = {k.arg: k.value for k in node.keywords}
            low.before += low.located([_assign(order, index_of(qualname, var, **keywords))],
                                      node)
            j = low.namer.fresh("j")
            comp = gast.ListComp(elt=_item(var, name(j)), generators=[gast.comprehension(
                target=name(j, store=True), iter=name(order), ifs=[], is_async=0)])
            sorted_ = low.fresh_list("ordered")
            low.before += low.comprehension(gast.copy_location(comp, node), sorted_)
            return gast.copy_location(name(sorted_), node)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        low = self.lowering
        if isinstance(node.op, gast.Add) and _listlike(node.left, low) \
                and _listlike(node.right, low):  # a + b: a copy of a, then b appended
            joined = low.fresh_list("joined")
            low.before += low.located([_assign(joined, _call("builtins.list", node.left))],
                                      node)
            low.before += low.extend(joined, node.right)
            return gast.copy_location(name(joined), node)
        return node


def _listlike(expr: gast.expr, low: _Lowering) -> bool:
    return isinstance(expr, (gast.List, gast.ListComp)) or low.is_list(expr)


def _loops_over_lists(comp: gast.AST, low: _Lowering) -> bool:
    return any(low.lowers(g.iter) for g in comp.generators)


def _pair(target: gast.expr) -> bool:
    return (isinstance(target, gast.Tuple) and len(target.elts) == 2
            and all(isinstance(t, gast.Name) for t in target.elts))


def _changed_lists(body: list[gast.stmt]) -> set[str]:
    """Lists a loop body changes in place (appends, pops, writes into)."""
    changed = set()
    for node in (n for s in body for n in gast.walk(s)):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr in MUTATORS and isinstance(node.func.value, gast.Name):
            changed.add(node.func.value.id)
        if isinstance(node, (gast.Assign, gast.AugAssign)):
            targets = node.targets if isinstance(node, gast.Assign) else [node.target]
            changed |= {t.value.id for t in targets if isinstance(t, gast.Subscript)
                        and isinstance(t.value, gast.Name)}
    return changed


def _reads(expr: gast.AST) -> set[str]:
    return {n.id for n in gast.walk(expr) if isinstance(n, gast.Name)}


class _Rename(gast.NodeTransformer):
    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames

    def visit_Name(self, node):
        node.id = self.renames.get(node.id, node.id)
        return node
