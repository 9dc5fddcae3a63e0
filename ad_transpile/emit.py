"""Emit pass: turn the generated module tree into deterministic, commented source text.

The only module that calls ``astor`` and a formatter: astor writes one statement per line with no
wrapping of its own, and ``ruff format`` (black's style, in a few milliseconds where black takes
a second for a long function) lays the text out, so a generated file is one that ``ruff format``
and ``black`` leave unchanged. The text is parsed again and compared with
the tree it came from: a mismatch is an internal error, never a file. A statement with a
``comment`` attribute gets that comment on the line above it, and one with an ``explanation``
(explain mode's) those lines below it.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import subprocess
import textwrap
import warnings

import gast

from ad_transpile.header import Header
from ad_transpile.layout import LINE_LENGTH, import_groups, wrap_docstrings
from ad_transpile.primitives import copy_tree
from ad_transpile.trees import walk

with warnings.catch_warnings():  # astor reads ast.Num and ast.Str, deprecated since 3.12
    warnings.simplefilter("ignore", DeprecationWarning)
    import astor

MARKER = "__ad_transpile_comment_{}__"
NESTED_TARGET = re.compile(r"^(\s*)([\w ,()]*\([\w ,()]*) = (.*)$")


def emit(module: gast.Module, header: Header) -> str:
    """The source text of ``module``, below ``header``."""
    module, sections = import_groups(wrap_docstrings(copy_tree(module)))
    comments = _insert_comment_markers(module)  # the one copy above is ours to change
    tree = gast.gast_to_ast(module)  # astor reads no line numbers: none are filled in
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        text = astor.to_source(tree, pretty_source="".join)
    lines = []
    for number, line in enumerate(text.splitlines()):
        key = line.strip().strip("'\"")
        if number in sections:  # the imports' statements come first, one line each
            lines.append("")
        if key in comments:
            indent = line[: len(line) - len(line.lstrip())]
            lines += _comment_lines(comments[key], indent)
        else:
            lines.append(_exploded_target(line))
    result = header.above(formatted("\n".join(lines) + "\n"))
    _check_round_trip(result, _without_markers(tree, comments))
    return result


def _comment_lines(comment: tuple[str | None, list[str]], indent: str) -> list[str]:
    """The source line's comment cut to fit, then explain mode's lines wrapped to fit."""
    line, explanation = comment
    width = LINE_LENGTH - len(indent) - 2
    return [_fitted(f"{indent}# {line}")] * bool(line) + [
        f"{indent}# {part}" for text in explanation
        for part in textwrap.wrap(text, width, subsequent_indent="  ")]


def _fitted(comment: str) -> str:
    """A comment cut to the line length, as a formatter never wraps one."""
    if len(comment) <= LINE_LENGTH:
        return comment
    return comment[: LINE_LENGTH - 3].rstrip() + "..."


def _exploded_target(line: str) -> str:
    """A long assignment to nested tuples, with a trailing comma in its outer tuple.

    Black and ruff lay out ``(a, b), (c, d) = call(...)`` too long for a line differently;
    with the comma both put each inner tuple on a line of its own, the same way.
    """
    match = NESTED_TARGET.match(line)
    if len(line) <= LINE_LENGTH or not match:
        return line
    indent, target, value = match.groups()
    tree = ast.parse(target, mode="eval").body
    if not (isinstance(tree, ast.Tuple) and any(isinstance(e, ast.Tuple) for e in tree.elts)
            and ast.dump(tree) == ast.dump(ast.parse(f"{target},", mode="eval").body)):
        return line  # not an unparenthesized tuple of targets
    return f"{indent}({target},) = {value}"


@functools.lru_cache(maxsize=256)
def formatted(text: str) -> str:
    """``text`` as ``ruff format`` lays it out: black's style and line length (88), and no
    settings of the user's (``--isolated``), so the same tree is the same text everywhere."""
    command = [_ruff(), "format", "--isolated", f"--line-length={LINE_LENGTH}",
               "--target-version=py310", "--stdin-filename=generated.py", "-"]
    result = subprocess.run(command, input=text, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError("internal error: ruff format refused the generated text\n"
                             + result.stderr + text)
    return result.stdout


@functools.lru_cache(maxsize=1)
def _ruff() -> str:
    """The ``ruff`` executable that came with the ``ruff`` package (a dependency)."""
    from ruff.__main__ import find_ruff_bin

    return os.fsdecode(find_ruff_bin())


def _without_markers(tree: ast.Module, comments: dict) -> ast.Module:
    """``tree`` as it was before the comment markers went in: what the text must mean."""
    for node in walk(tree):
        for field in ("body", "orelse"):
            body = getattr(node, field, None)
            if isinstance(body, list):
                setattr(node, field, [s for s in body if not _is_marker(s, comments)])
    return tree


def _is_marker(stmt: ast.stmt, comments: dict) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
        and isinstance(stmt.value.value, str) and stmt.value.value in comments


def _insert_comment_markers(module: gast.Module) -> dict[str, tuple[str | None, list[str]]]:
    """Put a marker string statement above each commented statement of ``module``, in place;
    the comment and the explanation (explain mode's lines) of each marker."""
    comments: dict[str, tuple[str | None, list[str]]] = {}
    for node in walk(module):
        for field in ("body", "orelse"):
            body = getattr(node, field, None)
            if not isinstance(body, list):
                continue
            new_body = []
            for stmt in body:
                comment = getattr(stmt, "comment", None)
                explanation = getattr(stmt, "explanation", [])
                if comment or explanation:
                    key = MARKER.format(len(comments))
                    comments[key] = (comment, explanation)
                    new_body.append(gast.Expr(value=gast.Constant(value=key, kind=None)))
                new_body.append(stmt)
            setattr(node, field, new_body)
    return comments


def _check_round_trip(text: str, expected: ast.Module) -> None:
    if _meaning(ast.parse(text)) != _meaning(expected):
        raise AssertionError(
            "internal error: the emitted text does not mean the generated tree\n" + text
        )


def _meaning(tree: ast.Module) -> str:
    """The dump of ``tree`` with docstrings read as black reads them.

    Black re-indents a docstring and may put its closing quotes on a line of their own: that
    changes the string's whitespace, never what the code computes. Changes ``tree``.
    """
    for node in walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and (
                    isinstance(first.value.value, str)):
                lines = first.value.value.splitlines()
                first.value.value = "\n".join(line.strip() for line in lines).strip()
    return ast.dump(tree)
