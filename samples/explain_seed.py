"""Explain mode, for learning: the seed's h and the sine-fit loss, with the rule behind each line.

    python samples/explain_seed.py

prints each derivative as ``ad-transpile grad --explain`` writes it, then checks the explained
derivative against central finite differences: the comments change nothing the code computes.
"""

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed import h  # noqa: E402
from sine_fit import loss  # noqa: E402

import ad_transpile as adt  # noqa: E402

DERIVATIVE = {"h": "hpr", "loss": "loss_pr"}  # f -> fpr; f_pr where f's name has an underscore


def explained(f, *args, wrt=0):
    """Print ``f``'s explained derivative in both modes; return its value at ``args``."""
    for mode in ("reverse", "forward"):
        print(adt.source(f, wrt, mode=mode, explain=True))
    namespace = {}
    exec(adt.source(f, wrt, explain=True), namespace)
    return namespace[DERIVATIVE[f.__name__]](*args)


def central_difference(f, x, *rest, step=1e-6):
    return (f(x + step, *rest) - f(x - step, *rest)) / (2 * step)


if __name__ == "__main__":
    xs = [0.1 * i for i in range(-10, 11)]
    ys = [math.sin(1.5 * x) for x in xs]
    for f, args in ((h, (0.7,)), (loss, (1.2, xs, ys))):
        got, expected = explained(f, *args), central_difference(f, *args)
        print(f"{f.__name__}: explained derivative {got:.8f}, finite differences {expected:.8f}")
        assert math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-8)
