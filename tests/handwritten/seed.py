"""The seed examples (samples/seed.py) and the bump of two variables (samples/two_vars.py)."""

import math

from handwritten.case import Case, sample

SEED = sample("samples/seed.py")
TWO_VARS = sample("samples/two_vars.py")


def f_grad(x):
    return 3.0


def f_jvp(x, d_x):
    return 3 * x, 3.0 * d_x


def g_grad(x):
    return math.cos(x)


def g_jvp(x, d_x):
    return math.sin(x), math.cos(x) * d_x


def h_grad(x):
    return 2.0 * math.sin(x) * math.cos(x) - 2.0 * x * math.exp(-x * x)


def h_jvp(x, d_x):
    sin_x = math.sin(x)
    exp_x = math.exp(-x * x)
    return sin_x ** 2 + exp_x, (2.0 * sin_x * math.cos(x) - 2.0 * x * exp_x) * d_x


def bump_grad(x, y):
    exp_r = math.exp(-(x * x + y * y))
    cos_u = math.cos(x - 2.0 * y)
    sin_u = math.sin(x - 2.0 * y)
    return -exp_r * (2.0 * x * cos_u + sin_u), exp_r * (2.0 * sin_u - 2.0 * y * cos_u)


def bump_jvp(x, y, d_x, d_y):
    exp_r = math.exp(-(x * x + y * y))
    cos_u = math.cos(x - 2.0 * y)
    d_exp_r = -2.0 * exp_r * (x * d_x + y * d_y)
    return exp_r * cos_u, d_exp_r * cos_u - exp_r * math.sin(x - 2.0 * y) * (d_x - 2.0 * d_y)


def _number(rng):
    return (float(rng.uniform(-2.0, 2.0)),)


CASES = [
    Case(SEED.f, ("x",), f_grad, f_jvp, _number),
    Case(SEED.g, ("x",), g_grad, g_jvp, _number),
    Case(SEED.h, ("x",), h_grad, h_jvp, _number),
    Case(TWO_VARS.bump, ("x", "y"), bump_grad, bump_jvp,
         lambda rng: tuple(float(v) for v in rng.uniform(-1.5, 1.5, 2))),
]
