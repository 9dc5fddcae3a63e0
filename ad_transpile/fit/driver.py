"""The gradient-descent driver: fit a program's free parameters to soft unit tests.

``fit`` takes a live function and gets its derivative from the public API (or from the
function's ``@differentiable`` decorator, or a derivative function the user gives);
``fit_program`` does the work for any :class:`~ad_transpile.fit.objective.Program`, which is how
the command line fits a program it has only read as text.
"""

from __future__ import annotations

import copy
import inspect
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ad_transpile.api import value_and_grad
from ad_transpile.fit.errors import FitError
from ad_transpile.fit.objective import Objective, Program, check_free_parameters
from ad_transpile.fit.optimizers import Optimizer, make_optimizer
from ad_transpile.fit.restarts import (
    check_count,
    check_tolerance,
    group_minima,
    resolve_bounds,
    start_points,
)
from ad_transpile.fit.result import FitResult, Run
from ad_transpile.fit.scores import Score, resolve_score
from ad_transpile.fit.tests_data import SoftTest, load_tests

Callback = Callable[[int, int, float, dict[str, float]], None]


def fit(
    program: Callable,
    tests: Any,
    params: dict[str, float],
    *,
    score: str | Score | Callable = "squared",
    optimizer: str | Optimizer = "backtracking",
    restarts: int = 0,
    seed: int = 0,
    starts: str = "random",
    bounds: dict[str, tuple[float, float]] | None = None,
    step_size: float | None = None,
    max_steps: int = 1000,
    loss_tol: float = 1e-15,
    grad_tol: float = 1e-8,
    mode: str = "reverse",
    gradient: Callable | None = None,
    callback: Callback | None = None,
) -> FitResult:
    """Fit the free parameters ``params`` (name -> start) of ``program`` to soft unit tests.

    ``tests`` are ``(input, expected)`` pairs (the input a value, or a tuple of the program's
    other arguments in order), a module of ``@soft_test`` functions, or the path of a CSV, .npy
    or .npz file. The loss is the sum of ``score(program(...), expected)`` over the tests; its
    gradient comes from ad-transpile. ``restarts`` more runs start at ``starts`` points ("random"
    or "grid") within ``bounds`` (default: each start +- max(1, |start|)); the best run wins.
    A run stops after ``max_steps``, when the gradient's norm is at most ``grad_tol``, when a
    step changes the loss by at most ``loss_tol * max(1, |loss|)``, or when no step lowers it.
    """
    program_model = program_from_function(program, params, mode, gradient)
    return fit_program(
        program_model, load_tests(tests), params, score=resolve_score(score),
        optimizer=optimizer, restarts=restarts, seed=seed, starts=starts, bounds=bounds,
        step_size=step_size, max_steps=max_steps, loss_tol=loss_tol, grad_tol=grad_tol,
        callback=callback,
    )


def fit_program(
    program: Program, tests: list[SoftTest], params: dict[str, float], *, score: Score,
    optimizer: str | Optimizer = "backtracking", restarts: int = 0, seed: int = 0,
    starts: str = "random", bounds: dict[str, tuple[float, float]] | None = None,
    step_size: float | None = None, max_steps: int = 1000, loss_tol: float = 1e-15,
    grad_tol: float = 1e-8, callback: Callback | None = None,
) -> FitResult:
    """:func:`fit` for a program whose derivative is already compiled."""
    began = time.perf_counter()
    check_free_parameters(program, params)
    check_count("max_steps", max_steps)
    check_count("seed", seed)
    check_tolerance("loss_tol", loss_tol)
    check_tolerance("grad_tol", grad_tol)
    free = list(params)
    prototype = make_optimizer(optimizer, step_size)
    objective = Objective(program, tests, free, score)
    first = np.array([float(params[n]) for n in free])
    objective.check_start(first)
    if program.given_gradient:
        objective.check_given_gradient(first)
    ranges = resolve_bounds(params, bounds, program.location)
    points = start_points(first, ranges, restarts, starts, np.random.default_rng(seed))
    runs = []
    for index, point in enumerate(points):
        report = None if callback is None else _reporter(callback, index, free)
        runs.append(_descend(objective, point, copy.deepcopy(prototype), max_steps, loss_tol,
                             grad_tol, report))
    losses = [r.loss for r in runs]
    best = min(range(len(runs)), key=lambda i: (not math.isfinite(losses[i]), losses[i]))
    finals = [np.array(list(r.params.values())) for r in runs]
    minima = group_minima(finals, losses, [r.converged for r in runs], free)
    winner = runs[best]
    at = finals[best]
    predictions = objective.predictions(at)
    return FitResult(
        params=dict(winner.params), loss=winner.loss, steps=winner.steps,
        history=list(winner.history), converged=winner.converged, message=winner.message,
        runs=runs, best_run=best, minima=minima, program=program.name, tests=objective.tests,
        predictions=predictions,
        scores=[score(p, t.expected) for p, t in zip(predictions, objective.tests)],
        score=score.name, optimizer=prototype.describe(), bounds=ranges,
        elapsed=time.perf_counter() - began, objective=objective,
    )


