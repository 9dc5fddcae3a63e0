"""The committed golden files are what the tool generates, and they run on their own."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, numeric_gradient
from golden_cases import ARRAY_CASES, CASES, SCALAR_CASES, generate, golden_path

import ad_transpile as adt
from ad_transpile.names import derivative_name

POINTS = [(0.3, -0.4), (-1.1, 0.8), (0.0, 1.7)]


def ids(cases: list[tuple]) -> list[str]:
    return [f"{path}::{name}-{mode}" for path, name, _, mode in cases]


IDS = ids(CASES)

# Run a golden file where ad_transpile cannot be imported; print its derivative at each point.
WITHOUT_AD_TRANSPILE = """
import json, runpy, sys
sys.modules["ad_transpile"] = None
try:
    import ad_transpile  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("ad_transpile is still importable")
entry = runpy.run_path(sys.argv[1])[sys.argv[2]]
points = json.loads(sys.argv[3])
"""
STANDALONE = WITHOUT_AD_TRANSPILE + """
print(json.dumps([entry(*point) for point in points]))
"""
# The same for array code: the arguments arrive as nested lists and become arrays; the
# gradients (an array, or a tuple of them) go back as nested lists.
STANDALONE_ARRAYS = WITHOUT_AD_TRANSPILE + """
import numpy as np
gradients = [entry(*map(np.array, point)) for point in points]
print(json.dumps([[np.asarray(g).tolist() for g in (gs if isinstance(gs, tuple) else (gs,))]
                  for gs in gradients]))
