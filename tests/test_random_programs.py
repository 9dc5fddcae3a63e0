"""Seeded random programs with branches, loops and jumps: both modes agree with finite differences.

    AD_TRANSPILE_RANDOM_PROGRAMS=5000 python -m pytest tests/test_random_programs.py

checks 5000 programs instead of the default. Every program is a function ``f(x, y, n)`` of
two floats and a loop count, and often the module-level helpers it calls, which overwrite,
augment and reassign their own parameters, loop and return early. Variables that depend on wrt
are overwritten by values that do not (constants, loop indices, expressions of ``n``, helper
calls of such values) in loops and branches, so that a variable is active on some paths only.
A failure prints the program, the point, both derivatives and the generated code.
"""

from __future__ import annotations

import math
import random
import re
import traceback
from dataclasses import dataclass, field
from typing import Callable

import pytest
from conftest import (
    MODES,
    ProgramText,
    closes_at_end,
    derivative,
    generated,
    numeric_gradient,
    primal,
    program_count,
)

DEFAULT_PROGRAMS = 64  # each program is longer since they build lists too
PROGRAMS = program_count("AD_TRANSPILE_RANDOM_PROGRAMS", DEFAULT_PROGRAMS, 640)
POINTS_PER_PROGRAM = 2
STEPS = (1e-6, 1e-5)  # finite differences are trusted only where these two steps agree
RTOL = 1e-5
MIN_CHECKED = 0.9
PARTS = 8


@dataclass
class Scope:
    """The names a statement may read (floats and loop indices) and may assign (floats), and
    the helpers it may call (name and number of parameters)."""

    floats: list[str]
    indices: list[str] = field(default_factory=list)
    loop_depth: int = 0
    helpers: list[tuple[str, int]] = field(default_factory=list)
    counts: list[str] = field(default_factory=lambda: ["n"])  # whole numbers that carry no wrt
    lists: list[ListVariable] = field(default_factory=list)  # lists of floats it may read


@dataclass
class ListVariable:
    """A list of floats, its length, and the depth of the block that made it (only that
    block changes its length, so that every block knows how long it is)."""

    name: str
    length: int
    depth: int


