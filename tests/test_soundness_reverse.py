"""Reverse mode where a value is overwritten, loops walk iterators and arrays change shape.

Each case once gave a wrong number or a crash in reverse mode; both modes are checked against
central finite differences (forward mode too, as the random programs check both).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    MODES,
    check_gradient,
    check_rejects,
    derivative,
    numeric_gradient,
    primal,
)

HELPER = """
import math


def helper(a, b):
    b *= (1.0 + 0.3 * math.tanh(a))
    b = 0.5 * b + math.sin(math.log(1.5 + math.tanh(b)))
    return b


def early(a, b):
    if a > 0.0:
        return 2.0
    a = 3.0
    return a * b
"""

# a variable that depends on wrt, overwritten by something that does not (all derivatives 0
# along what was overwritten, or along one path only)
OVERWRITES = [
    ("call_in_loop", "y -= 0.5 * y\n    for i1 in range(1):\n        x = helper(y, y)\n"
                     "    return y + x + x + x", (-1.3, -0.4)),
    ("call_in_branch", "if y > 0.0:\n        x = helper(y, y)\n    return x * y", (0.4, 0.7)),
    ("call_straight", "x = helper(y, 2.0)\n    return x * y", (0.4, 0.7)),
    ("early_return_call", "x = early(y, y)\n    return x * x", (0.4, 0.7)),
    ("constant_in_loop", "for i in range(n):\n        x = 2.0\n    return x * y", (0.4, 0.7)),
    ("index_in_loop", "for i in range(n):\n        x = i * 0.5\n    return x * y", (0.4, 0.7)),
    ("count_in_branch", "if x > y:\n        x = n * 1.0\n    return x * y", (0.4, 0.1)),
    ("loop_header", "for x in range(n):\n        pass\n    return x * y", (0.4, 0.7)),
]


@pytest.mark.parametrize("wrt", [(0,), (1,), (0, 1)])
@pytest.mark.parametrize("case, body, point", OVERWRITES, ids=[c[0] for c in OVERWRITES])
def test_a_value_overwritten_by_an_inactive_one_loses_its_adjoint(case, body, point, wrt):
    src = f"{HELPER}\n\ndef f(x, y, n=2):\n    {body}\n"
    check_gradient(src, point, wrt=wrt, name="f")


ITERATES = """
def poly(x, coeffs):
    s = 0.0
    for c in coeffs:
        s = s * x + c
    return s
