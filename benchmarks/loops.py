"""Time generated gradients of loop-heavy functions, and measure the reverse sweep's memory.

    python benchmarks/loops.py

Part 1 (time). For the seed's sine fit ``loss(omega, xs, ys)`` over 200 seeded soft unit tests
and three more loops (a ``for i in range(n)`` recurrence, a ``while`` loop whose trip count
depends on the data, and a pair of nested loops), it prints the best time per call (of several
``timeit`` repeats, the contenders of a workload taking turns) of the primal, a careful
hand-written gradient in the same mode, the raw generated gradient (as compiled from the
generated module, made for the kinds of the arguments as ``adt.grad`` makes it) and the
``adt.grad`` wrapper around it, in reverse and forward mode, then the
ratios generated/hand-written (same mode, and the faster of the two hand-written gradients) and
generated/primal. Before timing, every gradient is checked against the hand-written reverse one
(relative tolerance 1e-9); a gradient that
disagrees or raises is reported in its row and not timed, and the script exits non-zero at the
end.

Part 2 (memory). With ``tracemalloc``, the peak memory allocated during one call (minus the
memory allocated before it) of the generated reverse gradient, the hand-written gradient and
the generated forward gradient, for loops of 10**6 iterations, in MB and bytes per iteration
(the generated results are checked against the hand-written one here too).

This is a report, not a pass/fail test; it takes under a minute (about 35 s on 2 cores).
"""

from __future__ import annotations

import inspect
import math
import platform
import random
import runpy
import sys
import tracemalloc
from pathlib import Path
from typing import Any, Callable

from timing import REPEATS, agree, best_times

import ad_transpile as adt
from ad_transpile.api import _compile
from ad_transpile.specialize import kind_of_argument

ROOT = Path(__file__).resolve().parent.parent
MODES = ("reverse", "forward")
RTOL = 1e-9
BIG = 10**6  # iterations of the loops whose memory is measured


def sample(path: str, name: str) -> Callable:
    return runpy.run_path(str(ROOT / path))[name]


loss = sample("samples/sine_fit.py", "loss")


def soft_tests(count: int, seed: int = 0) -> tuple[list[float], list[float]]:
    """``count`` tests (x, y): x uniform in [-3, 3], y = sin(1.5 x) plus a little noise."""
    rng = random.Random(seed)
    xs = [rng.uniform(-3.0, 3.0) for _ in range(count)]
    ys = [math.sin(1.5 * x) + rng.gauss(0.0, 0.05) for x in xs]
    return xs, ys


def loss_by_hand(omega, xs, ys):
    g = 0.0
    for x, y in zip(xs, ys):
        u = omega * x
        g += 2.0 * (math.sin(u) - y) * math.cos(u) * x
    return g


def recurrence(x, a, n):
    """``n`` steps of x <- a x + sin(x): every step depends on the one before."""
    for _ in range(n):
        x = x * a + math.sin(x)
    return x


def recurrence_by_hand(x, a, n):
    """Reverse mode by hand: the forward sweep must keep every x for the backward one."""
    tape = []
    for _ in range(n):
        tape.append(x)
        x = x * a + math.sin(x)
    d_x = 1.0
    d_a = 0.0
    for x in reversed(tape):
        d_a += x * d_x
        d_x *= a + math.cos(x)
    return d_x, d_a


def recurrence_forward_by_hand(x, a, n):
    """Forward mode by hand: one sweep carries the tangents of x with respect to x and a."""
    dx_dx, dx_da = 1.0, 0.0
    for _ in range(n):
        c = a + math.cos(x)
        dx_dx, dx_da = c * dx_dx, c * dx_da + x
        x = x * a + math.sin(x)
    return dx_dx, dx_da


def bounces(h, k):
    """Air time (up to a constant) of a ball dropped from height h that keeps a fraction k of
    its height at each bounce, until it bounces lower than 1: a data-dependent trip count."""
    total = 0.0
    while h > 1.0:
        h = h * k
        total += math.sqrt(h)
    return total


