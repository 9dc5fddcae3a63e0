"""Multi-start: where the runs start, and which runs ended in the same minimum."""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ad_transpile.fit.errors import FitError

STARTS = ("random", "grid")
MAX_RUNS = 10_000  # every run keeps its history and path: more would not fit in memory
SAME_MINIMUM = 1e-2  # relative distance under which two final points count as one minimum


@dataclass(frozen=True)
class Minimum:
    """A point where one or more runs ended, with the runs (their indices) that ended there."""

    params: dict[str, float]
    loss: float
    runs: list[int]
    converged: bool


def resolve_bounds(
    params: dict[str, float], bounds: dict[str, Any] | None, where: str | None
) -> dict[str, tuple[float, float]]:
    """The range of each parameter for random or grid starts and for landscape plots.

    A parameter without a range gets ``start +- max(1, |start|)``.
    """
    bounds = dict(bounds or {})
    unknown = sorted(set(bounds) - set(params))
    if unknown:
        raise FitError(f"a range is given for {unknown[0]!r}, which is not a free parameter", where)
    resolved = {}
    for name, start in params.items():
        spread = max(1.0, abs(start))
        low, high = bounds.get(name, (start - spread, start + spread))
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise FitError(f"the range of {name!r} must be two finite numbers LOW < HIGH, not "
                           f"{low!r}, {high!r}", where)
        resolved[name] = (float(low), float(high))
    return resolved


def start_points(
    first: np.ndarray, bounds: dict[str, tuple[float, float]], restarts: int, starts: str,
    rng: np.random.Generator,
) -> Iterator[np.ndarray]:
    """The user's start, then ``restarts`` more: uniform at random, or the centres of a grid.

    A grid has ``ceil(restarts ** (1 / k))`` points along each of the ``k`` parameters (exactly
    ``restarts`` points for one parameter). The points are made one at a time, as runs start;
    more than ``MAX_RUNS`` runs in all are refused before any starts.
    """
    if starts not in STARTS:
        raise FitError(f"starts must be one of {', '.join(STARTS)}, not {starts!r}")
    check_count("restarts", restarts)
    per_axis = _per_axis(restarts, len(first))
    runs = run_count(restarts, starts, len(first))
    if runs > MAX_RUNS:
        grid = f" (a grid of {per_axis}^{len(first)} points)" if starts == "grid" else ""
        raise FitError(f"{restarts} restarts{grid} would make {runs} runs; at most {MAX_RUNS} "
                       "are allowed, as each keeps its history")
    return _points(first, bounds, restarts, starts, per_axis, rng)


def run_count(restarts: int, starts: str, size: int) -> int:
    """How many runs ``restarts`` more starts make for ``size`` free parameters: a grid has
    more points than ``restarts`` when ``restarts`` is not a power of ``size``."""
    return 1 + (restarts if starts == "random" else _per_axis(restarts, size) ** size)


def _per_axis(restarts: int, size: int) -> int:
    return math.ceil(restarts ** (1 / size) - 1e-9) if restarts else 0


def _points(first: np.ndarray, bounds: dict[str, tuple[float, float]], restarts: int,
            starts: str, per_axis: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    low = np.array([b[0] for b in bounds.values()])
    high = np.array([b[1] for b in bounds.values()])
    yield first
    if restarts == 0:
        return
    if starts == "random":
        for _ in range(restarts):
            yield low + (high - low) * rng.random(len(first))
        return
    centres = (np.arange(per_axis) + 0.5) / per_axis
    axes = [lo + (hi - lo) * centres for lo, hi in zip(low, high)]
    for point in itertools.product(*axes):
        yield np.array(point)


def check_count(name: str, value: object) -> None:
    """A count option is a whole number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise FitError(f"{name} must be 0 or more (a whole number), not {value!r}")


def check_tolerance(name: str, value: object) -> None:
    """A tolerance is a finite number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not (math.isfinite(value) and value >= 0):
        raise FitError(f"{name} must be 0 or more (a finite number), not {value!r}")


def group_minima(finals: list[np.ndarray], losses: list[float], converged: list[bool],
                 names: list[str]) -> list[Minimum]:
    """Group the runs' final points into minima, best first."""
    order = sorted(range(len(finals)), key=lambda i: (not math.isfinite(losses[i]), losses[i]))
    groups: list[list[int]] = []
    for i in order:
        for group in groups:
            a, b = finals[group[0]], finals[i]
            if np.all(np.abs(a - b) <= SAME_MINIMUM * np.maximum(1.0, np.maximum(abs(a), abs(b)))):
                group.append(i)
                break
        else:
            groups.append([i])
    return [
        Minimum(
            params=dict(zip(names, finals[g[0]].tolist())), loss=losses[g[0]], runs=sorted(g),
            converged=any(converged[i] for i in g),
        )
        for g in groups
    ]
