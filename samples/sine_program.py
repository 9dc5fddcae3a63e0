"""The seed's running example as a program with a free parameter: fit omega to soft unit tests.

    ad-transpile fit samples/sine_program.py::wave --tests samples/data/sine_tests.csv \
        --param omega=0.75 --restarts 12 --starts grid --range omega=0:3 --plot plots/sine

or ``python samples/sine_program.py [PLOT_DIR]``, which does the same through the Python API.
"""

import math
import sys
from pathlib import Path


def wave(x, omega):
    return math.sin(omega * x)


def main(plot_dir=None):
    """One run from omega = 0.75, then 12 more starts on a grid: the best run finds 1.5."""
    import ad_transpile as adt

    tests = Path(__file__).parent / "data" / "sine_tests.csv"
    single = adt.fit(wave, tests, {"omega": 0.75})
    print(f"one run from omega = 0.75: omega = {single.params['omega']:.4f}, "
          f"loss {single.loss:.4g} ({single.message})\n")
    result = adt.fit(wave, tests, {"omega": 0.75}, restarts=12, starts="grid",
                     bounds={"omega": (0.0, 3.0)})
    print(result.summary())
    if plot_dir:
        print("plots:", *result.plot(plot_dir))
    return single, result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
