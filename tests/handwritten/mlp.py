"""A multilayer perceptron with two tanh hidden layers and a squared-error loss."""

import numpy as np

from handwritten.case import Case


def mlp(W1, b1, W2, b2, w3, X, y):
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    out = h2 @ w3
    return np.mean((out - y) ** 2)


def mlp_grad(W1, b1, W2, b2, w3, X, y):
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    d_out = 2.0 * (h2 @ w3 - y) / len(y)
    d_z2 = np.outer(d_out, w3) * (1.0 - h2 ** 2)
    d_z1 = d_z2 @ W2.T * (1.0 - h1 ** 2)
    return X.T @ d_z1, d_z1.sum(axis=0), h1.T @ d_z2, d_z2.sum(axis=0), h2.T @ d_out


def mlp_jvp(W1, b1, W2, b2, w3, X, y, d_W1, d_b1, d_W2, d_b2, d_w3):
    h1 = np.tanh(X @ W1 + b1)
    d_h1 = (1.0 - h1 ** 2) * (X @ d_W1 + d_b1)
    h2 = np.tanh(h1 @ W2 + b2)
    d_h2 = (1.0 - h2 ** 2) * (d_h1 @ W2 + h1 @ d_W2 + d_b2)
    residual = h2 @ w3 - y
    return np.mean(residual ** 2), 2.0 * np.mean(residual * (d_h2 @ w3 + h2 @ d_w3))


def _example(rng):
    return (rng.normal(size=(3, 4)) / 2.0, rng.normal(size=4) / 2.0,
            rng.normal(size=(4, 4)) / 2.0, rng.normal(size=4) / 2.0, rng.normal(size=4),
            rng.normal(size=(6, 3)), rng.normal(size=6))


CASES = [Case(mlp, ("W1", "b1", "W2", "b2", "w3"), mlp_grad, mlp_jvp, _example)]
