"""Seeded random NumPy programs: every mode agrees with finite differences.

    AD_TRANSPILE_RANDOM_ARRAY_PROGRAMS=2000 python -m pytest tests/test_random_array_programs.py

checks 2000 programs instead of the default. Every program is a function
``f(x, A, W, s, c, B, n)`` of arrays ``x`` (3,), ``A`` (2, 3), ``W`` (3, 3), a float ``s``, data
``c`` (3,) and ``B`` (2, 3) that are never differentiated, and a loop count ``n``. It mixes
ufuncs, broadcasting (against numbers, last axes, and axes of length 1: keepdims, ``[:, None]``),
reductions with and without an axis, products, indexing and slicing,
reshapes and transposes, ``np.where``, loops carrying arrays and branches, writes into arrays
of its own (``y[i] = ...``, ``y[1:] += ...``, masks), and returns a float.
The gradient along one to three of ``x, A, W, s`` is taken in reverse mode (the generated file,
and ``adt.grad``, whose derivative knows the arrays' shapes), in forward mode by batched
tangents (the generated file), in forward mode one sweep per element (the generated jvp) and by
``adt.grad(..., mode="forward")``. A failure prints the program, the point, both
derivatives and the generated code; a construct the transpiler refuses with a located
``TranspileError`` counts as refused, and the summary names the reasons.
"""

from __future__ import annotations

import collections
import importlib.util
import re
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest
from conftest import ProgramText, closes_at_end, numeric_gradient, program_count

import ad_transpile as adt
from ad_transpile import TranspileError, api
from ad_transpile.kinds import kind_of_value
from ad_transpile.load import load
from ad_transpile.parse import function_in_text
from ad_transpile.pipeline import transpile

DEFAULT_PROGRAMS = 12
PROGRAMS = program_count("AD_TRANSPILE_RANDOM_ARRAY_PROGRAMS", DEFAULT_PROGRAMS, 80)
PARTS = 4
POINTS_PER_PROGRAM = 2
STEPS = (1e-6, 1e-5)  # finite differences are trusted only where these two steps agree
RTOL = 1e-5
MIN_CHECKED = 0.8

Shape = tuple[int, ...]
SHAPES: list[Shape] = [(), (2,), (3,), (2, 3), (3, 3)]
PARAMS: dict[str, Shape] = {"x": (3,), "A": (2, 3), "W": (3, 3), "s": (), "c": (3,),
                            "B": (2, 3)}
DIFFERENTIABLE = ("x", "A", "W", "s")
DATA = ("c", "B")  # never in wrt: loops run over them and conditions read them
MODES = ("reverse", "reverse api", "forward batched", "forward per element", "forward api")


@dataclass
class Scope:
    """The names a statement may read (by shape) and may assign, and the loop indices."""

    names: dict[Shape, list[str]]
    assignable: list[str]
    indices: list[str] = field(default_factory=list)
    loop_depth: int = 0

    def inner(self, loop: bool = False) -> Scope:
        """A nested block's scope: it sees the outer names; names it creates stay inside it."""
        return Scope({k: list(v) for k, v in self.names.items()}, list(self.assignable),
                     list(self.indices), self.loop_depth + loop)


