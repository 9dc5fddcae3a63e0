"""The fitting driver through the Python API: recovery of known parameters, each optimizer on a
quadratic bowl and on Rosenbrock, multi-start on the sine landscape, the forms soft unit tests
come in, the scores, where the derivative comes from, and the errors for bad input."""

from __future__ import annotations

import json
import math
import textwrap

import fit_programs as progs
import numpy as np
import pytest
from conftest import ROOT

import ad_transpile as adt
from ad_transpile.fit import driver
from ad_transpile.fit.driver import program_from_function
from ad_transpile.fit.objective import Objective
from ad_transpile.fit.optimizers import Adam
from ad_transpile.fit.scores import SCORES, huber, resolve_score
from ad_transpile.fit.tests_data import load_tests
from ad_transpile.load import load

SINE_TESTS = ROOT / "samples" / "data" / "sine_tests.csv"
BOWL_TESTS = [(0, 1.0), (1, 2.0)]
ROSENBROCK_TESTS = [(0, 0.0), (1, 1.0)]
BOWL_START, ROSENBROCK_START = {"a": -2.0, "b": 3.0}, {"x": -1.2, "y": 1.0}


# the sine landscape of the seed: 200 tests from omega = 1.5 plus noise


def test_a_single_run_from_075_ends_in_the_local_minimum_next_to_it():
    result = adt.fit(progs.wave, SINE_TESTS, {"omega": 0.75})
    assert result.converged, result.message
    assert result.params["omega"] == pytest.approx(0.7396, abs=1e-3)
    assert result.loss > 100 and len(result.minima) == 1 and not result.different_minima


@pytest.mark.parametrize("starts", ["grid", "random"])
def test_multi_start_recovers_omega_within_001_and_reports_the_other_minima(starts):
    result = adt.fit(progs.wave, SINE_TESTS, {"omega": 0.75}, restarts=12, starts=starts,
                     bounds={"omega": (0.0, 3.0)}, seed=1)
    assert abs(result.params["omega"] - 1.5) < 0.01
    assert result.loss == min(run.loss for run in result.runs) < 3.0
    assert len(result.runs) == 13 and result.different_minima
    assert result.minima[0].params == result.params and result.best_run in result.minima[0].runs
    assert sorted(i for m in result.minima for i in m.runs) == list(range(13))
    found = [m.params["omega"] for m in result.minima]
    assert any(abs(w - 0.7396) < 1e-3 for w in found)  # run 0, from 0.75, ended there
    assert 0 in next(m.runs for m in result.minima if abs(m.params["omega"] - 0.7396) < 1e-3)
    assert "different minima" in result.summary()


def test_random_starts_are_seeded_and_reproducible():
    def starts(seed):
        result = adt.fit(progs.line, [(1.0, 2.0), (2.0, 4.0)], {"slope": 0.0}, restarts=3,
                         seed=seed, max_steps=3)
        return [run.start["slope"] for run in result.runs], result.params

    assert starts(7) == starts(7)
    assert starts(7)[0] != starts(8)[0]
    assert starts(7)[0][0] == 0.0 and all(-1.0 <= s <= 1.0 for s in starts(7)[0])


def test_grid_starts_are_the_centres_of_a_grid_over_the_range():
    result = adt.fit(progs.bowl, BOWL_TESTS, {"a": 0.0, "b": 0.0}, restarts=4, starts="grid",
                     bounds={"a": (0.0, 4.0), "b": (-2.0, 2.0)}, max_steps=0)
    assert [tuple(r.start.values()) for r in result.runs] == [
        (0.0, 0.0), (1.0, -1.0), (1.0, 1.0), (3.0, -1.0), (3.0, 1.0),
    ]


# each optimizer on a quadratic bowl and on Rosenbrock

# optimizer, step size, steps, how close to the minimum (bowl, Rosenbrock)
OPTIMIZERS = [
    ("backtracking", None, 5000, 1e-6, 1e-2),
    ("gd", 0.0015, 20000, 1e-6, 1e-4),
    ("momentum", 0.0005, 20000, 1e-6, 1e-6),
    ("adam", 0.01, 20000, 1e-6, 1e-6),
]


