"""The ``ad-transpile`` command, used the way a developer or a CI job uses it."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, numeric_gradient, run
from golden_cases import generate
from test_kinds import LOOP_WITHOUT_KINDS

import ad_transpile as adt

LOCATED = re.compile(r"^[^\s:]+\.py:\d+:\d+: \S")



def defined_in(text: str, name: str):
    """The function ``name`` defined by a module's text (a generated one, or a sample's)."""
    namespace: dict = {}
    exec(compile(text, "module.py", "exec"), namespace)
    return namespace[name]


def sample(path: str, name: str):
    """A sample function as a live object with a source file, as a user would import it."""
    return runpy.run_path(str(ROOT / path))[name]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder holding a copy of the samples, used as the working directory."""
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# grad


def test_grad_writes_the_derivative_module_to_stdout(at_root):
    result = run("grad", "samples/seed.py::h")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == generate("samples/seed.py", "h", "x", "reverse")
    assert result.stderr == ""


def test_grad_output_file_is_what_the_api_and_golden_generation_give(at_root, tmp_path):
    target = tmp_path / "hpr.py"
    result = run("grad", "samples/seed.py::h", "-o", target)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    h = sample("samples/seed.py", "h")
    written = target.read_text(encoding="utf-8")
    assert written == generate("samples/seed.py", "h", "x", "reverse")
    assert written == adt.source(h, "x")
    assert defined_in(written, "hpr")(0.3) == pytest.approx(numeric_gradient(h, (0.3,), 0))


def test_output_folder_is_created_and_no_temporary_file_is_left(workdir):
    result = run("grad", "samples/seed.py::g", "-o", "derivatives/gpr.py")
    assert result.exit_code == 0, result.stderr
    assert os.listdir(workdir / "derivatives") == ["gpr.py"]


@pytest.mark.parametrize(
    "options, wrt, point",
    [
        (["--wrt", "x", "--wrt", "y"], "x, y", (0.3, -0.4)),
        (["--wrt", "y", "--wrt", "x"], "y, x", (0.3, -0.4)),
        (["--wrt", "y"], "y", (0.9, 0.2)),
        (["--wrt", "1"], "y", (0.9, 0.2)),
        ([], "x", (0.9, 0.2)),
    ],
)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_wrt_and_mode_choose_the_derivative(workdir, options, wrt, point, mode):
    """bump_pr(x, y) returns the partial derivatives named by --wrt, in that order."""
    result = run("grad", "samples/two_vars.py::bump", *options, "--mode", mode)
    assert result.exit_code == 0, result.stderr
    assert f"# wrt: {wrt}\n# mode: {mode}\n" in result.stdout
    bump = sample("samples/two_vars.py", "bump")
    expected = [numeric_gradient(bump, point, "xy".index(w)) for w in wrt.split(", ")]
    got = defined_in(result.stdout, "bump_pr")(*point)
    got = got if isinstance(got, tuple) else (got,)
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_forward_mode_with_repeated_wrt_is_what_golden_generation_gives(at_root):
    result = run("grad", "samples/two_vars.py::bump", "--wrt", "x", "--wrt", "y",
                 "--mode", "forward")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == generate("samples/two_vars.py", "bump", ("x", "y"), "forward")


# help and version


