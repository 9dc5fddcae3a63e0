"""Write sine_tests.csv: 200 soft unit tests (x, y) from y = sin(1.5 x) plus small noise.

    python samples/data/make_sine_tests.py    # seeded: the same file every time
"""

from pathlib import Path

import numpy as np

OMEGA, NOISE, COUNT, SEED = 1.5, 0.1, 200, 0


def main() -> None:
    rng = np.random.default_rng(SEED)
    x = rng.uniform(0.0, 10.0, COUNT)
    y = np.sin(OMEGA * x) + rng.normal(0.0, NOISE, COUNT)
    lines = ["x,y"] + [f"{a:.6f},{b:.6f}" for a, b in zip(x, y)]
    target = Path(__file__).with_name("sine_tests.csv")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {target} ({COUNT} tests, omega = {OMEGA}, noise {NOISE}, seed {SEED})")


if __name__ == "__main__":
    main()
