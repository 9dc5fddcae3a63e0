"""Reverse mode on arrays of known shapes writes plain NumPy: no helper copied into the file.

The API knows the shapes of a call's arrays (which axes have length 1), so the derivative it
makes for them reads ``X.T @ d_z`` and ``np.sum(d, axis=0)`` where the generic file reads
``_matmul_adjoint_b(d_z, X, w)`` and ``_unbroadcast(d, b)``. Every derivative here is checked
against central finite differences in both modes, through the API and through a file made with
the kinds given (``--arg X=ndarray[n, m]``).
"""

from __future__ import annotations

import dataclasses
import inspect
import runpy
import sys
import textwrap

import numpy as np
import pytest
from conftest import ROOT, numeric_gradient, run
from golden_cases import SHAPED_SAMPLES, generate_shaped, shaped_path

import ad_transpile as adt
from ad_transpile import api
from ad_transpile.kinds import kind_of_value, parse_kind
from ad_transpile.load import load
from ad_transpile.parse import function_in_text
from ad_transpile.pipeline import transpile

sys.path.insert(0, str(ROOT / "samples"))

import least_squares  # noqa: E402
import logistic_regression  # noqa: E402
import rosenbrock  # noqa: E402
import two_layer_net  # noqa: E402


def source_for_call(f, wrt, *args, mode="reverse") -> str:
    """The derivative module ``adt.grad(f, wrt, mode=mode)`` makes for a call with ``args``."""
    params = list(inspect.signature(f).parameters)
    given = tuple(zip(params, map(kind_of_value, args)))
    return api._transpiled(f, api._hashable(wrt), mode, "grad", given)[0]


def assert_gradient(f, wrt, args, modes=("reverse", "forward")) -> None:
    """``adt.grad`` in each mode agrees with central differences along each of ``wrt``."""
    params = list(inspect.signature(f).parameters)
    names = wrt if isinstance(wrt, tuple) else (wrt,)
    positions = [n if isinstance(n, int) else params.index(n) for n in names]
    expected = [numeric_gradient(f, args, i) for i in positions]
    for mode in modes:
        got = adt.grad(f, wrt, mode=mode)(*args)  # one wrapper per call: made for args' kinds
        got = got if isinstance(wrt, tuple) else (got,)
        for g, e in zip(got, expected):
            assert np.shape(g) == np.shape(e), (mode, np.shape(g), np.shape(e))
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6, err_msg=mode)


rng = np.random.default_rng(14)


def normal(*shape):
    return rng.normal(size=shape)


# the samples: the derivative made for real arrays copies no helper

SAMPLES = [
    (two_layer_net.loss, ("W1", "W2"),
     lambda n, d, h, c: (normal(d, h), normal(h, c), normal(n, d), np.eye(c)[rng.integers(c,
                                                                                       size=n)])),
    (logistic_regression.loss, 0, lambda n, d, h, c: (normal(d), normal(n, d),
                                                      (rng.random(n) < 0.5).astype(float))),
    (least_squares.loss, 0, lambda n, d, h, c: (normal(d), normal(n, d), normal(n))),
    (rosenbrock.rosenbrock, 0, lambda n, d, h, c: (normal(d),)),
]
SIZES = [(5, 4, 3, 2), (7, 2, 5, 3), (3, 6, 2, 4)]


@pytest.mark.parametrize("f, wrt, point", SAMPLES, ids=lambda x: getattr(x, "__module__", ""))
def test_a_sample_on_real_arrays_has_no_helper(f, wrt, point):
    text = source_for_call(f, wrt, *point(*SIZES[0]))
    assert "def _" not in text, text


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("f, wrt, point", SAMPLES, ids=lambda x: getattr(x, "__module__", ""))
def test_a_sample_on_real_arrays_matches_finite_differences(f, wrt, point, sizes):
    assert_gradient(f, wrt, point(*sizes))


