"""``@differentiable``: transpile and compile a function's derivative when its ``def`` runs."""

from __future__ import annotations

from typing import Callable, TypeVar

from ad_transpile.api import grad, source
from ad_transpile.pipeline import WrtSpec

F = TypeVar("F", bound=Callable)


def differentiable(wrt: WrtSpec = 0, mode: str = "reverse") -> Callable[[F], F]:
    """Attach ``.grad`` (the compiled derivative) and ``.grad_source`` (its text) to a function.

    The function itself is returned unchanged, so it behaves exactly as before::

        @differentiable(wrt="omega")
        def loss(omega, x, y):
            return (math.sin(omega * x) - y) ** 2

        loss.grad(1.5, 0.3, 0.1)

    Written without parentheses, ``@differentiable`` means the defaults (``wrt=0``).
    """

    def decorate(f: F) -> F:
        f.grad_source = source(f, wrt, mode=mode)  # type: ignore[attr-defined]
        f.grad = grad(f, wrt, mode=mode)  # type: ignore[attr-defined]
        return f

    if callable(wrt):  # @differentiable without parentheses: the defaults
        return differentiable()(wrt)
    return decorate