@pytest.mark.parametrize("optimizer, step, steps, bowl_tol, rosenbrock_tol", OPTIMIZERS)
def test_each_optimizer_finds_the_bottom_of_a_bowl_and_of_rosenbrock(
    optimizer, step, steps, bowl_tol, rosenbrock_tol
):
    bowl = adt.fit(progs.bowl, BOWL_TESTS, BOWL_START, optimizer=optimizer, step_size=step,
                   max_steps=steps)
    assert bowl.converged, bowl.message
    assert bowl.params == pytest.approx({"a": 1.0, "b": 2.0 / 3.0}, abs=bowl_tol)
    valley = adt.fit(progs.rosenbrock, ROSENBROCK_TESTS, ROSENBROCK_START, optimizer=optimizer,
                     step_size=step, max_steps=steps)
    assert valley.params == pytest.approx({"x": 1.0, "y": 1.0}, abs=rosenbrock_tol)
    assert valley.history[0] == pytest.approx(24.2)  # Rosenbrock at (-1.2, 1)
    assert valley.loss == valley.history[-1] < 1e-3 and valley.steps == len(valley.history) - 1


def test_an_optimizer_object_is_used_as_it_is():
    result = adt.fit(progs.bowl, BOWL_TESTS, BOWL_START, optimizer=Adam(0.05))
    assert result.params == pytest.approx({"a": 1.0, "b": 2.0 / 3.0}, abs=1e-6)
    assert result.optimizer.startswith("adam (step size 0.05")


def test_a_step_too_large_diverges_and_keeps_the_last_finite_point():
    result = adt.fit(progs.rosenbrock, ROSENBROCK_TESTS, ROSENBROCK_START, optimizer="gd",
                     step_size=0.01, max_steps=200)
    assert not result.converged and result.message.startswith("diverged at step")
    assert "smaller step size" in result.message
    assert math.isfinite(result.loss) and all(map(math.isfinite, result.params.values()))


# stopping rules


def test_stopping_rules():
    capped = adt.fit(progs.rosenbrock, ROSENBROCK_TESTS, ROSENBROCK_START, max_steps=7)
    assert capped.steps == 7 and not capped.converged and "maximum of 7 steps" in capped.message
    flat = adt.fit(progs.bowl, BOWL_TESTS, BOWL_START, grad_tol=100.0)
    assert flat.steps == 0 and flat.converged and "gradient's norm" in flat.message
    loose = adt.fit(progs.bowl, BOWL_TESTS, BOWL_START, optimizer="gd", step_size=0.01,
                    loss_tol=1e-3)
    assert loose.converged and "loss changed" in loose.message and loose.steps < 1000


def test_callback_sees_every_step_of_every_run():
    seen = []
    result = adt.fit(progs.bowl, BOWL_TESTS, BOWL_START, restarts=1, max_steps=5,
                     optimizer="gd", callback=lambda *event: seen.append(event))
    assert [(run, step) for run, step, _, _ in seen] == [(r, s) for r in (0, 1)
                                                         for s in range(6)]
    assert seen[5][2] == result.runs[0].history[5] and set(seen[0][3]) == {"a", "b"}


# recovery of known parameters (noise-free data: to the digits the stopping rule allows)


def test_recovers_the_parameters_that_made_noise_free_tests():
    tests = [(x, 2.5 * x - 1.0) for x in np.linspace(-2, 3, 11).tolist()]
    result = adt.fit(progs.line, tests, {"slope": 0.0, "intercept": 0.0})
    assert result.params == pytest.approx({"slope": 2.5, "intercept": -1.0}, abs=1e-6)


def test_both_modes_give_the_same_fit():
    tests = [(x, math.sin(1.3 * x)) for x in np.linspace(0, 3, 20).tolist()]
    fits = [adt.fit(progs.wave, tests, {"omega": 1.0}, mode=m) for m in ("reverse", "forward")]
    assert fits[0].params["omega"] == pytest.approx(1.3, abs=1e-6)
    assert fits[0].params == pytest.approx(fits[1].params, abs=1e-9)


# the forms soft unit tests come in

LINE_ROWS = [(1.0, 3.0), (2.0, 5.0), (4.0, 9.0)]  # y = 2 x + 1


def _fit_line(tests):
    return adt.fit(progs.line, tests, {"slope": 0.0, "intercept": 0.0}).params


def test_tests_from_a_csv_npy_npz_file_a_generator_and_a_module_give_the_same_fit(tmp_path):
    csv = tmp_path / "line.csv"
    csv.write_text("# y = 2 x + 1\nx,y\n\n" + "\n".join(f"{x},{y}" for x, y in LINE_ROWS))
    np.save(tmp_path / "line.npy", np.array(LINE_ROWS))
    np.savez(tmp_path / "xy.npz", x=np.array([r[0] for r in LINE_ROWS]),
             y=np.array([r[1] for r in LINE_ROWS]))
    np.savez(tmp_path / "table.npz", np.array(LINE_ROWS))
    module = tmp_path / "line_tests.py"
    module.write_text(textwrap.dedent("""\
        import ad_transpile as adt

        @adt.soft_test
        def one():
            return 1.0, 3.0

        @adt.soft_test()
        def two_more():
            yield 2.0, 5.0
            yield 4.0, 9.0

        def not_a_test():
            return 0.0, 0.0
    """))
    expected = _fit_line(LINE_ROWS)
    assert expected == pytest.approx({"slope": 2.0, "intercept": 1.0}, abs=1e-6)
    for source in [csv, str(csv), tmp_path / "line.npy", tmp_path / "xy.npz",
                   tmp_path / "table.npz", module, (pair for pair in LINE_ROWS)]:
        assert _fit_line(source) == expected, source


