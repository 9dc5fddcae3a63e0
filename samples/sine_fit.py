"""The seed's running example: the loss of sin(omega * x) over soft unit tests (x, y)."""

import math


def loss(omega, xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        total += (math.sin(omega * x) - y) ** 2
    return total
