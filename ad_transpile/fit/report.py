"""The result as a summary table for people and as plain data for ``--json``."""

from __future__ import annotations

import math
from typing import Any

from ad_transpile.fit.result import FitResult


def summary(result: FitResult, worst: int = 5) -> str:
    """Parameters, final loss and steps, the minima of a multi-start, and the worst tests."""
    first = result.runs[0]
    lines = [
        f"fitted {result.program} to {len(result.tests)} soft unit tests "
        f"(score {result.score}, optimizer {result.optimizer})",
        "",
        *_table(["parameter", "start", "fitted"],
                [[n, _num(first.start[n]), _num(v)] for n, v in result.params.items()]),
        "",
        f"final loss {_num(result.loss)} after {result.steps} steps ({result.message}); "
        f"{sum(r.evaluations for r in result.runs)} evaluations in {result.elapsed:.2f} s",
    ]
    if result.best_run:
        lines.append(f"the best run is run {result.best_run}, "
                     f"from {_point(result.runs[result.best_run].start)}")
    if len(result.runs) > 1:
        lines += ["", _minima_sentence(result)]
        rows = [
            [_num(m.loss), *(_num(v) for v in m.params.values()), str(len(m.runs)),
             ("best" if result.best_run in m.runs else "")
             + ("" if m.converged else " (not converged)")]
            for m in result.minima
        ]
        lines += _table(["loss", *result.params, "runs", ""], rows, indent="  ")
    failed = [i for i, r in enumerate(result.runs) if not r.converged and len(result.runs) > 1]
    for i in failed[:3]:
        lines.append(f"  run {i} from {_point(result.runs[i].start)}: {result.runs[i].message}")
    if worst:
        lines += ["", "worst tests:"]
        rows = [
            [t.name, t.describe_input(), _num(t.expected), _num(p), _num(s)]
            for t, p, s in result.worst_tests(worst)
        ]
        lines += _table(["test", "input", "expected", "predicted", "score"], rows, indent="  ")
    return "\n".join(lines)


def _minima_sentence(result: FitResult) -> str:
    runs, minima = len(result.runs), len(result.minima)
    if minima == 1:
        return f"all {runs} runs ended in the same minimum:"
    return f"the {runs} runs ended in {minima} different minima; the best is kept:"


def as_dict(result: FitResult, worst: int = 5) -> dict[str, Any]:
    """Plain data for JSON: non-finite numbers become null."""
    return _finite({
        "program": result.program,
        "params": result.params,
        "loss": result.loss,
        "steps": result.steps,
        "converged": result.converged,
        "message": result.message,
        "start": result.runs[result.best_run].start,
        "history": result.history,
        "tests": len(result.tests),
        "score": result.score,
        "optimizer": result.optimizer,
        "elapsed": result.elapsed,
        "best_run": result.best_run,
        "different_minima": result.different_minima,
        "minima": [
            {"params": m.params, "loss": m.loss, "runs": m.runs, "converged": m.converged}
            for m in result.minima
        ],
        "runs": [
            {"start": r.start, "params": r.params, "loss": r.loss, "steps": r.steps,
             "converged": r.converged, "message": r.message, "evaluations": r.evaluations}
            for r in result.runs
        ],
        "worst_tests": [
            {"test": t.name, "input": list(t.inputs), "expected": t.expected, "predicted": p,
             "score": s}
            for t, p, s in result.worst_tests(worst)
        ],
    })


def _finite(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def _table(header: list[str], rows: list[list[str]], indent: str = "") -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return [
        (indent + "  ".join(str(c).ljust(w) for c, w in zip(row, widths))).rstrip()
        for row in [header, *rows]
    ]


def _num(value: float) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _point(params: dict[str, float]) -> str:
    return ", ".join(f"{k}={_num(v)}" for k, v in params.items())
