"""Horner's rule: a polynomial of a list of coefficients, and a cubic of separate ones.

By hand the derivative in x runs through Horner's rule beside the value, and the coefficient of
``coeffs[k]`` is a power of x: no tape.
"""

from handwritten.case import Case


def horner(coeffs, x):
    y = 0.0
    for c in coeffs:
        y = y * x + c
    return y


def horner_grad(coeffs, x):
    y = d_x = 0.0
    for c in coeffs:
        d_x = d_x * x + y
        y = y * x + c
    n = len(coeffs)
    return [x ** (n - 1 - k) for k in range(n)], d_x


def horner_jvp(coeffs, x, d_coeffs, d_x):
    y = d_y = 0.0
    for c, d_c in zip(coeffs, d_coeffs):
        d_y = d_y * x + y * d_x + d_c
        y = y * x + c
    return y, d_y


def cubic(x, a, b, c, d):
    return ((a * x + b) * x + c) * x + d


def cubic_grad(x, a, b, c, d):
    return (3.0 * a * x + 2.0 * b) * x + c, x ** 3, x ** 2, x, 1.0


def cubic_jvp(x, a, b, c, d, d_x, d_a, d_b, d_c, d_d):
    value = ((a * x + b) * x + c) * x + d
    d_value = ((3.0 * a * x + 2.0 * b) * x + c) * d_x + ((d_a * x + d_b) * x + d_c) * x + d_d
    return value, d_value


CASES = [
    Case(horner, ("coeffs", "x"), horner_grad, horner_jvp,
         lambda rng: ([float(v) for v in rng.uniform(-2.0, 2.0, 5)],
                      float(rng.uniform(-1.5, 1.5)))),
    Case(cubic, ("x", "a", "b", "c", "d"), cubic_grad, cubic_jvp,
         lambda rng: tuple(float(v) for v in rng.uniform(-2.0, 2.0, 5))),
]
