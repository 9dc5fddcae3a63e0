"""Reverse pass: the primal sweep, then an adjoint sweep that walks the statements backwards.

For every active ``y = op(a, b)``, read from the last to the first, each active argument receives
its partial derivative times the adjoint of ``y`` (backpropagation)::

    y = math.sin(x)          ->     y = math.sin(x)
    return y                        d_y = 1.0
                                    d_x = math.cos(x) * d_y
                                    return d_x

A value the adjoint sweep needs is saved on the list ``_stack`` only if something assigns it again
before the sweep comes back to it: in a loop, or later in the function. Each branch taken and each
loop's trip count are saved the same way when they would otherwise be lost, and a loop reverses
as a loop: ``for x in reversed(xs)``.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import gast

from ad_transpile.accumulation import (
    accumulates_only,
    names_outside,
    nested_accumulates,
    sums_of,
    walks_again,
)
from ad_transpile.analyze import (
    Activity,
    is_number,
    is_unbroadcast,
    reads,
)
from ad_transpile.calls import Calls, assigned_names
from ad_transpile.chain import (
    arguments,
    partial_terms,
    structural_adjoints,
    structural_rule,
    times,
)
from ad_transpile.explain import BACKWARDS, ONCE, noted
from ad_transpile.fusion import Accumulation, fuse
from ad_transpile.list_adjoints import ListAdjoints
from ad_transpile.names import Namer
from ad_transpile.primitives import (
    GETITEM,
    assign,
    is_constant,
    make_constant,
    name,
    positional_signature,
    primitive,
)
from ad_transpile.registry import Registry
from ad_transpile.reverse_writes import WriteAdjoints
from ad_transpile.shapes import Shapes, shapes
from ad_transpile.tape import one_push, recompute_cheap
from ad_transpile.trees import walk
from ad_transpile.writes import is_write


def reverse(
    fn: gast.FunctionDef,
    wrt: list[str],
    activity: Activity,
    registry: Registry,
    spell: Callable[[str], gast.expr],
    namer: Namer,
    *,
    seeded: bool,
    returns_value: bool,
    several: bool = False,
    calls: Calls | None = None,
    source_names: frozenset[str] = frozenset(),
) -> gast.FunctionDef:
    """The adjoint function of ``fn``: returns the adjoints of ``wrt`` (and the result).

    Given a cotangent (a callee's vector-Jacobian product), it is named for what it is the
    adjoint of: ``d_energy`` for ``return energy``, ``d_neuron`` for ``neuron``'s result
    where that is a temporary (``source_names``: the names the user wrote)."""
    *statements, ret = fn.body
    d_result = None  # the cotangent of a result that is no name the user wrote
    if not seeded and not isinstance(ret.value, gast.Tuple):
        if not isinstance(ret.value, gast.Name):
            d_result = namer.numbered(f"d_{fn.name}")
        elif ret.value.id not in source_names and ret.value.id not in namer.adjoints:
            namer.adjoints[ret.value.id] = namer.numbered(f"d_{fn.name}")
    sweep = _AdjointSweep(fn, activity, registry, spell, namer)
    sweep.calls = calls
    sweep.functional = sweep.arrays or not seeded  # a cotangent passed in may be an array
    sweep.seeded = {v.id for v in (ret.value.elts if isinstance(ret.value, gast.Tuple)
                                   else [ret.value]) if isinstance(v, gast.Name)
                    and not sweep.assigned_more_than_once(v.id)}
    primal, adjoint = sweep.block(statements, loops=())
    result = ret.value
    body: list[gast.stmt] = []
    if sweep.used_stack:
        body.append(assign(sweep.stack, gast.List(elts=[], ctx=gast.Load())))
    body += primal
    if returns_value:
        kept, result = sweep.kept_result(result, spell)
        body += kept
    if returns_value and isinstance(result, gast.Name) and result.id in sweep.restored:
        value = namer.fresh("value")
        body.append(assign(value, result))
        result = name(value)
    outputs = ret.value.elts if isinstance(ret.value, gast.Tuple) else [ret.value]
    seeds = [namer.derivative(v.id) if isinstance(v, gast.Name)
             else d_result or namer.fresh("d_result") for v in outputs]
    if seeded and activity.is_active(ret.value):
        body.append(gast.copy_location(assign(seeds[0], make_constant(1.0)), ret))
    returned = {v.id for v in outputs if isinstance(v, gast.Name)}
    for v in sorted(returned & sweep.scattered):  # written into in place: our own copy
        body.append(assign(namer.derivative(v), gast.BinOp(
            left=name(namer.derivative(v)), op=gast.Add(), right=sweep.zeros_like(v))))
    starting = sorted((activity.active | set(wrt)) - returned)
    body += [assign(namer.derivative(v), sweep.zero(v)) for v in starting
             if not sweep.lists.made_in_block(v)]  # those start in their block
    body += adjoint
    body = fuse(body, sweep.accumulations)
    adjoints = [name(namer.derivative(w)) for w in wrt]
    grads = gast.Tuple(elts=adjoints, ctx=gast.Load()) if several else adjoints[0]
    value_grads = gast.Tuple(elts=[result, grads], ctx=gast.Load())
    body.append(gast.copy_location(gast.Return(value=value_grads if returns_value else grads), ret))
    args = fn.args if seeded else positional_signature(fn, seeds)
    return gast.FunctionDef(
        name=fn.name, args=args, body=body, decorator_list=[], returns=None,
        type_comment=None, type_params=[], lineno=fn.lineno, col_offset=fn.col_offset,
    )


class _AdjointSweep(WriteAdjoints):
    """Builds the instrumented primal sweep and the adjoint sweep of each block together."""

    calls: Calls | None = None
    seeded: set[str] = set()  # returned once assigned: their adjoints are the seeds

    def __init__(self, fn, activity, registry, spell, namer) -> None:
        self.activity, self.registry, self.spell, self.namer = activity, registry, spell, namer
        self.fn = fn
        self.accumulations: list[Accumulation] = []  # loops the adjoint may join (fusion)
        self.break_flags: dict[int, list[str]] = {}  # loop -> flags of its breaking branches
        self.stack = namer.fresh("_stack")
        self.used_stack = False
        self.restored: set[str] = set()
        self.lifted: dict[int, set[str]] = {}
        self.made_whole: dict[int, set[str]] = {}  # loops before which adjoints become arrays
        self.order: dict[int, int] = {}
        self.assigned_at: dict[str, list[int]] = {}
        self.assigned_in_loop: dict[int, set[str]] = {}
        self.params = {p.id for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
        self.note_writes(fn)
        self.arrays = activity.arrays  # adjoints may need summing, and are never aliased
        self.functional = self.arrays  # accumulate d_v = d_v + c, never in place
        self.scalars = activity.kinds.numbers if self.arrays else set()
        self.shapes = (shapes(fn, registry, self.scalars) if self.arrays
                       else Shapes({}, [], registry))
        self.spread: set[str] = set()  # adjoints still a number that stands for a whole array
        self.spread_seeds: set[str] = set()  # ... given by the statement accumulate makes next
        self.seeds: dict[str, gast.Assign] = {}  # d_v = d_v + g, where g is all d_v has had
        self.touched: set[str] = set()  # adjoints that have received something
        self.lists = ListAdjoints(self, fn)  # adjoint lists, by their own rules
        self.scattered = {  # x[i] scatters its adjoint into d_x: an array from the start
            s.value.value.id for s in walk(fn)
            if isinstance(s, gast.Assign) and isinstance(s.value, gast.Subscript)
            and activity.is_active(s.value.value)} | {  # y[i] = v: zeroes part of d_y
            s.targets[0].value.id for s in walk(fn)
            if is_write(s) and activity.is_active(s.targets[0].value)}
        self.scattered -= self.lists.names  # a list's adjoint is a list, by its own rules
        self.counters = _counters(fn)
        once = [s for s in walk(fn) if isinstance(s, gast.Assign)
                and isinstance(s.targets[0], gast.Name)]
        counts = Counter(n for s in walk(fn) for n in _stores(s))
        self.changing = set(counts)  # assigned or mutated
        self.read_once = {s.targets[0].id: s for s in once if counts[s.targets[0].id] == 1
                          and s.targets[0].id not in self.params}
        self.defined: dict[int, _Defined] = {}
        self.reset_arrays: dict[int, list[gast.stmt]] = {}  # array adjoints made zero again
        self.shaped: dict[int, list[str]] = {}  # statements whose results' adjoints need shape
        self._number(fn.body)
        at_end = self.defined[id(fn.body[-1])]  # what surely holds a value at the return
        self.shaped_late = {  # u = ... where u may hold nothing yet (first made in a loop),
            # or may hold nothing at the end, where adjoints start (made in a branch)
            t for s in walk(fn) if isinstance(s, gast.Assign) and not is_write(s)
            for t in assigned_names(s) if t in self.scattered and (t not in at_end or (
                t not in self.defined.get(id(s), {t}) and self.assigned_more_than_once(t)))}

    def zero(self, var: str) -> gast.expr:
        """A fresh adjoint: ``0.0``, or an array of zeros for one scattered into (made at the
        scatter, with the shape ``u`` has there, where the shape may change: see ``scatter``)."""
        if var in self.scattered and var not in self.shaped_late:
            return self.zeros_like(var)
        if self.lists.is_list(var):
            return self.lists.zero(var)
        return make_constant(0.0)

    def zeros_like(self, var: str) -> gast.expr:
        floats = gast.keyword(arg="dtype", value=name("float"))  # an int array's adjoint too
        return gast.Call(func=self.spell("numpy.zeros_like"), args=[name(var)], keywords=[floats])

    def accumulate(self, var: str, contribution: gast.expr, where: gast.stmt) -> gast.stmt:
        """``d_v += c``; in NumPy code ``d_v = d_v + c``, so that no array is changed in place
        (an adjoint may share its array with another, or be a read-only view)."""
        d_var = self.namer.derivative(var)
        self.seeds.pop(var, None)
        if self.functional:
            update = assign(d_var, gast.BinOp(left=name(d_var), op=gast.Add(),
                                              right=contribution))
            if var in self.spread_seeds and var not in self.touched:
                self.seeds[var] = update
        else:
            update = gast.AugAssign(target=name(d_var, store=True), op=gast.Add(),
                                    value=contribution)
        self.spread_seeds.discard(var)
        self.touched.add(var)
        return gast.copy_location(update, where)

    def scatter(self, stmt: gast.Assign, d_target: str) -> list[gast.stmt]:
        """``y = x[i]``: ``d_x[i] += d_y``, or ``np.add.at`` where the index may repeat."""
        value = stmt.value
        if not self.activity.is_active(value.value):
            return []
        owner = value.value.id
        d_owner = self.namer.derivative(owner)
        index = copy.deepcopy(value.slice)
        made = self.materialize(owner, stmt)  # zeros of this iteration's u (restored: needed)
        if self.basic(index):
            target = gast.Subscript(value=name(d_owner), slice=index,
                                    ctx=gast.Store())
            update = gast.AugAssign(target=target, op=gast.Add(), value=name(d_target))
        else:
            if any(isinstance(n, gast.Slice) for n in walk(index)):  # x[i, 1:]
                index = gast.Subscript(value=self.spell("numpy.s_"), slice=index,
                                       ctx=gast.Load())
            add_at = gast.Attribute(value=self.spell("numpy.add"), attr="at", ctx=gast.Load())
            update = gast.Expr(value=gast.Call(func=add_at, keywords=[], args=[
                name(d_owner), index, name(d_target)]))
        return [*made, gast.copy_location(update, stmt)]

    def basic(self, index: gast.expr) -> bool:
        """An index that picks each element at most once: numbers, slices, range counters."""
        if isinstance(index, gast.Tuple):
            return all(self.basic(e) for e in index.elts)
        if isinstance(index, gast.Slice) or is_constant(index):
            return True
        if isinstance(index, gast.Constant) and index.value in (Ellipsis, None):
            return True
        return isinstance(index, gast.Name) and index.id in self.counters

    def _number(self, statements: list[gast.stmt], before: _Defined | None = None) -> None:
        """Number statements in source order; note where each name is assigned, and which
        names surely hold a value before each statement (``defined``, growing down a block)."""
        before = frozenset(self.params) if before is None else before
        first: dict[str, int] = {}  # where in this block each name is first assigned
        for position, stmt in enumerate(statements):
            self.order[id(stmt)] = index = len(self.order)
            self.defined[id(stmt)] = here = _Defined(before, first, position)
            for node in walk(stmt.target if isinstance(stmt, gast.For) else stmt):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                    if isinstance(stmt, gast.Assign) or isinstance(stmt, gast.For):
                        self.assigned_at.setdefault(node.id, []).append(index)
            if isinstance(stmt, (gast.For, gast.While)):
                self.assigned_in_loop[id(stmt)] = {
                    n.id for n in walk(stmt)
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
                }
            for field in ("body", "orelse"):
                self._number(getattr(stmt, field, []) or [], here)
            if isinstance(stmt, gast.Assign) and not is_write(stmt):
                for assigned in assigned_names(stmt):
                    first.setdefault(assigned, position)

    def overwritten_later(self, var: str, stmt: gast.stmt, loops: tuple) -> bool:
        """Whether ``var`` may be assigned again before the adjoint sweep returns to ``stmt``."""
        index = self.order.get(id(stmt), -1)
        return any(i > index for i in self.assigned_at.get(var, [])) or any(
            var in self.assigned_in_loop[id(loop)] for loop in loops
        )

    def assigned_more_than_once(self, var: str) -> bool:
        """Whether ``var`` holds more than one value: a parameter's first value counts too."""
        at = self.assigned_at.get(var, [])
        return (len(at) + (var in self.params) > 1
                or any(var in names for names in self.assigned_in_loop.values()))

    # blocks

    def block(self, statements: list[gast.stmt], loops: tuple) -> tuple[list, list]:
        """The instrumented primal statements and the adjoint statements of a block."""
        primal: list[gast.stmt] = []
        adjoint_parts: list[list[gast.stmt]] = []
        run: list[gast.Assign] = []
        for stmt in [*statements, None]:
            if stmt is not None and (self.lists.handles(stmt) or (
                    isinstance(stmt, gast.Assign) and not is_write(stmt))):
                run.append(stmt)
                continue
            if run:
                run_primal, run_adjoint = self.straight_line(run, loops)
                primal += run_primal
                adjoint_parts.append(run_adjoint)
                run = []
            if stmt is None:
                break
            stmt_primal, stmt_adjoint = self.compound(stmt, loops)
            primal += stmt_primal
            adjoint_parts.append(stmt_adjoint)
        adjoint = [s for part in reversed(adjoint_parts) for s in part]
        return self.lists.block(statements, primal, adjoint)

    def straight_line(self, run: list[gast.Assign], loops: tuple) -> tuple[list, list]:
        """Assignments, each needed value saved just before it is overwritten or at the end."""
        self.mark_shaped(run)
        self.loops = loops
        pushes: dict[int, list[str]] = {}
        for i, stmt in enumerate(run):  # an array of zeros takes the shape of the old value
            pushes[i] = [t for t in assigned_names(stmt) if t in self.scattered
                         and t not in self.shaped_late and self.resets(t, stmt)
                         and t in self.defined[id(stmt)]]
        reads_again: dict[int, list[gast.Assign]] = {}
        for i, stmt in enumerate(run):
            for var in self.needed(stmt, loops):
                later = [j for j in range(i + 1, len(run)) if var in assigned_names(run[j])]
                point = later[0] if later else len(run)
                again = self.recomputable(var, loops)
                if again is not None:
                    if again not in reads_again.setdefault(point, []):
                        reads_again[point].append(again)
                elif var not in pushes.setdefault(point, []):
                    pushes[point].append(var)
        recompute_cheap(self, run, pushes, reads_again, loops)
        pieces: dict[int, list[gast.stmt]] = {}
        resets: dict[int, list[gast.stmt]] = {}
        for i in reversed(range(len(run))):
            pieces[i] = self.adjoint_of(run[i])
            resets[i] = self.reset_arrays.pop(id(run[i]), [])
        pops = pushes
        merged = one_push(self, run, pushes, reads_again, pieces)
        if merged is not None:  # one append, popped where the run's adjoint starts
            (first, saved), = merged.items()
            pops = {len(run): saved}  # all at hand at once: more may be computed again
            recompute_cheap(self, run, pops, reads_again, loops, dict.fromkeys(saved, first))
            pushes = {first: pops[len(run)]}
        primal: list[gast.stmt] = []
        adjoint: list[gast.stmt] = []
        for i, stmt in enumerate(run):
            primal += self.push(pushes.get(i, []))
            primal.append(stmt)
        primal += self.push(pushes.get(len(run), []))
        later: list[gast.stmt] = []
        for i in reversed(range(len(run))):
            adjoint += self.pop(pops.get(i + 1, [])) + later
            adjoint += [copy.deepcopy(s) for s in reads_again.get(i + 1, [])]
            adjoint += pieces[i]
            later = resets[i]
        adjoint += self.pop(pops.get(0, [])) + later
        adjoint += [copy.deepcopy(s) for s in reads_again.get(0, [])]
        if run:
            adjoint += self.unspread_all(run)
        return primal, adjoint

    def needed(self, stmt: gast.Assign, loops: tuple) -> list[str]:
        """Values the adjoint of ``stmt`` reads that may be overwritten before it runs."""
        site = self.calls.site(stmt) if self.calls else None
        if self.lists.handles(stmt):
            read = [self.lists.reads(stmt)]
        elif not set(assigned_names(stmt)) & self.activity.active:
            return []
        elif site is not None:
            read = [reads(a) for a in site.args]
        elif is_unbroadcast(stmt.value):
            read = [reads(stmt.value.args[0])]
        elif primitive(stmt.value) == GETITEM:
            owner = getattr(stmt.value.value, "id", None)
            read = [reads(stmt.value.slice) | ({owner} & self.shaped_late)]
        elif structural_rule(stmt.value, self.registry) is not None:
            rule = structural_rule(stmt.value, self.registry)
            d_target = self.namer.derivative(stmt.targets[0].id)
            read = [reads(c) - {d_target} for _, c in structural_adjoints(
                stmt, rule, self.activity, self.spell, d_target)]
        else:
            read = [reads(p) for _, p in
                    partial_terms(stmt, self.activity, self.registry, self.spell)]
        if id(stmt) in self.shaped:  # the value this statement made, for its shape
            read.append({self.shapes.representative(t) for t in self.shaped[id(stmt)]})
        return self.to_save(read, stmt, loops)

    def to_save(self, read: list[set[str]], stmt: gast.stmt, loops: tuple) -> list[str]:
        """Of the names an adjoint reads, those to save after ``stmt``: the ones that may be
        overwritten before the adjoint runs (a value constant over a loop: after the loop)."""
        names: list[str] = []
        restored_by_loop = _loop_variables(loops)
        for variables in read:
            for var in sorted(variables):
                if var in restored_by_loop:
                    continue
                if var not in self.assigned_at:
                    continue
                lifted_to = self.invariant_loop(var, loops)
                if lifted_to is not None:
                    self.lifted.setdefault(id(lifted_to), set()).add(var)
                elif self.overwritten_later(var, stmt, loops) and var not in names:
                    names.append(var)
        return names

    def recomputable(self, var: str, loops: tuple) -> gast.Assign | None:
        """``x_i = xs[i]`` reading an unchanging ``xs`` at loop counters: the adjoint sweep
        reads it again where it would pop a saved copy (the counters are restored there)."""
        stmt = self.read_once.get(var)
        if stmt is None:
            return None
        value = stmt.value
        if isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Sub)) \
                and all(isinstance(o, gast.Constant) or (isinstance(o, gast.Name)
                        and o.id in self.counters) for o in (value.left, value.right)):
            index = value  # i - 1, i + 1 of loop counters: computed again at once
        elif isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
                and value.value.id not in self.changing:
            index = value.slice
        else:
            return None
        unchanging = reads(index) - _loop_variables(loops) - self.changing
        changed = reads(index) & self.changing - _loop_variables(loops)
        return None if changed or unchanging - self.params - set(self.assigned_at) else stmt

    def invariant_loop(self, var: str, loops: tuple) -> gast.stmt | None:
        """The outermost enclosing loop that does not assign ``var``, if the innermost does not.

        A value constant over a loop is saved once after that loop, not in every iteration.
        """
        outermost = None
        for loop in reversed(loops):
            if var in self.assigned_in_loop[id(loop)]:
                break
            outermost = loop
        return outermost

    def adjoint_of(self, stmt: gast.Assign) -> list[gast.stmt]:
        if self.lists.handles(stmt):
            return self.lists.adjoint(stmt)
        site = self.calls.site(stmt) if self.calls else None
        if site is not None:
            whole = self.shape(stmt) + [s for t in site.targets if t in self.spread
                                        for s in self.unspread(t, stmt)]
            out = whole + self.calls.adjoint(stmt, site, self.activity, self.namer,
                                             self.accumulate)
            # the call overwrites its targets: what they held before gets no share of their
            # adjoints, even where the call's arguments are inactive and it has no adjoint
            return out + self.reset(site.targets, stmt)
        target = stmt.targets[0].id
        if target not in self.activity.active:
            return []
        out: list[gast.stmt] = []
        d_target = self.namer.derivative(target)
        rule = structural_rule(stmt.value, self.registry)
        out += self.shape(stmt)
        if target in self.spread and (rule is not None or is_unbroadcast(stmt.value)):
            out += self.unspread(target, stmt)  # only elementwise rules and x[i] take it
        if is_unbroadcast(stmt.value):  # the adjoint of a sum over stretched axes: stretch back
            value, _ = stmt.value.args
            if self.activity.is_active(value):
                spread = gast.BinOp(left=name(d_target), op=gast.Add(), right=gast.BinOp(
                    left=make_constant(0.0), op=gast.Mult(), right=name(value.id)))
                out.append(self.accumulate(value.id, spread, stmt))
            return out
        if primitive(stmt.value) == GETITEM:
            out += self.scatter(stmt, d_target)
        elif rule is not None:
            for arg, contribution in structural_adjoints(stmt, rule, self.activity, self.spell,
                                                         d_target):
                contribution = _SizeOfNumber(self.scalars).visit(contribution)
                contribution = _ShapeFromRepresentative(self.shapes).visit(contribution)
                out.append(self.accumulate(arg, self.spread_lazily(arg, contribution), stmt))
        else:
            out += self.elementwise(stmt, target, d_target)
        return out + self.reset([target], stmt)

    def mark_shaped(self, run: list[gast.Assign]) -> None:
        """Note the statements of ``run`` whose adjoint rule needs an array of its result's
        shape where the result's adjoint may still be the number ``0.0`` that stands for
        zeros: where nothing surely gave it an array since it started or was reset (a later
        reader in the run, walked backwards; structural rules give arrays)."""
        if not self.arrays:
            return  # numbers only: 0.0 is the whole adjoint
        zeros = {v for v in self.scattered if v not in self.shaped_late}  # arrays from the start
        sure = zeros | self.seeded
        for stmt in reversed(run):
            if self.lists.handles(stmt):
                continue
            site = self.calls.site(stmt) if self.calls else None
            targets = site.targets if site is not None else [stmt.targets[0].id]
            targets = [t for t in targets if t in self.activity.active]
            if not targets:
                continue
            rule = structural_rule(stmt.value, self.registry)
            if site is not None or rule is not None:
                bare = [t for t in targets if t not in sure]
                if bare:
                    self.shaped[id(stmt)] = bare
                sure |= set(targets)
            if site is None and rule is not None:
                d_target = self.namer.derivative(targets[0])
                sure |= {a for a, _ in structural_adjoints(stmt, rule, self.activity,
                                                           self.spell, d_target)}
            elif (site is None and primitive(stmt.value) != GETITEM
                  and not is_unbroadcast(stmt.value) and targets[0] in sure):
                sure |= {a for a, _ in partial_terms(stmt, self.activity, self.registry,
                                                     self.spell)}
            sure -= {t for t in targets if self.resets(t, stmt) and t not in zeros}

    def shape(self, stmt: gast.Assign) -> list[gast.stmt]:
        """``d_v = _unreduce(d_v, v)`` where ``d_v`` may be the number ``0.0`` and the rule
        needs an array: zeros of the shape of the value ``stmt`` made (restored if overwritten,
        see ``needed``), never of a later value of another shape."""
        out = []
        for var in self.shaped.pop(id(stmt), []):
            if var in self.spread:
                continue  # unspread already
            d_var = self.namer.derivative(var)
            like = name(self.shapes.representative(var))
            whole = gast.Call(func=name("_unreduce"), args=[name(d_var), like], keywords=[])
            out.append(gast.copy_location(assign(d_var, whole), stmt))
        return out

    def reset(self, targets: list[str], stmt: gast.Assign) -> list[gast.stmt]:
        """``d_v = 0.0`` for each active ``v`` that ``stmt`` overwrites: the value ``v`` held
        before the statement is not the one its adjoint so far belongs to."""
        out = []
        for target in filter(lambda t: self.resets(t, stmt), targets):
            d_target = self.namer.derivative(target)
            zero = gast.copy_location(assign(d_target, self.zero(target)), stmt)
            if target in self.scattered and target not in self.shaped_late:
                # made once the old value is back (straight_line)
                self.reset_arrays.setdefault(id(stmt), []).append(zero)
            else:
                out.append(zero)
            self.spread.discard(target)
        return out

    def resets(self, target: str, stmt: gast.Assign) -> bool:
        """Whether ``stmt`` overwrites ``target``, so that its adjoint starts again from zero."""
        return (target in self.activity.active and target not in reads(stmt.value)
                and self.assigned_more_than_once(target))

    def elementwise(self, stmt: gast.Assign, target: str, d_target: str) -> list[gast.stmt]:
        """Each active argument's adjoint gets its partial times the result's adjoint."""
        out = []
        args = arguments(stmt.value, self.registry)
        terms = [(arg, partial) for arg, partial in
                 partial_terms(stmt, self.activity, self.registry, self.spell) if arg != target]
        # (an increment v = v + a passes d_v through unchanged)
        stretched = {arg for arg, _ in terms if self.arrays and not self.shapes.same(arg, target)
                     and not all(is_number(a, self.scalars) for a in args
                                 if getattr(a, "id", None) != arg)}
        if stretched and target in self.spread:
            out += self.unspread(target, stmt)
        for arg, partial in terms:
            contribution = times(partial, d_target)
            if arg in stretched:  # an array op may have stretched arg: sum back to its shape
                like = name(self.shapes.representative(arg))
                contribution = gast.Call(func=name("_unbroadcast"),
                                         args=[contribution, like], keywords=[])
            elif target in self.spread and not self.full(partial, arg):
                self.mark_spread(arg)  # a number times d_target: still a number for an array
            out.append(self.accumulate(arg, contribution, stmt))
        return out

    def full(self, partial: gast.expr, arg: str) -> bool:
        """Whether ``partial`` surely has the whole shape of ``arg``."""
        shape = self.shapes.of_expr(partial)
        return shape is not None and shape == self.shapes.of(arg)

    def unspread(self, var: str, where: gast.stmt) -> list[gast.stmt]:
        """``d_v = _unreduce(d_v, v)``: the number that stood for ``d_v`` made the whole array
        (where that number is all ``d_v`` has received, in the statement that gave it)."""
        self.spread.discard(var)
        d_var = self.namer.derivative(var)
        like = name(self.shapes.representative(var))
        seed = self.seeds.pop(var, None)
        if seed is not None:
            seed.value.right = gast.Call(func=name("_unreduce"), args=[seed.value.right, like],
                                         keywords=[])
            return []
        spread = gast.Call(func=name("_unreduce"), args=[name(d_var), like], keywords=[])
        return [gast.copy_location(assign(d_var, spread), where)]

    def unspread_all(self, run: list[gast.Assign]) -> list[gast.stmt]:
        """At the end of a run, the adjoints that flow on into what came before it."""
        done = {t for stmt in run for t in assigned_names(stmt)
                if not self.assigned_more_than_once(t)}  # used up in the run
        self.spread -= done
        return [s for v in sorted(self.spread) for s in self.unspread(v, run[0])]

    def mark_spread(self, var: str) -> None:
        """``d_v`` may now be a number standing for an array; not so for an array of zeros from
        the start (``x[i]`` scatters into it), to which a number adds as a whole array."""
        if var not in self.scattered:
            self.spread.add(var)
            self.spread_seeds.add(var)

    def spread_lazily(self, arg: str, contribution: gast.expr) -> gast.expr:
        """The adjoint of a sum of all of ``arg``'s elements, ``_unreduce(g, arg)``, kept as the
        number ``g`` while only elementwise operations of one shape use it (see ``elementwise``),
        so that no array of ones is made and multiplied."""
        if (isinstance(contribution, gast.Call) and isinstance(contribution.func, gast.Name)
                and contribution.func.id == "_unreduce" and len(contribution.args) == 2
                and not contribution.keywords and self.shapes.of(arg) is not None):
            self.mark_spread(arg)
            return contribution.args[0]
        return contribution

    # compound statements

    def compound(self, stmt: gast.stmt, loops: tuple) -> tuple[list, list]:
        if isinstance(stmt, gast.If):
            return self.if_(stmt, loops)
        if isinstance(stmt, gast.For):
            return self.for_(stmt, loops)
        if isinstance(stmt, gast.While):
            return self.while_(stmt, loops)
        if is_write(stmt):
            return self.write(stmt, loops)
        return [stmt], []  # break: the trip count already says where the loop stopped

    def if_(self, stmt: gast.If, loops: tuple) -> tuple[list, list]:
        body, body_adjoint = self.block(stmt.body, loops)
        orelse, orelse_adjoint = self.block(stmt.orelse, loops)
        test = stmt.test
        record = (
            (body_adjoint or orelse_adjoint)
            and isinstance(test, gast.Name)
            and self.overwritten_later(test.id, stmt, loops)
        )
        breaks = [bool(b) and isinstance(b[-1], gast.Break) for b in (body, orelse)]
        if record and len(loops) == 1 and breaks[0] != breaks[1]:
            return self.if_breaks(stmt, body, orelse, body_adjoint, orelse_adjoint, loops)
        if record:  # which branch ran, saved at the end of each path through it
            body = _before_jump(body, self.push_value(gast.Constant(value=True, kind=None)))
            orelse = _before_jump(orelse, self.push_value(gast.Constant(value=False, kind=None)))
        primal = [gast.copy_location(gast.If(test=test, body=body or [gast.Pass()],
                                             orelse=orelse), stmt)]
        if not (body_adjoint or orelse_adjoint):
            return primal, []
        adjoint = self.pop([test.id]) if record else []
        branch = gast.If(test=test, body=body_adjoint or [gast.Pass()], orelse=orelse_adjoint)
        return primal, adjoint + [gast.copy_location(branch, stmt)]

    def if_breaks(self, stmt: gast.If, body: list, orelse: list, body_adjoint: list,
                  orelse_adjoint: list, loops: tuple) -> tuple[list, list]:
        """``if c: ...; break``: the breaking branch runs on the last trip only, so a flag
        set there (``_broke``), not a value saved on every trip, tells which branch ran; the
        reversed loop reads it on its first trip and clears it."""
        flag = self.namer.fresh("_broke")
        self.break_flags.setdefault(id(loops[-1]), []).append(flag)
        raised = assign(flag, gast.Constant(value=True, kind=None))
        cleared = assign(flag, gast.Constant(value=False, kind=None))
        if isinstance(body[-1] if body else None, gast.Break):
            body = [*body[:-1], raised, body[-1]]
            taken, other = body_adjoint, orelse_adjoint
        else:
            orelse = [*orelse[:-1], raised, orelse[-1]]
            taken, other = orelse_adjoint, body_adjoint
        primal = gast.copy_location(gast.If(test=stmt.test, body=body, orelse=orelse), stmt)
        branch = gast.If(test=name(flag), body=[cleared, *taken], orelse=other)
        return [primal], [gast.copy_location(branch, stmt)]

    def flags(self, loop: gast.stmt) -> list[gast.stmt]:
        """``_broke = False`` before a loop for each breaking branch in it (see ``if_breaks``)."""
        return [assign(f, gast.Constant(value=False, kind=None))
                for f in self.break_flags.pop(id(loop), [])]

    def for_(self, stmt: gast.For, loops: tuple) -> tuple[list, list]:
        if not loops and accumulates_only(stmt, names_outside(self.fn, stmt), self.calls):
            found = self.accumulation(stmt, loops)
            if found is not None:
                return found
        if not loops and nested_accumulates(stmt, self.fn, self.calls):
            found = self.nested_accumulation(stmt, loops)
            if found is not None:
                return found
        body, body_adjoint = self.block(stmt.body, (*loops, stmt))
        loop = gast.For(target=stmt.target, iter=stmt.iter, body=body, orelse=[],
                        type_comment=None)
        body_adjoint = body_adjoint + [  # the header's assignment: items carry no derivative
            assign(self.namer.derivative(n.id), make_constant(0.0))
            for n in walk(stmt.target)
            if isinstance(n, gast.Name) and n.id in self.activity.active]
        if not body_adjoint:
            return [gast.copy_location(loop, stmt)], []
        primal: list[gast.stmt] = []
        iterable = stmt.iter
        if _walks_back(iterable):  # a range, or a tuple or list written out
            header = reads(iterable) - _loop_variables(loops)
            saved = self.saved_after(stmt, header, loops)
        else:  # zip, an iterator, a generator give one pass: keep the items for the way back
            items = self.namer.fresh("_items")
            primal.append(assign(items, gast.Call(func=name("list"), args=[iterable],
                                                  keywords=[])))
            loop.iter = iterable = name(items)
            saved = self.saved_after(stmt, set(), loops) + ([items] if loops else [])
        trips = None
        if _breaks(stmt.body):
            trips = self.namer.fresh("_trips")
            primal.append(assign(trips, gast.Constant(value=0, kind=None)))
            loop.body = [_increment(trips), *body]
            if loops:
                saved.append(trips)
        primal += [*self.flags(stmt), gast.copy_location(loop, stmt), *self.push(saved)]
        backwards = gast.For(target=stmt.target, iter=_reversed(iterable, trips),
                             body=body_adjoint, orelse=[], type_comment=None)
        self.pair(loop, backwards)
        return primal, [*self.pop(saved), *self.materialized_before(stmt),
                        gast.copy_location(noted(backwards, BACKWARDS), stmt)]

    def accumulation(self, stmt: gast.For, loops: tuple) -> tuple[list, list] | None:
        """A loop of independent iterations but for sums (see ``accumulation``): the primal
        runs it as written; the adjoint runs it again, forwards, each iteration computing its
        values and their adjoints, with nothing saved. None if the body would save anything."""
        run_primal, run_adjoint = self.straight_line(list(stmt.body), loops)
        if len(run_primal) != len(stmt.body):  # it would save values after all
            return None
        if not run_adjoint:
            return [stmt], []
        assigned = {t for s in stmt.body for t in assigned_names(s)}
        sums = {s.targets[0].id for s in stmt.body if s.targets[0].id in reads(s.value)}
        recomputed = [copy.deepcopy(s) for s in stmt.body if s.targets[0].id not in sums]
        header = (reads(stmt.iter) | {n for s in recomputed for n in reads(s.value)}) - assigned
        header -= {n.id for n in walk(stmt.target) if isinstance(n, gast.Name)}
        saved = self.saved_after(stmt, header, loops)
        iterable, items = self.walked_twice(stmt)
        primal: list[gast.stmt] = [items] if items is not None else []
        again = gast.For(target=copy.deepcopy(stmt.target), iter=copy.deepcopy(iterable),
                         body=recomputed + run_adjoint, orelse=[], type_comment=None)
        loop = gast.For(target=stmt.target, iter=iterable, body=stmt.body, orelse=[],
                        type_comment=None)
        primal += [gast.copy_location(loop, stmt), *self.push(saved)]
        again = gast.copy_location(noted(again, ONCE), stmt)
        self.accumulations.append(Accumulation(loop, again, len(recomputed), stmt.iter,
                                               sums, items))
        return primal, [*self.pop(saved), again]

    def walked_twice(self, loop: gast.For) -> tuple[gast.expr, gast.Assign | None]:
        """The header an accumulation's two loops walk: an iterator (one pass) kept in a list
        ``_items = list(xs)``, which is returned too (None where the header walks again)."""
        if walks_again(loop.iter, self.activity.kinds):
            return loop.iter, None
        items = assign(self.namer.fresh("_items"),
                       gast.Call(func=name("list"), args=[loop.iter], keywords=[]))
        return name(items.targets[0].id), items

    def nested_accumulation(self, stmt: gast.For, loops: tuple) -> tuple[list, list] | None:
        """A loop of sums around a loop of sums (see ``nested_accumulates``): as
        ``accumulation``, the adjoint runs the loops again, forwards, each inner iteration
        computing its values and their adjoints, then the outer iteration's own; nothing saved.
        None if a value would be saved, or the inner loop's items cannot be walked again."""
        *first, inner = stmt.body
        if not walks_again(inner.iter, self.activity.kinds):
            return None
        first_primal, first_adjoint = self.straight_line(list(first), loops)
        inner_primal, inner_adjoint = self.straight_line(list(inner.body), loops)
        if len(first_primal) != len(first) or len(inner_primal) != len(inner.body):
            return None
        if not first_adjoint and not inner_adjoint:
            return [stmt], []
        sums = sums_of(inner)
        inner_recomputed = [copy.deepcopy(s) for s in inner.body
                            if s.targets[0].id not in sums]
        inner_again = gast.For(target=copy.deepcopy(inner.target),
                               iter=copy.deepcopy(inner.iter),
                               body=inner_recomputed + inner_adjoint, orelse=[], type_comment=None)
        inner_again = gast.copy_location(inner_again, inner)
        recomputed = [copy.deepcopy(s) for s in first]
        assigned = {t for s in [*first, *inner.body] for t in assigned_names(s)}
        header = reads(stmt.iter) | reads(inner.iter) | {
            n for s in recomputed + inner_recomputed for n in reads(s.value)}
        header -= assigned | {n.id for loop in (stmt, inner) for n in walk(loop.target)
                              if isinstance(n, gast.Name)}
        saved = self.saved_after(stmt, header, loops)
        iterable, items = self.walked_twice(stmt)
        primal: list[gast.stmt] = [items] if items is not None else []
        again = gast.For(target=copy.deepcopy(stmt.target), iter=copy.deepcopy(iterable),
                         body=[*recomputed, inner_again, *first_adjoint], orelse=[],
                         type_comment=None)
        loop = gast.For(target=stmt.target, iter=iterable, body=stmt.body, orelse=[],
                        type_comment=None)
        primal += [gast.copy_location(loop, stmt), *self.push(saved)]
        again = gast.copy_location(noted(again, ONCE), stmt)
        within = Accumulation(inner, inner_again, len(inner_recomputed), inner.iter, sums)
        self.accumulations.append(Accumulation(loop, again, len(recomputed), stmt.iter,
                                               sums, items, within))
        return primal, [*self.pop(saved), again]

    def while_(self, stmt: gast.While, loops: tuple) -> tuple[list, list]:
        body, body_adjoint = self.block(stmt.body, (*loops, stmt))
        if not body_adjoint:
            loop = gast.While(test=stmt.test, body=body, orelse=[])
            return [gast.copy_location(loop, stmt)], []
        trips = self.namer.fresh("_trips")
        loop = gast.While(test=stmt.test, body=[_increment(trips), *body], orelse=[])
        saved = self.saved_after(stmt, set(), loops) + ([trips] if loops else [])
        primal = [assign(trips, gast.Constant(value=0, kind=None)), *self.flags(stmt),
                  gast.copy_location(loop, stmt), *self.push(saved)]
        counted = gast.Call(func=name("range"), args=[name(trips)], keywords=[])
        counter = self.namer.numbered("_")  # nested counted loops need their own names
        backwards = gast.For(target=name(counter, store=True), iter=counted, body=body_adjoint,
                             orelse=[], type_comment=None)
        self.pair(loop, backwards)
        return primal, [*self.pop(saved), *self.materialized_before(stmt),
                        gast.copy_location(noted(backwards, BACKWARDS), stmt)]

    def pair(self, loop: gast.stmt, backwards: gast.For) -> None:
        """Mark a loop and its reversed loop as taping on ``stack`` together (see own_tapes)."""
        loop.tape_pair = backwards.tape_pair = (id(loop), self.stack)

    def saved_after(self, loop: gast.stmt, header: set[str], loops: tuple) -> list[str]:
        """Values the reversed loop needs that may be overwritten before it runs."""
        wanted = header | self.lifted.pop(id(loop), set())
        return [v for v in sorted(wanted) if self.overwritten_later(v, loop, loops)]

    # the stack

    def push(self, names: list[str]) -> list[gast.stmt]:
        if not names:
            return []
        values = [name(n) for n in names]
        value = values[0] if len(values) == 1 else gast.Tuple(elts=values, ctx=gast.Load())
        return self.push_value(value)

    def push_value(self, value: gast.expr) -> list[gast.stmt]:
        self.used_stack = True
        append = gast.Attribute(value=name(self.stack), attr="append", ctx=gast.Load())
        return [gast.Expr(value=gast.Call(func=append, args=[value], keywords=[]))]

    def pop(self, names: list[str]) -> list[gast.stmt]:
        if not names:
            return []
        self.restored.update(names)
        targets = [name(n, store=True) for n in names]
        target = targets[0] if len(targets) == 1 else gast.Tuple(elts=targets, ctx=gast.Store())
        pop = gast.Attribute(value=name(self.stack), attr="pop", ctx=gast.Load())
        call = gast.Call(func=pop, args=[], keywords=[])
        return [gast.Assign(targets=[target], value=call, type_comment=None)]