def test_soft_tests_of_a_module_are_named_after_their_functions(tmp_path):
    module = tmp_path / "sums.py"
    module.write_text(textwrap.dedent("""\
        from ad_transpile import soft_test

        @soft_test
        def two_plus_two():
            return (2.0, 2.0), 4.0

        @soft_test
        def more():
            return [((1.0, 2.0), 3.0), ((0.5, 0.5), 1.0)]
    """))
    tests = load_tests(module)
    assert [t.name for t in tests] == ["two_plus_two", "more[0]", "more[1]"]
    result = adt.fit(progs.add, module, {"k": 0.5})
    assert result.params["k"] == pytest.approx(1.0, abs=1e-6)
    assert result.worst_tests(1)[0][0].describe_input() in ("a=2, b=2", "a=1, b=2", "a=0.5, b=0.5")


def test_a_tuple_input_fills_the_programs_other_parameters_in_order():
    result = adt.fit(progs.add, [((1.0, 2.0), 6.0), ((0.5, 0.5), 2.0)], {"k": 1.0})
    assert result.params["k"] == pytest.approx(2.0, abs=1e-6)
    optional = adt.fit(progs.line, [((1.0, 1.0), 3.0), ((2.0, 1.0), 5.0)], {"slope": 0.0})
    assert optional.params["slope"] == pytest.approx(2.0, abs=1e-6)  # intercept given


# scores


@pytest.mark.parametrize("score", [*SCORES.values(), huber(0.3), resolve_score(progs.quartic)])
@pytest.mark.parametrize("predicted", [-2.0, -0.2, 0.1, 1.7])
def test_each_score_has_the_right_slope(score, predicted):
    value, slope = score.value_and_slope(predicted, 0.25)
    h = 1e-6
    numeric = (score(predicted + h, 0.25) - score(predicted - h, 0.25)) / (2 * h)
    assert slope == pytest.approx(numeric, rel=1e-6, abs=1e-8)
    assert value >= 0 and score(0.25, 0.25) == 0


def test_scores_say_how_far_off_a_test_is():
    squared, absolute, robust = SCORES["squared"], SCORES["absolute"], SCORES["huber"]
    assert squared(4.1, 4.0) < squared(-11.0, 4.0)  # 2 + 2 = 4.1 is less wrong than -11
    assert squared(-11.0, 4.0) == pytest.approx(225.0)
    assert absolute(-11.0, 4.0) == 15.0 and robust(-11.0, 4.0) == 14.5
    assert robust(4.5, 4.0) == pytest.approx(0.125)


@pytest.mark.parametrize("score", ["squared", "absolute", "huber", progs.quartic])
def test_the_gradient_of_the_loss_agrees_with_finite_differences(score):
    program = program_from_function(progs.rosenbrock, {"x": 0.0, "y": 0.0})
    tests = load_tests([(0, 0.3), (1, 1.0), (0, -0.4)])
    objective = Objective(program, tests, ["x", "y"], resolve_score(score))
    point = np.array([0.7, -0.35])
    loss, grad = objective.loss_and_grad(point)
    assert loss == pytest.approx(objective.loss(point))
    for i in range(2):
        step = np.eye(2)[i] * 1e-6
        numeric = (objective.loss(point + step) - objective.loss(point - step)) / 2e-6
        assert grad[i] == pytest.approx(numeric, rel=1e-6)


def test_a_scoring_function_of_ones_own_is_differentiated_too():
    tests = [(x, 2.0 * x + 0.5) for x in (-1.0, 0.0, 1.0, 2.0)]
    result = adt.fit(progs.line, tests, {"slope": 1.0, "intercept": 0.0}, score=progs.quartic)
    assert result.score == "quartic"
    assert result.params == pytest.approx({"slope": 2.0, "intercept": 0.5}, abs=2e-2)


# where the derivative comes from


