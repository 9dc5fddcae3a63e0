"""Shape analysis, and what reverse mode does with it: no ``_unbroadcast`` between values of one
shape, no value computed for its shape alone, and the adjoint of a whole sum kept a number
(``d = 1.0 / n`` for ``np.mean``) until something needs the array. Each case is also checked
against finite differences, with shapes chosen so that a wrong shortcut gives a wrong number."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import check_array_gradient, generated

from ad_transpile.infer import infer, param_kinds
from ad_transpile.names import Namer
from ad_transpile.normalize import normalize
from ad_transpile.parse import function_in_text
from ad_transpile.registry import builtin
from ad_transpile.restructure import restructure
from ad_transpile.shapes import shapes


def shapes_of(src: str):
    parsed = function_in_text(textwrap.dedent(src), "example.py", "f")
    namer = Namer(parsed.local)
    fn = normalize(parsed, restructure(parsed, namer), namer)
    return shapes(fn, builtin(), infer(fn, param_kinds(parsed), parsed.constants).numbers)


def test_elementwise_results_have_the_broadcast_shape_of_their_operands():
    found = shapes_of("""
        import numpy as np
        def f(x, y):
            a = 2.0 * np.sin(x)
            b = a - y
            c = y * a
            return np.sum(b + c)
    """)
    assert found.of("a") == {"x"}
    assert found.same("b", "c") and not found.same("a", "b")
    assert found.representative("c") == "b"  # the first value of that shape
    assert found.of("sum_t1") == set()  # the sum: a number


def test_slices_that_drop_as_many_items_have_one_shape():
    found = shapes_of("""
        import numpy as np
        def f(x):
            head = x[:-1]
            tail = x[1:]
            inner = x[1:-1]
            rest = tail[1:]
            every = x[:]
            return np.sum(head * tail + inner * rest + every)
    """)
    assert found.same("head", "tail")
    assert found.same("inner", "rest") and not found.same("head", "inner")
    assert found.same("every", "x")


def test_values_assigned_in_loops_have_no_known_shape():
    found = shapes_of("""
        import numpy as np
        def f(x, n):
            y = x * 2.0
            y = y + x
            for i in range(n):
                z = x * 3.0
            return np.sum(y) + np.sum(z)
    """)
    assert found.of("z") is None and found.of("i") is None
    assert found.same("y", "y_1")  # a value assigned again gets a name of its own


def test_products_and_calls_have_shapes_of_their_own():
    found = shapes_of("""
        import numpy as np
        def f(x, A):
            v = A @ x
            w = np.cumsum(x)
            return np.sum(v) + np.sum(w)
    """)
    assert found.of("v") == {"v"} and found.of("w") == {"w"}


def test_rosenbrock_reads_like_the_hand_written_gradient():
    text = generated(open("samples/rosenbrock.py").read(), "x")
    body = text.split("def rosenbrock_pr(x):")[1]
    assert "_unbroadcast" not in body and "_unreduce" not in body
    assert "_t1 = 200.0 * (tail - head**2)" in body  # the adjoint of a folded temporary
    assert "_t7" not in body  # the terms of the sum are never computed


def test_a_mean_reads_its_size_from_a_value_it_computes_anyway():
    text = generated(open("samples/logistic_regression.py").read(), "w")
    body = text.split("def loss_pr(")[1]
    assert "np.size(y_z)" in body and "= np.logaddexp" not in body


CASES = [  # (source, arguments, wrt): the whole-array adjoint must be made where it is needed
    ("def f(x):\n    return np.sum(x)\n", (np.arange(6.0).reshape(2, 3),), (0,)),
    ("def f(x):\n    return np.mean(2.0 * x)\n", (np.ones((3, 4)),), (0,)),
    # a number against an array: the sum counts the array's elements
    ("def f(x, z):\n    return np.sum(x + z)\n", (0.3, np.zeros(5)), (0,)),
    ("def f(x):\n    return np.sum(x + np.zeros(5))\n", (0.3,), (0,)),
    ("def f(a, b):\n    return np.sum(a * b)\n", (np.ones(4), np.array(2.0)), (0, 1)),
    ("def f(x, c):\n    return np.sum(np.where(c, x, 0.0))\n",
     (np.array([0.5, -1.0, 2.0]), np.array([[True, False, True], [True, True, False]])), (0,)),
    # slices of one length, and of two lengths that broadcast (n = 3: 1 against 2)
    ("def f(x):\n    return np.sum(x[1:] * x[:-1])\n", (np.array([0.5, -1.0, 2.0, 0.7]),), (0,)),
    ("def f(x):\n    return np.sum(x[2:] * x[:-1])\n", (np.array([0.5, -1.0, 2.0]),), (0,)),
    ("def f(x):\n    return np.sum(x[1:] - x[:-1] ** 2)\n", (np.ones((4, 3)) * 0.5,), (0,)),
    # the number reaches a structural rule, an index, a call
    ("def f(x):\n    return np.sum(2.0 * np.sum(x, axis=0))\n", (np.ones((3, 2)),), (0,)),
    ("def f(x, A):\n    return np.mean(np.tanh(A @ x))\n", (np.ones(3) * 0.1, np.eye(3)), (0, 1)),
    ("def f(x):\n    return np.sum(3.0 * x[0])\n", (np.ones((2, 3)),), (0,)),
    ("def f(x):\n    return np.sum(x) + x[1] * np.mean(x * x)\n", (np.array([0.5, -1.0, 2.0]),),
     (0,)),
    ("def f(x):\n    return np.sum(twice(x)) + np.mean(x * x)\n\n"
     "def twice(v):\n    return 2.0 * v * v\n", (np.array([0.5, -1.0, 2.0]),), (0,)),
    # and flows on into branches and loops after it
    ("def f(x, n):\n    s = np.sum(x * x)\n    for i in range(n):\n        s = s * 1.5\n"
     "    return s\n", (np.array([0.5, -1.0]), 3), (0,)),
    ("def f(x, c):\n    s = np.mean(x * x)\n    if c > 0:\n        s = s + np.sum(x)\n"
     "    return s\n", (np.array([0.5, -1.0]), 1.0), (0,)),
    ("def f(x):\n    return np.sum(np.logaddexp(0.0, x) - 0.5 * x)\n",
     (np.array([-800.0, -3.0, 0.0, 2.0, 800.0]),), (0,)),
]


@pytest.mark.parametrize("src, args, wrt", CASES)
def test_gradients_through_whole_array_sums_match_finite_differences(src, args, wrt):
    with np.errstate(over="ignore"):
        check_array_gradient("import numpy as np\n\n" + src, args, wrt)
