"""The vocabulary of rule files, so that ``rules/*.py`` are valid, importable, lint-clean Python.

A rule file is read as text by :mod:`ad_transpile.registry`; these names only mark what it declares:

    @partials(math.sin)
    def sin(x):
        return math.cos(x)

says that the partial derivative of ``math.sin(x)`` with respect to ``x`` is ``math.cos(x)``. A rule
returns one partial per argument, in order; a keyword-only parameter ``result`` names the value of
the call itself (``exp``'s partial is its ``result``). ``nondifferentiable(math.floor, round)`` says
that those functions carry no derivative.
"""

from __future__ import annotations

from typing import Any, Callable


def partials(primitive: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function whose return value is the partial derivatives of ``primitive``."""

    def mark(rule: Callable[..., Any]) -> Callable[..., Any]:
        rule.primitive = primitive  # type: ignore[attr-defined]
        return rule

    return mark


def nondifferentiable(*primitives: Any) -> None:
    """Mark functions whose derivative is zero wherever it exists (floor, round, comparisons)."""