"""

SOURCES_OF_ITEMS = {
    "list": lambda: [1.0, 2.0, 3.0],
    "tuple": lambda: (1.0, 2.0, 3.0),
    "iterator": lambda: iter([1.0, 2.0, 3.0]),
    "generator": lambda: (c for c in [1.0, 2.0, 3.0]),
    "map": lambda: map(float, [1, 2, 3]),
    "array": lambda: np.array([1.0, 2.0, 3.0]),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("items", SOURCES_OF_ITEMS, ids=list(SOURCES_OF_ITEMS))
def test_a_loop_walks_an_iterator_argument_once(items, mode):
    fpr = derivative(ITERATES, "x", mode)
    expected = 2.0 * 0.7 + 2.0  # d/dx of x**2 + 2 x + 3
    assert fpr(0.7, SOURCES_OF_ITEMS[items]()) == pytest.approx(expected, rel=1e-12)


LOOPS_OVER = [
    ("zip of generators", "for p, q in zip(iter(a), reversed(a)):\n"
                          "        s = s * p + q * math.sin(s)"),
    ("enumerate", "for i, p in enumerate(a):\n        s = s * p + i * math.sin(s)"),
    ("reversed list", "for p in reversed(a):\n        s = s * p + math.sin(s)"),
    ("nested over a name", "for p in a:\n        for q in a:\n            s = s * q + p * s"),
    ("range of an inactive bound", "for i in range(len(a) + int(b)):\n"
                                   "        s = s * a[0] + math.sin(s)"),
    ("range of a bound from wrt", "for i in range(int(x) + 2):\n        s = s * math.sin(s)"),
]


@pytest.mark.parametrize("case, loop", LOOPS_OVER, ids=[c[0] for c in LOOPS_OVER])
def test_loops_over_iterables(case, loop):
    src = f"import math\n\n\ndef f(x, a, b):\n    s = x\n    {loop}\n    return s\n"
    check_gradient(src, (0.7, [0.9, 0.5], 1.3))


@pytest.mark.parametrize("loop, match", [
    ("for k, v in d.items():", "calling a local value"),
])
def test_loops_over_what_is_not_supported_are_refused(loop, match):
    check_rejects(f"def f(x, d):\n    s = x\n    {loop}\n        s = s * v\n    return s\n",
                  match)


SHAPES = {
    "concatenate after a scatter": """
        u = np.array([x, 2.0 * x])
        for i in range(3):
            u = np.concatenate([u, u[-1:] * x])
        return np.sum(u * u)
    """,
    "concatenate of itself": """
        u = np.array([x])
        for i in range(3):
            u = np.concatenate([u, np.sin(u) * x])
        return np.sum(u * u)
    """,
    "shrinks on one path": """
        u = np.array([x, 1.0, x])
        for i in range(2):
            if u[0] > 0.0:
                u = np.concatenate([u[1:], u[:1] * x, u[-1:]])
            else:
                u = u[1:] * x
        return np.sum(u) + u[0]
    """,
    "grows in a while loop": """
        u = np.array([x, 1.0])
        k = 0
        while k < 3:
            k += 1
            v = u[-1]
            u = np.concatenate([u, np.array([v * x])])
        return np.sum(u * u)
    """,
    "first made in the loop": """
        s = 0.0
        for i in range(3):
            u = np.ones(3 - i) * x
            s = s + u[-1] * np.sum(u)
        return s
    """,
    "first made in the loop, read before": """
        s = x
        for i in range(3):
            u = np.arange(i + 1.0) * s
            s = u[-1] * np.sum(u * u) + s
        return s
    """,
}


@pytest.mark.parametrize("x", [0.7, -0.4])
@pytest.mark.parametrize("case", SHAPES, ids=list(SHAPES))
def test_an_array_that_changes_shape_in_a_loop(case, x):
    body = "\n".join(line[4:] for line in SHAPES[case].splitlines())
    src = f"import numpy as np\n\n\ndef f(x):{body}\n"
    f = primal(src)
    expected = numeric_gradient(f, (x,), 0)
    for mode in MODES:
        assert derivative(src, 0, mode)(x) == pytest.approx(expected, rel=1e-6), mode


PAIR_RETURNED_IN_A_LOOP = """
import math


def f(x, y):
    a, b = pair(x, y)
    return a * math.sin(b)


def pair(a, b):
    for i in range(3):
        if a * b > 0.6:
            return a * 2.0, b - a
        a = a * 1.5
    return a, b
"""


@pytest.mark.parametrize("point", [(0.3, 0.5), (0.9, 0.8), (-0.2, 0.4)])
def test_a_helper_returns_two_values_from_inside_a_loop(point):
    check_gradient(PAIR_RETURNED_IN_A_LOOP, point, wrt=(0, 1))


PAIRS = """

def pair(a, b):
    return math.sin(a) * b, a + b
"""

# a call that overwrites its own arguments, where they are not renamed away (a loop, or a
# variable assigned in a loop before)
OVERWRITING_CALLS = [
    ("in_a_loop", "for i in range(2):\n        x, y = pair(x, y)\n    return x * y"),
    ("after_a_loop", "v = y\n    for i in range(2):\n        v = v * x\n"
                     "    v, x = pair(v, v)\n    return v + x * y"),
    ("one_of_two", "for i in range(2):\n        x, w = pair(x, y)\n    return x * w"),
]


@pytest.mark.parametrize("case, body", OVERWRITING_CALLS, ids=[c[0] for c in OVERWRITING_CALLS])
def test_a_call_that_overwrites_its_own_arguments(case, body):
    check_gradient(f"import math\n\n\ndef f(x, y):\n    {body}\n{PAIRS}", (0.7, 0.3), wrt=(0, 1))


# The adjoint of a value overwritten by a statement that does not read it starts again from the
# number 0.0; a structural rule (a matrix product's, a transpose's, np.stack's) needs zeros of the
# shape of the value that statement made, which may change from one iteration to the next.
RESET_ADJOINTS = {
    "a product of a growing slice, overwritten": """
