"""What cannot be differentiated is refused with a located message that says what and why."""

from __future__ import annotations

import pytest
from conftest import check_gradient, check_rejects, generated

from ad_transpile import TranspileError
from ad_transpile.parse import function_in_text

# (source, what the message must say: the construct, then why it is refused)
REJECTED = [
    ("def f(x):\n    return x +\n", r"syntax error: invalid syntax"),
    ("def f(x):\n    try:\n        return 1.0 / x\n    except ZeroDivisionError:\n"
     "        return 0.0\n", r"'try' .*exceptions cannot be differentiated"),
    ("def f(x):\n    with open('log') as log:\n        return x\n",
     r"'with' .*context managers cannot be differentiated"),
    ("TOTAL = 0.0\ndef f(x):\n    global TOTAL\n    TOTAL = x\n    return x\n",
     r"'global' .*writes to globals cannot be differentiated"),
    ("def f(x):\n    y = 2.0 * x\n    del y\n    return x\n",
     r"'del' .*deleting a variable cannot be differentiated"),
    ("def f(x):\n    raise ValueError(x)\n", r"'raise' .*exceptions cannot be differentiated"),
    ("def f(x):\n    fs = [lambda t: t * t]\n    return fs[0](x)\n",
     r"a lambda is not supported: a local function is differentiated where it is defined once"),
    ("def f(x):\n    def g(t):\n        u = t * t\n        return u\n    h = g\n    return h(x)\n",
     r"a nested function .*define it at the top level"),
    ("def f(x):\n    for _ in range(3):\n        x = x * x\n    else:\n        x = -x\n"
     "    return x\n",
     r"'else' on a loop is not supported: move the code after the loop"),
    ("def f(x, xs):\n    for v in xs:\n        v = v * x\n    return v\n",
     r"assigning to the loop variable 'v' inside the loop"),
    ("def f(x):\n    if x > 0.0:\n        return x\n",
     r"a path that ends without 'return' .*every path must return a value"),
    ("def f(x):\n    return hash(x)\n", r"no derivative rule for 'hash' and no source"),
    ("import scipy.special\ndef f(x):\n    return scipy.special.jv(0, x)\n",
     r"no derivative rule for 'scipy\.special\.jv' and no source"),
    ("import math\ndef f(x):\n    return math.frobnicate(x)\n",
     r"no derivative rule for 'math\.frobnicate'"),
    ("def f(x, g):\n    return g(x)\n",
     r"calling a local value .*only functions of imported modules, builtins and rules"),
    ("import math\ndef f(x):\n    g = math.sin\n    return g(x)\n", r"calling a local value"),
    ("def f(x, *rest):\n    return x\n", r"\*args or \*\*kwargs .*name every parameter"),
    ("def f(x, **options):\n    return x\n", r"\*args or \*\*kwargs .*name every parameter"),
    ("import math\ndef f(x, xs):\n    return x * math.hypot(*xs)\n",
     r"\*args or \*\*kwargs in a call .*pass each argument"),
    ("def f(x):\n    y = 2.0 * x\n", r"without 'return' .*to differentiate"),
    ("def f(x):\n    return\n", r"'return' without a value .*no result"),
    ("def f(x):\n    return x * SCALE\n", r"reading 'SCALE' .*neither a parameter"),
    ("def f(x, xs):\n    xs.append(x)\n    return x\n",
     r"a call whose result is unused is not supported: it may change a value in place"),
    ("def f(params, t):\n    p = params\n    return p['omega'] * t * t\n",
     r"indexing 'p' with a string key is not supported: a dict along wrt is differentiated "
     r"where the function only reads it by constant keys"),
    # the adjoint gives each array its piece by its place in the sequence written out
    ("import numpy as np\ndef f(a, b):\n    ms = [a, b]\n    return np.sum(np.concatenate(ms))\n",
     r"the arrays 'ms' held in one name, passed to 'numpy\.concatenate' is not supported"),
    ("import numpy as np\ndef f(a, b):\n    ms = [a, b]\n"
     "    return np.sum(np.linalg.multi_dot(ms))\n", r"write them out: numpy\.linalg\.multi_dot"),
]


@pytest.mark.parametrize("src, match", REJECTED, ids=[m for _, m in REJECTED])
def test_rejects(src, match):
    check_rejects(src, match)


@pytest.mark.parametrize(
    "wrt, match",
    [
        ("z", r"'z': f has the parameters \(x, y\)"),
        (2, r"2: f has the parameters \(x, y\)"),
        (("x", "x"), r"\('x', 'x'\): an argument is named twice"),
        ((), r"\(\): no argument is named"),
    ],
)
def test_rejects_wrt_that_names_no_parameter(wrt, match):
    src = "def f(x, y):\n    return x * y\n"
    check_rejects(src, "cannot differentiate with respect to " + match, wrt=wrt)


