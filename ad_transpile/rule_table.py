"""The page of every function with a derivative rule, made from ``rules/``: ``docs/rules.md``.

    python -m ad_transpile.rule_table > docs/rules.md

A user looks a function up there before trying it; the tests check that the page is current.
"""

from __future__ import annotations

from collections import defaultdict

from ad_transpile.registry import Registry, builtin

SIGNS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**", "mod": "%",
         "matmul": "@", "neg": "unary -", "pos": "unary +", "floordiv": "//", "eq": "==",
         "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "contains": "in",
         "is_": "is", "is_not": "is not", "not_": "not"}
SPELLED = {"numpy": "np", "builtins": "", "operator": "", "ad_transpile.runtime": None}
HEADING = """# Functions with a derivative rule

Generated from `rules/` by `python -m ad_transpile.rule_table > docs/rules.md`; the tests check
it is current. Every function here has a rule in both modes (forward and reverse) and can be
differentiated again (`--order 2`, `adt.hessian`). *Elementwise* rules give partial derivatives
and broadcast; *array* rules give the tangent and the adjoint of the whole operation (and the
batched tangents of forward mode's single sweep). A function that is not listed is refused with
an error naming it; give it a rule with `@partials` in your module or a `--rules` file.
"""


def page(registry: Registry | None = None) -> str:
    """The Markdown page: one table of differentiable functions, a list of those with none."""
    registry = registry or builtin()
    arities: dict[str, set[int]] = defaultdict(set)
    kinds: dict[str, str] = {}
    for (primitive, arity), rule in registry.rules.items():
        if _spelled(primitive) is None:
            continue
        arities[primitive].add(arity)
        kinds[primitive] = "array" if rule.structural else "elementwise"
    rows = ["| function | arguments | rule |", "| --- | --- | --- |"]
    for primitive in sorted(arities, key=_order):
        counts = ", ".join(map(str, sorted(arities[primitive])))
        rows.append(f"| {_spelled(primitive)} | {counts} | {kinds[primitive]} |")
    zero = sorted((_spelled(p) for p in registry.nondifferentiable if _spelled(p)), key=str)
    count = f"{len(arities)} functions and operators have a rule.\n"
    return "\n".join([
        HEADING, count, *rows, "",
        "## Carry no derivative (their derivative is zero wherever it exists)", "",
        ", ".join(zero), "",
    ])


def _spelled(primitive: str) -> str | None:
    """```np.sum``` for ``numpy.sum``, ```*` (`operator.mul`)`` for an operator, in Markdown;
    None for the runtime's own helpers, which users do not call."""
    module, _, function = primitive.rpartition(".")
    for prefix, shown in SPELLED.items():
        if module == prefix or module.startswith(prefix + "."):
            if shown is None:
                return None
            rest = module[len(prefix):].lstrip(".")
            parts = [p for p in (shown, rest, function) if p]
            if prefix == "operator":
                return f"`{SIGNS.get(function, function)}` (`operator.{function}`)"
            return f"`{'.'.join(parts)}`"
    return f"`{primitive}`"


def _order(primitive: str) -> tuple[int, str]:
    namespace = primitive.split(".")[0]
    rank = {"builtins": 0, "operator": 1, "math": 2, "numpy": 3}.get(namespace, 4)
    return rank, primitive


if __name__ == "__main__":
    print(page(), end="")
