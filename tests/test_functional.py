"""``map``, ``filter`` and ``functools.partial``, written as the generator expressions and calls
they stand for, checked against central finite differences in both modes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import check_gradient, check_rejects, generated

HEAD = "import functools\nimport math\nfrom functools import partial\n\nimport numpy as np\n\n"
POWER = "\n\ndef power(s, k):\n    return s ** k\n"

# (source, a point): each differentiated along its first parameter
WRITTEN_OUT = [
    pytest.param("def f(x, xs):\n    return sum(map(lambda s: s * x, xs))\n",
                 (0.7, [1.0, 2.0]), id="map-a-lambda"),
    pytest.param("def f(x, xs):\n    square = lambda s: s * s * x\n"
                 "    return sum(map(square, xs)) + sum(map(math.sin, [x, 2.0 * x]))\n",
                 (0.7, [1.0, 2.0]), id="map-a-local-function-and-math"),
    pytest.param("def f(x, xs, ys):\n    return sum(map(lambda a, b: a * b * x, xs, ys))\n",
                 (0.7, [1.0, 2.0], [0.5, -1.0]), id="map-two-sequences"),
    pytest.param("def f(x, xs):\n    return max(map(abs, [x * v for v in xs]))\n",
                 (0.7, [1.0, -2.5, 2.0]), id="map-a-builtin"),
    pytest.param("def f(x, xs):\n    return list(map(lambda v: v * x, xs))[1] * x\n",
                 (0.7, [1.0, 2.0]), id="list-of-map"),
    pytest.param("def f(x, xs):\n    total = 0.0\n    for y in map(lambda v: v * x, xs):\n"
                 "        total += y * y\n    return total\n", (0.7, [1.0, 2.0]),
                 id="loop-over-map"),
    pytest.param("def f(x, xs):\n    return sum(filter(lambda v: v > 0.0, [x * v for v in xs]))\n",
                 (0.7, [1.0, -2.0, 3.0]), id="filter-a-lambda"),
    pytest.param("def f(x, xs):\n    return sum(filter(None, [x * v for v in xs]))\n",
                 (0.7, [1.0, 0.0, 3.0]), id="filter-none"),
    pytest.param("def f(x):\n    cube = functools.partial(power, k=3)\n"
                 "    return cube(x) + cube(2.0 * x)\n" + POWER, (0.7,), id="partial-a-keyword"),
    pytest.param("def f(a, x):\n    scaled = partial(power, a)\n    return scaled(2.0) * x\n"
                 + POWER, (0.7, 1.3), id="partial-of-wrt"),
    pytest.param("def f(x, xs):\n    weigh = partial(power, k=2)\n"
                 "    return sum(map(weigh, [x * v for v in xs]))\n" + POWER,
                 (0.7, [1.0, 2.0]), id="map-a-partial"),
    pytest.param("def f(x):\n    total = partial(np.sum, axis=0)\n"
                 "    return np.sum(total(np.array([[x, 2.0 * x], [x * x, 1.0]])))\n", (0.7,),
                 id="partial-of-numpy"),
]


@pytest.mark.parametrize("src, point", WRITTEN_OUT)
def test_map_filter_and_partial_are_differentiated(src, point):
    check_gradient(HEAD + src, point)  # in both modes


def test_a_partial_becomes_a_call_of_its_function():
    text = generated(HEAD + WRITTEN_OUT[8].values[0], 0)
    assert "partial" not in text.split("def fpr")[1]
    assert "power" in text


REFUSED = [
    pytest.param("def f(x, a):\n    g = partial(power, a)\n    a = 2.0 * a\n"
                 "    return g(2.0) * x\n" + POWER,
                 "a functools.partial whose arguments may change before it is called",
                 id="argument-rebound"),
    pytest.param("def f(x):\n    g = partial(power, k=2)\n    h = g\n    return h(x)\n" + POWER,
                 "a functools.partial used other than by calling it", id="given-another-name"),
]


@pytest.mark.parametrize("src, message", REFUSED)
def test_a_partial_that_cannot_be_written_out_is_refused(src, message):
    check_rejects(HEAD + src, message)


def test_filter_keeps_the_items_in_order():
    src = HEAD + "def f(x, xs):\n    kept = list(filter(lambda v: v > x, xs))\n" \
        "    return kept[0] * x + kept[-1]\n"
    check_gradient(src, (0.7, np.array([0.1, 1.5, 0.2, 2.5]).tolist()))
