"""A two-layer network: tanh hidden layer, softmax output, mean cross-entropy over a batch.

    python samples/two_layer_net.py

``X`` is a batch of inputs (one per row), ``Y`` their one-hot labels; ``W1`` and ``W2`` are the
weights of the two layers. The log-softmax subtracts each row's largest logit first, so that
``exp`` cannot overflow.

The example trains the network on a synthetic 3-class problem (seeded): a batch of 128 inputs
of 64 dimensions, each its class's centre plus noise, and 32 hidden units. One reverse sweep
gives the gradients of both weight matrices.
"""

import numpy as np


def loss(W1, W2, X, Y):
    hidden = np.tanh(X @ W1)
    logits = hidden @ W2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_norm = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * (shifted - log_norm), axis=1))


def data(count=128, dimensions=64, classes=3, noise=2.0, seed=2):
    """``(X, Y, labels)``: inputs scattered around one random centre per class, one-hot ``Y``."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dimensions))
    labels = rng.integers(classes, size=count)
    X = centres[labels] + noise * rng.normal(size=(count, dimensions))
    return X, np.eye(classes)[labels], labels


def initial_weights(dimensions=64, hidden=32, classes=3, seed=3):
    """Random weights scaled by 1 / sqrt(fan-in), so that tanh starts out of saturation."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(dimensions, hidden)) / np.sqrt(dimensions),
            rng.normal(size=(hidden, classes)) / np.sqrt(hidden))


def accuracy(W1, W2, X, labels):
    """The fraction of inputs whose largest logit is their label's."""
    return np.mean(np.argmax(np.tanh(X @ W1) @ W2, axis=1) == labels)


def main(steps=100, step_size=0.5):
    """Check the gradients once, then train with plain gradient descent; print the loss."""
    import ad_transpile as adt

    X, Y, labels = data()
    W1, W2 = initial_weights()
    gradient = adt.grad(loss, wrt=("W1", "W2"))  # reverse mode: both in one sweep
    adt.check_grad(loss, W1, W2, X, Y, wrt=("W1", "W2"))

    before, accuracy_before = loss(W1, W2, X, Y), accuracy(W1, W2, X, labels)
    print(f"loss at the start: {before:.4f}")
    for _ in range(steps):
        d_W1, d_W2 = gradient(W1, W2, X, Y)
        W1, W2 = W1 - step_size * d_W1, W2 - step_size * d_W2
    after = loss(W1, W2, X, Y)
    print(f"loss after {steps} steps: {after:.4f}")
    print(f"the loss went down from {before:.4f} to {after:.4f}; training accuracy "
          f"{accuracy_before:.1%} -> {accuracy(W1, W2, X, labels):.1%}")
    return before, after


if __name__ == "__main__":
    main()
