"""Programs the fitting tests fit: defined in a file, as a user would, so that ad-transpile can
read their source. Each comment says what the fit should find."""

import math

import ad_transpile as adt


def wave(x, omega):
    return math.sin(omega * x)


def bowl(which, a, b):
    # tests (0, 1) and (1, 2): loss (a - 1)^2 + (3b - 2)^2, minimum at a = 1, b = 2/3
    if which == 0:
        return a
    return 3.0 * b


def rosenbrock(which, x, y):
    # tests (0, 0) and (1, 1): loss 100 (y - x^2)^2 + (1 - x)^2, minimum at x = y = 1
    if which == 0:
        return 10.0 * (y - x * x)
    return x


def line(x, slope, intercept=0.0):
    return slope * x + intercept


def add(a, b, k):
    return k * (a + b)


@adt.differentiable(wrt=("omega",))
def decorated_wave(x, omega):
    return math.sin(omega * x)


def quartic(predicted, expected):
    r = predicted - expected
    return r * r * r * r


def returns_nan(x, a):
    return a * x * math.nan


def domain_error(x, a):
    return math.sqrt(a - x)


def returns_pair(x, a):
    return (a, x)