class RandomArrayProgram(ProgramText):
    """The source text of one random NumPy function returning a float, and its ``wrt``.

    Values stay bounded enough for finite differences: a product always has one factor that is
    bounded (a sine, cosine, tanh, a small constant or ``w / (1.0 + w * w)``), ``exp`` only sees
    a bounded argument, ``log`` and ``sqrt`` only ``1.0 + w * w``.
    """

    MAX_DEPTH = 2
    MAX_LOOP_DEPTH = 2
    MAX_STATEMENTS = 12

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.wrt = tuple(sorted(self.rng.sample(DIFFERENTIABLE, self.rng.choice([1, 1, 2, 3])),
                                key=DIFFERENTIABLE.index))
        self.source = self.build()

    def build(self) -> str:
        names: dict[Shape, list[str]] = {shape: [] for shape in SHAPES}
        for param, shape in PARAMS.items():
            names[shape].append(param)
        # a parameter is overwritten now and then: it becomes active by assignment
        scope = Scope(names, [p for p in DIFFERENTIABLE if self.rng.random() < 0.15])
        for _ in range(self.rng.randint(1, 3)):
            self.new_variable(scope, 0)
        self.block(scope, 0, self.rng.randint(2, 5))
        self.emit(0, f"return {self.result(scope)}")
        return ("import numpy as np\n\n\ndef f(x, A, W, s, c, B, n):\n"
                + "\n".join(self.lines) + "\n")

    def result(self, scope: Scope) -> str:
        """A float from a value the program computed (or a fresh expression)."""
        made = [(v, shape) for shape, names in scope.names.items() for v in names
                if v not in PARAMS]
        shape = self.rng.choice(made)[1] if made else self.rng.choice(SHAPES)
        value = self.expression(scope, shape, 1)
        if made and self.rng.random() < 0.8:
            v, shape = self.rng.choice(made)
            value = v
            if self.rng.random() >= 0.5:
                value = f"{v} + {_grouped(self.expression(scope, shape, 1))}"
        forms = ["np.sum({})", "np.mean({})", "np.sum({} * {})"] if shape else ["{}"]
        form = self.rng.choice(forms)
        if "{} * {}" in form:
            form = form.format(_grouped(value), self.bounded(scope, shape))
        else:
            form = form.format(value)
        reach = " + ".join(f"np.sum(np.sin({w}))" if PARAMS[w] else f"np.sin({w})"
                           for w in self.wrt)
        return form if self.rng.random() < 0.4 else f"{form} + 0.1 * ({reach})"

    # statements

    def block(self, scope: Scope, depth: int, size: int) -> None:
        for _ in range(size if self.statements < self.MAX_STATEMENTS else 1):
            self.statement(scope, depth)

    def statement(self, scope: Scope, depth: int) -> None:
        self.statements += 1
        kinds = ["assign", "update", "update", "new_variable"]
        if self.statements < self.MAX_STATEMENTS and depth < self.MAX_DEPTH:
            kinds += ["if_"]
            if scope.loop_depth < self.MAX_LOOP_DEPTH:
                kinds += ["for_range", "for_range", "for_items", "while_"]
        kinds += ["write"]
        getattr(self, self.rng.choice(kinds))(scope, depth)

    def new_variable(self, scope: Scope, depth: int) -> None:
        shape = self.rng.choice(SHAPES)
        target = self.fresh("v")
        self.emit(depth, f"{target} = {_own(self.expression(scope, shape, 2))}")
        scope.names[shape].append(target)
        scope.assignable.append(target)

    def pick_assignable(self, scope: Scope) -> tuple[str, Shape] | None:
        if not scope.assignable:
            return None
        target = self.rng.choice(scope.assignable)
        return target, next(s for s, names in scope.names.items() if target in names)

    def assign(self, scope: Scope, depth: int) -> None:
        picked = self.pick_assignable(scope)
        if picked is None:
            return self.new_variable(scope, depth)
        target, shape = picked
        self.emit(depth, f"{target} = {_own(self.expression(scope, shape, 2))}")

    def update(self, scope: Scope, depth: int) -> None:
        """``v = v * w`` and friends: a variable overwritten with a value computed from itself."""
        picked = self.pick_assignable(scope)
        if picked is None:
            return self.new_variable(scope, depth)
        v, shape = picked
        smaller = self.broadcastable(shape)
        forms = [
            f"{v} = {v} * {self.bounded(scope, smaller)}",
            f"{v} += {self.expression(scope, smaller, 1)}",
            f"{v} -= {self.bounded(scope, smaller)}",
            f"{v} = 0.5 * {v} + {self.bounded(scope, shape)}",
            f"{v} = np.tanh({v}) * {self.bounded(scope, smaller)} + {v}",
        ]
        if shape == (3,):  # the recurrent update of a small network
            forms.append(f"{v} = np.tanh(W @ {v} + {self.expression(scope, smaller, 1)})")
        if shape == (3, 3):
            forms.append(f"{v} = np.tanh({v} @ {self.bounded(scope, (3, 3))})")
        self.emit(depth, self.rng.choice(forms))

    def if_(self, scope: Scope, depth: int) -> None:
        self.emit(depth, f"if {self.condition(scope)}:")
        self.block(scope.inner(), depth + 1, self.rng.randint(1, 2))
        if self.rng.random() < 0.6:
            self.emit(depth, "else:")
            self.block(scope.inner(), depth + 1, self.rng.randint(1, 2))

    def for_range(self, scope: Scope, depth: int) -> None:
        index = self.fresh("i")
        count = self.rng.choice(["n", "n", "1", "2", "3"])
        header = self.rng.choice([f"range({count})", f"range({count})",
                                  f"reversed(range({count}))"])
        self.emit(depth, f"for {index} in {header}:")
        inner = scope.inner(loop=True)
        inner.indices.append(index)  # at most 2, so it indexes an axis of 3
        self.block(inner, depth + 1, self.rng.randint(1, 3))

    def while_(self, scope: Scope, depth: int) -> None:
        counter = self.fresh("k")
        self.emit(depth, f"{counter} = 0")
        self.emit(depth, f"while {counter} < {self.rng.choice(['n', '2'])}:")
        self.emit(depth + 1, f"{counter} += 1")
        self.block(scope.inner(loop=True), depth + 1, self.rng.randint(1, 2))

    # index -> shape of the part it picks (one of SHAPES), for each shape written into; a mask
    # of data picks a number of items known only when it runs: a number is written there
    PARTS = {
        (2,): {"0": (), "-1": (), ":": (2,), "c[:2] > 0.0": None},
        (3,): {"0": (), "-1": (), "1:": (2,), "::2": (2,), "{i}": (), "np.array([0, 2])": (2,),
               "c > 0.0": None},
        (2, 3): {"1": (3,), "0, 2": (), ":, 0": (2,), "1, 1:": (2,), "-1, {i}": (),
                 "B > 0.0": None},
        (3, 3): {"{i}": (3,), ":, {i}": (3,), "1:": (2, 3), "c > 0.0": None},
    }

    def write(self, scope: Scope, depth: int) -> None:
        """``y = <a copy, or zeros>``, then ``y[index] = ...`` or ``y[index] op= ...``, once or
        twice: an array of the function's own written into, then read like any value."""
        shape = self.rng.choice(SHAPES[1:])
        copied = self.rng.choice(scope.names[shape]) if scope.names[shape] else None
        y = self.fresh("y")
        makers = [f"np.zeros({shape})"] + ([f"{copied}.copy()", f"np.copy({copied})",
                                             f"{_grouped(copied)} * 1.0"] if copied else [])
        self.emit(depth, f"{y} = {self.rng.choice(makers)}")
        for _ in range(self.rng.randint(1, 2)):
            parts = {i: p for i, p in self.PARTS[shape].items()
                     if "{i}" not in i or scope.indices}
            index = self.rng.choice(sorted(parts))
            part = parts[index] if parts[index] is not None else ()
            index = index.replace("{i}", self.rng.choice(scope.indices or ["0"]))
            op = self.rng.choice(["=", "=", "+=", "-=", "*="])
            smaller = self.broadcastable(part)
            value = (self.bounded(scope, smaller) if op == "*="
                     else self.expression(scope, smaller, 1))
            self.emit(depth, f"{y}[{index}] {op} {value}")
        scope.names[shape].append(y)

    def for_items(self, scope: Scope, depth: int) -> None:
        """``for row in B`` or ``for a in c``: items of data, never of a value in ``wrt``."""
        item = self.fresh("r")
        owners = [(p, PARAMS[p][1:]) for p in PARAMS if PARAMS[p] and p not in self.wrt
                  and p not in scope.assignable]
        owner, shape = self.rng.choice(owners)
        if self.rng.random() < 0.3:
            self.emit(depth, f"for {self.fresh('j')}, {item} in enumerate({owner}):")
        else:
            self.emit(depth, f"for {item} in {owner}:")
        inner = scope.inner(loop=True)
        inner.names[shape].append(item)
        self.block(inner, depth + 1, self.rng.randint(1, 3))

    # expressions

    def broadcastable(self, shape: Shape) -> Shape:
        """A shape that broadcasts to ``shape``: itself, a number, or its last axes."""
        return self.rng.choice([shape, shape, ()] + ([shape[1:]] if len(shape) > 1 else []))

    def constant(self) -> str:
        value = self.rng.choice([0.25, 0.5, 0.7, 0.9, 1.1, 1.5])
        return f"{value}" if self.rng.random() < 0.6 else f"(-{value})"

    def atom(self, scope: Scope, shape: Shape) -> str:
        roll = self.rng.random()
        if shape == () and roll < 0.2:
            return self.constant()
        if shape == () and roll < 0.3 and scope.indices:
            return f"{self.constant()} * {self.rng.choice(scope.indices)}"
        if not scope.names[shape] or roll < 0.1:
            return _grouped(self.structural(scope, shape, 0))
        return self.rng.choice(scope.names[shape])

    def bounded(self, scope: Scope, shape: Shape) -> str:
        """An expression of ``shape`` no larger than about 3, whatever the variables hold."""
        a = self.expression(scope, shape, 1)
        w = self.atom(scope, shape)
        return self.rng.choice([
            f"np.sin({a})", f"np.cos({a})", f"np.tanh({a})",
            f"({w} / (1.0 + {w} * {w}))", f"np.exp(np.sin({a}))", f"np.exp(-{w} * {w})",
        ] + ([self.constant()] if shape == () else []))

    def expression(self, scope: Scope, shape: Shape, depth: int) -> str:
        if depth == 0 or self.rng.random() < 0.2:
            return self.atom(scope, shape)
        family = self.rng.choice(["unary", "binary", "binary", "structural", "structural"]
                                 + (["where"] if shape else []))
        if family == "structural":
            return self.structural(scope, shape, depth)
        if family == "where":
            return self.where(scope, shape, depth)
        a = self.expression(scope, shape, depth - 1)
        if family == "unary":
            return self.rng.choice([
                f"np.sin({a})", f"np.cos({a})", f"np.tanh({a})", f"np.exp(np.tanh({a}))",
                f"np.log(1.0 + {_grouped(a)} ** 2)", f"np.sqrt(1.0 + {_grouped(a)} ** 2)",
                f"-{_grouped(a)}", f"{_grouped(a)} / (1.0 + {_grouped(a)} ** 2)",
                f"np.abs({a})", f"np.square(np.tanh({a}))", f"np.clip({a}, -1.0, 1.0)",
            ])
        if len(shape) == 2 and self.rng.random() < 0.25:  # against an axis of length 1
            b = self.length_one(scope, shape, depth - 1)
            return self.rng.choice([
                f"{a} + {b}", f"{b} - {_grouped(a)}", f"{_grouped(a)} * np.tanh({b})",
                f"{_grouped(a)} / (1.0 + {b} * {b})", f"np.maximum({a}, {b})"])
        other = self.broadcastable(shape)
        b = self.expression(scope, other, depth - 1)
        operands = [a, _grouped(b)] if self.rng.random() < 0.7 else [_grouped(b), _grouped(a)]
        return self.rng.choice([
            f"{operands[0]} + {operands[1]}", f"{operands[0]} - {operands[1]}",
            f"{_grouped(a)} * {self.bounded(scope, other)}",
            f"{self.bounded(scope, other)} * {_grouped(a)}",
            f"{_grouped(a)} / (1.0 + {_grouped(b)} * {_grouped(b)})",
            f"np.maximum({a}, {b})", f"np.minimum({b}, {a})",
        ])

    def length_one(self, scope: Scope, shape: Shape, depth: int) -> str:
        """An operand that broadcasts to the matrix ``shape`` along an axis of length 1: a
        column ``(2, 1)`` or a row ``(1, 3)`` (keepdims, ``[:, None]``, ``[None]``)."""
        rows, columns = {2: (2,), 3: (3,)}[shape[0]], {3: (3,)}[shape[1]]
        full = _grouped(self.expression(scope, shape, depth))
        column = _grouped(self.expression(scope, rows, depth))
        row = _grouped(self.expression(scope, columns, depth))
        return self.rng.choice([
            f"np.sum({full}, axis=1, keepdims=True)", f"np.mean({full}, axis=0, keepdims=True)",
            f"np.max({full}, axis=1, keepdims=True)", f"{column}[:, None]", f"{row}[None]",
            f"{row}[None, :]"])

    def where(self, scope: Scope, shape: Shape, depth: int) -> str:
        a, b = (self.expression(scope, shape, depth - 1) for _ in range(2))
        tests = {(2,): ["B[:, 0] > 0.0", "n > 1"], (3,): ["c > 0.0", "c > c[::-1]"],
                 (2, 3): ["B > 0.0", "c > 0.0", "B > c"], (3, 3): ["c > 0.0", "c[:, None] > c"]}
        test = self.rng.choice(tests[shape])
        if self.rng.random() < 0.2:  # on a value that depends on wrt: smooth away from a switch
            test = f"{self.expression(scope, shape, 0)} > {self.constant()}"
        return f"np.where({test}, {a}, {b})"

    def structural(self, scope: Scope, shape: Shape, depth: int) -> str:
        """An expression of ``shape`` made by a reduction, a product, an index or a reshape."""
        d = max(depth - 1, 0)
        index = self.rng.choice(scope.indices) if scope.indices else "1"
        choices = {  # templates: {2}, {3}, {23}, {33} stand for an operand of that shape
            (): ["np.sum({any})", "np.mean({any})", "np.dot({3}, {3})", "{3} @ {3}",
                 "{3}[0]", "{3}[-1]", "{23}[1, 2]", "{23}[1, -1]", "{33}[2][0]",
                 "np.sum({33}, axis=0)[1]", f"{{3}}[{index}]", "np.max({any})",
                 "np.min({23})", "np.prod(np.tanh({3}))", "np.linalg.norm({3})",
                 "np.var({23})", "np.cumsum({3})[-1]", "np.einsum('i,i->', {3}, {3})",
                 "np.einsum('i,ij,j', {3}, {33}, {3})", "np.linalg.norm({3}, 3)",
                 "np.linalg.norm({23}, 'nuc')", "np.linalg.vecdot({3}, {3})",
                 "np.linalg.trace({33})",
                 "np.ptp({3})", "np.vdot({23}, {23})", "np.trapezoid({3})",
                 "np.cumprod({3})[-1]", "np.nanmean({23})"],
            (2,): ["{23} @ {3}", "np.dot({23}, {3})", "np.sum({23}, axis=1)",
                   "np.mean({23}, axis=-1)", "{23}[:, 0]", "{23}[:, -1]", "{3}[1:]", "{3}[:2]",
                   "{3}[::-1][:2]", "np.max({23}, axis=1)",
                   "np.concatenate([{2}[:1], {3}[:1]])", "np.stack([{3}[0], {3}[1]])",
                   "np.diff({3})", "np.sort({3})[1:]", "np.repeat({23}[0, :1], 2)",
                   "np.linalg.multi_dot([{23}, {33}, {3}])", "np.linalg.norm({23}, 1, axis=1)",
                   "np.take({3}, np.array([2, 0]))", "np.append({3}[:1], s)",
                   "np.convolve({2}, {2})[:2]", "np.average({23}, axis=1)"],
            (3,): ["{33} @ {3}", "{3} @ {33}", "np.dot({33}, {3})", "{23}.T @ {2}",
                   "np.sum({23}, axis=0)", "np.mean({33}, axis=1)", "{23}[0]", "{33}[:, 1]",
                   "{3}[::-1]", "{33}.T[0]", "np.reshape({33}, (9,))[::3]",
                   "np.transpose({33})[-1]", f"{{33}}[{index}]",
                   "np.concatenate([{2}, {3}[:1]])", "np.cumsum({3})", "np.min({33}, axis=0)",
                   "np.hstack([{2}, {3}[-1:]])", "np.ravel({33})[:3]", "{23}.flatten()[::2]",
                   "np.array([{3}[0], s, {3}[2]])",
                   "np.concatenate([{2}[:1], {23}[1, :2]], axis=None)", "np.roll({3}, 1)",
                   "np.flip({3})", "np.sort({3})", "np.diagonal({33}).copy()",
                   "np.diff({23}, axis=0)[0]", "np.linalg.cross({3}, {3})",
                   "np.einsum('ij,jk,k->i', {33}, {33}, {3})",
                   "np.diff({23}, axis=0)[0]", "np.cumprod({3})", "np.cross({3}, {3})",
                   "np.pad({2}, (1, 0))", "np.polyval({3}, {23})[0]",
                   "np.interp({3}, np.array([-1.0, 0.0, 1.0]), {3})"],
            (2, 3): ["{23} @ {33}", "{23}[::-1]", "{33}[1:]", "{33}[:2]",
                     "np.reshape({23}.T, (2, 3))", "np.transpose(np.reshape({23}, (3, 2)))",
                     "np.outer({2}, {3})", "{23}.reshape(3, 2).T", "np.stack([{3}, {3}])",
                     "np.vstack([{3}, {3}])", "np.tile({3}, (2, 1))",
                     "np.broadcast_to({3}, (2, 3))", "np.expand_dims({3}, 0) * {23}",
                     "np.squeeze(np.reshape({23}, (1, 2, 3)))",
                     "np.take({33}, np.array([0, 2]), axis=0)", "np.rollaxis({23}.T, 1)",
                     "np.column_stack([{2}, {2}, {2}])"],
            (3, 3): ["{33} @ {33}", "{33}.T", "np.transpose({33})", "{23}.T @ {23}",
                     "np.triu({33})", "np.tril({33}, -1)", "np.diag({3})",
                     "np.roll({33}, 1, axis=0)", "np.rot90({33})",
                     "np.outer({3}, {3})", "{33}[::-1]", "np.reshape({33}, (9,)).reshape(3, 3)",
                     "np.einsum('ij,jk->ik', {33}, {33})", "np.tile({3}, (3, 1))",
                     "np.linalg.matrix_transpose({33})", "np.linalg.matrix_power({33}, 2)",
                     "np.pad({23}, ((1, 0), (0, 0)), mode='edge')", "np.kron({3}[:1], {33})"],
        }
        template = self.rng.choice(choices[shape])
        shapes = {"2": (2,), "3": (3,), "23": (2, 3), "33": (3, 3)}

        def operand(match: re.Match) -> str:
            key = match.group(1)
            if key == "any":
                return self.expression(scope, self.rng.choice(SHAPES[1:]), d)
            # an operand of a call is written as it is; one of an operator or index grouped
            bare = match.start() > 0 and template[match.start() - 1] == "(" and \
                template[match.end()] in ",)"
            value = self.expression(scope, shapes[key], d)
            return value if bare else _grouped(value)

        return re.sub(r"\{(\w+)\}", operand, template)

    def condition(self, scope: Scope) -> str:
        tests = ["np.sum(c) > 0.0", "c[0] > c[1]", "n > 1", "np.mean(B) < 0.2", "B[0, 1] > 0.0"]
        if self.rng.random() < 0.3:  # on a value that depends on wrt
            tests.append(f"np.sum({self.expression(scope, self.rng.choice(SHAPES[1:]), 0)}) "
                         f"> {self.constant()}")
            return tests[-1]
        return self.rng.choice(tests)


