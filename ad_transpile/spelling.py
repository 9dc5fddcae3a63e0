"""Spell a qualified name the way the generated module can refer to it.

A rule written with ``math.cos`` becomes ``m.cos`` in a module that did ``import math as m``,
``cos`` after ``from math import cos``, and ``math.cos`` with an added ``import math`` otherwise.
"""

from __future__ import annotations

import gast

from ad_transpile.primitives import name

CONVENTIONAL_ALIASES = {"numpy": "np"}
RUNTIME = "ad_transpile.runtime."


class Spelling:
    """Spells names in terms of a module's imports, remembering the imports it had to add."""

    def __init__(self, imports: dict[str, str]) -> None:
        self.imports = imports
        self.added: dict[str, str] = {}  # local name -> module it imports

    def __call__(self, qualname: str) -> gast.expr:
        spelled = self.spell(qualname)
        spelled.spelled = qualname  # what it names, for the passes that follow (simplify)
        return spelled

    def spell(self, qualname: str) -> gast.expr:
        if qualname.startswith("builtins."):
            return name(qualname.removeprefix("builtins."))
        if qualname.startswith(RUNTIME):  # a helper the generated file carries with it
            return name(qualname.removeprefix(RUNTIME))
        bound = {**self.imports, **self.added}
        for local, target in bound.items():
            if target == qualname:
                return name(local)
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            for local, target in bound.items():
                if target == module:
                    return _attributes(local, parts[cut:])
        module = parts[0]
        local = CONVENTIONAL_ALIASES.get(module, module)
        self.added[local] = module
        return _attributes(local, parts[1:])


def _attributes(base: str, attrs: list[str]) -> gast.expr:
    expr: gast.expr = name(base)
    for attr in attrs:
        expr = gast.Attribute(value=expr, attr=attr, ctx=gast.Load())
    return expr
