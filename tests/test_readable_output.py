"""Issue #14's simplifications, each on the smallest example that shows it, each still checked
against finite differences in both modes."""

from __future__ import annotations

import pytest
from conftest import check_gradient, generated

MODES = ("reverse", "forward")


def test_the_contributions_to_an_adjoint_are_one_sum():
    src = ("import math\ndef f(x, y):\n    r = x * x + y * y\n"
           "    return math.exp(-r) * math.cos(x - 2.0 * y)\n")
    text = generated(src, (0, 1))
    assert "+=" not in text and "-=" not in text  # d_x = a + b, written once
    check_gradient(src, (0.3, -0.4), (0, 1))


def test_a_square_has_one_adjoint_term_and_signs_sit_on_the_first_factor():
    src = "import math\ndef h(x):\n    return math.sin(x) ** 2 + math.exp(-x * x)\n"
    text = generated(src)
    assert "neg_x =" not in text and "+ -" not in text and "- -" not in text
    assert "2.0 * x * " in text
    check_gradient(src, (0.7,))


def test_a_value_a_name_holds_is_read_from_the_name():
    src = ("import math\ndef f(angle, speed):\n    vx = speed * math.cos(angle)\n"
           "    return vx * vx\n")
    text = generated(src, (0, 1))
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert sum(line.count("math.cos(angle)") for line in code) == 1
    check_gradient(src, (0.6, 3.0), (0, 1))


def test_one_over_a_times_b_is_b_over_a():
    src = "def f(x, a):\n    return x * (1.0 / a) * x\n"
    assert "1.0 /" not in generated(src, 0, "forward")
    check_gradient(src, (0.8, 1.7))


@pytest.mark.parametrize("mode", MODES)
def test_a_chained_assignment_is_differentiated(mode):
    src = ("def f(x, n):\n    a = b = 0.0\n    for _ in range(n):\n        a = a + x * x\n"
           "        b = b + a\n    c = d = x * b\n    return c * d\n")
    check_gradient(src, (0.7, 3), modes=(mode,))


def test_adjoints_that_start_at_zero_start_in_one_statement():
    src = ("def f(k, c, x, v, n):\n    for _ in range(n):\n        a = -k * x - c * v\n"
           "        x = x + 0.01 * v\n        v = v + 0.01 * a\n    return x\n")
    text = generated(src, (0, 1))
    assert " = 0.0\n" in text and any(line.count(" = ") == 3 for line in text.splitlines())
    check_gradient(src, (2.0, 0.3, 1.0, 0.0, 5), (0, 1))