def _stores(stmt: gast.AST) -> set[str]:
    """The names one statement (not its body) assigns or changes in place."""
    if isinstance(stmt, (gast.For, gast.comprehension)):
        return {n.id for n in walk(stmt.target) if isinstance(n, gast.Name)}
    if isinstance(stmt, gast.Assign):
        return {n.id for t in stmt.targets for n in walk(t) if isinstance(n, gast.Name)
                and isinstance(n.ctx, gast.Store)} | {
            t.value.id for t in stmt.targets if isinstance(t, gast.Subscript)
            and isinstance(t.value, gast.Name)}
    if isinstance(stmt, gast.AugAssign):
        target = stmt.target.value if isinstance(stmt.target, gast.Subscript) else stmt.target
        return {target.id} if isinstance(target, gast.Name) else set()
    if isinstance(stmt, gast.Call) and isinstance(stmt.func, gast.Attribute) \
            and isinstance(stmt.func.value, gast.Name) and not hasattr(stmt, "qualname_module"):
        return {stmt.func.value.id} if stmt.func.attr in MUTATORS else set()
    return set()


@dataclass
class _Defined:
    """The names surely holding a value before a statement: those before its block, and those
    its block assigned above it (one table per block, not a set per statement, which would
    cost the square of a long block's length)."""

    before: frozenset | _Defined
    first: dict[str, int]
    position: int

    def __contains__(self, name_: str) -> bool:
        return self.first.get(name_, self.position) < self.position or name_ in self.before


