"""Piecewise functions: if/elif/else on the argument, and a hinge written with max and abs."""

import math

from handwritten.case import Case


def piecewise(x):
    if x < -1.0:
        y = -2.0 * x - 1.0
    elif x < 1.0:
        y = x * x
    else:
        y = 2.0 * x - 1.0
    return math.sin(y)


def piecewise_grad(x):
    if x < -1.0:
        y, d_y = -2.0 * x - 1.0, -2.0
    elif x < 1.0:
        y, d_y = x * x, 2.0 * x
    else:
        y, d_y = 2.0 * x - 1.0, 2.0
    return math.cos(y) * d_y


def piecewise_jvp(x, d_x):
    if x < -1.0:
        y, d_y = -2.0 * x - 1.0, -2.0 * d_x
    elif x < 1.0:
        y, d_y = x * x, 2.0 * x * d_x
    else:
        y, d_y = 2.0 * x - 1.0, 2.0 * d_x
    return math.sin(y), math.cos(y) * d_y


def hinge(w, b, x, y):
    margin = y * (w * x + b)
    return max(0.0, 1.0 - margin) + 0.1 * abs(w)


def hinge_grad(w, b, x, y):
    if y * (w * x + b) < 1.0:
        return -y * x + math.copysign(0.1, w), -y
    return math.copysign(0.1, w), 0.0


def hinge_jvp(w, b, x, y, d_w, d_b):
    margin = y * (w * x + b)
    d_abs = math.copysign(0.1, w) * d_w
    if margin < 1.0:
        return 1.0 - margin + 0.1 * abs(w), -y * (x * d_w + d_b) + d_abs
    return 0.1 * abs(w), d_abs


def _away_from_kinks(rng):
    x = float(rng.uniform(-2.5, 2.5))
    return (x,) if abs(abs(x) - 1.0) > 0.05 else _away_from_kinks(rng)


def _hinge_example(rng):
    w, b, x = (float(v) for v in rng.uniform(-1.5, 1.5, 3))
    y = float(rng.choice([-1.0, 1.0]))
    if abs(y * (w * x + b) - 1.0) < 0.05 or abs(w) < 0.05:
        return _hinge_example(rng)
    return w, b, x, y


CASES = [
    Case(piecewise, ("x",), piecewise_grad, piecewise_jvp, _away_from_kinks),
    Case(hinge, ("w", "b"), hinge_grad, hinge_jvp, _hinge_example),
]
