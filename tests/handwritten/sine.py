"""The seed's running example: the sine fit as a zip loop, as an index loop, and as a program."""

import math

from handwritten.case import Case, sample

SINE_FIT = sample("samples/sine_fit.py")
SINE_LOOP = sample("samples/sine_loop.py")
SINE_PROGRAM = sample("samples/sine_program.py")


def sine_fit_grad(omega, xs, ys):
    d_omega = 0.0
    for x, y in zip(xs, ys):
        d_omega += 2.0 * (math.sin(omega * x) - y) * math.cos(omega * x) * x
    return d_omega


def sine_fit_jvp(omega, xs, ys, d_omega):
    total = d_total = 0.0
    for x, y in zip(xs, ys):
        r = math.sin(omega * x) - y
        total += r ** 2
        d_total += 2.0 * r * math.cos(omega * x) * x * d_omega
    return total, d_total


def sine_loop_grad(omega, xs, ys):
    d_omega = 0.0
    for i in range(len(xs)):
        r = math.sin(omega * xs[i]) - ys[i]
        d_omega += 2.0 * r * math.cos(omega * xs[i]) * xs[i]
    return d_omega


def sine_loop_jvp(omega, xs, ys, d_omega):
    total = d_total = 0.0
    for i in range(len(xs)):
        r = math.sin(omega * xs[i]) - ys[i]
        total = total + r * r
        d_total += 2.0 * r * math.cos(omega * xs[i]) * xs[i] * d_omega
    return total, d_total


def wave_grad(x, omega):
    return x * math.cos(omega * x)


def wave_jvp(x, omega, d_omega):
    return math.sin(omega * x), x * math.cos(omega * x) * d_omega


def _data(rng):
    xs = [float(v) for v in rng.uniform(-2.0, 2.0, 6)]
    return float(rng.uniform(0.5, 2.0)), xs, [math.sin(1.5 * x) for x in xs]


CASES = [
    Case(SINE_FIT.loss, ("omega",), sine_fit_grad, sine_fit_jvp, _data),
    Case(SINE_LOOP.loss, ("omega",), sine_loop_grad, sine_loop_jvp, _data),
    Case(SINE_PROGRAM.wave, ("omega",), wave_grad, wave_jvp,
         lambda rng: (float(rng.uniform(-2.0, 2.0)), float(rng.uniform(0.5, 2.0)))),
]