class RandomProgram(ProgramText):
    """The source text of one random function ``f(x, y, n)`` returning a float.

    Values stay bounded enough for finite differences: a product always has one factor that is a
    sine, cosine, tanh, small constant or ``w / (1.0 + w * w)``, and ``exp`` only sees a bounded
    argument. Every ``while`` counts its trips and stops after a few.
    """

    MAX_DEPTH = 3
    MAX_LOOP_DEPTH = 2
    MAX_STATEMENTS = 16  # beyond this, blocks get a single simple statement
    MAX_HELPER_STATEMENTS = 6

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.limit = self.MAX_STATEMENTS
        self.source = self.build()

    def build(self) -> str:
        """``f`` first (the tests differentiate the first function), then its helpers."""
        helpers: list[tuple[str, int, bool]] = []
        sources = []
        for _ in range(self.rng.choice([0, 0, 1, 2, 3])):
            helper, source = self.helper(list(helpers))
            helpers.append(helper)
            sources.append(source)
        scope = Scope(floats=["x", "y"], helpers=helpers)
        self.lines, self.statements, self.limit = [], 0, self.MAX_STATEMENTS
        self.width = 1
        for _ in range(self.rng.randint(1, 2)):
            self.new_variable(scope, 0)
        self.block(scope, 0, self.rng.randint(2, 4))
        # both arguments reach the final result, so neither is only a loop bound or a condition
        self.emit(0, f"return {self.expression(scope, 2)} + x * y")
        text = "import math\n\n\ndef f(x, y, n):\n" + "\n".join(self.lines) + "\n"
        return text + "".join(f"\n\ndef {source}\n" for source in sources)

    def helper(self, callable_: list) -> tuple[tuple[str, int, bool], str]:
        """A module-level ``h(a, b[, k])`` that may overwrite, augment and reassign its own
        parameters (with values of wrt or not), loop ``k`` times, return early, and call the
        helpers defined before it."""
        name_ = self.fresh("h")
        params = ["a", "b"][:self.rng.randint(1, 2)]
        counted = self.rng.random() < 0.3
        scope = Scope(floats=list(params), helpers=callable_, counts=["k"] if counted else ["2"])
        self.lines, self.statements, self.limit = [], 0, self.MAX_HELPER_STATEMENTS
        self.width = self.rng.choice([1, 1, 1, 2])  # how many values it returns
        if self.rng.random() < 0.3:
            self.return_(scope, 0)
        self.block(scope, 0, self.rng.randint(1, 3))
        if self.rng.random() < 0.2:
            self.return_(scope, 0)
        self.emit(0, f"return {self.results(scope, [self.rng.choice(scope.floats)])}")
        signature = ", ".join(params + (["k"] if counted else []))
        source = f"{name_}({signature}):\n" + "\n".join(self.lines)
        return (name_, len(params), counted, self.width), source

    def results(self, scope: Scope, also: list[str] | None = None) -> str:
        """What a ``return`` gives: ``self.width`` values (a parameter as it stands, perhaps)."""
        values = [self.rng.choice([self.expression(scope, 2), *(also or [])])
                  for _ in range(self.width)]
        return ", ".join(values)

    # statements

    def block(self, scope: Scope, depth: int, size: int) -> None:
        for _ in range(size if self.statements < self.limit else 1):
            self.statement(scope, depth)

    def statement(self, scope: Scope, depth: int) -> None:
        self.statements += 1
        kinds = ["assign", "update", "update", "new_variable", "inactive", "augment", "tuple_"]
        if scope.helpers:
            kinds += ["call", "call"]
        if self.statements >= self.limit:
            return getattr(self, self.rng.choice(kinds))(scope, depth)
        if depth < self.MAX_DEPTH and self.rng.random() < 0.5 ** depth:
            kinds += ["if_", "if_", "if_expression"]
            if scope.loop_depth < self.MAX_LOOP_DEPTH:
                kinds += ["for_", "for_", "while_"]
        kinds += ["make_list"]
        if depth == 0:
            kinds += ["local_function"]
        if scope.lists:
            kinds += ["read_list", "read_list", "change_list", "change_list"]
        if scope.loop_depth:
            kinds += ["jump", "inactive"]
        if depth:
            kinds += ["return_", "inactive"]
        getattr(self, self.rng.choice(kinds))(scope, depth)

    def inactive(self, scope: Scope, depth: int) -> None:
        """A variable (perhaps one of wrt) overwritten by a value that carries no derivative:
        a constant, a loop index, an expression of a count."""
        target = self.rng.choice(scope.floats)
        self.emit(depth, f"{target} = {self.inactive_value(scope)}")

    def inactive_value(self, scope: Scope) -> str:
        c = self.constant()
        forms = [c, f"{c} * {self.rng.choice(scope.counts)}",
                 f"float({self.rng.choice(scope.counts)})", f"math.sin({c})"]
        if scope.indices:
            i = self.rng.choice(scope.indices)
            forms += [f"{c} * {i}", f"{c} + {i}", f"math.cos({i} * {c})"]
        return self.rng.choice(forms)

    def augment(self, scope: Scope, depth: int) -> None:
        """Augmented assignments, with values of wrt or not."""
        v, w = self.rng.choice(scope.floats), self.rng.choice(scope.floats)
        self.emit(depth, self.rng.choice([
            f"{v} /= 1.0 + {w} * {w}", f"{v} += {self.inactive_value(scope)}",
            f"{v} -= {self.inactive_value(scope)}", f"{v} *= {self.constant()}",
            f"{v} += {self.bounded(scope)}", f"{v} *= math.tanh({w})",
        ]))

    def call(self, scope: Scope, depth: int) -> None:
        """``v = h(...)``: into a new variable or over an old one (perhaps over an argument),
        with arguments that carry wrt or not (the same variable twice, a constant, an index)."""
        helper, arity, counted, width = self.rng.choice(scope.helpers)
        args: list[str] = []
        for _ in range(arity):
            roll = self.rng.random()
            if roll < 0.2:
                args.append(self.inactive_value(scope))
            elif roll < 0.45 and args:
                args.append(args[-1])
            elif roll < 0.7:
                args.append(self.rng.choice(scope.floats))
            else:
                args.append(self.expression(scope, 1))
        if counted:
            args.append(self.rng.choice([*scope.counts, "1", "3"]))
        call = f"{helper}({', '.join(args)})"
        if width == 1 and self.rng.random() < 0.25:  # the call inside an expression
            call = f"{self.atom(scope)} * 0.5 + {call}"
        targets: list[str] = []
        for _ in range(width):
            old = [v for v in scope.floats if v not in targets]
            if self.rng.random() < 0.3 or not old:
                targets.append(self.fresh("v"))
            else:
                targets.append(self.rng.choice(old))
        scope.floats += [t for t in targets if t not in scope.floats]
        self.emit(depth, f"{', '.join(targets)} = {call}")

    def tuple_(self, scope: Scope, depth: int) -> None:
        """A tuple packed and unpacked (whole, starred, by index, summed), a simultaneous
        assignment, or a state tuple threaded through a loop."""
        roll = self.rng.random()
        if roll < 0.3 and scope.loop_depth < self.MAX_LOOP_DEPTH:
            return self.state_tuple(scope, depth)
        if roll < 0.5:
            v, w = self.two_floats(scope)
            self.emit(depth, f"{v}, {w} = {self.expression(scope, 1)}, "
                             f"{self.expression(scope, 1)}")
            return None
        t = self.fresh("t")
        values = [self.expression(scope, 1) for _ in range(self.rng.choice([2, 3]))]
        self.emit(depth, f"{t} = ({', '.join(values)})")
        v, w = self.two_floats(scope)
        i = self.rng.randrange(-len(values), len(values))
        rest = self.fresh("r")
        self.emit(depth, self.rng.choice([
            f"{', '.join([v, w, *[self.fresh('v') for _ in values[2:]]])} = {t}",
            f"{v} = {t}[{i}] * {self.bounded(scope)} + {t}[-1]",
            f"{v} = sum({t}) / len({t})",
            f"{v}, *{rest} = {t}\n{'    ' * (depth + 1)}{w} = {rest}[-1] - {v}",
        ]))
        return None

    def state_tuple(self, scope: Scope, depth: int) -> None:
        """``s = (v, w)``, updated from itself in a loop, then read back."""
        s, index = self.fresh("s"), self.fresh("i")
        v, w = self.two_floats(scope)
        self.emit(depth, f"{s} = ({v}, {w})")
        self.emit(depth, f"for {index} in range({self.rng.choice([*scope.counts, '3'])}):")
        inner = self.inner(scope, loop=True)
        inner.floats = [f"{s}[0]", f"{s}[1]", *scope.floats]
        inner.indices += [index]
        first = self.rng.choice([f"{s}[1]", f"{s}[0] * {self.bounded(inner)}",
                                 f"math.tanh({s}[0] + {s}[1])"])
        second = self.rng.choice([f"{s}[0]", f"{s}[1] + math.sin({s}[0])",
                                  f"{s}[1] * {self.bounded(inner)}"])
        self.emit(depth + 1, f"{s} = ({first}, {second})")
        self.emit(depth, self.rng.choice([f"{v}, {w} = {s}", f"{v} = {s}[0] + {s}[-1]"]))

    def local_function(self, scope: Scope, depth: int) -> None:
        """A lambda, a one-line nested ``def`` (both written where called) or one of two
        statements (lifted to the module) of ``s``, closing over a float of the scope (perhaps
        rebound before the calls, which then read its new value), called twice."""
        name_, w = self.fresh("q"), self.rng.choice(scope.floats)
        body = self.expression(Scope(floats=["s", "s", w], counts=scope.counts), 2)
        roll = self.rng.random()
        if roll < 0.35:
            self.emit(depth, f"{name_} = lambda s: {body}")
        elif roll < 0.7:
            self.emit(depth, f"def {name_}(s):")
            self.emit(depth + 1, f"return {body}")
        else:
            self.emit(depth, f"def {name_}(s):")
            self.emit(depth + 1, f"u = {body}")
            inner = Scope(floats=["s", "u", "u", w], counts=scope.counts)
            self.emit(depth + 1, f"return {self.expression(inner, 1)}")
        if self.rng.random() < 0.3:
            self.emit(depth, f"{w} = {self.expression(scope, 1)}")
        target = self.rng.choice([self.fresh("v"), *scope.floats])
        second = f"{name_}({self.expression(scope, 1)} * 0.5)"
        if self.rng.random() < 0.4:  # over a list's items, by map or filter
            lst = self.rng.choice(scope.lists).name if scope.lists else \
                f"[{self.rng.choice(scope.floats)}, {self.expression(scope, 1)}]"
            second = self.rng.choice([f"sum(map({name_}, {lst}))",
                                      f"sum(filter(lambda z: z > 0.0, map({name_}, {lst})))",
                                      f"sum({name_}(z) for z in {lst})"])
        self.emit(depth, f"{target} = {name_}({self.rng.choice(scope.floats)}) + {second}")
        if target not in scope.floats:
            scope.floats.append(target)

    def two_floats(self, scope: Scope) -> tuple[str, str]:
        """Two variables to assign, distinct where there are two."""
        if len(scope.floats) < 2:
            return scope.floats[0], scope.floats[0]
        v, w = self.rng.sample(scope.floats, 2)
        return v, w

    def new_variable(self, scope: Scope, depth: int) -> None:
        target = self.fresh("v")
        self.emit(depth, f"{target} = {self.expression(scope, 2)}")
        scope.floats.append(target)

    def assign(self, scope: Scope, depth: int) -> None:
        target = self.rng.choice(scope.floats)
        self.emit(depth, f"{target} = {self.expression(scope, 2)}")

    def update(self, scope: Scope, depth: int) -> None:
        """``v = v * w`` and friends: a variable overwritten with a value computed from itself."""
        v = self.rng.choice(scope.floats)
        w = self.rng.choice(scope.floats)
        forms = [
            f"{v} = {v} * {self.bounded(scope)}",
            f"{v} += {self.expression(scope, 1)}",
            f"{v} -= {self.bounded(scope)}",
            f"{v} *= {self.bounded(scope)}",
            f"{v} = {v} / (1.0 + {w} * {w})",
            f"{v} = math.tanh({v}) * {w} + {v}",
            f"{v} = {w} - {v} * {self.constant()}",
        ]
        self.emit(depth, self.rng.choice(forms))

    def if_(self, scope: Scope, depth: int) -> None:
        self.emit(depth, f"if {self.condition(scope)}:")
        self.block(self.inner(scope), depth + 1, self.rng.randint(1, 2))
        if self.rng.random() < 0.3:
            self.emit(depth, f"elif {self.condition(scope)}:")
            self.block(self.inner(scope), depth + 1, self.rng.randint(1, 2))
        if self.rng.random() < 0.6:
            self.emit(depth, "else:")
            self.block(self.inner(scope), depth + 1, self.rng.randint(1, 2))

    def if_expression(self, scope: Scope, depth: int) -> None:
        target = self.rng.choice(scope.floats)
        body, orelse = self.expression(scope, 1), self.expression(scope, 1)
        self.emit(depth, f"{target} = {body} if {self.condition(scope)} else {orelse}")

    def for_(self, scope: Scope, depth: int) -> None:
        index = self.fresh("i")
        n = self.rng.choice(scope.counts)
        count = self.rng.choice([n, n, "0", "1", "2", "3"])
        header = self.rng.choice([
            f"range({count})", f"range(1, {count})", f"reversed(range({count}))",
            f"range({count}, 0, -1)", f"range({n}, -1, -2)",
        ])
        indices = [index]
        if self.rng.random() < 0.2:  # two indices at once
            indices.append(self.fresh("j"))
            header = self.rng.choice([f"enumerate({header})",
                                      f"zip({header}, range(1, {count} + 1))"])
        self.emit(depth, f"for {', '.join(indices)} in {header}:")
        inner = self.inner(scope, loop=True)
        inner.indices += indices
        self.block(inner, depth + 1, self.rng.randint(1, 3))

    def while_(self, scope: Scope, depth: int) -> None:
        counter = self.fresh("k")
        limit = self.rng.choice([self.rng.choice(scope.counts), "2", "3", "4"])
        self.emit(depth, f"{counter} = 0")
        test = f"{counter} < {limit}"
        if self.rng.random() < 0.5:
            test += f" and {_parenthesized(self.condition(scope))}"
        self.emit(depth, f"while {test}:")
        self.emit(depth + 1, f"{counter} += 1")  # first, so that no 'continue' skips it
        self.block(self.inner(scope, loop=True), depth + 1, self.rng.randint(1, 3))

    # lists

    def make_list(self, scope: Scope, depth: int) -> None:
        """A list of floats: a literal, appends in a loop, or a comprehension (filtered on
        constants), perhaps over another list."""
        target = self.fresh("L")
        roll = self.rng.random()
        if roll < 0.35:
            length = self.rng.randint(1, 3)
            items = [self.expression(scope, 1) for _ in range(length)]
            self.emit(depth, f"{target} = [{', '.join(items)}]")
        elif roll < 0.65:
            length = self.rng.randint(1, 3)
            index = self.fresh("i")
            self.emit(depth, f"{target} = []")
            self.emit(depth, f"for {index} in range({length}):")
            inner = self.inner(scope, loop=True)
            inner.indices.append(index)
            self.emit(depth + 1, f"{target}.append({self.expression(inner, 1)})")
        elif roll < 0.85 or not scope.lists:
            c = self.fresh("c")
            inner = self.inner(scope)
            inner.floats.append(c)
            length = 2
            self.emit(depth, f"{target} = [{self.expression(inner, 1)} * {c} for {c} in "
                      "(0.5, 1.0, 1.5) if " + f"{c} > 0.7]")
        else:
            source = self.rng.choice(scope.lists)
            item = self.fresh("z")
            inner = self.inner(scope)
            inner.floats.append(item)
            length = source.length
            self.emit(depth, f"{target} = [{item} * {self.bounded(inner)} for {item} in "
                      f"{source.name}]")
        scope.lists.append(ListVariable(target, length, depth))
        if self.rng.random() < 0.7:
            self.read_list(scope, depth)

    def read_list(self, scope: Scope, depth: int) -> None:
        """A float from a list: its sum, mean, largest or smallest item, an item, or a loop
        over its items."""
        lst = self.rng.choice(scope.lists)
        k = self.rng.randint(-lst.length, lst.length - 1)
        value = self.rng.choice([f"sum({lst.name})", f"sum({lst.name}) / len({lst.name})",
                                 f"max({lst.name})", f"min({lst.name})", f"{lst.name}[{k}]",
                                 f"{lst.name}[{k}] * {self.bounded(scope)}"])
        if self.rng.random() < 0.25:
            item, target = self.fresh("z"), self.rng.choice(scope.floats)
            inner = self.inner(scope, loop=True)
            inner.floats.append(item)
            items = self.rng.choice([lst.name, f"reversed({lst.name})"])
            if self.rng.random() < 0.4:  # beside a count, which carries no derivative
                count = self.fresh("i")
                counts = self.rng.choice([f"range({lst.length})", "range(1, 4)",
                                          f"reversed(range({lst.length}))"])
                pair = [f"{count}, {item}", f"zip({counts}, {items})"]
                if self.rng.random() < 0.5:
                    pair = [f"{item}, {count}", f"zip({items}, {counts})"]
                self.emit(depth, f"for {pair[0]} in {pair[1]}:")
                inner.indices.append(count)
            else:
                self.emit(depth, f"for {item} in {items}:")
            self.emit(depth + 1, f"{target} = {target} * 0.5 + {item} * "
                      f"{self.bounded(inner)}")
            return
        target = self.fresh("v") if self.rng.random() < 0.4 else self.rng.choice(scope.floats)
        self.emit(depth, f"{target} = {value}")
        scope.floats += [target] if target not in scope.floats else []

    def change_list(self, scope: Scope, depth: int) -> None:
        """An item written, added to, appended, or popped (by the block that made the list)."""
        lst = self.rng.choice(scope.lists)
        k = self.rng.randint(-lst.length, lst.length - 1)
        forms = [f"{lst.name}[{k}] = {self.expression(scope, 1)}",
                 f"{lst.name}[{k}] += {self.bounded(scope)}"]
        if lst.depth == depth:
            forms.append(f"{lst.name}.append({self.expression(scope, 1)})")
            if lst.length > 1:
                forms.append(f"{self.rng.choice(scope.floats)} = {lst.name}.pop()")
        line = self.rng.choice(forms)
        lst.length += line.startswith(f"{lst.name}.append") - (".pop()" in line)
        self.emit(depth, line)

    def jump(self, scope: Scope, depth: int) -> None:
        self.emit(depth, f"if {self.condition(scope)}:")
        self.emit(depth + 1, self.rng.choice(["break", "continue"]))

    def return_(self, scope: Scope, depth: int) -> None:
        self.emit(depth, f"if {self.condition(scope)}:")
        self.emit(depth + 1, f"return {self.results(scope)}")

    def inner(self, scope: Scope, loop: bool = False) -> Scope:
        """A nested block's scope: it sees the outer names; names it creates stay inside it."""
        return Scope(list(scope.floats), list(scope.indices), scope.loop_depth + loop,
                     scope.helpers, scope.counts, list(scope.lists))

    # expressions

    def constant(self) -> str:
        value = self.rng.choice([0.25, 0.5, 0.7, 0.9, 1.1, 1.5])
        return f"{value}" if self.rng.random() < 0.6 else f"(-{value})"

    def atom(self, scope: Scope) -> str:
        roll = self.rng.random()
        if roll < 0.15:
            return self.constant()
        if roll < 0.3 and scope.indices:
            return f"{self.constant()} * {self.rng.choice(scope.indices)}"
        return self.rng.choice(scope.floats)

    def bounded(self, scope: Scope) -> str:
        """An expression no larger than about 3 in size, whatever the variables hold."""
        a = self.expression(scope, 1)
        w = self.rng.choice(scope.floats)
        return self.rng.choice([
            f"math.sin({a})", f"math.cos({a})", f"math.tanh({a})", self.constant(),
            f"{w} / (1.0 + {w} * {w})", f"math.exp(math.sin({a}))", f"math.exp(-{w} * {w})",
        ])

    def expression(self, scope: Scope, depth: int) -> str:
        if depth == 0 or self.rng.random() < 0.25:
            return self.atom(scope)
        a = self.expression(scope, depth - 1)
        b = _parenthesized(self.expression(scope, depth - 1))
        return self.rng.choice([
            f"{a} + {b}", f"{a} - {b}", f"{_parenthesized(a)} * {self.bounded(scope)}",
            f"{_parenthesized(a)} / (1.0 + {b} * {b})", f"math.sin({a})", f"math.cos({a})",
            f"math.tanh({a})", f"math.sqrt(1.0 + {_parenthesized(a)} ** 2)",
            f"math.exp(math.tanh({a}))", f"-{_parenthesized(a)}",
        ])

    def condition(self, scope: Scope) -> str:
        test = self.comparison(scope)
        roll = self.rng.random()
        if roll < 0.15:
            return f"({test} and {self.comparison(scope)})"
        if roll < 0.3:
            return f"({test} or {self.comparison(scope)})"
        if roll < 0.4:
            return f"not {test}"
        return test

    def comparison(self, scope: Scope) -> str:
        a, b = self.rng.sample(scope.floats * 2 if len(scope.floats) < 2 else scope.floats, 2)
        return self.rng.choice([f"{a} > {b}", f"{a} < {self.constant()}",
                                f"{a} * {b} > {self.constant()}"])