MUTATORS = {"append", "pop", "extend", "insert", "remove", "sort", "reverse", "clear",
            "fill", "put", "resize", "itemset", "setfield"}


def _counters(fn: gast.FunctionDef) -> set[str]:
    """Variables that hold whole numbers: ``for i in range(n)``, ``len(x)``, ``i + 1``."""
    found = {n.id for loop in walk(fn) if isinstance(loop, gast.For)
             and "builtins.range" in [getattr(c, "qualname", None) for c in walk(loop.iter)]
             for n in walk(loop.target) if isinstance(n, gast.Name)}
    values: dict[str, list[gast.expr]] = {}  # each name's assigned values
    for s in walk(fn):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            values.setdefault(s.targets[0].id, []).append(s.value)

    def whole(expr: gast.expr) -> bool:
        if isinstance(expr, gast.Constant):
            return type(expr.value) is int
        if isinstance(expr, gast.Name):
            return expr.id in found
        if isinstance(expr, gast.BinOp) and isinstance(
                expr.op, (gast.Add, gast.Sub, gast.Mult, gast.FloorDiv, gast.Mod)):
            return whole(expr.left) and whole(expr.right)
        if isinstance(expr, gast.UnaryOp):
            return whole(expr.operand)
        return getattr(expr, "qualname", None) == "builtins.len"

    changed = True
    while changed:
        changed = False
        for name_ in values.keys() - found:
            if all(whole(v) for v in values[name_]):
                found.add(name_)
                changed = True
    return found


