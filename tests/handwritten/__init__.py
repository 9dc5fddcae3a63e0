"""Hand-written derivatives beside the functions they differentiate (issue #14's measure).

One module per family of functions; each holds (or imports from ``samples/``) the source
function and, beside it, ``NAME_grad`` (reverse mode: the gradient along ``wrt``) and
``NAME_jvp`` (forward mode: value and tangent) as a careful person writes them, and lists
them in its ``CASES``. ``tests/test_handwritten.py`` checks every one against finite
differences; ``benchmarks/lines.py`` compares their code lines with the generated ones.
"""

from handwritten import (
    arrays,
    gaussian,
    horner,
    losses,
    mlp,
    network,
    newton,
    piecewise,
    projectile,
    seed,
    simulation,
    sine,
)
from handwritten.case import Case

CASES: list[Case] = [
    *seed.CASES, *sine.CASES, *projectile.CASES, *network.CASES, *arrays.CASES,
    *simulation.CASES, *losses.CASES, *mlp.CASES, *gaussian.CASES, *piecewise.CASES,
    *newton.CASES, *horner.CASES,
]
