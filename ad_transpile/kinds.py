"""Kinds of values: what the value model knows of a value (a number, a list, an array...).

A kind is never a guess: ``UNKNOWN`` stands for "may be anything", and every pass that reads a
kind treats ``UNKNOWN`` as it treated every value before the model existed (it may be an array).
Kinds come from the source (literals, annotations), the command line (``--arg xs=list[float]``)
and the live arguments of a call (``kind_of_value``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np

NUMBER_NAMES = ("bool", "int", "float")


@dataclass(frozen=True)
class Kind:
    """``name`` is one of bool, int, float, list, tuple, ndarray, unknown.

    A list has one kind for all its items (``items[0]``), a tuple one per item; an ndarray has
    its number of dimensions where it is known (``ndim``, else None), and where a call or the
    command line tells, what each axis's length is (``dims``): ``1``, or a name for a length
    other than 1 (the same name: the same length; ``"_"``: a length of its own), so that the
    adjoint of broadcasting knows which axes NumPy stretched.
    """

    name: str
    items: tuple[Kind, ...] = ()
    ndim: int | None = None
    dims: tuple[int | str, ...] | None = None

    def __str__(self) -> str:
        if self.name == "list":
            return f"list[{self.items[0]}]"
        if self.name == "tuple":
            return f"tuple[{', '.join(map(str, self.items))}]"
        if self.name == "ndarray" and self.dims is not None and self.dims:
            return f"ndarray[{', '.join(map(str, self.dims))}]"
        if self.name == "ndarray" and self.ndim is not None:
            return f"ndarray[{self.ndim}]"
        return self.name

    @property
    def is_number(self) -> bool:
        return self.name in NUMBER_NAMES

    @property
    def is_array(self) -> bool:
        return self.name == "ndarray"

    @property
    def known(self) -> bool:
        """Known all the way down: no part of it may be an array that the model cannot see."""
        if self.name == "unknown":
            return False
        return all(item.known for item in self.items)

    @property
    def holds_arrays(self) -> bool:
        """Whether the value is, holds, or may be a NumPy array."""
        return self.name in ("ndarray", "unknown") or any(i.holds_arrays for i in self.items)


BOOL, INT, FLOAT, UNKNOWN = Kind("bool"), Kind("int"), Kind("float"), Kind("unknown")


def array(ndim: int | None = None) -> Kind:
    """An ndarray of ``ndim`` dimensions; a 0-d result of indexing is a number, not an array."""
    return Kind("ndarray", ndim=ndim if ndim is None or ndim >= 0 else None)


UNNAMED = "_"  # a length other than 1, equal to no other length we know of


def shaped_array(shape: tuple[int, ...]) -> Kind:
    """The kind of an array of ``shape``: its axes of length 1, the others of their own."""
    return Kind("ndarray", ndim=len(shape), dims=tuple(1 if n == 1 else UNNAMED for n in shape))


def list_of(item: Kind) -> Kind:
    return Kind("list", (item,))


def tuple_of(*items: Kind) -> Kind:
    return Kind("tuple", tuple(items))


def join(a: Kind | None, b: Kind | None) -> Kind | None:
    """The kind of a value that is either an ``a`` or a ``b`` (None: not yet seen)."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    if a.is_number and b.is_number:
        return max(a, b, key=lambda k: NUMBER_NAMES.index(k.name))
    if a.name == b.name == "ndarray":
        return array(a.ndim if a.ndim == b.ndim else None)
    if a.name == b.name == "list":
        return list_of(join(a.items[0], b.items[0]))
    if a.name == b.name == "tuple" and len(a.items) == len(b.items):
        return tuple_of(*(join(x, y) for x, y in zip(a.items, b.items)))
    return UNKNOWN