def bounces_by_hand(h, k):
    """d total / d k, carried along the loop (the trip count does not depend on k locally)."""
    d_h = 0.0
    d_total = 0.0
    while h > 1.0:
        d_h = d_h * k + h
        h = h * k
        d_total += 0.5 * d_h / math.sqrt(h)
    return d_total


def bounces_reverse_by_hand(h, k):
    """Reverse mode by hand: the sweep back needs each height before it was multiplied."""
    tape = []
    while h > 1.0:
        tape.append(h)
        h = h * k
    d_h = d_k = 0.0
    for h in reversed(tape):
        d_h += 0.5 / math.sqrt(h * k)
        d_k += h * d_h
        d_h *= k
    return d_k


def pair_energy(s, xs):
    """A Gaussian pair energy: nested loops over all ordered pairs of points."""
    e = 0.0
    for xi in xs:
        for xj in xs:
            d = xi - xj
            e += math.exp(-s * d * d)
    return e


def pair_energy_by_hand(s, xs):
    g = 0.0
    for xi in xs:
        for xj in xs:
            d = xi - xj
            dd = d * d
            g -= dd * math.exp(-s * dd)
    return g


def trips(h: float, k: float) -> int:
    """How many times the loop of ``bounces(h, k)`` runs."""
    count = 0
    while h > 1.0:
        h, count = h * k, count + 1
    return count


TESTS = soft_tests(200)
POINTS = [random.Random(1).uniform(-2.0, 2.0) for _ in range(60)]

# (label, primal, wrt, {mode: hand-written gradient in that mode}, point)
CASES = [
    ("sine loss, 200 tests", loss, "omega",
     {"reverse": loss_by_hand, "forward": loss_by_hand}, (1.4, *TESTS)),
    ("recurrence n=1000", recurrence, ("x", "a"),
     {"reverse": recurrence_by_hand, "forward": recurrence_forward_by_hand}, (1.0, -0.3, 1000)),
    (f"bounces, {trips(1000.0, 0.99)} trips", bounces, "k",
     {"reverse": bounces_reverse_by_hand, "forward": bounces_by_hand}, (1000.0, 0.99)),
    ("pair energy 60x60", pair_energy, "s",
     {"reverse": pair_energy_by_hand, "forward": pair_energy_by_hand}, (0.8, POINTS)),
]


def called_kinds(f: Callable, point: tuple[Any, ...]) -> tuple[tuple[str, Any], ...]:
    """The kinds of the arguments, for which ``adt.grad`` makes the derivative it calls."""
    params = inspect.signature(f).parameters
    return tuple((p, kind_of_argument(a)) for p, a in zip(params, point))


def check(label: str, mode: str, what: str, fn: Callable, expected: Any,
          point: tuple[Any, ...]) -> str | None:
    """``None`` if ``fn`` gives the hand-written gradient at ``point``, else what went wrong."""
    try:
        got = fn(*point)
    except Exception as exc:  # noqa: BLE001 - a report: say what happened and go on
        message = f"raises {type(exc).__name__}: {exc}"
    else:
        if agree(got, expected, RTOL, 1e-300):
            return None
        message = f"gives {got!r}, by hand {expected!r}"
    print(f"{label} {mode}: {what} {message}", file=sys.stderr)
    return message


