"""A tuple passed to the user's own function: the function gets a twin that takes the tuple's
components as parameters of their own, so that each has its derivative::

    s = step(s, 0.1)          ->   s_0, s_1 = step_split(s_0, s_1, 0.1)

    def step(s, dt):               def step_split(s_0, s_1, dt):
        x, v = s                       s = (s_0, s_1)
        return x + dt * v, v           x, v = s
                                       return x + dt * v, v

The twin is added to the functions of the caller's module (its derivative is generated like
any other); the primal code keeps calling the function itself.
"""

from __future__ import annotations

import copy

import gast

from ad_transpile import errors
from ad_transpile.parse import ParsedFunction, local_names
from ad_transpile.primitives import name


def literal_shape(expr: gast.expr):
    """The structure of a tuple literal: ``((a, b), c)`` -> ``((None, None), None)``."""
    if not isinstance(expr, gast.Tuple):
        return None
    return tuple(literal_shape(e) for e in expr.elts)


def split_call(parsed: ParsedFunction, call: gast.Call, callee: str) -> gast.Call:
    """``call`` to the same module's ``callee``, whose arguments hold tuple literals, as a call
    to the twin of ``callee`` taking their components."""
    tree = parsed.functions.get(callee)
    if tree is None or getattr(tree, "split_of", None) or tree.args.vararg \
            or any(isinstance(k.value, gast.Tuple) for k in call.keywords):
        raise parsed.error(
            errors.Unsupported, call, construct=f"a tuple passed to '{callee}' here",
            why="pass it by position to a function of the same module, or pass its "
            "components as separate arguments")
    params = [*tree.args.posonlyargs, *tree.args.args]
    shapes = tuple(literal_shape(a) for a in call.args)
    defaults_from = len(params) - len(tree.args.defaults)
    if len(shapes) > len(params) or any(
            s is not None and i >= defaults_from for i, s in enumerate(shapes)):
        raise parsed.error(
            errors.Unsupported, call, construct=f"a tuple passed to '{callee}' here",
            why="a parameter with a default cannot be split into the tuple's components")
    twin = _twin(parsed, tree, shapes)
    args = [leaf for a in call.args for leaf in _leaves(a)]
    split = gast.Call(func=name(twin), args=args, keywords=call.keywords)
    split.qualname = f"{parsed.module_name}.{twin}"
    return gast.copy_location(split, call)


def called_name(call: gast.Call) -> str:
    """How the source names the function ``call`` calls: ``pair`` for ``pair(a)``."""
    func = call.func
    return func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", "call")


def _twin(parsed: ParsedFunction, tree: gast.FunctionDef, shapes: tuple) -> str:
    """The name of ``tree``'s twin for arguments of ``shapes``, made the first time."""
    key = (tree.name, shapes)
    k = 1
    while True:
        candidate = f"{tree.name}_split" + (f"_{k}" if k > 1 else "")
        existing = parsed.functions.get(candidate)
        if existing is None:
            break
        if getattr(existing, "split_of", None) == key:
            return candidate
        k += 1
    twin = copy.deepcopy(tree)
    twin.name, twin.split_of, twin.decorator_list = candidate, key, []
    taken = local_names(tree) | {p.id for p in [*tree.args.posonlyargs, *tree.args.args]}
    params, prologue = [], []
    for param, shape in zip([*twin.args.posonlyargs, *twin.args.args],
                            shapes + (None,) * len(twin.args.args)):
        if shape is None:
            params.append(param)
            continue
        components = _names(param.id, shape, taken)
        params += [gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None)
                   for n in _leaves(components)]
        whole = gast.Assign(targets=[name(param.id, store=True)], value=_built(components),
                            type_comment=None)
        prologue.append(gast.copy_location(whole, tree))
    twin.args.posonlyargs, twin.args.args = [], params
    docstring = twin.body[:1] if isinstance(twin.body[0], gast.Expr) and isinstance(
        twin.body[0].value, gast.Constant) else []
    twin.body = [*docstring, *prologue, *twin.body[len(docstring):]]
    parsed.functions[candidate] = twin
    return candidate


def _names(base: str, shape, taken: set[str]):
    """Component names ``s_0``, ``s_1`` (``s_0_1`` nested) that the function does not use."""
    if shape is None:
        while base in taken:
            base += "_"
        taken.add(base)
        return base
    return tuple(_names(f"{base}_{i}", s, taken) for i, s in enumerate(shape))


def _leaves(value) -> list:
    if isinstance(value, gast.Tuple):
        return [leaf for e in value.elts for leaf in _leaves(e)]
    if isinstance(value, tuple):
        return [leaf for e in value for leaf in _leaves(e)]
    return [value]


def _built(components) -> gast.expr:
    if isinstance(components, str):
        return name(components)
    return gast.Tuple(elts=[_built(c) for c in components], ctx=gast.Load())
