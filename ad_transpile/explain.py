"""Explain pass: a comment above each derivative line naming the rules that made it.

For learners (``--explain``). A rule's partial derivative is tagged with a note where the rule
is applied (``noted``); the note is an attribute of the expression node, so it travels wherever
simplification moves or copies the expression, and this late pass, run on the final tree,
gathers the notes of each statement's nodes into the comment above it, under the final names.
Without ``explain`` nothing reads the notes: the plain output does not change.
"""

from __future__ import annotations

import ast

import gast

from ad_transpile.primitives import is_constant
from ad_transpile.registry import Rule
from ad_transpile.trees import walk

NOTE = "rule_note"
OPERATORS = {
    "operator.add": ("a + b", "sum rule"),
    "operator.sub": ("a - b", "sum rule"),
    "operator.mul": ("a * b", "product rule"),
    "operator.truediv": ("a / b", "quotient rule"),
    "operator.pow": ("a ** b", "power rule"),
    "builtins.pow": ("base ** exp", "power rule"),
    "operator.neg": ("-a", ""),
    "operator.pos": ("+a", ""),
    "operator.mod": ("a % b", ""),
}
BACKWARDS = "the loop runs backwards: adjoints flow from the last iteration to the first"
ONCE = ("each iteration adds only its own share to the sums: one loop forwards computes the "
        "values and their adjoints together, with no tape")
TAPE = "the tape: a stack of the values the backward sweep reads after they change"
OWN_TAPE = "the loop walks its tape backwards: each trip reads what the same trip saved"
SAVED = "the tape saves what the backward sweep will read, as this iteration leaves it"
RESTORED = "read back from the tape: the last saved is the first read"
SWEEP = ("one forward sweep: the tangent of each parameter is 1.0 along the direction asked "
         "for, 0.0 along the others")
BASIS = ("the seeds: a basis of tangents, one direction per element, so that one sweep "
         "gives the whole gradient")
MATMUL = ("d(A @ B) = dA @ B + A @ dB (the product rule for matrices); backwards, the "
          "adjoint C_bar of C = A @ B gives A_bar = C_bar @ B.T, B_bar = A.T @ C_bar")
STRUCTURAL = {
    "numpy.sum": "the adjoint of a sum: each summed element gets the adjoint of the total",
    "numpy.mean": "the adjoint of a mean: each element gets the adjoint over the count",
    "numpy.max": "the adjoint of a maximum goes to the elements that are the maximum",
    "numpy.min": "the adjoint of a minimum goes to the elements that are the minimum",
    "operator.matmul": MATMUL,
    "numpy.matmul": MATMUL,
    "numpy.dot": MATMUL.replace("@", "dot"),
}
RETURNED = {"reverse": "the adjoints of the parameters: d(result)/d(parameter), each",
            "forward": "the tangent of the result: d(result)/d(parameter)"}


def noted(node: gast.AST, *notes: str) -> gast.AST:
    """``node``, tagged with ``notes`` (kept on copies, read only by :func:`explain`)."""
    setattr(node, NOTE, (*getattr(node, NOTE, ()), *notes))
    return node


def carried(old: gast.stmt, new: gast.stmt) -> gast.stmt:
    """``new``, with the notes on the statement ``old`` itself (a loop made into ``new``)."""
    return noted(new, *getattr(old, NOTE, ()))


def carry_notes(old: gast.AST, new: gast.AST) -> None:
    """Where a rewrite replaced ``old`` by ``new``, the notes of ``old`` that ``new`` lost."""
    kept = {n for node in walk(new) for n in getattr(node, NOTE, ())}
    lost = [n for node in walk(old) for n in getattr(node, NOTE, ()) if n not in kept]
    if lost:
        noted(new, *dict.fromkeys(lost))


def describe(rule: Rule, index: int) -> str:
    """``d/da (a * b) = b (product rule)``: the partial of ``rule`` along argument ``index``
    (along every argument for ``+ - * /``, whose rules are read whole). Every transpile tags
    its partials, explained or not, so each text is written once per process."""
    key = (rule.primitive, rule.params, rule.digest, index)
    if key not in _DESCRIBED:
        _DESCRIBED[key] = _described(rule, index)
    return _DESCRIBED[key]


_DESCRIBED: dict[tuple, str] = {}


