"""How many dimensions the NumPy calls that change them give, where the source shows it.

``np.reshape(a, (4, 3))`` has two, ``np.stack([a, b])`` one more than ``a``,
``np.einsum("ij,jk->ik", a, b)`` as many as its output has letters. Where the arguments do not
show it (a shape held in a variable, ``...`` in the subscripts), the answer is None and
``numpy_kinds`` gives its coarser one.
"""

from __future__ import annotations

import gast

from ad_transpile.kinds import FLOAT, Kind, array, item_of


def dims_of_call(qualname: str, node: gast.expr, args: list[Kind],
                 keywords: dict[str, gast.expr]) -> Kind | None:
    """The kind of the call ``node`` (arguments of kinds ``args``), or None if not known here."""
    positional = _positional(node)
    first = args[0] if args else None
    if first is None or len(positional) != len(args):
        return None
    ndim = first.ndim if first.is_array else (0 if first.is_number else None)
    rule = _RULES.get(qualname)
    if rule is None or keywords.keys() - _OPTIONS.get(qualname, set()):
        return None
    found = rule(ndim, positional, args, keywords)
    if found is None:
        return None
    return FLOAT if found == 0 and qualname in _PRODUCTS else (array(found) if found else None)


def _reshape(ndim, positional, args, keywords):
    shape = positional[1:]
    if len(shape) == 1:
        return _length(shape[0], args[1])
    return len(shape) if shape and all(a.name == "int" for a in args[1:]) else None


def _expand_dims(ndim, positional, args, keywords):
    if ndim is None or len(positional) != 2:
        return None
    axis = positional[1]
    if isinstance(axis, gast.Tuple):
        return ndim + len(axis.elts) if all(_is_int(e) for e in axis.elts) else None
    return ndim + 1 if _is_int(axis) else None


def _squeeze(ndim, positional, args, keywords):
    axis = keywords.get("axis", positional[1] if len(positional) > 1 else None)
    if ndim is None or axis is None or not _is_int(axis):
        return None
    return ndim - 1 if ndim > 1 else None


def _tile(ndim, positional, args, keywords):
    if ndim is None or len(positional) != 2:
        return None
    reps = _length(positional[1], args[1])
    return max(ndim, reps) if reps is not None else None


def _broadcast_to(ndim, positional, args, keywords):
    return _length(positional[1], args[1]) if len(positional) == 2 else None


def _stack(ndim, positional, args, keywords):
    item = _items(positional, args)
    return item + 1 if item is not None else None


def _hstack(ndim, positional, args, keywords):
    item = _items(positional, args)
    return None if item is None else max(item, 1)


def _vstack(ndim, positional, args, keywords):
    item = _items(positional, args)
    return None if item is None else max(item, 2)


def _linspace(ndim, positional, args, keywords):
    ends = args[:2]
    if len(ends) < 2 or not all(e.is_number or (e.is_array and e.ndim is not None)
                                for e in ends):
        return None
    return 1 + max(0 if e.is_number else e.ndim for e in ends)


def _einsum(ndim, positional, args, keywords):
    subscripts = positional[0]
    if not (isinstance(subscripts, gast.Constant) and isinstance(subscripts.value, str)):
        return None
    text = subscripts.value.replace(" ", "")
    if "." in text:
        return None
    inputs, arrow, output = text.partition("->")
    if not arrow:  # implicit: the letters used once
        output = "".join(c for c in set(inputs) if c.isalpha() and inputs.count(c) == 1)
    return len(output)


def _tensordot(ndim, positional, args, keywords):
    if len(args) < 2 or not all(a.is_array and a.ndim is not None for a in args[:2]):
        return None
    axes = keywords.get("axes", positional[2] if len(positional) > 2 else None)
    if axes is None:
        count = 2
    elif _is_int(axes):
        count = _int(axes)
    elif isinstance(axes, (gast.Tuple, gast.List)) and len(axes.elts) == 2:
        sides = [e.elts if isinstance(e, (gast.Tuple, gast.List)) else [e] for e in axes.elts]
        if len(sides[0]) != len(sides[1]) or not all(_is_int(e) for s in sides for e in s):
            return None
        count = len(sides[0])
    else:
        return None
    return args[0].ndim + args[1].ndim - 2 * count


