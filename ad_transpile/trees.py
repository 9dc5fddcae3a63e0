"""Walking a tree fast: ``walk`` as ``ast.walk`` does it, ``children`` where order and
contexts do not matter.

Nearly every pass asks a question of a whole function ("which names are stored?", "is there a
call of ``f``?") by walking it, and ``ast.walk`` spends most of its time in two nested
generators (``iter_child_nodes``, ``iter_fields``) that look at every field of every node,
strings included. On a long function these walks were about a sixth of transpiling. Both walks
here read only the fields of a node's type that can hold a node, looked up once per type.
"""

from __future__ import annotations

import ast
from collections import deque
from typing import Iterator

# fields that hold a string, a number or a flag, never a node
TEXT_FIELDS = frozenset({"id", "attr", "arg", "asname", "module", "level", "conversion",
                         "is_async", "kind", "type_comment"})
# fields that hold a context (Load, Store) or an operator: nodes no question is asked of
MARK_FIELDS = frozenset({"ctx", "op", "ops"})


class _Fields(dict):
    """Node type -> the fields that can hold a node; contexts and operators too if ``marks``.
    Filled as types are met (a dict lookup is all a walk pays per node)."""

    def __init__(self, marks: bool) -> None:
        super().__init__()
        self.skipped = TEXT_FIELDS if marks else TEXT_FIELDS | MARK_FIELDS

    def __missing__(self, kind: type) -> tuple[str, ...]:
        skipped = set(self.skipped)
        if kind.__name__ == "Constant":
            skipped.add("value")
        if kind.__name__ in ("FunctionDef", "AsyncFunctionDef", "ClassDef", "alias"):
            skipped.add("name")
        if kind.__name__ in ("Global", "Nonlocal"):
            skipped.add("names")
        self[kind] = tuple(f for f in kind._fields if f not in skipped)
        return self[kind]


WALKED, CHILDREN = _Fields(marks=True), _Fields(marks=False)


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node`` and ``node`` itself, breadth first, as ``ast.walk`` yields
    them (``gast`` and ``ast`` trees alike). As lazy as it: a node's children are read just
    before the node is yielded, so a caller may change what it has been given."""
    todo = deque([node])
    while todo:
        node = todo.popleft()
        for field_ in WALKED[type(node)]:
            value = getattr(node, field_, None)
            if isinstance(value, ast.AST):
                todo.append(value)
            elif type(value) is list:
                todo.extend([item for item in value if isinstance(item, ast.AST)])
        yield node


def children(node: ast.AST) -> list[ast.AST]:
    """Every expression, statement and helper node (``arguments``, ``keyword``, ...) below
    ``node`` and ``node`` itself, in no set order; contexts and operators are left out. A list
    built in one loop, five times faster than ``ast.walk``: simplify makes this walk over
    every statement in every round."""
    found = []
    stack = [node]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        found.append(node)
        for field_ in CHILDREN[type(node)]:
            value = getattr(node, field_, None)
            if type(value) is list:
                stack += value
            elif value is not None:
                stack.append(value)
    return found
