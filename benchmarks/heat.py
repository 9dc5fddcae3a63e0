"""Time the generated gradient of the heat equation, a loop that writes into an array.

    python benchmarks/heat.py [CELLS]

``heat(u0, r)`` takes 500 explicit steps of the heat equation on ``CELLS`` cells (default 200),
writing each new value with ``u_new[i] = ...``, and returns the sum of squares of the result; the
gradient is with respect to ``u0`` and ``r``. It prints the best time per call of the primal, of
hand-written gradients and of the generated ones (raw, as compiled from the generated module, and
through ``adt.grad``), in reverse and forward mode, and the ratios generated/hand-written. The
hand-written gradients are of the same loop code (reverse: a tape of each step's ``u``; forward:
the tangents along all of ``u0`` and ``r`` carried as one matrix); a vectorized hand-written
reverse gradient is shown for reference. Every gradient is checked against the hand-written reverse
one first (relative tolerance 1e-9); one that disagrees or raises is reported and not timed, and
the script exits non-zero.

This is a report, not a pass/fail test; it takes about 30 s on 2 busy cores.
"""

from __future__ import annotations

import platform
import sys

import numpy as np
from timing import best_times

import ad_transpile as adt
from ad_transpile.api import _compile

CELLS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
STEPS = 500  # a literal: the transpiler reads module constants from the source
REPEATS = 3  # a call takes about a second: three interleaved rounds are enough
RTOL = 1e-9


def heat(u0, r):
    u = u0.copy()
    for _ in range(STEPS):
        u_new = u.copy()
        for i in range(1, len(u) - 1):
            u_new[i] = u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1])
        u = u_new
    return np.sum(u * u)


def reverse_by_hand(u0, r):
    """Reverse mode by hand, loop for loop: each step's ``u`` kept for the way back."""
    u = u0.copy()
    tape = []
    for _ in range(STEPS):
        tape.append(u)
        u_new = u.copy()
        for i in range(1, len(u) - 1):
            u_new[i] = u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1])
        u = u_new
    d_u = 2.0 * u
    d_r = 0.0
    for u in reversed(tape):
        d_before = np.zeros_like(d_u)
        d_before[0], d_before[-1] = d_u[0], d_u[-1]  # the ends are copied, never written
        for i in range(1, len(u) - 1):
            g = d_u[i]
            d_before[i - 1] += r * g
            d_before[i] += (1.0 - 2.0 * r) * g
            d_before[i + 1] += r * g
            d_r += (u[i - 1] - 2.0 * u[i] + u[i + 1]) * g
        d_u = d_before
    return d_u, d_r


def vectorized_by_hand(u0, r):
    """Reverse mode by hand, each step one array operation (for reference)."""
    u = u0.copy()
    tape = []
    for _ in range(STEPS):
        tape.append(u)
        u = u.copy()
        u[1:-1] = tape[-1][1:-1] + r * (tape[-1][:-2] - 2.0 * tape[-1][1:-1] + tape[-1][2:])
    d_u = 2.0 * u
    d_r = 0.0
    for u in reversed(tape):
        g = d_u[1:-1]
        d_r += np.dot(u[:-2] - 2.0 * u[1:-1] + u[2:], g)
        d_before = d_u.copy()
        d_before[1:-1] = (1.0 - 2.0 * r) * g
        d_before[:-2] += r * g
        d_before[2:] += r * g
        d_u = d_before
    return d_u, d_r


def forward_by_hand(u0, r):
    """Forward mode by hand, loop for loop: the tangents along every element of ``u0`` and
    along ``r`` carried together, one row per cell."""
    n = len(u0)
    u = u0.copy()
    d_u = np.eye(n, n + 1)
    for _ in range(STEPS):
        u_new = u.copy()
        d_new = d_u.copy()
        for i in range(1, n - 1):
            laplacian = u[i - 1] - 2.0 * u[i] + u[i + 1]
            u_new[i] = u[i] + r * laplacian
            d_new[i] = d_u[i] + r * (d_u[i - 1] - 2.0 * d_u[i] + d_u[i + 1])
            d_new[i, n] += laplacian
        u, d_u = u_new, d_new
    gradient = 2.0 * u @ d_u
    return gradient[:n], gradient[n]


def agree(got, expected) -> bool:
    return all(np.allclose(g, e, rtol=RTOL, atol=1e-12) for g, e in zip(got, expected))


def main() -> int:
    rng = np.random.default_rng(0)
    point = (rng.uniform(0.0, 1.0, CELLS), 0.2)
    expected = reverse_by_hand(*point)
    contenders = [("by hand, loops", "reverse", reverse_by_hand),
                  ("by hand, vectorized", "reverse", vectorized_by_hand),
                  ("by hand, loops", "forward", forward_by_hand)]
    for mode in ("reverse", "forward"):
        contenders.append(("generated", mode, _compile(heat, ("u0", "r"), mode, "grad")))
        contenders.append(("adt.grad", mode, adt.grad(heat, ("u0", "r"), mode=mode)))
    failures = 0
    timed = [("primal", "", heat)]
    for label, mode, fn in contenders:
        try:
            ok = agree(fn(*point), expected)
        except Exception as exc:  # noqa: BLE001 - a report: say what happened and go on
            ok, problem = False, f"raises {type(exc).__name__}: {exc}"
        else:
            problem = "gives another gradient"
        if not ok:
            failures += 1
            print(f"{label} {mode}: {problem}; not timed", file=sys.stderr)
            continue
        timed.append((label, mode, fn))
    times = best_times([(fn, point) for _, _, fn in timed], repeats=REPEATS)
    by_hand = {mode: t for (label, mode, _), t in zip(timed, times) if label == "by hand, loops"}
    print(f"heat equation, {CELLS} cells, {STEPS} steps; Python {platform.python_version()}, "
          f"NumPy {np.__version__}")
    header = f"{'gradient':<22} {'mode':<8} {'seconds':>9} {'/ by hand (loops)':>18}"
    print(header)
    print("-" * len(header))
    for (label, mode, _), seconds in zip(timed, times):
        ratio = f"{seconds / by_hand[mode]:18.2f}" if mode in by_hand else ""
        print(f"{label:<22} {mode:<8} {seconds:9.3f} {ratio}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
