"""Time generated NumPy gradients against hand-written ones, the primal and other AD libraries.

    python benchmarks/arrays.py

Four array workloads, each imported by path from ``samples/`` so that exactly the sample code is
measured:

- ``samples/logistic_regression.py`` ``loss(w, X, y)``, X 10,000 x 50, with respect to ``w``;
- ``samples/two_layer_net.py`` ``loss(W1, W2, X, Y)``, a batch of 256 through 784-256-10 with
  one-hot ``Y``, with respect to ``(W1, W2)``;
- ``samples/rosenbrock.py`` ``rosenbrock(x)``, n = 100,000, with respect to ``x``;
- ``samples/least_squares.py`` ``loss(w, X, y)``, X 10,000 x 50, with respect to ``w``.

For each it prints, as Markdown tables, the best time per call of the primal (the loss itself), a
careful hand-written NumPy gradient, the raw generated reverse-mode gradient (as compiled from the
generated module) and the ``adt.grad`` wrapper around it, then the ratios to the hand-written
gradient (target: at most 1.2) and to the primal (the cheap-gradient ratio; target: about 3-4).
A second table times the other Python AD libraries that happen to be importable (autograd,
JAX's ``jax.grad`` with and without ``jax.jit``, PyTorch's ``backward``) on the same sample code:
the sample module is loaded again with its ``np`` bound to ``autograd.numpy``, ``jax.numpy`` or
a small shim of the seven NumPy functions the samples call, written with ``torch``. None of them
is a dependency of this project; a library that is missing gets a "not installed" row.

Before timing, every gradient is checked against the hand-written one (relative tolerance 1e-8,
elementwise, with an absolute floor of 1e-12 times the largest component); a gradient that
disagrees or raises is reported in its row and not timed, and the script exits non-zero at the
end. All arrays are float64 and made from a seeded generator. The repeats of the contenders of one
workload are interleaved (see ``best_times``), so a burst of load on a shared machine slows them
alike. NumPy's BLAS runs with its default number of threads (printed at the top; set
``OPENBLAS_NUM_THREADS=1`` to compare single-threaded). This is a report, not a pass/fail test;
it takes about half a minute without the other libraries.

The heap. By default the script first pins glibc's malloc thresholds (``mallopt``: arrays up to
32 MB come from the heap, and the heap is not given back to the system between calls), so that
the times measure computation and do not depend on the order of the workloads. Without that
(``--default-malloc``), glibc raises its mmap and trim thresholds to the largest block freed so
far, and a function whose temporaries add up to more than twice that gives its memory back at
every return and takes page faults on all of it at the next call: then the time depends on which
workloads ran before, and on how dear a page fault is on the machine (about 2 us on this
project's VM). The columns "peak MB" (``tracemalloc``, the memory allocated during one call)
show how much a gradient keeps alive at once, which is what decides that cost.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import importlib.util
import os
import platform
import sys
import tracemalloc
import types
from pathlib import Path
from typing import Any, Callable

import numpy as np
from timing import best_times

import ad_transpile as adt
from ad_transpile.api import _compile

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 15  # interleaved rounds: matrix products on 2 cores are noisier than scalar code
RTOL = 1e-8


def load_sample(path: str, name: str, numpy_module: Any = None, tag: str = "numpy") -> Callable:
    """The function ``name`` of ``samples/path``, from a fresh import of the file; with
    ``numpy_module``, the module's global ``np`` is rebound to it (the function reads ``np`` from
    its module's globals, so this runs the unchanged sample code on another array library)."""
    module_name = f"_bench_{Path(path).stem}_{tag}"
    spec = importlib.util.spec_from_file_location(module_name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if numpy_module is not None:
        module.np = numpy_module
    return getattr(module, name)


# ---------------------------------------------------------------------------------------------
# Hand-written gradients, as a person would write them.


def logistic_by_hand(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (p - y) / len(y)


def two_layer_by_hand(W1, W2, X, Y):
    hidden = np.tanh(X @ W1)
    logits = hidden @ W2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    g = (e / e.sum(axis=1, keepdims=True) - Y) / len(X)  # softmax - Y (Y one-hot), per example
    d_W2 = hidden.T @ g
    d_W1 = X.T @ ((g @ W2.T) * (1.0 - hidden * hidden))
    return d_W1, d_W2


def rosenbrock_by_hand(x):
    head = x[:-1]
    t = x[1:] - head * head
    g = np.zeros_like(x)
    g[:-1] = -400.0 * head * t - 2.0 * (1.0 - head)
    g[1:] += 200.0 * t
    return g


def least_squares_by_hand(w, X, y):
    return X.T @ (X @ w - y) * (2.0 / len(y))


# ---------------------------------------------------------------------------------------------
# Seeded data.


def logistic_data(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    n, d = 10_000, 50
    X = rng.standard_normal((n, d))
    truth = rng.standard_normal(d) / np.sqrt(d)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ truth)))).astype(float)
    return 0.1 * rng.standard_normal(d), X, y