class LoopShape(RandomProgram):
    """Loop shapes the general generator seldom makes, for the reverse sweep's small tapes:
    a ``break`` from a loop carrying a value, invariants (module constants, parameters) in a
    loop's products, and sums over the items of ``zip`` (called with iterators too)."""

    SHAPES = ("break", "invariant", "sum")

    def build(self) -> str:
        self.lines, self.statements, self.limit, self.width = [], 0, 4, 1
        self.shape = self.SHAPES[self.rng.randrange(len(self.SHAPES))]
        return getattr(self, f"{self.shape}_loop")()

    def header(self, scope: Scope) -> None:
        index = self.fresh("i")
        if self.rng.random() < 0.5:
            self.emit(0, f"for {index} in range(n):")
        else:
            self.emit(0, f"{index} = 0")
            self.emit(0, f"while {index} < n:")
            self.emit(1, f"{index} += 1")
        scope.indices.append(index)

    def break_loop(self) -> str:
        scope = Scope(floats=["x", "y", "v"], loop_depth=1)
        self.emit(0, f"v = {self.expression(Scope(floats=['x', 'y']), 1)}")
        self.header(scope)
        self.emit(1, f"v = {self.expression(scope, 2)}")
        self.emit(1, f"if {self.condition(scope)}:")
        self.emit(2, f"v = {self.expression(scope, 1)}")
        self.emit(2, "break")
        if self.rng.random() < 0.5:
            self.emit(1, "else:")
            self.emit(2, f"v = {self.expression(scope, 1)}")
        if self.rng.random() < 0.5:
            self.emit(1, f"v = {self.expression(scope, 1)}")
        self.emit(0, f"return v * {_parenthesized(self.expression(scope, 1))} + x * y")
        return "import math\n\n\ndef f(x, y, n):\n" + "\n".join(self.lines) + "\n"

    def invariant_loop(self) -> str:
        scope = Scope(floats=["x", "y", "v", "w"], loop_depth=1)
        self.emit(0, f"v = {self.expression(Scope(floats=['x', 'y']), 1)}")
        self.emit(0, "w = y")
        self.header(scope)
        for target in self.rng.sample(["v", "w"], self.rng.randint(1, 2)):
            fixed = " * ".join(self.rng.sample(["SCALE", "OFFSET", "x", "y", "0.5"], 3))
            self.emit(1, f"{target} = {target} - {fixed} * {_parenthesized(self.bounded(scope))}")
        self.emit(0, f"return v * w + {self.expression(scope, 1)} + x * y")
        return ("import math\n\nSCALE = 0.3\nOFFSET = 1.5\n\n\ndef f(x, y, n):\n"
                + "\n".join(self.lines) + "\n")

    def sum_loop(self) -> str:
        scope = Scope(floats=["x", "y", "c", "d"])
        self.emit(0, "total = 0.0")
        self.emit(0, "for c, d in zip(cs, ds):")
        self.emit(1, f"r = {self.expression(scope, 2)}")
        scope.floats.append("r")
        self.emit(1, f"total += {self.expression(scope, 1)}")
        result = self.rng.choice(["total", "0.5 * total - x", "math.tanh(total)",
                                  "total * total + y"])
        self.emit(0, f"return {result} + x * y")
        return "import math\n\n\ndef f(x, y, cs, ds):\n" + "\n".join(self.lines) + "\n"


