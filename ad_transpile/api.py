"""The Python API: thin wrappers that transpile a live function and load its derivative."""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
from typing import Any, Callable

import gast
import numpy as np

from ad_transpile import errors, runtime
from ad_transpile.infer import assumed_kinds
from ad_transpile.kinds import UNKNOWN, Kind
from ad_transpile.load import LIVE, LIVE_NAMES, load
from ad_transpile.parse import collect_constants, function_from_object, parse_text
from ad_transpile.pipeline import WrtSpec, transpile
from ad_transpile.records import records_of, refuse_second_derivatives
from ad_transpile.specialize import Specializations
from ad_transpile.trees import walk


def _unbinding(api: Callable) -> Callable:
    """A bound method (``model.loss``) is differentiated as its function, its receiver passed
    as a first argument that is never differentiated (its attributes read as constants)."""

    @functools.wraps(api)
    def unbound(f: Callable, wrt: WrtSpec = 0, **options: Any) -> Any:
        if not inspect.ismethod(f):
            return api(f, wrt, **options)
        made = api(f.__func__, _past_receiver(wrt), **options)
        if not callable(made):  # the text of the derivative
            return made
        receiver = f.__self__

        @functools.wraps(made)
        def with_receiver(*args: Any, **kwargs: Any) -> Any:
            return made(receiver, *args, **kwargs)

        return with_receiver

    return unbound


def _past_receiver(wrt: WrtSpec) -> WrtSpec:
    """``wrt`` of a bound method, for its function: positions count ``self`` too."""
    if isinstance(wrt, (tuple, list)):
        return tuple(_past_receiver(w) for w in wrt)
    is_position = isinstance(wrt, int) and not isinstance(wrt, bool)
    return wrt + 1 if is_position and wrt >= 0 else wrt


@_unbinding
def source(f: Callable, wrt: WrtSpec = 0, *, mode: str = "reverse",
           explain: bool = False) -> str:
    """The text of the derivative module of ``f``: what ``ad-transpile grad`` writes for it
    (with ``explain``, what ``--explain`` writes: rule comments above the derivative lines)."""
    return _transpiled(f, _hashable(wrt), mode, "grad", explain=explain)[0]


@_unbinding
def grad(f: Callable, wrt: WrtSpec = 0, *, mode: str = "reverse") -> Callable:
    """A function with ``f``'s signature returning the derivative of its result along ``wrt``.

    The derivative is made for the kinds of the arguments of the first call (numbers, lists of
    numbers, arrays of so many dimensions) and made again for a call with other kinds.
    """
    return _specialized(f, wrt, mode, "grad")


@_unbinding
def value_and_grad(f: Callable, wrt: WrtSpec = 0, *, mode: str = "reverse") -> Callable:
    """Like :func:`grad`, returning ``(f(*args), gradient)``."""
    return _specialized(f, wrt, mode, "value_and_grad")


