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
GRID_CALLS = 200_000  # program calls a landscape may take: a coarser grid for many tests
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
    ax.legend(fontsize="small", framealpha=0.8)


def _fit_plot(ax: Any, result: FitResult) -> None:
    numeric = all(isinstance(v, (int, float)) for t in result.tests for v in t.inputs)
    widths = {len(t.inputs) for t in result.tests}
    if numeric and widths == {1}:
        _fit_plot_1d(ax, result)
    elif numeric and widths == {2}:
        _fit_plot_2d(ax, result)
    else:
        _parity_plot(ax, result)


def _fit_plot_1d(ax: Any, result: FitResult) -> None:
    tests, objective = result.tests, result.objective
    name = objective.inputs[0]
    xs = np.array([t.inputs[0] for t in tests], dtype=float)
    ax.scatter(xs, [t.expected for t in tests], s=12, color="#1f77b4", label="soft unit tests")
    grid = np.linspace(xs.min(), xs.max(), 400)
    start = result.runs[0].start
    for params, style, label in ((start, dict(color=OTHERS, ls="--"), "start"),
                                 (result.params, dict(color=BEST, lw=2), "fitted")):
        values = [_value(objective.program, {name: float(x), **params}) for x in grid]
        shown = ", ".join(f"{k}={v:.4g}" for k, v in params.items())
        ax.plot(grid, values, label=f"{label}: {shown}", **style)
    ax.set(xlabel=name, ylabel="output", title=f"{result.program} against the tests")
    ax.legend(fontsize="small", framealpha=0.8)


def _fit_plot_2d(ax: Any, result: FitResult) -> None:
    """The fitted program over its two inputs, the tests as points coloured by their expected
    output on the same scale."""
    objective = result.objective
    first, second = objective.inputs[:2]
    points = np.array([t.inputs for t in result.tests], dtype=float)
    expected = [t.expected for t in result.tests]
    xs = np.linspace(points[:, 0].min(), points[:, 0].max(), 60)
    ys = np.linspace(points[:, 1].min(), points[:, 1].max(), 60)
    values = np.array([
        [_value(objective.program, {first: float(x), second: float(y), **result.params})
         for x in xs] for y in ys
    ])
    low = min(np.nanmin(values), min(expected))
    high = max(np.nanmax(values), max(expected))
    field = ax.contourf(xs, ys, np.ma.masked_invalid(values), levels=20, cmap="coolwarm",
                        vmin=low, vmax=high, alpha=0.8)
    ax.scatter(points[:, 0], points[:, 1], c=expected, cmap="coolwarm", vmin=low, vmax=high,
               s=14, edgecolors="black", linewidths=0.4)
    ax.figure.colorbar(field, ax=ax, label="output (points: expected)")
    shown = ", ".join(f"{k}={v:.4g}" for k, v in result.params.items())
    ax.set(xlabel=first, ylabel=second,
           title=f"{result.program} after the fit ({shown})\nagainst the tests")


def _parity_plot(ax: Any, result: FitResult) -> None:
    expected = [t.expected for t in result.tests]
    ax.scatter(expected, result.predictions, s=12, color="#1f77b4", label="soft unit tests")
    low, high = min(expected + result.predictions), max(expected + result.predictions)
    ax.plot([low, high], [low, high], color=BEST, lw=1, label="predicted = expected")
    ax.set(xlabel="expected", ylabel="predicted",
           title=f"{result.program} after the fit: predicted against expected")
    ax.legend(fontsize="small", framealpha=0.8)


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
    pad = 0.1 * (high - low)
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
    ax.legend(fontsize="small", framealpha=0.8)


def _landscape_2d(ax: Any, result: FitResult, first: str, second: str) -> None:
    from matplotlib.colors import BoundaryNorm

    size = int(np.clip(math.sqrt(GRID_CALLS / len(result.tests)), 15, 41))
    xs = np.linspace(*_span(result, 0, first), size)
    ys = np.linspace(*_span(result, 1, second), size)
    rest = np.array(list(result.params.values())[2:])
    losses = np.array([[result.objective.loss(np.array([x, y, *rest])) for x in xs] for y in ys])
    finite = losses[np.isfinite(losses)]
    low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    # levels crowd towards the minimum, where the descent ends, one colour band each
    levels = low + (high - low) * np.concatenate([[0.0], np.geomspace(1e-4, 1.0, 24)])
    levels = np.unique(levels) if high > low else np.array([low, low + 1.0])
    norm = BoundaryNorm(levels, 256)
    contour = ax.contourf(xs, ys, np.ma.masked_invalid(losses), levels=levels, cmap="viridis",
                          norm=norm)
    ax.contour(xs, ys, np.ma.masked_invalid(losses), levels=levels, colors="black",
               linewidths=0.2)
    bar = ax.figure.colorbar(contour, ax=ax, label="loss", spacing="uniform")
    bar.set_ticks(levels[::4])
    bar.set_ticklabels([f"{v:.4g}" for v in levels[::4]])
    for i, run in enumerate(result.runs):
        path = np.array(run.path)
        color = "white" if i == result.best_run else "#cccccc"
        marker = "-o" if len(path) <= 80 else "-"
        ax.plot(path[:, 0], path[:, 1], marker, ms=2, lw=1, color=color)
        ax.plot(path[:1, 0], path[:1, 1], "o", ms=5, color=color)
        ax.plot(path[-1:, 0], path[-1:, 1], "*", ms=12,
                color=BEST if i == result.best_run else color)
    title = f"loss of {result.program} over ({first}, {second})"
    if len(result.params) > 2:
        title += " with the others at their fitted values"
    ax.set(xlabel=first, ylabel=second, title=title + "\nand the descent path (o start, * end)")
