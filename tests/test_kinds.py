"""The value model: what the transpiler knows of each value, where it learns it, and what the
derivative looks like once it knows (numbers give scalar code, as a person writes it)."""

from __future__ import annotations

import ast
import math
import random
import textwrap

import numpy as np
import pytest
from conftest import MODES, ROOT, imported, numeric_gradient, run

import ad_transpile as adt
from ad_transpile import api
from ad_transpile.infer import infer, param_kinds
from ad_transpile.kinds import (
    FLOAT,
    INT,
    UNKNOWN,
    Kind,
    array,
    kind_of_value,
    list_of,
    parse_kind,
    shaped_array,
    tuple_of,
)
from ad_transpile.names import Namer
from ad_transpile.normalize import normalize
from ad_transpile.parse import function_in_text
from ad_transpile.restructure import restructure
from ad_transpile.specialize import kind_of_argument


def kinds_of(src: str, **given):
    """The kinds the value model gives the variables of the first function in ``src``."""
    src = textwrap.dedent(src)
    name = next(line.split("def ", 1)[1].split("(")[0] for line in src.splitlines()
                if line.startswith("def "))
    parsed = function_in_text(src, "example.py", name)
    parsed.arg_kinds = given
    namer = Namer(parsed.local)
    fn = normalize(parsed, restructure(parsed, namer), namer)
    return infer(fn, param_kinds(parsed, given), parsed.constants)


def code_lines(text: str, function: str) -> list[str]:
    """The lines of ``function`` in generated ``text``: no docstring, comment or blank line."""
    tree = ast.parse(text)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    if ast.get_docstring(fn) is not None:
        fn.body = fn.body[1:]
    return [line for line in ast.unparse(fn).splitlines() if line.strip()]


# where kinds come from

def test_literals_math_and_len_give_numbers():
    found = kinds_of("""
        import math
        def f(x, xs):
            n = len(xs)
            a = 2.0 * n
            b = math.floor(a)
            c = math.sin(a) + b
            return c * x
    """)
    assert found.of("n") == INT and found.of("a") == FLOAT
    assert found.of("b") == INT and found.of("c") == FLOAT


def test_annotations_give_the_kinds_of_parameters():
    found = kinds_of("""
        import numpy as np
        def f(omega: float, xs: list[float], w: np.ndarray, n: int):
            return omega * xs[n] + np.sum(w)
    """)
    assert found.of("omega") == FLOAT and found.of("xs") == list_of(FLOAT)
    assert found.of("w") == array(None) and found.of("n") == INT


def test_indexing_a_known_kind_gives_its_items():
    found = kinds_of("""
        import numpy as np
        def f(xs, A, t):
            x = xs[0]
            row = A[0]
            a = A[1, 2]
            column = A[:, 0]
            first = t[0]
            return x + row[0] + a + np.sum(column) + first
    """, xs=list_of(FLOAT), A=array(2), t=tuple_of(FLOAT, array(1)))
    assert found.of("x") == FLOAT and found.of("row") == array(1)
    assert found.of("a") == FLOAT and found.of("column") == array(1)
    assert found.of("first") == FLOAT


@pytest.mark.parametrize("call, kind", [
    ("np.sin(w)", array(1)),  # elementwise: the argument's kind
    ("np.sin(x)", FLOAT),
    ("np.sum(w)", FLOAT),  # a reduction over every axis: a number
    ("np.sum(A, axis=0)", array(1)),  # over one axis: one dimension less
    ("np.zeros((3, 4))", array(2)),
    ("A @ w", array(1)),
    ("w @ w", FLOAT),
    ("np.array([x, x])", array(1)),
    ("np.maximum(w, x)", array(1)),
    ("np.mystery(w)", UNKNOWN),  # a function the model has no rule for
])
def test_numpy_results_follow_a_rule_per_family(call, kind):
    found = kinds_of(f"""
        import numpy as np
        def f(x, w, A):
            v = {call}
            return v
    """, x=FLOAT, w=array(1), A=array(2))
    assert found.of("v") == kind


