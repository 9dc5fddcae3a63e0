"""The NumPy samples: least squares, logistic regression, Rosenbrock, a two-layer network."""

import numpy as np

from handwritten.case import Case, sample

LEAST_SQUARES = sample("samples/least_squares.py")
LOGISTIC = sample("samples/logistic_regression.py")
ROSENBROCK = sample("samples/rosenbrock.py")
TWO_LAYER = sample("samples/two_layer_net.py")


def least_squares_grad(w, X, y):
    residual = X @ w - y
    return 2.0 / len(y) * (X.T @ residual)


def least_squares_jvp(w, X, y, d_w):
    residual = X @ w - y
    return np.mean(residual ** 2), 2.0 * np.mean(residual * (X @ d_w))


def logistic_grad(w, X, y):
    z = X @ w
    return X.T @ (1.0 / (1.0 + np.exp(-z)) - y) / len(y)


def logistic_jvp(w, X, y, d_w):
    z = X @ w
    value = np.mean(np.logaddexp(0.0, z) - y * z)
    return value, np.mean((1.0 / (1.0 + np.exp(-z)) - y) * (X @ d_w))


def rosenbrock_grad(x):
    head, tail = x[:-1], x[1:]
    inner = tail - head ** 2
    d_x = np.zeros_like(x)
    d_x[:-1] = -400.0 * head * inner - 2.0 * (1.0 - head)
    d_x[1:] += 200.0 * inner
    return d_x


def rosenbrock_jvp(x, d_x):
    head, tail = x[:-1], x[1:]
    inner = tail - head ** 2
    value = np.sum(100.0 * inner ** 2 + (1.0 - head) ** 2)
    d_inner = d_x[1:] - 2.0 * head * d_x[:-1]
    return value, np.sum(200.0 * inner * d_inner - 2.0 * (1.0 - head) * d_x[:-1])


def two_layer_net_grad(W1, W2, X, Y):
    hidden = np.tanh(X @ W1)
    logits = hidden @ W2
    p = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    p /= np.sum(p, axis=1, keepdims=True)
    d_logits = (p * np.sum(Y, axis=1, keepdims=True) - Y) / len(X)
    return X.T @ (d_logits @ W2.T * (1.0 - hidden ** 2)), hidden.T @ d_logits


def two_layer_net_jvp(W1, W2, X, Y, d_W1, d_W2):
    hidden = np.tanh(X @ W1)
    logits = hidden @ W2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    d_logits = (1.0 - hidden ** 2) * (X @ d_W1) @ W2 + hidden @ d_W2
    d_log_p = d_logits - np.sum(np.exp(log_p) * d_logits, axis=1, keepdims=True)
    return -np.mean(np.sum(Y * log_p, axis=1)), -np.mean(np.sum(Y * d_log_p, axis=1))


def _regression(rng, labels=False):
    X = rng.normal(size=(8, 3))
    y = (rng.random(8) < 0.5).astype(float) if labels else rng.normal(size=8)
    return rng.normal(size=3), X, y


def _network(rng):
    X = rng.normal(size=(6, 4))
    return rng.normal(size=(4, 5)) / 2.0, rng.normal(size=(5, 3)) / 2.0, X, \
        np.eye(3)[rng.integers(3, size=6)]


CASES = [
    Case(LEAST_SQUARES.loss, ("w",), least_squares_grad, least_squares_jvp, _regression),
    Case(LOGISTIC.loss, ("w",), logistic_grad, logistic_jvp,
         lambda rng: _regression(rng, labels=True)),
    Case(ROSENBROCK.rosenbrock, ("x",), rosenbrock_grad, rosenbrock_jvp,
         lambda rng: (rng.uniform(-1.0, 1.0, 5),)),
    Case(TWO_LAYER.loss, ("W1", "W2"), two_layer_net_grad, two_layer_net_jvp, _network),
]