def test_the_derivative_of_a_decorated_program_is_used(monkeypatch):
    tests = [(x, math.sin(1.2 * x)) for x in (0.1, 0.5, 1.0, 2.0)]
    monkeypatch.setattr(driver, "value_and_grad",
                        lambda *a, **k: pytest.fail("transpiled again"))
    result = adt.fit(progs.decorated_wave, tests, {"omega": 1.0})
    assert result.params["omega"] == pytest.approx(1.2, abs=1e-6)


def test_a_derivative_file_written_by_the_cli_can_be_given():
    text = adt.source(progs.wave, wrt="omega")  # what ad-transpile grad ... -o writes
    wavepr = load(text, "wave_pr", "test wave_pr")
    tests = [(x, math.sin(1.2 * x)) for x in (0.1, 0.5, 1.0, 2.0)]
    result = adt.fit(progs.wave, tests, {"omega": 1.0}, gradient=wavepr)
    assert result.params["omega"] == pytest.approx(1.2, abs=1e-6)


def test_a_given_derivative_along_other_parameters_is_refused():
    wrong = adt.grad(progs.line, wrt=("intercept", "slope"))  # the order of params is reversed
    with pytest.raises(adt.FitError, match=r"fit_programs\.py:\d+:1: the gradient function .* "
                                           r"along \(slope, intercept\) in this order"):
        adt.fit(progs.line, [(2.0, 1.0)], {"slope": 0.0, "intercept": 0.0}, gradient=wrong)


# the result


def test_the_result_reports_the_worst_tests_and_is_json_ready():
    tests = [(1.0, 2.0)] * 4 + [(2.0, 10.0)]  # the last test is off: the best slope is 3.5
    result = adt.fit(progs.line, tests, {"slope": 0.0})
    assert result.params["slope"] == pytest.approx(3.5)
    worst, predicted, score = result.worst_tests(1)[0]
    assert worst.name == "tests[4]" and score == max(result.scores) == pytest.approx(9.0)
    assert predicted == pytest.approx(7.0)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["params"] == result.params and data["steps"] == result.steps
    assert data["loss"] == result.loss and data["worst_tests"][0]["test"] == "tests[4]"
    assert len(data["history"]) == result.steps + 1
    table = result.summary()
    assert "slope" in table and "worst tests:" in table and "tests[4]" in table


# bad input: a clear, located error


BAD_INPUT = [
    (progs.wave, [(1.0, 0.5)], {"omgea": 1.0},
     r"fit_programs\.py:9:1: wave has no parameter named 'omgea'; its parameters are \(x, omega\)"),
    (progs.add, [(1.0, 2.0)], {"k": 1.0},
     r"fit_programs\.py:\d+:1: parameter 'b' of add gets no value: it is not a free parameter"),
    (progs.wave, [((1.0, 2.0), 0.5)], {"omega": 1.0},
     r"^tests\[0\]: the test gives 2 input value\(s\), but wave takes 1"),
    (progs.wave, [(1.0, 0.5)], {}, r"name at least one free parameter of wave"),
    (progs.wave, [(1.0, 0.5)], {"omega": "fast"}, r"start value of 'omega' must be a finite"),
    (progs.wave, [], {"omega": 1.0}, r"no soft unit tests were given"),
    (progs.wave, [(1.0,)], {"omega": 1.0}, r"tests\[0\]: a soft unit test is an \(input, "),
    (progs.wave, [(1.0, "high")], {"omega": 1.0}, r"tests\[0\]: the expected output must be a"),
    (progs.wave, 3, {"omega": 1.0}, r"tests must be \(input, expected\) pairs"),
    (progs.returns_nan, [(1.0, 1.0), (2.0, 1.0)], {"a": 2.0},
     r"fit_programs\.py:\d+:1: returns_nan returned nan for the test tests\[0\] \(x=1\) "
     r"with a=2"),
    (progs.domain_error, [(1.0, 1.0), (3.0, 1.0)], {"a": 2.0},
     r"domain_error raised ValueError \(math domain error\) for the test tests\[1\] \(x=3\)"),
]


@pytest.mark.parametrize("program, tests, params, message", BAD_INPUT)
def test_bad_input_is_a_located_fit_error(program, tests, params, message):
    with pytest.raises(adt.FitError, match=message):
        adt.fit(program, tests, params)


def test_a_program_must_be_a_function():
    with pytest.raises(adt.FitError, match=r"the program must be a function, not 3"):
        adt.fit(3, [(1.0, 0.5)], {"omega": 1.0})


