"""Partial derivatives of ``scipy.special``'s elementwise functions; ``result`` is the value.

SciPy is an optional dependency: this file is read as text, like every rule file, so nothing
here imports SciPy unless the user's own code does, and the derivatives it writes call only
what the function called (``scipy.special`` and NumPy). The derivative of ``gammaln`` is
``digamma``, whose own is ``polygamma(1, x)``: each has a rule, so they differentiate again.
"""

import numpy as np
import scipy.special

from ad_transpile.rulebook import partials


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