def _grouped(expression: str) -> str:
    """``expression`` ready to be an operand of ``*``, ``/``, ``@``, ``**`` or unary ``-``."""
    if re.fullmatch(r"[\w.]+", expression) or (
            re.fullmatch(r"(np\.\w+)?\(.*\)", expression) and closes_at_end(expression)):
        return expression
    if re.fullmatch(r"\w+(\[[^\[\]]*\])+", expression):
        return expression
    return f"({expression})"


VIEW_CALLS = ("np.reshape(", "np.transpose(", "np.broadcast_to(", "np.squeeze(", "np.ravel(")


def _own(expression: str) -> str:
    """``expression`` as a value of its own: a view of another array (``x``, ``W[1:]``,
    ``W.T``, ``np.reshape(W, ...)``) gets ``+ 0.0``, so that ``v += ...`` later changes ``v``
    only, as the transpiler reads it (``v = v + ...``), and never an argument."""
    whole_call = expression.startswith(VIEW_CALLS) and closes_at_end(expression)
    if re.fullmatch(r"[\w.]+|.*(\]|\.T|\.reshape\(3, 2\))", expression) or whole_call:
        return f"{_grouped(expression)} + 0.0"
    return expression


# checking

ARGUMENTS = tuple(PARAMS) + ("n",)


