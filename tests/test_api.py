"""The public API as a user calls it: functions defined in this file, differentiated by name.

Expected values are derived by hand (next to each function) or by central finite differences.
"""

from __future__ import annotations

import inspect
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import MODES, numeric_gradient

import ad_transpile as adt
import ad_transpile.api


def poly(x, y):
    return x * x * y + 3.0 * y  # d/dx = 2xy, d/dy = x^2 + 3


def scaled(x, scale=2.0):
    return scale * math.sin(x)  # d/dx = scale cos x, d/dscale = sin x


def weighted(x, *, k=3.0):
    return k * x * x  # d/dx = 2kx, d/dk = x^2


def ignores_y(x, y):
    return math.exp(x)


def wave(x, w):
    return np.sin(w * x)  # elementwise: d/dx = w cos(wx)


def bump(x, y):
    return math.exp(-(x * x + y * y)) * math.cos(x * y) / (1.0 + x * x)


# Differentiated only by the hessian test: hessian reads the first derivative's text back by the
# function's name, so no other derivative of these is loaded before it.
def hump(x, y):
    return math.exp(-x * x) * math.sin(x * y) + y**3


def swing(t, gain=2.0):
    return gain * math.sin(t)


def square(x):
    return x * x


def cube(x):
    return x * x * x


@adt.differentiable(wrt="omega", mode="forward")
def loss(omega, x, y):
    return (math.sin(omega * x) - y) ** 2  # d/domega = 2 (sin(omega x) - y) cos(omega x) x


def loss_undecorated(omega, x, y):
    return (math.sin(omega * x) - y) ** 2


C5, S5 = math.cos(0.5), math.sin(0.5)

# function, wrt, positional and keyword arguments, the gradient derived by hand
GRADIENTS = [
    (poly, 0, (2.0, 3.0), {}, 12.0),
    (poly, "x", (2.0, 3.0), {}, 12.0),
    (poly, 1, (2.0, 3.0), {}, 7.0),
    (poly, "y", (2.0,), {"y": 3.0}, 7.0),
    (poly, ("y", 0), (2.0, 3.0), {}, (7.0, 12.0)),
    (poly, (0, "y"), (-1.0, 0.5), {}, (-1.0, 4.0)),
    (scaled, 0, (0.5,), {}, 2.0 * C5),  # the default scale
    (scaled, "scale", (0.5,), {}, S5),
    (scaled, 0, (0.5, 4.0), {}, 4.0 * C5),
    (scaled, ("x", "scale"), (0.5,), {"scale": 4.0}, (4.0 * C5, S5)),
    (weighted, 0, (2.0,), {}, 12.0),  # the default k
    (weighted, 0, (2.0,), {"k": 5.0}, 20.0),
    (weighted, "k", (2.0,), {"k": 5.0}, 4.0),
    (weighted, ("k", "x"), (2.0,), {"k": 5.0}, (4.0, 20.0)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("f", "wrt", "args", "kwargs", "expected"), GRADIENTS)
def test_grad_with_respect_to_a_position_name_or_tuple(f, wrt, args, kwargs, expected, mode):
    gradient = adt.grad(f, wrt, mode=mode)(*args, **kwargs)
    assert gradient == pytest.approx(expected, rel=1e-12)
    assert isinstance(gradient, tuple) == isinstance(wrt, tuple)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("f", "wrt", "args", "kwargs", "expected"), GRADIENTS)
def test_value_and_grad_returns_the_value_too(f, wrt, args, kwargs, expected, mode):
    value, gradient = adt.value_and_grad(f, wrt, mode=mode)(*args, **kwargs)
    assert value == f(*args, **kwargs)
    assert gradient == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_forward_and_reverse_give_the_same_numbers(seed):
    x, y = np.random.default_rng(seed).uniform(-1.5, 1.5, size=2)
    reverse = adt.grad(bump, ("x", "y"))(x, y)
    forward = adt.grad(bump, ("x", "y"), mode="forward")(x, y)
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        reverse, [numeric_gradient(bump, (x, y), i) for i in (0, 1)], rtol=1e-5, atol=1e-8
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("f", "wrt", "args", "expected"),
    [
        (poly, 0, (2.0, 3.0), 12.0),
        (poly, 0, (2, 3), 12.0),  # int arguments still give a float
        (ignores_y, 1, (0.5, 3.0), 0.0),  # y does not reach the result
    ],
)
def test_a_float_argument_gets_a_float_gradient(f, wrt, args, expected, mode):
    gradient = adt.grad(f, wrt, mode=mode)(*args)
    assert type(gradient) is float
    assert gradient == expected