def test_the_two_layer_net_reads_as_written_by_hand():
    text = source_for_call(two_layer_net.loss, ("W1", "W2"), *SAMPLES[0][2](*SIZES[0]))
    assert "d_W1 = X.T @ ((1.0 - hidden * hidden) * (d_logits @ W2.T))" in text
    assert "hidden.T @ d_logits" in text
    assert "Y * (-1.0 / len(X))" in text  # the mean's adjoint: no array made for it
    assert "d_log_norm = np.sum(-" in text and ", axis=1, keepdims=True)" in text


def test_logistic_regression_reads_as_written_by_hand():
    text = source_for_call(logistic_regression.loss, 0, *SAMPLES[1][2](*SIZES[0]))
    body = text[text.index("def loss_pr"):]
    assert "return X.T @ d_z" in body
    assert "1.0 / len(X)" in body and "y_z" not in body  # nothing computed for its shape


# broadcasting: the axes NumPy stretched are summed, and only those

BROADCASTING = textwrap.dedent("""\
    import numpy as np


    def against_a_column(a, b):
        return np.sum(np.sin(a * b))


    def against_a_row(a, b):
        return np.sum(np.tanh(a - b) ** 2)


    def against_a_number(a, s):
        return np.sum(np.exp(0.1 * a * s))


    def vector_and_matrix(v, M):
        return np.sum(np.cos(M + v))


    def matrix_vector(M, v):
        return np.sum(np.sin(M @ v))


    def vector_matrix(v, M):
        return np.sum(np.sin(v @ M))


    def vectors(u, v):
        return np.sin(u @ v)


    def keepdims(M):
        centred = M - np.mean(M, axis=1, keepdims=True)
        return np.sum(centred ** 2 / np.sum(M ** 2, axis=0, keepdims=True))


    def column_of_a_vector(u, v):
        return np.sum(np.cos(u[:, None] * v))


    def softmax_row_max(M):
        return np.sum(np.max(M, axis=1, keepdims=True) * M)


    def product(w, x):
        return np.sum(w * x)


    def against_a_view(w, X):
        return np.sum(w * X.T)


    def summed(w, x):
        return np.sum(w + x)


    def dot_and_variance(u, v):
        return np.dot(u, v) + np.var(u)


    def spreads(M):
        return np.sum(np.mean(M, axis=0) ** 2) + np.sum(M * np.std(M, axis=1, keepdims=True))


    def dot_of_matrices(A, B):
        return np.sum(np.tanh(np.dot(A, B)))


    def variance_and_a_write(x, A, n):
        v = np.var(A) / 2.0
        y = x * 1.0
        y[0] += v
        return v + A[1, -1] + np.sum(y) * n
""")

CASES = [  # function, wrt, argument shapes
    ("against_a_column", (0, 1), [(4, 3), (4, 1)]),
    ("against_a_column", (0, 1), [(4, 1), (1, 3)]),
    ("against_a_row", (0, 1), [(4, 3), (1, 3)]),
    ("against_a_row", (0, 1), [(4, 3), (3,)]),
    ("against_a_row", (0, 1), [(1, 3), (4, 1)]),
    ("against_a_number", (0, 1), [(4, 3), ()]),
    ("against_a_number", (0, 1), [(1,), ()]),
    ("vector_and_matrix", (0, 1), [(3,), (4, 3)]),
    ("vector_and_matrix", (0, 1), [(1,), (4, 3)]),
    ("vector_and_matrix", (0, 1), [(3,), (4, 1)]),
    ("matrix_vector", (0, 1), [(4, 3), (3,)]),
    ("matrix_vector", (0, 1), [(1, 3), (3,)]),
    ("vector_matrix", (0, 1), [(4,), (4, 3)]),
    ("vector_matrix", (0, 1), [(4,), (4, 1)]),
    ("vectors", (0, 1), [(5,), (5,)]),
    ("keepdims", 0, [(4, 3)]),
    ("keepdims", 0, [(1, 3)]),
    ("keepdims", 0, [(4, 1)]),
    ("column_of_a_vector", (0, 1), [(4,), (3,)]),
    ("softmax_row_max", 0, [(4, 3)]),
    ("dot_and_variance", (0, 1), [(4,), (4,)]),
    ("spreads", 0, [(4, 3)]),
    ("spreads", 0, [(1, 3)]),
    ("dot_of_matrices", (0, 1), [(4, 3), (3, 2)]),
    ("dot_of_matrices", (0, 1), [(4, 3), (3,)]),
    ("variance_and_a_write", 1, [(3,), (2, 3), ()]),
]


