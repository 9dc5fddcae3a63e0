"""Forward mode on arrays of known kinds reads as a person writes it: no copied helper.

Where the value model knows the number of dimensions of every value (``--arg W=ndarray[2]``
on the command line, the arguments of the call in the API), the batched tangents are plain
NumPy: ``e[..., None] * d_x``, literal axes, one contraction per product, the identity basis
seeded and read back in a line or two. Every case is checked against finite differences,
through the file and through ``adt.grad(..., mode="forward")``.
"""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest
from conftest import ROOT, imported, numeric_gradient, primal

import ad_transpile as adt
from ad_transpile import api
from ad_transpile.kinds import parse_kind
from ad_transpile.load import load
from ad_transpile.parse import function_in_text, read_function
from ad_transpile.pipeline import transpile
from ad_transpile.specialize import kind_of_argument


def kinds_of(args: tuple) -> dict[str, str]:
    """``--arg`` kinds of the arguments ``a``, ``b``, ...: ``ndarray[N]`` or ``float``."""
    return {p: "float" if np.ndim(a) == 0 else f"ndarray[{np.ndim(a)}]"
            for p, a in zip("abc", args)}


def with_kinds(parsed, kinds: dict[str, str]):
    return dataclasses.replace(parsed, arg_kinds={n: parse_kind(k) for n, k in kinds.items()})


def text_with_kinds(src: str, kinds: dict[str, str], wrt, mode: str = "forward") -> str:
    """What ``ad-transpile grad example.py::f --arg NAME=KIND ...`` writes."""
    return transpile(with_kinds(function_in_text(src, "example.py", "f"), kinds), wrt, mode)[0]


def file_gradient(src: str, args: tuple, wrt, mode: str = "forward"):
    text = text_with_kinds(src, kinds_of(args), wrt, mode)
    fpr = load(text, "fpr", "test forward output")
    return fpr(*args), text


def source(expr: str, params: str) -> str:
    return f"import numpy as np\n\n\ndef f({params}):\n    return np.sum(np.sin({expr}))\n"


rng = np.random.default_rng(20261202)


def drawn(*shapes, low=-2.0, high=2.0):
    values = [rng.uniform(low, high, size=s) for s in shapes]
    return tuple(float(v) if v.shape == () else v for v in values)


CASES = [  # (expression in a, b, the arguments)
    ("a * b", drawn((3,), (3,))),
    ("a * b", drawn((3, 1), (1, 4))),  # broadcast against (n, 1) and (1, m)
    ("a + b", drawn((3, 4), (4,))),
    ("a * b", drawn((3, 4), ())),  # against a number
    ("np.tanh(a @ b)", drawn((5, 3), (3, 2))),
    ("a @ b", drawn((5, 3), (3,))),
    ("a @ b", drawn((3,), (3, 2))),
    ("a @ b", drawn((3,), (3,))),
    ("np.dot(a, b) ** 2", drawn((4, 3), (3, 2))),
    ("np.matmul(a, b) * a[:, :1]", drawn((4, 3), (3, 2))),
    ("np.outer(a, b)", drawn((3,), (2,))),
    ("np.max(a, axis=1, keepdims=True) * b", drawn((3, 4), (3, 1))),
    ("np.min(a, axis=-1, keepdims=True) - a * b", drawn((3, 4), (4,))),
    ("np.max(a, axis=0) + b", drawn((3, 4), ())),
    ("a / np.sum(a, axis=1, keepdims=True) + b", drawn((3, 4), (1, 4), low=0.5)),
    ("np.exp(a - np.max(a, axis=1, keepdims=True)) * b", drawn((3, 4), (3, 1))),
    ("np.mean(a * b, axis=0)", drawn((3, 4), (4,))),
    ("np.cumsum(a * b, axis=1) ** 2", drawn((3, 4), ())),
    ("np.transpose(a) @ b", drawn((3, 4), (3, 2))),
    ("np.concatenate([a, b], axis=-1) ** 2", drawn((3, 2), (3, 1))),
    ("np.std(a * b, axis=1)", drawn((3, 4), (4,))),
    ("np.var(a, axis=0, keepdims=True) * b", drawn((3, 4), (1, 4))),
    ("np.linalg.norm(a * b, axis=1)", drawn((3, 4), (3, 1))),
    ("np.prod(a, axis=1) * b", drawn((3, 4), (3,), low=0.5)),
]
IDS = [f"{expr} {[np.shape(a) for a in args]}" for expr, args in CASES]


@pytest.mark.parametrize(("expr", "args"), CASES, ids=IDS)
def test_forward_gradients_of_known_kinds_match_finite_differences_in_files(expr, args):
    src = source(expr, "a, b")
    f = primal(src)
    expected = [numeric_gradient(f, args, i) for i in range(len(args))]
    for wrt in (0, 1, (0, 1)):
        for mode in ("forward", "reverse"):
            got, text = file_gradient(src, args, wrt, mode)
            got = got if isinstance(wrt, tuple) else (got,)
            for i, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), got):
                assert np.shape(g) == np.shape(args[i]), text
                np.testing.assert_allclose(g, expected[i], rtol=1e-5, atol=1e-6,
                                           err_msg=f"{mode}, wrt {wrt}\n{text}")


