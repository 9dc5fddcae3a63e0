"""The Rosenbrock function in n dimensions, written with slices: minimum 0 at x = (1, ..., 1).

    python samples/rosenbrock.py

The minimum lies at the end of a long, curved, narrow valley, where plain gradient descent
crawls: the example descends with momentum (the heavy ball) from a seeded random start in 10
dimensions. (From n = 4 on there is a second, local minimum near x = (-1, 1, ..., 1); the start
is drawn from [-0.5, 0.5], away from it.)
"""

import numpy as np


def rosenbrock(x):
    """The sum over i of ``100 (x[i+1] - x[i]**2)**2 + (1 - x[i])**2``."""
    head = x[:-1]
    tail = x[1:]
    return np.sum(100.0 * (tail - head ** 2) ** 2 + (1.0 - head) ** 2)


def main(n=10, steps=3000, step_size=1e-3, momentum=0.9, seed=0):
    """Check the gradient once, then descend with momentum; print how close x is to all ones."""
    import ad_transpile as adt

    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.5, 0.5, n)
    gradient = adt.grad(rosenbrock)  # reverse mode, with respect to x
    adt.check_grad(rosenbrock, x)

    print(f"f(x) at the start: {rosenbrock(x):.4f}")
    velocity = np.zeros(n)
    for _ in range(steps):
        velocity = momentum * velocity - step_size * gradient(x)
        x = x + velocity
    print(f"f(x) after {steps} steps: {rosenbrock(x):.3g}")
    print(f"x = {np.array2string(x, precision=6)}: "
          f"the largest |x_i - 1| is {np.max(np.abs(x - 1.0)):.1e}")
    return x


if __name__ == "__main__":
    main()