def check_loop_shape(seed: int) -> int:
    """Both modes' derivatives of loop shape ``seed`` at two points; sums get iterators too."""
    program = LoopShape(seed)
    rng = random.Random(-seed - 1)
    wrt = rng.choice([(0,), (1,), (0, 1)])
    spec = tuple(NAMES[i] for i in wrt) if len(wrt) > 1 else NAMES[wrt[0]]
    f = primal(program.source)
    checked = 0
    for _ in range(POINTS_PER_PROGRAM):
        x, y, n = random_point(rng)
        items = [rng.uniform(-1.5, 1.5) for _ in range(3)], [rng.uniform(-1.5, 1.5)
                                                             for _ in range(3)]
        args = (x, y, *items) if program.shape == "sum" else (x, y, n + 2)
        expected = reliable_differences(f, args, wrt)
        if expected is None:
            continue
        checked += 1
        for mode in MODES:
            fpr = derivative(program.source, spec, mode)
            once = program.shape == "sum" and (mode == "reverse" or len(wrt) == 1)
            calls = [args] + ([(x, y, iter(items[0]), iter(items[1]))] if once else [])
            # (forward mode sweeps once per argument: an iterator serves one sweep only)
            for call in calls:
                got = fpr(*call)
                got = list(got) if len(wrt) > 1 else [got]
                if any(abs(g - e) > RTOL * max(1.0, abs(e)) for g, e in zip(got, expected)):
                    pytest.fail(f"loop shape {seed}, {mode} mode, wrt {spec}, at {call}:\n"
                                f"finite differences: {expected}\n{mode} mode: {got}\n\n"
                                f"{program.source}\n{generated(program.source, spec, mode)}",
                                pytrace=False)
    return checked


