"""Adjoints that start at the same number, started in one statement: ``d_c = d_k = 0.0``.

The reverse sweep opens with one line per adjoint that starts at zero; a person writes them as
one chained assignment. Only numbers are chained (an array would be one object under several
names), and only statements next to each other. Run last, on the finished function: the passes
before it read one target per assignment (and ``restructure`` splits a chain again when a
derivative is differentiated once more).
"""

from __future__ import annotations

import gast

from ad_transpile.primitives import constant_value, is_constant
from ad_transpile.trees import walk


def chain_equal_starts(fn: gast.FunctionDef) -> gast.FunctionDef:
    for node in walk(fn):
        for part in ("body", "orelse"):
            block = getattr(node, part, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                setattr(node, part, _chained(block))
    return fn


def _chained(block: list[gast.stmt]) -> list[gast.stmt]:
    out: list[gast.stmt] = []
    for stmt in block:
        last = out[-1] if out else None
        if _start(stmt) is not None and last is not None and _start(last) == _start(stmt) \
                and stmt.targets[0].id not in {t.id for t in last.targets}:
            last.targets = [*last.targets, stmt.targets[0]]
            continue
        out.append(stmt)
    return out


def _start(stmt: gast.stmt):
    """``(type, value)`` of ``name = number``, else None."""
    if isinstance(stmt, gast.Assign) and all(isinstance(t, gast.Name) for t in stmt.targets) \
            and is_constant(stmt.value):
        value = constant_value(stmt.value)
        return type(value), value
    return None
