"""Soundness of the command line, the header and the fitting driver: module constants read live
and tracked by ``check``, a stale or hand-edited file always told, no file the user wrote ever
overwritten, no traceback and no silent pass, a user's gradient checked over the data."""

from __future__ import annotations

import importlib
import math
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, imported, numeric_gradient, run

import ad_transpile as adt

MODES = ("reverse", "forward")



def grad_to(target: str, out: str | Path, *options: str) -> Path:
    result = run("grad", target, "-o", out, *options)
    assert result.exit_code == 0, result.stderr
    return Path(out)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, path)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def no_traceback(result) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


# 7. module constants: read live by the API, tracked by check

PHYSICS = """\
import math
from math import sin as wave

GRAVITY = 9.81
SCALE = 2.0


def helper(t):
    return SCALE * wave(t)


def drop(t):
    return 0.5 * GRAVITY * t ** 2 + helper(t) + math.cos(t)
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, value", [("GRAVITY", 1.62), ("SCALE", -3.0)])
def test_the_api_reads_module_constants_when_called_as_the_function_does(
        tmp_path, mode, name, value):
    physics = imported(PHYSICS, tmp_path, f"physics_{mode}_{name}")
    gradient, value_and_gradient = adt.grad(physics.drop, mode=mode), adt.value_and_grad(
        physics.drop, mode=mode)
    assert gradient(2.0) == pytest.approx(numeric_gradient(physics.drop, (2.0,), 0), rel=1e-6)
    setattr(physics, name, value)
    expected = numeric_gradient(physics.drop, (2.0,), 0)
    assert gradient(2.0) == pytest.approx(expected, rel=1e-6)
    assert value_and_gradient(2.0) == pytest.approx((physics.drop(2.0), expected), rel=1e-6)


def test_the_hessian_reads_module_constants_when_called(tmp_path):
    physics = imported(PHYSICS, tmp_path, "physics_hessian")
    hessian = adt.hessian(physics.drop)
    physics.GRAVITY, physics.SCALE = 1.62, -3.0
    expected = physics.GRAVITY - physics.SCALE * math.sin(2.0) - math.cos(2.0)  # by hand
    assert hessian(2.0) == pytest.approx(expected, rel=1e-9)


def test_a_module_constant_of_the_same_name_elsewhere_is_not_read(tmp_path, monkeypatch):
    """Only names that mean in the derivative what they mean in the function's module go live:
    ``K`` in the derivative is the callee's, not the caller's unused one."""
    (tmp_path / "other_k.py").write_text("K = 3.0\n\n\ndef g(x):\n    return K * x * x\n")
    (tmp_path / "main_k.py").write_text("import other_k\n\nK = 5.0\n\n\ndef f(x):\n"
                                        "    return other_k.g(x)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    main_k = importlib.import_module("main_k")
    gradient = adt.grad(main_k.f)
    main_k.K = 7.0
    assert gradient(1.5) == pytest.approx(numeric_gradient(main_k.f, (1.5,), 0), rel=1e-6)


def physics_project(root: Path) -> Path:
    source = root / "physics.py"
    source.write_text(PHYSICS, encoding="utf-8")
    return source


@pytest.mark.parametrize("old, new", [
    ("GRAVITY = 9.81", "GRAVITY = 1.62"),              # a constant the function reads
    ("SCALE = 2.0", "SCALE = 3.0"),  # a constant a callee reads
    ("return SCALE * wave(t)", "return SCALE * wave(t) * t"),  # a callee
    ("from math import sin as wave", "from math import cos as wave"),  # an imported alias
])
@pytest.mark.parametrize("mode", MODES)
def test_check_tells_a_change_of_a_module_level_name_the_derivative_reads(
        project, old, new, mode):
    source = physics_project(project)
    out = grad_to("physics.py::drop", "gen/drop_pr.py", "--mode", mode)
    assert run("check", out).exit_code == 0
    edit(source, old, new)
    result = run("check", out)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert f"{out}: stale: physics.py::drop, or a function or module-level name" in result.stdout


def test_check_ignores_a_module_level_name_the_derivative_does_not_read(project):
    source = physics_project(project)
    out = grad_to("physics.py::drop", "gen/drop_pr.py")
    edit(source, "GRAVITY = 9.81", "UNUSED = 1.0\nGRAVITY = 9.81")
    assert run("check", out).exit_code == 0


# 8. a user's gradient function is checked on tests spread over the data


def line(t, slope, intercept):
    return slope * t + intercept


def right_only_at_zero(t, slope, intercept):
    return t * t * t, 1.0  # d/d slope is t: right at t = 0, wrong everywhere else


def right_only_at_one(t, slope, intercept):
    return t, t  # d/d intercept is 1: right at t = 1 only


@pytest.mark.parametrize("gradient, test, parameter", [
    (right_only_at_zero, r"tests\[\d+\] \(t=[1-9][\d.]*\)", "slope"),
    (right_only_at_one, r"tests\[0\] \(t=0\)", "intercept"),
])
def test_a_given_gradient_wrong_away_from_one_test_is_refused(gradient, test, parameter):
    tests = [(float(t), 2.0 * t + 1.0) for t in range(10)]
    with pytest.raises(adt.FitError, match=rf"disagrees with finite differences on the test "
                                           rf"{test}: along '{parameter}'"):
        adt.fit(line, tests, {"slope": 0.5, "intercept": 0.0}, gradient=gradient)


def test_a_right_gradient_is_still_accepted():
    tests = [(float(t), 2.0 * t + 1.0) for t in range(10)]
    result = adt.fit(line, tests, {"slope": 0.5, "intercept": 0.0},
                     gradient=lambda t, slope, intercept: (t, 1.0))
    assert result.params == pytest.approx({"slope": 2.0, "intercept": 1.0}, abs=1e-6)


# 16. numeric options of fit: validated before anything is built


SINE = ["fit", "samples/sine_program.py::wave", "--tests", "samples/data/sine_tests.csv",
        "--param", "omega=0.75", "-q"]


@pytest.mark.parametrize("options, says", [
    (["--restarts", "1000000000000"], "1000000000000 restarts would make 1000000000001 runs; at"),
    (["--restarts", "20000", "--starts", "grid"], "at most 10000 are allowed"),
    (["--seed", "-1"], "seed must be 0 or more (a whole number), not -1"),
    (["--step-size", "inf"], "the step size must be positive and finite, not inf"),
    (["--step-size", "0"], "the step size must be positive and finite"),
    (["--grad-tol", "nan"], "grad_tol must be 0 or more (a finite number), not nan"),
    (["--loss-tol", "-1"], "loss_tol must be 0 or more (a finite number), not -1.0"),
    (["--steps", "-1"], "-1 is not in the range x>=0"),
    (["--restarts", "-1"], "-1 is not in the range x>=0"),
])
def test_bad_numeric_fit_options_are_one_line_and_exit_2(project, options, says):
    result = run(*SINE, *options)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert says in result.stderr
    assert result.stdout == ""
    no_traceback(result)


def test_a_huge_restart_count_is_refused_without_building_the_starts():
    """In a process with 2 GB of address space: building 10**12 start points would not fit."""
    code = ("import ad_transpile as adt\n"
            "try:\n"
            "    adt.fit(lambda x, a: a * x, [(1.0, 2.0)], {'a': 0.0}, restarts=10**12,\n"
            "            gradient=lambda x, a: x)\n"
            "except adt.FitError as e:\n"
            "    print(e)\n")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, preexec_fn=limit, check=False)
    assert done.returncode == 0, done.stderr[-500:]
    assert "at most 10000 are allowed" in done.stdout


# 17. -o never replaces a file the user wrote, nor the source


def test_grad_refuses_to_replace_a_file_it_did_not_generate(project):
    mine = project / "ok.py"
    mine.write_text("def f(x):\n    return x * x\n", encoding="utf-8")
    before = mine.read_text()
    result = run("grad", "samples/seed.py::h", "-o", mine)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{mine}:1:1: not a file generated by ad-transpile")
    assert mine.read_text() == before
    assert run("grad", "samples/seed.py::h", "-o", mine, "--force").exit_code == 0
    assert mine.read_text().startswith("# Generated by ad-transpile")


@pytest.mark.parametrize("force", [[], ["--force"]])
@pytest.mark.parametrize("output", ["ok.py", "./ok.py", "sub/../ok.py"])
def test_grad_never_writes_over_its_own_source(project, output, force):
    (project / "sub").mkdir()
    source = project / "ok.py"
    source.write_text("def f(x):\n    return x * x\n", encoding="utf-8")
    result = run("grad", "ok.py::f", "-o", output, *force)
    assert result.exit_code == 2
    assert "is the input file ok.py" in result.stderr
    assert source.read_text() == "def f(x):\n    return x * x\n"
    assert sorted(os.listdir(project)) == ["ok.py", "samples", "sub"]  # no temporary file


def test_grad_never_writes_over_its_source_through_a_link(project):
    source = project / "ok.py"
    source.write_text("def f(x):\n    return x * x\n", encoding="utf-8")
    (project / "link.py").symlink_to(source)
    os.link(source, project / "hard.py")
    for output in ("link.py", "hard.py"):
        result = run("grad", "ok.py::f", "-o", output, "--force")
        assert result.exit_code == 2 and "is the input file ok.py" in result.stderr
    assert source.read_text() == "def f(x):\n    return x * x\n"


def test_grad_replaces_a_file_it_generated(project):
    out = grad_to("samples/seed.py::g", "gen/pr.py")
    grad_to("samples/seed.py::h", out)
    assert "def hpr(x):" in out.read_text()
    assert os.listdir(project / "gen") == ["pr.py"]


# 18. check never prints a traceback; the other files are still checked

HEADER = "# Generated by ad-transpile 0.1.0; do not edit by hand.\n"
BROKEN = {
    "a mode edited by hand": ("mode: reverse", "mode: sideways", 4,
                              "the header's mode 'sideways' is not one of"),
    "a header cut short": None,
    "a source without a function": ("seed.py::h", "seed.py", 2,
                                    "the header's source 'samples/seed.py' is not PATH::FUNCTION"),
    "a bad hash": ("source-hash: sha256:", "source-hash: md5:", 5,
                   "the header's source-hash 'md5:"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_check_reports_a_broken_header_on_one_line_and_checks_the_rest(project, case):
    good = grad_to("samples/seed.py::g", "gen/a_good.py")
    stale = grad_to("samples/two_vars.py::bump", "gen/b_stale.py")
    broken = grad_to("samples/seed.py::h", "gen/c_broken.py")
    edit(project / "samples" / "two_vars.py", "2.0 * y", "3.0 * y")
    if BROKEN[case] is None:
        broken.write_text("".join(broken.read_text().splitlines(keepends=True)[:3]))
        line, says = 3, "the header ends here without a 'mode' line"
    else:
        old, new, line, says = BROKEN[case]
        edit(broken, old, new)
    result = run("check", "gen")
    assert result.exit_code == 2
    no_traceback(result)
    assert f"{broken}:{line}:1: {says}" in result.stderr
    assert result.stdout.splitlines() == [
        f"{stale}: stale: samples/two_vars.py::bump, or a function or module-level name it "
        "reads, changed since it was generated",
        f"  regenerate it: ad-transpile grad samples/two_vars.py::bump --wrt x -o {stale}",
        "regenerate every stale file: ad-transpile regen gen",
    ]
    assert str(good) not in result.stdout + result.stderr.replace("1 current", "")


@pytest.mark.parametrize("content", [b"\xff\xfe not text", HEADER.encode() + b"\xff\n"])
def test_check_reports_a_file_that_is_not_utf8_and_checks_the_rest(project, content):
    grad_to("samples/seed.py::g", "gen/good.py")
    (project / "gen" / "binary.py").write_bytes(content)
    result = run("check", "gen")
    assert result.exit_code == 2
    no_traceback(result)
    assert "gen/binary.py:1:1: cannot read this file: not UTF-8 text" in result.stderr
    assert "1 current, 0 stale" in result.stderr


# 19. the same answer from any working directory


def test_check_gives_the_same_answer_from_anywhere(project, tmp_path_factory, monkeypatch):
    out = grad_to("samples/seed.py::h", "gen/hpr.py")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    for cwd, path in [(project, out), (elsewhere, project / out), (project / "gen", "hpr.py"),
                      (project / "samples", "../gen")]:
        monkeypatch.chdir(cwd)
        result = run("check", path)
        assert result.exit_code == 0, (cwd, result.stdout + result.stderr)
    edit(project / "samples" / "seed.py", "math.sin(x) ** 2", "math.sin(x) ** 3")
    monkeypatch.chdir(elsewhere)
    result = run("check", project / "gen")
    assert result.exit_code == 1 and "stale: samples/seed.py::h" in result.stdout


def test_check_passes_on_the_golden_files_from_another_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("check", ROOT / "tests" / "golden")
    assert result.exit_code == 0, result.stdout + result.stderr


# 20. a body edited by hand is stale


@pytest.mark.parametrize("old, new", [(" - ", " + "), ("math.cos", "math.sin"), ("\n\n\n", "\n")])
def test_check_tells_a_body_edited_by_hand(project, old, new):
    out = grad_to("samples/seed.py::h", "gen/hpr.py")
    edit(out, old, new)
    result = run("check", out)
    assert result.exit_code == 1
    assert result.stdout == (f"{out}: stale: its body was edited by hand since it was "
                             "generated\n"
                             f"  regenerate it: ad-transpile grad samples/seed.py::h --wrt x "
                             f"-o {out}\n"
                             f"regenerate every stale file: ad-transpile regen {out}\n")


def test_check_says_both_when_the_source_and_the_body_changed(project):
    out = grad_to("samples/seed.py::h", "gen/hpr.py")
    edit(out, " - ", " + ")
    edit(project / "samples" / "seed.py", "math.sin(x) ** 2", "math.sin(x) ** 3")
    result = run("check", out)
    assert result.exit_code == 1
    assert "changed since it was generated; its body was edited by hand" in result.stdout


def test_an_old_header_without_a_body_hash_is_still_read(project):
    out = grad_to("samples/seed.py::h", "gen/hpr.py")
    text = out.read_text()
    out.write_text("".join(line for line in text.splitlines(keepends=True)
                           if not line.startswith("# body-hash: ")))
    assert run("check", out).exit_code == 0


# 21. nothing to check is an error


@pytest.mark.parametrize("given, says", [
    ("empty", "empty:1:1: no file generated by ad-transpile in this folder"),
    ("plain", "plain:1:1: no file generated by ad-transpile in this folder"),
    ("nowhere", "nowhere:1:1: no such file or folder"),
])
@pytest.mark.parametrize("command", ["check", "regen"])
def test_nothing_to_check_exits_2_with_a_message(project, given, says, command):
    (project / "empty").mkdir()
    (project / "plain").mkdir()
    (project / "plain" / "mine.py").write_text("x = 1\n")
    result = run(command, given)
    assert result.exit_code == 2
    assert says in result.stderr
    no_traceback(result)


# regen


def test_regen_rewrites_only_stale_generated_files(project):
    current = grad_to("samples/seed.py::g", "gen/gpr.py")
    stale = grad_to("samples/two_vars.py::bump", "gen/bump_pr.py", "--wrt", "y", "--wrt", "x",
                    "--mode", "forward")
    edited = grad_to("samples/seed.py::h", "gen/hpr.py", "--order", "2")
    mine = project / "gen" / "mine.py"
    mine.write_text("def f(x):\n    return x\n")
    edit(project / "samples" / "two_vars.py", "2.0 * y", "3.0 * y")
    edit(edited, "\n\n\n", "\n")
    before = current.stat().st_mtime_ns
    result = run("regen", "gen")
    assert result.exit_code == 0, result.stderr
    assert "regenerated gen/bump_pr.py" in result.stderr
    assert "regenerated gen/hpr.py" in result.stderr and "gpr" not in result.stderr
    assert current.stat().st_mtime_ns == before
    assert mine.read_text() == "def f(x):\n    return x\n"
    assert run("check", "gen").exit_code == 0
    fresh = run("grad", "samples/two_vars.py::bump", "--wrt", "y", "--wrt", "x", "--mode",
                "forward")
    assert stale.read_text() == fresh.stdout
    assert sorted(os.listdir(project / "gen")) == ["bump_pr.py", "gpr.py", "hpr.py", "mine.py"]


def test_regen_from_another_folder_writes_what_grad_wrote(project, tmp_path_factory,
                                                          monkeypatch):
    out = grad_to("samples/seed.py::h", "gen/hpr.py")
    first = out.read_text()
    edit(out, " - ", " + ")
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert run("regen", project / "gen").exit_code == 0
    assert (project / out).read_text() == first


def test_regen_reports_a_source_it_cannot_differentiate_and_goes_on(project):
    broken = grad_to("samples/seed.py::g", "gen/a_gpr.py")
    stale = grad_to("samples/two_vars.py::bump", "gen/b_bump_pr.py")
    edit(project / "samples" / "seed.py", "def g(x):", "def g(x, *rest):")
    edit(project / "samples" / "two_vars.py", "2.0 * y", "3.0 * y")
    before = broken.read_text()
    result = run("regen", "gen")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{broken}: cannot regenerate: samples/seed.py:")
    assert broken.read_text() == before
    assert run("check", stale).exit_code == 0
