"""Rules at the points where they used to give a wrong number or crash: arrays built from
numbers, zeros in products and powers, ties and zero spreads, arguments a rule declared
nondifferentiable though they carry a derivative, and products of every shape NumPy takes.

Each case is checked against central finite differences in both modes (reverse, forward one
direction at a time, forward batched), or, where the derivative does not exist, against the
convention the README states ("Conventions at non-differentiable points"), or it must be
refused with its location.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import MODES, check_array_gradient, check_gradient, check_rejects, derivative


def numpy_source(expr: str, params: str = "a, b") -> str:
    return f"import math\nimport numpy as np\n\n\ndef f({params}):\n    return {expr}\n"


def drawn(shapes, seed=7, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    return tuple(float(x) if x.shape == () else x
                 for x in (rng.uniform(low, high, size=s) for s in shapes))


# item 3: np.array of numbers that depend on wrt (math.cos and math.sin of one angle)
ROTATION = """
import math
import numpy as np


def f(theta):
    c = math.cos(theta)
    s = math.sin(theta)
    R = np.array([[c, -s], [s, c]])
    return np.sum(R @ np.array([1.0, 2.0]) * np.array([3.0, 5.0]))
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_rotation_matrix_built_from_numbers_has_the_derivative_of_its_angle(mode):
    theta = 0.7
    # d/dtheta of 3 (c - 2 s) + 5 (s + 2 c), by hand
    expected = 3.0 * (-np.sin(theta) - 2.0 * np.cos(theta)) + 5.0 * (
        np.cos(theta) - 2.0 * np.sin(theta))
    assert derivative(ROTATION, 0, mode)(theta) == pytest.approx(expected, rel=1e-12)


NESTED = [
    ("np.sum(np.array([[a, b], [b * a, 1.0]]) ** 2)", ((), ())),
    ("np.sum(np.sin(np.array([[a, b], [b, a]])))", ((3,), (3,))),
    ("np.sum(np.array([(a, 2.0 * a), (b, a)]) * np.arange(4.0).reshape(2, 2))", ((), ())),
]


@pytest.mark.parametrize(("expr", "shapes"), NESTED)
def test_np_array_of_nested_lists_matches_finite_differences(expr, shapes):
    check_array_gradient(numpy_source(expr), drawn(shapes), wrt=(0, 1))


def test_a_nested_sequence_a_join_does_not_read_is_refused():
    check_rejects(numpy_source("np.sum(np.stack([[a, b], [b, a]]))"), "nested sequence")


def test_np_r_of_values_that_depend_on_wrt_is_refused():
    check_rejects(numpy_source("np.sum(np.r_[a, 2.0 * a])", "a"), "np.r_")


# item 4: a zero in a product
PRODUCTS = [
    ("np.prod(a)", [0.0, 2.0, 3.0]),
    ("np.prod(a)", [0.0, 0.0, 3.0]),
    ("np.sum(np.prod(a, axis=0) * np.array([1.0, 2.0]))", [[0.0, 2.0], [3.0, 0.0], [0.5, 4.0]]),
    ("np.sum(np.prod(a, axis=1, keepdims=True) ** 2)", [[0.0, 2.0, 1.5], [3.0, 0.0, 0.0]]),
    ("np.sum(np.prod(a, axis=(0, 2)))", np.arange(12.0).reshape(2, 3, 2) - 4.0),
]


@pytest.mark.parametrize(("expr", "point"), PRODUCTS)
def test_a_product_with_a_zero_matches_finite_differences(expr, point):
    check_array_gradient(numpy_source(expr, "a"), (np.array(point, dtype=float),))


@pytest.mark.parametrize("mode", MODES)
def test_the_gradient_of_a_product_with_one_zero_is_the_product_of_the_others(mode):
    got = derivative(numpy_source("np.prod(a)", "a"), 0, mode)(np.array([0.0, 2.0, 3.0]))
    np.testing.assert_array_equal(got, [6.0, 0.0, 0.0])


