"""Explain mode: a comment naming the rule above every derivative line, the code unchanged."""

from __future__ import annotations

import ast
import runpy
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, numeric_gradient, run
from golden_cases import CASES, EXPLAINED, explained_path, generate, golden_path

import ad_transpile as adt
from ad_transpile.header import Header
from ad_transpile.names import derivative_name

IDS = [f"{path}::{name}-{mode}" for path, name, _, mode in CASES]


def code_lines(text: str) -> list[str]:
    """The lines that are not comments: what explain mode must leave as they are."""
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


def uncommented_derivative_lines(text: str, sources: set[str]) -> list[str]:
    """Each statement of a derivative function (not a copied source function or a helper)
    that writes a derivative (a ``d_`` name) or returns, with no comment on the line above."""
    lines = text.splitlines()
    missing = []
    for fn in ast.parse(text).body:
        if not isinstance(fn, ast.FunctionDef) or fn.name.startswith("_") or fn.name in sources:
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign):
                targets = [node.target]
            elif isinstance(node, ast.Return):
                targets = []
            else:
                continue
            writes = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            derivative = isinstance(node, ast.Return) or any(w.startswith("d_") for w in writes)
            if derivative and not lines[node.lineno - 2].lstrip().startswith("#"):
                missing.append(f"{fn.name}: {lines[node.lineno - 1].strip()}")
    return missing


def source_functions(path: str) -> set[str]:
    return {name for name, value in runpy.run_path(str(ROOT / path)).items()
            if callable(value) and getattr(value, "__module__", None) == "<run_path>"}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_derivative_line_of_the_samples_has_a_comment_above_it(case, at_root):
    text = generate(*case, explain=True)
    assert uncommented_derivative_lines(text, source_functions(case[0])) == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_explained_code_is_the_plain_code_with_comments_added(case, at_root):
    plain, explained = generate(*case), generate(*case, explain=True)
    assert Header.read(explained).explain and not Header.read(plain).explain
    assert code_lines(Header.read(explained).body_of(explained)) == code_lines(
        Header.read(plain).body_of(plain))
    assert ast.dump(ast.parse(explained)) == ast.dump(ast.parse(plain))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_plain_output_is_the_committed_golden_file(case, at_root):
    path, name, _, mode = case
    assert generate(*case) == golden_path(path, name, mode).read_text(encoding="utf-8")


def test_the_seed_shows_its_rules_by_name(at_root):
    reverse = generate("samples/seed.py", "h", "x", "reverse", explain=True)
    for rule in ("d/dx sin(x) = cos(x)", "d/dx exp(x) = exp(x)",
                 "d/da (a ** b) = b * a ** (b - 1) (power rule)",
                 "d/da (a * b) = b, d/db (a * b) = a (product rule)"):
        assert f"    # {rule}\n" in reverse, rule
    assert "# chain rule: each partial times the adjoint of its result, added into d_sin_x" \
        in reverse
    forward = generate("samples/seed.py", "h", "x", "forward", explain=True)
    assert "# chain rule: each partial times its argument's tangent" in forward


def test_a_reversed_loop_and_its_tape_are_explained(at_root):
    text = generate("samples/projectile.py", "landing", ("angle", "speed"), "reverse",
                    explain=True)
    lines = [line.strip() for line in text.splitlines()]
    above = {lines[i + 1]: line for i, line in enumerate(lines[:-1]) if line.startswith("#")}
    assert above["for _ in range(_trips):"] == (
        "# the loop runs backwards: adjoints flow from the last iteration to the first")
    assert above["_stack.append((vy, air, relative))"].startswith("# the tape saves")
    assert above["vy, air, relative = _stack.pop()"].startswith("# read back from the tape")


def test_a_loop_of_independent_iterations_says_it_needs_no_tape(at_root):
    text = generate("samples/sine_loop.py", "loss", "omega", "reverse", explain=True)
    assert "no tape" in text and "_stack" not in text


@pytest.mark.parametrize("case", EXPLAINED, ids=[f"{p}::{n}-{m}" for p, n, _, m in EXPLAINED])
def test_explained_golden_files_are_current_and_match_finite_differences(case, at_root):
    path, name, wrt, mode = case
    golden = explained_path(path, name, mode)
    assert generate(*case[:3], mode, explain=True) == golden.read_text(encoding="utf-8")
    f = runpy.run_path(str(ROOT / path))[name]
    fpr = runpy.run_path(str(golden))[derivative_name(name)]
    xs, ys = [0.1, 0.5, -0.3, 1.2], [0.2, 0.6, -0.4, 0.9]
    args = (0.7,) if name == "h" else (1.3, xs, ys)
    np.testing.assert_allclose(fpr(*args), numeric_gradient(f, args, 0), rtol=1e-6)


def test_the_cli_flag_writes_what_the_api_gives_and_check_keeps_it(tmp_path, at_root):
    out = tmp_path / "hpr.py"
    result = run("grad", "samples/seed.py::h", "--explain", "-o", out)
    assert result.exit_code == 0, result.output
    assert "# explain: yes" in out.read_text(encoding="utf-8")
    from seed_module import h  # noqa: F401  (see the fixture below)

    assert adt.source(h, explain=True) == out.read_text(encoding="utf-8")
    assert run("check", out).exit_code == 0


def test_check_prints_the_explain_flag_in_the_command_that_regenerates(project):
    out = project / "hpr.py"
    assert run("grad", "samples/seed.py::h", "--explain", "-o", out).exit_code == 0
    seed = project / "samples" / "seed.py"
    seed.write_text(seed.read_text().replace("** 2", "** 3"), encoding="utf-8")
    result = run("check", out)
    assert result.exit_code != 0
    assert "ad-transpile grad samples/seed.py::h --wrt x --explain -o hpr.py" in result.output
    assert run("regen", out).exit_code == 0
    assert "** 3" not in out.read_text() and "# explain: yes" in out.read_text()
    assert run("check", out).exit_code == 0


def test_the_grad_help_explains_the_flag():
    assert "--explain" in run("grad", "--help").output


def test_the_sample_runs_and_agrees_with_finite_differences():
    done = subprocess.run([sys.executable, str(ROOT / "samples" / "explain_seed.py")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "# d/dx sin(x) = cos(x)" in done.stdout
    assert "h: explained derivative" in done.stdout and "loss: explained" in done.stdout


@pytest.fixture(autouse=True)
def seed_module(monkeypatch):
    """The seed sample importable as ``seed_module``, as a user's module is."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("seed_module", ROOT / "samples" / "seed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "seed_module", module)
    return module