LOOP_SHAPES = 45


def test_random_loop_shapes_agree_with_finite_differences():
    points = [check_loop_shape(seed) for seed in range(LOOP_SHAPES)]
    assert sum(1 for n in points if n) >= MIN_CHECKED * LOOP_SHAPES, points


def _parenthesized(expression: str) -> str:
    """``expression`` ready to be an operand of ``*``, ``/``, ``**`` or unary ``-``."""
    simple = expression.replace("_", "").replace(".", "").isalnum()
    closed = expression.startswith(("(", "math.")) and closes_at_end(expression)
    return expression if simple or closed else f"({expression})"


NAMES = ("x", "y")


def random_point(rng: random.Random) -> tuple:
    return (rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5), rng.randint(0, 4))


def reliable_differences(f, args: tuple, wrt: tuple[int, ...]) -> list[float] | None:
    """Central differences along ``wrt``, or None where they cannot be trusted.

    Near a branch switch or a change in a loop's trip count, or where a value is not finite,
    two step sizes disagree: the function is not smooth there and the point is skipped.
    """
    try:
        value = f(*args)
        fine, coarse = ([numeric_gradient(f, args, i, step) for i in wrt] for step in STEPS)
    except (OverflowError, ValueError, ZeroDivisionError):
        return None
    if not all(map(math.isfinite, [value, *fine, *coarse])):
        return None
    if any(abs(a - b) > RTOL * max(1.0, abs(a)) for a, b in zip(fine, coarse)):
        return None
    return fine


