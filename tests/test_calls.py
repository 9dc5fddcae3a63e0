"""Calls to the user's own functions and user-defined derivative rules, used as a user would.

Each source below starts with the function that is differentiated (the conftest helpers take
the first ``def``), followed by the helpers it calls.
"""

from __future__ import annotations

import importlib
import logging
import math
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import (
    MODES,
    check_array_gradient,
    check_gradient,
    check_rejects,
    derivative,
    generated,
    numeric_gradient,
)

import ad_transpile as adt
from ad_transpile.cli import main


def run(*args: str | Path):
    """``ad-transpile ARGS...`` in this process, with stdout and stderr kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args])


def defined_in(text: str, name: str):
    """The function ``name`` defined by a generated module's text."""
    namespace: dict = {}
    exec(compile(text, "generated.py", "exec"), namespace)
    return namespace[name]


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty project folder, the working directory, whose modules can be imported."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("helpers", "model", "windowed", "activations", "neurons"):
        monkeypatch.delitem(sys.modules, name, raising=False)  # a stale one of the same name
    yield tmp_path
    for name, module in list(sys.modules.items()):  # forget the project's modules again
        if tmp_path in Path(getattr(module, "__file__", None) or "/").parents:
            del sys.modules[name]


def imported(project: Path, module: str):
    importlib.invalidate_caches()
    return importlib.import_module(module)


# helpers differentiated along with their caller, checked against finite differences

PICK = """
def pick(x, k):
    if k > 0:
        y = square(x)
    else:
        y = cube(x)
    return y

def square(x):
    return x * x

def cube(x):
    return x * x * x
"""

HELPERS = [
    pytest.param(
        """
        import math

        def loss(w, xs):
            total = 0.0
            for x in xs:
                total += model(w, x) ** 2
            return total

        def model(w, x):
            return math.tanh(w * x)
        """,
        (0.7, [0.1, -0.5, 2.0]), (0,), id="helper-in-a-for-loop-over-data",
    ),
    pytest.param(
        """
        def iterate(x, n):
            y = x
            for _ in range(n):
                y = step(y, x)
            return y

        def step(y, x):
            return y * x + 0.1
        """,
        (0.7, 4), (0,), id="helper-carrying-a-value-around-a-loop",
    ),
    pytest.param(
        """
        def descend(x):
            y = x
            while y > 0.1:
                y = halve(y) - 0.3
            return y * x

        def halve(y):
            return 0.5 * y
        """,
        (3.7,), (0,), id="helper-in-a-while-loop",
    ),
    pytest.param(
        PICK,
        (0.7, 1), (0,), id="helpers-in-branches-taken",
    ),
    pytest.param(
        PICK,
        (0.7, -1), (0,), id="helpers-in-branches-not-taken",
    ),
    pytest.param(
        """
        import math

        def outer(x, y):
            return middle(x, y) * middle(y, x)

        def middle(x, y):
            return inner(x * y) + y

        def inner(x):
            return math.sin(x) * x
        """,
        (0.7, 1.3), (0, 1), id="nested-helpers",
    ),
    pytest.param(
        """
        def total(x, y):
            return shift(x) + shift(x, -2.5) + shift(y, offset=1e-3, power=3) + shift(
                power=2, x=x * y)

        def shift(x, offset=-1.0, power=2):
            return (x + offset) ** power
        """,
        (0.7, 1.3), (0, 1), id="keyword-and-default-arguments",
    ),
    pytest.param(
        """
        def total(x, s):
            return scaled(x) + scaled(x, shift=s) + scaled(s, scale=x)

        def scaled(x, scale=2.0, *, shift=0.5):
            return scale * x * x + shift * x
        """,
        (0.7, 1.3), (0, 1), id="keyword-only-argument-with-default",
    ),
    pytest.param(
        """
        import math

        def area(r, t):
            u, v = polar(r, t)
            return u * v + u

        def polar(r, t):
            return r * math.cos(t), r * math.sin(t)
        """,
        (0.7, 1.3), (0, 1), id="tuple-both-outputs-used",
    ),
    pytest.param(
        """
        import math

        def width(r, t):
            u, v = polar(r, t)
            return u * 3.0

        def polar(r, t):
            return r * math.cos(t), r * math.sin(t)
        """,
        (0.7, 1.3), (0, 1), id="tuple-first-output-used",
    ),
    pytest.param(
        """
        import math

        def height(r, t):
            _, v = polar(t=t, r=r)
            return v * v

        def polar(r, t):
            return r * math.cos(t), r * math.sin(t)
        """,
        (0.7, 1.3), (0, 1), id="tuple-second-output-used-keywords",
    ),
    pytest.param(
        """
        import math

        def spiral(r, t, n):
            x = 0.0
            for i in range(n):
                u, v = polar(r + x, t * i)
                x = x + u * v
            return x

        def polar(r, t):
            return r * math.cos(t), r * math.sin(t)
        """,
        (0.7, 1.3, 3), (0, 1), id="tuple-in-a-loop",
    ),
    pytest.param(
        """
        def mix(x, c):
            a = scale(x, c)
            b = scale(c, x)
            d = scale(x, c)
            return a + b * d

        def scale(u, v):
            return u * u * v
        """,
        (0.7, 1.3), (0,), id="same-helper-different-active-arguments",
    ),
    pytest.param(
        """
        def mix(x, c):
            a = scale(x, c)
            b = scale(c, x)
            return a * b

        def scale(u, v):
            return u * u * v
        """,
        (0.7, 1.3), (0, 1), id="same-helper-all-arguments-active",
    ),
    pytest.param(
        """
        def ratio(x, y):
            return scaled(x, y)

        def scaled(x, s, /):
            return s * x / (1.0 + x * x)
        """,
        (0.7, 1.3), (0, 1), id="positional-only-parameters",
    ),
]


