"""Shared helpers: transpile source text, load the derivative, compare with finite differences."""

from __future__ import annotations

import functools
import os
import random
import shutil
import textwrap
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from click.testing import CliRunner

from ad_transpile.cli import main
from ad_transpile.load import load
from ad_transpile.parse import function_in_text
from ad_transpile.pipeline import transpile

ROOT = Path(__file__).resolve().parent.parent
MODES = ("reverse", "forward")
# AD_TRANSPILE_FULL=1 (as .ci/run sets it once) runs the long searches of random programs at
# their full count; the default count keeps the test loop short
FULL = os.environ.get("AD_TRANSPILE_FULL") == "1"


def program_count(variable: str, default: int, full: int) -> int:
    """How many random programs a search checks: ``variable`` if set, else the full or the
    default count."""
    return int(os.environ.get(variable, full if FULL else default))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first: they wait on package installs, which then overlap the rest of the
    run instead of ending it last."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def first_function(src: str) -> str:
    return next(
        line.split("def ", 1)[1].split("(", 1)[0]
        for line in src.splitlines()
        if line.startswith("def ")
    )


def generated(src: str, wrt: Any = 0, mode: str = "reverse", kind: str = "grad",
              name: str | None = None) -> str:
    """The derivative module text of the first function in ``src`` (or of ``name``)."""
    return transpiled(src, wrt, mode, kind, name)[0]


def transpiled(src: str, wrt: Any, mode: str, kind: str, name: str | None) -> tuple[str, str]:
    """The derivative module text and its entry point's name; a check asks for the same
    derivative several times (to run it, and to show it when it fails), so each is made once."""
    spec = tuple(wrt) if isinstance(wrt, list) else wrt
    return _transpiled(textwrap.dedent(src), spec, mode, kind, name)


@functools.lru_cache(maxsize=256)
def _transpiled(src: str, wrt: Any, mode: str, kind: str, name: str | None) -> tuple[str, str]:
    return transpile(function_in_text(src, "example.py", name or first_function(src)),
                     wrt, mode, kind)


def imported(src: str, folder: Path, module: str = "example_module") -> Any:
    """The module ``src`` imported from a file in ``folder``, so that the API can read the
    source of its functions, as it reads a user's."""
    import importlib.util

    path = folder / f"{module}.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(module, path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def primal(src: str, name: str | None = None) -> Callable:
    """The function defined in ``src``, run as ordinary Python."""
    src = textwrap.dedent(src)
    namespace: dict[str, Any] = {}
    exec(compile(src, "example.py", "exec"), namespace)
    return namespace[name or first_function(src)]


def derivative(src: str, wrt: Any = 0, mode: str = "reverse", kind: str = "grad",
               name: str | None = None) -> Callable:
    """The compiled derivative of the first function in ``src``."""
    text, entry = transpiled(src, wrt, mode, kind, name)
    return load(text, entry, f"test {name or first_function(textwrap.dedent(src))}")


def numeric_gradient(f: Callable, args: tuple, index: int, step: float = 1e-6) -> Any:
    """Central finite differences of ``f`` along positional argument ``index``."""
    point = np.asarray(args[index], dtype=float)
    result = np.zeros_like(point)
    for i in np.ndindex(point.shape):
        h = step * max(1.0, abs(float(point[i])))
        up, down = point.copy(), point.copy()
        up[i] += h
        down[i] -= h
        at = [list(args), list(args)]
        at[0][index] = up if up.shape else float(up)
        at[1][index] = down if down.shape else float(down)
        result[i] = (f(*at[0]) - f(*at[1])) / (2 * h)
    return result if result.shape else float(result)


def check_gradient(src: str, args: tuple, wrt: tuple[int, ...] = (0,),
                   modes: tuple[str, ...] = MODES, rtol: float = 1e-5,
                   atol: float = 1e-6, name: str | None = None) -> None:
    """Both modes' derivatives of ``src`` agree with central finite differences at ``args``."""
    f = primal(src, name)
    expected = [numeric_gradient(f, args, i) for i in wrt]
    spec = wrt if len(wrt) > 1 else wrt[0]
    for mode in modes:
        fpr = derivative(src, spec, mode, name=name)
        got = fpr(*args)
        got = got if len(wrt) > 1 else (got,)
        for i, g, e in zip(wrt, got, expected):
            text = generated(src, spec, mode, name=name)
            story = f"{mode} mode, argument {i}, at {args}\n{text}"
            assert has_shape_of(g, e), f"shape {np.shape(g)}, not {np.shape(e)}: {story}"
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=story)