@pytest.fixture(scope="module")
def broadcasting(tmp_path_factory):
    folder = tmp_path_factory.mktemp("broadcasting")
    (folder / "broadcasting_cases.py").write_text(BROADCASTING)
    sys.path.insert(0, str(folder))
    import broadcasting_cases
    return broadcasting_cases


def point(shapes):
    return tuple(float(rng.normal()) if shape == () else normal(*shape) for shape in shapes)


@pytest.mark.parametrize("name, wrt, shapes", CASES)
def test_broadcasting_matches_finite_differences(broadcasting, name, wrt, shapes):
    assert_gradient(getattr(broadcasting, name), wrt, point(shapes))


@pytest.mark.parametrize("name, wrt, shapes", CASES)
def test_broadcasting_of_known_shapes_copies_no_helper(broadcasting, name, wrt, shapes):
    text = source_for_call(getattr(broadcasting, name), wrt, *point(shapes))
    assert "def _" not in text, text


@pytest.mark.parametrize("name, wrt, shapes, expected", [
    ("against_a_column", (0, 1), [(4, 3), (4, 1)], "np.sum(a * d_a_b, axis=1, keepdims=True)"),
    ("against_a_row", (0, 1), [(4, 3), (3,)], "np.sum("),
    ("against_a_number", (0, 1), [(4, 3), ()], "np.sum("),
    ("vector_and_matrix", (0, 1), [(3,), (4, 3)], "axis=0"),
    ("matrix_vector", (0, 1), [(4, 3), (3,)], "np.outer("),
    ("vector_matrix", (0, 1), [(4,), (4, 3)], "np.outer("),
])
def test_the_stretched_axes_are_summed_in_plain_numpy(broadcasting, name, wrt, shapes,
                                                      expected):
    text = source_for_call(getattr(broadcasting, name), wrt, *point(shapes))
    assert expected in text, text


def test_a_length_one_axis_gets_its_own_derivative(broadcasting):
    """(4, 1) and (4, 3) are different kinds: the derivative one wrapper made for one is not
    used for the other, which NumPy broadcasts differently."""
    f = broadcasting.against_a_column
    gradient = adt.grad(f, (0, 1))
    for shapes in ([(4, 3), (4, 1)], [(4, 3), (4, 3)], [(4, 1), (4, 3)], [(4, 3), (1, 3)]):
        args = point(shapes)
        for got, i in zip(gradient(*args), (0, 1)):
            np.testing.assert_allclose(got, numeric_gradient(f, args, i), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, shapes", [
    ("product", [(3,), (3,)]), ("against_a_view", [(3, 2), (2, 3)]), ("summed", [(3,), (3,)]),
])
def test_a_gradient_is_never_the_callers_array(broadcasting, name, shapes):
    """``d_w = x`` once ``x * 1.0`` is folded: the gradient is a copy, which the caller may
    change in place without changing ``x``."""
    f = getattr(broadcasting, name)
    args = point(shapes)
    before = [np.copy(a) for a in args]
    gradient = adt.grad(f)(*args)
    gradient[...] = 7.0
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
    assert "def _" not in source_for_call(f, 0, *args)


# through the file: the kinds given on the command line

