"""Emit pass: turn the generated module tree into deterministic, commented source text.

The only module that calls ``astor``. The text is parsed again and compared with the tree it came
from, as black checks its own output: a mismatch is an internal error, never a file. A statement
with a ``comment`` attribute gets that comment on the line above it.
"""

from __future__ import annotations

import ast
import copy

import astor
import gast

from ad_transpile.header import Header

MARKER = "__ad_transpile_comment_{}__"


def emit(module: gast.Module, header: Header) -> str:
    """The source text of ``module``, below ``header``."""
    marked, comments = _comment_markers(module)
    text = astor.to_source(_to_ast(marked))
    lines = []
    for line in text.splitlines():
        key = line.strip().strip("'\"")
        if key in comments:
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(f"{indent}# {comments[key]}")
        else:
            lines.append(line)
    result = header.above(_blank_lines(lines) + "\n")
    _check_round_trip(result, _to_ast(module))
    return result


def _to_ast(module: gast.Module) -> ast.Module:
    tree = gast.gast_to_ast(copy.deepcopy(module))
    return ast.fix_missing_locations(tree)


def _comment_markers(module: gast.Module) -> tuple[gast.Module, dict[str, str]]:
    """A copy of ``module`` with a marker string statement above each commented statement."""
    marked = copy.deepcopy(module)
    comments: dict[str, str] = {}
    for node in gast.walk(marked):
        for field in ("body", "orelse"):
            body = getattr(node, field, None)
            if not isinstance(body, list):
                continue
            new_body = []
            for stmt in body:
                comment = getattr(stmt, "comment", None)
                if comment:
                    key = MARKER.format(len(comments))
                    comments[key] = comment
                    new_body.append(gast.Expr(value=gast.Constant(value=key, kind=None)))
                new_body.append(stmt)
            setattr(node, field, new_body)
    return marked, comments


def _blank_lines(lines: list[str]) -> str:
    """Two blank lines around top-level definitions, as PEP 8 asks."""
    out: list[str] = []
    for line in lines:
        if line.startswith(("def ", "class ")) and out:
            while out and out[-1] == "":
                out.pop()
            out += ["", ""]
        out.append(line)
    return "\n".join(out).strip("\n")


def _check_round_trip(text: str, expected: ast.Module) -> None:
    if ast.dump(ast.parse(text)) != ast.dump(expected):
        raise AssertionError(
            "internal error: the emitted text does not mean the generated tree\n" + text
        )