def test_the_second_derivative_of_a_product_with_zeros_matches_finite_differences():
    src = numpy_source("np.prod(a)", "a")
    point = np.array([0.0, 2.0, 0.0, 1.5])
    gradient = derivative(src, 0)
    hessian_vector = derivative(derivative_text(src), 0, "forward", kind="jvp", name="fpr")
    direction = np.array([0.3, -1.0, 0.7, 0.2])
    step = 1e-6
    expected = (gradient(point + step * direction) - gradient(point - step * direction)) / (
        2 * step)
    np.testing.assert_allclose(hessian_vector(point, direction)[1], expected, atol=1e-8)


def derivative_text(src: str) -> str:
    from conftest import generated

    return generated(src, 0)


# item 9: arguments declared nondifferentiable that carry a derivative
MADE_FROM_NUMBERS = [
    ("np.sum(np.linspace(a, b, 5) ** 2)", ((), ())),
    ("np.sum(np.sin(np.linspace(a, b, 4, endpoint=False)))", ((2,), ())),
    ("np.sum(np.full((2, 3), a) * np.arange(6.0).reshape(2, 3)) * b", ((), ())),
    ("np.sum(np.full_like(b, a) ** 2 * b)", ((3,), (2, 3))),
    ("np.sum(np.where(a > 0.0, a * b, b ** 2))", ((4,), (4,))),
    ("np.sum(np.clip(a, b, 0.5))", ((4,), ())),
]


@pytest.mark.parametrize(("expr", "shapes"), MADE_FROM_NUMBERS)
def test_arrays_made_from_numbers_carry_their_derivative(expr, shapes):
    check_array_gradient(numpy_source(expr), drawn(shapes, low=-0.9, high=0.9), wrt=(0, 1))


@pytest.mark.parametrize(("expr", "match"), [
    ("np.sum(np.einsum(a, (0, 1), (1, 0)))", "argument 'subscripts'"),
    ("np.sum(np.arange(a, a + 3.0))", "numpy.arange"),
])
def test_an_argument_without_a_rule_that_depends_on_wrt_is_refused(expr, match):
    check_rejects(numpy_source(expr, "a"), match)


