"""The simplifier on small functions: what it folds, and what it leaves as written."""

from __future__ import annotations

import ast
import textwrap

import gast
import pytest

from ad_transpile.simplify import simplify


def simplified(src: str) -> str:
    fn = gast.parse(textwrap.dedent(src)).body[0]
    return ast.unparse(gast.gast_to_ast(gast.Module(body=[simplify(fn)], type_ignores=[])))


def body(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()[1:]]


def test_two_constant_factors_become_one():
    assert body(simplified("""
        def f(t):
            d = 2.0 * t * 100.0
            return d
    """)) == ["return 200.0 * t"]


@pytest.mark.parametrize("src, expected", [
    # a negation used once in a sum becomes a subtraction
    ("d_t1 = -d_t2\n    s = s + 2.0 * h * d_t1\n    return s",
     ["s = s - 2.0 * h * d_t2", "return s"]),
    # or a constant factor
    ("d_t1 = -d_t2\n    d_y = 2.0 * d_t1\n    return d_y", ["return -2.0 * d_t2"]),
    # a constant factor folds into a negation, or into another factor
    ("d = 2.0 * h\n    s = -d\n    return s", ["return -2.0 * h"]),
    ("d = 2.0 * h\n    s = d * 3.0\n    return s", ["return 6.0 * h"]),
])
def test_a_sign_or_factor_used_once_folds_into_its_use(src, expected):
    assert body(simplified(f"def f(s, h, d_t2):\n    {src}\n")) == expected


@pytest.mark.parametrize("src", [
    "n = -x\n    e = math.exp(n)\n    return e",  # -(...) inside a call: two operations
    "n = -x\n    p = y * n\n    return p",  # would leave -(y * x)
    "n = -x\n    a = n + 1.0\n    b = n * 2.0\n    return a * b",  # used twice
    "n = 2.0 * x\n    p = n * y\n    return p",  # 2.0 * x * y: two products on one line
])
def test_a_fold_that_would_cost_an_operation_is_not_made(src):
    assert body(simplified(f"def f(x, y):\n    {src}\n"))[0].startswith("n = ")
