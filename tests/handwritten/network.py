"""The tiny network of samples/network.py: two softplus neurons, a squared error summed over
data points; each point's gradient is independent of the others', so one loop and no tape."""

from handwritten.case import Case, sample

NETWORK = sample("samples/network.py")
softplus, softplus_slope = NETWORK.softplus, NETWORK.softplus_slope


def network_grad(w1, b1, w2, b2, xs, ys):
    d_w1 = d_b1 = d_w2 = d_b2 = 0.0
    for x, y in zip(xs, ys):
        z1 = w1 * x + b1
        hidden = softplus(z1)
        z2 = w2 * hidden + b2
        d_z2 = 2.0 * (softplus(z2) - y) * softplus_slope(z2)
        d_z1 = w2 * d_z2 * softplus_slope(z1)
        d_w1 += x * d_z1
        d_b1 += d_z1
        d_w2 += hidden * d_z2
        d_b2 += d_z2
    return d_w1, d_b1, d_w2, d_b2


def network_jvp(w1, b1, w2, b2, xs, ys, d_w1, d_b1, d_w2, d_b2):
    total = d_total = 0.0
    for x, y in zip(xs, ys):
        z1 = w1 * x + b1
        hidden = softplus(z1)
        d_hidden = softplus_slope(z1) * (x * d_w1 + d_b1)
        z2 = w2 * hidden + b2
        r = softplus(z2) - y
        total += r ** 2
        d_total += 2.0 * r * softplus_slope(z2) * (hidden * d_w2 + w2 * d_hidden + d_b2)
    return total, d_total


def _data(rng):
    weights = tuple(float(v) for v in rng.uniform(-1.0, 1.0, 4))
    return (*weights, [float(v) for v in rng.uniform(-2.0, 2.0, 5)],
            [float(v) for v in rng.uniform(0.0, 2.0, 5)])


CASES = [
    Case(NETWORK.loss, ("w1", "b1", "w2", "b2"), network_grad, network_jvp, _data),
]