def item_of(kind: Kind) -> Kind:
    """The kind of what iterating over (or indexing with one int) a ``kind`` gives."""
    if kind.name == "list":
        return kind.items[0]
    if kind.name == "tuple" and kind.items:
        joined = None
        for item in kind.items:
            joined = join(joined, item)
        return joined
    if kind.name == "ndarray" and kind.ndim is not None and kind.ndim >= 1:
        return FLOAT if kind.ndim == 1 else array(kind.ndim - 1)
    return UNKNOWN


def kind_of_value(value: object) -> Kind:
    """The kind of a live value, as a call passes it (the API specializes on this)."""
    kind = _SIMPLE.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, np.ndarray):
        return shaped_array(value.shape) if value.dtype.kind in "biuf" else UNKNOWN
    if isinstance(value, (list, tuple)):
        items = [kind_of_value(v) for v in value]
        if isinstance(value, tuple):
            return tuple_of(*items)
        joined = None
        for item in items:
            joined = join(joined, item)
        return list_of(joined or FLOAT)
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (int, np.integer)):
        return INT
    if isinstance(value, (float, np.floating)):
        return FLOAT
    return UNKNOWN


_SIMPLE = {float: FLOAT, int: INT, bool: BOOL, np.float64: FLOAT}


def parse_kind(text: str) -> Kind:
    """A kind written as on the command line or in an annotation: ``float``, ``list[float]``,
    ``tuple[float, int]``, ``ndarray``, ``ndarray[2]`` (two dimensions), ``np.ndarray``,
    ``ndarray[n, 1]`` (two dimensions: a length ``n`` other than 1, and 1; ``_`` for a length
    other than 1 that no other shares)."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        tree = None
    kind = _kind_of_annotation(tree, lengths=True) if tree is not None else None
    if kind is None:
        raise ValueError(
            f"{text!r} is not a kind: write float, int, bool, list[KIND], tuple[KIND, ...], "
            "ndarray, ndarray[NDIM] or ndarray[n, 1, ...]")
    return kind


def _kind_of_annotation(node: ast.AST, lengths: bool = False) -> Kind | None:
    """The kind an annotation (a standard ``ast`` tree) names, or None if it names no kind.
    Lengths of axes (``ndarray[n, 1]``) are read only where the command line gives them
    (``lengths``): in the source, ``np.ndarray[Any, dtype]`` is a type, not a shape."""
    spelled = _dotted(node)
    if spelled is not None:
        last = spelled.rpartition(".")[2]
        if last in NUMBER_NAMES:
            return Kind(last)
        if last in ("ndarray", "NDArray"):
            return array(None)
        return None
    if isinstance(node, ast.Subscript):
        outer = (_dotted(node.value) or "").rpartition(".")[2]
        inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer in ("list", "List", "Sequence") and len(inner) == 1:
            item = _kind_of_annotation(inner[0], lengths)
            return list_of(item) if item is not None else None
        if outer in ("tuple", "Tuple"):
            items = [_kind_of_annotation(i, lengths) for i in inner]
            return tuple_of(*items) if None not in items and items else None
        if outer == "ndarray" and len(inner) == 1 and isinstance(inner[0], ast.Constant) \
                and type(inner[0].value) is int:
            return array(inner[0].value)
        if lengths and outer == "ndarray" and inner and all(_is_length(i) for i in inner):
            dims = tuple(i.id if isinstance(i, ast.Name) else 1 for i in inner)
            return Kind("ndarray", ndim=len(dims), dims=dims)
        if outer in ("ndarray", "NDArray"):
            return array(None)
    return None


def _is_length(node: ast.AST) -> bool:
    """An axis's length in ``ndarray[n, 1]``: 1, or a name for a length other than 1."""
    return isinstance(node, ast.Name) or (
        isinstance(node, ast.Constant) and type(node.value) is int and node.value == 1)


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _dotted(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    return None


def kind_of_annotation(text: str) -> Kind | None:
    """The kind of an annotation's source text (``xs: list[float]``), None where it names none."""
    try:
        return _kind_of_annotation(ast.parse(text, mode="eval").body)
    except SyntaxError:
        return None