def two_layer_data(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    batch, d_in, d_hidden, d_out = 256, 784, 256, 10
    X = rng.random((batch, d_in))  # like pixel intensities in [0, 1)
    W1 = rng.standard_normal((d_in, d_hidden)) / np.sqrt(d_in)
    W2 = rng.standard_normal((d_hidden, d_out)) / np.sqrt(d_hidden)
    Y = np.eye(d_out)[rng.integers(0, d_out, batch)]
    return W1, W2, X, Y


def rosenbrock_data(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return (rng.uniform(-2.0, 2.0, 100_000),)


def least_squares_data(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    n, d = 10_000, 50
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    return 0.1 * rng.standard_normal(d), X, y


# (label, sample path, function name, wrt names, wrt positions, hand-written gradient, data)
WORKLOADS = [
    ("logistic regression 10000x50", "samples/logistic_regression.py", "loss", "w", (0,),
     logistic_by_hand, logistic_data),
    ("two-layer net 256, 784-256-10", "samples/two_layer_net.py", "loss", ("W1", "W2"), (0, 1),
     two_layer_by_hand, two_layer_data),
    ("rosenbrock n=100000", "samples/rosenbrock.py", "rosenbrock", "x", (0,),
     rosenbrock_by_hand, rosenbrock_data),
    ("least squares 10000x50", "samples/least_squares.py", "loss", "w", (0,),
     least_squares_by_hand, least_squares_data),
]


# ---------------------------------------------------------------------------------------------
# Other AD libraries, each optional: ``setup(path, name, positions)`` gives, for each row, a
# gradient function and a converter of the NumPy arguments to what it takes (run once, outside
# the timing); it raises ImportError when the library is not installed.


def autograd_contenders(path: str, name: str, positions: tuple[int, ...]) -> list[tuple]:
    import autograd
    import autograd.numpy as anp

    f = load_sample(path, name, anp, "autograd")
    g = autograd.grad(f, positions if len(positions) > 1 else positions[0])
    return [("autograd", g, lambda args: args)]


def jax_contenders(path: str, name: str, positions: tuple[int, ...]) -> list[tuple]:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # float64, like the NumPy code
    f = load_sample(path, name, jnp, "jax")
    argnums = positions if len(positions) > 1 else positions[0]
    g = jax.grad(f, argnums=argnums)
    jitted = jax.jit(g)

    def blocking(fn: Callable) -> Callable:
        def call(*args: Any) -> Any:
            return jax.block_until_ready(fn(*args))  # JAX dispatches asynchronously
        return call

    def convert(args: tuple) -> tuple:
        return tuple(jnp.asarray(a) for a in args)

    return [("jax.grad", blocking(g), convert), ("jax.jit(jax.grad)", blocking(jitted), convert)]


def torch_numpy() -> types.SimpleNamespace:
    """The NumPy functions the samples call, on torch tensors."""
    import torch

    def reduce(op: Callable) -> Callable:
        def reduction(a, axis=None, keepdims=False):
            return op(a) if axis is None else op(a, dim=axis, keepdim=keepdims)
        return reduction

    def logaddexp(a, b):
        like = b if torch.is_tensor(b) else a
        return torch.logaddexp(torch.as_tensor(a, dtype=like.dtype),
                               torch.as_tensor(b, dtype=like.dtype))

    return types.SimpleNamespace(
        sum=reduce(torch.sum), mean=reduce(torch.mean), max=reduce(torch.amax),
        exp=torch.exp, log=torch.log, tanh=torch.tanh, logaddexp=logaddexp,
    )


def torch_contenders(path: str, name: str, positions: tuple[int, ...]) -> list[tuple]:
    import torch

    f = load_sample(path, name, torch_numpy(), "torch")

    def g(*args: Any) -> Any:
        leaves = [args[i] for i in positions]
        for leaf in leaves:
            leaf.grad = None  # as optimizer.zero_grad(set_to_none=True) does
        f(*args).backward()
        grads = tuple(leaf.grad for leaf in leaves)
        return grads if len(grads) > 1 else grads[0]

    def convert(args: tuple) -> tuple:
        return tuple(torch.from_numpy(a).requires_grad_(i in positions)
                     for i, a in enumerate(args))

    return [("torch backward", g, convert)]


# (the rows a library gives, its setup)
LIBRARIES = [
    (["autograd"], autograd_contenders),
    (["jax.grad", "jax.jit(jax.grad)"], jax_contenders),
    (["torch backward"], torch_contenders),
]


# ---------------------------------------------------------------------------------------------


def as_numpy(gradient: Any) -> tuple[np.ndarray, ...]:
    parts = gradient if isinstance(gradient, (tuple, list)) else (gradient,)
    out = []
    for part in parts:
        if hasattr(part, "detach"):  # a torch tensor
            part = part.detach().numpy()
        out.append(np.asarray(part, dtype=float))
    return tuple(out)


def discrepancy(got: Any, expected: Any) -> str | None:
    """``None`` if ``got`` is the gradient ``expected`` to ``RTOL``, else how it differs."""
    got, expected = as_numpy(got), as_numpy(expected)
    if len(got) != len(expected):
        return f"gives {len(got)} arrays, by hand {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        if g.shape != e.shape:
            return f"part {i} has shape {g.shape}, by hand {e.shape}"
        floor = 1e-12 * float(np.max(np.abs(e)))
        if not np.allclose(g, e, rtol=RTOL, atol=floor):
            worst = float(np.max(np.abs(g - e) / (np.abs(e) + floor)))
            return f"part {i} differs from the hand-written one by up to {worst:.1e} (relative)"
    return None


def checked(label: str, what: str, fn: Callable, args: tuple, expected: Any) -> str | None:
    try:
        got = fn(*args)
    except Exception as exc:  # noqa: BLE001 - a report: say what happened and go on
        message = f"raises {type(exc).__name__}: {exc}"
    else:
        message = discrepancy(got, expected)
    if message:
        print(f"{label}: {what} {message}", file=sys.stderr)
    return message


def blas_threads() -> str:
    """How many threads NumPy's BLAS uses (OpenBLAS asked directly where it can be found)."""
    config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    text = f"{config.get('name')} {config.get('version')}"
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libs, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
            for symbol in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                           "openblas_get_num_threads"):
                if hasattr(lib, symbol):
                    return f"{text}, {getattr(lib, symbol)()} threads"
        except OSError:
            pass
    return f"{text}, threads unknown"


def keep_heap() -> str:
    """Pin glibc's malloc thresholds (see the module's docstring); say what was done."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from <malloc.h>
        if libc.mallopt(M_TRIM_THRESHOLD, 1 << 30) and libc.mallopt(M_MMAP_THRESHOLD, 32 << 20):
            return "malloc thresholds pinned: heap kept between calls"
    except (OSError, AttributeError, TypeError):
        pass
    return "malloc thresholds NOT pinned (no glibc mallopt): times may include page faults"


def peak_mb(fn: Callable, args: tuple[Any, ...]) -> float:
    """The peak memory allocated during one call of ``fn``, in MB (NumPy reports its arrays to
    ``tracemalloc``)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - baseline) / 1e6


def environment() -> str:
    variables = ", ".join(f"{v}={os.environ[v]}" for v in
                          ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                          if v in os.environ) or "no thread variables set"
    return (f"Python {platform.python_version()}, NumPy {np.__version__} ({blas_threads()}; "
            f"{variables}), ad-transpile {adt.__version__}, {os.cpu_count()} CPUs; "
            f"best of {REPEATS} interleaved timeit repeats, microseconds per call")


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f}"


