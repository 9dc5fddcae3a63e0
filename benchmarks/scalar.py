"""Time generated scalar gradients against careful hand-written ones and the primal, in one process.

    python benchmarks/scalar.py

For each function and mode it prints the best time per call (of several interleaved ``timeit``
repeats) of the primal, a hand-written gradient, the raw generated gradient (``fpr`` as compiled
from the generated module) and the ``adt.grad`` wrapper around it (which looks up the kinds of
the arguments and shapes the result), then
the ratios generated/hand-written and generated/primal. Before timing, every gradient is checked
against the hand-written one. This is a report, not a pass/fail test.
"""

from __future__ import annotations

import math
import platform
import random
import runpy
import sys
from pathlib import Path
from typing import Callable

from timing import REPEATS, agree, best_times

import ad_transpile as adt
from ad_transpile.api import _compile

ROOT = Path(__file__).resolve().parent.parent
MODES = ("reverse", "forward")


def wave(x, y):
    """A longer function: 18 operations with exp, log, sin, cos and powers."""
    a = math.sin(x * y)
    b = math.exp(-0.5 * x * x)
    c = math.log(1.0 + y * y)
    d = (a + 2.0) ** 1.5
    q = 1.0 + x * x
    e = b * c + d / q
    return e * math.cos(y) + a ** 2


def h_by_hand(x):
    s = math.sin(x)
    return 2.0 * s * math.cos(x) - 2.0 * x * math.exp(-x * x)


def bump_by_hand(x, y):
    e = math.exp(-(x * x + y * y))
    u = x - 2.0 * y
    c = math.cos(u)
    s = math.sin(u)
    return e * (-2.0 * x * c - s), e * (2.0 * s - 2.0 * y * c)


def wave_by_hand(x, y):
    xy = x * y
    a = math.sin(xy)
    cos_xy = math.cos(xy)
    b = math.exp(-0.5 * x * x)
    y2 = 1.0 + y * y
    c = math.log(y2)
    root = math.sqrt(a + 2.0)
    d = (a + 2.0) * root
    q = 1.0 + x * x
    e = b * c + d / q
    cos_y = math.cos(y)
    dd_da = 1.5 * root / q
    d_a = cos_y * dd_da + 2.0 * a  # d result / d a, through e and through a ** 2
    d_x = cos_y * (-x * b * c - 2.0 * x * d / (q * q)) + d_a * y * cos_xy
    d_y = cos_y * (2.0 * y * b / y2) - e * math.sin(y) + d_a * x * cos_xy
    return d_x, d_y


def loss_by_hand(omega, xs, ys):
    """The sine-fit loss loop's gradient, one pass: d/d omega of sum (sin(omega x) - y)^2."""
    gradient = 0.0
    for i in range(len(xs)):
        u = omega * xs[i]
        gradient += 2.0 * (math.sin(u) - ys[i]) * math.cos(u) * xs[i]
    return gradient


def landing_by_hand(wind, angle, speed):
    """The projectile's landing distance by angle and speed, reverse mode by hand: the tape
    keeps the velocities at the start of each step (air and relative are computed again)."""
    gravity, drag, dt = 9.81, 0.02, 0.01
    x = y = 0.0
    vx, vy = speed * math.cos(angle), speed * math.sin(angle)
    x_before, y_before = x, y
    tape = []
    while y >= 0.0:
        tape.append((vx, vy))
        x_before, y_before = x, y
        air = vx - wind
        relative = math.sqrt(air * air + vy * vy)
        vx = vx - dt * drag * relative * air
        vy = vy - dt * (gravity + drag * relative * vy)
        x = x + dt * vx
        y = y + dt * vy
    q = y_before - y
    run = x - x_before
    d_x, d_y = y_before / q, run * y_before / (q * q)
    d_x_before, d_y_before = 1.0 - y_before / q, -run * y / (q * q)
    d_vx = d_vy = 0.0
    last = True
    for vx0, vy0 in reversed(tape):
        d_vx += dt * d_x
        d_vy += dt * d_y
        air = vx0 - wind
        relative = math.sqrt(air * air + vy0 * vy0)
        d_relative = -dt * drag * (vy0 * d_vy + air * d_vx)
        d_air = -dt * drag * relative * d_vx + air / relative * d_relative
        d_vy = d_vy * (1.0 - dt * drag * relative) + vy0 / relative * d_relative
        d_vx += d_air
        if last:  # x_before and y_before are the last step's start
            d_x, d_y, last = d_x + d_x_before, d_y + d_y_before, False
    d_angle = speed * (math.cos(angle) * d_vy - math.sin(angle) * d_vx)
    return d_angle, math.cos(angle) * d_vx + math.sin(angle) * d_vy


