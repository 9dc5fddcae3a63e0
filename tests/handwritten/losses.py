"""NumPy losses: softmax cross-entropy of a linear model, the Huber loss written with np.where."""

import numpy as np

from handwritten.case import Case


def softmax_cross_entropy(W, X, Y):
    logits = X @ W
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_p, axis=1))


def softmax_cross_entropy_grad(W, X, Y):
    logits = X @ W
    p = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    p /= np.sum(p, axis=1, keepdims=True)
    return X.T @ (p * np.sum(Y, axis=1, keepdims=True) - Y) / len(X)


def softmax_cross_entropy_jvp(W, X, Y, d_W):
    logits = X @ W
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    d_logits = X @ d_W
    d_log_p = d_logits - np.sum(np.exp(log_p) * d_logits, axis=1, keepdims=True)
    return -np.mean(np.sum(Y * log_p, axis=1)), -np.mean(np.sum(Y * d_log_p, axis=1))


def huber(w, X, y, delta: float):
    r = X @ w - y
    small = np.abs(r) <= delta
    return np.mean(np.where(small, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta)))


def huber_grad(w, X, y, delta):
    r = X @ w - y
    return X.T @ np.clip(r, -delta, delta) / len(y)


def huber_jvp(w, X, y, delta, d_w):
    r = X @ w - y
    small = np.abs(r) <= delta
    value = np.mean(np.where(small, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta)))
    return value, np.mean(np.clip(r, -delta, delta) * (X @ d_w))


CASES = [
    Case(softmax_cross_entropy, ("W",), softmax_cross_entropy_grad, softmax_cross_entropy_jvp,
         lambda rng: (rng.normal(size=(4, 3)), rng.normal(size=(6, 4)),
                      np.eye(3)[rng.integers(3, size=6)])),
    Case(huber, ("w",), huber_grad, huber_jvp,
         lambda rng: (rng.normal(size=3), rng.normal(size=(8, 3)), rng.normal(size=8), 0.7)),
]