def _reporter(callback: Callback, run: int, names: list[str]) -> Callable:
    return lambda step, loss, x: callback(run, step, loss, dict(zip(names, x.tolist())))


def _descend(
    objective: Objective, x: np.ndarray, optimizer: Optimizer, max_steps: int,
    loss_tol: float, grad_tol: float, report: Callable | None,
) -> Run:
    """One run of gradient descent from ``x``; a non-finite loss ends it at the last good point."""
    evaluate = _Counted(objective.loss_and_grad)
    start = x.copy()
    loss, grad = evaluate(x)
    history, path = [loss], [tuple(x.tolist())]
    optimizer.start(len(x))
    converged, message = False, f"stopped after the maximum of {max_steps} steps"
    if not _finite(loss, grad):
        message = "not started: " + (objective.diagnose(x) or f"the loss is {loss} here")
        max_steps = 0
    if report:
        report(0, loss, x)
    for step in range(1, max_steps + 1):
        norm = float(np.linalg.norm(grad))
        if norm <= grad_tol:
            converged, message = True, f"converged: the gradient's norm {norm:.3g} <= {grad_tol:g}"
            break
        moved = optimizer.step(x, loss, grad, evaluate)
        if moved is None:
            converged, message = True, "converged: no step along the gradient lowers the loss"
            break
        if not _finite(*moved[1:]):
            why = objective.diagnose(moved[0]) or f"the loss became {moved[1]}"
            message = (f"diverged at step {step}: {why}; kept the last finite point "
                       "(try a smaller step size)")
            break
        change = abs(loss - moved[1])
        x, loss, grad = moved
        history.append(loss)
        path.append(tuple(x.tolist()))
        if report:
            report(step, loss, x)
        if change <= loss_tol * max(abs(loss), 1.0):
            converged, message = True, f"converged: the loss changed by {change:.3g} in a step"
            break
    names = objective.free
    return Run(
        start=dict(zip(names, start.tolist())), params=dict(zip(names, x.tolist())),
        loss=loss, steps=len(history) - 1, history=history, path=path, converged=converged,
        message=message, evaluations=evaluate.calls,
    )


class _Counted:
    """``loss_and_grad``, counting its calls."""

    def __init__(self, function: Callable) -> None:
        self.function, self.calls = function, 0

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        self.calls += 1
        return self.function(x)


def _finite(loss: float, grad: np.ndarray) -> bool:
    return math.isfinite(loss) and bool(np.all(np.isfinite(grad)))


def program_from_function(
    program: Callable, params: dict[str, float], mode: str = "reverse",
    gradient: Callable | None = None,
) -> Program:
    """A :class:`Program` for a live function, with its derivative along the free parameters.

    The derivative is, in this order of preference: ``gradient`` (a function with the program's
    signature returning the derivatives along ``params`` in their order, e.g. one written by
    ``ad-transpile grad``), the function's own ``@differentiable`` derivative when it is along
    the same parameters, or a new one from :func:`ad_transpile.value_and_grad`.
    """
    if not callable(program):
        raise FitError(f"the program must be a function, not {program!r}")
    signature = inspect.signature(program)
    model = Program(
        name=getattr(program, "__name__", "program"), location=_location(program),
        parameters=tuple(signature.parameters),
        optional=frozenset(n for n, p in signature.parameters.items() if p.default is not p.empty),
        value_and_grad=program, value=program,
    )
    check_free_parameters(model, params)
    free = tuple(params)
    derivative = gradient or _decorated_gradient(program, free)
    if derivative is None:
        return replace(model, value_and_grad=value_and_grad(program, wrt=free, mode=mode))

    def combined(*args: Any, **kwargs: Any) -> tuple[Any, tuple[float, ...]]:
        d = derivative(*args, **kwargs)
        return program(*args, **kwargs), (tuple(d) if isinstance(d, (tuple, list)) else (d,))

    given = None if gradient is None else getattr(gradient, "__name__", repr(gradient))
    return replace(model, value_and_grad=combined, given_gradient=given)


def _decorated_gradient(program: Callable, free: tuple[str, ...]) -> Callable | None:
    """``program.grad`` from ``@differentiable`` if its header says it is along ``free``."""
    text = getattr(program, "grad_source", None)
    grad_fn = getattr(program, "grad", None)
    if not (isinstance(text, str) and callable(grad_fn)):
        return None
    wrt = next((line[len("# wrt: "):].split(", ") for line in text.splitlines()[:5]
                if line.startswith("# wrt: ")), None)
    return grad_fn if wrt == list(free) else None


def _location(program: Callable) -> str:
    try:
        path = inspect.getsourcefile(program) or "<unknown>"
        line = inspect.getsourcelines(program)[1]
    except (TypeError, OSError):
        return f"<{getattr(program, '__qualname__', 'program')}>:1:1"
    shown = Path(path)
    try:
        shown = shown.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        pass
    return f"{shown.as_posix()}:{line}:1"
