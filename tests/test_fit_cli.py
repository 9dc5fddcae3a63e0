"""``ad-transpile fit`` end to end: the seed's example from a CSV, JSON, plots as valid PNG files,
and bad input reported as one located line with nothing half-written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import run

from ad_transpile.cli import main
from ad_transpile.fit import plots, progress

SINE = ["fit", "samples/sine_program.py::wave", "--tests", "samples/data/sine_tests.csv"]
PNG = b"\x89PNG\r\n\x1a\n"
ONE_LOCATED_LINE = re.compile(r"^[^\s:]+:(\d+|row \d+)(:\d+)?: \S[^\n]*\n$")



def assert_png(path: Path) -> None:
    """A whole PNG file: signature, header chunk and end chunk, readable by matplotlib."""
    from matplotlib import image

    data = path.read_bytes()
    assert data[:8] == PNG and data[12:16] == b"IHDR" and data[-8:-4] == b"IEND", path
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 300 and height > 200
    assert image.imread(path).shape[:2] == (height, width)


def test_fit_recovers_omega_with_restarts_and_prints_json(project):
    result = run(*SINE, "--param", "omega=0.75", "--restarts", "12", "--starts", "grid",
                 "--range", "omega=0:3", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert abs(data["params"]["omega"] - 1.5) < 0.01
    assert data["loss"] < 3.0 and data["steps"] > 0 and data["converged"]
    assert data["different_minima"] and len(data["runs"]) == 13
    assert data["runs"][0]["start"] == {"omega": 0.75}
    assert data["worst_tests"][0]["test"].startswith("samples/data/sine_tests.csv:")
    assert data["plots"] == []


def test_a_single_run_ends_in_the_local_minimum_and_the_summary_says_so(project):
    result = run(*SINE, "--param", "omega=0.75")
    assert result.exit_code == 0, result.stderr
    assert re.search(r"omega\s+0\.75\s+0\.7395", result.stdout)
    assert "final loss 160.9" in result.stdout and "worst tests:" in result.stdout
    # no progress bar when stderr is not a terminal: a last line for the log
    assert re.fullmatch(r"fit: done: best loss 160\.9\d* after \d+ steps of run 1/1; "
                        r"converged: [^\n]+\n", result.stderr), result.stderr


def test_plots_are_written_as_valid_png_files(project):
    result = run(*SINE, "--param", "omega=0.75", "--restarts", "4", "--range", "omega=0:3",
                 "--plot", "out/sine")
    assert result.exit_code == 0, result.stderr
    written = sorted(p.name for p in (project / "out" / "sine").iterdir())
    assert written == ["fit.png", "landscape.png", "loss.png"]
    for name in written:
        assert_png(project / "out" / "sine" / name)
    assert "plots: out/sine/loss.png, out/sine/fit.png, out/sine/landscape.png" in result.stdout


def test_two_parameters_from_an_npz_file_with_contour_plots(project):
    x = np.linspace(0.0, 6.0, 40)
    np.savez("wave.npz", x=x, y=2.0 * np.sin(1.3 * x))
    Path("af.py").write_text(
        "import math\n\n\ndef wave(x, amplitude, frequency):\n"
        "    return amplitude * math.sin(frequency * x)\n"
    )
    result = run("fit", "af.py::wave", "--tests", "wave.npz", "--param", "amplitude=1",
                 "--param", "frequency=1.1", "--optimizer", "adam", "--step-size", "0.02",
                 "--steps", "3000", "--plot", "plots", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["params"] == pytest.approx({"amplitude": 2.0, "frequency": 1.3}, abs=1e-4)
    assert data["optimizer"].startswith("adam")
    assert len(data["plots"]) == 3
    for path in data["plots"]:
        assert_png(Path(path))


def test_the_program_file_is_read_as_text_never_run(project):
    Path("loud.py").write_text(
        "import math\n\nraise SystemExit('this module must not run')\n\n\n"
        "def line(x, slope):\n    return slope * x\n"
    )
    Path("line.csv").write_text("x,y\n1,2\n2,4\n")
    result = run("fit", "loud.py::line", "--tests", "line.csv", "--param", "slope=0", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["params"]["slope"] == pytest.approx(2.0)


def test_a_score_of_ones_own_from_a_file(project):
    Path("scores.py").write_text(
        "def quartic(predicted, expected):\n    r = predicted - expected\n    return r ** 4\n"
    )
    result = run(*SINE, "--param", "omega=1.4", "--score", "scores.py::quartic", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["score"] == "quartic" and abs(data["params"]["omega"] - 1.5) < 0.01


def test_help_shows_an_example():
    result = run("fit", "--help")
    assert result.exit_code == 0
    assert "ad-transpile fit samples/sine_program.py::wave --tests" in result.stdout
    for option in ("--param NAME=START", "--optimizer", "--restarts", "--plot DIR", "--json"):
        assert option in result.stdout


def test_the_installed_command_fits(project):
    result = subprocess.run(
        [sys.executable, "-m", "ad_transpile", *SINE, "--param", "omega=1.4", "--json"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert abs(json.loads(result.stdout)["params"]["omega"] - 1.5) < 0.01


# bad input: exit 2, one located line, nothing written

BAD = [
    (["samples/sine_program.py::wave", "--param", "omgea=0.75"],
     r"^samples/sine_program\.py:\d+:1: wave has no parameter named 'omgea'; its parameters "
     r"are \(x, omega\)"),
    (["two.py::wave2", "--param", "omega=0.75"],
     r"^two\.py:4:1: parameter 'amplitude' of wave2 gets no value: it is not a free parameter"),
    (["samples/sine_program.py::wave", "--param", "omega=0.75", "--tests", "bad_row.csv"],
     r"^bad_row\.csv:4: column 'y': 'oops' is not a number"),
    (["samples/sine_program.py::wave", "--param", "omega=0.75", "--tests", "missing.csv"],
     r"^missing\.csv: no such file"),
    (["nan.py::flat", "--param", "a=1"],
     r"^nan\.py:4:1: flat returned nan for the test samples/data/sine_tests\.csv:2 \(x=6\.37\) "
     r"with a=1"),
    (["calls.py::outer", "--param", "a=1"], r"^calls\.py:\d+:\d+: "),
    (["samples/sine_program.py::nowhere", "--param", "a=1"],
     r"^samples/sine_program\.py:1:1: no function named 'nowhere'"),
    (["missing.py::wave", "--param", "omega=1"], r"^missing\.py:1:1: no such file"),
    (["samples/sine_program.py::wave", "--param", "omega"],
     r"^--param: --param 'omega': expected NAME=START"),
    (["samples/sine_program.py::wave", "--param", "omega=1", "--range", "omega=3"],
     r"^--range: --range 'omega=3': expected NAME=LOW:HIGH"),
    (["samples/sine_program.py", "--param", "omega=1"], r"^expected PATH::PROGRAM"),
    (["samples/sine_program.py::wave", "--param", "omega=1", "--tests", "tests.py"],
     r"^tests\.py: the command line reads tests from \.csv, \.npy or \.npz files"),
    (["samples/sine_program.py::wave", "--param", "omega=1", "--score", "nope.py::s"],
     r"^nope\.py:1:1: no such file"),
    (["samples/sine_program.py::wave", "--param", "omega=nan"],
     r"^samples/sine_program\.py:\d+:1: the start value of 'omega' must be a finite number"),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_input_exits_2_with_one_located_line_and_writes_nothing(project, args, message):
    Path("bad_row.csv").write_text("x,y\n1,0.5\n2,0.9\n3,oops\n")
    Path("two.py").write_text(
        "import math\n\n\ndef wave2(x, amplitude, omega):\n"
        "    return amplitude * math.sin(omega * x)\n"
    )
    Path("nan.py").write_text("import math\n\n\ndef flat(x, a):\n    return a * math.nan * x\n")
    Path("calls.py").write_text("def outer(x, a):\n    return hash(a * x)\n")
    Path("tests.py").write_text("")
    if "--tests" not in args:
        args = [*args, "--tests", "samples/data/sine_tests.csv"]
    target, *options = args
    result = run("fit", target, *options, "--plot", "out", "--json")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert re.match(message, result.stderr), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not Path("out").exists()


def test_without_matplotlib_plots_are_a_clear_error_before_the_fit(project, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run(*SINE, "--param", "omega=0.75", "--plot", "out")
    assert result.exit_code == 2
    assert result.stderr == ("out: plots need matplotlib, which is not installed: "
                             "pip install 'ad-transpile[plot]'\n")
    assert not Path("out").exists()


def test_a_plot_folder_that_cannot_be_made_is_a_clear_error(project):
    Path("taken").write_text("a file, not a folder")
    result = run(*SINE, "--param", "omega=0.75", "--plot", "taken/plots", "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert re.match(r"^taken/plots: cannot write the plots: .+\n$", result.stderr), result.stderr


def test_plots_are_written_whole_or_not_at_all(project, monkeypatch):
    def broken(ax, result):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(plots, "_landscape_plot", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        CliRunner().invoke(main, [*SINE, "--param", "omega=0.75", "--plot", "out"],
                           catch_exceptions=False)
    assert not Path("out").exists()  # loss.png and fit.png were drawn but never written


def test_on_a_terminal_a_progress_bar_shows_the_run_and_the_loss(monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress.progress(quiet=False, runs=2, steps=10) as shown:
        shown.callback(0, 0, 5.0, {"omega": 0.75})
        shown.callback(1, 0, 3.0, {"omega": 1.5})
        shown.callback(1, 4, 2.5, {"omega": 1.5})
    shown_text = terminal.getvalue()
    assert "fitting" in shown_text and "run 2/2  loss 3  best 3" in shown_text
    assert "100%  best loss 2.5" in shown_text
    assert progress.progress(quiet=True, runs=2, steps=10).callback is None


# progress in a log and the exit codes

LINE = ["fit", "line.py::line", "--tests", "line.csv", "--param", "slope=0"]


@pytest.fixture
def line_fit(project):
    """A straight line through three points: fits in a few dozen steps."""
    Path("line.py").write_text("def line(x, slope):\n    return slope * x\n")
    Path("line.csv").write_text("x,y\n1,2\n2,4\n3,6.5\n")
    return project


class Clock:
    """time.monotonic for the progress lines: each reading is ``tick`` seconds after the last."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def test_in_a_log_a_progress_line_every_few_seconds_and_one_at_the_end(line_fit, monkeypatch):
    monkeypatch.setattr(progress, "monotonic", Clock(tick=2.0))  # a step takes 2 s
    result = run(*LINE, "--steps", "12", "--optimizer", "gd", "--step-size", "0.001", "--json")
    assert result.exit_code == 3
    *lines, last = result.stderr.splitlines()
    # started at 2 s, step 0 at 4 s, step 1 at 6 s...: a line once 5 s have passed since the last
    assert [line.partition(" loss ")[0] for line in lines] == [
        f"fit: run 1/1 step {step}/12" for step in (2, 5, 8, 11)
    ]
    losses = [float(line.split()[6]) for line in lines]
    assert losses == sorted(losses, reverse=True)  # descending: the loss of that step
    assert all(re.fullmatch(r"fit: run 1/1 step \d+/12 loss \S+ best \S+", line) for line in lines)
    assert last.startswith("fit: done: best loss ") and "after 12 steps of run 1/1; " in last
    assert last.endswith("not converged (exit code 3): stopped after the maximum of 12 steps")
    assert json.loads(result.stdout)["steps"] == 12  # stdout is the JSON alone


