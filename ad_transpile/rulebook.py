"""The vocabulary of rule files, so that ``rules/*.py`` are valid, importable, lint-clean Python.

A rule file is read as text by :mod:`ad_transpile.registry`; these names only mark what it declares:

    @partials(math.sin)
    def sin(x):
        return math.cos(x)

says that the partial derivative of ``math.sin(x)`` with respect to ``x`` is ``math.cos(x)``. A rule
returns one partial per argument, in order; a keyword-only parameter ``result`` names the value of
the call itself (``exp``'s partial is its ``result``). ``nondifferentiable(math.floor, round)`` says
that those functions carry no derivative.

A structural operation (``np.sum``, ``np.matmul``, ``np.reshape``) is not a product of partials:
its rule gives the tangent and the adjoint along each argument as two templates::

    @tangents(np.sum)
    def sum_(a, axis=None, keepdims=False, *, d_a):
        return np.sum(d_a, axis=axis, keepdims=keepdims)

    @adjoints(np.sum)
    def sum_(a, axis=None, keepdims=False, *, d_result):
        return _unreduce(d_result, a, axis=axis, keepdims=keepdims)

A third template, ``@batched_tangents(np.sum)``, is the tangent when it carries a last axis of
``k`` directions (``d_a.shape == (*a.shape, k)``), so that one forward sweep gives a whole
gradient; an operation without one is differentiated one direction at a time.

A parameter with a default is an option that carries no derivative, unless the rule returns a
template for it too (``np.trapezoid(y, x=None, ...)`` returns one for ``y`` and one for ``x``); a
keyword the call leaves out is left out of the derivative too. ``None`` in place of a template
means no derivative along that argument.

An operation of any number of operands (``np.einsum``) takes them as ``*operands``; its template
for an operand stands for each in turn, ``item`` its position, ``d_operands`` its tangent,
``*operands`` all of them and ``*d_operands`` all of them with its tangent in its place::

    @tangents(np.einsum)
    def einsum_tangent(subscripts, *operands, d_operands):
        return None, np.einsum(subscripts, *d_operands)

Where the arguments' shapes are known, a helper a template calls may have a plain form, a
second template under a condition on the numbers of dimensions of its arguments::

    @plain(_matmul_adjoint_b, a=2, b=2)
    def matmul_b_of_matrices(g, a, b):
        return a.T @ g
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


def tangents(primitive: Any, **when: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function returning, per argument, the tangent of ``primitive`` along it."""
    return partials(primitive)


def adjoints(primitive: Any, **when: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function returning, per argument, what the result's adjoint adds to its adjoint."""
    return partials(primitive)


def batched_tangents(primitive: Any, **when: Any) -> Callable[[Callable[..., Any]],
                                                               Callable[..., Any]]:
    """Mark a function returning the tangents of ``primitive`` for batched tangents ``d_a``
    (shape ``(*a.shape, k)``, one tangent direction per index of the last axis).

    With conditions (``a=ndim(2)``, ``keepdims=True``) it is a form of the rule for the calls
    whose arguments are known to meet them, written as a person writes it for those: the
    first form that fits is used, the rule without conditions otherwise. ``@tangents`` and
    ``@adjoints`` take conditions the same way.
    """
    return partials(primitive)


def plain(helper: Callable[..., Any],
          **ndims: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function whose return value is ``helper``'s result written in plain NumPy, for
    arguments of the numbers of dimensions ``ndims`` (and an adjoint of the result's shape)."""
    return partials(helper)


def ndim(count: int) -> Any:
    """A form's condition: the argument is an array of ``count`` dimensions (``ndim(0)``: or
    a number)."""
    return count
