"""Scores of a soft unit test: how far the program's output is from the expected one.

A score maps ``(predicted, expected)`` to a number, lower is better, and knows its derivative with
respect to ``predicted``. The built-in ones carry their derivative next to them; a user's own
scoring function is differentiated by ad-transpile like any other function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from ad_transpile.api import value_and_grad
from ad_transpile.fit.errors import FitError

ValueAndSlope = Callable[[float, float], tuple[float, float]]


@dataclass(frozen=True)
class Score:
    """A scoring function and its value-and-derivative with respect to the prediction."""

    name: str
    value_and_slope: ValueAndSlope

    def __call__(self, predicted: float, expected: float) -> float:
        return self.value_and_slope(predicted, expected)[0]


def _squared(predicted: float, expected: float) -> tuple[float, float]:
    r = predicted - expected
    return r * r, 2.0 * r


def _absolute(predicted: float, expected: float) -> tuple[float, float]:
    r = predicted - expected
    return abs(r), math.copysign(1.0, r) if r else 0.0


def huber(delta: float = 1.0) -> Score:
    """Squared near the expected value (``|r| <= delta``), absolute beyond: robust to outliers."""
    if not delta > 0:
        raise FitError(f"the Huber score needs delta > 0, not {delta!r}")

    def value_and_slope(predicted: float, expected: float) -> tuple[float, float]:
        r = predicted - expected
        if abs(r) <= delta:
            return 0.5 * r * r, r
        return delta * (abs(r) - 0.5 * delta), math.copysign(delta, r)

    return Score("huber" if delta == 1.0 else f"huber(delta={delta:g})", value_and_slope)


SCORES = {
    "squared": Score("squared", _squared),
    "absolute": Score("absolute", _absolute),
    "huber": huber(),
}


def resolve_score(spec: str | Score | Callable) -> Score:
    """A score from its name, a :class:`Score`, or a user function ``score(predicted, expected)``.

    A user function is differentiated with respect to its first argument by ad-transpile.
    """
    if isinstance(spec, Score):
        return spec
    if isinstance(spec, str):
        if spec not in SCORES:
            raise FitError(f"unknown score {spec!r}: use one of {', '.join(SCORES)} or a function")
        return SCORES[spec]
    if callable(spec):
        return Score(getattr(spec, "__name__", "score"), value_and_grad(spec, wrt=0))
    raise FitError(f"a score is a name ({', '.join(SCORES)}) or a function, not {spec!r}")