@pytest.mark.parametrize(("expr", "args"), CASES, ids=IDS)
def test_forward_gradients_through_the_api_match_finite_differences(expr, args, tmp_path):
    f = imported(source(expr, "a, b"), tmp_path).f
    expected = [numeric_gradient(f, args, i) for i in range(len(args))]
    for mode in ("forward", "reverse"):
        got = adt.grad(f, wrt=(0, 1), mode=mode)(*args)
        for g, e, a in zip(got, expected, args):
            assert np.shape(g) == np.shape(a) and type(g) is type(a)
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6, err_msg=mode)


def test_known_kinds_need_no_helper_for_these_cases():
    for expr, args in CASES:
        if "std" in expr or "norm" in expr or "prod" in expr or "var" in expr \
                or "cumsum" in expr or "np.min(a, axis=-1" in expr or "np.max(a, axis=0)" in expr:
            continue  # their rules carry a zero-safe or flattening helper
        text = text_with_kinds(source(expr, "a, b"), kinds_of(args), (0, 1))
        assert "def _" not in text, text


# the NumPy samples: (path, function, wrt, --arg kinds, arguments)
W1, W2 = rng.normal(size=(4, 5)), rng.normal(size=(5, 3))
X, Y = rng.normal(size=(6, 4)), np.eye(3)[rng.integers(3, size=6)]
w, Xw, y = rng.normal(size=3), rng.normal(size=(7, 3)), rng.normal(size=7)
labels = (rng.random(7) < 0.5).astype(float)
SAMPLES = [
    ("samples/two_layer_net.py", "loss", ("W1", "W2"),
     {"W1": "ndarray[2]", "W2": "ndarray[2]", "X": "ndarray[2]", "Y": "ndarray[2]"},
     (W1, W2, X, Y)),
    ("samples/logistic_regression.py", "loss", "w",
     {"w": "ndarray[1]", "X": "ndarray[2]", "y": "ndarray[1]"}, (w, Xw, labels)),
    ("samples/rosenbrock.py", "rosenbrock", "x", {"x": "ndarray[1]"}, (rng.normal(size=6),)),
    ("samples/least_squares.py", "loss", "w",
     {"w": "ndarray[1]", "X": "ndarray[2]", "y": "ndarray[1]"}, (w, Xw, y)),
]
SAMPLE_IDS = [s[0] for s in SAMPLES]


def sample_text(path: str, name: str, wrt, kinds: dict[str, str], kind: str = "grad") -> str:
    return transpile(with_kinds(read_function(str(ROOT / path), name), kinds), wrt,
                     "forward", kind)[0]


@pytest.mark.parametrize(("path", "name", "wrt", "kinds", "args"), SAMPLES, ids=SAMPLE_IDS)
def test_the_numpy_samples_with_known_kinds_match_finite_differences(path, name, wrt, kinds,
                                                                      args):
    text = sample_text(path, name, wrt, kinds)
    got = load(text, f"{name}_pr", "sample")(*args)
    params = list(kinds)
    names = wrt if isinstance(wrt, tuple) else (wrt,)
    got = got if isinstance(wrt, tuple) else (got,)
    f = primal((ROOT / path).read_text(), name)
    for n, g in zip(names, got):
        i = params.index(n)
        np.testing.assert_allclose(g, numeric_gradient(f, args, i), rtol=1e-5, atol=1e-6,
                                   err_msg=text)


@pytest.mark.parametrize(("path", "name", "wrt", "kinds", "args"), SAMPLES,
                         ids=SAMPLE_IDS)
def test_the_numpy_samples_with_known_kinds_copy_no_helper(path, name, wrt, kinds, args):
    assert "def _" not in sample_text(path, name, wrt, kinds)


@pytest.mark.parametrize(("path", "name", "wrt", "kinds", "args"), SAMPLES,
                         ids=SAMPLE_IDS)
def test_the_api_specializes_the_samples_to_code_without_helpers(path, name, wrt, kinds, args):
    namespace = __import__("runpy").run_path(str(ROOT / path))
    f = namespace[name]
    adt.check_grad(f, *args, wrt=wrt, mode="forward")
    params = list(inspect.signature(f).parameters)
    given = tuple((p, kind_of_argument(a)) for p, a in zip(params, args))
    text = api._transpiled(f, wrt, "forward", "batched_jvp", given)[0]
    assert "def _" not in text, text


def test_the_two_layer_net_reads_as_written_by_hand():
    path, name, wrt, kinds, _ = SAMPLES[0]
    text = sample_text(path, name, wrt, kinds)
    for line in (
        " = np.tensordot(X, d_W1, axes=1)",
        "d_hidden = (1.0 - hidden * hidden)[..., None] * ",
        "d_t3 = np.sum(exp_shifted[..., None] * d_shifted, axis=1, keepdims=True)",
        "basis = np.eye(W1.size + W2.size)",
        "d_W1 = basis[: W1.size].reshape(W1.shape[0], W1.shape[1], -1)",
        "d_W2 = basis[W1.size :].reshape(W2.shape[0], W2.shape[1], -1)",
    ):
        assert line in text, text
    assert 'np.einsum("ijl,jk->ikl", d_hidden, W2)' in text, text
    assert "expand_dims" not in text and "def _" not in text