def f(A, W):
    for n in range(1, 4):
        v = np.tanh(A[:n]) @ W
    return np.sum(v * v)
""",
    "a transpose whose shape changes, read in some iterations": """
def f(A, W):
    s = 0.0
    for n in range(3, 0, -1):
        v = (np.sin(A[:n]) @ W).T
        if n < 3:
            s = s + np.sum(np.cos(v))
    return s + np.mean(v)
""",
    "a reshape of a row, overwritten in a while loop": """
def f(A, W):
    k = 0
    while k < 3:
        v = np.reshape(A[k % 2], (3, 1))
        k = k + 1
    return np.sum(W @ v)
""",
    "np.dot overwritten in a branch": """
def f(A, W):
    v = np.dot(A, W[0])
    if np.sum(A) > 0.0:
        v = np.sum(A * A, axis=1)
    return np.mean(np.sin(v))
""",
    "np.stack overwritten in a branch in a loop": """
def f(A, W):
    s = 0.0
    for i in range(3):
        v = np.stack([A[0], np.tanh(A[1])])
        if i == 1:
            v = A @ W
        s = s + np.sum(v[0])
    return s
""",
    "nested loops, an inner overwrite of a growing shape": """
def f(A, W):
    s = 0.0
    for i in range(2):
        for n in range(1, 3):
            v = (np.sin(A[:n] * (i + 1)) @ W).T
        s = s + np.sum(v * A[0, 0])
    return s
""",
    "nested loops, einsum and concatenate overwritten": """
def f(A, W):
    for i in range(2):
        for j in range(2):
            v = np.einsum("ij,jk->ik", A, W)
            u = np.concatenate([A[0], v[1]])
        w = np.sum(u)
    return w
""",
    "a value indexed, made in a branch not always taken": """
def f(A, W):
    s = np.sum(A)
    if s > 0.0:
        u = A @ W
        s = s + u[0, 1] * u[1, 2]
    return s * np.sum(W)
""",
    "a value that only a condition reads": """
def f(A, W):
    v = np.where(A.reshape(3, 2).T > 0.1, W[:2], W[:2])
    return np.sum(v + A)
""",
    "a helper of a matrix product, called in a loop": """
def f(A, W):
    for i in range(2):
        v = g(np.sin(A), W)
    return np.sum(v)


def g(A, W):
    return (A @ W).T
""",
}


@pytest.mark.parametrize("src", RESET_ADJOINTS.values(), ids=RESET_ADJOINTS.keys())
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["positive", "negative"])
def test_a_reset_adjoint_has_the_shape_of_the_value_overwritten(src, sign):
    rng = np.random.default_rng(5)
    args = (sign * np.abs(rng.normal(size=(2, 3))), rng.normal(size=(3, 3)))
    check_gradient("import numpy as np\n\n" + src, args, wrt=(0, 1))


def test_an_adjoint_reset_before_a_loop_keeps_the_shape_of_a_broadcast_value():
    """Random array program 247: ``v`` is overwritten by data after a loop that multiplied it
    by a row, so its adjoint enters the loop as the number 0.0, and ``row * 0.0`` summed back
    to ``v`` gave a gradient of ``A`` the shape of the row."""
    src = """
import numpy as np


def f(A, x, B):
    v = A + 0.0
    for i in range(1):
        v = v * (x / (1.0 + x * x))
    v = B + 0.0
    return np.sum(v * x)
"""
    rng = np.random.default_rng(247)
    args = (rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(2, 3)))
    check_gradient(src, args, wrt=(0, 1))