# item 10: ties and zeros, the convention of the README
TIES = [  # (expression, point, expected gradient: split evenly among tied values)
    ("max(a, b)", (1.5, 1.5), (0.5, 0.5)),
    ("min(a, b)", (-0.5, -0.5), (0.5, 0.5)),
    ("abs(a) + 0.0 * b", (0.0, 1.0), (0.0, 0.0)),
    ("math.fabs(a) + 0.0 * b", (0.0, 1.0), (0.0, 0.0)),
    ("math.hypot(a, b)", (0.0, 0.0), (0.0, 0.0)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("expr", "point", "expected"), TIES)
def test_a_tie_between_numbers_splits_the_derivative(expr, point, expected, mode):
    assert derivative(numpy_source(expr), (0, 1), mode)(*point) == expected


ARRAY_TIES = [
    ("np.sum(np.maximum(a, b))", ([1.0, 2.0], [1.0, 0.0]), ([0.5, 1.0], [0.5, 0.0])),
    ("np.sum(np.minimum(a, b))", ([1.0, 2.0], [1.0, 0.0]), ([0.5, 0.0], [0.5, 1.0])),
    ("np.max(a) + 0.0 * np.sum(b)", ([3.0, 1.0, 3.0, 3.0], [0.0]),
     ([1 / 3, 0.0, 1 / 3, 1 / 3], [0.0])),
    ("np.sum(np.amin(a, axis=0)) + 0.0 * np.sum(b)", ([[1.0, 2.0], [1.0, 0.0]], [0.0]),
     ([[0.5, 0.0], [0.5, 1.0]], [0.0])),
    ("np.sum(np.abs(a)) + 0.0 * np.sum(b)", ([0.0, -2.0], [0.0]), ([0.0, -1.0], [0.0])),
    ("np.std(a) + 0.0 * np.sum(b)", ([2.0, 2.0, 2.0], [0.0]), ([0.0, 0.0, 0.0], [0.0])),
    ("np.sum(np.std(a, axis=1)) + 0.0 * np.sum(b)", ([[1.0, 1.0], [0.0, 2.0]], [0.0]),
     ([[0.0, 0.0], [-0.5, 0.5]], [0.0])),
    ("np.linalg.norm(a) + 0.0 * np.sum(b)", ([0.0, 0.0], [0.0]), ([0.0, 0.0], [0.0])),
    ("np.sum(np.hypot(a, b))", ([0.0, 3.0], [0.0, 4.0]), ([0.0, 0.6], [0.0, 0.8])),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("expr", "point", "expected"), ARRAY_TIES)
def test_ties_and_zero_spreads_in_arrays_follow_the_convention(expr, point, expected, mode):
    args = tuple(np.array(p) for p in point)
    gradient = derivative(numpy_source(expr), (0, 1), mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no 0 / 0 on the way
        got = gradient(*args)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)


def test_the_tie_convention_is_autograds():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    for expr, point, _ in ARRAY_TIES[:2]:  # np.maximum and np.minimum, as autograd sees them
        args = tuple(np.array(p) for p in point)
        fn = eval("lambda a, b: " + expr.replace("np.", "anp."), {"anp": anp})
        ours = derivative(numpy_source(expr), (0, 1))(*args)
        theirs = [autograd.grad(fn, i)(*args) for i in range(2)]
        for g, e in zip(ours, theirs):
            np.testing.assert_allclose(g, e)
    args = (np.array([3.0, 1.0, 3.0, 3.0]),)
    np.testing.assert_allclose(derivative(numpy_source("np.max(a)", "a"))(*args),
                               autograd.grad(anp.max)(*args))
    np.testing.assert_allclose(derivative(numpy_source("np.sum(np.abs(a))", "a"))(*args[:1]),
                               autograd.grad(lambda a: anp.sum(anp.abs(a)))(*args))


# item 12: powers at a base of 0 (and below)
POWERS_AT_ZERO = ["a ** b", "pow(a, b)", "math.pow(a, b)"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("expr", POWERS_AT_ZERO)
def test_a_power_of_zero_has_derivative_zero_along_the_exponent(expr, mode):
    assert derivative(numpy_source(expr), 1, mode)(0.0, 2.5) == 0.0
    assert derivative(numpy_source(expr), (0, 1), mode)(0.0, 2.0) == (0.0, 0.0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("expr", ["np.sum(a ** b)", "np.sum(np.power(a, b))"])
def test_an_array_power_of_zero_has_derivative_zero_along_the_exponent(expr, mode):
    got = derivative(numpy_source(expr), (0, 1), mode)(np.array([0.0, 2.0]),
                                                        np.array([2.0, 3.0]))
    np.testing.assert_allclose(got[0], [0.0, 12.0])
    np.testing.assert_allclose(got[1], [0.0, 8.0 * np.log(2.0)])


@pytest.mark.parametrize("mode", MODES)
def test_a_negative_base_has_no_derivative_along_the_exponent(mode):
    # (-2) ** y is real only at whole y: nan, as JAX and autograd give, not a math domain error
    assert np.isnan(derivative(numpy_source("a ** b"), 1, mode)(-2.0, 2.0))
    assert derivative(numpy_source("a ** b"), 0, mode)(-2.0, 2.0) == -4.0


@pytest.mark.parametrize("expr", ["a ** b", "np.power(a, b)"])
def test_array_powers_match_finite_differences(expr):
    check_array_gradient(numpy_source(f"np.sum({expr})"), drawn(((3, 2), (2,)), low=0.3),
                         wrt=(0, 1))


def test_a_power_of_numbers_matches_finite_differences():
    check_gradient(numpy_source("a ** b"), (0.7, -1.3), wrt=(0, 1))


# the crash list: products of every shape combination NumPy accepts
PRODUCT_SHAPES = [
    ("np.dot(a, b)", [((), (3,)), ((3,), ()), ((), ()), ((3,), (3,)), ((2, 3), (3,)),
                      ((3,), (3, 2)), ((2, 3), (3, 4)), ((2, 3, 4), (4,)), ((2, 3, 4), (4, 5)),
                      ((4,), (2, 4, 3)), ((2, 3, 4), (5, 4, 2)), ((2, 3), ()), ((), (2, 3))]),
    ("a @ b", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
               ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
               ((5, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 2)), ((5, 2, 3), (3,))]),
    ("np.matmul(a, b)", [((3,), (5, 3, 2)), ((2, 1, 2, 3), (4, 3, 2))]),
    ("np.inner(a, b)", [((), (3,)), ((3,), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)),
                        ((2, 3), (4, 3)), ((2, 3, 4), (5, 4)), ((2, 4), (3, 5, 4))]),
    ("np.outer(a, b)", [((3,), (4,)), ((), (4,)), ((2, 3), (4,)), ((2, 3), (2, 2))]),
    ("np.tensordot(a, b)", [((2, 3, 4), (3, 4, 2)), ((3, 2), (3, 2))]),
    ("np.tensordot(a, b, axes=1)", [((2, 3), (3, 4)), ((3,), (3, 2))]),
    ("np.tensordot(a, b, axes=0)", [((2,), (3,)), ((), (2, 2))]),
    ("np.tensordot(a, b, axes=([1, 0], [0, 2]))", [((3, 2, 4), (2, 5, 3))]),
    ("np.einsum('ii', a)", [((3, 3),)]),
    ("np.einsum('ii->i', a)", [((3, 3),)]),
    ("np.einsum('iji->j', a)", [((3, 2, 3),)]),
    ("np.einsum('ii,ij->j', a, b)", [((3, 3), (3, 2))]),
    ("np.einsum('...ij,...jk->...ik', a, b)", [((5, 2, 3), (5, 3, 4)), ((2, 3), (3, 4))]),
    ("np.einsum('...i,...i', a, b)", [((2, 3), (2, 3)), ((1, 3), (4, 3)), ((3,), (2, 3))]),
    ("np.einsum('i...->...', a)", [((3, 2, 2),)]),
    ("np.einsum('ij,ij->i', a, b)", [((1, 3), (4, 3))]),
]
SHAPE_CASES = [(expr, shapes) for expr, table in PRODUCT_SHAPES for shapes in table]


@pytest.mark.parametrize(("expr", "shapes"), SHAPE_CASES, ids=[f"{e} {s}" for e, s in SHAPE_CASES])
def test_products_of_every_shape_match_finite_differences(expr, shapes):
    params = ", ".join("ab"[:len(shapes)])
    src = numpy_source(f"np.sum(np.sin({expr}))", params)
    check_array_gradient(src, drawn(shapes), wrt=tuple(range(len(shapes))))


def test_a_transpose_with_axes_counted_from_the_end_matches_finite_differences():
    # (2, 2, 2): a wrong inverse permutation would keep the shape and give wrong numbers
    src = numpy_source("np.sum(np.transpose(a, (-1, 0, 1)) * np.arange(8.0).reshape(2, 2, 2))",
                       "a")
    check_array_gradient(src, drawn(((2, 2, 2),)))


def test_einsum_of_more_operands_than_its_rule_is_written_for_is_refused():
    """Three to eight have a rule (tests/test_numpy_rules.py); nine do not."""
    operands = ", ".join(["a", "b"] * 4 + ["a"])
    check_rejects(numpy_source(f"np.sum(np.einsum('ij,jk,kl,lm,mn,no,op,pq,qr->ir', "
                               f"{operands}))"),
                  r"calling 'numpy.einsum' with 10 argument\(s\) is not supported")


# found while merging the array writes: np.array of an array's name crashed in reverse mode
# (its adjoint named a position in a literal list that is not there)
@pytest.mark.parametrize("x", [np.array([0.3, -0.7, 1.1]), np.array([[0.3, -0.7], [1.1, 0.2]])])
def test_np_array_of_an_array_name_passes_the_whole_adjoint_back(x):
    src = "import numpy as np\n\ndef f(x):\n    y = np.array(x)\n    return np.sum(y * y * x)\n"
    check_array_gradient(src, (x,))
