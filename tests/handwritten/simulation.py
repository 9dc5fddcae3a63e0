"""Simulation loops that carry state: a damped oscillator stepped by Euler, the logistic map.

The reverse sweeps tape the state at the start of each step (it is overwritten by the next).
"""

from handwritten.case import Case

DT = 0.01


def oscillator(k, c, x0, v0, n: int):
    x = x0
    v = v0
    for _ in range(n):
        a = -k * x - c * v
        x = x + DT * v
        v = v + DT * a
    return x


def oscillator_grad(k, c, x0, v0, n):
    x, v = x0, v0
    tape = []
    for _ in range(n):
        tape.append((x, v))
        x, v = x + DT * v, v + DT * (-k * x - c * v)
    d_k = d_c = d_v = 0.0
    d_x = 1.0
    for x, v in reversed(tape):
        d_a = DT * d_v
        d_k -= x * d_a
        d_c -= v * d_a
        d_x, d_v = d_x - k * d_a, d_v + DT * d_x - c * d_a
    return d_k, d_c


def oscillator_jvp(k, c, x0, v0, n, d_k, d_c):
    x, v = x0, v0
    d_x = d_v = 0.0
    for _ in range(n):
        a = -k * x - c * v
        d_a = -d_k * x - k * d_x - d_c * v - c * d_v
        x, d_x = x + DT * v, d_x + DT * d_v
        v, d_v = v + DT * a, d_v + DT * d_a
    return x, d_x


def logistic_map(r, x0, n: int):
    x = x0
    for _ in range(n):
        x = r * x * (1.0 - x)
    return x


def logistic_map_grad(r, x0, n):
    x = x0
    tape = []
    for _ in range(n):
        tape.append(x)
        x = r * x * (1.0 - x)
    d_r, d_x = 0.0, 1.0
    for x in reversed(tape):
        d_r += x * (1.0 - x) * d_x
        d_x *= r * (1.0 - 2.0 * x)
    return d_r, d_x


def logistic_map_jvp(r, x0, n, d_r, d_x0):
    x, d_x = x0, d_x0
    for _ in range(n):
        x, d_x = r * x * (1.0 - x), d_r * x * (1.0 - x) + r * (1.0 - 2.0 * x) * d_x
    return x, d_x


CASES = [
    Case(oscillator, ("k", "c"), oscillator_grad, oscillator_jvp,
         lambda rng: (float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.1, 0.5)),
                      float(rng.uniform(-1.0, 1.0)), float(rng.uniform(-1.0, 1.0)), 40)),
    Case(logistic_map, ("r", "x0"), logistic_map_grad, logistic_map_jvp,
         lambda rng: (float(rng.uniform(2.5, 2.9)), float(rng.uniform(0.2, 0.8)), 10)),
]
