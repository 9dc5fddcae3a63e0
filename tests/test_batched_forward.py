"""Forward mode on arrays in one sweep: every tangent carries a last axis of directions, one per
element of the ``wrt`` arguments, seeded with the identity basis, so that the generated jvp runs
once per gradient instead of once per element."""

from __future__ import annotations

import runpy

import numpy as np
import pytest
from conftest import (
    ROOT,
    check_array_gradient,
    derivative,
    generated,
    imported,
    numeric_gradient,
    primal,
)

import ad_transpile as adt
from ad_transpile import api
from ad_transpile.runtime import _basis, _directions, _gradient, _gradients


def sample(name: str) -> dict:
    return runpy.run_path(str(ROOT / "samples" / f"{name}.py"))


rng = np.random.default_rng(5)
w, X, y = rng.normal(size=3), rng.normal(size=(7, 3)), rng.normal(size=7)
labels = rng.integers(2, size=7).astype(float)
W1, W2, Y = rng.normal(size=(3, 4)), rng.normal(size=(4, 3)), np.eye(3)[rng.integers(3, size=7)]
SAMPLES = [  # (sample, function, arguments, wrt)
    ("least_squares", "loss", (w, X, y), "w"),
    ("logistic_regression", "loss", (w, X, labels), "w"),
    ("two_layer_net", "loss", (W1, W2, X, Y), ("W1", "W2")),
    ("rosenbrock", "rosenbrock", (rng.normal(size=6),), "x"),
]


def test_the_seed_is_the_identity_basis_and_the_gradient_is_read_back_off_it():
    point = np.arange(6.0).reshape(2, 3)
    assert _basis(point).shape == (2, 3, 6)
    np.testing.assert_array_equal(_basis(point).reshape(6, 6), np.eye(6))
    d_a, d_s = _directions(point, 2.0)
    assert d_a.shape == (2, 3, 7) and d_s.shape == (7,) and d_s[6] == 1.0
    tangent = np.arange(7.0)
    a, s = _gradients(tangent, point, 2.0)
    np.testing.assert_array_equal(a, np.arange(6.0).reshape(2, 3))
    assert s == 6.0 and type(s) is float
    np.testing.assert_array_equal(_gradient(0.0, point), np.zeros((2, 3)))  # a constant result


@pytest.mark.parametrize(("name", "function", "args", "wrt"), SAMPLES,
                         ids=[s[0] for s in SAMPLES])
def test_the_numpy_samples_in_forward_mode_match_finite_differences(name, function, args, wrt):
    f = sample(name)[function]
    adt.check_grad(f, *args, wrt=wrt, mode="forward")
    reverse = adt.grad(f, wrt)(*args)
    forward = adt.grad(f, wrt, mode="forward")(*args)
    for r, g in zip(*(t if isinstance(wrt, tuple) else (t,) for t in (reverse, forward))):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("name", "function", "args", "wrt"), SAMPLES,
                         ids=[s[0] for s in SAMPLES])
def test_the_generated_forward_file_of_a_sample_runs_alone_in_one_sweep(
        name, function, args, wrt, at_root):
    from ad_transpile.parse import read_function
    from ad_transpile.pipeline import transpile

    text, entry = transpile(read_function(f"samples/{name}.py", function), wrt, "forward")
    derivative_code = text[text.index(f"def {function}_jvp("):]  # after the helpers
    assert "for " not in derivative_code and "raise" not in derivative_code
    namespace: dict = {}
    exec(compile(text, "generated.py", "exec"), namespace)  # no ad_transpile needed
    got = namespace[entry](*args)
    expected = adt.grad(sample(name)[function], wrt)(*args)
    for g, e in zip(*(t if isinstance(wrt, tuple) else (t,) for t in (got, expected))):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_a_gradient_is_one_call_of_the_generated_jvp(monkeypatch):
    f = sample("rosenbrock")["rosenbrock"]
    sweep = api._batched_sweep(f, 0)
    calls = []

    def counted(*args):
        calls.append(args)
        return sweep(*args)

    def per_element(*args):
        raise AssertionError("the gradient took one sweep per element")

    monkeypatch.setattr(api, "_batched_sweep", lambda f, wrt, kinds=(): counted)
    monkeypatch.setattr(api, "_forward_by_elements", per_element)
    point = np.linspace(-1.0, 1.0, 50)
    value, gradient = adt.value_and_grad(f, mode="forward")(point)
    assert len(calls) == 1 and calls[0][1].shape == (50, 50)
    assert value == f(point)
    np.testing.assert_allclose(gradient, adt.grad(f)(point), rtol=1e-12)


BROADCASTING = """
import numpy as np

def f(a, b):
    return np.sum(np.sin(a * b) + a / (2.0 + b * b))
"""


@pytest.mark.parametrize("shapes", [((3, 1), (1, 4)), ((), (3, 4)), ((3, 4), ()), ((4,), (3, 4))])
def test_broadcasting(shapes):
    draw = np.random.default_rng(1)
    args = tuple(float(draw.normal()) if s == () else draw.normal(size=s) for s in shapes)
    check_array_gradient(BROADCASTING, args, wrt=(0,))
    check_array_gradient(BROADCASTING, args, wrt=(1,))
    check_array_gradient(BROADCASTING, args, wrt=(0, 1))


