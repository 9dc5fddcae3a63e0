"""Forward mode on arrays: one sweep of batched tangents against one sweep per element, and both
against reverse mode.

    python benchmarks/forward.py

For each workload (imported by path from ``samples/``, so exactly the sample code is measured)
it prints the best time per gradient of

- ``batched``: ``adt.grad(f, mode="forward")``, one call of the generated jvp whose tangents
  carry a last axis of ``n`` directions (the identity basis);
- ``per element``: the same generated jvp called once per element with one basis tangent, as
  ``adt.grad(..., mode="forward")`` computed an array gradient before (and still does for an
  operation without a batched rule);
- ``reverse``: ``adt.grad(f)``, one reverse sweep;
- ``file``: the generated forward-mode file for the kinds of the arguments (``ad-transpile grad
  ... --mode forward --arg w=ndarray[1] ...``), compiled: its ``fpr`` seeds the identity basis
  and reads the gradient back in plain NumPy;
- ``by hand``: the same batched forward mode written by hand (seed ``np.eye(n)``, a tangent
  beside every value, ``e[:, None] * d_x``), what the generated file is held to (target: at
  most 1.2 times its time);

and the ratios. glibc's malloc thresholds are pinned first, as in ``benchmarks/arrays.py``
(without that, the n x n tangents of Rosenbrock n = 1000 raise them and every later workload
pays page faults). Every gradient is checked against reverse mode (relative tolerance 1e-8) before
it is timed. The repeats of the contenders take turns (see ``best_times``). A batched sweep
does ``n`` times the work of a primal sweep in ``n``-times-larger arrays, so it beats the loop
by removing Python overhead, not arithmetic: reverse mode stays the way to take a gradient of
many inputs. This is a report, not a pass/fail test.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Callable

import numpy as np
from arrays import blas_threads, keep_heap
from timing import best_times

import ad_transpile as adt
from ad_transpile.api import _forward_by_elements

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 7


def load_sample(path: str, name: str) -> Callable:
    spec = importlib.util.spec_from_file_location(f"_forward_{Path(path).stem}", ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def rosenbrock_by_hand(x):
    d_x = np.eye(len(x))
    head, d_head = x[:-1], d_x[:-1]
    inner = x[1:] - head ** 2
    d_inner = d_x[1:] - (2.0 * head)[:, None] * d_head
    d_terms = (200.0 * inner)[:, None] * d_inner - (2.0 * (1.0 - head))[:, None] * d_head
    return np.sum(d_terms, axis=0)


def least_squares_by_hand(w, X, y):
    residual = X @ w - y
    d_residual = X @ np.eye(len(w))
    return np.mean((2.0 * residual)[:, None] * d_residual, axis=0)


def logistic_by_hand(w, X, y):
    z = X @ w
    d_z = X @ np.eye(len(w))
    return np.mean((1.0 / (1.0 + np.exp(-z)) - y)[:, None] * d_z, axis=0)


BY_HAND = {"rosenbrock": rosenbrock_by_hand, "least_squares": least_squares_by_hand,
           "logistic_regression": logistic_by_hand}


def generated_file(path: str, name: str, args: tuple) -> Callable:
    """The ``fpr`` of the generated forward-mode file for the kinds of ``args``."""
    import dataclasses

    from ad_transpile.kinds import array
    from ad_transpile.load import load
    from ad_transpile.parse import read_function
    from ad_transpile.pipeline import transpile

    parsed = read_function(str(ROOT / path), name)
    params = [a.id for a in parsed.tree.args.args]
    kinds = {p: array(np.ndim(a)) for p, a in zip(params, args)}
    text, entry = transpile(dataclasses.replace(parsed, arg_kinds=kinds), 0, "forward")
    return load(text, entry, f"forward file {name}")


def workloads() -> list[tuple[str, Callable, tuple]]:
    rng = np.random.default_rng(0)
    rosenbrock = load_sample("samples/rosenbrock.py", "rosenbrock")
    least_squares = load_sample("samples/least_squares.py", "loss")
    logistic = load_sample("samples/logistic_regression.py", "loss")
    cases = [(f"Rosenbrock, n = {n}", rosenbrock, (rng.uniform(-1.0, 1.0, n),),
              ("samples/rosenbrock.py", "rosenbrock")) for n in (10, 100, 1000)]
    X = rng.normal(size=(1000, 50))
    cases.append(("least squares, 1,000 x 50, wrt w (50)", least_squares,
                  (rng.normal(size=50), X, rng.normal(size=1000)),
                  ("samples/least_squares.py", "loss")))
    cases.append(("logistic regression, 1,000 x 50, wrt w (50)", logistic,
                  (rng.normal(size=50), X, (rng.random(1000) < 0.5).astype(float)),
                  ("samples/logistic_regression.py", "loss")))
    return cases


def main() -> int:
    heap = keep_heap()  # as benchmarks/arrays.py: no page faults that depend on the order
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}, {blas_threads()}; "
          f"{heap}; best of {REPEATS} rounds\n")
    print("| workload | batched forward | per element | reverse | file | by hand "
          "| per element / batched | batched / reverse | file / by hand |")
    print("|---|---|---|---|---|---|---|---|---|")
    failed = False
    for title, f, args, (path, name) in workloads():
        batched = adt.grad(f, mode="forward")
        reverse = adt.grad(f)
        file = generated_file(path, name, args)
        by_hand = BY_HAND[Path(path).stem]

        def per_element(*args, f=f):
            return _forward_by_elements(f, 0, args, {})[1]

        expected = reverse(*args)
        for label, gradient in (("batched", batched), ("per element", per_element),
                                ("file", file), ("by hand", by_hand)):
            if not np.allclose(gradient(*args), expected, rtol=1e-8, atol=1e-12):
                print(f"| {title} | {label} disagrees with reverse mode | | | | | | | |")
                failed = True
        times = best_times([(batched, args), (per_element, args), (reverse, args),
                            (file, args), (by_hand, args)], REPEATS)
        b, e, r, g, h = times
        print(f"| {title} | {b * 1e6:,.0f} us | {e * 1e6:,.0f} us | {r * 1e6:,.0f} us "
              f"| {g * 1e6:,.0f} us | {h * 1e6:,.0f} us | {e / b:.1f} | {b / r:.1f} "
              f"| {g / h:.2f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