def random_point(rng: np.random.Generator) -> tuple:
    arrays = [rng.uniform(-1.5, 1.5, size=shape) for shape in PARAMS.values()]
    arrays[3] = float(arrays[3])
    return (*arrays, int(rng.integers(0, 4)))


def reliable_differences(f: Callable, args: tuple, wrt: tuple[int, ...]) -> list | None:
    """Central differences along ``wrt``, or None where they cannot be trusted (two steps
    disagree: near a branch switch, a kink of ``np.where``, or where a value is not finite)."""
    with np.errstate(all="ignore"):
        value = f(*args)
        fine, coarse = ([numeric_gradient(f, args, i, step) for i in wrt] for step in STEPS)
    if not all(np.all(np.isfinite(v)) for v in [value, *fine, *coarse]):
        return None
    if not all(_close(a, b) for a, b in zip(fine, coarse)):
        return None
    return fine


def _close(got: Any, expected: Any) -> bool:
    scale = max(1.0, float(np.max(np.abs(expected))))
    return np.shape(got) == np.shape(expected) and bool(
        np.all(np.abs(np.asarray(got, dtype=float) - expected) <= RTOL * scale))


@dataclass
class Tally:
    """What happened to every program in every mode."""

    checked: collections.Counter = field(default_factory=collections.Counter)
    refused: dict[str, collections.Counter] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter))
    skipped_points: int = 0
    zeros_as_numbers: int = 0

    def zero_as_number(self, got: Any, expected: Any) -> Any:
        """The generated reverse-mode file gives 0.0 for an array argument the result does not
        depend on (the API gives the array): a right number, counted and reported."""
        if np.ndim(got) == 0 and np.ndim(expected) and got == 0 and not np.any(expected):
            self.zeros_as_numbers += 1
            return np.zeros(np.shape(expected))
        return got

    def refuse(self, mode: str, error: TranspileError) -> None:
        reason = re.sub(r"^[^:]*:\d+:\d+: ", "", str(error).splitlines()[0])
        self.refused[mode][re.sub(r"'[^']*'", "'…'", reason)[:100]] += 1

    def summary(self, programs: int = PROGRAMS) -> str:
        lines = [f"{programs} programs; {self.skipped_points} of {POINTS_PER_PROGRAM * programs}"
                 " points skipped where the function is not smooth"]
        for mode in MODES:
            refused = self.refused[mode]
            lines.append(f"{mode}: {self.checked[mode]} checked, {sum(refused.values())} refused")
            lines += [f"    {count} x {reason}" for reason, count in refused.most_common(5)]
        lines.append(f"reverse: {self.zeros_as_numbers} gradients of zero given as the number 0.0")
        return "\n".join(lines)