def test_a_scalar_argument_through_array_intermediates():
    # A + c is an array whose tangent broadcasting leaves the size of c's: it is stretched to
    # the value's shape before it is indexed or summed
    src = """
import numpy as np

def f(c, A):
    y = A + c
    return np.sum(y[0] * y) + np.sum(A * c ** 2)
"""
    A = np.arange(6.0).reshape(2, 3)
    expected = numeric_gradient(primal(src), (0.5, A), 0)
    got = derivative(src, 0, "forward")(0.5, A)
    assert type(got) is float and got == pytest.approx(expected, rel=1e-6)
    assert "_full_tangent(d_c, y)[0]" in generated(src, 0, "forward")


def test_several_arguments_mixing_a_number_and_an_array(tmp_path):
    src = """
import numpy as np

def f(w, b, X):
    return np.mean(np.tanh(X @ w + b) ** 2) + b * np.sum(w)
"""
    args = (w, 0.3, X)
    check_array_gradient(src, args, wrt=(0, 1))
    f = imported(src, tmp_path, "batched_example").f
    d_w, d_b = adt.grad(f, wrt=("w", "b"), mode="forward")(*args)
    assert d_w.shape == (3,) and type(d_b) is float
    text = generated(src, ("w", "b"), "forward")
    assert "d_w, d_b = _directions(w, b)" in text and "_gradients(d_value, w, b)" in text


CONTROL_FLOW = {
    "a loop over an index": """
import numpy as np

def f(x):
    total = 0.0
    for i in range(len(x) - 1):
        total = total + (x[i + 1] - x[i] ** 2) ** 2
    return total
""",
    "a branch": """
import numpy as np

def f(x):
    s = np.sum(x * x)
    if s > 1.0:
        y = np.sin(x) * s
    else:
        y = x ** 3
    return np.sum(y)
""",
    "a while loop": """
import numpy as np

def f(x):
    y = x
    while np.sum(y * y) < 100.0:
        y = 1.5 * y + np.cos(y)
    return np.sum(y)
""",
    "a call to a user function": """
import numpy as np

def f(x):
    y = scaled(x, 2.0)
    return np.sum(scaled(y * x, np.sum(y)))

def scaled(v, s):
    return s * np.tanh(v)
""",
    "a loop over the rows of a constant": """
import numpy as np

def f(x):
    total = 0.0
    for row in np.eye(3):
        total = total + np.sum(row * x) ** 2
    return total
""",
}


@pytest.mark.parametrize("name", list(CONTROL_FLOW))
def test_control_flow_and_calls_carry_batched_tangents(name):
    check_array_gradient(CONTROL_FLOW[name], (np.array([0.3, -0.8, 0.5]),))


def test_an_index_held_in_a_variable_may_hold_an_ellipsis():
    src = "import numpy as np\n\ndef f(a, i):\n    return np.sum(np.sin(a[i]) * np.sum(a[0]))\n"
    a = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    for index in ((Ellipsis, 1), 2, (slice(None), slice(1, 3)), np.array([0, 2, 2])):
        expected = numeric_gradient(primal(src), (a, index), 0)
        np.testing.assert_allclose(derivative(src, 0, "forward")(a, index), expected,
                                   rtol=1e-6, atol=1e-8)
    assert "d_a[_tangent_index(i)]" in generated(src, 0, "forward")


FALLBACK = """
import numpy as np

def f(x):
    y = np.zeros(3)
    np.add.at(y, 0, x[1] * x[2])
    return np.sum(y * x)
"""


def test_an_operation_without_a_batched_rule_takes_one_sweep_per_element(tmp_path):
    # np.add.at has no batched form: the API falls back, the file refuses
    point = np.array([0.5, -1.0, 2.0])
    f = imported(FALLBACK, tmp_path, "batched_example").f
    assert api._batched_sweep(f, 0) is None
    np.testing.assert_allclose(adt.grad(f, mode="forward")(point),
                               numeric_gradient(f, (point,), 0), rtol=1e-6)
    with pytest.raises(adt.TranspileError, match="no batched tangent rule"):
        generated(FALLBACK, 0, "forward", kind="batched_jvp")
    with pytest.raises(ValueError, match="x is an array: use reverse mode or jvp"):
        derivative(FALLBACK, 0, "forward")(point)


def test_jvp_still_takes_one_tangent():
    f = sample("rosenbrock")["rosenbrock"]
    point, direction = np.linspace(-1.0, 1.0, 5), np.ones(5)
    value, product = adt.jvp(f)(point, direction)
    assert value == f(point)
    assert product == pytest.approx(np.dot(adt.grad(f)(point), direction))


