"""What kind of value a NumPy function gives: a rule per function or family.

Elementwise functions broadcast (numbers in, a number out; an array in, an array out), a
reduction over every axis gives a number and over one axis drops it, constructors make arrays
of the number of dimensions their shape has. A function not listed gives ``UNKNOWN``.
"""

from __future__ import annotations

import gast

from ad_transpile.kinds import BOOL, FLOAT, INT, UNKNOWN, Kind, array, item_of
from ad_transpile.numpy_dims import dims_of_call

ELEMENTWISE = {f"numpy.{n}" for n in (
    "sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh arccosh arctanh exp exp2 "
    "expm1 log log1p log2 log10 sqrt cbrt square reciprocal power hypot abs absolute fabs "
    "negative add subtract multiply divide true_divide maximum minimum fmax fmin logaddexp "
    "sign floor ceil round rint trunc mod fmod remainder clip where heaviside sinc deg2rad "
    "rad2deg degrees radians float64 copysign float_power nan_to_num "
    "acos asin atan atan2 acosh asinh atanh pow"
).split()}
ELEMENTWISE |= {f"scipy.special.{n}" for n in (
    "expit logit erf erfc erfinv ndtr log_ndtr gamma gammaln digamma polygamma xlogy xlog1py"
).split()}
PREDICATES = {f"numpy.{n}" for n in (
    "isnan isinf isfinite greater less greater_equal less_equal equal not_equal logical_and "
    "logical_or logical_not signbit").split()}
REDUCTIONS = {f"numpy.{n}" for n in (
    "sum mean prod max min amax amin std var nansum nanmean median average ptp "
    "linalg.norm").split()} | {"scipy.special.logsumexp"}
INDEX_REDUCTIONS = {"numpy.argmax", "numpy.argmin"}
WHOLE_REDUCTIONS = {"numpy.any", "numpy.all"}
CONSTRUCTORS = {"numpy.zeros", "numpy.ones", "numpy.empty", "numpy.full"}
LIKE = {"numpy.zeros_like", "numpy.ones_like", "numpy.empty_like", "numpy.full_like",
        "numpy.copy", "numpy.asarray", "numpy.ascontiguousarray", "numpy.ndarray.T",
        "numpy.rollaxis", "numpy.permute_dims", "numpy.matrix_transpose",
        "numpy.transpose", "numpy.flip", "numpy.diff", "numpy.roll", "numpy.ndarray.astype",
        "numpy.astype", "scipy.special.softmax", "scipy.special.log_softmax",
        "numpy.linalg.cholesky", "numpy.linalg.pinv", "numpy.linalg.matrix_power",
        "numpy.linalg.matrix_transpose"}
# along one axis, or over the array flattened where the axis is None (the default of cumsum)
FLATTENED_WITHOUT_AXIS = {"numpy.cumsum": True, "numpy.cumprod": True, "numpy.sort": False,
                          "numpy.argsort": False}
ONE_DIMENSIONAL = {"numpy.arange", "numpy.ravel", "numpy.ndarray.flatten"}
TWO_DIMENSIONAL = {"numpy.eye", "numpy.identity", "numpy.outer", "numpy.linalg.outer",
                   "numpy.column_stack"}
SIZES = {"numpy.size", "numpy.ndim"}


def kind_of_numpy_call(qualname: str, node: gast.expr, args: list[Kind], evaluate) -> Kind:
    """The kind of the NumPy call ``node`` whose positional arguments have the kinds ``args``."""
    keywords = {k.arg: k.value for k in getattr(node, "keywords", [])}
    shown = dims_of_call(qualname, node, args, keywords)
    if shown is not None:
        return shown
    if qualname in ELEMENTWISE:
        return _broadcast(args, FLOAT)
    if qualname in PREDICATES:
        return _broadcast(args, BOOL)
    if qualname in REDUCTIONS | INDEX_REDUCTIONS | WHOLE_REDUCTIONS:
        return _reduction(qualname, node, args, keywords)
    if qualname in CONSTRUCTORS:
        shape = node.args[0] if node.args else keywords.get("shape")
        return array(_length_of_shape(shape, evaluate))
    if qualname in LIKE:
        first = args[0] if args else UNKNOWN
        if first.is_array:
            return array(first.ndim)
        return array(0) if first.is_number else array(None)
    if qualname in ("numpy.array", "numpy.stack"):
        return _joined(qualname, args, keywords)
    if qualname in FLATTENED_WITHOUT_AXIS:
        return _along_axis(qualname, node, args, keywords)
    if qualname in ("numpy.linspace", "numpy.logspace"):  # ends that are arrays add axes
        return array(1) if args[:2] and all(a.is_number for a in args[:2]) else array(None)
    if qualname in ONE_DIMENSIONAL:
        return array(1)
    if qualname in TWO_DIMENSIONAL:
        return array(2)
    if qualname in SIZES:
        return INT
    if qualname in ("numpy.linalg.eigvalsh", "numpy.linalg.svdvals"):  # one value a row
        first = args[0] if args else UNKNOWN
        return array(first.ndim - 1 if first.is_array and first.ndim else None)
    if qualname in ("numpy.dot", "numpy.matmul", "numpy.inner"):
        return _product(args)
    if qualname in ("numpy.concatenate", "numpy.concat") and args \
            and args[0].name in ("list", "tuple") \
            and not (_positional(node)[1:] or keywords.keys() - {"axis"}):
        item = item_of(args[0])  # arrays joined along an axis they have: as many axes
        if _is_none(keywords.get("axis", gast.Constant(value=0, kind=None))):
            return array(1)
        return item if item.is_array and item.ndim else array(None)
    if qualname in ("numpy.reshape", "numpy.expand_dims", "numpy.squeeze", "numpy.tile",
                    "numpy.broadcast_to", "numpy.concatenate", "numpy.concat", "numpy.tensordot",
                    "numpy.einsum", "numpy.meshgrid"):
        return array(None)
    return UNKNOWN


