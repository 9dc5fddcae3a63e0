"""Readable, deterministic names for generated code: ``fpr``, ``d_x``, ``omega_x``, ``_t1``."""

from __future__ import annotations

import keyword
import re

MAX_HINT = 20


def derivative_name(name: str) -> str:
    """``f`` -> ``fpr`` ("f prime"), ``fpr`` -> ``fprpr``; ``loss`` -> ``loss_pr``."""
    if re.fullmatch(r".(pr)*|.*_pr(pr)*", name):
        return name + "pr"
    return name + "_pr"


class Namer:
    """Hands out names no other name in the module uses, from hints or a counter."""

    def __init__(self, taken: set[str], prefix: str = "d_") -> None:
        self.taken = set(taken)
        self.prefix = prefix  # of derivatives: ``t_`` for tangents where ``d_`` are adjoints
        self.counter = 0
        self.adjoints: dict[str, str] = {}
        self.derivatives: set[str] = set()  # every tangent or adjoint name handed out

    def fresh(self, hint: str | None = None) -> str:
        if hint and hint.isidentifier() and len(hint) <= MAX_HINT and self.claim(hint):
            return hint
        while True:
            self.counter += 1
            if self.claim(f"_t{self.counter}"):
                return f"_t{self.counter}"

    def claim(self, name: str) -> bool:
        if name in self.taken or keyword.iskeyword(name):
            return False
        self.taken.add(name)
        return True

    def numbered(self, base: str) -> str:
        """``base`` if free, else ``base_2``, ``base_3``...: for names a reader looks up."""
        k = 1
        name = base
        while not self.claim(name):
            k += 1
            name = f"{base}_{k}"
        return name

    def version(self, name: str) -> str:
        """A new name for a variable that is assigned again: ``x`` -> ``x_1``."""
        k = 1
        while not self.claim(f"{name}_{k}"):
            k += 1
        return f"{name}_{k}"

    def derivative(self, var: str) -> str:
        """The name of the tangent or adjoint of ``var``: ``d_x``, and ``d_t1`` for ``_t1``
        (``t_d_x`` for the tangent of the adjoint ``d_x``, at order 2)."""
        if var not in self.adjoints:
            base = f"{self.prefix}{var.lstrip('_')}"
            name, k = base, 1
            while not self.claim(name):
                k += 1
                name = f"{base}_{k}"
            self.adjoints[var] = name
            self.derivatives.add(name)
        return self.adjoints[var]