"""


def sample(path: str, name: str):
    return runpy.run_path(str(ROOT / path))[name]


SOFT_TESTS = ([0.1, 0.5, -0.3, 1.2], [0.2, 0.6, -0.4, 0.9])
POINTS_WITH_DATA = {
    ("samples/sine_fit.py", "loss"): [(1.3, *SOFT_TESTS), (0.6, *SOFT_TESTS)],
    ("samples/sine_loop.py", "loss"): [(1.3, *SOFT_TESTS), (0.6, *SOFT_TESTS)],
    ("samples/network.py", "loss"): [(0.3, -0.2, 0.8, 0.1, *SOFT_TESTS),
                                     (-1.1, 0.4, 0.5, -0.3, *SOFT_TESTS)],
    ("samples/projectile.py", "landing"): [(2.0, 0.7, 25.0), (-4.0, 0.5, 18.0)],
}


# Array samples: two points each, of different shapes (seeded).
rng = np.random.default_rng(7)
ARRAY_POINTS = {
    ("samples/least_squares.py", "loss"): [
        (rng.normal(size=3), rng.normal(size=(7, 3)), rng.normal(size=7)),
        (rng.normal(size=5), rng.normal(size=(12, 5)), rng.normal(size=12)),
    ],
    ("samples/logistic_regression.py", "loss"): [
        (rng.normal(size=3), rng.normal(size=(7, 3)), rng.integers(2, size=7).astype(float)),
        (rng.normal(size=2), rng.normal(size=(10, 2)), rng.integers(2, size=10).astype(float)),
    ],
    ("samples/two_layer_net.py", "loss"): [  # W1, W2, X, one-hot Y
        (rng.normal(size=(3, 4)), rng.normal(size=(4, 3)), rng.normal(size=(7, 3)),
         np.eye(3)[rng.integers(3, size=7)]),
        (rng.normal(size=(5, 6)), rng.normal(size=(6, 2)), rng.normal(size=(9, 5)),
         np.eye(2)[rng.integers(2, size=9)]),
    ],
    ("samples/rosenbrock.py", "rosenbrock"): [(rng.normal(size=6),), (rng.normal(size=2),)],
}


def points_for(path: str, name: str) -> list[tuple]:
    if (path, name) in POINTS_WITH_DATA:
        return POINTS_WITH_DATA[path, name]
    arity = sample(path, name).__code__.co_argcount
    return [point[:arity] for point in POINTS]


def as_tuple(gradient) -> tuple[float, ...]:
    return tuple(gradient) if isinstance(gradient, (tuple, list)) else (gradient,)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_generated_text_equals_the_golden_file(case, at_root):
    path, name, _, mode = case
    golden = golden_path(path, name, mode)
    assert generate(*case) == golden.read_text(encoding="utf-8"), (
        f"{golden.relative_to(ROOT)} differs from what ad-transpile now generates. If the change "
        "is intended, run `python tests/golden_cases.py` and review the diff with `git diff "
        "tests/golden`."
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_generating_twice_is_byte_identical(case, at_root):
    assert generate(*case).encode() == generate(*case).encode()


def test_generating_in_processes_with_different_hash_seeds_is_byte_identical(at_root):
    outputs = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-m", "ad_transpile", "grad", "samples/two_vars.py::bump",
             "--wrt", "x", "--wrt", "y"],
            capture_output=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed},
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_golden_file_compiles(case):
    path, name, _, mode = case
    golden = golden_path(path, name, mode)
    compile(golden.read_text(encoding="utf-8"), str(golden), "exec")


@pytest.mark.parametrize("case", SCALAR_CASES, ids=ids(SCALAR_CASES))
def test_golden_file_runs_without_ad_transpile(case):
    """Shipped alone, the file gives the in-process derivative and the finite differences."""
    path, name, wrt, mode = case
    points = points_for(path, name)
    done = subprocess.run(
        [sys.executable, "-c", STANDALONE, str(golden_path(path, name, mode)),
         derivative_name(name), json.dumps(points)],
        capture_output=True, text=True, check=False, cwd=ROOT / "tests" / "golden",
    )
    assert done.returncode == 0, done.stderr
    standalone = json.loads(done.stdout)
    f = sample(path, name)
    in_process = adt.grad(f, wrt, mode=mode)
    names = (wrt,) if isinstance(wrt, str) else wrt
    positions = [f.__code__.co_varnames.index(w) for w in names]
    for point, got in zip(points, standalone):
        assert as_tuple(got) == pytest.approx(as_tuple(in_process(*point)), rel=1e-12), point
        numeric = tuple(numeric_gradient(f, point, i) for i in positions)
        assert as_tuple(got) == pytest.approx(numeric, rel=1e-6, abs=1e-8), point


@pytest.mark.parametrize("case", ARRAY_CASES, ids=ids(ARRAY_CASES))
def test_array_golden_file_runs_without_ad_transpile(case):
    """Shipped alone, the file takes arrays and gives gradients of their shapes: the in-process
    gradients and the finite differences."""
    path, name, wrt, mode = case
    points = ARRAY_POINTS[path, name]
    done = subprocess.run(
        [sys.executable, "-c", STANDALONE_ARRAYS, str(golden_path(path, name, mode)),
         derivative_name(name), json.dumps([[a.tolist() for a in point] for point in points])],
        capture_output=True, text=True, check=False, cwd=ROOT / "tests" / "golden",
    )
    assert done.returncode == 0, done.stderr
    f = sample(path, name)
    in_process = adt.grad(f, wrt, mode=mode)
    names = (wrt,) if isinstance(wrt, str) else wrt
    positions = [f.__code__.co_varnames.index(w) for w in names]
    for point, standalone in zip(points, json.loads(done.stdout)):
        expected = as_tuple(in_process(*point))
        for i, got, same in zip(positions, standalone, expected, strict=True):
            got = np.array(got)
            assert got.shape == point[i].shape, (names, got.shape)
            np.testing.assert_allclose(got, same, rtol=1e-12)
            np.testing.assert_allclose(got, numeric_gradient(f, point, i), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("golden", ["seed_h_reverse.py", "sine_loop_loss_reverse.py"])
def test_the_readme_shows_the_generated_code_as_it_is(golden):
    text = (ROOT / "tests" / "golden" / golden).read_text()
    function = text[text.index("def "):].rstrip()
    assert function in (ROOT / "README.md").read_text()
