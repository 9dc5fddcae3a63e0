"""Loops in generated code as a careful person writes them: invariants computed once, a small
tape, no tape at all for independent iterations, and names that say what they hold."""

from __future__ import annotations

import pytest
from conftest import MODES, check_gradient, derivative, generated


def body_of(text: str, function: str) -> str:
    """The generated text of one function of a module."""
    start = text.index(f"def {function}(")
    end = text.find("\ndef ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def loop_of(text: str, function: str) -> str:
    """The text of the first loop in ``function`` (its header and body)."""
    body = body_of(text, function)
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(("for ", "while ")))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) <= indent),
               len(lines))
    return "\n".join(lines[start:end])


# 1. invariants

DRAG = """
DT = 0.01
DRAG = 0.02

def fall(v, k):
    t = 0.0
    while t < 1.0:
        v = v - DT * DRAG * k * v * v
        t = t + DT
    return v
"""

INVARIANTS = [  # (source, point, wrt, the invariant that leaves the loop)
    (DRAG, (3.0, 1.5), (0, 1), "DT_DRAG = DT * DRAG"),
    ("def f(x, a, b):\n"
     "    for i in range(5):\n"
     "        x = x * (a * b) + math.sin(x)\n"
     "    return x\n", (0.3, 0.7, 1.1), (0, 1, 2), "a_b = a * b"),
    ("def f(x, a):\n"
     "    for i in range(3):\n"
     "        for j in range(4):\n"
     "            x = math.sin(x) * (-a) + j\n"
     "    return x\n", (0.3, 0.7), (0, 1), "neg_a = -a"),
]


@pytest.mark.parametrize("src, point, wrt, invariant", INVARIANTS)
@pytest.mark.parametrize("mode", MODES)
def test_an_invariant_is_computed_once_before_the_loop(src, point, wrt, invariant, mode):
    src = "import math\n" + src
    text = generated(src, wrt, mode)
    where = [line for line in text.splitlines() if line.strip().startswith(invariant)]
    assert where and all(line == "    " + invariant for line in where), text  # not in a loop
    check_gradient(src, point, wrt, modes=(mode,))


def test_what_may_raise_stays_in_the_loop():
    # no trip runs when n == 0: 1 / a would raise where the source does not
    src = ("def f(x, a, n):\n"
           "    for i in range(n):\n"
           "        x = x * (1.0 / a)\n"
           "    return x\n")
    for mode in MODES:
        assert "1.0 / a" in loop_of(generated(src, 0, mode), "fpr")
        assert derivative(src, 0, mode)(2.0, 0.0, 0) == 1.0


# 4. names

CALLS = """
def total(v, m):
    return energy(v, m) + energy(2.0 * v, m)

def energy(v, m):
    return 0.5 * m * v * v
"""


def test_a_forward_mode_callee_is_named_for_its_jacobian_vector_product():
    text = generated(CALLS, (0, 1), "forward")
    assert "def energy_jvp(" in text and "energy_pr" not in text, text
    check_gradient(CALLS, (0.7, 1.3), (0, 1), modes=("forward",))