@pytest.mark.parametrize(
    ("wrt", "tangent", "expected"),
    [
        (0, 1.0, 12.0),
        ("y", -2.0, -14.0),
        ((0, 1), (1.0, 0.0), 12.0),
        (("x", "y"), (0.5, 2.0), 0.5 * 12.0 + 2.0 * 7.0),
    ],
)
def test_jvp_is_the_derivative_along_a_tangent(wrt, tangent, expected):
    value, derivative = adt.jvp(poly, wrt)(2.0, 3.0, tangent)
    assert value == poly(2.0, 3.0)
    assert derivative == pytest.approx(expected, rel=1e-12)


def test_jvp_of_a_function_returning_an_array():
    x, w, tangent = np.array([0.3, -1.2, 2.0]), 0.7, np.array([1.0, -0.5, 2.0])
    value, derivative = adt.jvp(wave)(x, w, tangent)
    np.testing.assert_array_equal(value, wave(x, w))
    np.testing.assert_allclose(derivative, w * np.cos(w * x) * tangent, rtol=1e-12)


@pytest.mark.parametrize(
    ("wrt", "gradient"),
    [(0, (12.0,)), ("y", (7.0,)), (("x", "y"), (12.0, 7.0))],
)
@pytest.mark.parametrize("cotangent", [1.0, -2.5])
def test_vjp_scales_the_gradient_by_the_cotangent(wrt, gradient, cotangent):
    value, product = adt.vjp(poly, wrt)(2.0, 3.0, cotangent)
    assert value == poly(2.0, 3.0)
    products = product if isinstance(wrt, tuple) else (product,)
    assert products == pytest.approx(tuple(cotangent * g for g in gradient), rel=1e-12)


def test_vjp_of_a_function_returning_an_array():
    x, w, cotangent = np.array([0.3, -1.2, 2.0]), 0.7, np.array([1.0, -0.5, 2.0])
    value, product = adt.vjp(wave)(x, w, cotangent)
    np.testing.assert_array_equal(value, wave(x, w))
    np.testing.assert_allclose(product, cotangent * w * np.cos(w * x), rtol=1e-12)


def header(text: str) -> dict[str, str]:
    """The ``# key: value`` lines at the top of a generated module."""
    lines = text.splitlines()[1:5]
    return dict(line.removeprefix("# ").split(": ", 1) for line in lines)


def test_source_is_the_generated_module_with_its_header():
    text = adt.source(poly, ("x", "y"), mode="forward")
    assert text.splitlines()[0] == (
        f"# Generated by ad-transpile {adt.__version__}; do not edit by hand."
    )
    fields = header(text)
    assert fields["source"].endswith("test_api.py::poly")
    assert Path(fields["source"].rpartition("::")[0]).resolve() == Path(__file__).resolve()
    assert (fields["wrt"], fields["mode"]) == ("x, y", "forward")
    assert re.fullmatch(r"sha256:[0-9a-f]{16}", fields["source-hash"])
    assert "ad_transpile" not in text.split(fields["source-hash"], 1)[1]
    namespace: dict = {}
    exec(compile(text, "poly_pr.py", "exec"), namespace)
    assert namespace["poly_pr"](2.0, 3.0) == (12.0, 7.0)


def test_source_hash_names_the_function_not_the_derivative():
    def source_hash(f, wrt, mode):
        return header(adt.source(f, wrt, mode=mode))["source-hash"]

    assert source_hash(poly, 0, "reverse") == source_hash(poly, ("x", "y"), "forward")
    assert source_hash(poly, 0, "reverse") != source_hash(square, 0, "reverse")


def cli_grad(*args: str, hash_seed: str) -> str:
    command = [sys.executable, "-m", "ad_transpile", "grad", f"{__file__}::poly", *args]
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout


@pytest.mark.parametrize("mode", MODES)
def test_source_is_deterministic_and_what_the_cli_writes(mode):
    # Separate processes with different string hashing: no set or dict order leaks into the text.
    first = cli_grad("--wrt", "y", "--wrt", "x", "--mode", mode, hash_seed="1")
    second = cli_grad("--wrt", "y", "--wrt", "x", "--mode", mode, hash_seed="2")
    assert first == second == adt.source(poly, ("y", "x"), mode=mode)


