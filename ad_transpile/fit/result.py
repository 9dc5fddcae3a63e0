"""What a fit returns: the best parameters, and every run of a multi-start with its minimum."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ad_transpile.fit.objective import Objective
from ad_transpile.fit.restarts import Minimum
from ad_transpile.fit.tests_data import SoftTest


@dataclass
class Run:
    """One descent from one start."""

    start: dict[str, float]
    params: dict[str, float]
    loss: float
    steps: int
    history: list[float]
    path: list[tuple[float, ...]]
    converged: bool
    message: str
    evaluations: int


@dataclass
class FitResult:
    """The best run of a fit, with all runs and the distinct minima they ended in.

    ``params``, ``loss``, ``steps``, ``history`` (the loss at each step) and ``path`` (the
    parameters at each step) are those of the best run, ``runs[best_run]``.
    """

    params: dict[str, float]
    loss: float
    steps: int
    history: list[float]
    converged: bool
    message: str
    runs: list[Run]
    best_run: int
    minima: list[Minimum]
    program: str
    tests: list[SoftTest]
    predictions: list[float]
    scores: list[float]
    score: str
    optimizer: str
    bounds: dict[str, tuple[float, float]]
    elapsed: float
    objective: Objective = field(repr=False, compare=False)

    @property
    def path(self) -> list[tuple[float, ...]]:
        return self.runs[self.best_run].path

    @property
    def different_minima(self) -> bool:
        """Whether the runs of a multi-start ended in more than one minimum."""
        return len(self.minima) > 1

    def worst_tests(self, count: int = 5) -> list[tuple[SoftTest, float, float]]:
        """The tests with the highest scores: ``(test, predicted, score)``, worst first."""
        rows = sorted(zip(self.tests, self.predictions, self.scores), key=lambda r: -r[2])
        return rows[:count]

    def summary(self, worst: int = 5) -> str:
        """A table of the parameters, the final loss, the runs' minima and the worst tests."""
        from ad_transpile.fit.report import summary

        return summary(self, worst)

    def to_dict(self, worst: int = 5) -> dict[str, Any]:
        """The result as plain JSON-ready data (what ``ad-transpile fit --json`` prints)."""
        from ad_transpile.fit.report import as_dict

        return as_dict(self, worst)

    def plot(self, directory: str | Path) -> list[Path]:
        """Write ``loss.png``, ``fit.png`` and ``landscape.png`` to ``directory``.

        Needs matplotlib (``pip install 'ad-transpile[plot]'``); nothing is written on an error.
        """
        from ad_transpile.fit.plots import write_plots

        return write_plots(self, Path(directory))