@pytest.mark.parametrize("src, args, wrt", HELPERS)
def test_calls_to_helpers_match_finite_differences(src, args, wrt):
    check_gradient(src, args, wrt)


SCALE_THREE_WAYS = """
def mix(x, c):
    a = scale(x, c)
    b = scale(c, x)
    d = scale(x, c)
    return a + b * d

def scale(u, v):
    return u * u * v
"""


@pytest.mark.parametrize("mode", MODES)
def test_each_set_of_active_arguments_gets_one_derivative(mode):
    text = generated(SCALE_THREE_WAYS, "x", mode)
    # scale(x, c) twice and scale(c, x) once: two derivatives, the first one shared
    suffix = "_jvp" if mode == "forward" else "_pr"  # a callee's tangent map is its jvp
    assert text.count(f"def scale{suffix}(") == 1, text
    assert text.count(f"def scale{suffix}_2(") == 1, text
    assert f"scale{suffix}_3" not in text, text


NESTED = """
import math

def outer(x, y):
    return middle(x, y) * middle(y, x)

def middle(x, y):
    return inner(x * y) + y

def inner(x):
    return math.sin(x) * x
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_callee_reached_several_times_is_generated_once(mode):
    text = generated(NESTED, ("x", "y"), mode)
    suffix = "_jvp" if mode == "forward" else "_pr"
    assert text.count(f"def middle{suffix}(") == 1, text
    assert text.count(f"def inner{suffix}(") == 1, text
    assert f"{suffix}_2" not in text, text


# helpers in other modules of the project

PROJECT = {
    "helpers.py": """
        import math


        def smooth(x, width=1.0):
            return width * math.log1p(math.exp(x / width))


        def polar(r, t):
            return r * math.cos(t), r * math.sin(t)


        def unrelated(x):
            return x + 1.0
        """,
    "model.py": """
        import helpers
        from helpers import polar


        def energy(r, t):
            u, v = polar(r, t)
            return helpers.smooth(u * v) + helpers.smooth(u, width=2.0) + damping(r)


        def damping(r):
            return 0.1 * r * r
        """,
}


@pytest.mark.parametrize("mode", MODES)
def test_cli_differentiates_helpers_found_next_to_the_file(project, mode):
    write(project, PROJECT)
    result = run("grad", "model.py::energy", "--wrt", "r", "--wrt", "t", "--mode", mode)
    assert result.exit_code == 0, result.stderr
    suffix = "_jvp" if mode == "forward" else "_pr"
    assert f"def polar{suffix}(" in result.stdout and f"def smooth{suffix}(" in result.stdout
    energy = imported(project, "model").energy
    got = defined_in(result.stdout, "energy_pr")(0.7, 1.3)
    expected = [numeric_gradient(energy, (0.7, 1.3), i) for i in (0, 1)]
    assert got == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_api_differentiates_helpers_of_an_imported_module(project, mode):
    write(project, PROJECT)
    energy = imported(project, "model").energy
    got = adt.grad(energy, ("r", "t"), mode=mode)(0.7, 1.3)
    expected = [numeric_gradient(energy, (0.7, 1.3), i) for i in (0, 1)]
    assert got == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_cli_finds_a_helper_in_a_package(project, mode):
    (project / "geometry").mkdir()
    (project / "app").mkdir()
    write(project, {
        "geometry/__init__.py": "",
        "geometry/shapes.py": """
            import math


            def area(r):
                return math.pi * r * r
            """,
        "app/cost.py": """
            from geometry.shapes import area


            def cost(r):
                return area(r) * 2.0
            """,
    })
    result = run("grad", "app/cost.py::cost", "--mode", mode)
    assert result.exit_code == 0, result.stderr
    assert defined_in(result.stdout, "cost_pr")(0.7) == pytest.approx(4.0 * math.pi * 0.7)


def test_library_code_is_not_differentiated_but_asks_for_a_rule(project):
    write(project, {"windowed.py": """
        import numpy as np


        def windowed(x):
            return np.i0(x) * x
        """})
    windowed = imported(project, "windowed").windowed
    with pytest.raises(adt.TranspileError, match=r"^windowed\.py:5:12: no derivative rule for "
                       r"'numpy\.i0'.*@partials\(numpy\.i0\)"):
        adt.grad(windowed)


@pytest.mark.parametrize(
    "file, old, new, stale",
    [
        ("helpers.py", "r * math.sin(t)", "r * math.sin(2.0 * t)", True),  # another module
        ("model.py", "0.1 * r * r", "0.2 * r * r", True),  # the same module
        ("helpers.py", "x + 1.0", "x + 2.0", False),  # a function energy does not call
    ],
    ids=["callee-in-another-module", "callee-in-the-same-module", "unrelated-function"],
)
def test_check_reports_a_file_stale_when_only_a_callee_changed(project, file, old, new, stale):
    write(project, PROJECT)
    assert run("grad", "model.py::energy", "-o", "out/energy_pr.py").exit_code == 0
    assert run("check", "out/energy_pr.py").exit_code == 0
    edited = project / file
    assert old in edited.read_text(encoding="utf-8")
    edited.write_text(edited.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    result = run("check", "out/energy_pr.py")
    assert result.exit_code == (1 if stale else 0), result.stdout
    assert ("out/energy_pr.py: stale" in result.stdout) == stale, result.stdout


# user rules

RULE_WINS = [
    pytest.param(
        """
        import math

        from ad_transpile import partials

        def neuron(w, x):
            return softplus(w * x)

        def softplus(x):
            return math.log1p(math.exp(x))

        @partials(softplus)
        def softplus_slope(x):
            return 0.5 * (1.0 + math.tanh(0.5 * x))
        """,
        # the source's derivative overflows in math.exp(800.0); the stable slope gives x * 1.0
        (2.0, 400.0), 400.0, "math.tanh(0.5 *", "softplus_pr", id="stable-softplus",
    ),
    pytest.param(
        """
        from ad_transpile import partials

        def amplify(x):
            return 3.0 * clip(x)

        def clip(x):
            return min(max(x, 0.0), 1.0)

        @partials(clip)
        def straight_through(x):
            return 1.0
        """,
        # clip is flat at 2.5, so its source has derivative 0; the rule says 1
        (2.5,), 3.0, "return 3.0", "clip_pr", id="straight-through-estimator",
    ),
]


@pytest.mark.parametrize("src, args, expected, used, not_generated", RULE_WINS)
@pytest.mark.parametrize("mode", MODES)
def test_a_rule_in_the_users_module_wins_over_the_source(src, args, expected, used,
                                                         not_generated, mode):
    text = generated(src, 0, mode)
    assert used in text and not_generated not in text, text
    assert derivative(src, 0, mode)(*args) == pytest.approx(expected)


def test_a_rule_in_the_users_module_for_a_library_function():
    check_gradient(
        """
        import numpy as np

        from ad_transpile import partials

        def windowed(x):
            return np.sinc(x) * x

        @partials(np.sinc)
        def sinc_slope(x):
            return (np.cos(np.pi * x) - np.sinc(x)) / x
        """,
        (0.7,),
    )



def test_a_structural_rule_may_name_parts_that_call_builtins():
    check_array_gradient(
        """
        import numpy as np

        from ad_transpile import adjoints, batched_tangents, tangents

        def doubled(a):
            return np.sum(np.sin(twice(a)))

        def twice(a):
            return 2.0 * a

        @tangents(twice)
        def twice_tangent(a, *, d_a):
            count = len(a)
            return d_a * (2.0 * count / count)

        @batched_tangents(twice)
        def twice_batched(a, *, d_a):
            count = len(a)
            return d_a * (2.0 * count / count)

        @adjoints(twice)
        def twice_adjoint(a, *, d_result):
            count = len(a)
            return d_result * (2.0 * count / count)
        """,
        (np.array([0.3, -0.4, 1.1]),),
    )

@pytest.mark.parametrize("mode", MODES)
def test_a_rule_in_the_callers_module_for_a_helper_of_another_module(project, mode):
    write(project, {
        "activations.py": """
            import math


            def softplus(x):
                return math.log1p(math.exp(x))
            """,
        "neuron.py": """
            import math

            from activations import softplus
            from ad_transpile import partials


            @partials(softplus)
            def softplus_slope(x):
                return 0.5 * (1.0 + math.tanh(0.5 * x))


            def neuron(w, x):
                return softplus(w * x)
            """,
    })
    result = run("grad", "neuron.py::neuron", "--mode", mode)
    assert result.exit_code == 0, result.stderr
    assert "softplus_pr" not in result.stdout
    # the source's derivative overflows in math.exp(800.0); the stable slope gives x * 1.0
    assert defined_in(result.stdout, "neuron_pr")(2.0, 400.0) == pytest.approx(400.0)


NEURONS = """
    import math


    def softplus(x):
        return math.log1p(math.exp(x))


    def running_mean(w):
        return 0.9 * w + 0.1


    def layer(w, x):
        return softplus(w * x) - running_mean(w)
    """

MY_RULES = """
    import math

    import neurons
    from ad_transpile import nondifferentiable, partials


    @partials(neurons.softplus)
    def softplus(x):
        return 0.5 * (1.0 + math.tanh(0.5 * x))


    nondifferentiable(neurons.running_mean)
    """


@pytest.mark.parametrize("w, x", [(0.3, 1.5), (2.0, 400.0)])
@pytest.mark.parametrize("mode", MODES)
def test_a_rules_file_given_on_the_command_line(project, mode, w, x):
    write(project, {"neurons.py": NEURONS, "my_rules.py": MY_RULES})
    result = run("grad", "neurons.py::layer", "--rules", "my_rules.py", "--mode", mode)
    assert result.exit_code == 0, result.stderr
    assert "# rules: my_rules.py" in result.stdout
    assert "softplus_pr" not in result.stdout and "running_mean_pr" not in result.stdout
    # softplus' slope is the logistic function; running_mean carries no derivative
    assert defined_in(result.stdout, "layer_pr")(w, x) == pytest.approx(x * sigmoid(w * x))


BAD_RULES = [
    pytest.param(
        """
        import neurons
        from ad_transpile import partials


        @partials(neurons.softplus)
        def softplus(x):
            return 1.0, 2.0
        """,
        7, r"bad derivative rule: rule 'softplus' has 1 parameter\(s\) but returns 2 partial",
        id="wrong-number-of-partials",
    ),
    pytest.param(
        """
        import neurons
        from ad_transpile import partials


        @partials("softplus")
        def softplus(x):
            return 1.0
        """,
        5, r"bad derivative rule: a primitive must be a function", id="string-primitive",
    ),
    pytest.param(
        """
        import neurons
        from ad_transpile import partials


        @partials(neurons.softplus, neurons.running_mean)
        def softplus(x):
            return 1.0
        """,
        5, r"bad derivative rule: @partials takes exactly one primitive", id="two-primitives",
    ),
    pytest.param(
        """
        import neurons
        from ad_transpile import nondifferentiable

        nondifferentiable("running_mean")
        """,
        4, r"bad derivative rule: a primitive must be a function", id="string-nondifferentiable",
    ),
    pytest.param(
        """
        import neurons
        from ad_transpile import partials


        @partials(neurons.softplus)
        def softplus(x):
            if x > 0.0:
                return 1.0
            return 0.0
        """,
        6, r"bad derivative rule: rule 'softplus' must name parts \(part = \.\.\.\) and then "
        "return its partials", id="more-than-a-return",
    ),
    pytest.param(
        """
        import neurons
        from ad_transpile import partials


        @partials(neurons.softplus)
        def softplus(x):
            return 1.0 +
        """,
        7, r"syntax error", id="syntax-error",
    ),
    pytest.param(
        """
        import neurons
        from ad_transpile import batched_tangents


        @batched_tangents(neurons.running_mean)
        def running_mean(xs, *, d_xs):
            return d_xs
        """,
        6, r"bad derivative rule: the rule for neurons.running_mean needs @tangents too",
        id="batched-alone",
    ),
    pytest.param(
        """
        import neurons
        from ad_transpile import adjoints, batched_tangents, tangents


        @tangents(neurons.running_mean)
        def running_mean_tangent(xs, *, d_xs):
            return d_xs


        @adjoints(neurons.running_mean)
        def running_mean_adjoint(xs, *, d_result):
            return d_result


        @batched_tangents(neurons.running_mean)
        def running_mean_batched(values, *, d_values):
            return d_values
        """,
        16, r"bad derivative rule: @tangents, @adjoints and @batched_tangents must take the "
        "same parameters", id="batched-other-parameters",
    ),
    pytest.param(
        """
        import neurons
        from ad_transpile import batched_tangents


        @batched_tangents(neurons.running_mean)
        def running_mean_batched(xs, *, d_result):
            return d_result
        """,
        6, r"bad derivative rule: @batched_tangents rule 'running_mean_batched' may only name "
        "d_xs, result after", id="batched-names-an-adjoint",
    ),
    pytest.param(
        """
        import neurons
        from ad_transpile import tangents


        @tangents(neurons.running_mean)
        def running_mean_tangent(scale=1.0, *xs, d_xs):
            return d_xs
        """,
        6, r"bad derivative rule: rule 'running_mean_tangent' takes \*xs: it can have neither "
        "options nor forms", id="operands-and-options",
    ),
]


@pytest.mark.parametrize("rules, line, message", BAD_RULES)
def test_a_mistake_in_a_rules_file_is_one_located_line(project, rules, line, message):
    write(project, {"neurons.py": NEURONS, "my_rules.py": rules})
    result = run("grad", "neurons.py::layer", "--rules", "my_rules.py")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"my_rules.py:{line}:"), result.stderr
    assert re.search(message, result.stderr), result.stderr


# stop_gradient

STOP_GRADIENT = [
    pytest.param(
        """
        from ad_transpile import stop_gradient

        def f(x):
            return x * stop_gradient(x)
        """,
        lambda x: x, id="imported-name",
    ),
    pytest.param(
        """
        import ad_transpile as adt

        def f(x):
            c = adt.stop_gradient(x * x)
            return c * x + x
        """,
        lambda x: x * x + 1.0, id="module-attribute",
    ),
    pytest.param(
        """
        from ad_transpile import stop_gradient

        def f(x):
            return x * stop_gradient(square(x))

        def square(x):
            return x * x
        """,
        lambda x: x * x, id="around-a-helper",
    ),
    pytest.param(
        """
        from ad_transpile import stop_gradient

        def f(x):
            return square(x) + x

        def square(x):
            return x * stop_gradient(x)
        """,
        lambda x: x + 1.0, id="inside-a-helper",
    ),
]


@pytest.mark.parametrize("src, expected", STOP_GRADIENT)
@pytest.mark.parametrize("mode", MODES)
def test_stop_gradient_passes_the_value_but_no_derivative(src, expected, mode):
    assert derivative(src, 0, mode)(1.5) == pytest.approx(expected(1.5))
    assert "ad_transpile" not in generated(src, 0, mode).split("\n", 1)[1]


# print, logging and assert

REPORTING = """
import logging

