"""The entry of a batched forward-mode gradient: seed the identity basis, sweep once, read it back.

Where the kinds of the ``wrt`` arguments (arrays of known dimensions, or numbers) and of the
result (a number) are known, the seed and the reading are a few plain lines::

    def loss_pr(W1, W2, X, Y):
        basis = np.eye(W1.size + W2.size)
        d_W1 = basis[:W1.size].reshape(W1.shape[0], W1.shape[1], -1)
        d_W2 = basis[W1.size:].reshape(W2.shape[0], W2.shape[1], -1)
        _, d_value = loss_jvp(W1, W2, X, Y, d_W1, d_W2)
        return d_value[:W1.size].reshape(W1.shape), d_value[W1.size:].reshape(W2.shape)

and for one vector ``d_w = np.eye(len(w))`` and ``return d_value``. Otherwise the runtime
helpers ``_basis``/``_directions`` and ``_gradient``/``_gradients`` find the shapes when they
run (and refuse a result that is not a number).
"""

from __future__ import annotations

from typing import Callable

import gast

from ad_transpile.kinds import Kind
from ad_transpile.names import Namer

NUMPY = "__numpy__"  # stands for the module's spelling of numpy in the text below


def known_points(kinds: list[Kind]) -> bool:
    """Whether every point is a number or an array of known dimensions."""
    return all(k.is_number or (k.is_array and k.ndim is not None and k.ndim >= 1)
               for k in kinds)


def seeded_sweep(params: list[str], wrt: list[str], kinds: list[Kind], core: str, kind: str,
                 several: bool, spell: Callable[[str], gast.expr]) -> list[gast.stmt]:
    """The body of the entry: seeds, one call of ``core``, the gradient(s) read off it."""
    namer = Namer(set(params) | {core})
    tangents = [namer.fresh(f"d_{w}") for w in wrt]
    value, d_value = (namer.fresh("value") if kind == "value_and_grad" else "_",
                      namer.fresh("d_value"))
    lines: list[str] = []
    if several:
        basis = namer.fresh("basis")
        sizes = [_size(w, k) for w, k in zip(wrt, kinds)]
        lines.append(f"{basis} = {NUMPY}.eye({_sum(sizes)})")
        pieces = []
        for i, (w, k, tangent) in enumerate(zip(wrt, kinds, tangents)):
            start, stop = _sum(sizes[:i]), _sum(sizes[: i + 1])
            if k.is_number:
                part = f"[{start}]"
            else:  # basis[:a.size], basis[a.size:a.size + b.size], basis[a.size:]
                part = (f"[{'' if start == '0' else start}:"
                        f"{'' if i == len(wrt) - 1 else stop}]")
            lines.append(f"{tangent} = {basis}{part}{_as_tangent(w, k)}")
            pieces.append(_as_gradient(f"{d_value}{part}", w, k))
        gradient = f"({', '.join(pieces)},)" if len(pieces) == 1 else ", ".join(pieces)
    else:
        (w,), (k,), (tangent,) = wrt, kinds, tangents
        if k.is_number:
            lines.append(f"{tangent} = {NUMPY}.ones(1)")
            gradient = f"float({d_value}[0])"
        elif k.ndim == 1:
            lines.append(f"{tangent} = {NUMPY}.eye(len({w}))")
            gradient = d_value
        else:
            lines.append(f"{tangent} = {NUMPY}.eye({w}.size){_as_tangent(w, k)}")
            gradient = f"{d_value}.reshape({w}.shape)"
    lines.append(f"{value}, {d_value} = {core}({', '.join(params + tangents)})")
    lines.append(f"return {gradient}" if kind == "grad" else f"return {value}, ({gradient})")
    return _Spell(spell).visit(gast.parse("\n".join(lines))).body


def _size(point: str, kind: Kind) -> str:
    return "1" if kind.is_number else f"{point}.size"


def _sum(sizes: list[str]) -> str:
    """``a.size + b.size + 2``: the sizes added, the numbers' ones counted together."""
    names = [s for s in sizes if s != "1"]
    ones = len(sizes) - len(names)
    terms = names + ([str(ones)] if ones else [])
    return " + ".join(terms) or "0"


def _as_tangent(point: str, kind: Kind) -> str:
    """Rows of the basis as the batched tangent of ``point``: its shape, then the directions."""
    if kind.is_number or kind.ndim == 1:
        return ""
    axes = ", ".join(f"{point}.shape[{n}]" for n in range(kind.ndim))
    return f".reshape({axes}, -1)"  # no (*shape, -1): a tuple the normalizer cannot read


def _as_gradient(piece: str, point: str, kind: Kind) -> str:
    if kind.is_number:
        return f"float({piece})"
    return piece if kind.ndim == 1 else f"{piece}.reshape({point}.shape)"


class _Spell(gast.NodeTransformer):
    """``__numpy__.eye`` as the module spells ``numpy.eye``."""

    def __init__(self, spell: Callable[[str], gast.expr]) -> None:
        self.spell = spell

    def visit_Attribute(self, node: gast.Attribute) -> gast.expr:
        if isinstance(node.value, gast.Name) and node.value.id == NUMPY:
            return self.spell(f"numpy.{node.attr}")
        return self.generic_visit(node)
