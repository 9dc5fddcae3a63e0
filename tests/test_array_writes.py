"""Writing into an array, ``y[idx] = v`` and ``y[idx] op= v``, in both modes against finite
differences: every index NumPy allows, in loops and branches, broadcasting, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    MODES,
    check_array_gradient,
    check_rejects,
    derivative,
    generated,
    imported,
    numeric_gradient,
    primal,
)

import ad_transpile as adt

RNG = np.random.default_rng(13)
X = RNG.uniform(-1.0, 1.0, 6)
A = RNG.uniform(-1.0, 1.0, (3, 4))

# (name, source of f, arguments): each writes into an array the function made itself
CASES = [
    ("an int", "y = np.zeros(3)\n    y[0] = x[1] * x[2]\n    return np.sum(y * x[:3])", (X,)),
    ("a negative int", "y = x.copy()\n    y[-1] = np.sin(x[0])\n    return np.sum(y * y)", (X,)),
    ("a slice", "y = np.ones(6)\n    y[1:4] = x[:3] ** 2\n    return np.sum(y * x)", (X,)),
    ("a number into a slice", "y = x * 1.0\n    y[2:] = x[0] * x[1]\n    return np.sum(y ** 2)",
     (X,)),
    ("an int array", "y = np.copy(x)\n    y[np.array([0, 3, 5])] = x[:3] * 3.0\n"
     "    return np.sum(np.sin(y))", (X,)),
    ("a boolean mask", "y = x.copy()\n    y[y < 0] = 0.0\n    return np.sum(y * y * x)", (X,)),
    ("a mask with an active value", "y = x + 0.0\n    y[x > 0.2] = x[0]\n"
     "    return np.sum(y * x)", (X,)),
    ("a tuple of ints", "B = a.copy()\n    B[1, 2] = B[0, 0] * B[2, 3]\n"
     "    return np.sum(B * B)", (A,)),
    ("a column", "B = np.zeros((3, 4))\n    B[:, 0] += a[:, 1]\n    B[:, 1:] = a[:, 1:] * a[0, 0]\n"
     "    return np.sum(B * a)", (A,)),
    ("a row from a vector", "B = a * 1.0\n    B[1] = a[0] * a[2]\n    return np.sum(np.cos(B))",
     (A,)),
    ("an ellipsis", "B = a.copy()\n    B[..., 1] = a[..., 2] * 2.0\n    return np.sum(B ** 3)",
     (A,)),
    ("a constant", "y = x.copy()\n    y[1] = 2.5\n    y[3:] = 0.0\n    return np.sum(y * x)",
     (X,)),
    ("each op=", "y = x.copy()\n    y[0] += x[1]\n    y[1] -= x[2]\n    y[2] *= x[3]\n"
     "    y[3] /= 2.0 + x[4]\n    y[4] **= 2.0\n    return np.sum(y * x)", (X,)),
    ("op= over a slice", "y = x * 2.0\n    y[1:4] *= x[2:5]\n    y[::2] -= x[0]\n"
     "    return np.sum(y * y)", (X,)),
    ("twice in one place", "y = x.copy()\n    y[0] = x[1] * x[0]\n    y[0] = y[0] * y[1]\n"
     "    return np.sum(y * y)", (X,)),
    ("in a loop", "y = np.zeros(6)\n    for i in range(6):\n        y[i] = x[i] * x[5 - i]\n"
     "    return np.sum(y * y)", (X,)),
    ("reading an earlier write", "y = np.zeros(6)\n    y[0] = x[0]\n"
     "    for i in range(1, 6):\n        y[i] = y[i - 1] * x[i] + 1.0\n    return np.sum(y)", (X,)),
    ("in a branch", "y = x.copy()\n    for i in range(6):\n        if x[i] > 0.0:\n"
     "            y[i] = x[i] ** 3\n        else:\n            y[i] *= 2.0\n"
     "    return np.sum(y * x)", (X,)),
    ("a 2-D loop", "B = np.zeros((3, 4))\n    for i in range(3):\n        for j in range(4):\n"
     "            B[i, j] = a[i, j] * a[2 - i, 3 - j]\n    return np.sum(B * B)", (A,)),
    ("in a while loop", "y = x.copy()\n    k = 0\n    while k < 5:\n"
     "        y[k + 1] += y[k] * 0.5\n        k = k + 1\n    return np.sum(y ** 2)", (X,)),
    ("a shift of itself", "y = x.copy()\n    y[1:] = y[:-1] * 0.5\n    return np.sum(y * x)",
     (X,)),
    ("an int array in a loop", "y = x.copy()\n    for k in range(2):\n"
     "        y[np.array([k, 5 - k])] = y[1:3] * x[k]\n    return np.sum(y * y)", (X,)),
    ("an inactive array", "y = np.ones(6)\n    y[2] = 3.0\n    z = x * y\n    y[4] = 5.0\n"
     "    return np.sum(z * y)", (X,)),
]


def source(body: str, args: tuple) -> str:
    param = "x" if np.ndim(args[0]) == 1 else "a"
    return f"import numpy as np\n\n\ndef f({param}):\n    {body}\n"


@pytest.mark.parametrize("body, args", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_write_has_the_derivative_of_finite_differences(body, args):
    check_array_gradient(source(body, args), args)


HEAT = """
import numpy as np