def _along_axis(qualname: str, node: gast.expr, args: list[Kind], keywords: dict) -> Kind:
    """``np.cumsum(a, axis)``: ``a``'s dimensions along an axis, one over ``a`` flattened."""
    first = args[0] if args else UNKNOWN
    if not first.is_array:
        return array(1) if first.is_number else array(None)
    positional = _positional(node)
    axis = keywords.get("axis", positional[1] if len(positional) > 1 else None)
    flattened = _is_none(axis) if "axis" in keywords or len(positional) > 1 else \
        FLATTENED_WITHOUT_AXIS[qualname]
    return array(1) if flattened or first.ndim == 1 else array(first.ndim)


def _positional(node: gast.expr) -> list[gast.expr]:
    """The positional arguments, a method's receiver first (``a.cumsum(1)``: ``a``, ``1``)."""
    receiver = [node.func.value] if getattr(node, "receiver", False) else []
    return receiver + list(getattr(node, "args", []))


def _broadcast(kinds: list[Kind], number: Kind) -> Kind:
    if kinds and all(k.is_number for k in kinds):
        return number
    if kinds and all(k.is_number or k.is_array for k in kinds):
        ndims = [k.ndim for k in kinds if k.is_array]
        return array(None if None in ndims else max(ndims))
    return UNKNOWN  # a list argument is converted to an array of dimensions we do not track


def _reduction(qualname: str, node: gast.expr, args: list[Kind], keywords: dict) -> Kind:
    first = args[0] if args else UNKNOWN
    number = INT if qualname in INDEX_REDUCTIONS else (
        BOOL if qualname in WHOLE_REDUCTIONS else FLOAT)
    axis = keywords.get("axis")
    place = 2 if qualname == "numpy.linalg.norm" else 1  # norm(x, ord, axis)
    if axis is None and len(args) > place:
        axis = _positional(node)[place]
    if len(args) > place + 1:  # keepdims among the other options, given by place
        return array(None) if first.is_array else UNKNOWN
    if _is_none(axis) and "keepdims" not in keywords and "out" not in keywords:
        return number  # over every axis of anything array-like: one number
    kept = keywords.get("keepdims")
    if first.is_array and isinstance(kept, gast.Constant) and kept.value is True \
            and "out" not in keywords:
        return first  # keepdims=True: as many dimensions as ``a``
    if first.is_array and first.ndim is not None and "keepdims" not in keywords \
            and isinstance(axis, gast.Constant) and type(axis.value) is int:
        left = first.ndim - 1
        return number if left == 0 else array(left)
    return array(None) if first.is_array else UNKNOWN


def _joined(qualname: str, args: list[Kind], keywords: dict) -> Kind:
    """``np.array(xs)`` / ``np.stack(xs)``: one more dimension than the items have."""
    if not args or keywords.keys() - {"dtype"}:
        return array(None)
    first = args[0]
    if first.is_array:
        return array(first.ndim if qualname == "numpy.array" else None)
    if first.is_number:
        return array(0) if qualname == "numpy.array" else UNKNOWN
    if first.name in ("list", "tuple"):
        item = item_of(first)
        if item.is_number:
            return array(1)
        if item.is_array and item.ndim is not None:
            return array(item.ndim + 1)
        if item.name in ("list", "tuple") and item_of(item).is_number:
            return array(2)
    return array(None)


def _product(args: list[Kind]) -> Kind:
    if len(args) != 2 or not all(a.is_array and a.ndim is not None for a in args):
        return array(None) if any(a.is_array for a in args) else UNKNOWN
    a, b = args
    if a.ndim == b.ndim == 1:
        return FLOAT
    if max(a.ndim, b.ndim) > 2:  # dot and matmul stack dimensions differently
        return array(None)
    ndim = max(a.ndim, b.ndim, 2) - (a.ndim == 1) - (b.ndim == 1)
    return FLOAT if ndim == 0 else array(ndim)


def _length_of_shape(shape: gast.expr | None, evaluate) -> int | None:
    if shape is None:
        return None
    if isinstance(shape, gast.Tuple):
        return len(shape.elts)
    kind = evaluate.kind(shape)
    if kind.name == "int":
        return 1
    if kind.name == "tuple":
        return len(kind.items)
    return None


def _is_none(node: gast.expr | None) -> bool:
    return node is None or (isinstance(node, gast.Constant) and node.value is None)