# A batched file differentiated again: forward mode (a Hessian-vector product) and reverse mode
# (a vector-Hessian product, the same for a symmetric Hessian) over it, against central
# differences of the first derivative. Together the sources call every batched helper that has
# a rule of its own (rules/runtime.py): HELPERS_DIFFERENTIATED_AGAIN.
AGAIN = [
    ("import numpy as np\n\ndef f(c, A):\n    return np.sum(np.sin(A + c)) * c\n",
     (0.5, np.arange(6.0).reshape(2, 3) / 6.0)),
    ("import numpy as np\n\ndef f(a):\n    joined = np.concatenate([np.sin(a), np.ones((3, 1))], "
     "axis=-1)\n    return np.sum(np.sum(joined * joined, axis=-1) ** 2)\n",
     (np.linspace(-1.0, 1.0, 6).reshape(3, 2),)),
    ("import numpy as np\n\ndef f(a, B):\n    joined = np.concatenate([np.sin(a), B], axis=-1)\n"
     "    return np.sum(np.sum(joined * joined, axis=-1) ** 2)\n",  # B of unknown kind
     (np.linspace(-1.0, 1.0, 6).reshape(3, 2), np.ones((3, 1)))),
    ("import numpy as np\n\ndef f(a):\n    return np.sum(np.cos(np.transpose(a) * a.T))\n",
     (np.linspace(-1.0, 1.0, 6).reshape(3, 2),)),
    ("import numpy as np\n\ndef f(a, i):\n    return np.sum(np.exp(a[i])) * np.sum(a * a)\n",
     (np.linspace(-1.0, 1.0, 4), (Ellipsis, slice(1, 3)))),
    ("import numpy as np\n\ndef f(a):\n    return np.sum(np.sin(np.linalg.cholesky("
     "a + a.T + 4.0 * np.eye(3))))\n", (np.linspace(-1.0, 1.0, 9).reshape(3, 3) ** 3,)),
]
HELPERS_DIFFERENTIATED_AGAIN = {"_full_tangent", "_gradient", "_basis", "_reduced_axes",
                                "_shifted_axis", "_zero_tangent", "_transposed_axes",
                                "_tangent_index", "_symmetric_from_lower", "_lower_half"}


@pytest.mark.parametrize(("src", "args"), AGAIN,
                         ids=["full", "joined", "joined unknown", "transposed", "index",
                              "cholesky"])
def test_a_batched_file_differentiates_again(src, args):
    first_text = generated(src, 0, "forward")
    gradient = derivative(src, 0, "forward")
    direction = np.random.default_rng(3).normal(size=np.shape(args[0]))
    direction = direction if np.ndim(direction) else float(direction)
    step = 1e-6
    up, down = list(args), list(args)
    up[0], down[0] = args[0] + step * direction, args[0] - step * direction
    expected = (np.asarray(gradient(*up)) - gradient(*down)) / (2 * step)
    forward = derivative(first_text, 0, "forward", kind="jvp", name="fpr")(*args, direction)[1]
    reverse = derivative(first_text, 0, "reverse", kind="vjp", name="fpr")(*args, direction)[1]
    for got in (forward, reverse):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=first_text)


def test_the_sources_differentiated_again_call_every_batched_helper_with_a_rule():
    called = {h for src, _ in AGAIN for h in HELPERS_DIFFERENTIATED_AGAIN
              if f"{h}(" in generated(src, 0, "forward")}
    assert called == HELPERS_DIFFERENTIATED_AGAIN


def test_a_batched_file_with_a_helper_without_a_rule_is_refused_when_differentiated_again():
    src = "import numpy as np\n\ndef f(w, X):\n    return np.sum(np.tanh((w * w) @ X))\n"
    first_text = generated(src, 0, "forward")
    with pytest.raises(adt.TranspileError, match="no derivative rule for .*_matmul_tangent_a"):
        generated(first_text, 0, "forward", name="fpr")


USER_RULE = """
import numpy as np
from ad_transpile import adjoints, batched_tangents, tangents


def total(a):
    return np.sum(a)


@tangents(total)
def total_tangent(a, *, d_a):
    return np.sum(d_a)


@adjoints(total)
def total_adjoint(a, *, d_result):
    return d_result * np.ones_like(a)
{batched}

def f(x):
    return total(np.sin(x)) ** 2
"""
BATCHED_TOTAL = """

@batched_tangents(total)
def total_batched(a, *, d_a):
    return np.sum(d_a, axis=tuple(range(np.ndim(a))))
"""


@pytest.mark.parametrize("batched", ["", BATCHED_TOTAL], ids=["without", "with"])
def test_a_users_structural_rule_with_and_without_a_batched_template(batched, tmp_path):
    src = USER_RULE.format(batched=batched)
    f, point = imported(src, tmp_path, "batched_example").f, np.array([0.3, -0.2, 0.9])
    assert (api._batched_sweep(f, 0) is None) == (batched == "")
    np.testing.assert_allclose(adt.grad(f, mode="forward")(point),
                               numeric_gradient(f, (point,), 0), rtol=1e-6)
    text = generated(src, 0, "forward", name="f")
    assert ("_basis(x)" in text) == bool(batched), text