def check_program(seed: int) -> int:
    """How many points program ``seed`` was checked at; fails with the whole story if wrong."""
    src = RandomProgram(seed).source
    rng = random.Random(-seed - 1)
    wrt = rng.choice([(0,), (1,), (0, 1)])
    spec = tuple(NAMES[i] for i in wrt) if len(wrt) > 1 else NAMES[wrt[0]]
    points = [random_point(rng) for _ in range(POINTS_PER_PROGRAM)]
    f = primal(src)
    derivatives: dict[str, Callable] = {}
    checked = 0
    for args in points:
        expected = reliable_differences(f, args, wrt)
        if expected is None:
            continue
        checked += 1
        for mode in MODES:
            story = f"program {seed}, {mode} mode, wrt {spec}, at {args}:\n"
            try:
                if mode not in derivatives:
                    derivatives[mode] = derivative(src, spec, mode)
                got = derivatives[mode](*args)
            except Exception:  # a crash is reported like a wrong number, with the whole story
                crash = traceback.format_exc(limit=-2)
                text = generated(src, spec, mode) if mode in derivatives else ""
                pytest.fail(f"{story}{crash}\n{src}\n{text}", pytrace=False)
            got = list(got) if len(wrt) > 1 else [got]
            if any(abs(g - e) > RTOL * max(1.0, abs(e)) for g, e in zip(got, expected)):
                pytest.fail(
                    f"{story}finite differences: {expected}\n{mode} mode: {got}\n\n"
                    f"{src}\n{generated(src, spec, mode)}",
                    pytrace=False,
                )
    return checked