class Derivatives:
    """The derivative of one program in each mode, transpiled on first use."""

    def __init__(self, src: str, seed: int, wrt: tuple[str, ...], folder) -> None:
        self.src, self.seed, self.wrt, self.folder = src, seed, wrt, folder
        self.spec = wrt if len(wrt) > 1 else wrt[0]
        self.texts: dict[str, str] = {}
        self.built: dict[str, Callable] = {}

    def text(self, mode: str) -> str:
        return self.texts.get(mode, "")

    def gradient(self, mode: str, args: tuple) -> tuple:
        if mode not in self.built:
            self.built[mode] = self.build(mode)
        got = _on_copies(self.built[mode])(*args)
        if mode == "reverse api":  # made for the kinds of args: which axes have length 1
            given = tuple(zip(ARGUMENTS, map(kind_of_value, args)))
            self.texts[mode] = api._transpiled(self.module.f, api._hashable(self.spec),
                                               "reverse", "grad", given)[0]
        return got if len(self.wrt) > 1 else (got,)

    def build(self, mode: str) -> Callable:
        parsed = function_in_text(self.src, "example.py", "f")
        if mode == "forward api":
            module = _imported(self.src, self.folder, f"random_array_{self.seed}")
            self.texts[mode] = adt.source(module.f, self.spec, mode="forward")
            return adt.grad(module.f, self.spec, mode="forward")
        if mode == "reverse api":
            self.module = _imported(self.src, self.folder, f"random_array_rev_{self.seed}")
            return adt.grad(self.module.f, self.spec)
        if mode == "forward per element":
            text, entry = transpile(parsed, self.spec, "forward", "jvp")
            self.texts[mode] = text
            return _by_elements(load(text, entry, "random array jvp"), self.wrt)
        text, entry = transpile(parsed, self.spec, mode.split()[0])
        self.texts[mode] = text
        if mode == "forward batched" and "_basis(" not in text and "_directions(" not in text:
            raise NoBatched(text)
        return load(text, entry, f"random array {mode}")


