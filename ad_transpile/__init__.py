"""ad-transpile: a source-to-source differentiating transpiler for Python (``f`` -> ``fpr``)."""

from ad_transpile.api import check_grad, grad, hessian, jvp, source, value_and_grad, vjp
from ad_transpile.decorator import differentiable
from ad_transpile.errors import TranspileError
from ad_transpile.version import __version__

__all__ = [
    "TranspileError",
    "__version__",
    "check_grad",
    "differentiable",
    "grad",
    "hessian",
    "jvp",
    "source",
    "value_and_grad",
    "vjp",
]