def accumulate(x, n):
    total = 0.0
    for i in range(n):
        print("step", i, total)
        logging.info("x = %s", x)
        logging.getLogger("calls").debug("total %s", total)
        assert total >= 0.0, "negative total"
        total += bump(x)
    print("done", total)
    return total

def bump(x):
    return x * x
"""


@pytest.mark.parametrize("mode", MODES)
def test_print_and_logging_run_once_in_the_primal_sweep(mode, capsys, caplog):
    gradient = derivative(REPORTING, 0, mode)
    capsys.readouterr()
    caplog.set_level(logging.DEBUG)
    assert gradient(0.5, 3) == pytest.approx(3.0)  # d/dx of 3 x**2
    assert capsys.readouterr().out == "step 0 0.0\nstep 1 0.25\nstep 2 0.5\ndone 0.75\n"
    assert [r.getMessage() for r in caplog.records] == [
        "x = 0.5", "total 0.0", "x = 0.5", "total 0.25", "x = 0.5", "total 0.5",
    ]


POSITIVE = """
import math

def root(x):
    assert x > 0.0, "x must be positive"
    return helper(x)

def helper(x):
    return math.sqrt(x)
"""


@pytest.mark.parametrize("mode", MODES)
def test_an_assert_is_kept_in_the_derivative(mode):
    gradient = derivative(POSITIVE, 0, mode)
    assert gradient(4.0) == pytest.approx(0.25)
    with pytest.raises(AssertionError, match="x must be positive"):
        gradient(-4.0)


# what cannot be differentiated, and why

REJECTED = [
    pytest.param(
        """
        from physics import drag

        def speed(v):
            return drag(v) * v
        """,
        r"no derivative rule for 'physics\.drag' and no source to differentiate; give its "
        r"partial derivatives with @partials\(physics\.drag\).*\(--rules\), or declare it "
        r"nondifferentiable\(physics\.drag\)",
        id="no-source-and-no-rule",
    ),
    pytest.param(
        """
        def power(x, n):
            if n == 0:
                return 1.0
            return x * power(x, n - 1)
        """,
        r"the recursive call to 'power' is not supported: recursion cannot be differentiated: "
        r"write it as a loop",
        id="direct-recursion",
    ),
    pytest.param(
        """
        def cube(x):
            return power(x, 3)

        def power(x, n):
            if n == 0:
                return 1.0
            return x * power(x, n - 1)
        """,
        r"the recursive call to 'power'", id="recursion-in-a-helper",
    ),
    pytest.param(
        """
        def f(x):
            return even(x, 4)

        def even(x, n):
            if n == 0:
                return x
            return odd(x * 0.5, n - 1)

        def odd(x, n):
            return even(x + 1.0, n - 1)
        """,
        r"the recursive call to 'even'", id="mutual-recursion",
    ),
    pytest.param(
        """
        def f(x):
            return scaled(x)

        def scaled(x, scale):
            return scale * x
        """,
        r"leaving out 'scale' is not supported: it has no default; pass it explicitly",
        id="argument-without-default-left-out",
    ),
    pytest.param(
        """
        def f(x):
            return scaled(x, factor=2.0)

        def scaled(x, scale=1.0):
            return scale * x
        """,
        r"this call to 'scaled' is not supported: scaled takes no keyword 'factor'",
        id="unknown-keyword-argument",
    ),
    pytest.param(
        """
        def f(x, xs):
            xs.append(x)
            return x
        """,
        r"a call whose result is unused is not supported: it may change a value in place",
        id="list-append-result-unused",
    ),
    pytest.param(
        """
        def f(x):
            helper(x)
            return x

        def helper(x):
            return 2.0 * x
        """,
        r"a call whose result is unused", id="helper-result-unused",
    ),
    pytest.param(
        """
        import math

        from ad_transpile import partials

        def f(x):
            return softplus(x)

        def softplus(x):
            return math.log1p(math.exp(x))

        @partials(softplus)
        def slope(x):
            return 1.0, 0.0
        """,
        r"bad derivative rule: rule 'slope' has 1 parameter\(s\) but returns 2 partial",
        id="rule-in-the-module-with-a-mistake",
    ),
]


@pytest.mark.parametrize("src, message", REJECTED)
def test_what_cannot_be_differentiated_is_a_located_error(project, src, message):
    check_rejects(src, message)


# what two modules bind differently is refused; a callee's own rules apply wherever it is called

CLASHES = {
    "a constant": (
        {"helpers.py": """
            import math
            SCALE = 2.0
            def smooth(x):
                return SCALE * math.log1p(math.exp(x / SCALE))
            """,
         "model.py": """
            import helpers
            SCALE = 10.0
            def energy(x):
                return helpers.smooth(x) * SCALE
            """},
        r"the name 'SCALE' in both"),
    "a function": (
        {"helpers.py": """
            def smooth(x):
                return x * x * x
            def wrap(x):
                s = smooth(x)
                return s * s
            """,
         "model.py": """
            import helpers
            def smooth(x):
                return 2.0 * x
            def energy(x):
                a = smooth(x)
                return helpers.wrap(a) * a
            """},
        r"two functions named 'smooth'"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("files, message", CLASHES.values(), ids=CLASHES)
def test_names_two_modules_bind_apart_are_refused_not_mixed_up(project, files, message, mode):
    """Refused, or right: forward mode needs no copy of a callee, so it has no clash."""
    write(project, files)
    energy = imported(project, "model").energy
    try:
        got = adt.grad(energy, mode=mode)(0.7)
    except adt.TranspileError as error:
        assert re.search(message, str(error)), error
    else:
        assert mode == "forward" and "function" in message
        assert got == pytest.approx(numeric_gradient(energy, (0.7,), 0), rel=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_a_rule_next_to_a_callee_in_another_module_applies(project, mode):
    write(project, {
        "activations.py": """
            import math
            from ad_transpile import partials
            def softplus(x):
                return math.log1p(math.exp(x))
            @partials(softplus)
            def softplus_slope(x):
                return 0.5 * (1.0 + math.tanh(0.5 * x))
            """,
        "neurons.py": """
            from activations import softplus
            def neuron(w, x):
                return softplus(w * x)
            """,
    })
    neuron = imported(project, "neurons").neuron
    assert "tanh" in adt.source(neuron, mode=mode) and "softplus_pr" not in adt.source(neuron)
    assert adt.grad(neuron, mode=mode)(2.0, 400.0) == pytest.approx(400.0)  # overflows by source


@pytest.mark.parametrize("src, message", [
    ("def f(x):\n    return total(x, x)\n\ndef total(*xs):\n    return sum(xs)\n",
     r"calling 'total', which takes \*args or \*\*kwargs"),
    ("def f(x):\n    return scaled(x, 2.0, 3.0)\n\ndef scaled(x, scale=1.0):\n"
     "    return x * scale\n",
     r"3 positional arguments to 'scaled' .*it takes at most 2"),
    ("def f(x):\n    return scaled(x, 3.0, scale=2.0)\n\ndef scaled(x, scale=1.0):\n"
     "    return x * scale\n", r"'scale' is given twice"),
])
def test_calls_python_would_refuse_or_we_cannot_bind_are_errors(src, message):
    check_rejects(src, message)


def test_a_module_logger_is_kept_with_the_log_call(caplog):
    src = ("import logging\nlog = logging.getLogger('ad_transpile.test')\n"
           "def f(x):\n    log.warning('x is %s', x)\n    return x * x\n")
    for mode in MODES:
        caplog.clear()
        assert derivative(src, mode=mode)(1.5) == pytest.approx(3.0)
        assert [r.getMessage() for r in caplog.records] == ["x is 1.5"]


def test_a_print_in_a_callee_runs_once_in_reverse_mode(capsys):
    src = "def f(x):\n    return bump(x) * 2.0\n\ndef bump(x):\n    print('bump', x)\n" \
          "    return x * x\n"
    assert derivative(src, mode="reverse")(1.5) == pytest.approx(6.0)
    assert capsys.readouterr().out == "bump 1.5\n"


def test_check_reports_a_file_stale_when_a_rule_changed(project):
    write(project, {"model.py": """
        import math
        from ad_transpile import partials
        def softplus(x):
            return math.log1p(math.exp(x))
        @partials(softplus)
        def softplus_slope(x):
            return 0.5 * (1.0 + math.tanh(0.5 * x))
        def energy(x):
            return softplus(x) * x
        """})
    assert run("grad", "model.py::energy", "-o", "energy_pr.py").exit_code == 0
    assert run("check", "energy_pr.py").exit_code == 0
    text = (project / "model.py").read_text().replace("0.5 * (1.0 +", "0.25 * (2.0 + 2.0 *")
    (project / "model.py").write_text(text)
    result = run("check", "energy_pr.py")
    assert result.exit_code == 1 and "stale" in result.stdout


PACKAGE = {
    "physics/__init__.py": "",
    "physics/helpers.py": """
        import math


        def drag(v, k):
            return k * v * abs(v)


        def bump(x):
            return math.exp(-x * x)
        """,
    "physics/model.py": """
        from . import helpers
        from .helpers import drag


        def step(v, k):
            return v - 0.1 * drag(v, k) + helpers.bump(v)


        def scaled(v, k):
            return v * helpers.bump(k)
        """,
}


@pytest.mark.parametrize("mode", MODES)
def test_relative_imports_of_a_package_are_followed(project, mode):
    (project / "physics").mkdir()
    write(project, PACKAGE)
    model = imported(project, "physics.model")
    assert adt.check_grad(model.step, 0.7, 0.3, wrt=(0, 1), mode=mode) is None
    out = project / "generated" / f"step_{mode}.py"
    out.parent.mkdir()
    result = run("grad", "physics/model.py::step", "--wrt", "v", "--wrt", "k", "--mode", mode,
                 "-o", out)
    assert result.exit_code == 0, result.output
    assert "from ." not in out.read_text()  # the file runs outside the package too
    step_pr = defined_in(out.read_text(), "step_pr")
    expected = [numeric_gradient(model.step, (0.7, 0.3), i) for i in (0, 1)]
    assert step_pr(0.7, 0.3) == pytest.approx(expected, rel=1e-6)


def test_a_relative_import_the_derivative_needs_is_written_absolute(project):
    (project / "physics").mkdir()
    write(project, PACKAGE)
    result = run("grad", "physics/model.py::scaled", "--wrt", "v")
    assert result.exit_code == 0, result.output
    assert "from physics import helpers" in result.output, result.output
    assert defined_in(result.output, "scaled_pr")(0.7, 0.3) == pytest.approx(math.exp(-0.09))
