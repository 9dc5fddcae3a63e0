"""Multi-start: where the runs start, and which runs ended in the same minimum."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ad_transpile.fit.errors import FitError

STARTS = ("random", "grid")
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
) -> list[np.ndarray]:
    """The user's start, then ``restarts`` more: uniform at random, or the centres of a grid.

    A grid has ``ceil(restarts ** (1 / k))`` points along each of the ``k`` parameters (exactly
    ``restarts`` points for one parameter).
    """
    if starts not in STARTS:
        raise FitError(f"starts must be one of {', '.join(STARTS)}, not {starts!r}")
    if restarts < 0:
        raise FitError(f"restarts must be 0 or more, not {restarts}")
    low = np.array([b[0] for b in bounds.values()])
    high = np.array([b[1] for b in bounds.values()])
    if restarts == 0:
        return [first]
    if starts == "random":
        return [first] + [low + (high - low) * rng.random(len(first)) for _ in range(restarts)]
    per_axis = math.ceil(restarts ** (1 / len(first)) - 1e-9)
    centres = (np.arange(per_axis) + 0.5) / per_axis
    axes = [lo + (hi - lo) * centres for lo, hi in zip(low, high)]
    return [first] + [np.array(point) for point in itertools.product(*axes)]


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