@pytest.mark.parametrize(
    "src, wrt, match",
    [
        ("def f(x, n):\n    s = x\n    for i in range(n):\n        s = s * 2.0\n    return s\n",
         "n", r"'n': it is only used as a loop bound"),
        ("def f(xs):\n    s = 0.0\n    for v in xs:\n        s += v\n    return s\n",
         "xs", r"looping over a value that depends on wrt"),
    ],
)
def test_rejects_wrt_that_has_no_derivative_here(src, wrt, match):
    check_rejects(src, match, wrt=wrt)


def test_rejects_async_def():
    src = "import math\n\nasync def f(x):\n    return math.sin(x)\n"
    with pytest.raises(TranspileError, match=r"'async def' .*a coroutine cannot be differ"):
        function_in_text(src, "example.py", "f")


def test_unknown_function_names_the_function():
    with pytest.raises(TranspileError, match=r"no function named 'g'"):
        function_in_text("def f(x):\n    return x\n", "example.py", "g")


# (source, the text the error must point at: its first occurrence in the source)
LOCATED = [
    ("import math\n\nTOTAL = 0.0\n\ndef f(x):\n    y = math.exp(x)\n    global TOTAL\n"
     "    TOTAL = y\n    return y\n", "global"),
    ("def f(x):\n    y = 2.0 * hash(x)\n    return y\n", "hash(x)"),
    ("def f(x):\n    y = x * x\n    return y * SCALE\n", "SCALE"),
    ("def f(x):\n    y = x\n    with open('log'):\n        y = y * 2.0\n    return y\n",
     "with"),
    ("def f(x):\n    square = lambda t: t * t\n    g = square\n    return square(x) + g(x)\n",
     "lambda"),
    ("def f(x):\n    y = x * x\n    del y\n    return x\n", "del"),
    ("\n\ndef f(x, *rest):\n    return x\n", "def f"),
    ("def f(params, t):\n    w = params\n    return t * w['omega']\n", "w['omega']"),
]


@pytest.mark.parametrize("src, construct", LOCATED, ids=[c for _, c in LOCATED])
def test_error_points_at_the_offending_construct(src, construct):
    before = src[: src.index(construct)]
    line, col = before.count("\n") + 1, len(before.rsplit("\n", 1)[-1]) + 1
    with pytest.raises(TranspileError) as caught:
        generated(src)
    assert (caught.value.line, caught.value.col) == (line, col), str(caught.value)
    assert str(caught.value).startswith(f"example.py:{line}:{col}: "), str(caught.value)


def test_syntax_error_is_located_where_python_locates_it():
    src = "def f(x):\n    y = (x + 1.0\n    return y\n"
    with pytest.raises(SyntaxError) as python:
        compile(src, "example.py", "exec")
    with pytest.raises(TranspileError) as caught:
        generated(src)
    where = f"example.py:{python.value.lineno}:{python.value.offset}: "
    assert str(caught.value).startswith(where), str(caught.value)


DICT_OF_WRT = "def f(params, t):\n    p = params\n    return p['omega'] * t * t\n"


def test_a_dict_used_whole_along_wrt_is_refused_in_forward_mode_too():
    with pytest.raises(TranspileError, match="indexing 'p' with a string key"):
        generated(DICT_OF_WRT, 0, "forward")


def test_a_dict_of_constants_beside_wrt_is_read_as_it_is():
    check_gradient("def f(x, options):\n    return options['scale'] * x * x\n",
                   (0.7, {"scale": 2.0}))


def test_a_value_that_only_fills_a_list_looped_over_has_derivative_zero():
    # the loop's bound is the list's length, not its items: found by the random programs
    check_gradient("def f(a, b):\n    items = [1.0, a]\n    for z in items:\n        b = b + z\n"
                   "    return b * 0.0 + 2.0\n", (0.7, 0.3))


def test_a_value_in_a_list_whose_length_bounds_a_loop_has_derivative_zero():
    # range(len(L)) counts L's items and reads none of them: found by the random programs
    check_gradient("def f(a, b):\n    L = [a, b]\n    k = max(L)\n    total = 0.0\n"
                   "    for i in range(len(L)):\n        total = total + b * i\n    a = 2.0 * b\n"
                   "    return total + a\n", (0.7, 0.3), (0, 1))


def test_a_value_that_bounds_a_loop_through_a_list_is_still_refused():
    check_rejects("def f(x, n):\n    L = [n, 2]\n    s = x\n    for i in range(max(L)):\n"
                  "        s = s * x\n    return s\n", "'n': it is only used as a loop bound",
                  wrt="n")
