"""Linear least squares: the mean squared residual of a linear model ``X @ w`` against ``y``.

    python samples/least_squares.py

The data are 200 rows of 3 features (seeded) and ``y = X @ w + noise`` for a known ``w``.
Gradient descent with the generated gradient recovers ``w`` from zero.
"""

import numpy as np

TRUE_W = np.array([1.5, -2.0, 0.5])


def loss(w, X, y):
    """The mean of ``(X @ w - y) ** 2``; its gradient is ``2 / n * X.T @ (X @ w - y)``."""
    residual = X @ w - y
    return np.mean(residual ** 2)


def data(count=200, noise=0.1, seed=0):
    """``(X, y)``: standard normal features, targets from ``TRUE_W`` plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(count, TRUE_W.size))
    return X, X @ TRUE_W + noise * rng.normal(size=count)


def main(steps=100, step_size=0.1):
    """Check the gradient once, then descend from ``w = 0``; print what was recovered."""
    import ad_transpile as adt

    X, y = data()
    gradient = adt.grad(loss, wrt="w")  # reverse mode, the default
    adt.check_grad(loss, np.array([0.3, -0.2, 0.7]), X, y, wrt="w")

    w = np.zeros(3)
    print(f"loss at w = 0: {loss(w, X, y):.4f}")
    for _ in range(steps):
        w = w - step_size * gradient(w, X, y)
    print(f"loss after {steps} steps: {loss(w, X, y):.4f}")
    print(f"recovered w = {np.array2string(w, precision=3)}, true w = {TRUE_W}")
    return w


if __name__ == "__main__":
    main()