def test_a_value_assigned_in_two_ways_has_the_kind_both_share():
    found = kinds_of("""
        def f(x, w, c):
            y = x * 2
            if c > 0:
                y = w * 2.0
            s = 0
            for i in range(3):
                s = s + 0.5
            return y + s
    """, x=FLOAT, w=array(1), c=FLOAT)
    assert found.of("y") == UNKNOWN  # a number here, an array there: nothing is assumed
    assert found.of("s") == FLOAT  # an int, then floats: a number


def test_without_annotations_numpy_code_knows_nothing_of_its_arguments():
    found = kinds_of("""
        import numpy as np
        def f(x, w):
            return np.sum(w * x)
    """)
    assert found.of("x") == UNKNOWN and found.holds_arrays


def test_code_of_numbers_only_takes_its_arguments_for_numbers():
    found = kinds_of("""
        import math
        def f(x, cs):
            s = 0.0
            for c in cs:
                s = s + math.sin(c * x)
            return s
    """)
    assert found.of("x") == FLOAT and found.of("cs") == list_of(FLOAT)
    assert not found.holds_arrays


@pytest.mark.parametrize("text, kind", [
    ("float", FLOAT), ("int", INT), ("list[float]", list_of(FLOAT)),
    ("tuple[float, int]", tuple_of(FLOAT, INT)), ("ndarray", array(None)),
    ("ndarray[2]", array(2)), ("np.ndarray", array(None)),
    ("ndarray[n, 1]", Kind("ndarray", ndim=2, dims=("n", 1))),
    ("list[ndarray[1]]", list_of(array(1))),
])
def test_a_kind_is_written_as_an_annotation_is(text, kind):
    assert parse_kind(text) == kind and parse_kind(str(kind)) == kind


@pytest.mark.parametrize("text", ["lst", "list[", "dict[str, float]", ""])
def test_a_kind_that_names_none_is_an_error(text):
    with pytest.raises(ValueError, match="is not a kind"):
        parse_kind(text)


@pytest.mark.parametrize("value, kind", [
    (1.5, FLOAT), (3, INT), (np.float64(2.0), FLOAT),
    (np.ones((2, 3)), parse_kind("ndarray[_, _]")),
    (np.ones((4, 1)), parse_kind("ndarray[_, 1]")),
    ([1.0, 2], list_of(FLOAT)), ([1, 2], list_of(INT)),
    ((1.0, np.ones(2)), tuple_of(FLOAT, shaped_array((2,)))),
    ([np.ones(2), np.ones(2)], list_of(shaped_array((2,)))), ([1.0, np.ones(2)], list_of(UNKNOWN)),
    ("text", UNKNOWN), (np.array(["a"]), UNKNOWN),
])
def test_the_kind_of_a_call_argument(value, kind):
    assert kind_of_value(value) == kind == kind_of_argument(value)


# what the derivative looks like once kinds are known

SINE_LOOP = (ROOT / "samples" / "sine_loop.py").read_text()


@pytest.mark.parametrize("mode", MODES)
def test_the_sine_fit_loop_reads_as_a_person_writes_it(mode):
    text = run("grad", "samples/sine_loop.py::loss", "--mode", mode).stdout
    lines = code_lines(text, "loss_pr")
    assert len(lines) <= 12, "\n".join(lines)
    assert "numpy" not in text and "\ndef _" not in text, text


@pytest.mark.parametrize("mode", MODES)
def test_the_command_line_takes_the_kinds_of_arguments_without_annotations(mode, tmp_path):
    plain = SINE_LOOP.replace(": float", "").replace(": list[float]", "").replace(
        ") -> float:", "):")
    (tmp_path / "loop.py").write_text(plain)
    general = run("grad", f"{tmp_path}/loop.py::loss", "--mode", mode).stdout
    told = run("grad", f"{tmp_path}/loop.py::loss", "--mode", mode, "--arg", "omega=float",
               "--arg", "xs=list[float]", "--arg", "ys=list[float]").stdout
    assert "numpy" in general  # with nothing known, the general code of today
    assert "numpy" not in told and "# args: omega=float; xs=list[float]; ys=list[float]" in told
    written = tmp_path / "loss_pr.py"
    written.write_text(told)
    assert run("check", str(written)).exit_code == 0  # check regenerates it with the kinds


