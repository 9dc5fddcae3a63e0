"""The public API on NumPy code: gradients shaped like their arguments, jvp and vjp of functions
that return arrays, Hessians of array arguments, and the errors that refuse what is unsupported.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import check_rejects, derivative, generated, imported

import ad_transpile as adt


def softplus_energy(x, W):
    return np.sum(np.logaddexp(0.0, W @ x)) + 0.5 * np.sum(x ** 2)


def elementwise(x, y):
    return np.sin(x) * y + x ** 2


def layer(W, x):
    return np.tanh(W @ x)


RNG = np.random.default_rng(7)
X = RNG.normal(size=4)
W = RNG.normal(size=(3, 4))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_grad_of_an_array_argument_has_its_shape_in_both_modes(mode):
    for wrt, point in ((0, X), (1, W)):
        gradient = adt.grad(softplus_energy, wrt, mode=mode)(X, W)
        assert gradient.shape == point.shape
        adt.check_grad(softplus_energy, X, W, wrt=wrt, mode=mode)



@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_float32_arrays_get_float32_gradients(mode):
    single = adt.grad(softplus_energy, (0, 1), mode=mode)(X.astype(np.float32),
                                                           W.astype(np.float32))
    double = adt.grad(softplus_energy, (0, 1), mode=mode)(X, W)
    for s, d in zip(single, double):
        assert s.dtype == np.float32
        np.testing.assert_allclose(s, d, rtol=1e-5, atol=1e-5)

def test_forward_and_reverse_give_the_same_numbers():
    forward = adt.grad(softplus_energy, (0, 1), mode="forward")(X, W)
    reverse = adt.grad(softplus_energy, (0, 1))(X, W)
    for f, r in zip(forward, reverse):
        np.testing.assert_allclose(f, r, rtol=1e-12, atol=1e-12)


def test_value_and_grad_in_forward_mode_returns_the_value_too():
    value, gradient = adt.value_and_grad(softplus_energy, mode="forward")(X, W)
    assert value == pytest.approx(softplus_energy(X, W))
    np.testing.assert_allclose(gradient, adt.grad(softplus_energy)(X, W), rtol=1e-12)


def test_jvp_of_a_function_returning_an_array_is_one_directional_derivative():
    direction = RNG.normal(size=4)
    value, tangent = adt.jvp(layer, 1)(W, X, direction)
    np.testing.assert_allclose(value, layer(W, X))
    step = 1e-6
    numeric = (layer(W, X + step * direction) - layer(W, X - step * direction)) / (2 * step)
    np.testing.assert_allclose(tangent, numeric, rtol=1e-6, atol=1e-8)


def test_vjp_of_a_function_returning_an_array_pulls_a_cotangent_back():
    cotangent = RNG.normal(size=3)
    value, pulled = adt.vjp(layer, 0)(W, X, cotangent)
    np.testing.assert_allclose(value, layer(W, X))
    expected = np.outer((1.0 - np.tanh(W @ X) ** 2) * cotangent, X)  # by hand: d tanh, outer
    np.testing.assert_allclose(pulled, expected, rtol=1e-12)


def test_vjp_leaves_the_callers_cotangent_alone():
    cotangent = np.array([1.0, 2.0, 3.0, 4.0])
    before = cotangent.copy()
    adt.vjp(elementwise, 0)(X, X, cotangent)
    np.testing.assert_array_equal(cotangent, before)


def test_hessian_of_an_array_argument_is_n_by_n():
    def quadratic(x, A):
        return 0.5 * x @ (A @ x)

    A = RNG.normal(size=(4, 4))
    np.testing.assert_allclose(adt.hessian(quadratic)(X, A), (A + A.T) / 2, atol=1e-12)


def test_hvp_of_a_network_loss_matches_differences_of_its_gradient():
    direction = RNG.normal(size=(3, 4))
    product = adt.hvp(softplus_energy, 1)(X, W, direction)
    gradient, step = adt.grad(softplus_energy, 1), 1e-6
    numeric = (gradient(X, W + step * direction) - gradient(X, W - step * direction)) / (2 * step)
    np.testing.assert_allclose(product, numeric, rtol=1e-5, atol=1e-7)


def test_a_guard_that_raises_is_kept_in_the_derivative():
    src = """
import numpy as np

def f(x):
    if np.any(x < 0.0):
        raise ValueError("x must not be negative")
    return np.sum(np.sqrt(x))
"""
    assert 'raise ValueError("x must not be negative")' in generated(src)
    gradient = derivative(src)
    np.testing.assert_allclose(gradient(np.array([1.0, 4.0])), [0.5, 0.25])
    with pytest.raises(ValueError, match="must not be negative"):
        gradient(np.array([-1.0, 4.0]))


def test_adding_into_an_array_in_place_works_in_both_modes():
    # writes into arrays in general: tests/test_array_writes.py
    src = ("import numpy as np\n\ndef f(x):\n    y = np.zeros(3)\n    y[1:] += x\n"
           "    return np.sum(y * y)\n")
    np.testing.assert_allclose(derivative(src, 0)(np.array([1.0, 2.0])), [2.0, 4.0])
    forward = derivative(src, 0, "forward", kind="jvp")
    value, tangent = forward(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    assert (value, tangent) == (5.0, 2.0)


def test_a_list_of_values_that_depend_on_wrt_is_refused():
    check_rejects(
        "import numpy as np\n\ndef f(x):\n    return np.sum([x, 2.0 * x])\n",
        r"example.py:4:19: a tuple or list of values that depend on wrt, passed to a function",
    )


def test_an_option_a_rule_cannot_honour_is_refused():
    check_rejects(
        "import numpy as np\n\ndef f(x):\n    return np.linalg.trace(x, dtype=float)\n",
        r"example.py:4:12: the option 'dtype' of 'numpy.linalg.trace' is not supported",
    )


def test_a_users_structural_rule_is_used(tmp_path):
    """A rule for an operation of one's own that is not elementwise: a tangent and an adjoint."""
    module = imported('''
import numpy as np
from ad_transpile import adjoints, tangents


def running_total(x):
    return np.cumsum(x)


@tangents(running_total)
def running_total_tangent(x, *, d_x):
    return np.cumsum(d_x)


@adjoints(running_total)
def running_total_adjoint(x, *, d_result):
    return np.cumsum(d_result[::-1])[::-1]


def loss(x):
    return np.sum(running_total(x) ** 2)
''', tmp_path, "cumulative")
    text = adt.source(module.loss)
    assert "return np.cumsum((2.0 * running_total_x)[::-1])[::-1]" in text
    for mode in ("reverse", "forward"):
        adt.check_grad(module.loss, np.array([0.5, -1.0, 2.0]), mode=mode)