@pytest.mark.parametrize("name, wrt, shapes, kinds", [
    ("against_a_column", (0, 1), [(4, 3), (4, 1)], {"a": "ndarray[n, m]", "b": "ndarray[n, 1]"}),
    ("against_a_row", (0, 1), [(4, 3), (3,)], {"a": "ndarray[n, m]", "b": "ndarray[m]"}),
    ("matrix_vector", (0, 1), [(4, 3), (3,)], {"M": "ndarray[n, m]", "v": "ndarray[m]"}),
    ("keepdims", 0, [(4, 3)], {"M": "ndarray[n, m]"}),
])
def test_a_file_made_for_given_kinds_is_plain_and_right(name, wrt, shapes, kinds):
    parsed = function_in_text(BROADCASTING, "broadcasting_cases.py", name)
    parsed = dataclasses.replace(parsed, arg_kinds={k: parse_kind(v) for k, v in kinds.items()})
    text, entry = transpile(parsed, wrt, "reverse")
    assert "def _" not in text, text
    namespace: dict = {}
    exec(compile(BROADCASTING, "broadcasting_cases.py", "exec"), namespace)
    args = point(shapes)
    got = load(text, entry, name)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    for g, i in zip(got, wrt if isinstance(wrt, tuple) else (wrt,)):
        np.testing.assert_allclose(g, numeric_gradient(namespace[name], args, i), rtol=1e-5,
                                   atol=1e-6)


def test_the_command_line_takes_axes_of_length_one(tmp_path):
    path = tmp_path / "cases.py"
    path.write_text(BROADCASTING)
    result = run("grad", f"{path}::against_a_column", "--wrt", "b", "--arg", "a=ndarray[n, m]",
                 "--arg", "b=ndarray[n, 1]")
    assert result.exit_code == 0, result.output
    assert "def _" not in result.output
    assert "keepdims=True" in result.output


def test_unknown_shapes_keep_the_generic_helpers():
    """Without kinds (a file made with no --arg), the helpers stay: they are right for every
    shape the arrays may have."""
    parsed = function_in_text(BROADCASTING, "broadcasting_cases.py", "against_a_column")
    text, _ = transpile(parsed, (0, 1), "reverse")
    assert "_unbroadcast" in text


# the golden files made with the axes given: reviewable, current, right, and helper-free

SHAPED = [pytest.param(*case, id=f"{case[0]}::{case[1]}") for case in SHAPED_SAMPLES]


@pytest.mark.parametrize("path, name, wrt, kinds", SHAPED)
def test_a_shaped_golden_file_is_what_the_tool_writes(path, name, wrt, kinds, monkeypatch):
    monkeypatch.chdir(ROOT)
    text = shaped_path(path, name).read_text(encoding="utf-8")
    assert text == generate_shaped(path, name, wrt, kinds), "python tests/golden_cases.py"
    assert "def _" not in text and "import ad_transpile" not in text
    assert "from ad_transpile" not in text
    assert run("check", shaped_path(path, name)).exit_code == 0


@pytest.mark.parametrize("path, name, wrt, kinds", SHAPED)
def test_a_shaped_golden_file_matches_finite_differences(path, name, wrt, kinds):
    module = {"samples/least_squares.py": least_squares,
              "samples/logistic_regression.py": logistic_regression,
              "samples/two_layer_net.py": two_layer_net}[path]
    f = getattr(module, name)
    entry = runpy.run_path(str(shaped_path(path, name)))[f"{name}_pr"]
    point = next(p for g, _, p in SAMPLES if g is f)
    params = list(inspect.signature(f).parameters)
    names = wrt if isinstance(wrt, tuple) else (wrt,)
    for sizes in SIZES:
        args = point(*sizes)
        got = entry(*args)
        got = got if isinstance(wrt, tuple) else (got,)
        for g, n in zip(got, names):
            np.testing.assert_allclose(g, numeric_gradient(f, args, params.index(n)),
                                       rtol=1e-5, atol=1e-6)


def test_an_annotation_names_a_type_not_the_lengths_of_axes():
    """``np.ndarray[Any, Any]`` in the source is a type: only the command line spells lengths."""
    from ad_transpile.kinds import array, kind_of_annotation

    assert kind_of_annotation("np.ndarray[Any, Any]") == array(None)
    assert parse_kind("ndarray[n, 1]").dims == ("n", 1)
