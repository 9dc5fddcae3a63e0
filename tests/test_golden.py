"""The committed golden files are what the tool generates, and they run on their own."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys

import pytest
from conftest import ROOT, numeric_gradient
from golden_cases import CASES, generate, golden_path

import ad_transpile as adt
from ad_transpile.names import derivative_name

POINTS = [(0.3, -0.4), (-1.1, 0.8), (0.0, 1.7)]
IDS = [f"{path}::{name}-{mode}" for path, name, _, mode in CASES]

# Run a golden file where ad_transpile cannot be imported; print its derivative at each point.
STANDALONE = """
import json, runpy, sys
sys.modules["ad_transpile"] = None
try:
    import ad_transpile  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("ad_transpile is still importable")
entry = runpy.run_path(sys.argv[1])[sys.argv[2]]
print(json.dumps([entry(*point) for point in json.loads(sys.argv[3])]))
"""


def sample(path: str, name: str):
    return runpy.run_path(str(ROOT / path))[name]


SOFT_TESTS = ([0.1, 0.5, -0.3, 1.2], [0.2, 0.6, -0.4, 0.9])
POINTS_WITH_DATA = {
    ("samples/sine_fit.py", "loss"): [(1.3, *SOFT_TESTS), (0.6, *SOFT_TESTS)],
    ("samples/network.py", "loss"): [(0.3, -0.2, 0.8, 0.1, *SOFT_TESTS),
                                     (-1.1, 0.4, 0.5, -0.3, *SOFT_TESTS)],
    ("samples/projectile.py", "landing"): [(2.0, 0.7, 25.0), (-4.0, 0.5, 18.0)],
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


@pytest.mark.parametrize("case", CASES, ids=IDS)
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
