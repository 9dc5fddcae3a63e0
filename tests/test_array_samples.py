"""The NumPy samples: their gradients in both modes against finite differences and against
gradients worked out by hand, and each sample run as ``python samples/NAME.py``."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys

import numpy as np
import pytest
from conftest import MODES, ROOT, check_array_gradient

import ad_transpile as adt


def sample(name: str) -> dict:
    """A sample's functions, as ``python samples/NAME.py`` defines them (without running main)."""
    return runpy.run_path(str(ROOT / "samples" / f"{name}.py"))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


least_squares = sample("least_squares")["loss"]
logistic_regression = sample("logistic_regression")["loss"]
two_layer_net = sample("two_layer_net")["loss"]
rosenbrock = sample("rosenbrock")["rosenbrock"]

# Small seeded inputs: 7 examples of 3 features, 4 hidden units, 3 classes.
rng = np.random.default_rng(0)
w, X, y = rng.normal(size=3), rng.normal(size=(7, 3)), rng.normal(size=7)
labels = rng.integers(2, size=7).astype(float)
W1, W2, Y = rng.normal(size=(3, 4)), rng.normal(size=(4, 3)), np.eye(3)[rng.integers(3, size=7)]
x = rng.normal(size=6)

FUNCTIONS = {"least_squares": least_squares, "logistic_regression": logistic_regression,
             "two_layer_net": two_layer_net, "rosenbrock": rosenbrock}
ARGUMENTS = {"least_squares": (w, X, y), "logistic_regression": (w, X, labels),
             "two_layer_net": (W1, W2, X, Y), "rosenbrock": (x,)}
# Every argument the result depends on smoothly, one at a time (labels too: the losses are
# linear in them), and both weight matrices of the network together.
GRADIENTS = [
    ("least_squares", "w"), ("least_squares", "X"), ("least_squares", "y"),
    ("logistic_regression", "w"), ("logistic_regression", "X"), ("logistic_regression", "y"),
    ("two_layer_net", "W1"), ("two_layer_net", "W2"), ("two_layer_net", "X"),
    ("two_layer_net", "Y"), ("two_layer_net", ("W1", "W2")),
    ("rosenbrock", "x"),
]
IDS = [f"{name}-{wrt if isinstance(wrt, str) else ','.join(wrt)}" for name, wrt in GRADIENTS]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "wrt"), GRADIENTS, ids=IDS)
def test_gradient_agrees_with_finite_differences(name, wrt, mode):
    adt.check_grad(FUNCTIONS[name], *ARGUMENTS[name], wrt=wrt, mode=mode)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_code_generated_from_the_sample_text_agrees_with_finite_differences(name):
    """The same through the text interface, as the command line reads a sample: the gradient
    with respect to all the arguments at once, by reverse mode and by forward-mode tangents."""
    source = (ROOT / "samples" / f"{name}.py").read_text(encoding="utf-8")
    arguments = ARGUMENTS[name]
    check_array_gradient(source, arguments, wrt=tuple(range(len(arguments))))


@pytest.mark.parametrize("mode", MODES)
def test_least_squares_gradient_is_the_closed_form(mode):
    expected = 2.0 / len(y) * X.T @ (X @ w - y)
    np.testing.assert_allclose(adt.grad(least_squares, mode=mode)(w, X, y), expected,
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", MODES)
def test_logistic_regression_gradient_is_the_closed_form(mode):
    expected = X.T @ (sigmoid(X @ w) - labels) / len(labels)
    np.testing.assert_allclose(adt.grad(logistic_regression, mode=mode)(w, X, labels),
                               expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", MODES)
def test_two_layer_net_gradients_are_backpropagation_by_hand(mode):
    hidden = np.tanh(X @ W1)
    logits = hidden @ W2
    softmax = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    d_logits = (softmax - Y) / len(Y)
    d_W2 = hidden.T @ d_logits
    d_W1 = X.T @ ((1.0 - hidden ** 2) * (d_logits @ W2.T))
    got_W1, got_W2 = adt.grad(two_layer_net, wrt=(0, 1), mode=mode)(W1, W2, X, Y)
    np.testing.assert_allclose(got_W1, d_W1, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got_W2, d_W2, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("mode", MODES)
def test_rosenbrock_gradient_is_the_textbook_formula_and_zero_at_the_minimum(mode):
    expected = np.zeros_like(x)
    expected[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    expected[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    gradient = adt.grad(rosenbrock, mode=mode)
    np.testing.assert_allclose(gradient(x), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(gradient(np.ones(10)), np.zeros(10))


def run_sample(name: str) -> str:
    """``python samples/NAME.py`` from the repository root: its output, once it exits with 0."""
    done = subprocess.run([sys.executable, f"samples/{name}.py"], capture_output=True, text=True,
                          check=False, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def numbers_after(label: str, text: str) -> np.ndarray:
    """The numbers printed in brackets after ``label``, e.g. ``w = [ 1.491 -2.01   0.505]``."""
    found = re.search(re.escape(label) + r"\s*\[([^\]]*)\]", text)
    assert found, f"no {label!r} in:\n{text}"
    return np.array(found.group(1).split(), dtype=float)


def test_least_squares_sample_recovers_the_least_squares_solution():
    out = run_sample("least_squares")
    X, y = sample("least_squares")["data"]()
    solution = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(numbers_after("recovered w =", out), solution, atol=1e-3)
    np.testing.assert_allclose(numbers_after("true w =", out), [1.5, -2.0, 0.5])
    final_loss = float(re.search(r"loss after \d+ steps: (\S+)", out).group(1))
    assert final_loss == pytest.approx(least_squares(solution, X, y), abs=1e-4)


def test_logistic_regression_sample_reaches_the_accuracy_of_the_true_weights():
    out = run_sample("logistic_regression")
    accuracy, true_accuracy = map(float, re.findall(r"([\d.]+)%", out))
    assert accuracy >= true_accuracy > 70.0
    # the maximum-likelihood weights by Newton's method, independently of ad-transpile
    X, y = sample("logistic_regression")["data"]()
    weights = np.zeros(3)
    for _ in range(30):
        p = sigmoid(X @ weights)
        weights += np.linalg.solve(X.T @ (X * (p * (1 - p))[:, None]), X.T @ (y - p))
    np.testing.assert_allclose(numbers_after("w =", out), weights, atol=1e-3)


def test_two_layer_net_sample_drives_the_loss_down():
    out = run_sample("two_layer_net")
    before, after = map(float, re.search(r"went down from ([\d.]+) to ([\d.]+)", out).groups())
    assert before > 1.0 and after < 0.05 * before
    assert "training accuracy" in out and out.rstrip().endswith("100.0%")


def test_rosenbrock_sample_reaches_all_ones():
    out = run_sample("rosenbrock")
    np.testing.assert_allclose(numbers_after("x =", out), np.ones(10), atol=1e-6)
    largest = float(re.search(r"largest \|x_i - 1\| is (\S+)", out).group(1))
    assert largest < 1e-5
