"""The text of generated code: negative numbers keep their meaning, no trivial terms, lint-clean."""

from __future__ import annotations

import ast
import io
import keyword
import shutil
import subprocess
import tokenize

import pytest
from conftest import MODES, ROOT, check_gradient, generated, primal
from golden_cases import CASES, golden_path

# A negative constant printed without parentheses changes meaning: `-2.0 ** y` is -(2.0 ** y).
# (source, point, wrt): at an even exponent a lost sign shows up as the wrong number.
NEGATIVE_CONSTANTS = [
    ("def f(x, y):\n    return (-2.0) ** y * x\n", (0.7, 2.0), (0,)),
    ("def f(x, n):\n    return (2.0 - 4.0) ** n * x\n", (0.7, 2.0), (0,)),
    ("def f(x):\n    return (-1.5) ** 2 * x\n", (0.7,), (0,)),
    ("def f(x):\n    return (1.0 - 3.0) ** 2 * x\n", (0.7,), (0,)),
    ("def f(x):\n    return -2.0 ** x\n", (0.7,), (0,)),
    ("def f(x):\n    return x * -1.5\n", (0.7,), (0,)),
    ("def f(x):\n    return (x * -1.5) ** 3\n", (0.7,), (0,)),
    ("def f(x):\n    return (-1.5 * x) ** 2\n", (0.7,), (0,)),
    ("def f(x):\n    return x ** 3 * -2.0\n", (0.7,), (0,)),
    ("def f(x):\n    return x ** 2 * (0.5 - 2.0)\n", (0.7,), (0,)),
    ("def f(x):\n    return x ** -2.0\n", (0.7,), (0,)),
    ("def f(x):\n    return x ** (1.0 - 3.0)\n", (0.7,), (0,)),
    ("def f(x):\n    return 1.0 / (-2.0 * x)\n", (0.7,), (0,)),
    ("def f(x):\n    return 2.0 ** -x\n", (0.7,), (0,)),
    ("def f(x):\n    return x * -(-1.5)\n", (0.7,), (0,)),
    ("def f(x, y):\n    return (x - 2.0 * y) ** 2 * -0.5\n", (0.7, 1.3), (0, 1)),
]


@pytest.mark.parametrize("src, point, wrt", NEGATIVE_CONSTANTS,
                         ids=[s.splitlines()[1].strip() for s, _, _ in NEGATIVE_CONSTANTS])
def test_negative_constants_keep_their_meaning(src, point, wrt):
    check_gradient(src, point, wrt)


# (source, wrt): functions whose derivatives a person writes without multiplying by one etc.
SMALL_FUNCTIONS = [
    ("def f(x):\n    return x * x\n", 0),
    ("def f(x):\n    return x ** 2\n", 0),
    ("def f(x):\n    return x ** 2.0\n", 0),
    ("def f(x):\n    return x ** 3\n", 0),
    ("def f(x):\n    return 3.0 * x + 2.0\n", 0),
    ("def f(x):\n    return -x\n", 0),
    ("def f(x):\n    return (x + 1.0) ** 2\n", 0),
    ("def f(x, y):\n    return x + y\n", (0, 1)),
    ("def f(x, y):\n    return x - y\n", (0, 1)),
    ("def f(x, y):\n    return x * y\n", (0, 1)),
    ("def f(x, y):\n    return x / y\n", (0, 1)),
    ("def f(x, y):\n    return 2.0 * (x + y)\n", (0, 1)),
    ("import math\ndef f(x):\n    return math.exp(x)\n", 0),
    ("import math\ndef f(x):\n    return math.sqrt(x)\n", 0),
    ("import math\ndef f(x):\n    return math.log(x) + x\n", 0),
    ("import math\ndef f(x):\n    return math.sin(x) * math.cos(x)\n", 0),
    ("import math\ndef f(x):\n    return math.tanh(2.0 * x)\n", 0),
    ("import math\ndef f(x, y):\n    return math.exp(x * y) + y\n", (0, 1)),
]
SMALL_IDS = [s.splitlines()[-1].strip() for s, _ in SMALL_FUNCTIONS]


NEUTRAL = {("*", 1), (1, "*"), ("/", 1), ("**", 1), ("**", 0), ("+", 0), (0, "+"), ("-", 0),
           ("*", 0), (0, "*")}


def trivial_terms(text: str) -> list[str]:
    """Arithmetic with a neutral or absorbing constant: ``* 1.0``, ``+ 0.0``, ``** 1``, ..."""
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
              if t.type in (tokenize.OP, tokenize.NUMBER, tokenize.NAME)]
    found = []
    for i, (before, after) in enumerate(zip(tokens, tokens[1:])):
        unary = before.string == "-" and (i == 0 or not _ends_operand(tokens[i - 1]))
        if (_value(before), _value(after)) in NEUTRAL and not unary:
            found.append(f"line {before.start[0]}: {before.line.strip()}")
    return found


def _ends_operand(token: tokenize.TokenInfo) -> bool:
    if token.type == tokenize.NAME:
        return not keyword.iskeyword(token.string)
    return token.type == tokenize.NUMBER or token.string in ")]"


def _value(token: tokenize.TokenInfo) -> object:
    return ast.literal_eval(token.string) if token.type == tokenize.NUMBER else token.string


def test_trivial_terms_are_found_by_the_checker():
    text = ("a = x * 1.0\nb = 0.0 + y\nc = y ** 1\nd = 1 * z\ne = x - 0.0\n"
            "f = x * 10.0 + 1.5 ** y - 0.5\ng = -0.0 * x\nh = (-0.5) ** x\n"
            "def k(x):\n    return -0.0 + x\n")
    assert [t.split(": ")[1] for t in trivial_terms(text)] == [
        "a = x * 1.0", "b = 0.0 + y", "c = y ** 1", "d = 1 * z", "e = x - 0.0", "g = -0.0 * x",
        "return -0.0 + x",
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("src, wrt", SMALL_FUNCTIONS, ids=SMALL_IDS)
def test_no_trivial_terms(src, wrt, mode):
    text = generated(src, wrt, mode)
    assert trivial_terms(text) == [], text


@pytest.mark.parametrize("src, wrt", SMALL_FUNCTIONS, ids=SMALL_IDS)
def test_small_functions_are_right(src, wrt):
    point = (0.7, 1.3)[: primal(src).__code__.co_argcount]
    check_gradient(src, point, wrt if isinstance(wrt, tuple) else (wrt,))


def ruff() -> str:
    found = shutil.which("ruff")
    if found is None:
        try:
            from ruff.__main__ import find_ruff_bin
        except ImportError:
            pytest.skip("ruff is not installed")
        found = find_ruff_bin()
    return found


def assert_ruff_clean(text: str) -> None:
    done = subprocess.run(
        [ruff(), "check", "--no-cache", "--select", "F,E", "--stdin-filename", "x.py", "-"],
        input=text, capture_output=True, text=True, check=False, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr + text


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}::{c[1]}-{c[3]}" for c in CASES])
def test_golden_files_are_ruff_clean(case):
    path, name, _, mode = case
    assert_ruff_clean(golden_path(path, name, mode).read_text(encoding="utf-8"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("src, wrt", SMALL_FUNCTIONS[-6:], ids=SMALL_IDS[-6:])
def test_generated_code_is_ruff_clean(src, wrt, mode):
    assert_ruff_clean(generated(src, wrt, mode))


def test_the_ruff_check_catches_an_unused_import():
    with pytest.raises(AssertionError):
        assert_ruff_clean("import math\n\n\ndef fpr(x):\n    return 3.0\n")
