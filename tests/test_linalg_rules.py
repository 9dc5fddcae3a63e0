"""NumPy's linear algebra (rules/linalg.py), checked against central finite differences in
reverse mode, forward mode one direction at a time, and forward mode's batched sweep.

As in test_numpy_rules.py, the function under test is ``np.sum(np.sin(<expr>))``, so that every
element of the result weighs differently in the gradient. The elements of ``a`` are drawn from
[-1, 1] and the matrices used are ``a + n * I``: strictly diagonally dominant, so invertible and
well conditioned wherever finite differences step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from conftest import check_array_gradient, check_differentiates_again, derivative, generated

from ad_transpile.registry import builtin


class Case(NamedTuple):
    expr: str
    shapes: tuple[tuple[int, ...], ...]  # one per argument: a, then b


TABLE = [
    Case("np.linalg.det(a + 2.0 * np.eye(2))", ((2, 2),)),
    Case("np.linalg.det(a + 3.0 * np.eye(3))", ((3, 3),)),
    Case("np.linalg.det(a + 4.0 * np.eye(4))", ((4, 4),)),
    Case("np.linalg.det(a + 3.0 * np.eye(3)) * b", ((3, 3), (2,))),  # a number, then broadcast
    Case("np.linalg.det(a + 3.0 * np.eye(3))", ((2, 3, 3),)),  # a stack: one per matrix
    Case("np.linalg.inv(a + 2.0 * np.eye(2))", ((2, 2),)),
    Case("np.linalg.inv(a + 3.0 * np.eye(3))", ((3, 3),)),
    Case("np.linalg.inv(a + 4.0 * np.eye(4))", ((4, 4),)),
    Case("np.linalg.inv(a @ a.T + np.eye(3))", ((3, 3),)),  # symmetric: its transposes agree
    Case("np.linalg.inv(a + 3.0 * np.eye(3))", ((2, 3, 3),)),
    Case("np.linalg.solve(a + 2.0 * np.eye(2), b)", ((2, 2), (2,))),
    Case("np.linalg.solve(a + 3.0 * np.eye(3), b)", ((3, 3), (3,))),
    Case("np.linalg.solve(a + 3.0 * np.eye(3), b)", ((3, 3), (3, 2))),
    Case("np.linalg.solve(a + 4.0 * np.eye(4), b)", ((4, 4), (4, 3))),
    Case("np.linalg.solve(a + 3.0 * np.eye(3), b)", ((2, 3, 3), (2, 3, 2))),  # stacks
    Case("np.linalg.solve(a + 3.0 * np.eye(3), b)", ((2, 3, 3), (3,))),  # b in each matrix
    Case("np.linalg.solve(a + 3.0 * np.eye(3), b)", ((2, 1, 3, 3), (4, 3, 2))),  # broadcast
    Case("np.linalg.solve(a + 3.0 * np.eye(3), b)", ((3, 3), (2, 3, 2))),
    Case("np.linalg.solve(a + 3.0 * np.eye(3), b * b)", ((3, 3), (3,))),
    # the three together: each argument reaches the result along several paths
    Case("np.linalg.solve(a + 3.0 * np.eye(3), b) * np.linalg.det(a + 3.0 * np.eye(3))",
         ((3, 3), (3,))),
    Case("np.linalg.inv(a + 3.0 * np.eye(3)) @ np.linalg.solve(a.T + 3.0 * np.eye(3), b)",
         ((3, 3), (3, 2))),
    Case("np.linalg.multi_dot([a, b])", ((2, 3), (3, 4))),
    Case("np.linalg.multi_dot([a, b, a.T])", ((2, 3), (3, 3))),  # a twice
    Case("np.linalg.multi_dot([b, a, np.ones((3, 3)), b])", ((3, 3), (3,))),  # vector ends
    Case("np.linalg.multi_dot((a, b, 2.0 * a))", ((3, 3), (3, 3))),
    Case("np.linalg.cholesky(a @ a.T + 2.0 * np.eye(2))", ((2, 2),)),
    Case("np.linalg.cholesky(a @ a.T + 3.0 * np.eye(3))", ((3, 3),)),
    Case("np.linalg.cholesky(a @ a.T + 4.0 * np.eye(4))", ((4, 4),)),
    # not symmetric: cholesky reads the lower triangle only, and the upper gets no adjoint
    Case("np.linalg.cholesky(a + 3.0 * np.eye(3))", ((3, 3),)),
    Case("np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + 3.0 * np.eye(3))", ((2, 3, 3),)),
    Case("np.linalg.cholesky(a @ a.T + 3.0 * np.eye(3)) @ b", ((3, 3), (3, 2))),
    Case("np.linalg.pinv(a + 3.0 * np.eye(3))", ((3, 3),)),  # square: the inverse
    Case("np.linalg.pinv(a + np.eye(4, 2))", ((4, 2),)),  # tall, of full rank
    Case("np.linalg.pinv(a + np.eye(2, 4))", ((2, 4),)),  # wide
    Case("np.linalg.pinv(a + np.eye(3, 2))", ((2, 3, 2),)),  # a stack
    Case("np.linalg.pinv(a + np.eye(3, 2)) @ b", ((3, 2), (3,))),
    Case("np.linalg.matrix_power(a, 0)", ((3, 3),)),
    Case("np.linalg.matrix_power(a, 1)", ((3, 3),)),
    Case("np.linalg.matrix_power(a, 3)", ((3, 3),)),
    Case("np.linalg.matrix_power(a, 4)", ((2, 3, 3),)),
    Case("np.linalg.matrix_power(a + 3.0 * np.eye(3), -2)", ((3, 3),)),  # of the inverse
    Case("np.linalg.matrix_power(a + 3.0 * np.eye(3), -1) * b", ((3, 3), (3,))),
    # distinct eigenvalues and singular values: a diagonal of 1, 2, 3, ... dominates
    Case("np.linalg.eigvalsh(a @ a.T + np.diag([1.0, 3.0]))", ((2, 2),)),
    Case("np.linalg.eigvalsh(a @ a.T + np.diag([1.0, 3.0, 5.0]))", ((3, 3),)),
    Case("np.linalg.eigvalsh(a + np.diag([1.0, 3.0, 5.0]))", ((3, 3),)),  # the lower part
    Case("np.linalg.eigvalsh(a @ np.swapaxes(a, -1, -2) + np.diag([1.0, 3.0, 5.0]))",
         ((2, 3, 3),)),
    Case("np.linalg.eigvalsh(a + a.T + np.diag([1.0, 4.0, 7.0])) * b", ((3, 3), (3,))),
    Case("np.linalg.svdvals(a + np.diag([2.0, 4.0, 6.0]))", ((3, 3),)),
    Case("np.linalg.svdvals(a + 3.0 * np.eye(4, 2))", ((4, 2),)),  # tall
    Case("np.linalg.svdvals(a + 3.0 * np.eye(2, 3))", ((2, 3),)),  # wide
    Case("np.linalg.svdvals(a + np.diag([2.0, 4.0, 6.0]))", ((2, 3, 3),)),
    # NumPy 2's array API names
    Case("np.linalg.matrix_transpose(a) * b", ((2, 3, 4), (3,))),
    Case("np.linalg.outer(a, b)", ((3,), (4,))),
    Case("np.linalg.trace(a)", ((3, 3),)),
    Case("np.linalg.trace(a, offset=1) * b", ((2, 3, 4), (2,))),
    Case("np.linalg.vecdot(a, b)", ((2, 3), (3,))),
    Case("np.linalg.vecdot(a, b, axis=0)", ((4, 3), (4, 2, 3))),
    Case("np.linalg.cross(a, b)", ((2, 3), (3,))),
    Case("np.linalg.cross(a, b, axis=0)", ((3, 3), (3, 2, 3))),
    Case("np.linalg.vecdot(a, a * a, axis=0)", ((4, 3),)),  # a in both: both operands' rules
    Case("np.linalg.cross(a, a * a)", ((2, 3),)),
    Case("np.linalg.vector_norm(a)", ((3, 4),)),  # all the elements one vector
    Case("np.linalg.vector_norm(a, ord=1, axis=(0, 2))", ((2, 3, 4),)),
    Case("np.linalg.vector_norm(a, axis=1, keepdims=True, ord=3)", ((3, 4),)),
    Case("np.linalg.vector_norm(a, ord=np.inf)", ((3, 4),)),
    Case("np.linalg.matrix_norm(a)", ((2, 3, 4),)),
    Case("np.linalg.matrix_norm(a, ord='nuc')", ((3, 4),)),
    Case("np.linalg.matrix_norm(a, ord=2, keepdims=True)", ((2, 4, 3),)),
    Case("np.linalg.matrix_norm(a, ord=-np.inf)", ((3, 4),)),
]

SEED = 20261127
LINALG = {"numpy.linalg.det", "numpy.linalg.inv", "numpy.linalg.solve",
          "numpy.linalg.multi_dot", "numpy.linalg.cholesky", "numpy.linalg.pinv",
          "numpy.linalg.matrix_power", "numpy.linalg.eigvalsh", "numpy.linalg.svdvals",
          "numpy.linalg.matrix_transpose", "numpy.linalg.outer", "numpy.linalg.trace",
          "numpy.linalg.vecdot", "numpy.linalg.cross", "numpy.linalg.vector_norm",
          "numpy.linalg.matrix_norm"}
# the runtime's helpers that only these rules' gradients call, differentiated again below
HELPERS = {"ad_transpile.runtime._multi_dot_adjoint", "ad_transpile.runtime._lower_half",
           "ad_transpile.runtime._lower_of_symmetric", "ad_transpile.runtime._block_upper",
           "ad_transpile.runtime._upper_right", "ad_transpile.runtime._eigenvectors",
           "ad_transpile.runtime._svdvals_adjoint", "ad_transpile.runtime._vecdot_adjoint",
           "ad_transpile.runtime._cross_adjoint", "ad_transpile.runtime._vector_norm_partial",
           "ad_transpile.runtime._diagonal_blocks"}  # only in reverse mode over a gradient

CASES = [pytest.param(case, id=f"{case.expr} {case.shapes}",
                      marks=pytest.mark.xdist_group(f"linalg {case.expr} {case.shapes}"))
         for case in TABLE]


def source(case: Case) -> str:
    params = ", ".join("ab"[: len(case.shapes)])
    return f"import numpy as np\n\n\ndef f({params}):\n    return np.sum(np.sin({case.expr}))\n"


def arguments(case: Case) -> tuple:
    rng = np.random.default_rng(SEED)
    return tuple(rng.uniform(-1.0, 1.0, size=shape) for shape in case.shapes)


@pytest.mark.parametrize("case", CASES)
def test_every_argument_matches_finite_differences(case):
    args = arguments(case)
    wrt = tuple(range(len(case.shapes)))
    for i in wrt:
        check_array_gradient(source(case), args, wrt=(i,))
    if len(wrt) > 1:
        check_array_gradient(source(case), args, wrt=wrt)


@pytest.mark.parametrize("case", CASES)
def test_the_gradient_differentiates_again(case):
    """Forward mode over the generated gradient (a Hessian-vector product) agrees with central
    differences of the gradient along the same direction."""
    args = arguments(case)
    for i in range(len(case.shapes)):
        check_differentiates_again(source(case), args, i, SEED + 1)


# reverse mode over the gradient too (a vector-Hessian product, the Hessian-vector product for
# a symmetric Hessian): the adjoints of the helpers the gradients call
TWICE_IN_REVERSE = [case for case in TABLE if any(
    name in case.expr for name in ("matrix_power(a, 3)", "cholesky(a + ", "eigvalsh(a + a.T",
                                         "svdvals(a + 3.0 * np.eye(4, 2)", "a, a * a",
                                         "multi_dot([a, b, a.T]", "matrix_norm(a, ord='nuc'",
                                         "vector_norm(a, axis=1"))]


@pytest.mark.parametrize("case", TWICE_IN_REVERSE, ids=[c.expr for c in TWICE_IN_REVERSE])
def test_the_gradient_differentiates_again_in_reverse_mode(case):
    args = arguments(case)
    first_text = generated(source(case), 0)
    gradient = derivative(source(case), 0)
    product = derivative(first_text, 0, "reverse", kind="vjp", name="fpr")
    direction = np.random.default_rng(SEED + 2).normal(size=np.shape(args[0]))
    up, down = list(args), list(args)
    up[0], down[0] = args[0] + 1e-6 * direction, args[0] - 1e-6 * direction
    np.testing.assert_allclose(product(*args, direction)[1],
                               (gradient(*up) - gradient(*down)) / 2e-6, rtol=1e-5, atol=1e-5,
                               err_msg=generated(first_text, 0, "reverse", kind="vjp", name="fpr"))
    assert "_diagonal_blocks(" in generated(first_text, 0, "reverse", kind="vjp", name="fpr") \
        or "matrix_power" not in case.expr


def test_the_table_covers_every_linalg_rule():
    """Every rule of rules/linalg.py is checked above, with a vector and a matrix for solve's b."""
    rules = builtin().rules.items()
    structural = {name for (name, _), rule in rules if rule.structural}
    assert LINALG <= structural
    used = {name for name in LINALG for case in TABLE
            if name.replace("numpy.", "np.") + "(" in case.expr}
    assert used == LINALG
    b_dims = {len(case.shapes[1]) for case in TABLE if "solve" in case.expr}
    assert {1, 2} <= b_dims
    assert HELPERS <= structural
    gradients = "".join(generated(source(case), 0) for case in TABLE)
    gradients += "".join(generated(generated(source(case), 0), 0, "reverse", kind="vjp",
                                   name="fpr") for case in TWICE_IN_REVERSE)
    assert {h for h in HELPERS if h.rpartition(".")[2] + "(" in gradients} == HELPERS
