"""The generated files committed under tests/golden/, and the command that regenerates them.

    python tests/golden_cases.py      # rewrite every golden file from the samples

The tests never write these files: a change to the generated code shows up as a failing test and,
once regenerated, as a reviewable diff.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"

# (sample file, function, wrt): one name as ``--wrt x`` gives it, several as a tuple
SAMPLES = [
    ("samples/seed.py", "f", "x"),
    ("samples/seed.py", "g", "x"),
    ("samples/seed.py", "h", "x"),
    ("samples/two_vars.py", "bump", ("x", "y")),
    ("samples/sine_fit.py", "loss", "omega"),
    ("samples/sine_loop.py", "loss", "omega"),
    ("samples/network.py", "loss", ("w1", "b1", "w2", "b2")),
    ("samples/sine_program.py", "wave", "omega"),
    ("samples/projectile.py", "landing", ("angle", "speed")),
]
MODES = ("reverse", "forward")
# NumPy samples: forward mode's file seeds a basis of tangents, one sweep for the whole gradient
ARRAY_SAMPLES = [
    ("samples/least_squares.py", "loss", "w"),
    ("samples/logistic_regression.py", "loss", "w"),
    ("samples/two_layer_net.py", "loss", ("W1", "W2")),
    ("samples/rosenbrock.py", "rosenbrock", "x"),
]
# the same with the arrays' axes given (``--arg X=ndarray[n, d]``): reverse mode in plain NumPy
SHAPED_SAMPLES = [
    ("samples/least_squares.py", "loss", "w",
     {"w": "ndarray[d]", "X": "ndarray[n, d]", "y": "ndarray[n]"}),
    ("samples/logistic_regression.py", "loss", "w",
     {"w": "ndarray[d]", "X": "ndarray[n, d]", "y": "ndarray[n]"}),
    ("samples/two_layer_net.py", "loss", ("W1", "W2"),
     {"W1": "ndarray[d, h]", "W2": "ndarray[h, c]", "X": "ndarray[n, d]", "Y": "ndarray[n, c]"}),
]
SCALAR_CASES = [(path, name, wrt, mode) for path, name, wrt in SAMPLES for mode in MODES]
ARRAY_CASES = [(path, name, wrt, mode) for path, name, wrt in ARRAY_SAMPLES for mode in MODES]
CASES = SCALAR_CASES + ARRAY_CASES
# second derivatives (``--order 2``): fpr differentiated again in forward mode
SECOND_ORDER = [
    ("samples/seed.py", "f", "x"),
    ("samples/seed.py", "g", "x"),
    ("samples/seed.py", "h", "x"),
    ("samples/two_vars.py", "bump", ("x", "y")),
    ("samples/sine_fit.py", "loss", "omega"),
]
# explain mode (``--explain``): the seed's h and the sine-fit loop, with the rule comments
EXPLAINED = [
    ("samples/seed.py", "h", "x", mode) for mode in MODES
] + [("samples/sine_fit.py", "loss", "omega", mode) for mode in MODES]


def golden_path(path: str, name: str, mode: str) -> Path:
    return GOLDEN / f"{Path(path).stem}_{name}_{mode}.py"


def shaped_path(path: str, name: str) -> Path:
    return GOLDEN / f"{Path(path).stem}_{name}_reverse_shaped.py"


def generate_shaped(path: str, name: str, wrt, kinds: dict[str, str]) -> str:
    """What ``ad-transpile grad PATH::NAME --wrt ... --arg NAME=KIND ...`` writes."""
    import dataclasses

    from ad_transpile.kinds import parse_kind
    from ad_transpile.parse import read_function
    from ad_transpile.pipeline import transpile

    parsed = read_function(path, name)
    parsed = dataclasses.replace(parsed, arg_kinds={k: parse_kind(v) for k, v in kinds.items()})
    return transpile(parsed, wrt, "reverse")[0]


def second_order_path(path: str, name: str) -> Path:
    return GOLDEN / f"{Path(path).stem}_{name}_order2.py"


def explained_path(path: str, name: str, mode: str) -> Path:
    return GOLDEN / f"{Path(path).stem}_{name}_{mode}_explained.py"


def generate(path: str, name: str, wrt: str | tuple[str, ...], mode: str, order: int = 1,
             explain: bool = False) -> str:
    """What ``ad-transpile grad PATH::NAME --wrt ... --mode MODE`` writes, run from the root."""
    text = Path(path).read_text(encoding="utf-8")  # the key: made again if the file changed
    return _generated(path, text, name, wrt, mode, order, explain)


@functools.lru_cache(maxsize=128)
def _generated(path: str, text: str, name: str, wrt, mode: str, order: int,
               explain: bool) -> str:
    from ad_transpile.parse import read_function
    from ad_transpile.pipeline import transpile

    return transpile(read_function(path, name), wrt, mode, order=order, explain=explain)[0]


def main() -> None:
    os.chdir(ROOT)
    GOLDEN.mkdir(exist_ok=True)
    for case in CASES:
        path, name, _, mode = case
        target = golden_path(path, name, mode)
        target.write_text(generate(*case), encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}", file=sys.stderr)
    for path, name, wrt, kinds in SHAPED_SAMPLES:
        target = shaped_path(path, name)
        target.write_text(generate_shaped(path, name, wrt, kinds), encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}", file=sys.stderr)
    for path, name, wrt in SECOND_ORDER:
        target = second_order_path(path, name)
        target.write_text(generate(path, name, wrt, "reverse", order=2), encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}", file=sys.stderr)
    for path, name, wrt, mode in EXPLAINED:
        target = explained_path(path, name, mode)
        target.write_text(generate(path, name, wrt, mode, explain=True), encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
