"""How ``ad-transpile fit`` shows its progress: a bar on a terminal, plain lines in a log.

A CI log is not a terminal: a bar there is either nothing or a mess of carriage returns, so
it gets a line every ``LINE_SECONDS`` and one at the end saying whether the fit converged.
"""

from __future__ import annotations

import math
import sys
from time import monotonic
from typing import Any

import click

LINE_SECONDS = 5.0  # a progress line in a log at most this often
BAR_SECONDS = 0.05  # a terminal's bar redrawn at most 20 times a second


def progress(quiet: bool, runs: int, steps: int) -> _Silent:
    """The progress shown on stderr: none with ``quiet``, a bar on a terminal, else lines."""
    if quiet:
        return _Silent(runs, steps)
    return (_Bar if sys.stderr.isatty() else _Lines)(runs, steps)


class _Silent:
    """No progress; the base of the others: follows the best loss across runs.

    Use as ``with shown: fit(..., callback=shown.callback)`` then ``shown.done(result, code)``.
    """

    def __init__(self, runs: int, steps: int) -> None:
        self.runs, self.steps = runs, steps
        self.best = math.inf
        self.callback: Any = None

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None

    def seen(self, loss: float) -> None:
        self.best = min(self.best, loss) if math.isfinite(loss) else self.best

    def done(self, result: Any, code: int) -> None:
        """The fit has finished with ``result`` (a ``FitResult``); the command exits with
        ``code``."""


class _Lines(_Silent):
    """A line on stderr every ``LINE_SECONDS`` while the fit runs, and one when it is done."""

    def __init__(self, runs: int, steps: int) -> None:
        super().__init__(runs, steps)
        self.shown = monotonic()
        self.callback = self.update

    def update(self, run: int, step: int, loss: float, params: dict[str, float]) -> None:
        self.seen(loss)
        now = monotonic()
        if now - self.shown < LINE_SECONDS:
            return
        self.shown = now
        click.echo(f"fit: run {run + 1}/{self.runs} step {step}/{self.steps} "
                   f"loss {loss:.6g} best {self.best:.6g}", err=True)

    def done(self, result: Any, code: int) -> None:
        verdict = result.message if result.converged else \
            f"not converged (exit code {code}): {result.message}"
        click.echo(f"fit: done: best loss {result.loss:.6g} after {result.steps} steps of "
                   f"run {result.best_run + 1}/{len(result.runs)}; {verdict}", err=True)


class _Bar(_Silent):
    """A progress bar showing the run and the loss; each run has ``steps`` places on it, and
    one that converges early jumps to the next run."""

    def __init__(self, runs: int, steps: int) -> None:
        super().__init__(runs, steps)
        self.shown = 0.0
        self.callback = self.update
        self.bar: Any = click.progressbar(
            length=self.runs * max(steps, 1), label="fitting", file=sys.stderr, show_eta=False,
            item_show_func=lambda text: text,
        )

    def __enter__(self) -> _Bar:
        self.bar.__enter__()
        return self

    def update(self, run: int, step: int, loss: float, params: dict[str, float]) -> None:
        self.seen(loss)
        now = monotonic()
        if now - self.shown < BAR_SECONDS and step:
            return
        self.shown = now
        text = f"run {run + 1}/{self.runs}  loss {loss:.6g}  best {self.best:.6g}"
        self.bar.update(run * max(self.steps, 1) + step - self.bar.pos, text)

    def __exit__(self, *exc_info: Any) -> None:
        if exc_info[0] is None:
            self.bar.update(self.bar.length - self.bar.pos, f"best loss {self.best:.6g}")
        self.bar.__exit__(*exc_info)
