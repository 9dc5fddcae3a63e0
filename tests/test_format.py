"""Generated files read as the source does and are laid out as black and ruff leave them."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, check_gradient, generated
from golden_cases import ARRAY_SAMPLES, GOLDEN, MODES, SAMPLES, generate

ALL_SAMPLES = SAMPLES + ARRAY_SAMPLES


def ruff(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every sample generated now, in both modes and at order 2, with the golden files' ruff
    settings."""
    folder = tmp_path_factory.mktemp("generated")
    (folder / "ruff.toml").write_text((GOLDEN / "ruff.toml").read_text().replace(
        "../../pyproject.toml", (ROOT / "pyproject.toml").as_posix()))
    for path, name, wrt in ALL_SAMPLES:
        for mode in MODES:
            for order in (1, 2):
                text = generate(path, name, wrt, mode, order=order)
                (folder / f"{Path(path).stem}_{name}_{mode}_{order}.py").write_text(text)
    return folder


@pytest.mark.parametrize("folder", ["golden", "fresh"])
def test_ruff_format_leaves_generated_files_unchanged(folder: str, fresh: Path) -> None:
    where = GOLDEN if folder == "golden" else fresh
    result = ruff("format", "--check", "--diff", where)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("folder", ["golden", "fresh"])
def test_ruff_check_is_clean_on_generated_files(folder: str, fresh: Path) -> None:
    where = GOLDEN if folder == "golden" else fresh
    result = ruff("check", "--no-cache", where)
    assert result.returncode == 0, result.stdout + result.stderr


def test_black_leaves_generated_files_unchanged(fresh: Path) -> None:
    import black

    for path in sorted(fresh.glob("*.py")):
        text = path.read_text()
        assert black.format_str(text, mode=black.Mode()) == text, path.name


def test_no_trailing_whitespace_and_no_break_inside_an_argument(fresh: Path) -> None:
    for path in sorted(fresh.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert line == line.rstrip(), f"{path.name}:{number}: {line!r}"
            assert not line.lstrip().startswith("="), f"{path.name}:{number}: {line!r}"


def test_a_long_call_breaks_between_its_arguments() -> None:
    text = generate("samples/two_layer_net.py", "loss", ("W1", "W2"), "reverse")
    assert "keepdims=True" in text
    assert not re.search(r"\w\n\s*=", text)  # astor's own wrapping broke ``keepdims\n=True``


IMPORTS = """
import numpy as np
from math import exp, cos
import math

SCALE = 2.0

def f(x: float):
    return SCALE * np.sin(x) + math.tan(x) + exp(x) * cos(x)
"""


def test_imports_come_in_isort_sections_and_order() -> None:
    text = generated(IMPORTS)
    body = text.split("\n\n\ndef ")[0].split("\n")
    imports = [line for line in body if not line.startswith("#")]
    assert imports == ["import math", "from math import cos, exp", "", "import numpy as np", "",
                       "SCALE = 2.0"]


def test_imports_in_isort_order_keep_the_derivative() -> None:
    check_gradient(IMPORTS, (0.7,))


LOOP = """
def loss(omega, xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        total = total + (omega * x - y) ** 2
    return total
"""


def test_a_loop_variable_the_adjoint_does_not_read_is_named_underscore() -> None:
    tree = ast.parse(generated(LOOP))
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for loop in (n for n in ast.walk(tree) if isinstance(n, ast.For)):
        for target in (n for n in ast.walk(loop.target) if isinstance(n, ast.Name)):
            assert target.id in read or target.id.startswith("_"), target.id


def test_a_loop_variable_named_underscore_keeps_the_derivative() -> None:
    check_gradient(LOOP, (0.7, [0.1, 0.5, -0.3], [0.2, 0.6, -0.4]))


def test_two_generations_are_byte_identical() -> None:
    path, name, wrt = SAMPLES[-1]
    assert generate(path, name, wrt, "reverse") == generate(path, name, wrt, "reverse")


def test_text_that_does_not_mean_the_generated_tree_is_an_internal_error(monkeypatch) -> None:
    from ad_transpile import emit

    monkeypatch.setattr(emit, "formatted", lambda text: text.replace("math.cos", "math.sin"))
    with pytest.raises(AssertionError, match="does not mean the generated tree"):
        generated("import math\n\ndef wave(t):\n    # a comment of the source\n"
                  "    return math.sin(3.0 * t)\n")