class _SizeOfNumber(gast.NodeTransformer):
    """``np.size(s)`` is 1 for a variable known to hold a number (the mean of all elements)."""

    def __init__(self, numbers: set[str]) -> None:
        self.numbers = numbers

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if (isinstance(func, gast.Attribute) and func.attr == "size" and len(node.args) == 1
                and isinstance(node.args[0], gast.Name) and node.args[0].id in self.numbers):
            return make_constant(1)
        return node


class _ShapeFromRepresentative(gast.NodeTransformer):
    """``np.size(v)``, ``np.shape(v)``, ``_unreduce(g, v)``: read the shape from the first value
    that has it, so that ``v`` is not computed for its shape alone."""

    SHAPE_READERS = {"size": 0, "shape": 0, "ndim": 0, "_unreduce": 1, "_unbroadcast": 1}

    def __init__(self, shapes_: Shapes) -> None:
        self.shapes = shapes_

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        reader = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", None)
        position = self.SHAPE_READERS.get(reader)
        if position is not None and len(node.args) > position:
            arg = node.args[position]
            if isinstance(arg, gast.Name):
                node.args[position] = name(self.shapes.representative(arg.id))
        return node


def _loop_variables(loops: tuple) -> set[str]:
    """Variables that reversed loop headers give back, item by item."""
    return {n.id for loop in loops if isinstance(loop, gast.For)
            for n in walk(loop.target) if isinstance(n, gast.Name)}