def _specialized(f: Callable, wrt: WrtSpec, mode: str, kind: str) -> Callable:
    """The wrapper of :func:`grad` and :func:`value_and_grad`: a lookup of the arguments'
    kinds, then the derivative made for them."""
    wrt = _hashable(wrt)
    general, _ = _differentiable(f, wrt, mode, kind)  # what nothing makes work fails here, now
    signature = inspect.signature(f)
    names = _wrt_names(f, wrt)
    params = list(signature.parameters)
    places = [_place(params, n) for n in names]
    positions = [position for position, _ in places]
    several = isinstance(wrt, tuple)
    records = {r.param for r in records_of(function_from_object(f))}  # a NamedTuple, say

    def make(kinds: tuple[Kind, ...]) -> Callable:
        given = _given(params, kinds)
        if mode == "forward" and any(k.name in ("ndarray", "list", "tuple")
                                     for n, k in given if n in names and n not in records):
            return _forward_on_arrays(f, wrt, kind, given, positions)
        compiled = _compile(f, wrt, mode, kind, given)
        if kind == "grad" and not several:
            first = places[0]

            def gradient(values: tuple, args: tuple, kwargs: dict) -> Any:
                result = compiled(*args, **kwargs)
                point = _value_at(values, first)
                if type(result) is float and type(point) is float:  # as it is
                    return result
                return _like(result, [point], wrt)
            return gradient

        def shaped(values: tuple, args: tuple, kwargs: dict) -> Any:
            result = compiled(*args, **kwargs)
            arguments = [_value_at(values, place) for place in places]
            if kind == "grad":
                return _like(result, arguments, wrt)
            return result[0], _like(result[1], arguments, wrt)
        return shaped

    specializations = Specializations(make)
    made = specializations.by_types
    count = len(params) if all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                               for p in signature.parameters.values()) else -1

    @functools.wraps(general)
    def derivative(*args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != count:  # defaults, keywords: every value, by its name
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = tuple(bound.arguments.values())
            return specializations(values)(values, bound.args, bound.kwargs)
        found = made.get(tuple(map(type, args)))  # the hot path: numbers, as in fitting
        return (found or specializations(args))(args, args, kwargs)

    guarded = _guarded(f, wrt, mode, kind, derivative) if count > 0 else None
    return guarded or derivative


GUARD_TYPES = {"float": float, "int": int, "bool": bool, "list": list, "tuple": tuple,
               "ndarray": np.ndarray}


def _guarded(f: Callable, wrt: WrtSpec, mode: str, kind: str, other: Callable) -> Callable | None:
    """Where the derivative written without seeing a call takes numbers along ``wrt`` (the
    parameters annotated so, or taken for numbers by the convention of scalar code), it is
    returned itself, checking its arguments' types on entry (a list annotated ``list[float]``
    is taken at its word, as the generated file takes it) and passing any other call to
    ``other``: the lookup of the kinds costs a type check per argument, and nothing more."""
    if kind != "grad":
        return None
    kinds = assumed_kinds(function_from_object(f))
    names = _wrt_names(f, wrt)
    if not kinds or not all(n in kinds and kinds[n].is_number for n in names) \
            or not all(k.name in GUARD_TYPES for k in kinds.values()):
        return None
    # the kinds the guard checks are known on entry: the derivative is made for them
    text, entry = _transpiled(f, wrt, mode, kind, tuple(kinds.items()))
    if isinstance(wrt, tuple) and not _returns_tuples(text, entry, len(wrt)):
        return None
    live, names = _live_globals(f, text)
    types = tuple(GUARD_TYPES[k.name] for k in kinds.values())
    return load(text, entry, f"{f.__qualname__} {kind}", live, names, guard=(types, other))


def _returns_tuples(text: str, entry: str, count: int) -> bool:
    """Whether every ``return`` of ``entry`` writes out a tuple of ``count`` items."""
    import ast

    function = next(n for n in ast.parse(text).body
                    if isinstance(n, ast.FunctionDef) and n.name == entry)
    returns = [n for n in walk(function) if isinstance(n, ast.Return)]
    return bool(returns) and all(isinstance(r.value, ast.Tuple) and len(r.value.elts) == count
                                 for r in returns)


def _differentiable(f: Callable, wrt: WrtSpec, mode: str, kind: str) -> tuple[Callable, bool]:
    """The derivative made without seeing a call, and True; or, where only the kinds of a
    call's arguments make ``f`` differentiable (a loop over a list along ``wrt`` needs to know
    it is a list), the one made for the kinds assumed without a call, and False: each call
    then needs its own. Where neither can be made, the refusal is raised, now: the one made
    knowing the lists, which names what stands in the way once they are known."""
    try:
        return _compile(f, wrt, mode, kind), True
    except errors.TranspileError:
        kinds = tuple(assumed_kinds(function_from_object(f)).items())
        if not any(k.name == "list" for _, k in kinds):
            raise
    return _compile(f, wrt, mode, kind, kinds), False


def _given(params: list[str], kinds: tuple[Kind, ...]) -> tuple[tuple[str, Kind], ...]:
    """The kinds of a call's arguments, as ``_compile`` takes them (none if none is known)."""
    return tuple(zip(params, kinds)) if any(k != UNKNOWN for k in kinds) else ()


@_unbinding
def jvp(f: Callable, wrt: WrtSpec = 0) -> Callable:
    """``h(*args, tangent) -> (value, directional derivative)``, by forward mode."""
    wrt = _hashable(wrt)
    compiled, general = _differentiable(f, wrt, "forward", "jvp")
    signature = inspect.signature(f)
    several = isinstance(wrt, (tuple, list))
    params = list(signature.parameters)
    specializations = Specializations(
        lambda kinds: _compile(f, wrt, "forward", "jvp", _given(params, kinds)))

    def jacobian_vector_product(*args: Any) -> Any:
        *args, tangent = args
        tangents = tuple(tangent) if several else (tangent,)
        values = _all_arguments(signature, args)
        product = compiled if general else specializations(tuple(values))
        return product(*values, *tangents)

    return jacobian_vector_product


@_unbinding
def vjp(f: Callable, wrt: WrtSpec = 0) -> Callable:
    """``h(*args, cotangent) -> (value, vector-Jacobian product)``, by reverse mode."""
    wrt = _hashable(wrt)
    compiled, general = _differentiable(f, wrt, "reverse", "vjp")
    signature = inspect.signature(f)
    names = _wrt_names(f, wrt)
    params = list(signature.parameters)
    specializations = Specializations(
        lambda kinds: _compile(f, wrt, "reverse", "vjp", _given(params, kinds)))

    def vector_jacobian_product(*args: Any) -> Any:
        *args, cotangent = args
        bound = signature.bind(*args)
        bound.apply_defaults()
        values = tuple(bound.arguments.values())
        product_of = compiled if general else specializations(values)
        value, product = product_of(*values, cotangent)
        return value, _like(product, [_named(bound.arguments, n) for n in names], wrt)

    return vector_jacobian_product


@_unbinding
def hessian(f: Callable, wrt: WrtSpec = 0) -> Callable:
    """Second derivatives, by differentiating the generated ``fpr`` again (forward over reverse).

    A float for one scalar argument; an ``(n, n)`` array for an array argument with ``n``
    elements (one Hessian-vector product per element). With a tuple ``wrt``, the blocks as JAX
    gives them: ``H[i][j]`` the second derivatives along arguments ``i`` and ``j``, of shape
    ``arg_i.shape + arg_j.shape`` (a float where both are numbers).
    """
    several = isinstance(wrt, (tuple, list))
    tangent_product = hvp(f, wrt)
    pick = _picker(inspect.signature(f), _wrt_names(f, wrt))

    def second_derivatives(*args: Any) -> Any:
        points = pick(args, {})
        if several:
            return _hessian_blocks(lambda tangents: tangent_product(*args, tangents), points)
        point = points[0]
        if np.ndim(point):
            shape = np.shape(point)
            basis = np.eye(np.size(point))
            columns = [np.ravel(tangent_product(*args, e.reshape(shape))) for e in basis]
            return np.array(columns, dtype=float).T
        return float(tangent_product(*args, 1.0))

    return second_derivatives


def _hessian_blocks(product: Callable, points: list[Any]) -> tuple:
    """``((H_00, H_01, ...), ...)``, one Hessian-vector product per element of each argument:
    the product along a unit tangent of argument ``j`` is column ``index`` of every ``H_ij``."""
    shapes = [np.shape(p) for p in points]
    blocks = [[np.zeros(si + sj) for sj in shapes] for si in shapes]
    for j, shape in enumerate(shapes):
        for index in np.ndindex(shape):
            tangents = tuple(_unit(s, index if k == j else None) for k, s in enumerate(shapes))
            column = product(tangents)
            for i, row in enumerate(blocks):
                row[j][(..., *index)] = column[i]
    return tuple(tuple(float(b) if b.shape == () else b for b in row) for row in blocks)


def _unit(shape: tuple, index: tuple | None) -> Any:
    """A tangent of ``shape``: 1 at ``index`` and 0 elsewhere (all 0 for None)."""
    tangent = np.zeros(shape)
    if index is not None:
        tangent[index] = 1.0
    return tangent if shape else float(tangent)


@_unbinding
def hvp(f: Callable, wrt: WrtSpec = 0) -> Callable:
    """``h(*args, v) -> H v``: the Hessian-vector product, one forward sweep over ``fpr``.

    The Hessian itself is never built; ``v`` is a number, or a tuple for a tuple ``wrt``.
    """
    refuse_second_derivatives(function_from_object(f))
    first = _compile(f, _hashable(wrt), "reverse", "grad")
    # a method's receiver stays a constant when its fpr is differentiated again
    first._ad_transpile_receiver = function_from_object(f).receiver
    product = jvp(first, wrt)

    def hessian_vector_product(*args: Any) -> Any:
        return product(*args)[1]

    return hessian_vector_product


def check_grad(
    f: Callable, *args: Any, wrt: WrtSpec = 0, mode: str = "reverse",
    rtol: float = 1e-5, atol: float = 1e-6,
) -> None:
    """Compare the generated gradient with central finite differences at ``args``.

    Raises ``AssertionError`` naming both values and the worst element when they disagree.
    """
    if inspect.ismethod(f):
        return check_grad(f.__func__, f.__self__, *args, wrt=_past_receiver(wrt), mode=mode,
                          rtol=rtol, atol=atol)
    gradient = grad(f, wrt, mode=mode)  # first: it checks wrt and says what is wrong
    names = _wrt_names(f, wrt)
    bound = inspect.signature(f).bind(*args)
    bound.apply_defaults()
    generated = gradient(*args)
    generated = generated if isinstance(wrt, (tuple, list)) else (generated,)
    for name, analytic in zip(names, generated):
        argument = bound.arguments[name] if name in bound.arguments else None
        if "." in name:  # a field asked for by name: params.omega
            base, _, key = name.partition(".")
            along = functools.partial(_along_field, f, bound.arguments, base, key)
            numeric = finite_difference(along, {"v": _named(bound.arguments, name)}, "v")
            _compare(f.__name__, name, analytic, numeric, rtol, atol)
            continue
        if not _is_record(argument):
            numeric = finite_difference(f, bound.arguments, name)
            _compare(f.__name__, name, analytic, numeric, rtol, atol)
            continue
        for key, value in _numeric_fields(argument).items():  # a record: field by field
            along = functools.partial(_along_field, f, bound.arguments, name, key)
            numeric = finite_difference(along, {"v": value}, "v")
            _compare(f.__name__, f"{name}.{key}", _numeric_fields(analytic)[key], numeric,
                     rtol, atol)


def _along_field(f: Callable, arguments: dict[str, Any], name: str, key: str, v: Any) -> Any:
    """``f`` with field ``key`` of its record argument ``name`` replaced by ``v``."""
    return f(**{**arguments, name: _with_field(arguments[name], key, v)})


def _compare(function: str, name: str, analytic: Any, numeric: Any, rtol: float,
             atol: float) -> None:
    analytic_arr, numeric_arr = np.asarray(analytic, float), np.asarray(numeric, float)
    excess = np.abs(analytic_arr - numeric_arr) - (atol + rtol * np.abs(numeric_arr))
    if not np.all(excess <= 0):
        worst = np.unravel_index(np.argmax(excess), excess.shape) if excess.shape else ()
        raise AssertionError(
            f"gradient of {function} with respect to {name} disagrees with finite "
            f"differences: generated {analytic!r}, numeric {numeric!r}; worst element "
            f"{worst}: {analytic_arr[worst]!r} vs {numeric_arr[worst]!r}"
        )


def _numeric_fields(record: Any) -> dict[str, Any]:
    """The fields of a record that hold numbers or arrays of numbers."""
    if isinstance(record, dict):
        fields = dict(record)
    elif hasattr(record, "_asdict"):
        fields = record._asdict()
    elif dataclasses.is_dataclass(record):
        fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    else:
        fields = dict(vars(record))
    return {k: v for k, v in fields.items() if not isinstance(v, bool)
            and isinstance(v, (int, float, np.ndarray)) and np.asarray(v).dtype.kind in "iuf"}


def _with_field(record: Any, key: str, value: Any) -> Any:
    """``record`` with field ``key`` holding ``value`` (a new record; the old one as it was)."""
    if isinstance(record, dict):
        return {**record, key: value}
    if hasattr(record, "_replace"):
        return record._replace(**{key: value})
    if dataclasses.is_dataclass(record):
        return dataclasses.replace(record, **{key: value})
    moved = copy.copy(record)
    setattr(moved, key, value)
    return moved


def finite_difference(f: Callable, arguments: dict[str, Any], name: str) -> Any:
    """The central difference of ``f`` along argument ``name``, element by element."""
    point = np.asarray(arguments[name], dtype=float)
    result = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        step = 1e-6 * max(1.0, abs(point[index]))
        values = []
        for sign in (1.0, -1.0):
            moved = point.copy()
            moved[index] += sign * step
            value = moved if moved.shape else float(moved)
            values.append(f(**{**arguments, name: value}))
        result[index] = (values[0] - values[1]) / (2 * step)
    return result if result.shape else float(result)


def _forward_on_arrays(f: Callable, wrt: WrtSpec, kind: str, kinds: tuple,
                       positions: list[int]) -> Callable:
    """The forward-mode gradient for array arguments of ``kinds``: one sweep of the batched
    jvp made for them (a direction per element), or one sweep per element where an operation
    has no batched rule. Made once per kinds, so that a call only seeds, sweeps and reads."""
    sweep = _batched_sweep(f, _hashable(wrt), kinds)
    several = isinstance(wrt, (tuple, list))

    def on_arrays(values: tuple, args: tuple, kwargs: dict) -> Any:
        if sweep is None:
            value, gradient = _forward_by_elements(f, wrt, args, kwargs, kinds)
        else:
            points = [values[p] for p in positions]
            value, tangent = sweep(*values, *runtime._directions(*points))
            gradients = runtime._gradients(tangent, *points)
            gradient = _like(gradients if several else gradients[0], points, wrt)
        return gradient if kind == "grad" else (value, gradient)

    return on_arrays


@functools.cache
def _batched_sweep(f: Callable, wrt: WrtSpec, kinds: tuple = ()) -> Callable | None:
    """The generated jvp of batched tangents, or None if an operation has no batched rule."""
    try:
        return _compile(f, wrt, "forward", "batched_jvp", kinds)
    except errors.NoBatchedTangent:
        return None


def _forward_by_elements(f: Callable, wrt: WrtSpec, args: tuple, kwargs: dict,
                         kinds: tuple = ()) -> Any:
    """``(value, gradient)`` by forward mode: one tangent sweep per element of an array argument.

    The generated ``fpr`` seeds a scalar; an array argument takes a basis of tangents instead.
    """
    product = _compile(f, _hashable(wrt), "forward", "jvp", kinds)
    signature = inspect.signature(f)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    points = [_named(bound.arguments, n) for n in _wrt_names(f, wrt)]
    zeros = [np.zeros(np.shape(p)) if np.ndim(p) else 0.0 for p in points]
    gradients = [np.zeros(np.shape(p)) for p in points]
    value = f(*args, **kwargs)
    for k, point in enumerate(points):
        for index in np.ndindex(np.shape(point)):
            tangent = np.zeros(np.shape(point))
            tangent[index] = 1.0
            tangents = [*zeros[:k], tangent if np.ndim(point) else 1.0, *zeros[k + 1:]]
            gradients[k][index] = product(*bound.arguments.values(), *tangents)[1]
    return value, _like(tuple(gradients) if isinstance(wrt, (tuple, list)) else gradients[0],
                        points, wrt)


@functools.cache
def _transpiled(f: Callable, wrt: WrtSpec, mode: str, kind: str,
                kinds: tuple[tuple[str, Kind], ...] = (), explain: bool = False
                ) -> tuple[str, str]:
    """The derivative's text; ``kinds`` gives parameters' kinds, as a call's arguments show."""
    parsed = function_from_object(f)
    if kinds:
        parsed = dataclasses.replace(parsed, arg_kinds=dict(kinds))
    return transpile(parsed, wrt, mode, kind, explain=explain)


@functools.cache
def _compile(f: Callable, wrt: WrtSpec, mode: str, kind: str,
             kinds: tuple[tuple[str, Kind], ...] = ()) -> Callable:
    text, entry = _transpiled(f, wrt, mode, kind, kinds)
    live, names = _live_globals(f, text)
    return load(text, entry, f"{f.__qualname__} {kind}", live, names)


def _live_globals(f: Callable, text: str) -> tuple[dict | None, frozenset[str]]:
    """The globals ``f`` reads at call time, and the module-level constants of the
    derivative's ``text`` that are the same constants in ``f``'s module: the derivative reads
    those from ``f``'s globals too, so it sees a constant changed at run time, as ``f`` does.
    Imports stay the generated module's own: a rule is the derivative of what the import named
    when it was transpiled, and a global read in a hot loop costs a dict lookup per use.
    ``f`` may itself be loaded generated code (a Hessian's ``fpr``)."""
    function = inspect.unwrap(f)
    live = getattr(function, "__globals__", None)
    if live is None:
        return None, frozenset()
    source = function_from_object(function)
    generated = parse_text(text, "<generated>")
    names = {n for n, stmt in collect_constants(generated).items()
             if n in source.constants
             and gast.dump(stmt.value) == gast.dump(source.constants[n].value)}
    if LIVE in live:  # generated code: what it read live, the derivative reads live too
        return live[LIVE], frozenset(names) & live[LIVE_NAMES]
    return live, frozenset(names)


def _hashable(wrt: WrtSpec) -> WrtSpec:
    return tuple(wrt) if isinstance(wrt, list) else wrt


def _wrt_names(f: Callable, wrt: WrtSpec) -> list[str]:
    params = list(inspect.signature(f).parameters)
    specs = wrt if isinstance(wrt, (tuple, list)) else [wrt]
    return [params[s] if isinstance(s, int) else s for s in specs]


def _all_arguments(signature: inspect.Signature, args: list[Any],
                   kwargs: dict | None = None) -> list[Any]:
    bound = signature.bind(*args, **(kwargs or {}))
    bound.apply_defaults()
    return list(bound.arguments.values())


def _picker(signature: inspect.Signature, names: list[str]) -> Callable:
    """The values of the ``wrt`` arguments of a call: straight from ``args`` when they are there
    (the common case, and a hot path in fitting), else by binding the signature."""
    params = list(signature.parameters.values())
    places = [_place([p.name for p in params], n) for n in names]
    last = max(position for position, _ in places)
    positional = all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                     for p in params[: last + 1])

    def pick(args: tuple, kwargs: dict) -> list[Any]:
        if positional and len(args) > last:
            return [_value_at(args, place) for place in places]
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return [_named(bound.arguments, n) for n in names]

    return pick


