"""ad-transpile: a source-to-source differentiating transpiler for Python (``f`` -> ``fpr``)."""

from ad_transpile.api import (
    check_grad,
    grad,
    hessian,
    hvp,
    jvp,
    source,
    value_and_grad,
    vjp,
)
from ad_transpile.decorator import differentiable
from ad_transpile.errors import TranspileError
from ad_transpile.fit import FitError, FitResult, soft_test
from ad_transpile.fit import fit as fit  # the function; the subpackage stays ad_transpile.fit.*
from ad_transpile.rulebook import (
    adjoints,
    batched_tangents,
    nondifferentiable,
    partials,
    tangents,
)
from ad_transpile.version import __version__

__all__ = [
    "FitError",
    "FitResult",
    "TranspileError",
    "__version__",
    "adjoints",
    "batched_tangents",
    "check_grad",
    "differentiable",
    "fit",
    "grad",
    "hessian",
    "hvp",
    "jvp",
    "nondifferentiable",
    "partials",
    "soft_test",
    "source",
    "stop_gradient",
    "tangents",
    "value_and_grad",
    "vjp",
]


def stop_gradient(value):
    """``value`` itself, through which no derivative flows (a constant to the transpiler)."""
    return value
