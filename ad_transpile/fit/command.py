"""``ad-transpile fit``: fit a program's free parameters to soft unit tests in a data file.

The program is read as text and transpiled with its primal, so its module is never imported.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ad_transpile.errors import TranspileError
from ad_transpile.fit.driver import fit_program
from ad_transpile.fit.errors import FitError
from ad_transpile.fit.objective import Program, check_free_parameters
from ad_transpile.fit.optimizers import OPTIMIZERS
from ad_transpile.fit.progress import progress
from ad_transpile.fit.restarts import STARTS, run_count
from ad_transpile.fit.scores import SCORES, Score, resolve_score
from ad_transpile.fit.tests_data import load_tests
from ad_transpile.load import load
from ad_transpile.parse import ParsedFunction, display_path, read_function
from ad_transpile.pipeline import MODES, transpile

EPILOG = """\b
Example: fit omega of samples/sine_program.py::wave (def wave(x, omega)) to 200 tests,
from 0.75 and 12 more starts on a grid over [0, 3], and draw the plots:
  ad-transpile fit samples/sine_program.py::wave --tests samples/data/sine_tests.csv \\
      --param omega=0.75 --restarts 12 --starts grid --range omega=0:3 --plot plots/sine

\b
Exit codes: 0 the fit converged; 3 it finished without converging (the best run reached --steps,
or diverged and kept its last finite point): the result is still printed; 2 bad input (missing
file, bad data row, unknown parameter, a program that cannot be differentiated or returns nan),
reported as one 'path:line[:col]: message' line.