def heat(u0, r):
    u = u0.copy()
    for step in range(5):
        u_new = u.copy()
        for i in range(1, len(u) - 1):
            u_new[i] = u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1])
        u = u_new
    return np.sum(u * u)
"""


def test_the_heat_equation():
    args = (RNG.uniform(0.0, 1.0, 8), 0.2)
    f = primal(HEAT)
    expected = [numeric_gradient(f, args, i) for i in (0, 1)]
    for mode in MODES:
        got = derivative(HEAT, (0, 1), mode)(*args)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-8, err_msg=mode)


def test_the_heat_equation_through_the_api(tmp_path):
    heat = imported(HEAT, tmp_path, "heat_example").heat
    u0 = RNG.uniform(0.0, 1.0, 8)
    before = u0.copy()
    expected = numeric_gradient(heat, (u0, 0.2), 0)
    for mode in MODES:
        np.testing.assert_allclose(adt.grad(heat, mode=mode)(u0, 0.2), expected, rtol=1e-6)
        np.testing.assert_allclose(adt.grad(heat, wrt="r", mode=mode)(u0, 0.2),
                                   numeric_gradient(heat, (u0, 0.2), 1), rtol=1e-6)
    np.testing.assert_array_equal(u0, before)  # the caller's array is left alone


def test_the_value_returned_is_the_written_array():
    src = "import numpy as np\n\ndef f(x):\n    y = x * 1.0\n    y[0] = x[1] ** 2\n    return y\n"
    x, cotangent = np.array([0.5, 2.0, -1.0]), np.array([1.0, 2.0, 3.0])
    value, product = derivative(src, 0, "reverse", kind="vjp")(x, cotangent)
    np.testing.assert_allclose(value, [4.0, 2.0, -1.0])
    np.testing.assert_allclose(product, [0.0, 2.0 * 2.0 * 1.0 + 2.0, 3.0])


def test_what_a_write_emits_reads_like_hand_written_code():
    text = generated(HEAT, (0, 1))
    assert "_stack.append((u_new[i].copy(), _t8))" in text  # the old part, and what d_t8 needs
    assert "u_new[i] = u_new_old" in text
    assert "d_u_new[i] = 0.0" in text
    assert text.count("np.zeros_like(u_new") == 1  # d_u_new made an array once, not per write
    forward = generated(HEAT, (0, 1), "forward", kind="jvp")
    assert "d_u_new[i] = d_" in forward


REFUSED = [
    ("into an argument", "x[0] = 1.0\n    return np.sum(x)",
     r"example.py:5:5: writing into the argument 'x' is not supported: it would change the "
     r"caller's array in place; copy it first \(x = x.copy\(\)\)"),
    ("into a name for an argument", "y = x\n    y[0] = 1.0\n    return np.sum(y)",
     r"example.py:6:5: writing into the argument 'x' is not supported: 'y' may hold the array"),
    ("into a view of an argument", "y = x[1:]\n    y[0] += 1.0\n    return np.sum(y)",
     r"example.py:6:5: writing into the argument 'x' is not supported"),
    ("an alias read after the write", "y = np.zeros(3)\n    z = y\n    y[0] = x[0]\n"
     "    return np.sum(z * x)",
     r"example.py:7:5: writing into 'y' is not supported: 'z' may hold the same array, and it "
     r"is read after the write \(line 8\)"),
    ("a view read after the write", "y = x.copy()\n    z = y[:2]\n    y[0] = x[1]\n"
     "    return np.sum(z)", r"example.py:7:5: writing into 'y' is not supported: 'z' may"),
    ("an alias read in the next iteration", "y = x.copy()\n    z = y\n    for i in range(3):\n"
     "        s = z[i]\n        y[i] = s * 2.0\n    return np.sum(y)",
     r"example.py:9:9: writing into 'y' is not supported: 'z' may hold the same array"),
    ("into something not known to be an array", "y = {}\n    y[0] = x[0]\n"
     "    return y[0]", r"example.py:6:5: writing into 'y' is not supported: it is not known to "
     r"be a NumPy array"),
    ("into a nested target", "y = np.zeros((2, 2))\n    y[0][1] = x[0]\n    return np.sum(y)",
     r"example.py:6:5: writing into this target is not supported"),
] + [  # NumPy functions whose result is a view of their argument: a write changes it too
    (f"into {view}", f"z = x * x\n    v = {view}\n    v[0] = 2.0 * v[0]\n    return np.sum(z)",
     r"example.py:7:5: writing into 'v' is not supported: it may hold an array that np\.")
    for view in ("np.flip(z)", "np.flip(z, 0)", "np.rot90(np.reshape(z, (1, 3)))",
                 "np.fliplr(np.reshape(z, (1, 3)))", "np.diag(np.outer(z, z))",
                 "np.atleast_3d(z)", "np.rollaxis(np.reshape(z, (1, 3)), 1)",
                 "np.permute_dims(np.reshape(z, (1, 3)))",
                 "np.matrix_transpose(np.reshape(z, (1, 3)))")
]


@pytest.mark.parametrize("body, match", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_a_write_it_cannot_follow_is_refused(body, match):
    for mode in MODES:
        src = f"import numpy as np\n\n\ndef f(x):\n    {body}\n"
        with pytest.raises(adt.TranspileError, match=match):
            generated(src, 0, mode)
    check_rejects(src, match)


def test_an_alias_no_longer_read_is_fine():
    src = ("import numpy as np\n\n\ndef f(x):\n    y = np.zeros(3)\n    z = y\n    w = np.sum(z)\n"
           "    y[0] = x[0] * w\n    z = x * 2.0\n    return np.sum(z * y)\n")
    check_array_gradient(src, (X[:3],))


def test_a_view_of_the_written_array_is_returned_as_it_was():
    src = ("import numpy as np\n\ndef f(x):\n    y = x * 1.0\n    y[0] = x[1] ** 2\n"
           "    y[1] = 0.0\n    return y[:2]\n")
    x, cotangent = np.array([0.5, 2.0, -1.0]), np.array([1.0, 1.0])
    value, product = derivative(src, 0, "reverse", kind="vjp")(x, cotangent)
    np.testing.assert_allclose(value, [4.0, 0.0])
    np.testing.assert_allclose(product, [0.0, 4.0, 0.0])
    value, gradient = derivative(src.replace("return y[:2]", "return np.sum(y[:2] ** 2)"), 0,
                                 "reverse", kind="value_and_grad")(x)
    assert type(value) is np.float64 and value == 16.0


def test_a_write_has_a_second_derivative(tmp_path):
    src = ("import numpy as np\n\n\ndef f(x):\n    y = x.copy()\n    for i in range(1, 3):\n"
           "        y[i] = y[i - 1] * x[i] + np.sin(x[i])\n    return np.sum(y * y)\n")
    f = imported(src, tmp_path, "second_example").f
    x = np.array([0.3, -0.5, 0.8])
    gradient = adt.grad(f)
    step = 1e-6
    expected = np.array([(gradient(x + step * e) - gradient(x - step * e)) / (2 * step)
                         for e in np.eye(3)])
    np.testing.assert_allclose(adt.hessian(f)(x), expected, rtol=1e-6, atol=1e-8)


def test_a_transposed_view_read_after_the_write_is_refused():
    check_rejects("import numpy as np\n\ndef f(x):\n    y = np.outer(x, x)\n    z = y.T\n"
                  "    y[0, 1] = x[0]\n    return np.sum(z * y)\n",
                  r"example.py:6:5: writing into 'y' is not supported: 'z' may hold the same")


@pytest.mark.parametrize("copy", ["x = x.copy()", "x = np.copy(x)", "x = x * 1.0"])
def test_an_argument_copied_first_may_be_written_into(copy):
    src = (f"import numpy as np\n\n\ndef f(x):\n    {copy}\n    x[0] = x[1] * x[2]\n"
           "    return np.sum(x * x)\n")
    check_array_gradient(src, (X[:3],))


def test_writing_into_what_a_function_returns_is_refused():
    check_rejects("import numpy as np\n\n\ndef f(x):\n    y = g(x)\n    y[0] = 1.0\n"
                  "    return np.sum(y)\n\n\ndef g(x):\n    return x\n",
                  r"example.py:6:5: writing into 'y' is not supported: it may hold an array "
                  r"that g\(...\) returns")


def test_a_while_test_read_after_a_write_is_refused():
    check_rejects("import numpy as np\n\n\ndef f(x):\n    y = x.copy()\n    z = y\n"
                  "    while z[0] < 3.0:\n        y[0] = y[0] + 1.0\n    return np.sum(y)\n",
                  r"example.py:8:9: writing into 'y' is not supported: 'z' may hold the same")


CALLED = """
import numpy as np


def f(x):
    total = 0.0
    for k in range(2):
        total = total + np.sum(smooth(x * (k + 1.0)) ** 2)
    return total


def smooth(v):
    w = v.copy()
    for i in range(1, len(v) - 1):
        w[i] = (v[i - 1] + v[i] + v[i + 1]) / 3.0
    return w
"""


def test_a_function_that_writes_is_differentiated_where_it_is_called():
    check_array_gradient(CALLED, (X,))


def test_a_write_that_picks_an_element_twice_is_refused_when_it_runs():
    src = ("import numpy as np\n\n\ndef f(x, i):\n    y = np.zeros(3)\n    y[i] = x[:2]\n"
           "    return np.sum(y * y)\n")
    assert "_check_distinct(i, y)" in generated(src)
    gradient = derivative(src)
    np.testing.assert_allclose(gradient(X[:2], np.array([2, 0])), [2 * X[0], 2 * X[1]])
    with pytest.raises(ValueError, match="picks an element more than once"):
        gradient(X[:2], np.array([1, -2]))
