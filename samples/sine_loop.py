"""The seed's loss as a loop over indices, with the kinds of its arguments annotated.

The annotations tell ad-transpile that ``xs`` and ``ys`` are lists of numbers, so every value in
the loop is a float and the derivative is plain scalar code, as a person writes it (README:
"What the transpiler knows of your values").
"""

import math


def loss(omega: float, xs: list[float], ys: list[float]) -> float:
    total = 0.0
    for i in range(len(xs)):
        r = math.sin(omega * xs[i]) - ys[i]
        total = total + r * r
    return total
