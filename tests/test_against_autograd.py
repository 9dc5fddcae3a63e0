"""Dev-only: generated gradients against an independent AD library, HIPS/autograd, on the same
source code (the sample's module loaded again with its ``np`` bound to ``autograd.numpy``).

Skipped where autograd is not installed (it is no dependency of ad-transpile):
``pip install autograd`` to run it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import ad_transpile as adt

autograd = pytest.importorskip("autograd")
anp = pytest.importorskip("autograd.numpy")

ROOT = Path(__file__).resolve().parent.parent


def sample_function(path: str, name: str, numpy_module=np):
    spec = importlib.util.spec_from_file_location(f"_vs_autograd_{Path(path).stem}", ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.np = numpy_module
    return getattr(module, name)


def data(rng):
    X = rng.standard_normal((40, 5))
    return {
        "least_squares": (rng.standard_normal(5), X, rng.standard_normal(40)),
        "logistic_regression": (rng.standard_normal(5), X, (rng.random(40) < 0.5) * 1.0),
        "rosenbrock": (rng.uniform(-2, 2, 30),),
        "two_layer_net": (rng.standard_normal((5, 7)) / 3, rng.standard_normal((7, 3)) / 3, X,
                          np.eye(3)[rng.integers(0, 3, 40)]),
    }


SAMPLES = [  # (sample, function, wrt positions)
    ("least_squares", "loss", (0,)),
    ("logistic_regression", "loss", (0,)),
    ("rosenbrock", "rosenbrock", (0,)),
    ("two_layer_net", "loss", (0, 1)),
]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("stem, name, wrt", SAMPLES)
def test_sample_gradients_agree_with_autograd(stem, name, wrt, mode):
    path = f"samples/{stem}.py"
    args = data(np.random.default_rng(3))[stem]
    ours = adt.grad(sample_function(path, name), wrt=wrt, mode=mode)(*args)
    theirs = autograd.grad(sample_function(path, name, anp), argnum=wrt)(*args)
    for got, expected in zip(ours, theirs):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