def test_a_bad_kind_on_the_command_line_is_refused_before_anything_is_written(tmp_path):
    result = run("grad", "samples/sine_loop.py::loss", "--arg", "zs=float",
                 "-o", str(tmp_path / "out.py"))
    assert result.exit_code == 2 and "no parameter 'zs'" in result.output
    assert not (tmp_path / "out.py").exists()


# the API specializes to the kinds of the call's arguments

def data(n: int = 40) -> tuple[list[float], list[float]]:
    rng = random.Random(3)
    xs = [rng.uniform(-2.0, 2.0) for _ in range(n)]
    return xs, [math.sin(1.5 * x) + rng.gauss(0.0, 0.1) for x in xs]


LOOP_WITHOUT_KINDS = """
import math

def loss(omega, xs, ys):
    total = 0.0
    for i in range(len(xs)):
        r = math.sin(omega * xs[i]) - ys[i]
        total = total + r * r
    return total
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("as_array", [False, True], ids=["lists", "arrays"])
def test_the_api_makes_scalar_code_for_the_kinds_it_is_called_with(mode, as_array, tmp_path):
    loss = imported(LOOP_WITHOUT_KINDS, tmp_path, f"loop_{mode}_{as_array}").loss
    xs, ys = data()
    if as_array:
        xs, ys = np.array(xs), np.array(ys)
    gradient = adt.grad(loss, "omega", mode=mode)
    got = gradient(1.3, xs, ys)
    expected = numeric_gradient(loss, (1.3, xs, ys), 0)
    assert type(got) is float and math.isclose(got, expected, rel_tol=1e-6)
    kinds = (("omega", FLOAT), ("xs", kind_of_value(xs)), ("ys", kind_of_value(ys)))
    text, _ = api._transpiled(loss, "omega", mode, "grad", kinds)
    assert "numpy" not in text, text  # a float, and lists or 1-d arrays of floats: scalar code


def test_a_call_with_other_kinds_gets_a_derivative_of_its_own(tmp_path):
    f = imported("import numpy as np\n\ndef f(x, w):\n    return np.sum(w * x) * np.sum(x)\n",
                 tmp_path, "kinds_switch").f
    gradient = adt.grad(f, (0, 1))
    for x, w in [(0.7, 1.5), (0.7, np.array([1.0, -2.0])), (0.3, 2.5),
                 (np.array([0.5, 1.0]), np.array([[1.0, 2.0], [3.0, 4.0]]))]:
        got = gradient(x, w)
        for index, g in enumerate(got):
            np.testing.assert_allclose(g, numeric_gradient(f, (x, w), index), rtol=1e-6)
            assert np.shape(g) == np.shape((x, w)[index])


def test_keywords_and_defaults_reach_the_specialized_derivative(tmp_path):
    f = imported("import math\n\ndef f(x, scale=2.0):\n    return math.sin(scale * x)\n",
                 tmp_path, "kinds_defaults").f
    gradient = adt.grad(f)
    assert math.isclose(gradient(0.4), 2.0 * math.cos(0.8))
    assert math.isclose(gradient(0.4, scale=3.0), 3.0 * math.cos(1.2))
    assert math.isclose(gradient(x=0.4, scale=1.0), math.cos(0.4))


@pytest.mark.parametrize("mode", MODES)
def test_a_list_known_from_the_call_is_a_list_of_values_with_derivatives(mode, tmp_path):
    f = imported("def f(xs):\n    total = 0.0\n    for i in range(len(xs)):\n"
                 "        total = total + xs[i] * xs[i] * i\n    return total\n",
                 tmp_path, f"kinds_list_{mode}").f
    xs = [0.3, -1.2, 2.0]
    got = adt.grad(f, mode=mode)(xs)
    assert isinstance(got, list) and all(type(g) is float for g in got)
    np.testing.assert_allclose(got, [2.0 * x * i for i, x in enumerate(xs)], rtol=1e-12)