def soft_tests(n: int = 200) -> tuple[list[float], list[float]]:
    """``n`` noisy samples of sin(1.5 x), as the seed's soft unit tests."""
    rng = random.Random(0)
    xs = [rng.uniform(-3.0, 3.0) for _ in range(n)]
    return xs, [math.sin(1.5 * x) + rng.gauss(0.0, 0.1) for x in xs]


def sample(path: str, name: str) -> Callable:
    return runpy.run_path(str(ROOT / path))[name]


# (label, primal, wrt, hand-written gradient, point)
CASES = [
    ("seed h", sample("samples/seed.py", "h"), "x", h_by_hand, (0.7,)),
    ("two_vars bump", sample("samples/two_vars.py", "bump"), ("x", "y"), bump_by_hand,
     (0.3, -0.4)),
    ("wave (18 ops)", wave, ("x", "y"), wave_by_hand, (0.6, 1.2)),
    ("sine-fit loop", sample("samples/sine_loop.py", "loss"), "omega", loss_by_hand,
     (1.3, *soft_tests())),
    ("sine fit (zip)", sample("samples/sine_fit.py", "loss"), "omega", loss_by_hand,
     (1.3, *soft_tests())),
    ("projectile", sample("samples/projectile.py", "landing"), ("angle", "speed"),
     landing_by_hand, (2.0, 0.7, 25.0)),
]


def main() -> None:
    print(f"Python {platform.python_version()}, ad-transpile {adt.__version__}; "
          f"best of {REPEATS} timeit repeats, nanoseconds per call\n")
    header = (f"{'function':<15} {'mode':<8} {'primal':>8} {'by hand':>8} {'generated':>10} "
              f"{'adt.grad':>9} {'gen/hand':>9} {'gen/primal':>11} {'adt.grad/hand':>14}")
    print(header)
    print("-" * len(header))
    failures = 0
    for label, f, wrt, by_hand, point in CASES:
        for mode in MODES:
            raw = _compile(f, wrt, mode, "grad")
            wrapper = adt.grad(f, wrt, mode=mode)
            for what, fn in (("generated", raw), ("adt.grad", wrapper)):
                if not agree(fn(*point), by_hand(*point)):
                    failures += 1
                    print(f"{label} {mode}: {what} gives {fn(*point)!r}, "
                          f"by hand {by_hand(*point)!r}", file=sys.stderr)
            # interleaved, so that load from another process slows all four alike
            primal_time, hand_time, raw_time, wrapper_time = best_times(
                [(f, point), (by_hand, point), (raw, point), (wrapper, point)])
            print(f"{label:<15} {mode:<8} {primal_time * 1e9:8.0f} {hand_time * 1e9:8.0f} "
                  f"{raw_time * 1e9:10.0f} {wrapper_time * 1e9:9.0f} "
                  f"{raw_time / hand_time:9.2f} {raw_time / primal_time:11.2f} "
                  f"{wrapper_time / hand_time:14.2f}")
    if failures:
        sys.exit(f"{failures} gradient(s) disagree with the hand-written ones")


if __name__ == "__main__":
    main()