class NoBatched(Exception):
    """The generated forward-mode file takes one sweep per element (no batched rule)."""


def _by_elements(jvp: Callable, wrt: tuple[str, ...]) -> Callable:
    """The gradient from a tangent function, one sweep per element of each ``wrt`` argument."""
    positions = [ARGUMENTS.index(w) for w in wrt]

    def gradient(*args):
        grads = []
        for k, i in enumerate(positions):
            grad = np.zeros(np.shape(args[i]))
            for index in np.ndindex(np.shape(args[i])):
                tangents = [np.zeros(np.shape(args[j])) if np.ndim(args[j]) else 0.0
                            for j in positions]
                if np.ndim(args[i]):
                    tangents[k][index] = 1.0
                else:
                    tangents[k] = 1.0
                grad[index] = jvp(*args, *tangents)[1]
            grads.append(grad if grad.shape else float(grad))
        return tuple(grads) if len(wrt) > 1 else grads[0]

    return gradient


def _imported(src: str, folder, module: str) -> Any:
    path = folder / f"{module}.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(module, path)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def _on_copies(f: Callable) -> Callable:
    """``f`` called with copies of its arrays: ``x += ...`` must not change the point."""
    return lambda *args: f(*(np.copy(a) if np.ndim(a) else a for a in args))


