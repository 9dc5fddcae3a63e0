"""The square root by a fixed number of Newton steps: a loop that carries its iterate."""

from handwritten.case import Case


def newton_sqrt(a, steps: int):
    x = a
    for _ in range(steps):
        x = 0.5 * (x + a / x)
    return x


def newton_sqrt_grad(a, steps):
    x = a
    tape = []
    for _ in range(steps):
        tape.append(x)
        x = 0.5 * (x + a / x)
    d_a, d_x = 0.0, 1.0
    for x in reversed(tape):
        d_a += 0.5 / x * d_x
        d_x *= 0.5 * (1.0 - a / (x * x))
    return d_a + d_x


def newton_sqrt_jvp(a, steps, d_a):
    x, d_x = a, d_a
    for _ in range(steps):
        x, d_x = 0.5 * (x + a / x), 0.5 * (d_x + (d_a * x - a * d_x) / (x * x))
    return x, d_x


CASES = [
    Case(newton_sqrt, ("a",), newton_sqrt_grad, newton_sqrt_jvp,
         lambda rng: (float(rng.uniform(0.5, 10.0)), 4)),
]