def _before_jump(block: list[gast.stmt], push: list[gast.stmt]) -> list[gast.stmt]:
    """Put ``push`` at the end of ``block``, before a final ``break`` so that it runs."""
    if block and isinstance(block[-1], gast.Break):
        return [*block[:-1], *push, block[-1]]
    if block and isinstance(block[-1], gast.If):
        last = block[-1]
        last.body = _before_jump(last.body, push)
        last.orelse = _before_jump(last.orelse, push)
        return block
    return [*block, *push]


def _walks_back(iterable: gast.expr) -> bool:
    """Whether ``reversed(iterable)`` gives the items of the loop backwards, as the primal
    sweep saw them: not so for a name, which may hold an iterator or a generator."""
    return (getattr(iterable, "qualname", None) == "builtins.range"
            or isinstance(iterable, (gast.Tuple, gast.List)))


def _breaks(body: list[gast.stmt]) -> bool:
    """Whether a ``break`` in ``body`` ends this loop (not one nested in an inner loop)."""
    for stmt in body:
        if isinstance(stmt, gast.Break):
            return True
        if isinstance(stmt, gast.If) and (_breaks(stmt.body) or _breaks(stmt.orelse)):
            return True
    return False


def _increment(counter: str) -> gast.stmt:
    return gast.AugAssign(target=name(counter, store=True), op=gast.Add(),
                          value=gast.Constant(value=1, kind=None))


def _reversed(iterable: gast.expr, trips: str | None) -> gast.expr:
    """What iterates over the same items backwards (only the first ``trips`` of them)."""
    qualname = getattr(iterable, "qualname", None)
    if qualname == "builtins.reversed" and trips is None:
        return iterable.args[0]
    if qualname in ("builtins.zip", "builtins.enumerate", "builtins.reversed"):
        iterable = gast.Call(func=name("list"), args=[iterable], keywords=[])
    if trips is not None:
        upto = gast.Slice(lower=None, upper=name(trips), step=None)
        iterable = gast.Subscript(value=iterable, slice=upto, ctx=gast.Load())
    return gast.Call(func=name("reversed"), args=[iterable], keywords=[])