def _like(gradient: Any, arguments: list[Any], wrt: WrtSpec) -> Any:
    """A gradient with the type of its argument: a float for a float."""
    several = isinstance(wrt, (tuple, list))
    if several and type(gradient) is tuple and all(type(g) is float for g in gradient) \
            and all(type(a) is float for a in arguments):  # as it is: numbers for numbers
        return gradient
    parts = gradient if several else (gradient,)
    shaped = tuple(_like_one(g, a) for g, a in zip(parts, arguments))
    return shaped if several else shaped[0]


def _place(params: list[str], name: str) -> tuple[int, str]:
    """Where a ``wrt`` name's value is: a parameter's position, and the field asked for of
    it (``params.omega``), or ``""`` for the whole argument."""
    base, _, field = name.partition(".")
    return params.index(base), field


def _value_at(values: tuple, place: tuple[int, str]) -> Any:
    position, field = place
    return _field_value(values[position], field) if field else values[position]


def _named(arguments: dict[str, Any], name: str) -> Any:
    """The value of a ``wrt`` name among a call's arguments: an argument or one's field."""
    base, _, field = name.partition(".")
    return _field_value(arguments[base], field) if field else arguments[base]


def _field_value(record: Any, field: str) -> Any:
    return record[field] if isinstance(record, dict) else getattr(record, field)