def test_one_vector_is_seeded_and_read_back_in_a_line_each():
    path, name, wrt, kinds, _ = SAMPLES[2]
    text = sample_text(path, name, wrt, kinds)
    assert "d_x = np.eye(len(x))" in text and "return d_value\n" in text, text
    assert "axis=0" in text


def test_unknown_kinds_keep_the_generic_helpers():
    src = source("a @ b", "a, b")
    text = transpile(function_in_text(src, "example.py", "f"), (0, 1), "forward")[0]
    assert "def _matmul_tangent_a" in text and "def _directions" in text


def test_a_number_among_the_arguments_is_one_direction():
    src = source("a * b", "a, b")
    args = drawn((3, 2), ())
    f = primal(src)
    for wrt in ((0, 1), (1, 0), 1):
        got, text = file_gradient(src, args, wrt)
        got = got if isinstance(wrt, tuple) else (got,)
        for i, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), got):
            assert type(g) is type(args[i]), text
            np.testing.assert_allclose(g, numeric_gradient(f, args, i), rtol=1e-5, atol=1e-6)
        assert "def _" not in text, text


def _table():
    from test_numpy_rules import TABLE, arguments, differentiable
    from test_numpy_rules import source as rule_source

    return [(rule_source(c), arguments(c), differentiable(c)) for c in TABLE], [
        f"{c.expr} {c.shapes}" for c in TABLE]


RULES, RULE_IDS = _table()


@pytest.mark.parametrize(("src", "args", "wrt"), RULES, ids=RULE_IDS)
def test_every_rule_with_known_kinds_matches_finite_differences(src, args, wrt):
    """The table of tests/test_numpy_rules.py, the file made for the kinds of its arguments."""
    f = primal(src)
    spec = wrt if len(wrt) > 1 else wrt[0]
    got, text = file_gradient(src, args, spec)
    got = got if len(wrt) > 1 else (got,)
    for i, g in zip(wrt, got):
        assert np.shape(g) == np.shape(args[i]), text
        np.testing.assert_allclose(g, numeric_gradient(f, args, i), rtol=1e-5, atol=1e-6,
                                   err_msg=text)


def _again():
    from test_batched_forward import AGAIN

    return [(src, args) for src, args in AGAIN if all(isinstance(a, (float, np.ndarray))
                                                     for a in args)]


@pytest.mark.parametrize(("src", "args"), _again())
def test_a_file_of_known_kinds_differentiates_again(src, args):
    """The plain NumPy of known kinds (e[..., None], np.einsum, the seeds) differentiated again
    in both modes, against central differences of the first derivative."""
    kinds = kinds_of(args)
    first_text = text_with_kinds(src, kinds, 0)
    gradient = load(first_text, "fpr", "first")
    direction = np.random.default_rng(3).normal(size=np.shape(args[0]))
    direction = direction if np.ndim(direction) else float(direction)
    up, down = list(args), list(args)
    up[0], down[0] = args[0] + 1e-6 * direction, args[0] - 1e-6 * direction
    expected = (np.asarray(gradient(*up)) - gradient(*down)) / 2e-6
    again = function_in_text(first_text, "first.py", "fpr")
    for mode, kind in (("forward", "jvp"), ("reverse", "vjp")):
        text, entry = transpile(with_kinds(again, kinds), 0, mode, kind)
        got = load(text, entry, "again")(*args, direction)[1]
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=text)


@pytest.mark.parametrize(("expr", "args"), CASES, ids=IDS)
def test_one_tangent_of_known_kinds_is_the_directional_derivative(expr, args):
    """The JVP file (one tangent, no axis of directions) made for the arguments' kinds."""
    src = source(expr, "a, b")
    f = primal(src)
    text, entry = transpile(with_kinds(function_in_text(src, "example.py", "f"),
                                       kinds_of(args)), (0, 1), "forward", "jvp")
    tangents = drawn(*(np.shape(a) for a in args))
    value, got = load(text, entry, "jvp")(*args, *tangents)
    expected = sum(np.sum(numeric_gradient(f, args, i) * t) for i, t in enumerate(tangents))
    assert value == pytest.approx(f(*args))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=text)
    assert "_broadcast_like" not in text, text
    assert "keepdims=True" not in expr or "_extreme_mask" not in text, text


def test_the_least_squares_tangent_is_stretched_in_plain_numpy():
    text = transpile(with_kinds(read_function(str(ROOT / "samples/least_squares.py"), "loss"),
                                SAMPLES[3][3]), "w", "forward", "jvp")[0]
    assert "d_residual = np.broadcast_to(X @ d_w, residual.shape)" in text, text
    assert "def _" not in text
