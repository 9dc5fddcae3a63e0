"""Plots of a fit as PNG files: the loss over the steps, the fitted program against the tests,
and the loss landscape over one parameter (contours over two) with the descent paths on it.

matplotlib is an optional extra (``pip install 'ad-transpile[plot]'``), imported only here and
only when a plot is drawn; figures are drawn without pyplot, so no global state changes.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ad_transpile.fit.errors import FitError
from ad_transpile.fit.output import write_files
from ad_transpile.fit.result import FitResult

NAMES = ("loss.png", "fit.png", "landscape.png")
BEST, OTHERS = "#d62728", "#7f7f7f"


def require_matplotlib(where: str | None = None) -> Any:
    """The ``matplotlib.figure`` module, or a clear error saying how to install it."""
    try:
        from matplotlib import figure
    except ImportError:
        raise FitError(
            "plots need matplotlib, which is not installed: pip install 'ad-transpile[plot]'",
            where,
        ) from None
    return figure


def write_plots(result: FitResult, directory: Path) -> list[Path]:
    """Draw the three plots, then write them to ``directory``; nothing is written on an error."""
    images = render_plots(result, str(directory))
    return write_files({directory / name: data for name, data in images.items()})


def render_plots(result: FitResult, where: str | None = None) -> dict[str, bytes]:
    """The PNG bytes of each plot, by file name."""
    figure = require_matplotlib(where)
    drawers = (_loss_plot, _fit_plot, _landscape_plot)
    images = {}
    for name, draw in zip(NAMES, drawers):
        fig = figure.Figure(figsize=(7, 4.8), layout="constrained")
        draw(fig.subplots(), result)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        images[name] = buffer.getvalue()
    return images


def _loss_plot(ax: Any, result: FitResult) -> None:
    positive = all(v > 0 for r in result.runs for v in r.history if math.isfinite(v))
    for i, run in enumerate(result.runs):
        if i != result.best_run:
            ax.plot(run.history, color=OTHERS, lw=0.8, alpha=0.6)
    ax.plot(result.history, color=BEST, lw=2, label=f"best run (loss {result.loss:.4g})")
    if positive:
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel=f"loss (sum of {result.score} scores)",
           title=f"{result.program}: loss over the steps ({len(result.runs)} run(s))")
    ax.legend()


def _fit_plot(ax: Any, result: FitResult) -> None:
    tests, objective = result.tests, result.objective
    one_input = len(objective.inputs) >= 1 and all(
        len(t.inputs) == 1 and isinstance(t.inputs[0], (int, float)) for t in tests
    )
    if not one_input:
        _parity_plot(ax, result)
        return
    name = objective.inputs[0]
    xs = np.array([t.inputs[0] for t in tests], dtype=float)
    ax.scatter(xs, [t.expected for t in tests], s=12, color="#1f77b4", label="soft unit tests")
    grid = np.linspace(xs.min(), xs.max(), 400)
    start = result.runs[result.best_run].start
    for params, style, label in ((start, dict(color=OTHERS, ls="--"), "start"),
                                 (result.params, dict(color=BEST, lw=2), "fitted")):
        values = [_value(objective.program, {name: float(x), **params}) for x in grid]
        shown = ", ".join(f"{k}={v:.4g}" for k, v in params.items())
        ax.plot(grid, values, label=f"{label}: {shown}", **style)
    ax.set(xlabel=name, ylabel="output", title=f"{result.program} against the tests")
    ax.legend()


def _parity_plot(ax: Any, result: FitResult) -> None:
    expected = [t.expected for t in result.tests]
    ax.scatter(expected, result.predictions, s=12, color="#1f77b4", label="soft unit tests")
    low, high = min(expected + result.predictions), max(expected + result.predictions)
    ax.plot([low, high], [low, high], color=BEST, lw=1, label="predicted = expected")
    ax.set(xlabel="expected", ylabel="predicted",
           title=f"{result.program} after the fit: predicted against expected")
    ax.legend()


def _value(program: Any, arguments: dict[str, float]) -> float:
    try:
        return float(program.value(**arguments))
    except (ArithmeticError, ValueError):
        return math.nan


def _landscape_plot(ax: Any, result: FitResult) -> None:
    names = list(result.params)
    if len(names) == 1:
        _landscape_1d(ax, result, names[0])
    else:
        _landscape_2d(ax, result, names[0], names[1])


def _span(result: FitResult, index: int, name: str) -> tuple[float, float]:
    """The parameter's range, widened to hold every run's path."""
    values = [p[index] for run in result.runs for p in run.path]
    low, high = result.bounds[name]
    low, high = min(low, *values), max(high, *values)
    pad = 0.03 * (high - low)
    return low - pad, high + pad


def _landscape_1d(ax: Any, result: FitResult, name: str) -> None:
    grid = np.linspace(*_span(result, 0, name), 301)
    losses = [result.objective.loss(np.array([w])) for w in grid]
    ax.plot(grid, losses, color="#1f77b4", lw=1.5, label="loss")
    for i, run in enumerate(result.runs):
        xs = [p[0] for p in run.path]
        color, z = (BEST, 3) if i == result.best_run else (OTHERS, 2)
        ax.plot(xs, run.history, "-o", ms=3, lw=0.8, color=color, zorder=z)
        ax.plot(xs[-1:], run.history[-1:], "*", ms=12, color=color, zorder=z)
    ax.plot([], [], "-o", ms=3, color=BEST, label="descent path of the best run")
    if len(result.runs) > 1:
        ax.plot([], [], "-o", ms=3, color=OTHERS, label="other runs (* where each ended)")
    ax.set(xlabel=name, ylabel="loss", title=f"loss landscape of {result.program} over {name}")
    ax.legend()


def _landscape_2d(ax: Any, result: FitResult, first: str, second: str) -> None:
    xs = np.linspace(*_span(result, 0, first), 41)
    ys = np.linspace(*_span(result, 1, second), 41)
    rest = np.array(list(result.params.values())[2:])
    losses = np.array([[result.objective.loss(np.array([x, y, *rest])) for x in xs] for y in ys])
    finite = losses[np.isfinite(losses)]
    levels = 30
    if finite.size and finite.min() > 0:
        levels = np.geomspace(finite.min(), finite.max(), 30)
    contour = ax.contourf(xs, ys, np.ma.masked_invalid(losses), levels=levels, cmap="viridis",
                          norm=_log_norm(levels))
    ax.figure.colorbar(contour, ax=ax, label="loss")
    for i, run in enumerate(result.runs):
        path = np.array(run.path)
        color = "white" if i == result.best_run else "#cccccc"
        ax.plot(path[:, 0], path[:, 1], "-o", ms=2, lw=1, color=color)
        ax.plot(path[-1:, 0], path[-1:, 1], "*", ms=12, color=BEST if i == result.best_run
                else color)
    title = f"loss of {result.program} over ({first}, {second})"
    if len(result.params) > 2:
        title += " with the others at their fitted values"
    ax.set(xlabel=first, ylabel=second, title=title + "\nwith the descent path")


def _log_norm(levels: Any) -> Any:
    if isinstance(levels, int):
        return None
    from matplotlib.colors import LogNorm

    return LogNorm(vmin=levels[0], vmax=levels[-1])
