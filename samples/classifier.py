"""A small classifier: logistic regression on synthetic 2-D data, written with scalar math.

    python samples/classifier.py plots/classifier

Each soft unit test is a point (x1, x2) and its label, 0 or 1; the program returns the
probability of label 1, and the score is the cross-entropy, a scoring function of our own that
ad-transpile differentiates like the program. The labels are drawn (seeded) from a logistic
model with w1 = 2.0, w2 = -1.0, b = 0.5, so the classes overlap and the weights stay finite.
"""

import math
import sys

TRUE = {"w1": 2.0, "w2": -1.0, "b": 0.5}


def classify(x1, x2, w1, w2, b):
    z = w1 * x1 + w2 * x2 + b
    return 1.0 / (1.0 + math.exp(-z))


def cross_entropy(p, label):
    p = min(max(p, 1e-12), 1.0 - 1e-12)  # log(0) would be -inf
    return -(label * math.log(p) + (1.0 - label) * math.log(1.0 - p))


def soft_tests(count=400, seed=2):
    """((x1, x2), label) pairs: points from a standard normal, labels from the true model."""
    import numpy as np

    rng = np.random.default_rng(seed)
    points = rng.normal(0.0, 1.0, (count, 2))
    labels = [float(rng.random() < classify(a, b, **TRUE)) for a, b in points]
    return [((a, b), label) for (a, b), label in zip(points.tolist(), labels)]


def accuracy(params, tests):
    right = sum((classify(*x, **params) > 0.5) == (label > 0.5) for x, label in tests)
    return right / len(tests)


def main(plot_dir=None):
    """Fit from all-zero weights with the cross-entropy score; print the accuracy."""
    import ad_transpile as adt

    tests = soft_tests()
    result = adt.fit(classify, tests, {"w1": 0.0, "w2": 0.0, "b": 0.0}, score=cross_entropy)
    print(result.summary())
    print(f"true: {TRUE}; accuracy on the tests: {accuracy(result.params, tests):.1%} "
          f"(the true weights: {accuracy(TRUE, tests):.1%})")
    if plot_dir:
        print("plots:", *result.plot(plot_dir))
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
