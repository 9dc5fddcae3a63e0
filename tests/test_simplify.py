"""The simplifier on small functions: what it folds, and what it leaves as written."""

from __future__ import annotations

import ast
import textwrap

import gast
import pytest

from ad_transpile.simplify import simplify


def simplified(src: str) -> str:
    fn = gast.parse(textwrap.dedent(src)).body[0]
    for node in gast.walk(fn):  # as the parse pass resolves them
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and getattr(node.func.value, "id", None) == "math":
            node.qualname = f"math.{node.func.attr}"
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
    before = f"def f(x, y):\n    {src}\n"
    assert operations(simplified(before)) <= operations(before)


def operations(src: str) -> int:
    return sum(isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Call)) for n in ast.walk(ast.parse(src)))


def test_a_value_used_once_is_written_where_it_is_used():
    assert body(simplified("""
        def f(x, ys, i):
            t = math.sin(x)
            u = t - ys[i]
            return u * u
    """)) == ["u = math.sin(x) - ys[i]", "return u * u"]


@pytest.mark.parametrize("src", [
    # used inside a loop: it would be computed again in every iteration
    "t = math.sin(x)\n    s = 0.0\n    for i in range(3):\n        s = s + t\n    return s",
    # its operand changes before the use
    "t = x * 2.0\n    x = x + 1.0\n    return t * x",
    # used twice
    "t = math.sin(x)\n    return t * t",
    # a call that may do more than compute
    "t = helper(x)\n    return t + 1.0",
    # a write into y between: t may read a view of y (y[1:4]) that the write changes
    "v = y[1:4]\n    t = v * 2.0\n    y[1:4] = 0.0\n    return t",
    # the use would no longer read at a glance
    "t = math.sin(x) * math.cos(x) + math.exp(x)\n    return math.log(t) * math.tanh(t + x)",
])
def test_a_value_is_not_inlined_where_that_would_change_or_cost(src):
    assert any(line.startswith("t = ") for line in body(simplified(f"def f(x, y):\n    {src}\n")))


def test_each_value_of_a_name_assigned_twice_is_inlined_into_its_own_use():
    assert body(simplified("""
        def f(x, xs, n):
            for i in range(n):
                a = xs[i]
                x = x * a
            for i in range(n):
                a = xs[i]
                x = x + a
            return x
    """)) == ["for i in range(n):", "x = x * xs[i]", "for i in range(n):", "x = x + xs[i]",
              "return x"]


def test_the_first_addition_into_an_array_of_zeros_is_a_write():
    assert body(simplified("""
        def f(x, e, g):
            d = np.zeros_like(x)
            d[1:] += e
            d[:-1] += g
            return d
    """)) == ["d = np.zeros_like(x)", "d[1:] = e", "d[:-1] += g", "return d"]


def test_an_addition_into_zeros_read_before_stays_an_addition():
    assert body(simplified("""
        def f(x, e):
            d = np.zeros_like(x)
            s = np.sum(d)
            d[1:] += e * s
            return d
    """))[2] == "d[1:] += e * s"
