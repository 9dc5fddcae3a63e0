"""Which form of a structural rule fits a call: the one whose conditions its arguments meet.

A rule may give, beside its general templates, forms for calls whose arguments are known to be
arrays of so many dimensions, or options given as literals (``rules/numpy.py``)::

    @batched_tangents(np.matmul, a=ndim(2), b=ndim(1))
    def matmul_matrix_vector_batched(a, b, *, d_a, d_b):
        return np.einsum("ijl,j->il", d_a, b), a @ d_b

The value model (``infer``) says what is known; where it knows nothing, the general templates,
which find the shapes when they run, are used.
"""

from __future__ import annotations

import copy

import gast

from ad_transpile.infer import Kinds
from ad_transpile.kinds import UNKNOWN, Kind
from ad_transpile.registry import Condition, Rule
from ad_transpile.trees import walk


def form_for(rule: Rule, which: str, args: list[gast.expr | None], kinds: Kinds) -> Rule:
    """``rule`` with the ``which`` templates (tangents, adjoints, batched) of its first form
    whose conditions the call's ``args`` (in the rule's parameter order) surely meet."""
    if not rule.forms:
        return rule

    def holds(param: str, condition: Condition) -> bool:
        index = rule.params.index(param)
        arg = args[index] if index < len(args) else None
        arg = rule.defaults.get(param) if arg is None else arg
        if arg is None:
            return False
        if condition.ndim is not None:
            kind = proven_kind(arg, kinds)  # ndim(0): a number or an array of no axes
            return (kind.is_array and kind.ndim == condition.ndim) or (
                condition.ndim == 0 and kind.is_number)
        return isinstance(arg, gast.Constant) and type(arg.value) is type(condition.value) \
            and arg.value == condition.value

    return rule.form(which, holds)


def proven_kind(expr: gast.expr, kinds: Kinds) -> Kind:
    """The kind of ``expr`` where the source or the call shows it (no convention of scalar
    code: a parameter only assumed to be a number may be an array). ``expr`` may come from a
    rule's template, whose calls are named by their spelling."""
    if any(isinstance(n, gast.Name) and n.id in kinds.assumed for n in walk(expr)):
        return UNKNOWN
    expr = copy.deepcopy(expr)
    for node in walk(expr):
        spelled = getattr(getattr(node, "func", None), "spelled", None)
        if isinstance(node, gast.Call) and spelled and not getattr(node, "qualname", None):
            node.qualname = spelled
    return kinds.of_expr(expr)