def main() -> None:
    heap = ("glibc default malloc thresholds (times include page faults and depend on the order "
            "of the workloads)" if "--default-malloc" in sys.argv[1:] else keep_heap())
    print(environment() + f"; {heap}\n")
    rng = np.random.default_rng(0)
    failures = 0
    ours = ["| workload | primal µs | by hand µs | generated µs | adt.grad µs | gen/hand | "
            "adt.grad/hand | gen/primal | hand/primal | peak MB by hand | peak MB generated |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    theirs = ["| workload | library | µs | /by hand | /generated | /primal |",
              "|---|---|---:|---:|---:|---:|"]
    for label, path, name, wrt, positions, by_hand, make_data in WORKLOADS:
        args = make_data(rng)
        f = load_sample(path, name)
        expected = by_hand(*args)
        calls = [("primal", f, args), ("by hand", by_hand, args)]
        try:
            raw = _compile(f, wrt, "reverse", "grad")
            wrapper = adt.grad(f, wrt)
        except Exception as exc:  # noqa: BLE001 - e.g. an unsupported construct
            failures += 1
            print(f"| {label} | refused: {type(exc).__name__}: {exc} |||||||")
            continue
        problem = None
        for what, fn in (("generated", raw), ("adt.grad", wrapper)):
            problem = problem or checked(label, what, fn, args, expected)
            calls.append((what, fn, args))
        others = []  # (library row name, fn, converted args) or (row name, message)
        for rows, setup in LIBRARIES:
            try:
                contenders = setup(path, name, positions)
            except ImportError:
                others += [(row, "not installed") for row in rows]
                continue
            except Exception as exc:  # noqa: BLE001 - report it in the row
                others += [(row, f"failed: {type(exc).__name__}: {exc}") for row in rows]
                continue
            for row, fn, convert in contenders:
                converted = convert(args)
                message = checked(label, row, fn, converted, expected)
                if message:
                    failures += 1
                    others.append((row, f"NOT TIMED: {message}"))
                else:
                    others.append((row, fn, converted))
        timed = [(fn, a) for _, fn, a in calls]
        if problem:  # time the primal and the hand-written gradient only
            failures += 1
            timed = timed[:2]
        timed += [(o[1], o[2]) for o in others if len(o) == 3]
        times = best_times(timed, REPEATS)
        primal, hand = times[0], times[1]
        hand_peak = f"{peak_mb(by_hand, args):.2f}"
        if problem:
            ours.append(f"| {label} | {us(primal)} | {us(hand)} | NOT TIMED: {problem} "
                        f"||||| {hand / primal:.2f} | {hand_peak} | |")
            rest = times[2:]
        else:
            generated, adt_grad = times[2], times[3]
            ours.append(f"| {label} | {us(primal)} | {us(hand)} | {us(generated)} | "
                        f"{us(adt_grad)} | {generated / hand:.2f} | {adt_grad / hand:.2f} | "
                        f"{generated / primal:.2f} | {hand / primal:.2f} | {hand_peak} | "
                        f"{peak_mb(raw, args):.2f} |")
            rest = times[4:]
        for other in others:
            if len(other) == 2:
                theirs.append(f"| {label} | {other[0]} | {other[1]} ||||")
                continue
            t, rest = rest[0], rest[1:]
            vs_generated = "" if problem else f"{t / generated:.2f}"
            theirs.append(f"| {label} | {other[0]} | {us(t)} | {t / hand:.2f} | {vs_generated} | "
                          f"{t / primal:.2f} |")
        print(f"timed {label}", file=sys.stderr)
    print("Reverse-mode gradients generated by ad-transpile (generated: the function compiled "
          "from the generated module; adt.grad: the API wrapper around it)\n")
    print("\n".join(ours))
    print("\nOther Python AD libraries on the same sample code, where importable\n")
    print("\n".join(theirs))
    if failures:
        sys.exit(f"\n{failures} gradient(s) refused, raising or disagreeing with the "
                 "hand-written ones (see above)")


if __name__ == "__main__":
    main()