def check_program(seed: int, tally: Tally, folder) -> dict[str, str]:
    """Check program ``seed`` in every mode at a few points: the story of each mode that gave
    a wrong number or crashed."""
    program = RandomArrayProgram(seed)
    src, wrt = program.source, program.wrt
    positions = tuple(ARGUMENTS.index(w) for w in wrt)
    namespace: dict[str, Any] = {}
    exec(compile(src, "example.py", "exec"), namespace)
    f = _on_copies(namespace["f"])
    derivatives = Derivatives(src, seed, wrt, folder)
    rng = np.random.default_rng(seed)
    refused: set[str] = set()
    checked: set[str] = set()
    failures: dict[str, str] = {}
    for _ in range(POINTS_PER_PROGRAM):
        args = random_point(rng)
        expected = reliable_differences(f, args, positions)
        if expected is None:
            tally.skipped_points += 1
            continue
        for mode in MODES:
            if mode in refused or mode in failures:
                continue
            story = f"program {seed}, {mode} mode, wrt {wrt}, at {args}:\n"
            try:
                got = derivatives.gradient(mode, args)
            except (TranspileError, NoBatched) as error:
                refused.add(mode)
                if isinstance(error, TranspileError):
                    tally.refuse(mode, error)
                else:
                    tally.refused[mode]["an operation without a batched rule"] += 1
                continue
            except Exception:  # a crash is reported like a wrong number, with the whole story
                crash = traceback.format_exc(limit=-3)
                failures[mode] = f"{story}{crash}\n{src}\n{derivatives.text(mode)}"
                continue
            if mode == "reverse":
                got = [tally.zero_as_number(g, e) for g, e in zip(got, expected)]
            if not all(_close(g, e) for g, e in zip(got, expected)):
                failures[mode] = (f"{story}finite differences: {expected}\n{mode} mode: {got}"
                                  f"\n\n{src}\n{derivatives.text(mode)}")
                continue
            checked.add(mode)
    tally.checked.update(checked - set(failures))
    return failures