def test_a_grid_of_starts_counts_every_run_in_the_progress_lines(line_fit, monkeypatch):
    Path("plane.py").write_text("def plane(x, a, b):\n    return a * x + b\n")
    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)
    result = run("fit", "plane.py::plane", "--tests", "line.csv", "--param", "a=0", "--param",
                 "b=0", "--restarts", "3", "--starts", "grid", "--steps", "5", "--json")
    runs = len(json.loads(result.stdout)["runs"])
    assert runs == 5  # 3 restarts on a grid over two parameters: 2 x 2 points, and the start
    shown = {line.split()[2] for line in result.stderr.splitlines()[:-1]}
    assert shown == {f"{run}/5" for run in range(1, 6)}


def test_quiet_shows_no_progress_at_all(line_fit, monkeypatch):
    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)
    result = run(*LINE, "--quiet", "--steps", "3")
    assert result.stderr == "" and result.exit_code == 3


EXIT_CODES = {
    "converged": ([], 0, "converged: the loss changed by"),
    "the maximum of steps": (["--steps", "5"], 3, "stopped after the maximum of 5 steps"),
    "diverged": (["--optimizer", "gd", "--step-size", "1e200"], 3, "diverged at step 1: "),
}


@pytest.mark.parametrize("case", EXIT_CODES)
def test_the_exit_code_says_whether_the_fit_converged(line_fit, case):
    options, code, message = EXIT_CODES[case]
    result = run(*LINE, *options, "--json")
    assert result.exit_code == code, result.stderr
    data = json.loads(result.stdout)  # the result is printed either way
    assert data["converged"] is (code == 0)
    assert data["message"].startswith(message)
    assert message in result.stderr.splitlines()[-1]


def test_the_exit_codes_are_in_the_help():
    text = " ".join(run("fit", "--help").stdout.split())
    assert "Exit codes: 0 the fit converged; 3 it finished without converging" in text
    assert "2 bad input" in text


def test_a_real_process_in_a_log_exits_3_and_says_why(line_fit):
    done = subprocess.run([sys.executable, "-m", "ad_transpile", *LINE, "--steps", "2"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 3, done.stderr
    assert done.stderr.endswith("not converged (exit code 3): stopped after the maximum of 2 "
                                "steps\n")
    assert "final loss" in done.stdout
