"""Elementwise NumPy code in reverse mode: an adjoint is summed back to its argument's shape."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import derivative, generated, primal

from ad_transpile.runtime import _unbroadcast

SRC = """
import numpy as np

def f(a, b):
    return np.exp(a * b) + np.sin(a - b) * b
"""

SHAPES = [  # (a, b): a scalar against an array, (n, 1) against (1, m), leading dimensions
    ((), (4,)),
    ((4,), ()),
    ((3, 1), (1, 2)),
    ((2,), (3, 2)),
    ((3, 2), (3, 2)),
]


@pytest.mark.parametrize("value, like, expected", [
    (np.ones((3, 2)), 0.5, 6.0),
    (np.ones((3, 2)), np.zeros((1, 2)), np.full((1, 2), 3.0)),
    (np.ones((3, 2)), np.zeros((3, 1)), np.full((3, 1), 2.0)),
    (np.ones((4, 3, 2)), np.zeros((2,)), np.full((2,), 12.0)),
    (np.ones((2,)), np.zeros((2,)), np.ones((2,))),
])
def test_unbroadcast_sums_over_the_stretched_dimensions(value, like, expected):
    np.testing.assert_array_equal(_unbroadcast(value, like), expected)


@pytest.mark.parametrize("shape_a, shape_b", SHAPES)
def test_vector_jacobian_products_match_finite_differences(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, shape_a) if shape_a else 0.3
    b = rng.uniform(-1, 1, shape_b) if shape_b else -0.7
    f = primal(SRC)
    cotangent = rng.uniform(-1, 1, np.shape(f(a, b)))
    vjp = derivative(SRC, ("a", "b"), "reverse", kind="vjp")
    value, (d_a, d_b) = vjp(a, b, cotangent)
    for arg, got, index in ((a, d_a, 0), (b, d_b, 1)):
        assert np.shape(got) == np.shape(arg)
        expected = np.zeros(np.shape(arg))
        for i in np.ndindex(np.shape(arg)):
            step = np.zeros(np.shape(arg))
            step[i] = 1e-6
            moved = [[a, b], [a, b]]
            moved[0][index] = arg + step
            moved[1][index] = arg - step
            expected[i] = np.sum((f(*moved[0]) - f(*moved[1])) / 2e-6 * cotangent)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_scalar_code_carries_no_helper():
    assert "_unbroadcast" not in generated("import math\ndef f(a, b):\n    return a * b\n")


def test_the_helper_travels_with_the_generated_file():
    text = generated(SRC, "a")
    namespace: dict = {}
    exec(compile(text, "generated.py", "exec"), namespace)  # no ad_transpile name needed
    assert "def _unbroadcast(" in text and "ad_transpile" not in text.split("source-hash")[1]
    assert namespace["fpr"](0.3, -0.7) == pytest.approx(derivative(SRC, "a", "forward")(0.3, -0.7))
