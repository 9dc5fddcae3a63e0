"""Optimizers: one small class each, registered by name.

Each takes one step downhill from ``x`` given the loss and its gradient there, and returns the new
point with its loss and gradient (``evaluate(x) -> (loss, gradient)`` computes them), or None when
it can find no lower point (the run has converged as far as it can).
"""

from __future__ import annotations

import math
from typing import Callable, ClassVar

import numpy as np

from ad_transpile.fit.errors import FitError

Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray]]
Step = tuple[np.ndarray, float, np.ndarray]


class Optimizer:
    """Base class: ``step_size`` is the learning rate ``eps`` of ``x <- x - eps * grad``."""

    name: ClassVar[str]
    default_step: ClassVar[float]

    def __init__(self, step_size: float | None = None) -> None:
        self.step_size = self.default_step if step_size is None else float(step_size)
        if not (self.step_size > 0 and math.isfinite(self.step_size)):
            raise FitError(f"the step size must be positive and finite, not {step_size!r}")

    def start(self, size: int) -> None:
        """Forget the state of a previous run (velocities, averages, the last step length)."""

    def step(self, x: np.ndarray, loss: float, grad: np.ndarray, evaluate: Evaluate) -> Step | None:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name} (step size {self.step_size:g})"


class GradientDescent(Optimizer):
    """Plain gradient descent with a fixed step: ``x <- x - eps * grad``."""

    name = "gd"
    default_step = 0.01

    def step(self, x, loss, grad, evaluate):
        moved = x - self.step_size * grad
        return (moved, *evaluate(moved))


class Momentum(Optimizer):
    """Gradient descent with momentum: a velocity that averages past gradients (heavy ball)."""

    name = "momentum"
    default_step = 0.01

    def __init__(self, step_size: float | None = None, beta: float = 0.9) -> None:
        super().__init__(step_size)
        self.beta = beta

    def start(self, size):
        self.velocity = np.zeros(size)

    def step(self, x, loss, grad, evaluate):
        self.velocity = self.beta * self.velocity + grad
        moved = x - self.step_size * self.velocity
        return (moved, *evaluate(moved))


class Adam(Optimizer):
    """Adam: a step per parameter scaled by running averages of the gradient and its square."""

    name = "adam"
    default_step = 0.01

    def __init__(self, step_size: float | None = None, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8) -> None:
        super().__init__(step_size)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def start(self, size):
        self.mean, self.square, self.t = np.zeros(size), np.zeros(size), 0

    def step(self, x, loss, grad, evaluate):
        self.t += 1
        self.mean = self.beta1 * self.mean + (1 - self.beta1) * grad
        self.square = self.beta2 * self.square + (1 - self.beta2) * grad * grad
        mean = self.mean / (1 - self.beta1**self.t)
        square = self.square / (1 - self.beta2**self.t)
        moved = x - self.step_size * mean / (np.sqrt(square) + self.epsilon)
        return (moved, *evaluate(moved))


class Backtracking(Optimizer):
    """An adaptive step: try twice the last step, halve it until the loss drops enough.

    The Armijo rule accepts ``eps`` when ``loss(x - eps g) <= loss(x) - c * eps * |g|^2``; a
    non-finite loss counts as no decrease, so the step also shrinks away from where the program
    is undefined. The first trial moves the parameters by ``step_size`` (in their own units), so
    that a steep start does not leap across the landscape.
    """

    name = "backtracking"
    default_step = 0.1

    def __init__(self, step_size: float | None = None, shrink: float = 0.5, grow: float = 2.0,
                 armijo: float = 1e-4, max_shrinks: int = 60) -> None:
        super().__init__(step_size)
        self.shrink, self.grow, self.armijo, self.max_shrinks = shrink, grow, armijo, max_shrinks

    def start(self, size):
        self.current = None

    def step(self, x, loss, grad, evaluate):
        slope = float(grad @ grad)
        eps = self.current or self.step_size / max(math.sqrt(slope), 1e-300)
        for _ in range(self.max_shrinks):
            moved = x - eps * grad
            new_loss, new_grad = evaluate(moved)
            if math.isfinite(new_loss) and new_loss <= loss - self.armijo * eps * slope:
                self.current = eps * self.grow
                return moved, new_loss, new_grad
            eps *= self.shrink
        return None

    def describe(self) -> str:
        return f"{self.name} (first move {self.step_size:g}, halved until the loss drops)"


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (Backtracking, GradientDescent, Momentum, Adam)
}


def make_optimizer(spec: str | Optimizer, step_size: float | None = None) -> Optimizer:
    """An optimizer from its name (see ``OPTIMIZERS``) or an instance, used as it is."""
    if isinstance(spec, Optimizer):
        if step_size is not None:
            raise FitError("give the step size to the optimizer object or as step_size, not both")
        return spec
    if spec not in OPTIMIZERS:
        raise FitError(f"unknown optimizer {spec!r}: use one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[spec](step_size)