def _is_record(value: Any) -> bool:
    """A dict, a dataclass, a ``NamedTuple``: a value whose gradient has its fields."""
    return isinstance(value, dict) or hasattr(value, "_fields") or (
        dataclasses.is_dataclass(value) and not isinstance(value, type))


def _like_one(gradient: Any, argument: Any) -> Any:
    if type(gradient) is float and isinstance(argument, (int, float)):
        return gradient
    if type(gradient) is type(argument) and _is_record(argument):
        # made as one (runtime._like_record): each field given its argument's type
        for key, value in _numeric_fields(argument).items():
            gradient = _with_field(gradient, key, _like_one(_field_value(gradient, key), value))
        return gradient
    if type(argument) in (list, tuple) and np.shape(gradient) == (len(argument),):
        # a list (or tuple) of numbers: its gradient is one too
        return type(argument)(float(g) for g in gradient)
    if np.shape(gradient) != np.shape(argument) and np.ndim(gradient) != 0:
        # an adjoint that was broadcast against a larger array and not summed back
        raise ValueError(
            f"the derivative has shape {np.shape(gradient)} but its argument has shape "
            f"{np.shape(argument)}: broadcasting in reverse mode is not supported yet"
        )
    if isinstance(argument, np.ndarray):
        # float32 in, float32 out (as JAX and PyTorch give); an int array's gradient is float
        dtype = argument.dtype if np.issubdtype(argument.dtype, np.floating) else float
        if type(gradient) is np.ndarray and gradient.shape == argument.shape \
                and gradient.dtype == dtype and gradient.flags.owndata \
                and gradient is not argument:  # made by the derivative: no copy to make
            return gradient
        return np.broadcast_to(np.asarray(gradient, dtype=dtype), argument.shape).copy()
    if isinstance(argument, (int, float)) and np.ndim(gradient) == 0:
        return float(gradient)
    return gradient