def test_differentiable_leaves_the_function_as_it_was():
    for args in [(1.5, 0.3, 0.1), (-0.4, 2.0, 0.7)]:
        assert loss(*args) == loss_undecorated(*args)
    assert loss.__name__ == "loss"
    assert inspect.signature(loss) == inspect.signature(loss_undecorated)


def test_differentiable_attaches_the_derivative_and_its_source():
    omega, x, y = 1.5, 0.3, 0.1
    expected = 2.0 * (math.sin(omega * x) - y) * math.cos(omega * x) * x
    assert loss.grad(omega, x, y) == pytest.approx(expected, rel=1e-12)
    assert loss.grad_source == adt.source(loss, "omega", mode="forward")
    assert "def loss_pr(omega, x, y):" in loss.grad_source


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("f", "args", "wrt"),
    [(poly, (2.0, 3.0), ("x", "y")), (scaled, (0.5,), 0), (bump, (0.3, -0.8), 1)],
)
def test_check_grad_passes_on_a_correct_gradient(f, args, wrt, mode):
    assert adt.check_grad(f, *args, wrt=wrt, mode=mode) is None


def test_check_grad_reports_a_wrong_gradient(monkeypatch):
    real_grad = ad_transpile.api.grad

    def grad_of_cube(f, wrt=0, *, mode="reverse"):
        return real_grad(cube, wrt, mode=mode)  # a true derivative, of the wrong function

    monkeypatch.setattr(ad_transpile.api, "grad", grad_of_cube)
    with pytest.raises(AssertionError, match=r"with respect to x.*generated 12\.0, numeric") as e:
        adt.check_grad(square, 2.0)
    numeric = re.search(r"numeric ([-+.\deE]+);", str(e.value)).group(1)
    assert float(numeric) == pytest.approx(4.0, rel=1e-6)  # d/dx x^2 at 2
    assert "worst element" in str(e.value)


@pytest.mark.parametrize(
    ("f", "wrt", "args"),
    [(swing, 0, (0.5,)), (swing, 0, (-2.0, 3.0)), (hump, 0, (0.3, -0.8)), (hump, 1, (0.3, -0.8))],
)
def test_hessian_matches_finite_differences_of_grad(f, wrt, args):
    second = adt.hessian(f, wrt)(*args)
    assert type(second) is float
    expected = numeric_gradient(adt.grad(f, wrt), args, wrt)
    assert second == pytest.approx(expected, rel=1e-5, abs=1e-7)


DEF_LINE = inspect.getsourcelines(poly)[1]
CALLS = {
    "grad": lambda wrt: adt.grad(poly, wrt),
    "grad forward": lambda wrt: adt.grad(poly, wrt, mode="forward"),
    "value_and_grad": lambda wrt: adt.value_and_grad(poly, wrt),
    "jvp": lambda wrt: adt.jvp(poly, wrt),
    "vjp": lambda wrt: adt.vjp(poly, wrt),
    "hessian": lambda wrt: adt.hessian(poly, wrt),
    "source": lambda wrt: adt.source(poly, wrt),
}


BAD_WRT = [
    ("z", r"'z': poly has the parameters \(x, y\)"),
    (2, r"2: poly has the parameters \(x, y\)"),
    (-3, r"-3: poly has the parameters \(x, y\)"),
    (("x", "z"), r"'z': poly has the parameters \(x, y\)"),
    (("x", 0), r"\('x', 0\): an argument is named twice"),
]


@pytest.mark.parametrize(
    ("call", "wrt", "why"),
    [
        (call, wrt, why)
        for call in CALLS
        for wrt, why in BAD_WRT
        if call != "hessian" or not isinstance(wrt, tuple)  # hessian takes one argument
    ],
)
def test_bad_wrt_is_a_located_transpile_error(call, wrt, why):
    message = rf"^\S*test_api\.py:{DEF_LINE}:1: cannot differentiate with respect to {why}"
    with pytest.raises(adt.TranspileError, match=message):
        CALLS[call](wrt)


SCRIPT_WITH_A_HANDLER = """
import math


def wave(omega):
    return math.sin(omega * 2.0)


for omega in (0.5, 1.0):
    try:
        print(wave(omega))
    except ValueError as problem:
        print(problem)
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_module_whose_top_level_handles_an_exception_is_read(tmp_path, mode):
    # gast leaves ``except ValueError as problem``'s name without a line number
    from conftest import imported

    module = imported(SCRIPT_WITH_A_HANDLER, tmp_path, f"handler_{mode}")
    assert adt.grad(module.wave, mode=mode)(0.7) == pytest.approx(2.0 * math.cos(1.4))
