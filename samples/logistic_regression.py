"""Logistic regression: the mean negative log-likelihood of labels ``y`` (0 or 1) under ``X @ w``.

    python samples/logistic_regression.py

``log(1 + exp(z))`` is written ``np.logaddexp(0.0, z)``, which does not overflow for large ``z``.
The data are 500 points of 2 features and a constant column (the bias), labelled 0 or 1 by
drawing from the logistic model with known weights (seeded), so the classes overlap. Gradient
descent with the generated gradient reaches the accuracy of the true weights.
"""

import numpy as np

TRUE_W = np.array([2.0, -1.0, 0.5])  # the two feature weights and the bias


def loss(w, X, y):
    """The mean of ``log(1 + exp(X @ w)) - y * (X @ w)``; its gradient is
    ``X.T @ (sigmoid(X @ w) - y) / n``."""
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def data(count=500, seed=1):
    """``(X, y)``: standard normal features and a column of ones; labels from ``TRUE_W``."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=(count, 2)), np.ones(count)])
    probability = 1.0 / (1.0 + np.exp(-X @ TRUE_W))
    return X, (rng.random(count) < probability).astype(float)


def accuracy(w, X, y):
    """The fraction of points on the right side of the decision boundary ``X @ w = 0``."""
    return np.mean((X @ w > 0) == (y > 0.5))


def main(steps=300, step_size=1.0):
    """Check the gradient once, then descend from ``w = 0``; print the training accuracy."""
    import ad_transpile as adt

    X, y = data()
    gradient = adt.grad(loss, wrt="w")  # reverse mode, the default
    adt.check_grad(loss, np.array([0.3, -0.2, 0.7]), X, y, wrt="w")

    w = np.zeros(3)
    print(f"loss at w = 0: {loss(w, X, y):.4f}")
    for _ in range(steps):
        w = w - step_size * gradient(w, X, y)
    print(f"loss after {steps} steps: {loss(w, X, y):.4f}")
    print(f"w = {np.array2string(w, precision=3)}: training accuracy "
          f"{accuracy(w, X, y):.1%} (the true weights {TRUE_W}: {accuracy(TRUE_W, X, y):.1%})")
    return w


if __name__ == "__main__":
    main()
