"""Tree-level layout for the emitter: imports in isort's order and docstrings that fit a line.

A formatter does neither: black leaves imports where they are and docstrings as long as they
are, so ``ruff check`` (I001, E501) would flag a generated file that ``ruff format`` accepts.

    import numpy as np              import math
    TAU = 2 * math.pi        ->
    import math                     import numpy as np
                                    TAU = 2 * math.pi
"""

from __future__ import annotations

import functools
import sys
import textwrap

import gast

from ad_transpile.trees import walk

LINE_LENGTH = 88  # black's and ruff's default


def import_groups(module: gast.Module) -> tuple[gast.Module, list[int]]:
    """``module`` with its module-level imports first, in isort's sections and order.

    Also returns where each section after the first starts (statement positions), so that the
    emitter can put a blank line there. An import binds a name and reads none the module
    defines, so moving it above the module's constants changes nothing they compute.
    """
    body = module.body
    end = next((i for i, s in enumerate(body) if not _is_module_level(s)), len(body))
    imports = [single for s in body[:end] if isinstance(s, (gast.Import, gast.ImportFrom))
               for single in _split(s)]
    rest = [s for s in body[:end] if not isinstance(s, (gast.Import, gast.ImportFrom))]
    sections: dict[int, list[gast.stmt]] = {}
    for stmt in imports:
        sections.setdefault(_section(stmt), []).append(stmt)
    ordered, starts = [], []
    for section in sorted(sections):
        if ordered:
            starts.append(len(ordered))
        ordered += sorted(sections[section], key=_sort_key)
    for stmt in ordered:
        if isinstance(stmt, gast.ImportFrom):
            stmt.names = sorted(stmt.names, key=lambda a: _member_key(a.name))
    laid = gast.Module(body=[*ordered, *rest, *body[end:]], type_ignores=module.type_ignores)
    return laid, starts


def wrap_docstrings(module: gast.Module) -> gast.Module:
    """``module`` with each docstring that has a line too long re-wrapped, paragraph by paragraph.

    Black never wraps a docstring; the runtime helpers' docstrings are written for a longer line.
    Changes ``module`` in place.
    """
    for node in walk(module):
        if isinstance(node, gast.FunctionDef) and node.body and _is_docstring(node.body[0]):
            constant = node.body[0].value
            indent = " " * (4 * (_depth(module, node) + 1))
            if not _fits(constant.value, LINE_LENGTH - len(indent)):
                constant.value = _wrapped(constant.value, LINE_LENGTH - len(indent), indent)
    return module


def _fits(text: str, width: int) -> bool:
    """Whether the docstring ``text`` fits as black lays it out: quotes on its first and last."""
    sizes = [len(line.strip()) for line in text.split("\n")]
    sizes[0] += 3
    sizes[-1] += 3
    return max(sizes) <= width


@functools.lru_cache(maxsize=1024)  # the same runtime helpers' docstrings, file after file
def _wrapped(text: str, width: int, indent: str) -> str:
    """``text`` wrapped so that every line, with the quotes before or after it, fits."""
    first, _, rest = text.strip().partition("\n")
    paragraphs = [" ".join(p.split()) for p in (first + "\n" + textwrap.dedent(rest)).split("\n\n")]
    if len(paragraphs) == 1 and len(paragraphs[0]) + 6 > width:
        width -= 3  # one paragraph: its last line has the closing quotes
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += [""] if lines else []
        lines += _balanced(paragraph, width - 3)
    return lines[0] + "".join(f"\n{indent}{line}" if line else "\n" for line in lines[1:])


def _balanced(paragraph: str, width: int) -> list[str]:
    """The lines of ``paragraph`` in as few lines as ``width`` allows, broken after a comma or
    a colon where one is at hand, else of even lengths."""
    fewest = len(_wrap(paragraph, width))
    choices = [_wrap(paragraph, w) for w in range(len(paragraph) // fewest, width + 1)]
    choices = [lines for lines in choices if len(lines) == fewest]
    return max(choices, key=lambda lines: sum(line[-1] in ",:;" for line in lines[:-1]))


def _wrap(paragraph: str, width: int) -> list[str]:
    return textwrap.wrap(paragraph, width, break_long_words=False, break_on_hyphens=False)


def _depth(module: gast.Module, target: gast.AST) -> int:
    """How many function or class definitions enclose ``target``."""
    def search(node: gast.AST, depth: int) -> int | None:
        for child in gast.iter_child_nodes(node):
            if child is target:
                return depth
            inner = depth + isinstance(child, (gast.FunctionDef, gast.ClassDef))
            found = search(child, inner)
            if found is not None:
                return found
        return None
    return search(module, 0) or 0


def _is_docstring(stmt: gast.stmt) -> bool:
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant) and isinstance(
        stmt.value.value, str)


def _is_module_level(stmt: gast.stmt) -> bool:
    return isinstance(stmt, (gast.Import, gast.ImportFrom, gast.Assign, gast.AnnAssign))


def _split(stmt: gast.stmt) -> list[gast.stmt]:
    """``import a, b`` as two statements, as isort writes it."""
    if isinstance(stmt, gast.Import) and len(stmt.names) > 1:
        return [gast.Import(names=[alias]) for alias in stmt.names]
    return [stmt]


def _section(stmt: gast.stmt) -> int:
    """isort's sections: __future__, the standard library, everything else, relative."""
    if isinstance(stmt, gast.ImportFrom) and stmt.level:
        return 3
    module = stmt.module if isinstance(stmt, gast.ImportFrom) else stmt.names[0].name
    top = module.split(".")[0]
    return 0 if top == "__future__" else 1 if top in sys.stdlib_module_names else 2


def _sort_key(stmt: gast.stmt) -> tuple:
    """Plain imports before ``from`` imports, each by module name, as ruff's isort sorts."""
    if isinstance(stmt, gast.Import):
        alias = stmt.names[0]
        return (0, alias.name.lower(), alias.name, alias.asname or "")
    return (1, (stmt.module or "").lower(), stmt.module or "", "")


def _member_key(name: str) -> tuple:
    """Constants, then classes, then everything else (isort's order by type)."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return (kind, name.lower(), name)
