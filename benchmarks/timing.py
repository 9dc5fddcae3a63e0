"""What the benchmark scripts share: timing a call, and comparing two gradients."""

from __future__ import annotations

import math
import timeit
from typing import Any, Callable

REPEATS = 7


def best_time(fn: Callable, args: tuple[Any, ...]) -> float:
    """Seconds per call: the best of ``REPEATS`` timings of about 50 ms each."""
    names = [f"a{i}" for i in range(len(args))]
    # The arguments are globals of the timed statement, so no lambda or *args adds to the time.
    timer = timeit.Timer(f"fn({', '.join(names)})", globals={"fn": fn, **dict(zip(names, args))})
    number, _ = timer.autorange()  # at least 0.2 s
    number = max(1, number // 4)
    return min(timer.repeat(repeat=REPEATS, number=number)) / number


def agree(got: Any, expected: Any, rtol: float = 1e-10, atol: float = 1e-12) -> bool:
    """Whether two gradients (numbers or tuples of numbers) are the same to ``rtol``."""
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    return len(got) == len(expected) and all(
        math.isclose(g, e, rel_tol=rtol, abs_tol=atol) for g, e in zip(got, expected)
    )


def best_times(calls: list[tuple[Callable, tuple[Any, ...]]],
               repeats: int = REPEATS) -> list[float]:
    """Seconds per call of each ``(fn, args)``: like :func:`best_time`, but the repeats of all the
    calls are interleaved (one repeat of each per round, ``repeats`` rounds), so that a burst of
    load from another process on a shared machine slows every contender alike."""
    timers, numbers = [], []
    for fn, args in calls:
        names = [f"a{i}" for i in range(len(args))]
        timer = timeit.Timer(f"fn({', '.join(names)})",
                             globals={"fn": fn, **dict(zip(names, args))})
        number, _ = timer.autorange()  # at least 0.2 s
        timers.append(timer)
        numbers.append(max(1, number // 4))
    best = [math.inf] * len(calls)
    for _ in range(repeats):
        for i, (timer, number) in enumerate(zip(timers, numbers)):
            best[i] = min(best[i], timer.timeit(number) / number)
    return best