def _described(rule: Rule, index: int) -> str:
    call, law = OPERATORS.get(rule.primitive, (None, ""))
    if call is None:
        call = f"{_short(rule.primitive)}({', '.join(rule.params)})"
    shown = call if "(" in call and " " not in call else f"({call})"
    if rule.primitive in ("operator.pow", "builtins.pow"):
        law = "power rule" if index == 0 else "exponential rule"
        indices = [index]
    else:
        indices = range(len(rule.params)) if law else [index]
    partials = []
    for i in indices:
        partial = _text(rule.partials[i]).removesuffix(".0") if is_constant(
            rule.partials[i]) else _text(rule.partials[i])
        if rule.result:
            partial = partial.replace(rule.result, shown)
        partials.append(f"d/d{rule.params[i]} {shown} = {partial}")
    return ", ".join(partials) + (f" ({law})" if law else "")


def describe_structural(primitive: str, which: str) -> str:
    """The note on a structural (NumPy) rule's template: what it does, or its name."""
    return STRUCTURAL.get(primitive, f"the {which} rule of {_short(primitive)}")


def explain(fn: gast.FunctionDef, mode: str, derivative_prefix: str = "d_") -> None:
    """Put the notes of every statement of ``fn`` (nested ones too) into the comment above it
    (``explanation``: emit writes it below the source-line comment, if there is one)."""
    for stmt in _statements(fn.body):
        lines = _notes(stmt)
        structure = _structure(stmt, mode)
        if lines or (_writes_derivative(stmt, derivative_prefix) and not structure):
            lines.append(_chain_step(stmt, mode, bool(lines)))
        elif isinstance(stmt, gast.Return):
            lines.append(RETURNED[mode])
        lines = [*structure, *lines]
        if lines:
            stmt.explanation = lines


def _structure(stmt: gast.stmt, mode: str) -> list[str]:
    """What a statement of the transpiler's own making does: seeds, sweeps, the tape, the
    loop run back."""
    value = getattr(stmt, "value", None)
    called = value.func.id if isinstance(value, gast.Call) and isinstance(
        value.func, gast.Name) else ""
    if called.endswith("_jvp"):
        return [SWEEP]
    if called in ("_basis", "_directions"):
        return [BASIS]
    if mode != "reverse":
        return []
    if isinstance(stmt, gast.For) and getattr(stmt, NOTE, None):
        return list(getattr(stmt, NOTE))
    if getattr(stmt, "own_tape", None):  # a loop's own list (see own_tapes)
        return [stmt.own_tape]
    text = _text(stmt) if isinstance(stmt, (gast.Assign, gast.Expr)) else ""
    if text.startswith("_stack") and text.endswith(" = []"):
        return [TAPE]
    if text.startswith("_stack") and ".append(" in text:
        return [SAVED]
    if "= _stack" in text and text.endswith(".pop()"):
        return [RESTORED]
    return []


def _statements(body: list[gast.stmt]):
    for stmt in body:
        yield stmt
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and not isinstance(stmt, gast.FunctionDef):
                yield from _statements(inner)


def _notes(stmt: gast.stmt) -> list[str]:
    """The distinct notes on the expressions of ``stmt`` itself (not of nested statements)."""
    seen: list[str] = []
    for part in ("value", "test", "iter"):
        node = getattr(stmt, part, None)
        if isinstance(node, gast.AST):
            for child in walk(node):
                seen += [n for n in getattr(child, NOTE, ()) if n not in seen]
    return seen


def _writes_derivative(stmt: gast.stmt, prefix: str) -> bool:
    targets = getattr(stmt, "targets", None) or [getattr(stmt, "target", None)]
    return any(isinstance(n, gast.Name) and n.id.startswith(prefix)
               for t in targets if isinstance(t, gast.AST) for n in walk(t))


def _chain_step(stmt: gast.stmt, mode: str, ruled: bool) -> str:
    """The chain rule's step in words, for the statement's own target."""
    target = _target_text(stmt)
    if isinstance(getattr(stmt, "value", None), gast.Constant) and not ruled:
        return f"{target} is zero here: no adjoint or tangent has reached it yet"
    if mode == "forward":
        into = target or "the result"
        if not ruled:
            return f"chain rule: {into} carries the tangents along unchanged or summed"
        return f"chain rule: each partial times its argument's tangent, summed into {into}"
    into = target or "the result"
    if not ruled:
        return f"chain rule: {into} collects the adjoints that flow into it"
    return f"chain rule: each partial times the adjoint of its result, added into {into}"


def _target_text(stmt: gast.stmt) -> str:
    target = getattr(stmt, "target", None) or (getattr(stmt, "targets", None) or [None])[0]
    return _text(target) if isinstance(target, gast.AST) else ""


def _short(primitive: str) -> str:
    module, _, function = primitive.rpartition(".")
    return f"np.{function}" if module == "numpy" else function


def _text(node: gast.AST) -> str:
    text = ast.unparse(ast.fix_missing_locations(gast.gast_to_ast(node)))
    return text.replace("math.", "").replace("numpy.", "np.")