@pytest.mark.parametrize("part", range(PARTS))
def test_random_programs_agree_with_finite_differences(part):
    """Programs ``part``, ``part + PARTS``, ...: the parts run side by side under xdist."""
    seeds = range(part, PROGRAMS, PARTS)
    points = [check_program(seed) for seed in seeds]
    checked = sum(1 for n in points if n)
    skipped = POINTS_PER_PROGRAM * len(seeds) - sum(points)
    summary = (f"{checked} of {len(seeds)} programs checked; {skipped} of "
               f"{POINTS_PER_PROGRAM * len(seeds)} points skipped where the function is not "
               "smooth")
    print(summary)
    assert checked >= MIN_CHECKED * len(seeds), summary


def test_generator_is_deterministic_and_uses_every_construct():
    sources = [RandomProgram(seed).source for seed in range(400)]
    assert sources == [RandomProgram(seed).source for seed in range(400)]
    text = "\n".join(sources)
    for construct in ("if ", "elif ", "else:", " if ", "for ", "while ", "break", "continue",
                      "return", " and ", " or ", "not ", "+= ", "-= ", "*= ", "/= ",
                      "reversed(", "range(n", "range(k", "enumerate(", "zip(", "math.exp(",
                      "math.sqrt(", "math.tanh(", "float(n)", "def h", "(a, b, k):",
                      "x = h", "y = h", "a = ", "b += ", "x = 0.", "y = float(", " * 0.5 + h",
                      "sum(t", ", *r", "[-1] - v", "[0] + s",
                      " = [", ".append(", ".pop()", "] += ", "sum(L", "max(L", "min(L",
                      "len(L", " for c", " in L", " = lambda s: ", "    def q", "        u = ",
                      "sum(map(q", "filter(lambda z", ") for z in "):
        assert construct in text, construct
    assert any(src.count("return") > 1 for src in sources), "no early return"
    assert any(" = h" in line and line.count("(x, x") for line in text.splitlines()), \
        "no helper called with one variable twice"
    assert re.search(r"\w+, \w+ = h\d+\(", text), "no helper returning two values"
    assert re.search(r"\n +s\d+ = \(s\d+\[", text), "no state tuple updated in a loop"
    assert re.search(r"\n +\w+, \w+ = s\d+\n", text), "no state tuple unpacked"
    helpers = [part for src in sources for part in src.split("\ndef ")[2:]]
    assert any(part.split("\n", 2)[1].lstrip().startswith("if ") for part in helpers), \
        "no helper returning early"
    for src in sources[:10]:
        assert isinstance(primal(src)(0.3, -0.7, 2), float)


def test_points_where_the_function_is_not_smooth_are_recognised():
    def step(x, y, n):  # jumps by 1.0 just after x = 0.3
        return x * y + (1.0 if x > 0.3000005 else 0.0)

    assert reliable_differences(step, (0.3, 1.0, 0), (0,)) is None
    assert reliable_differences(step, (1.3, 2.0, 0), (0, 1)) == pytest.approx([2.0, 1.3])
