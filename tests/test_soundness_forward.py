"""Forward mode on arrays, soundness: each case a program that once crashed or gave a wrong
number in forward mode (batched tangents, one sweep per element, the API and the file alike),
now checked against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    MODES,
    check_array_gradient,
    derivative,
    forward_gradient,
    imported,
    numeric_gradient,
    primal,
)

import ad_transpile as adt
from ad_transpile import api
from ad_transpile.errors import TranspileError

rng = np.random.default_rng(11)
W, U, h0 = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
xs = rng.normal(size=4)

RNN = """
import numpy as np

def f(W, U, h0, xs):
    h = h0
    for x in xs:
        h = np.tanh(W @ h + U * x)
    return np.sum(h)
"""


# a value that does not depend on wrt until the loop overwrites it (h = h0) has a zero tangent;
# that zero must have the value's shape (and the directions): W @ d_h, np.sum(d_h, axis=...)
@pytest.mark.parametrize("wrt", [(0,), (1,), (0, 1), (0, 2), (2,)])
@pytest.mark.parametrize("steps", [np.array(xs), list(xs)], ids=["array", "list"])
def test_an_overwritten_inactive_start_has_a_zero_tangent_of_its_shape(wrt, steps):
    check_array_gradient(RNN, (W, U, h0, steps), wrt)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "per element"])
@pytest.mark.parametrize("wrt", [0, 1, (0, 1)])
@pytest.mark.parametrize("steps", [np.array(xs), list(xs)], ids=["array", "list"])
def test_the_api_in_forward_mode_through_an_overwritten_inactive_start(wrt, steps, batched,
                                                                       tmp_path):
    f = imported(RNN, tmp_path, "soundness_rnn").f
    args = (W, U, h0, steps)
    if batched:
        got = adt.grad(f, wrt, mode="forward")(*args)
    else:  # the API's way where an operation has no batched rule
        got = api._forward_by_elements(f, wrt, args, {})[1]
    got = got if isinstance(wrt, tuple) else (got,)
    for i, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), got):
        np.testing.assert_allclose(g, numeric_gradient(f, args, i), rtol=1e-5, atol=1e-6)


ZERO_STARTS = {  # a zero tangent reached by each way one is written
    "a parameter active by assignment": """
import numpy as np

def f(w, h):
    for i in range(2):
        h = w @ h
    return np.sum(h[1:])
""",
    "a user function's result of no active argument": """
import numpy as np

def f(w, c):
    h = g(c)
    for i in range(2):
        h = w @ h
    return np.sum(h[1:])

def g(v):
    return 2.0 * v
""",
    "a number overwritten, then stacked": """
import numpy as np

def f(w, a):
    s = a
    for i in range(2):
        s = s * np.sum(w)
    return np.sum(np.stack([s, s]) * w[:2])
""",
}


@pytest.mark.parametrize("src", ZERO_STARTS.values(), ids=ZERO_STARTS.keys())
def test_every_zero_tangent_has_the_shape_of_its_value(src):
    args = {"h": (rng.normal(size=(3, 3)), rng.normal(size=3)),
            "c": (rng.normal(size=(3, 3)), rng.normal(size=3)),
            "a": (rng.normal(size=3), 0.7)}
    key = next(k for k in args if f", {k})" in src)
    check_array_gradient(src, args[key], (0,))


ITEMS_OF_CONSTANTS = {  # an active name overwritten with an item of a value that is not active
    "a slice": """
import numpy as np

def f(x, W):
    v = x[:2]
    for i in range(2):
        v = np.log(1.0 + W ** 2)[:2, 0]
    return np.sum(v * x[1:])
""",
    "an item in a branch": """
import numpy as np

def f(x, W):
    v = x * 2.0
    if W[0, 0] > 0.0:
        v = W[1]
    return np.sum(np.sin(v) + x)
""",
}


@pytest.mark.parametrize("src", ITEMS_OF_CONSTANTS.values(), ids=ITEMS_OF_CONSTANTS.keys())
@pytest.mark.parametrize("corner", [1.0, -1.0])
def test_an_item_of_a_constant_has_a_zero_tangent(src, corner):
    W = rng.normal(size=(3, 3))
    W[0, 0] = corner
    check_array_gradient(src, (rng.normal(size=3), W), (0,))


# Found by the random array programs (tests/test_random_array_programs.py, KNOWN), in reverse
# mode: an adjoint reset to the number 0.0 after an overwrite reaches the adjoint of an
# operation that needs an array (a matrix product, a transpose, a reshape). Forward mode gets
# these right; the fix belongs to reverse.py.
REVERSE_ZERO_ADJOINTS = {
    "a product overwritten in a loop": ("""