\b
Progress goes to stderr: a bar on a terminal; elsewhere (a CI log) a line every few seconds,
'fit: run 1/3 step 400/1000 loss 0.0123 best 0.0101', and a last line saying whether the fit
converged. --quiet shows none."""

CONVERGED, BAD_INPUT, NOT_CONVERGED = 0, 2, 3


@click.command("fit", epilog=EPILOG)
@click.argument("target", metavar="PATH::PROGRAM")
@click.option("--tests", "tests_file", required=True, metavar="FILE",
              help="Soft unit tests: CSV with a header (input column(s), then the expected "
                   "output last), .npy, or .npz with arrays x and y.")
@click.option("--param", "params", multiple=True, required=True, metavar="NAME=START",
              help="A free parameter of PROGRAM and its start value (repeatable).")
@click.option("--optimizer", type=click.Choice(list(OPTIMIZERS)), default="backtracking",
              show_default=True, help="backtracking: adaptive step; gd: fixed step.")
@click.option("--score", default="squared", show_default=True,
              metavar=f"{'|'.join(SCORES)}|PATH::FUNC",
              help="How a test is scored; PATH::FUNC is your own score(predicted, expected).")
@click.option("--restarts", type=click.IntRange(min=0), default=0, show_default=True,
              help="More runs from other starts; the best result is kept.")
@click.option("--starts", type=click.Choice(STARTS), default="random", show_default=True,
              help="Where the restarts start within the ranges.")
@click.option("--range", "ranges", multiple=True, metavar="NAME=LOW:HIGH",
              help="Range of a parameter for restarts and plots "
                   "(default: start +- max(1, |start|)).")
@click.option("--steps", "max_steps", type=click.IntRange(min=0), default=1000,
              show_default=True, help="The most steps a run takes.")
@click.option("--step-size", type=float, help="Learning rate (backtracking: the first move).")
@click.option("--loss-tol", type=float, default=1e-15, show_default=True,
              help="Stop when a step changes the loss by at most this times max(1, |loss|).")
@click.option("--grad-tol", type=float, default=1e-8, show_default=True,
              help="Stop when the gradient's norm is at most this.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of random starts.")
@click.option("--mode", type=click.Choice(MODES), default="reverse", show_default=True)
@click.option("--rules", "rules", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="A file of your own derivative rules (@partials), as for grad (repeatable).")
@click.option("--plot", "plot_dir", type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="Write loss.png, fit.png and landscape.png here (matplotlib).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--worst", type=click.IntRange(min=0), default=5, show_default=True,
              help="How many of the worst tests to show.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or progress lines.")
def fit_command(target: str, tests_file: str, params: tuple[str, ...], optimizer: str,
                score: str, restarts: int, starts: str, ranges: tuple[str, ...], max_steps: int,
                step_size: float | None, loss_tol: float, grad_tol: float, seed: int, mode: str,
                rules: tuple[Path, ...], plot_dir: Path | None, as_json: bool, worst: int,
                quiet: bool) -> None:
    """Fit the free parameters of PROGRAM, defined at the top level of the file PATH, to soft
    unit tests by gradient descent on the sum of their scores, using its generated derivative.

    PATH is read as text: it is never imported or run.
    """
    try:
        path, name = _split(target, "PATH::PROGRAM")
        starts_at = dict(_assignment(p, "--param", "NAME=START", _number) for p in params)
        bounds = dict(_assignment(r, "--range", "NAME=LOW:HIGH", _interval) for r in ranges)
        if plot_dir is not None:
            from ad_transpile.fit.plots import require_matplotlib

            require_matplotlib(str(plot_dir))
        program = program_from_file(path, name, starts_at, mode, rules)
        if Path(tests_file).suffix.lower() == ".py":
            raise FitError("the command line reads tests from .csv, .npy or .npz files; a module "
                           "of @soft_test functions works from the Python API", tests_file)
        tests = load_tests(tests_file)
        with progress(quiet, run_count(restarts, starts, len(starts_at)), max_steps) as shown:
            result = fit_program(
                program, tests, starts_at, score=_score(score, mode, rules), optimizer=optimizer,
                restarts=restarts, seed=seed, starts=starts, bounds=bounds,
                step_size=step_size, max_steps=max_steps, loss_tol=loss_tol,
                grad_tol=grad_tol, callback=shown.callback,
            )
        written = _plots(result, plot_dir) if plot_dir is not None else []
        code = CONVERGED if result.converged else NOT_CONVERGED
        shown.done(result, code)
    except (FitError, TranspileError) as error:
        _fail(str(error))
    if as_json:
        data = result.to_dict(worst)
        data["plots"] = [str(p) for p in written]
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(result.summary(worst))
        if written:
            click.echo("\nplots: " + ", ".join(str(p) for p in written))
    sys.exit(code)


def program_from_file(path: str, name: str, params: dict[str, float], mode: str = "reverse",
                      rules: tuple[Path, ...] = ()) -> Program:
    """The program ``name`` in the file ``path``, read as text, with its value and derivative."""
    parsed = read_function(path, name)
    parsed.path = display_path(path)
    args = parsed.tree.args
    positional = [a.id for a in [*args.posonlyargs, *args.args]]
    keyword = [a.id for a in args.kwonlyargs]
    optional = positional[len(positional) - len(args.defaults):] if args.defaults else []
    optional += [k for k, d in zip(keyword, args.kw_defaults) if d is not None]
    model = Program(
        name=name, location=f"{parsed.path}:{parsed.tree.lineno}:{parsed.tree.col_offset + 1}",
        parameters=tuple(positional + keyword), optional=frozenset(optional),
        value_and_grad=None, value=None,  # compiled once the free parameters are known good
    )
    check_free_parameters(model, params)
    compiled = _compile(parsed, tuple(params), mode, rules)

    def value(**arguments: Any) -> Any:
        return compiled(**arguments)[0]

    return replace(model, value_and_grad=compiled, value=value)


def _compile(parsed: ParsedFunction, wrt: Any, mode: str, rules: tuple[Path, ...]) -> Any:
    text, entry = transpile(parsed, wrt, mode, "value_and_grad", rules=rules)
    return load(text, entry, f"{parsed.name} value_and_grad")


def _score(spec: str, mode: str, rules: tuple[Path, ...]) -> Score:
    if "::" not in spec:
        return resolve_score(spec)
    path, name = _split(spec, "PATH::FUNC")
    parsed = read_function(path, name)
    parsed.path = display_path(path)
    return Score(name, _compile(parsed, 0, mode, rules))


def _split(target: str, form: str) -> tuple[str, str]:
    path, _, name = target.rpartition("::")
    if not path or not name:
        raise FitError(f"expected {form}, e.g. samples/sine_program.py::wave, not {target!r}")
    return path, name


def _assignment(text: str, option: str, form: str, parse: Any) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    try:
        if not (sep and name.strip()):
            raise ValueError
        return name.strip(), parse(value)
    except ValueError:
        raise FitError(f"{option} {text!r}: expected {form}", option) from None


def _number(text: str) -> float:
    return float(text)


def _interval(text: str) -> tuple[float, float]:
    low, sep, high = text.partition(":")
    if not sep:
        raise ValueError(text)
    return float(low), float(high)


def _plots(result: Any, directory: Path) -> list[Path]:
    from ad_transpile.fit.plots import write_plots

    try:
        return write_plots(result, directory)
    except OSError as exc:
        raise FitError(f"cannot write the plots: {exc.strerror or exc}", str(directory)) from None


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(BAD_INPUT)