def has_shape_of(got: Any, expected: Any) -> bool:
    """``got`` has the shape of ``expected`` (``assert_allclose`` would broadcast it), or is the
    number 0.0 that a generated reverse-mode file gives for a gradient of zeros."""
    if np.ndim(got) == 0 and not np.any(expected):
        return True
    return np.shape(got) == np.shape(expected)


def forward_gradient(src: str, args: tuple, wrt: tuple[int, ...]) -> list[Any]:
    """The gradient by the generated tangent function, one sweep per element (a basis of
    tangents), as ``adt.grad(..., mode="forward")`` computes it for arrays."""
    jvp = derivative(src, wrt if len(wrt) > 1 else wrt[0], "forward", kind="jvp")
    gradients = [np.zeros(np.shape(args[i])) for i in wrt]
    for k, i in enumerate(wrt):
        for index in np.ndindex(np.shape(args[i])):
            tangents = [np.zeros(np.shape(args[j])) for j in wrt]
            tangents[k][index] = 1.0
            gradients[k][index] = jvp(*args, *tangents)[1]
    return gradients


def batched_gradient(src: str, args: tuple, wrt: tuple[int, ...]) -> tuple[Any, ...]:
    """The gradient by the generated forward-mode file: one sweep of batched tangents."""
    spec = wrt if len(wrt) > 1 else wrt[0]
    text = generated(src, spec, "forward")
    assert "_basis(" in text or "_directions(" in text, f"no batched tangents in\n{text}"
    got = derivative(src, spec, "forward")(*args)
    return got if len(wrt) > 1 else (got,)


def check_array_gradient(src: str, args: tuple, wrt: tuple[int, ...] = (0,),
                         rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Reverse mode, forward mode by tangents (one sweep per element) and forward mode by
    batched tangents (one sweep in all) agree with finite differences at ``args``."""
    f = primal(src)
    expected = [numeric_gradient(f, args, i) for i in wrt]
    spec = wrt if len(wrt) > 1 else wrt[0]
    reverse = derivative(src, spec, "reverse")(*args)
    reverse = reverse if len(wrt) > 1 else (reverse,)
    for mode, got in (("reverse", reverse), ("forward", forward_gradient(src, args, wrt)),
                      ("batched forward", batched_gradient(src, args, wrt))):
        for i, g, e in zip(wrt, got, expected):
            assert np.shape(g) == np.shape(e), f"{mode} mode: shape {np.shape(g)}"
            np.testing.assert_allclose(
                g, e, rtol=rtol, atol=atol,
                err_msg=f"{mode} mode, argument {i}\n"
                        f"{generated(src, spec, mode.removeprefix('batched '))}",
            )


def check_rejects(src: str, match: str, wrt: Any = 0) -> None:
    """Transpiling ``src`` raises a TranspileError located in it whose message matches."""
    from ad_transpile import TranspileError

    with pytest.raises(TranspileError, match=match) as caught:
        generated(src, wrt)
    assert str(caught.value).startswith("example.py:"), str(caught.value)


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root, where sample paths in golden headers are relative to."""
    monkeypatch.chdir(ROOT)
    return ROOT


def run(*args: str | Path):
    """``ad-transpile ARGS...`` in this process, with stdout and stderr kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding a copy of the samples."""
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


class ProgramText:
    """What the random-program generators share: a seeded choice, numbered names, and lines
    of source indented by depth inside ``def f``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lines: list[str] = []
        self.counter = 0
        self.statements = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * (depth + 1) + line)


def closes_at_end(expression: str) -> bool:
    """Whether the first opening parenthesis closes at the very end (``f(a) + g(b)`` does not)."""
    depth = 0
    for i, char in enumerate(expression):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and char == ")":
            return i == len(expression) - 1
    return False


def check_differentiates_again(src: str, args: tuple, i: int, seed: int) -> None:
    """Forward mode over the generated gradient along argument ``i`` (a Hessian-vector
    product) agrees with central differences of the gradient along the same direction."""
    first_text = generated(src, i)
    gradient = derivative(src, i)
    product = derivative(first_text, i, "forward", kind="jvp", name="fpr")
    direction = np.random.default_rng(seed).normal(size=np.shape(args[i]))
    step = 1e-6
    up, down = list(args), list(args)
    up[i], down[i] = args[i] + step * direction, args[i] - step * direction
    np.testing.assert_allclose(
        product(*args, direction)[1], (gradient(*up) - gradient(*down)) / (2 * step),
        rtol=1e-5, atol=1e-5, err_msg=first_text,
    )
