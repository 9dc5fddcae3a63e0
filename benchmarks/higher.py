"""Cost of second derivatives: a Hessian-vector product against the gradient, in one process.

    python benchmarks/higher.py

The Hessian-vector product is one forward sweep over the generated reverse-mode gradient
(forward over reverse), so it should cost a small multiple of the gradient (target: 2-4x).
"""

from __future__ import annotations

import math
import random
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "samples"))

import network  # noqa: E402
import sine_fit  # noqa: E402
import two_vars  # noqa: E402

import ad_transpile as adt  # noqa: E402


def rosenbrock(x, y, z):
    a = (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2
    return a + (1.0 - y) ** 2 + 100.0 * (z - y * y) ** 2


def best(call, number: int) -> float:
    """Nanoseconds per call, best of seven repeats."""
    return min(timeit.repeat(call, number=number, repeat=7)) / number * 1e9


def main() -> None:
    rng = random.Random(0)
    xs = [rng.uniform(-3, 3) for _ in range(200)]
    ys = [math.sin(1.5 * x) + rng.gauss(0, 0.1) for x in xs]
    cases = [
        ("bump (x, y)", two_vars.bump, (0, 1), (0.3, -0.4), (1.0, 0.5), 20000),
        ("rosenbrock (x, y, z)", rosenbrock, (0, 1, 2), (0.5, 0.2, -0.3), (1.0, 0.5, -1.0),
         20000),
        ("sine loss, 200 tests", sine_fit.loss, 0, (1.3, xs, ys), 1.0, 200),
        ("network loss, 200 tests", network.loss, (0, 1, 2, 3),
         (0.3, -0.2, 0.8, 0.1, xs, ys), (1.0, 0.5, -0.5, 0.2), 50),
    ]
    print(f"{'function':26} {'gradient ns':>12} {'hvp ns':>12} {'hvp/grad':>9} "
          f"{'check: |Hv - FD|':>17}")
    for label, f, wrt, args, vector, number in cases:
        gradient = adt.grad(f, wrt)
        product = adt.hvp(f, wrt)
        error = _check(gradient, product, wrt, args, vector)
        g = best(lambda: gradient(*args), number)  # noqa: B023
        h = best(lambda: product(*args, vector), number)  # noqa: B023
        print(f"{label:26} {g:12.0f} {h:12.0f} {h / g:9.2f} {error:17.2e}")


def _check(gradient, product, wrt, args, vector) -> float:
    """The Hessian-vector product against central differences of the gradient along ``vector``."""
    several = isinstance(wrt, tuple)
    positions = wrt if several else (wrt,)
    direction = vector if several else (vector,)
    step = 1e-6

    def moved(sign):
        point = list(args)
        for i, v in zip(positions, direction):
            point[i] = point[i] + sign * step * v
        g = gradient(*point)
        return g if several else (g,)

    numeric = [(a - b) / (2 * step) for a, b in zip(moved(1), moved(-1))]
    analytic = product(*args, vector)
    analytic = analytic if several else (analytic,)
    return max(abs(a - n) / max(1.0, abs(n)) for a, n in zip(analytic, numeric))


if __name__ == "__main__":
    main()
