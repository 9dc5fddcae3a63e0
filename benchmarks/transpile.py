"""Time the transpiler itself: straight-line functions of growing size and loop nests of growing
depth, in both modes, with the exponent of the fitted power law; and each golden sample.

    python benchmarks/transpile.py [--quick]

Each function is generated (a chain of scalar statements, each reading the two before it, so that
nothing is dead code), transpiled once to warm up, then timed as the best of 3 transpiles. The
exponent is the slope of log(time) against log(statements) from the smallest to the largest size.
Issue #14's targets on the 2-core machine: exponent at most 1.2 from 100 to 800 statements, 800
statements in under 5 s, depth 6 in under 1 s, every sample under 100 ms. This is a report, not
a pass/fail test. ``--quick`` stops at 400 statements and depth 4.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

from ad_transpile.emit import formatted
from ad_transpile.parse import function_in_text, read_function
from ad_transpile.pipeline import transpile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from golden_cases import CASES  # noqa: E402  (the samples the golden files are made from)

MODES = ("reverse", "forward")
OPERATIONS = ("math.sin({a}) * {b}", "{a} * {b} + 0.5", "math.exp(-{a} * {a}) + {b}",
              "{a} / (1.0 + {b} * {b})")


def straight_line(n: int) -> str:
    """``n`` statements, each combining the two values before it."""
    lines = ["import math", "", "def f(x, y):", "    v0 = x", "    v1 = y"]
    for k in range(2, n + 2):
        expr = OPERATIONS[k % len(OPERATIONS)].format(a=f"v{k - 1}", b=f"v{k - 2}")
        lines.append(f"    v{k} = {expr}")
    lines.append(f"    return v{n + 1}")
    return "\n".join(lines) + "\n"


def nest(depth: int) -> str:
    """``depth`` nested counted loops around a small body that updates a carried value."""
    lines = ["import math", "", "def f(x, n):", "    s = x"]
    indent = "    "
    for d in range(depth):
        lines.append(f"{indent}for i{d} in range(n):")
        indent += "    "
    lines.append(f"{indent}s = math.sin(s) * x + 0.1")
    lines.append("    return s")
    return "\n".join(lines) + "\n"


def seconds(src: str, mode: str) -> float:
    return best_of(lambda: transpile(function_in_text(src, "bench.py", "f"), 0, mode))


def best_of(run, repeats: int = 3) -> float:
    """The best of ``repeats`` timed runs, after one to warm up. Each run formats its text
    anew, as a new transpile does (``formatted`` keeps the texts it has formatted)."""
    run()
    best = math.inf
    for _ in range(repeats):
        formatted.cache_clear()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def samples() -> None:
    """Each golden sample read and transpiled, as ``ad-transpile grad`` does it."""
    os.chdir(ROOT)
    times = {}
    for path, name, wrt, mode in CASES:
        def run(path=path, name=name, wrt=wrt, mode=mode):
            return transpile(read_function(path, name), wrt, mode)
        times[f"{path}::{name} {mode}"] = best_of(run)
    slowest = max(times, key=times.get)
    over = [k for k, t in times.items() if t >= 0.1]
    print(f"\nsamples: {len(times)} transpiles, slowest {times[slowest] * 1000:.0f} ms "
          f"({slowest}); {len(over)} at 100 ms or more{': ' + ', '.join(over) if over else ''}")


def main() -> None:
    quick = "--quick" in sys.argv
    sizes = (100, 200, 400) if quick else (100, 200, 400, 800)
    depths = range(1, 5 if quick else 7)
    print(f"{'statements':>10} " + " ".join(f"{m + ' s':>12}" for m in MODES))
    times = {m: [] for m in MODES}
    for n in sizes:
        row = [seconds(straight_line(n), m) for m in MODES]
        for m, t in zip(MODES, row):
            times[m].append(t)
        print(f"{n:>10} " + " ".join(f"{t:12.3f}" for t in row), flush=True)
    for m in MODES:
        slope = math.log(times[m][-1] / times[m][0]) / math.log(sizes[-1] / sizes[0])
        print(f"exponent {m}: {slope:.2f} ({sizes[0]} to {sizes[-1]} statements)")
    print(f"\n{'depth':>10} " + " ".join(f"{m + ' s':>12}" for m in MODES))
    for depth in depths:
        print(f"{depth:>10} " + " ".join(f"{seconds(nest(depth), m):12.3f}" for m in MODES),
              flush=True)
    samples()


if __name__ == "__main__":
    main()
