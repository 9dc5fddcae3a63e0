"""Local functions: those of one expression (a lambda, or a ``def`` that only returns) written
where they are called, the others (several statements, called in a comprehension) lifted to
the module with what they read as parameters; checked against central finite differences in
both modes. The ones used any other way are still refused with an error that names them."""

from __future__ import annotations

import numpy as np
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
    pytest.param("def f(x):\n    square = lambda s: s * s\n    return sum(apply(square, [x]))\n"
                 "\n\ndef apply(g, xs):\n    return [g(v) for v in xs]\n",
                 "a lambda", id="passed-to-a-function"),
    pytest.param("def f(x):\n    power = lambda s, n=2: s ** n\n    return power(x)\n",
                 "a lambda", id="with-a-default"),
    pytest.param("def f(x):\n    square = lambda s: s * s\n    square = lambda s: s\n"
                 "    return square(x)\n", "a lambda", id="defined-twice"),
    pytest.param("import math\n\ndef f(x):\n    g = lambda s: s * s\n    total = g(x)\n"
                 "    for g in (math.sin, math.cos):\n        total = total + g(x)\n"
                 "    return total\n", "a lambda", id="bound-again-by-a-loop"),
    pytest.param("def f(x):\n    def g(s):\n        t = s * s\n        return t\n    h = g\n"
                 "    return h(x)\n", "a nested function", id="def-given-another-name"),
    pytest.param("def f(x, xs):\n    q = lambda s: s * x\n    return sum(q(x) for x in xs)\n",
                 "a lambda", id="a-comprehension-rebinds-what-it-reads"),
]


@pytest.mark.parametrize("src, construct", REFUSED)
def test_a_local_function_used_otherwise_is_refused(src, construct):
    check_rejects(src, f"{construct} is not supported")


# (source, a point): lifted to the module, each differentiated along its first parameter
LIFTED = [
    pytest.param("def f(x, a):\n    def step(s):\n        t = s * a\n        return t * t\n"
                 "    return step(x) + step(2.0 * x)\n", (0.7, 1.3), id="two-statements"),
    pytest.param("def f(a, x):\n    def step(s):\n        t = s * a\n        return t * t\n"
                 "    return step(x) + step(2.0 * x)\n", (0.7, 1.3), id="closes-over-wrt"),
    pytest.param("import math\n\ndef f(x, n):\n    def update(u, k):\n"
                 "        for i in range(k):\n            u = math.sin(u) + x\n"
                 "        return u\n    y = update(x, n)\n    x = 2.0 * x\n"
                 "    return y + update(0.5, 2)\n", (0.4, 3), id="a-loop-and-x-rebound"),
    pytest.param("def f(x, xs):\n    scale = lambda v: v * x\n"
                 "    return sum(scale(v) for v in xs) + sum([scale(v) ** 2 for v in xs])\n",
                 (0.7, [1.0, 2.0, -0.5]), id="called-in-comprehensions"),
    pytest.param("def f(x):\n    def bump(s):\n        if s > 0.0:\n            return s * x\n"
                 "        return -s\n    return bump(x) + bump(-0.5)\n", (0.7,),
                 id="returns-early"),
    pytest.param("import numpy as np\n\ndef f(w, X):\n    def predict(inputs):\n"
                 "        z = inputs @ w\n        return np.tanh(z)\n    r = predict(X) - 1.0\n"
                 "    return np.sum(r * r)\n",
                 (np.array([0.3, -0.2]), np.array([[1.0, 2.0], [0.5, -1.0], [0.1, 0.2]])),
                 id="numpy"),
]


@pytest.mark.parametrize("src, point", LIFTED)
def test_a_local_function_lifted_to_the_module_is_differentiated(src, point):
    check_gradient(src, point)  # in both modes


def test_the_lifted_function_takes_what_it_reads_as_parameters():
    text = generated(LIFTED[0].values[0], 0)
    assert "def f_step_pr(s, a, d_f_step):" in text
    assert "f_step_pr(2.0 * x, a, 1.0)" in text


def test_an_argument_with_an_effect_is_evaluated_once():
    src = ("import numpy as np\n\ndef f(x):\n    def twice(s):\n        t = s + s\n"
           "        return t\n    return twice(np.random.normal()) * x\n")
    assert generated(src, 0).count("np.random.normal()") == 1
