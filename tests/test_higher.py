"""Second derivatives by differentiating generated code again, against finite differences."""

from __future__ import annotations

import math
import random
import sys
import textwrap

import numpy as np
import pytest
from conftest import ROOT, derivative, numeric_gradient, primal, program_count
from test_random_programs import RandomProgram, random_point, reliable_differences

import ad_transpile as adt
from ad_transpile.load import load
from ad_transpile.parse import function_in_text
from ad_transpile.pipeline import transpile

sys.path.insert(0, str(ROOT / "samples"))
import network  # noqa: E402
import sine_fit  # noqa: E402
import two_vars  # noqa: E402

HIGHER_PARTS = 4  # the random programs run in parts, side by side under xdist
HIGHER_PROGRAMS = program_count("AD_TRANSPILE_HIGHER_PROGRAMS", 16, 60)


def second_derivative(src: str, wrt=0):
    """``fprpr`` of the first function in ``src``, as ``ad-transpile grad --order 2`` writes it."""
    src = textwrap.dedent(src)
    name = src.split("def ", 1)[1].split("(", 1)[0]
    text, entry = transpile(function_in_text(src, "example.py", name), wrt, "reverse", order=2)
    return load(text, entry, f"test {name} order 2")


def fd_of_gradient(gradient, args: tuple, index: int, step: float = 1e-6):
    """Central differences of a (correct, already checked) gradient along argument ``index``."""
    up, down = list(args), list(args)
    h = step * max(1.0, abs(args[index]))
    up[index] += h
    down[index] -= h
    return (np.array(gradient(*up)) - np.array(gradient(*down))) / (2 * h)


SCALAR = [
    ("import math\ndef f(x):\n    return math.sin(x) ** 2 + math.exp(-x * x)\n", [0.3, -1.2]),
    ("import math\ndef f(x):\n    y = x\n    for i in range(4):\n        y = y * math.cos(y) + x\n"
     "    return y\n", [0.4, 1.1]),
    ("import math\ndef f(x):\n    if x > 0.0:\n        return x ** 3\n    return math.tanh(x)\n",
     [0.7, -0.6]),
    ("import math\ndef f(x):\n    s = 0.0\n    k = 0\n    while k < 5:\n"
     "        s += math.sin(k * x)"
     "\n        k += 1\n    return s\n", [0.2, 2.0]),
    ("def f(x):\n    return 3 * x\n", [1.0]),
]


