"""Partial derivatives of ``scipy.special``'s elementwise functions; ``result`` is the value.

SciPy is an optional dependency: this file is read as text, like every rule file, so nothing
here imports SciPy unless the user's own code does, and the derivatives it writes call only
what the function called (``scipy.special`` and NumPy, and ad-transpile's helpers of
reductions). The derivative of ``gammaln`` is
``digamma``, whose own is ``polygamma(1, x)``: each has a rule, so they differentiate again.
"""

import numpy as np
import scipy.special

from ad_transpile.rulebook import adjoints, batched_tangents, partials, tangents
from ad_transpile.runtime import _reduced_axes, _unreduce


@partials(scipy.special.expit)
def expit(x, *, result):  # the logistic sigmoid
    return result * (1.0 - result)


@partials(scipy.special.logit)
def logit(p):
    return 1.0 / (p * (1.0 - p))


@partials(scipy.special.erf)
def erf(x):
    return 2.0 / np.sqrt(np.pi) * np.exp(-x * x)


@partials(scipy.special.erfc)
def erfc(x):
    return -2.0 / np.sqrt(np.pi) * np.exp(-x * x)


@partials(scipy.special.erfinv)
def erfinv(y, *, result):
    return np.sqrt(np.pi) / 2.0 * np.exp(result * result)


@partials(scipy.special.ndtr)
def ndtr(x):  # the standard normal distribution function: its density
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


@partials(scipy.special.log_ndtr)
def log_ndtr(x, *, result):
    return np.exp(-0.5 * x * x - result) / np.sqrt(2.0 * np.pi)


@partials(scipy.special.gamma)
def gamma(x, *, result):
    return result * scipy.special.digamma(x)


@partials(scipy.special.gammaln)
def gammaln(x):
    return scipy.special.digamma(x)


@partials(scipy.special.digamma)
def digamma(x):
    return scipy.special.polygamma(1, x)


@partials(scipy.special.polygamma)
def polygamma(n, x):  # the order n is a whole number: no derivative along it
    return 0.0, scipy.special.polygamma(n + 1, x)


@partials(scipy.special.xlogy)
def xlogy(x, y):  # x * log(y), 0 where x is 0
    return np.log(y), x / y


@partials(scipy.special.xlog1py)
def xlog1py(x, y):  # x * log1p(y), 0 where x is 0
    return np.log1p(y), x / (1.0 + y)



# structural: a reduction and two normalizations along an axis (``axis=None``: all of them),
# written with the softmax weights exp(a - logsumexp(a)), which are at most 1


@tangents(scipy.special.logsumexp)
def logsumexp_tangent(a, axis=None, keepdims=False, *, result, d_a):
    weights = np.exp(a - _unreduce(result, a, axis=axis, keepdims=keepdims))
    return np.sum(weights * d_a, axis=axis, keepdims=keepdims)


@batched_tangents(scipy.special.logsumexp)
def logsumexp_batched(a, axis=None, keepdims=False, *, result, d_a):
    weights = np.exp(a - _unreduce(result, a, axis=axis, keepdims=keepdims))
    return np.sum(np.expand_dims(weights, -1) * d_a, axis=_reduced_axes(a, axis=axis),
                  keepdims=keepdims)


@adjoints(scipy.special.logsumexp)
def logsumexp_adjoint(a, axis=None, keepdims=False, *, result, d_result):
    weights = np.exp(a - _unreduce(result, a, axis=axis, keepdims=keepdims))
    return weights * _unreduce(d_result, a, axis=axis, keepdims=keepdims)


@tangents(scipy.special.softmax)
def softmax_tangent(x, axis=None, *, result, d_x):
    return result * (d_x - np.sum(result * d_x, axis=axis, keepdims=True))


@batched_tangents(scipy.special.softmax)
def softmax_batched(x, axis=None, *, result, d_x):
    weighted = np.expand_dims(result, -1) * d_x
    return weighted - np.expand_dims(result, -1) * np.sum(
        weighted, axis=_reduced_axes(x, axis=axis), keepdims=True)


@adjoints(scipy.special.softmax)
def softmax_adjoint(x, axis=None, *, result, d_result):  # its Jacobian is symmetric
    return result * (d_result - np.sum(result * d_result, axis=axis, keepdims=True))


@tangents(scipy.special.log_softmax)
def log_softmax_tangent(x, axis=None, *, result, d_x):
    return d_x - np.sum(np.exp(result) * d_x, axis=axis, keepdims=True)


@batched_tangents(scipy.special.log_softmax)
def log_softmax_batched(x, axis=None, *, result, d_x):
    return d_x - np.sum(np.expand_dims(np.exp(result), -1) * d_x,
                        axis=_reduced_axes(x, axis=axis), keepdims=True)


@adjoints(scipy.special.log_softmax)
def log_softmax_adjoint(x, axis=None, *, result, d_result):
    return d_result - np.exp(result) * np.sum(d_result, axis=axis, keepdims=True)