# Programs known to fail, as (seed, mode), each with a minimal program of its own in the soundness
# tests; none now (seeds 12 and 34 crashed in reverse mode where an adjoint reset to 0.0 after an
# overwrite reached a matrix product's or np.stack's adjoint, which needs an array).
KNOWN: set = set()


@pytest.mark.parametrize("part", range(PARTS))
def test_random_array_programs_agree_with_finite_differences(tmp_path, part):
    """Programs ``part``, ``part + PARTS``, ...: the parts run side by side under xdist."""
    tally = Tally()
    failures = {}
    seeds = range(part, PROGRAMS, PARTS)
    for seed in seeds:
        for mode, story in check_program(seed, tally, tmp_path).items():
            failures[seed, mode] = story
    print(tally.summary())
    known = {k for k in KNOWN if k[0] in seeds}
    new = [story for key, story in failures.items() if key not in known]
    assert not new, f"{len(new)} programs failed:\n\n" + "\n\n".join(new[:3])
    assert known <= set(failures), f"fixed now: {sorted(known - set(failures))} (update KNOWN)"
    smooth = POINTS_PER_PROGRAM * len(seeds) - tally.skipped_points
    assert smooth >= MIN_CHECKED * POINTS_PER_PROGRAM * len(seeds), tally.summary()
    for mode in MODES:  # most programs are checked or refused, not skipped
        reached = tally.checked[mode] + sum(tally.refused[mode].values())
        assert reached >= MIN_CHECKED * (len(seeds) - len(failures)), tally.summary()


def test_generator_is_deterministic_and_uses_every_construct():
    programs = [RandomArrayProgram(seed) for seed in range(200)]
    assert [p.source for p in programs] == [RandomArrayProgram(s).source for s in range(200)]
    text = "\n".join(p.source for p in programs)
    for construct in ("np.sin(", "np.cos(", "np.tanh(", "np.exp(", "np.log(", "np.sqrt(",
                      "np.sum(", "np.mean(", ", axis=", " @ ", "np.dot(", "np.outer(", "[::-1]",
                      "[1:]", "[:, 0]", "np.reshape(", ".reshape(", ".T", "np.transpose(",
                      "np.where(", "for i", "for r", "in B:", "in c:", "if ", "else:", "+= ",
                      "-= ", "np.tanh(W @ ", "while ", "enumerate(", "np.maximum(",
                      "np.concatenate(", "np.stack(", "np.einsum(", "] = ", "] += ", "] *= ",
                      "np.zeros(", ".copy()", "> 0.0] = ", "keepdims=True)", "[:, None]",
                      "[None]", "axis=None)", "np.roll(", "np.diff(", "np.sort(", "np.triu(",
                      "np.cumprod(", "np.take(", "np.append(", "np.pad(", "np.convolve(",
                      "np.interp(", "np.polyval(", "np.kron("):
        assert construct in text, construct
    assert {p.wrt for p in programs} >= {("x",), ("A",), ("W",), ("s",), ("x", "W")}
    rng = np.random.default_rng(0)
    for program in programs[:20]:
        namespace: dict[str, Any] = {}
        exec(compile(program.source, "example.py", "exec"), namespace)
        assert np.ndim(namespace["f"](*random_point(rng))) == 0, program.source
