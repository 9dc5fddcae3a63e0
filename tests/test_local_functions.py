"""Local functions of one expression (a lambda, or a ``def`` that only returns), written where
they are called, checked against central finite differences in both modes; the ones used any
other way are still refused with an error that names them."""

from __future__ import annotations

import pytest
from conftest import check_gradient, check_rejects, generated

# (source, a point): each is differentiated along its first parameter
INLINED = [
    pytest.param("def f(a, t):\n    square = lambda s: a * s * s\n"
                 "    return square(t) + square(2.0 * t)\n", (0.7, 1.3), id="closes-over-wrt"),
    pytest.param("def f(t, a):\n    square = lambda s: a * s * s\n    return square(t)\n",
                 (0.7, 1.3), id="closes-over-a-constant"),
    pytest.param("import math\n\ndef f(a, t):\n    def g(s):\n        \"\"\"a bump\"\"\"\n"
                 "        return a * math.exp(-s * s)\n    return g(t) * g(math.sin(a))\n",
                 (0.7, 1.3), id="def-with-a-docstring"),
    pytest.param("def f(a, t):\n    scale = lambda s: a * s\n    a = 2.0 * a\n"
                 "    return scale(t)\n", (0.7, 1.3), id="reads-a-when-called"),
    pytest.param("def f(x):\n    s = 3.0 * x\n    square = lambda s: s * s\n"
                 "    return square(x + s)\n", (0.7,), id="parameter-shadows-a-variable"),
    pytest.param("def f(x, y):\n    both = lambda u, v: u * v - v\n"
                 "    return both(x, y) + both(y, x * x)\n", (0.7, -0.4), id="two-parameters"),
    pytest.param("def f(x):\n    total = 0.0\n    step = lambda s: s * x\n"
                 "    for k in range(3):\n        total = total + step(total + k)\n"
                 "    return total\n", (0.7,), id="called-in-a-loop"),
]


@pytest.mark.parametrize("src, point", INLINED)
def test_a_local_function_of_one_expression_is_differentiated(src, point):
    check_gradient(src, point)


def test_the_call_becomes_the_expression():
    text = generated(INLINED[0].values[0], 0).split("def fpr")[1]
    assert "lambda" not in text and "square" not in text, text


REFUSED = [
    pytest.param("def f(x):\n    square = lambda s: s * s\n    return sum(map(square, [x]))\n",
                 "a lambda", id="passed-to-map"),
    pytest.param("def f(x):\n    power = lambda s, n=2: s ** n\n    return power(x)\n",
                 "a lambda", id="with-a-default"),
    pytest.param("def f(x, xs):\n    square = lambda s: s * s\n"
                 "    return sum([square(v) for v in xs]) * x\n", "a lambda",
                 id="called-in-a-comprehension"),
    pytest.param("def f(x):\n    square = lambda s: s * s\n    square = lambda s: s\n"
                 "    return square(x)\n", "a lambda", id="defined-twice"),
    pytest.param("import math\n\ndef f(x):\n    g = lambda s: s * s\n    total = g(x)\n"
                 "    for g in (math.sin, math.cos):\n        total = total + g(x)\n"
                 "    return total\n", "a lambda", id="bound-again-by-a-loop"),
    pytest.param("def f(x, xs):\n    twice = lambda s: s + s\n    return twice(xs.pop()) * x\n",
                 "a lambda", id="an-argument-with-an-effect"),
    pytest.param("def f(x):\n    def g(s):\n        t = s * s\n        return t\n    return g(x)\n",
                 "a nested function", id="def-of-two-statements"),
    pytest.param("import numpy as np\n\ndef f(x):\n    twice = lambda s: s + s\n"
                 "    return twice(np.random.normal()) * x\n", "a lambda", id="a-random-argument"),
]


@pytest.mark.parametrize("src, construct", REFUSED)
def test_a_local_function_used_otherwise_is_refused(src, construct):
    check_rejects(src, f"{construct} is not supported")