def time_table() -> int:
    header = (f"{'function':<22} {'mode':<8} {'primal':>9} {'by hand':>9} {'generated':>10} "
              f"{'adt.grad':>10} {'gen/hand':>9} {'gen/best hand':>14} {'gen/primal':>11}")
    print(header)
    print("-" * len(header))
    failures = 0
    for label, f, wrt, by_hand, point in CASES:
        expected = by_hand["reverse"](*point)
        hands = list(dict.fromkeys(by_hand.values()))  # each hand-written gradient once
        for fn in hands:
            if check(label, "", f"hand-written {fn.__name__}", fn, expected, point):
                failures += 1
        generated = {}
        for mode in MODES:
            try:
                raw = _compile(f, wrt, mode, "grad", called_kinds(f, point))
                wrapper = adt.grad(f, wrt, mode=mode)
            except Exception as exc:  # noqa: BLE001 - e.g. an unsupported construct
                failures += 1
                print(f"{label:<22} {mode:<8} refused: {type(exc).__name__}: {exc}")
                continue
            problems = [check(label, mode, what, fn, expected, point)
                        for what, fn in (("generated", raw), ("adt.grad", wrapper))]
            if any(problems):
                failures += 1
                problem = next(p for p in problems if p)
                print(f"{label:<22} {mode:<8} NOT TIMED: generated gradient {problem}")
                continue
            generated[mode] = (raw, wrapper)
        # every contender of the workload takes turns (see best_times)
        contenders = [f, *hands, *(fn for pair in generated.values() for fn in pair)]
        times = dict(zip(contenders, best_times([(fn, point) for fn in contenders])))
        best_hand = min(times[fn] for fn in hands)
        for mode, (raw, wrapper) in generated.items():
            hand = times[by_hand[mode]]
            print(f"{label:<22} {mode:<8} {times[f] * 1e9:9.0f} {hand * 1e9:9.0f} "
                  f"{times[raw] * 1e9:10.0f} {times[wrapper] * 1e9:10.0f} "
                  f"{times[raw] / hand:9.2f} {times[raw] / best_hand:14.2f} "
                  f"{times[raw] / times[f]:11.2f}")
    return failures


def traced_call(fn: Callable, args: tuple[Any, ...]) -> tuple[Any, int]:
    """``fn(*args)`` and the peak memory allocated during the call, above what was allocated
    before it (the arguments are allocated before tracing starts)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        result = fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak - baseline


def memory_table() -> int:
    big_tests = soft_tests(BIG, seed=2)
    # (label, args, [(what, gradient)]): the first gradient is the hand-written one
    runs = [
        (f"sine loss, {BIG:.0e} tests", (1.4, *big_tests), [
            ("by hand (stores nothing)", loss_by_hand),
            ("generated reverse", _compile(loss, "omega", "reverse", "grad")),
            ("generated forward", _compile(loss, "omega", "forward", "grad")),
        ]),
        (f"recurrence n={BIG:.0e}", (1.0, -0.3, BIG), [
            ("by hand reverse (tape)", recurrence_by_hand),
            ("generated reverse", _compile(recurrence, ("x", "a"), "reverse", "grad")),
            ("generated forward", _compile(recurrence, ("x", "a"), "forward", "grad")),
        ]),
    ]
    header = (f"{'loop':<22} {'gradient':<26} {'peak MB':>9} {'peak bytes':>12} "
              f"{'bytes/iteration':>16}")
    print(header)
    print("-" * len(header))
    failures = 0
    for label, args, gradients in runs:
        expected = None
        for what, fn in gradients:
            result, peak = traced_call(fn, args)
            if expected is None:
                expected = result
            elif not agree(result, expected, RTOL, 1e-300):
                failures += 1
                print(f"{label} {what}: gives {result!r}, by hand {expected!r}", file=sys.stderr)
            print(f"{label:<22} {what:<26} {peak / 1e6:9.1f} {peak:12d} {peak / BIG:16.2f}")
    return failures


def main() -> None:
    print(f"Python {platform.python_version()}, ad-transpile {adt.__version__}; "
          f"best of {REPEATS} timeit repeats, nanoseconds per call\n")
    failures = time_table()
    print("\n'by hand' is a careful hand-written gradient in the same mode; 'gen/best hand' "
          "divides by the faster\nof the two hand-written ones. The recurrence is "
          "differentiated with respect to x and a: the\ngenerated forward mode runs one sweep "
          "per input, the hand-written one carries both tangents.\n")
    print(f"Peak memory of one gradient call (tracemalloc), loops of {BIG:,} iterations\n")
    failures += memory_table()
    if failures:
        sys.exit(f"\n{failures} generated gradient(s) refused, raising or disagreeing with the "
                 "hand-written ones (see above)")


if __name__ == "__main__":
    main()