@pytest.mark.parametrize("command", ["grad", "check", "regen"])
def test_command_help_shows_an_example_and_the_exit_codes(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert re.search(rf"^\s+ad-transpile {command} \S", result.stdout, re.MULTILINE), (
        result.stdout
    )
    assert_exit_codes_explained(result.stdout)


def test_group_help_lists_the_commands_and_the_exit_codes():
    result = run("--help")
    assert result.exit_code == 0
    assert re.search(r"^\s+grad\s", result.stdout, re.MULTILINE)
    assert re.search(r"^\s+check\s", result.stdout, re.MULTILINE)
    assert_exit_codes_explained(result.stdout)


def assert_exit_codes_explained(text: str) -> None:
    text = " ".join(text.split())
    for code, meaning in [("0", "success"), ("1", "check failed"), ("2", "bad input")]:
        assert f"{code} {meaning}" in text or f"{code} a {meaning}" in text, (code, text)


def test_version_is_the_package_version():
    result = run("--version")
    assert result.exit_code == 0
    assert adt.__version__ in result.stdout


# check


def test_check_passes_on_the_committed_golden_files(at_root):
    result = run("check", "tests/golden")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == ""


def generate_into(folder: str, *targets: str) -> list[Path]:
    """Generate ``samples/two_vars.py::NAME`` style targets as files under ``folder``."""
    files = []
    for target in targets:
        out = Path(folder) / f"{target.rpartition('::')[2]}_pr.py"
        result = run("grad", target, "-o", out)
        assert result.exit_code == 0, result.stderr
        files.append(out)
    return files


def test_check_is_quiet_while_generated_files_are_current(workdir):
    generate_into("gen", "samples/seed.py::h", "samples/two_vars.py::bump")
    result = run("check", "gen")
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""


def test_check_names_the_file_whose_source_function_changed(workdir):
    h_file, bump_file = generate_into("gen", "samples/seed.py::h", "samples/two_vars.py::bump")
    source = workdir / "samples" / "two_vars.py"
    source.write_text(source.read_text().replace("2.0 * y", "3.0 * y"))
    for args in (["gen"], [bump_file, h_file]):
        result = run("check", *args)
        assert result.exit_code == 1
        assert f"{bump_file}: stale: " in result.stdout
        assert f"{h_file}: stale" not in result.stdout and f"-o {h_file}" not in result.stdout


def test_check_ignores_edits_outside_the_source_function(workdir):
    (out,) = generate_into("gen", "samples/two_vars.py::bump")
    source = workdir / "samples" / "two_vars.py"
    source.write_text("# a new first line\n" + source.read_text() + "\n\nSCALE = 2.0\n")
    result = run("check", out)
    assert result.exit_code == 0, result.stdout


def test_check_fails_when_the_source_file_was_deleted(workdir):
    (out,) = generate_into("gen", "samples/seed.py::g")
    (workdir / "samples" / "seed.py").unlink()
    result = run("check", out)
    assert result.exit_code == 1
    assert str(out) in result.stdout
    assert "samples/seed.py" in result.stdout


def test_check_rejects_a_file_it_did_not_generate(workdir):
    result = run("check", "samples/seed.py")
    assert result.exit_code == 2
    assert result.stderr.startswith("samples/seed.py:1:1: ")


# the command check prints for a stale file

SOFT = """\
import math


def softplus(x):
    return math.log(1.0 + math.exp(x))


def layer(w, x):
    return softplus(w * x)
"""

SOFT_RULES = """\
import math

import soft
from ad_transpile import partials


@partials(soft.softplus)
def softplus(x):
    return 0.5 * (1.0 + math.tanh(0.5 * x))
"""


GRAD_OPTIONS = {
    "defaults": ("samples/seed.py::h", []),
    "two wrt, forward": ("samples/two_vars.py::bump", ["--wrt", "y", "--wrt", "x",
                                                       "--mode", "forward"]),
    "second order": ("samples/seed.py::h", ["--order", "2"]),
    "forward, second order": ("samples/two_vars.py::bump", ["--mode", "forward", "--order", "2"]),
    "kinds": ("loop.py::loss", ["--arg", "xs=list[float]", "--arg", "ys=list[float]"]),
    "rules": ("soft.py::layer", ["--rules", "soft_rules.py"]),
}


def run_printed(command: str):
    """Run a ``[cd FOLDER && ]ad-transpile ...`` line as a shell would, in this process."""
    import shlex

    words = shlex.split(command)
    if words[0] == "cd":
        assert words[2] == "&&", command
        os.chdir(words[1])
        words = words[3:]
    assert words[0] == "ad-transpile", command
    return run(*words[1:])


@pytest.mark.parametrize("where", [".", "samples"])
@pytest.mark.parametrize("case", GRAD_OPTIONS)
def test_check_prints_the_grad_command_that_writes_the_stale_file_again(workdir, case, where):
    Path("soft.py").write_text(SOFT)
    Path("soft_rules.py").write_text(SOFT_RULES)
    Path("loop.py").write_text(LOOP_WITHOUT_KINDS)
    target, options = GRAD_OPTIONS[case]
    out = workdir / "gen" / "out.py"
    assert run("grad", target, *options, "-o", out).exit_code == 0
    first = out.read_text()
    out.write_text(first + "# an edit by hand\n")
    os.chdir(where)
    given = os.path.relpath(out)
    result = run("check", given)
    assert result.exit_code == 1
    stale, command, hint = result.stdout.splitlines()
    assert stale == f"{given}: stale: its body was edited by hand since it was generated"
    assert command.startswith("  regenerate it: " + ("cd .. && " if where != "." else ""))
    assert hint == f"regenerate every stale file: ad-transpile regen {given}"
    assert run_printed(command.removeprefix("  regenerate it: ")).exit_code == 0
    assert out.read_text() == first
    assert run("check", out).exit_code == 0


def test_check_prints_no_command_for_a_file_whose_source_is_gone(workdir):
    (out,) = generate_into("gen", "samples/seed.py::g")
    (workdir / "samples" / "seed.py").unlink()
    result = run("check", out)
    assert result.exit_code == 1
    assert "regenerate it:" not in result.stdout
    assert result.stdout.startswith(f"{out}: stale: its source file samples/seed.py is missing")


def test_a_path_with_a_space_is_quoted_in_the_printed_command(workdir):
    (out,) = generate_into("my derivatives", "samples/seed.py::h")
    out.write_text(out.read_text() + "# an edit by hand\n")
    result = run("check", out)
    assert "-o 'my derivatives/h_pr.py'\n" in result.stdout
    assert "ad-transpile regen 'my derivatives/h_pr.py'\n" in result.stdout


# regen: in place, one file at a time, each whole or not at all, only generated files


def stale_files(*targets: str) -> list[Path]:
    """Generated files under gen/, each made stale by an edit by hand."""
    files = generate_into("gen", *targets)
    for file in files:
        file.write_text(file.read_text() + "# an edit by hand\n")
    return files


def test_regen_never_touches_a_file_it_did_not_generate(workdir):
    mine = workdir / "gen" / "mine.py"
    mine.parent.mkdir()
    mine.write_text("def f(x):\n    return x\n")
    before = mine.stat().st_mtime_ns
    result = run("regen", mine)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{mine}:1:1: not a file generated by ad-transpile")
    assert mine.read_text() == "def f(x):\n    return x\n"
    assert mine.stat().st_mtime_ns == before


def test_regen_leaves_a_file_with_a_damaged_header_as_it_was(workdir):
    (out,) = stale_files("samples/seed.py::h")
    damaged = out.read_text().replace("# mode: reverse\n", "# mode: sideways\n")
    out.write_text(damaged)
    result = run("regen", "gen")
    assert result.exit_code == 2
    assert f"{out}:4:1: the header's mode 'sideways'" in result.stderr
    assert out.read_text() == damaged


def test_a_write_that_fails_leaves_that_file_whole_and_the_others_are_written(workdir,
                                                                           monkeypatch):
    first, second, third = stale_files("samples/seed.py::g", "samples/seed.py::h",
                                       "samples/two_vars.py::bump")
    edited = second.read_text()
    replace = os.replace

    def full_disk_for_the_second(temporary, path):
        if Path(path).name == second.name:
            raise OSError(28, "No space left on device")
        replace(temporary, path)

    monkeypatch.setattr(os, "replace", full_disk_for_the_second)
    result = run("regen", "gen")
    assert result.exit_code == 2
    assert f"{second}:1:1: cannot write: No space left on device" in result.stderr
    assert second.read_text() == edited  # the old file, whole
    assert sorted(os.listdir("gen")) == sorted(f.name for f in (first, second, third))
    monkeypatch.setattr(os, "replace", replace)
    assert run("check", first).exit_code == 0 and run("check", third).exit_code == 0
    assert run("check", second).exit_code == 1


def test_regen_writes_one_file_at_a_time(workdir, monkeypatch):
    """Each file is written before the next is read, so a cut-off run keeps what it wrote."""
    from ad_transpile import cli

    files = stale_files("samples/seed.py::g", "samples/seed.py::h")
    events = []
    read, write = cli.regenerated, cli.write_atomically
    monkeypatch.setattr(cli, "regenerated",
                        lambda header, file: events.append(("read", file.name)) or read(header,
                                                                                        file))
    monkeypatch.setattr(cli, "write_atomically",
                        lambda path, text: events.append(("write", path.name)) or write(path,
                                                                                         text))
    assert run("regen", "gen").exit_code == 0
    assert events == [(step, f.name) for f in files for step in ("read", "write")]


def test_regen_through_a_symlink_keeps_the_link(workdir):
    (out,) = stale_files("samples/seed.py::h")
    link = workdir / "gen" / "link.py"
    link.symlink_to(out.name)
    assert run("regen", link).exit_code == 0
    assert link.is_symlink() and run("check", "gen").exit_code == 0


# bad input


BAD_INPUT = {
    "missing file": ("nowhere.py::f", [], None, "nowhere.py:1:1: ", "no such file"),
    "syntax error": ("broken.py::f", [], "def f(x)\n    return x\n", "broken.py:1:9: ",
                     "syntax error"),
    "unknown function": ("plain.py::nope", [], "def f(x):\n    return 2.0 * x\n",
                         "plain.py:1:1: ", "'nope'"),
    "an unsupported construct": ("tally.py::f", [], "TOTAL = 0.0\n\ndef f(x):\n    y = x * x\n"
                                 "    global TOTAL\n    TOTAL = y\n    return y\n",
                                 "tally.py:5:5: ", "'global'"),
    "a bad --wrt name": ("plain.py::f", ["--wrt", "z"], "def f(x):\n    return 2.0 * x\n",
                         "plain.py:1:1: ", "'z'"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_is_one_located_line_on_stderr_and_exit_code_2(case, workdir):
    target, options, text, prefix, says = BAD_INPUT[case]
    if text is not None:
        Path(target.partition("::")[0]).write_text(text)
    result = run("grad", target, *options)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(prefix), result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("before", [None, "# a file the user already had\n"])
@pytest.mark.parametrize("case", BAD_INPUT)
def test_failure_leaves_the_output_file_as_it_was(case, before, workdir):
    target, options, text, _, _ = BAD_INPUT[case]
    if text is not None:
        Path(target.partition("::")[0]).write_text(text)
    out = workdir / "out"
    out.mkdir()
    if before is not None:
        (out / "fpr.py").write_text(before)
    result = run("grad", target, *options, "-o", out / "fpr.py")
    assert result.exit_code == 2
    if before is None:
        assert os.listdir(out) == []
    else:
        assert os.listdir(out) == ["fpr.py"]
        assert (out / "fpr.py").read_text() == before


# real processes


def test_installed_console_script(at_root):
    script = shutil.which("ad-transpile")
    if script is None:
        pytest.skip("the ad-transpile console script is not installed")
    done = subprocess.run([script, "grad", "samples/seed.py::h"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == generate("samples/seed.py", "h", "x", "reverse")


def test_python_dash_m_reports_bad_input_without_a_traceback(at_root):
    done = subprocess.run([sys.executable, "-m", "ad_transpile", "grad", "samples/seed.py::nope"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert LOCATED.match(done.stderr) and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("samples/seed.py:")
    assert "Traceback" not in done.stderr

