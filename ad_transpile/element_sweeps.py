"""The forward-mode gradient of scalar code: one tangent sweep per number along ``wrt``, and
one per element of a list of numbers, whose gradient is then a list too.

A sweep of the Jacobian-vector product gives the derivative along one direction, so the
gradient takes one sweep per direction: a number is seeded with 1.0 (every other tangent 0.0),
a list with a list holding 1.0 at one place (every other list tangent zeros)::

    def horner(coeffs, x):   ->   def horner_pr(coeffs, x):
        ...                           d_coeffs = [0.0] * len(coeffs)
                                      for i in range(len(coeffs)):
                                          seed = [0.0] * len(coeffs)
                                          seed[i] = 1.0
                                          _, d_coeffs[i] = horner_jvp(coeffs, x, seed, 0.0)
                                      _, d_x = horner_jvp(coeffs, x, [0.0] * len(coeffs), 1.0)
                                      return d_coeffs, d_x
"""

from __future__ import annotations

import gast

from ad_transpile import errors
from ad_transpile.infer import param_kinds
from ad_transpile.list_kinds import list_params
from ad_transpile.names import Namer
from ad_transpile.parse import ParsedFunction


def lists_along(parsed: ParsedFunction, wrt: list[str]) -> list[str]:
    """The arguments of ``wrt`` the derivative takes for lists (annotated so, or given so), in
    order; a list whose items are not known to be numbers is refused: one sweep per element
    seeds a number, which for a list of arrays would sum each array's derivatives."""
    lists = list_params(parsed.tree, parsed.arg_kinds)
    kinds = param_kinds(parsed, parsed.arg_kinds)
    found = [w for w in wrt if w in lists]
    for w in found:
        kind = kinds[w]
        if kind.name != "list" or not kind.items[0].is_number:
            what = f"a {kind}" if kind.name == "list" else "a list of items of unknown kind"
            param = next(p for p in [*parsed.tree.args.posonlyargs, *parsed.tree.args.args,
                                     *parsed.tree.args.kwonlyargs] if p.id == w)
            raise parsed.error(
                errors.Unsupported, param,
                construct=f"the forward-mode gradient along {w!r}, {what},",
                why="each sweep seeds one number, so a list along wrt must hold numbers: "
                    f"annotate it list[float] (or --arg {w}=list[float])")
    return found


def element_sweeps(params: list[str], wrt: list[str], lists: list[str], core: str,
                   kind: str, several: bool) -> list[gast.stmt]:
    """The body of ``fpr``: the sweeps of ``core`` (the JVP, tangents after ``params``) that
    give the gradient along each of ``wrt`` (``lists`` of them lists), and its ``return``."""
    namer = Namer({*params, core, "len", "range"})
    gradients = [namer.fresh(f"d_{w}") for w in wrt]
    value = namer.fresh("value") if kind == "value_and_grad" else "_"
    index, seed = (namer.fresh("i"), namer.fresh("seed")) if lists else ("", "")
    arguments = ", ".join(params)

    def sweep(seeded: str, tangent: str) -> str:
        tangents = [tangent if w == seeded else
                    f"[0.0] * len({w})" if w in lists else "0.0" for w in wrt]
        return f"{core}({arguments}, {', '.join(tangents)})"

    numbers = [w for w in wrt if w not in lists]
    lines = []
    if value != "_" and not numbers:  # every sweep is in a loop: the value comes first
        lines.append(f"{value}, _ = {sweep('', '')}")
    for w, gradient in zip(wrt, gradients):
        if w in lists:
            lines += [f"{gradient} = [0.0] * len({w})",
                      f"for {index} in range(len({w})):",
                      f"    {seed} = [0.0] * len({w})",
                      f"    {seed}[{index}] = 1.0",
                      f"    _, {gradient}[{index}] = {sweep(w, seed)}"]
        else:
            kept = value if w == numbers[0] else "_"
            lines.append(f"{kept}, {gradient} = {sweep(w, '1.0')}")
    result = (", ".join(gradients) + ("," if len(gradients) == 1 else "")) if several \
        else gradients[0]  # several: a tuple, of one gradient too
    lines.append(f"return {result}" if kind == "grad" else f"return {value}, ({result})")
    return gast.parse("\n".join(lines)).body
