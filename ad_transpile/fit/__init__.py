"""Fitting programs to soft unit tests by gradient descent on the generated derivative.

``ad_transpile.fit`` the attribute is the function :func:`~ad_transpile.fit.driver.fit`; import
the rest from the modules: ``from ad_transpile.fit.optimizers import Adam``.
"""

from ad_transpile.fit.driver import fit, fit_program
from ad_transpile.fit.errors import FitError
from ad_transpile.fit.optimizers import OPTIMIZERS, Adam, Backtracking, GradientDescent, Momentum
from ad_transpile.fit.result import FitResult, Run
from ad_transpile.fit.scores import SCORES, Score, huber
from ad_transpile.fit.tests_data import SoftTest, load_tests, soft_test

__all__ = [
    "OPTIMIZERS",
    "SCORES",
    "Adam",
    "Backtracking",
    "FitError",
    "FitResult",
    "GradientDescent",
    "Momentum",
    "Run",
    "Score",
    "SoftTest",
    "fit",
    "fit_program",
    "huber",
    "load_tests",
    "soft_test",
]