def _inner(ndim, positional, args, keywords):
    if len(args) != 2 or not all(a.is_array and a.ndim for a in args):
        return None
    return args[0].ndim + args[1].ndim - 2


def _dot(ndim, positional, args, keywords):
    if len(args) != 2 or not all(a.is_array and a.ndim for a in args):
        return None
    a, b = args[0].ndim, args[1].ndim
    return a - 1 if b == 1 else a + b - 2


def _take(ndim, positional, args, keywords):
    """``np.take(a, indices, axis)``: the index's dimensions in place of the axis, or alone
    where ``a`` is taken flattened (``axis=None``)."""
    if len(args) != 2 or not (args[1].is_array or args[1].name == "int"):
        return None
    picked = args[1].ndim if args[1].is_array else 0
    axis = keywords.get("axis", positional[2] if len(positional) > 2 else None)
    if picked is None or not (axis is None or _is_none(axis) or _is_int(axis)):
        return None
    if axis is None or _is_none(axis):
        return picked
    return None if ndim is None else ndim - 1 + picked


def _append(ndim, positional, args, keywords):
    """``np.append(arr, values, axis)``: one axis where both are flattened (``axis=None``),
    ``arr``'s where they are joined along an axis."""
    axis = keywords.get("axis", positional[2] if len(positional) > 2 else None)
    if axis is None or _is_none(axis):
        return 1
    return ndim if _is_int(axis) else None


def _gradient(ndim, positional, args, keywords):
    """``np.gradient(f, ..., axis=k)``, or of a vector: one array of ``f``'s dimensions (along
    several axes it is a list of them)."""
    axis = keywords.get("axis")
    return ndim if ndim == 1 or (axis is not None and _is_int(axis)) else None


def _vdot(ndim, positional, args, keywords):  # both flattened: a number
    return 0


_RULES = {
    "numpy.reshape": _reshape, "numpy.ndarray.reshape": _reshape,
    "numpy.expand_dims": _expand_dims, "numpy.squeeze": _squeeze, "numpy.tile": _tile,
    "numpy.broadcast_to": _broadcast_to, "numpy.stack": _stack, "numpy.hstack": _hstack,
    "numpy.vstack": _vstack, "numpy.linspace": _linspace, "numpy.einsum": _einsum,
    "numpy.tensordot": _tensordot, "numpy.inner": _inner, "numpy.dot": _dot,
    "numpy.take": _take, "numpy.append": _append,
    "numpy.vdot": _vdot, "numpy.gradient": _gradient,
}
_OPTIONS = {"numpy.reshape": {"order"}, "numpy.ndarray.reshape": {"order"},
            "numpy.squeeze": {"axis"}, "numpy.linspace": {"endpoint"},
            "numpy.tensordot": {"axes"}, "numpy.stack": {"axis"}, "numpy.take": {"axis"},
            "numpy.append": {"axis"}, "numpy.gradient": {"axis", "edge_order"}}
_PRODUCTS = {"numpy.einsum", "numpy.tensordot", "numpy.inner", "numpy.dot",
             "numpy.take", "numpy.vdot"}  # 0 dimensions: a number


def _items(positional, args) -> int | None:
    """The dimensions of each of the arrays a literal list of them joins (numbers: 0)."""
    if len(positional) != 1 or not isinstance(positional[0], (gast.List, gast.Tuple)):
        return None
    item = item_of(args[0])
    if item.is_number:
        return 0
    return item.ndim if item.is_array else None


def _is_none(expr: gast.expr) -> bool:
    return isinstance(expr, gast.Constant) and expr.value is None


def _length(shape: gast.expr, kind: Kind) -> int | None:
    """The number of entries of a shape: a literal tuple's, or one for an int."""
    if isinstance(shape, gast.Tuple):
        return len(shape.elts)
    if kind.name == "tuple" and all(item.name == "int" for item in kind.items):
        return len(kind.items)
    return 1 if kind.name == "int" else None


def _is_int(expr: gast.expr) -> bool:
    return _int(expr) is not None


def _int(expr: gast.expr) -> int | None:
    if isinstance(expr, gast.Constant) and type(expr.value) is int:
        return expr.value
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        value = _int(expr.operand)
        return None if value is None else -value
    return None


def _positional(node: gast.expr) -> list[gast.expr]:
    receiver = [node.func.value] if getattr(node, "receiver", False) else []
    return receiver + list(getattr(node, "args", []))