def test_restarts_where_the_program_is_undefined_do_not_start_and_the_best_run_wins():
    tests = [(1.0, 1.0), (2.0, 0.0)]  # sqrt(a - x): undefined for a < 2
    result = adt.fit(progs.domain_error, tests, {"a": 3.0}, restarts=6, seed=0,
                     bounds={"a": (-4.0, 6.0)})
    not_started = [r for r in result.runs if r.message.startswith("not started")]
    assert not_started and all(math.isnan(r.loss) and r.steps == 0 for r in not_started)
    assert "domain_error raised ValueError (math domain error)" in not_started[0].message
    assert math.isfinite(result.loss) and result.params["a"] >= 2.0
    assert json.loads(json.dumps(result.to_dict()))["minima"][-1]["loss"] is None


def test_a_program_the_transpiler_refuses_raises_its_transpile_error():
    with pytest.raises(adt.TranspileError, match=r"fit_programs\.py:\d+:\d+: the gradient of a "
                                                 r"function returning several values"):
        adt.fit(progs.returns_pair, [(1.0, 1.0)], {"a": 2.0})


BAD_OPTIONS = [
    (dict(optimizer="sgd"), r"unknown optimizer 'sgd': use one of backtracking, gd, momentum"),
    (dict(score="cubic"), r"unknown score 'cubic': use one of squared, absolute, huber"),
    (dict(restarts=-1), r"restarts must be 0 or more"),
    (dict(starts="lattice"), r"starts must be one of random, grid"),
    (dict(bounds={"omega": (2.0, 1.0)}), r"range of 'omega' must be two finite numbers"),
    (dict(bounds={"phase": (0.0, 1.0)}), r"'phase', which is not a free parameter"),
    (dict(step_size=-0.1), r"step size must be positive"),
    (dict(optimizer=Adam(), step_size=0.1), r"not both"),
]


@pytest.mark.parametrize("options, message", BAD_OPTIONS)
def test_bad_options_are_fit_errors(options, message):
    with pytest.raises(adt.FitError, match=message):
        adt.fit(progs.wave, [(1.0, 0.5)], {"omega": 1.0}, **options)


# bad data files: FILE:LINE: message

BAD_FILES = [
    ("tests.csv", "x,y\n1,2\n3,four\n", r"tests\.csv:3: column 'y': 'four' is not a number"),
    ("tests.csv", "x,y\n1,2\n3,4,5\n", r"tests\.csv:3: expected 2 values \(x, y\), found 3"),
    ("tests.csv", "x,y\n1,nan\n", r"tests\.csv:2: column 'y': nan is not a finite number"),
    ("tests.csv", "1,2\n3,4\n", r"tests\.csv:1: the first row must be a header"),
    ("tests.csv", "x,y\n", r"tests\.csv:1: no soft unit tests: the file has a header but no"),
    ("tests.csv", "", r"tests\.csv:1: the file is empty"),
    ("tests.csv", "y\n1\n", r"tests\.csv:1: a test needs at least two columns"),
    ("tests.txt", "x,y\n1,2\n", r"tests\.txt: unknown kind of test file '\.txt'"),
    ("tests.npz", b"not a zip", r"tests\.npz: cannot read this \.npz file"),
    ("tests.csv", b"x,y\n\xff,1\n", r"tests\.csv:1: not UTF-8 text"),
]


@pytest.mark.parametrize("name, content, message", BAD_FILES)
def test_a_bad_data_file_names_the_file_and_line(tmp_path, monkeypatch, name, content, message):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(adt.FitError, match=f"^{message}"):
        adt.fit(progs.wave, name, {"omega": 1.0})


def test_bad_arrays_name_the_file_and_row(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("nan.npy", np.array([[1.0, 2.0], [3.0, np.inf]]))
    np.save("flat.npy", np.array([1.0, 2.0]))
    np.savez("keys.npz", a=np.ones(2), b=np.ones(2))
    np.savez("shapes.npz", x=np.ones(3), y=np.ones(2))
    np.save("words.npy", np.array([["a", "b"], ["c", "d"]]))
    for name, message in [
        ("nan.npy", r"^nan\.npy:row 1: column 1: inf is not a finite number"),
        ("flat.npy", r"^flat\.npy: expected a table of shape \(n, k\+1\)"),
        ("keys.npz", r"^keys\.npz: expected arrays 'x' and 'y'"),
        ("shapes.npz", r"^shapes\.npz: 'x' must have shape \(n,\) or \(n, k\)"),
        ("missing.csv", r"^missing\.csv: no such file"),
        ("words.npy", r"^words\.npy: expected numbers, found <U1"),
    ]:
        with pytest.raises(adt.FitError, match=message):
            adt.fit(progs.wave, name, {"omega": 1.0})