import numpy as np

def f(A, W):
    for i in range(2):
        v = np.sin(A) @ W
    return np.sum(v)
""", ((2, 3), (3, 3))),
    "a reshape read only by a condition": ("""
import numpy as np

def f(A, B):
    v = np.where(A.reshape(3, 2).T > 0.7, B, B)
    return np.sum(v + A)
""", ((2, 3), (2, 3))),
    "np.dot overwritten in a branch": ("""
import numpy as np

def f(A, x):
    v = np.dot(A, x)
    if np.sum(v) > -0.7:
        v = np.sum(A, axis=1)
    return np.mean(v)
""", ((2, 3), (3,))),
    "np.stack overwritten in a loop": ("""
import numpy as np

def f(x, W):
    for r in W:
        v = np.stack([x[0], (W @ x)[1]])
    return np.sum(v)
""", ((3,), (3, 3))),
}


@pytest.mark.parametrize(("src", "shapes"), REVERSE_ZERO_ADJOINTS.values(),
                         ids=REVERSE_ZERO_ADJOINTS.keys())
def test_forward_mode_through_a_value_overwritten_before_it_is_used(src, shapes):
    args = tuple(np.abs(rng.normal(size=shape)) for shape in shapes)
    f = primal(src)
    expected = numeric_gradient(f, args, 0)
    np.testing.assert_allclose(derivative(src, 0, "forward")(*args), expected, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(forward_gradient(src, args, (0,))[0], expected, rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize(("src", "shapes"), REVERSE_ZERO_ADJOINTS.values(),
                         ids=REVERSE_ZERO_ADJOINTS.keys())
def test_reverse_mode_through_a_value_overwritten_before_it_is_used(src, shapes):
    args = tuple(np.abs(rng.normal(size=shape)) for shape in shapes)
    np.testing.assert_allclose(derivative(src, 0, "reverse")(*args),
                               numeric_gradient(primal(src), args, 0), rtol=1e-5, atol=1e-6)


ZERO_PARTIALS = {  # a partial that is zero whatever the values: the tangent keeps its shape
    "a difference of one array": """
import numpy as np

def f(x, W):
    d = W - W
    return np.sum(x @ d) + np.sum(x * W[0])
""",
    "in a product overwritten in a loop": """
import numpy as np

def f(x, W):
    v = np.tanh(W) @ (W - W)
    for i in range(2):
        v = np.sin(v) + x
    return np.mean(v)
""",
}


@pytest.mark.parametrize("src", ZERO_PARTIALS.values(), ids=ZERO_PARTIALS.keys())
@pytest.mark.parametrize("wrt", [(0,), (1,), (0, 1)])
def test_a_partial_of_zero_leaves_a_tangent_of_the_values_shape(src, wrt):
    check_array_gradient(src, (rng.normal(size=3), rng.normal(size=(3, 3))), wrt)


ZERO_TRIPS = """
import numpy as np

def f(x, n):
    s = np.sum(x)
    for i in range(n):
        t = np.sin(x)
        s = s + t[0]
    return s
"""


@pytest.mark.parametrize("mode", MODES)
def test_an_item_of_a_value_made_in_a_loop_that_runs_no_trip(mode):
    x = rng.normal(size=3)
    got = derivative(ZERO_TRIPS, 0, mode)(x, 0)
    np.testing.assert_allclose(got, numeric_gradient(primal(ZERO_TRIPS), (x, 0), 0), rtol=1e-5,
                               atol=1e-6)


ALIASED_UPDATE = """
import numpy as np

def f(x):
    v = x
    v += np.sin(x)
    return np.sum(x * x)
"""


@pytest.mark.parametrize("mode", MODES)
def test_an_update_in_place_of_an_array_another_name_shares_is_refused(mode):
    # NumPy's v += e writes into the array v shares with x: read as v = v + e, both modes
    # gave 2 * x, a silently wrong number
    with pytest.raises(TranspileError, match=r"example.py:6:5: 'v \+= \.\.\.' is not supported"):
        derivative(ALIASED_UPDATE, 0, mode)


def test_the_tangent_of_an_array_result_that_does_not_depend_on_wrt_has_its_shape(tmp_path):
    src = "import numpy as np\n\n\ndef f(x, c):\n    y = np.sin(c)\n    return y\n"
    f = imported(src, tmp_path, "soundness_constant_result").f
    value, tangent = adt.jvp(f)(np.ones(3), np.ones(3), np.ones(3))
    np.testing.assert_array_equal(tangent, np.zeros(3))
    assert np.shape(tangent) == (3,)
