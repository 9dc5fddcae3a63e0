"""The objective: the sum of the soft unit tests' scores and its gradient by the chain rule.

The program's derivative with respect to its free parameters comes from ad-transpile; the
score's derivative with respect to the prediction from the score. For each test,
``d score / d param = score'(predicted) * d predicted / d param``, summed over the tests.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from ad_transpile.fit.errors import FitError
from ad_transpile.fit.scores import Score
from ad_transpile.fit.tests_data import SoftTest

FAILURES = (ArithmeticError, ValueError)  # math domain errors, overflow, division by zero
GRADIENT_CHECKS = 7  # the tests a user's gradient function is checked on, spread over the data


@dataclass(frozen=True)
class Program:
    """A program to fit, however its derivative was obtained.

    ``value_and_grad(**arguments)`` returns the program's value and the tuple of its derivatives
    with respect to the free parameters, in their order; ``value(**arguments)`` the value alone.
    """

    name: str
    location: str
    parameters: tuple[str, ...]
    optional: frozenset[str]
    value_and_grad: Callable[..., tuple[Any, tuple[float, ...]]]
    value: Callable[..., Any]
    given_gradient: str | None = None  # the name of a derivative function the user gave

    def error(self, message: str) -> FitError:
        return FitError(message, self.location)


def check_free_parameters(program: Program, params: dict[str, Any]) -> None:
    """Every free parameter is a parameter of the program and starts at a finite number."""
    if not params:
        raise program.error(
            f"name at least one free parameter of {program.name} to fit "
            f"(its parameters are {', '.join(program.parameters)})"
        )
    for name, start in params.items():
        if name not in program.parameters:
            raise program.error(
                f"{program.name} has no parameter named {name!r}; "
                f"its parameters are ({', '.join(program.parameters)})"
            )
        if not _is_number(start) or not math.isfinite(start):
            raise program.error(f"the start value of {name!r} must be a finite number, not "
                                f"{start!r}")


class Objective:
    """The total score of ``program`` over ``tests`` as a function of the free parameters."""

    def __init__(self, program: Program, tests: list[SoftTest], free: list[str],
                 score: Score) -> None:
        self.program, self.free, self.score = program, free, score
        self.inputs = [p for p in program.parameters if p not in free]
        self.arguments = [self._arguments(t) for t in tests]
        self.tests = [  # unnamed inputs are shown by the program's parameter names
            t if t.labels else replace(t, labels=tuple(self.inputs[: len(t.inputs)]))
            for t in tests
        ]

    def _arguments(self, test: SoftTest) -> dict[str, Any]:
        given, names, name = len(test.inputs), self.inputs, self.program.name
        if given > len(names):
            raise FitError(
                f"the test gives {given} input value(s), but {name} takes {len(names)} besides "
                f"its free parameters ({', '.join(names) or 'none'})", test.name,
            )
        missing = [n for n in names[given:] if n not in self.program.optional]
        if missing:
            raise self.program.error(
                f"parameter {missing[0]!r} of {name} gets no value: it is not a free parameter "
                f"and the tests give {given} input value(s) ({', '.join(names[:given])})"
            )
        return dict(zip(names, test.inputs))

    def loss_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """The total score at ``x`` and its gradient; ``nan`` where the program fails."""
        free = dict(zip(self.free, x.tolist()))
        vg, slope_of = self.program.value_and_grad, self.score.value_and_slope
        total, grad = 0.0, [0.0] * len(self.free)
        try:
            for test, arguments in zip(self.tests, self.arguments):
                value, derivatives = vg(**arguments, **free)
                score, slope = slope_of(value, test.expected)
                total += score
                grad = [g + slope * d for g, d in zip(grad, derivatives)]
        except FAILURES:
            return math.nan, np.full(len(self.free), math.nan)
        return float(total), np.array(grad, dtype=float)

    def loss(self, x: np.ndarray) -> float:
        """The total score alone, from the program itself (for landscapes)."""
        free = dict(zip(self.free, x.tolist()))
        try:
            return float(sum(
                self.score(self.program.value(**a, **free), t.expected)
                for t, a in zip(self.tests, self.arguments)
            ))
        except FAILURES:
            return math.nan

    def predictions(self, x: np.ndarray) -> list[float]:
        free = dict(zip(self.free, x.tolist()))
        return [float(self.program.value(**a, **free)) for a in self.arguments]

    def check_start(self, x: np.ndarray) -> None:
        """Raise a located ``FitError`` if the loss or its gradient is not a number at ``x``."""
        problem = self.diagnose(x)
        if problem:
            raise self.program.error(problem)
        loss, grad = self.loss_and_grad(x)
        if not (math.isfinite(loss) and np.all(np.isfinite(grad))):
            raise self.program.error(f"the loss is {loss} (gradient {grad}) at the start")

    def check_given_gradient(self, x: np.ndarray) -> None:
        """A derivative function the user gave must agree with finite differences, on tests
        spread over the data (a gradient right at one input and wrong elsewhere is caught)."""
        free = dict(zip(self.free, x.tolist()))
        for k in _spread(len(self.tests), GRADIENT_CHECKS):
            test, arguments = self.tests[k], {**self.arguments[k], **free}
            _, given = self.program.value_and_grad(**arguments)
            if len(given) != len(self.free):
                raise self.program.error(
                    f"the gradient function {self.program.given_gradient} returns "
                    f"{len(given)} derivative(s), but there are {len(self.free)} free "
                    f"parameters ({', '.join(self.free)}), on the test {test.name}"
                )
            for name, derivative in zip(self.free, given):
                numeric = self._central_difference(arguments, name)
                if not math.isclose(derivative, numeric, rel_tol=1e-4, abs_tol=1e-6):
                    raise self.program.error(
                        f"the gradient function {self.program.given_gradient} disagrees with "
                        f"finite differences on the test {test.name} "
                        f"({test.describe_input()}): along {name!r} it gives {derivative:.6g}, "
                        f"finite differences give {numeric:.6g} (it must return the "
                        f"derivatives of {self.program.name} along ({', '.join(self.free)}) "
                        "in this order)"
                    )

    def _central_difference(self, arguments: dict[str, Any], name: str) -> float:
        h = 1e-6 * max(1.0, abs(arguments[name]))
        up = self.program.value(**{**arguments, name: arguments[name] + h})
        down = self.program.value(**{**arguments, name: arguments[name] - h})
        return (up - down) / (2 * h)

    def diagnose(self, x: np.ndarray) -> str | None:
        """Which test makes the loss or its gradient fail at ``x``, and how."""
        free = dict(zip(self.free, x.tolist()))
        at = ", ".join(f"{k}={v:.6g}" for k, v in free.items())
        name = self.program.name
        for test, arguments in zip(self.tests, self.arguments):
            where = f"for the test {test.name} ({test.describe_input()}) with {at}"
            try:
                value, derivatives = self.program.value_and_grad(**arguments, **free)
            except (*FAILURES, TypeError) as exc:
                return f"{name} raised {type(exc).__name__} ({exc}) {where}"
            if not _is_number(value):
                return f"{name} returned {type(value).__name__} {value!r}, not a number, {where}"
            if not math.isfinite(value):
                return f"{name} returned {value} {where}"
            try:
                score, slope = self.score.value_and_slope(value, test.expected)
            except (*FAILURES, TypeError) as exc:
                return f"the score {self.score.name} raised {type(exc).__name__} ({exc}) {where}"
            if not (math.isfinite(score) and math.isfinite(slope)):
                return f"the score {self.score.name} is {score} (slope {slope}) {where}"
            if not all(math.isfinite(d) for d in derivatives):
                return f"the derivative of {name} is {tuple(derivatives)} {where}"
        return None


def _spread(count: int, most: int) -> list[int]:
    """Up to ``most`` indices evenly spread over ``range(count)``, the first and last included."""
    n = min(count, most)
    return sorted({round(i * (count - 1) / max(n - 1, 1)) for i in range(n)})


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
