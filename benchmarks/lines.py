"""Code lines of generated derivatives against hand-written ones (issue #14's readability measure).

    python benchmarks/lines.py [--markdown] [--kinds arrays|all|none] [--forward-kind jvp|grad]

For every function of ``tests/handwritten`` (the samples of tests/golden_cases.py and functions
of the kinds the issue names), it transpiles the derivative in reverse mode (the gradient file,
``ad-transpile grad``) and in forward mode (the JVP file, the same function the hand-written
``NAME_jvp`` is; ``--forward-kind grad`` counts the gradient file instead, which adds the sweep
that seeds the tangents), counts code lines in both and in the hand-written derivative, and
prints a table with the ratios and their medians. The issue's targets: median at most 1.5 in
reverse mode, at most 2 in forward mode, and no copied helper (``def _...``) where kinds are known.

Kinds of the arguments are given as the API gives them (``kind_of_argument`` of the example
arguments, the kinds ``--arg`` gives on the command line) where an example argument is an array,
or a list along ``wrt`` (the file path differentiates through a list only with its kind known);
``--kinds all``: also where any argument is a list; ``always``: everywhere, as the API does;
``none``: never, as the golden files. The table says where.

``code_lines`` itself is independent of ad-transpile: a reviewer's count of a Python file.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import io
import statistics
import sys
import textwrap
import tokenize
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
FORWARD_KINDS = ("jvp", "grad")
KIND_CHOICES = ("arrays", "all", "always", "none")


def code_lines(text: str, source: str | None = None) -> int:
    """The code lines of the Python file ``text``, as a reviewer counts them: no blank lines,
    comments (the header's included), docstrings or ``import``/``from`` lines; a statement
    spread over several lines counts as its lines. With the ``source`` module's text, also
    none of what a generated file copies from it verbatim so that it runs alone: a top-level
    ``def`` named as a function of the source with the source's arguments and body, and a
    top-level assignment written as in the source (a constant)."""
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in NOT_CODE:
            lines.update(range(token.start[0], token.end[0] + 1))
    tree = ast.parse(text)
    copied = _copied(tree, ast.parse(source)) if source is not None else []
    for node in [*_docstrings(tree), *_imports(tree), *copied]:
        lines.difference_update(range(node.lineno, node.end_lineno + 1))
    return len(lines)


def function_lines(function) -> int:
    """The code lines of a live function's own source (the hand-written derivatives)."""
    return code_lines(textwrap.dedent(inspect.getsource(function)))


def copied_helpers(text: str) -> list[str]:
    """The helpers a generated file carries (top-level ``def _...``), by name."""
    return [n.name for n in ast.parse(text).body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("_")]


def _docstrings(tree: ast.Module) -> list[ast.stmt]:
    owners = [tree, *(n for n in ast.walk(tree)
                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
    return [o.body[0] for o in owners if o.body and _is_docstring(o.body[0])]


def _is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _imports(tree: ast.Module) -> list[ast.stmt]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def _copied(tree: ast.Module, source: ast.Module) -> list[ast.stmt]:
    """Top-level statements of ``tree`` that the ``source`` module holds as they are."""
    functions = {n.name: _shape(n) for n in source.body if isinstance(n, ast.FunctionDef)}
    assignments = {ast.dump(n) for n in source.body if isinstance(n, (ast.Assign, ast.AnnAssign))}
    return [n for n in tree.body
            if (isinstance(n, ast.FunctionDef) and functions.get(n.name) == _shape(n))
            or (isinstance(n, (ast.Assign, ast.AnnAssign)) and ast.dump(n) in assignments)]


def _shape(function: ast.FunctionDef) -> str:
    """A function's arguments and body, without its docstring, decorators or positions."""
    body = function.body[1:] if function.body and _is_docstring(function.body[0]) else function.body
    return ast.dump(function.args) + "".join(ast.dump(s) for s in body)


# ---- the report: transpile every case, count, compare ----

def kinds_given(case, args: tuple, policy: str = "arrays") -> bool:
    """Whether the derivative is specialized to the example arguments' kinds (see the module
    docstring): the API always does; the golden files never do."""
    if policy in ("none", "always"):
        return policy == "always"
    if policy == "all":
        return any(isinstance(a, (np.ndarray, list)) for a in args)
    return any(isinstance(a, np.ndarray) for a in args) \
        or any(isinstance(args[p], list) for p in case.positions)


def transpiled(case, mode: str, kind: str, args: tuple | None = None) -> tuple[str, str]:
    """The derivative module text and entry of ``case`` as the CLI writes it, specialized to the
    kinds of ``args`` when given (as ``--arg NAME=KIND`` or the API specializes it)."""
    from ad_transpile.parse import read_function
    from ad_transpile.pipeline import transpile
    from ad_transpile.specialize import kind_of_argument

    parsed = read_function(str(ROOT / case.path), case.name)
    parsed = dataclasses.replace(parsed, path=case.path)  # the header as golden files have it
    if args is not None:
        parsed = dataclasses.replace(
            parsed, arg_kinds={n: kind_of_argument(a) for n, a in zip(case.params, args)})
    return transpile(parsed, case.wrt_spec, mode, kind)


@dataclasses.dataclass
class Row:
    """A function's counts; a generated count is None where the transpiler refuses it."""

    label: str
    kinds: bool
    hand_reverse: int
    generated_reverse: int | None
    hand_forward: int
    generated_forward: int | None
    helpers: list[str]

    @property
    def reverse_ratio(self) -> float | None:
        return _ratio(self.generated_reverse, self.hand_reverse)

    @property
    def forward_ratio(self) -> float | None:
        return _ratio(self.generated_forward, self.hand_forward)


def _ratio(generated: int | None, hand: int) -> float | None:
    return None if generated is None else generated / hand


def measure(case, policy: str = "arrays", forward_kind: str = "jvp") -> Row:
    """One row of the table: hand-written and generated code lines in both modes."""
    args = case.example(np.random.default_rng(0))
    given = kinds_given(case, args, policy)
    source = (ROOT / case.path).read_text(encoding="utf-8")
    texts = [_refused_or(transpiled, case, mode, kind, args if given else None)
             for mode, kind in (("reverse", "grad"), ("forward", forward_kind))]
    helpers = sorted({h for text in texts if text is not None for h in copied_helpers(text)})
    reverse, forward = (None if t is None else code_lines(t, source) for t in texts)
    return Row(case.label, given, function_lines(case.grad), reverse,
               function_lines(case.jvp), forward, helpers)


def _refused_or(transpiled, *args) -> str | None:
    from ad_transpile import TranspileError

    try:
        return transpiled(*args)[0]
    except TranspileError:
        return None


def medians(rows: list[Row]) -> tuple[float, float]:
    """The median ratios over the functions the transpiler differentiates."""
    return (statistics.median(r.reverse_ratio for r in rows if r.reverse_ratio is not None),
            statistics.median(r.forward_ratio for r in rows if r.forward_ratio is not None))


HEADINGS = ("function", "kinds", "hand rev", "gen rev", "ratio", "hand fwd", "gen fwd", "ratio",
            "helpers copied")


def table(rows: list[Row], markdown: bool = False) -> str:
    cells = [(r.label, "given" if r.kinds else "-",
              str(r.hand_reverse), _count(r.generated_reverse), _format(r.reverse_ratio),
              str(r.hand_forward), _count(r.generated_forward), _format(r.forward_ratio),
              ", ".join(r.helpers) or "-") for r in rows]
    reverse, forward = medians(rows)
    cells.append(("median", "", "", "", f"{reverse:.2f}", "", "", f"{forward:.2f}",
                  f"{sum(bool(r.helpers) for r in rows)} files"))
    if markdown:
        lines = ["| " + " | ".join(HEADINGS) + " |",
                 "|" + "|".join("---" if i in (0, 1, 8) else "--:" for i in range(9)) + "|"]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines)
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(HEADINGS)]
    lines = ["  ".join(h.ljust(w) if i in (0, 1, 8) else h.rjust(w)
                       for i, (h, w) in enumerate(zip(HEADINGS, widths))).rstrip()]
    for c in cells:
        lines.append("  ".join(v.ljust(w) if i in (0, 1, 8) else v.rjust(w)
                               for i, (v, w) in enumerate(zip(c, widths))).rstrip())
    return "\n".join(lines)


def _count(count: int | None) -> str:
    return "refused" if count is None else str(count)


def _format(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--kinds", choices=KIND_CHOICES, default="arrays",
                        help="where to give the example arguments' kinds (default: arrays)")
    parser.add_argument("--forward-kind", choices=FORWARD_KINDS, default="jvp",
                        help="the forward-mode file counted (default: the JVP)")
    options = parser.parse_args(argv)
    from handwritten import CASES

    rows = [measure(case, options.kinds, options.forward_kind) for case in CASES]
    print(table(rows, options.markdown))
    reverse, forward = medians(rows)
    print(f"\nmedian ratio: reverse {reverse:.2f} (target 1.5), forward {forward:.2f} (target 2); "
          f"helpers copied in {sum(bool(r.helpers) for r in rows)} of {len(rows)} functions")


if __name__ == "__main__":
    main()