@pytest.mark.parametrize("src, points", SCALAR)
def test_second_derivative_of_scalar_functions(src, points):
    f = primal(src)
    fpr = derivative(src)
    fprpr = second_derivative(src)
    for x in points:
        expected = fd_of_gradient(fpr, (x,), 0)
        assert fprpr(x) == pytest.approx(expected, rel=1e-5, abs=1e-6)
        # and the first derivative itself is right, so the comparison means something
        assert fpr(x) == pytest.approx(numeric_gradient(f, (x,), 0), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("f, wrt, args", [
    (two_vars.bump, (0, 1), (0.3, -0.4)),
    (sine_fit.loss, (0,), (1.3, [0.1, 0.5, -0.3], [0.2, 0.6, -0.4])),
    (network.loss, (0, 1, 2, 3), (0.3, -0.2, 0.8, 0.1, [0.1, 0.5, -0.3], [0.2, 0.6, 0.1])),
])
def test_hessian_and_hvp_of_samples_against_differences_of_the_gradient(f, wrt, args):
    gradient = adt.grad(f, wrt)
    columns = []
    for j in wrt:
        columns.append(np.atleast_1d(fd_of_gradient(gradient, args, j)))
    expected = np.array(columns).T
    spec = wrt if len(wrt) > 1 else wrt[0]
    hessian = np.atleast_2d(adt.hessian(f, spec)(*args))
    np.testing.assert_allclose(hessian, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-9, atol=1e-9)
    vector = tuple(float(k + 1) for k in range(len(wrt)))
    product = adt.hvp(f, spec)(*args, vector if len(wrt) > 1 else vector[0])
    np.testing.assert_allclose(np.atleast_1d(product), expected @ np.array(vector),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, expected", [("f", "return 0.0"), ("g", "return -math.sin(x)")])
def test_seed_second_derivatives_read_as_written_by_hand(name, expected):
    text = (ROOT / "tests" / "golden" / f"seed_{name}_order2.py").read_text()
    body = [line.strip() for line in text.splitlines()
            if line.startswith("    ") and not line.strip().startswith(("#", '"""'))]
    assert body == [expected]
    assert f"def {name}prpr(x):" in text


@pytest.mark.parametrize("part", range(HIGHER_PARTS))
def test_second_derivative_of_random_programs(part):
    """Forward over reverse on branches, loops and jumps: random programs ``part``,
    ``part + HIGHER_PARTS``, ... (24 in all, 60 with AD_TRANSPILE_FULL=1)."""
    checked = 0
    seeds = range(part, HIGHER_PROGRAMS, HIGHER_PARTS)
    for seed in seeds:
        src = RandomProgram(seed).source
        rng = random.Random(seed)
        fpr = derivative(src, 0)
        fprpr = second_derivative(src, 0)
        for _ in range(2):
            args = random_point(rng)
            expected = reliable_differences(fpr, args, (0,))
            if expected is None:
                continue
            checked += 1
            got = fprpr(*args)
            assert math.isclose(got, expected[0], rel_tol=1e-4, abs_tol=1e-5), (
                f"program {seed} at {args}: {got} vs {expected[0]}\n{src}")
    assert checked >= len(seeds)


def test_reverse_over_reverse_is_refused_not_wrong():
    # the break keeps the tape on the shared stack, which reverse mode cannot run back
    src = ("import math\ndef f(x):\n    s = 0.0\n    for i in range(3):\n"
           "        s += math.sin(s + x)\n        if s > 0.9:\n            break\n"
           "    return s\n")
    text, entry = transpile(function_in_text(src, "example.py", "f"), 0, "reverse")
    with pytest.raises(adt.TranspileError, match="reverse mode over a list of saved values"):
        transpile(function_in_text(text, "fpr.py", entry), 0, "reverse")


def test_reverse_over_reverse_of_a_loop_s_own_tape_is_the_second_derivative():
    src = ("import math\ndef f(x):\n    s = 0.0\n    for i in range(3):\n"
           "        s += math.sin(s + x)\n    return s\n")
    text, entry = transpile(function_in_text(src, "example.py", "f"), 0, "reverse")
    assert "for _t1 in reversed(_t1s):" in text, text
    first = load(text, entry, "f reverse")
    text2, entry2 = transpile(function_in_text(text, f"{entry}.py", entry), 0, "reverse")
    second = load(text2, entry2, "f reverse then reverse")
    for x in (0.3, -0.8, 1.7):
        assert second(x) == pytest.approx(fd_of_gradient(first, (x,), 0), rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("inner, outer", [("forward", "forward"), ("forward", "reverse"),
                                          ("reverse", "forward")])
@pytest.mark.parametrize("sample, name, wrt, args", [
    ("seed.py", "h", "x", (0.7,)),
    ("sine_fit.py", "loss", "omega", (1.3, [0.1, 0.5, -0.3], [0.2, 0.6, -0.4])),
])
def test_generated_files_are_differentiated_again_in_either_mode(sample, name, wrt, args,
                                                                  inner, outer):
    """The transpiler accepts its own output: the derivative of fpr is differences of fpr."""
    source = (ROOT / "samples" / sample).read_text()
    text, entry = transpile(function_in_text(source, sample, name), wrt, inner)
    first = load(text, entry, f"{name} {inner}")
    text2, entry2 = transpile(function_in_text(text, f"{entry}.py", entry), wrt, outer)
    second = load(text2, entry2, f"{name} {inner} then {outer}")
    assert second(*args) == pytest.approx(fd_of_gradient(first, args, 0), rel=1e-5, abs=1e-7)
