"""Forward mode along several numbers: one sweep carrying a tangent per direction, as a person
writes it, instead of one sweep of the Jacobian-vector product per direction."""

from __future__ import annotations

import pytest
from conftest import check_gradient, derivative, generated, numeric_gradient, primal

from ad_transpile.parse import function_in_text
from ad_transpile.pipeline import transpile

BUMP = """
import math

def bump(x, y):
    r_sq = x * x + y * y
    return math.exp(-r_sq) * math.cos(x - 2.0 * y)
"""

RECURRENCE = """
import math

def recurrence(x, a, n):
    for _ in range(n):
        x = x * a + math.sin(x)
    return x
"""

BRANCHES = """
import math

def piecewise(x, y, z):
    if x > y:
        s = x * z
    else:
        s = math.sin(y) * z
    while s > 1.0:
        s = s * 0.5 + 0.1 * y
    return s * s + z
"""

CASES = [  # (source, point, wrt)
    (BUMP, (0.3, -0.7), (0, 1)),
    (RECURRENCE, (0.4, 0.9, 6), (0, 1)),
    (BRANCHES, (0.9, 0.2, 3.0), (0, 1, 2)),
    (BRANCHES, (0.1, 0.6, 5.0), (0, 2)),
]


@pytest.mark.parametrize("src, point, wrt", CASES)
def test_one_sweep_carries_a_tangent_per_direction(src, point, wrt):
    text = generated(src, wrt, "forward")
    assert "_jvp" not in text and text.count("def ") == 1, text
    check_gradient(src, point, wrt, modes=("forward",))


def test_the_tangents_are_named_for_their_direction():
    text = generated(RECURRENCE, (0, 1), "forward")
    lines = [line.strip() for line in text.splitlines()]
    assert "dx_dx = 1.0" in lines and "dx_da = 0.0" in lines, text
    assert "return dx_dx, dx_da" in lines, text
    assert sum(line.startswith("for ") for line in lines) == 1, text  # values computed once


@pytest.mark.parametrize("src, point, wrt", CASES)
def test_value_and_gradient_in_one_sweep(src, point, wrt):
    f = primal(src)
    value, gradient = derivative(src, wrt, "forward", kind="value_and_grad")(*point)
    assert value == pytest.approx(f(*point), rel=1e-12)
    expected = [numeric_gradient(f, point, i) for i in wrt]
    assert gradient == pytest.approx(expected, rel=1e-5, abs=1e-7)


def test_a_callee_keeps_one_sweep_per_direction():
    # a callee's Jacobian-vector product gives its value and its tangent in one statement
    src = ("def total(v, m):\n    return energy(v, m) + energy(2.0 * v, m)\n\n"
           "def energy(v, m):\n    return 0.5 * m * v * v\n")
    text = generated(src, (0, 1), "forward")
    assert "def total_jvp(" in text and "def energy_jvp(" in text, text
    assert derivative(src, (0, 1), "forward")(0.7, 1.3) == pytest.approx(
        (1.3 * 0.7 * 5.0, 0.5 * 0.49 * 5.0), rel=1e-12)


def test_explain_mode_comments_the_one_sweep():
    parsed = function_in_text(BUMP, "bump.py", "bump")
    explained, _ = transpile(parsed, (0, 1), "forward", explain=True)
    plain, _ = transpile(parsed, (0, 1), "forward")
    assert "_jvp" not in explained and "# d/dx" in explained, explained
    def code(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.lstrip().startswith("#")]

    assert code(explained) == code(plain), explained  # the comments are all it adds
