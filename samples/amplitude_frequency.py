"""Two free parameters: fit the amplitude and frequency of a wave, and see the descent path on
the contours of the loss.

    python samples/amplitude_frequency.py plots/amplitude_frequency

The soft unit tests come from amplitude 2.0 and frequency 1.3 plus small noise (seeded).
"""

import math
import sys

TRUE = {"amplitude": 2.0, "frequency": 1.3}


def wave(x, amplitude, frequency):
    return amplitude * math.sin(frequency * x)


def soft_tests(count=100, noise=0.1, seed=1):
    """(x, expected) pairs drawn from the true wave plus Gaussian noise."""
    import numpy as np

    rng = np.random.default_rng(seed)
    xs = rng.uniform(0.0, 6.0, count)
    ys = [wave(x, **TRUE) + rng.normal(0.0, noise) for x in xs]
    return list(zip(xs.tolist(), ys))


def main(plot_dir=None):
    import ad_transpile as adt

    result = adt.fit(wave, soft_tests(), {"amplitude": 0.5, "frequency": 1.0})
    print(result.summary())
    print("true:", TRUE)
    if plot_dir:
        print("plots:", *result.plot(plot_dir))
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
