"""One derivative per kind signature of the arguments, made on first use, as a JIT does.

The API's wrappers ask ``Specializations`` for the derivative fitting a call's arguments. The
signature of a call is cheap to take: the type of a number or an object, the item types of a
list, which axes of an array have length 1 (so also its number of dimensions); only a signature
never seen before is turned into kinds and a derivative made for them.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ad_transpile.kinds import FLOAT, INT, Kind, kind_of_value, list_of, shaped_array

LIST_OF_FLOATS, LIST_OF_INTS = list_of(FLOAT), list_of(INT)
NUMBER_TYPES = frozenset({float, np.float64, int})
LOOKED_INTO = (list, tuple, np.ndarray)


class Specializations:
    """The derivatives of one function made so far, by the signatures of their arguments."""

    def __init__(self, make: Callable[[tuple[Kind, ...]], Callable]) -> None:
        self.make = make
        self.by_types: dict[tuple[type, ...], Callable] = {}  # for arguments of plain types
        self.by_signature: dict[tuple, Callable] = {}
        self.by_kinds: dict[tuple[Kind, ...], Callable] = {}

    def __call__(self, args: tuple[Any, ...]) -> Callable:
        signature = tuple(map(signature_of, args))
        found = self.by_signature.get(signature)
        if found is None:
            kinds = tuple(map(kind_of_argument, args))
            found = self.by_kinds.get(kinds)
            if found is None:
                found = self.by_kinds[kinds] = self.make(kinds)
            self.by_signature[signature] = found
            types = tuple(map(type, args))
            if not any(issubclass(t, LOOKED_INTO) for t in types):
                self.by_types[types] = found
        return found


def signature_of(value: Any) -> Any:
    """What tells the kind of ``value``, quick to take and to hash: its type, but for a list
    (its items' types), an array (which of its axes have length 1, and its dtype) and a tuple
    (its items' kinds)."""
    kind = type(value)
    if kind is list:
        types = set(map(type, value))
        if value and types <= NUMBER_TYPES:
            return "list[float]" if types - {int} else "list[int]"
        return kind_of_value(value)
    if kind is np.ndarray:
        return "ndarray", tuple(n == 1 for n in value.shape), value.dtype.kind
    if issubclass(kind, LOOKED_INTO):
        return kind_of_value(value)
    return kind


def kind_of_argument(value: Any) -> Kind:
    """``kind_of_value``, with the common kinds made once."""
    signature = signature_of(value)
    if signature == "list[float]":
        return LIST_OF_FLOATS
    if signature == "list[int]":
        return LIST_OF_INTS
    if type(value) is np.ndarray and value.dtype.kind in "biuf":
        return shaped_array(value.shape)
    return kind_of_value(value)
