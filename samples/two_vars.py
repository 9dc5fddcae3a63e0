"""A function of two variables: the gradient is the pair of partial derivatives."""

import math


def bump(x, y):
    r_sq = x * x + y * y
    return math.exp(-r_sq) * math.cos(x - 2.0 * y)
