"""Parse pass: find the function to differentiate and resolve the names it calls.

The only module that calls the parser. A function is found either as a live object (its file is
read through ``inspect``) or as ``PATH::FUNC`` in a file that is read as text and never executed.
Every name that refers to an import is resolved to a qualified name::

    import numpy as np            np.sin(x)   ->  call.qualname == "numpy.sin"
    from math import exp          exp(x)      ->  call.qualname == "math.exp"
"""

from __future__ import annotations

import builtins
import copy
import functools
import hashlib
import inspect
import linecache
import sys
import sysconfig
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import gast

from ad_transpile import errors
from ad_transpile.readable import refuse_hidden_flow
from ad_transpile.runtime import HELPERS
from ad_transpile.trees import walk

# the numbers modules define, which a function reads as it reads a literal
NUMBER_CONSTANTS = {"math.pi", "math.e", "math.tau", "math.inf", "math.nan", "numpy.pi",
                    "numpy.e", "numpy.inf", "numpy.nan", "numpy.euler_gamma"}


@dataclass
class ParsedFunction:
    """A function's tree with what the later passes need to know about its module."""

    path: str
    tree: gast.FunctionDef
    lines: list[str]
    imports: dict[str, str]
    import_nodes: list[gast.stmt]
    constants: dict[str, gast.stmt]
    functions: dict[str, gast.FunctionDef] = field(default_factory=dict)
    local: set[str] = field(default_factory=set)
    module_name: str = "__main__"
    module: gast.Module | None = None
    live: object = None  # the live function, when it came from one
    line_label: str = "line"  # how comments name a source line ("fpr line" in generated code)
    receiver: str | None = None  # a method's self (or cls): its attributes are read as constants
    arg_kinds: dict = field(default_factory=dict)  # parameter -> Kind, from --arg or the call

    def callee(self, qualname: str) -> ParsedFunction | None:
        """The parsed source of the user function ``qualname`` calls, if there is one."""
        module, _, name = qualname.rpartition(".")
        if module == self.module_name and name in self.functions:
            if self.live is not None:
                target = getattr(self.live, "__globals__", {}).get(name)
                if inspect.isfunction(target):
                    return function_from_object(target)
            text = "".join(self.lines)
            return _parsed(self.path, text, self.module, self.functions[name], self.module_name,
                           self.live, self.functions)  # with those the passes made
        if self.live is not None:
            return _live_callee(module, name)
        return _file_callee(Path(self.path).parent, module, name)

    @property
    def name(self) -> str:
        return self.tree.name

    @property
    def source_hash(self) -> str:
        return function_hash(self.lines, self.tree)

    def error(self, kind: type[errors.TranspileError], node: object, **fields: object):
        """Build an error of ``kind`` located at ``node`` in this function's file."""
        line = getattr(node, "lineno", None) or self.tree.lineno
        col = getattr(node, "col_offset", None)
        return kind(self.path, line, (col or 0) + 1, **fields)

    def qualify(self, expr: gast.expr) -> str | None:
        """The qualified name ``expr`` refers to, or None for a local value."""
        return qualify(expr, self.imports, self.functions, self.local, self.module_name)


def parse_text(text: str, path: str) -> gast.Module:
    """Parse a module's text, turning a syntax error into a located ``TranspileError``."""
    try:
        return gast.parse(text)
    except SyntaxError as exc:
        raise errors.SyntaxProblem(path, exc.lineno or 1, exc.offset or 1, what=exc.msg) from None


def function_hash(lines: list[str], tree: gast.FunctionDef) -> str:
    """A short hash of a function's source text, so that a stale generated file can be told."""
    start = min([tree.lineno] + [d.lineno for d in tree.decorator_list])
    text = textwrap.dedent("".join(lines[start - 1 : tree.end_lineno]))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def read_function(path: str, name: str) -> ParsedFunction:
    """Find top-level function ``name`` in the file at ``path``, read as text."""
    file = Path(path)
    if not file.is_file():
        raise errors.MissingFile(path, 1, 1, what=path)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise errors.Unreadable(path, 1, 1, why=f"not UTF-8 text ({exc.reason})") from None
    return function_in_text(text, path, name)


def function_in_text(text: str, path: str, name: str, module_name: str | None = None
                     ) -> ParsedFunction:
    """Find top-level function ``name`` in a module's source ``text``."""
    module = parse_text(text, path)
    functions = top_level_functions(module)
    if name not in functions:
        for node in module.body:
            if isinstance(node, gast.AsyncFunctionDef) and node.name == name:
                raise errors.Unsupported(
                    path, node.lineno, node.col_offset + 1, construct="'async def'",
                    why="a coroutine cannot be differentiated",
                )
        raise errors.UnknownFunction(path, 1, 1, name=name)
    return _parsed(path, text, module, functions[name], module_name or Path(path).stem)


def function_from_object(fn: object) -> ParsedFunction:
    """Find the tree of a live function through its source file."""
    fn = inspect.unwrap(fn)  # type: ignore[arg-type]  # its decorators are checked in its tree
    name = getattr(fn, "__qualname__", repr(fn))
    not_a_function = _not_a_function(fn)
    if not_a_function:
        raise errors.NoSource("<unknown>", 1, 1, name=name, why=not_a_function)
    try:
        path = inspect.getsourcefile(fn)  # type: ignore[arg-type]
        _, first_line = inspect.getsourcelines(fn)  # type: ignore[arg-type]
    except (TypeError, OSError):
        raise _no_source_kept(name) from None
    if path is None:
        raise errors.NoSource("<unknown>", 1, 1, name=name, why="it has no source file")
    if fn.__name__ == "<lambda>":  # type: ignore[attr-defined]
        raise errors.NoSource(display_path(path), first_line, 1, name="a lambda",
                              why="its derivative needs a name: define it with def")
    if path in linecache.cache:  # generated code loaded by ad_transpile.load
        text = "".join(linecache.getlines(path))
    else:
        text = Path(path).read_text(encoding="utf-8")
    module = parse_text(text, path)
    for node in walk(module):
        if isinstance(node, gast.FunctionDef) and _first_line(node) == first_line:
            module_name = getattr(fn, "__module__", None) or Path(path).stem
            parsed = _parsed(display_path(path), text, module, node, module_name, fn)
            parsed.receiver = _receiver(module, node) or getattr(
                fn, "_ad_transpile_receiver", None)
            return parsed
    if path.startswith("<"):  # Python 3.13 keeps a blank line for code run by exec
        raise _no_source_kept(name)
    raise errors.NoSource(path, first_line, 1, name=name, why="its definition was not found")


def _no_source_kept(name: str) -> errors.NoSource:
    return errors.NoSource(
        "<unknown>", 1, 1, name=name, why="Python keeps no source for a function defined "
        "in the REPL, by exec or by python -c: define it in a file and import it",
    )


def _not_a_function(fn: object) -> str | None:
    """Why ``fn`` has no Python source to read, for what is not a plain function."""
    if isinstance(fn, functools.partial):
        return ("it is a functools.partial: differentiate the function it wraps, and pass "
                "the fixed arguments at the call")
    if inspect.isbuiltin(fn) or inspect.ismethoddescriptor(fn):
        return ("it is a builtin, written in C: differentiate a Python function that calls "
                "it (a call to it needs a derivative rule)")
    if inspect.isclass(fn):
        return "it is a class: differentiate one of its methods"
    if not inspect.isfunction(fn):
        kind = type(fn).__name__
        what = "a callable object" if callable(fn) else "not a function"
        return f"it is {what} of type {kind}: pass a function (or its __call__ method)"
    return None


def _receiver(module: gast.Module, fn: gast.FunctionDef) -> str | None:
    """The first parameter of a method defined in a class body (not a staticmethod)."""
    in_class = any(isinstance(c, gast.ClassDef) and fn in c.body for c in walk(module))
    static = any(getattr(d, "id", None) == "staticmethod" for d in fn.decorator_list)
    params = [*fn.args.posonlyargs, *fn.args.args]
    return params[0].id if in_class and not static and params else None


def display_path(path: str) -> str:
    """``path`` relative to the working directory where it lies below it, in POSIX form."""
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return absolute.as_posix()


def top_level_functions(module: gast.Module) -> dict[str, gast.FunctionDef]:
    return {node.name: node for node in module.body if isinstance(node, gast.FunctionDef)}


def local_names(tree: gast.FunctionDef) -> set[str]:
    """Every name the function binds: its parameters and whatever it assigns."""
    names = set()
    for node in walk(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Param)):
            names.add(node.id)
    return names


def qualify(
    expr: gast.expr,
    imports: dict[str, str],
    functions: dict[str, gast.FunctionDef],
    local: set[str],
    module_name: str = "__main__",
) -> str | None:
    """Resolve ``np.sin`` to ``numpy.sin``, ``abs`` to ``builtins.abs``, a local value to None."""
    if isinstance(expr, gast.Attribute):
        base = qualify(expr.value, imports, functions, local, module_name)
        return f"{base}.{expr.attr}" if base else None
    if not isinstance(expr, gast.Name) or expr.id in local:
        return None
    if expr.id in imports:
        return imports[expr.id]
    if expr.id in functions:
        return f"{module_name}.{expr.id}"
    if hasattr(builtins, expr.id):
        return f"builtins.{expr.id}"
    return None


def collect_imports(module: gast.Module, package: str = "") -> tuple[dict[str, str],
                                                                     list[gast.stmt]]:
    """Map each name bound by a module-level import to what it refers to; the import
    statements, a relative one (``from .helpers import g``) written absolute, from ``package``
    (the module's own), so that a generated file outside the package imports the same."""
    names: dict[str, str] = {}
    nodes = []
    for node in module.body:
        if isinstance(node, gast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                names[local] = alias.name if alias.asname else local
            nodes.append(node)
        elif isinstance(node, gast.ImportFrom):
            source = node.module if node.level == 0 else _absolute(node, package)
            if not source:
                continue
            for alias in node.names:
                names[alias.asname or alias.name] = f"{source}.{alias.name}"
            absolute = copy.copy(node)
            absolute.module, absolute.level = source, 0
            nodes.append(absolute)
    return names, nodes


def _absolute(node: gast.ImportFrom, package: str) -> str | None:
    """The module ``from ..x import y`` imports from, seen from ``package``; None above its
    top."""
    parts = package.split(".") if package else []
    if node.level - 1 >= len(parts):
        return None
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def package_of(path: str, module_name: str) -> str:
    """The package a module belongs to: from its dotted name where it has one, else from the
    folders around its file that hold an ``__init__.py``."""
    if "." in module_name:
        return module_name.rpartition(".")[0]
    names: list[str] = []
    folder = Path(path).resolve().parent
    while (folder / "__init__.py").is_file():
        names.insert(0, folder.name)
        folder = folder.parent
    return ".".join(names)


def collect_constants(module: gast.Module) -> dict[str, gast.stmt]:
    """Module-level ``NAME = <a number>`` assignments the function may read: a number computed
    from literals, ``math``'s and NumPy's constants and functions, and the constants above it
    (``TWO_PI = 2.0 * math.pi``), as the module computes it when imported; and loggers."""
    constants: dict[str, gast.stmt] = {}
    imports, _ = collect_imports(module)
    bindings = Counter(t.id for node in module.body if isinstance(node, gast.Assign)
                       for t in node.targets if isinstance(t, gast.Name))
    for node in module.body:
        if not (isinstance(node, gast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], gast.Name)):
            continue
        if _is_number(node.value, constants, imports, bindings):
            node.constant_kind = "number"
        elif _is_array(node.value, constants, imports, bindings):
            node.constant_kind = "array"
        elif isinstance(node.value, (gast.Tuple, gast.List)) and node.value.elts and all(
                _is_number(e, constants, imports, bindings) for e in node.value.elts):
            node.constant_kind = "sequence"
        elif _is_logger(node.value):
            node.constant_kind = "logger"
        if getattr(node, "constant_kind", None):
            for part in walk(node.value):  # named as the function body's calls are
                if isinstance(part, (gast.Call, gast.Attribute, gast.Name)):
                    part.qualname = qualify(part.func if isinstance(part, gast.Call) else part,
                                            imports, {}, set(constants))
            constants[node.targets[0].id] = node
    return constants


NUMBER_CONSTANTS = {"math.pi", "math.e", "math.tau", "math.inf", "numpy.pi", "numpy.e",
                    "numpy.inf"}
# functions that give a number for numbers (NumPy's constructors give arrays)
NUMBER_FUNCTIONS = {f"numpy.{n}" for n in (
    "sqrt exp log log2 log10 sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh abs "
    "hypot power float64 radians deg2rad degrees rad2deg").split()}


def _is_number(expr: gast.expr, constants: dict[str, gast.stmt], imports: dict[str, str],
               bindings: Counter) -> bool:
    """Whether ``expr`` is surely a number, computed from what the module has defined above
    (a constant it reads is bound once: the generated file defines each constant once)."""
    if isinstance(expr, gast.Constant):
        return isinstance(expr.value, (int, float)) and not isinstance(expr.value, bool)
    if isinstance(expr, gast.UnaryOp):
        return isinstance(expr.op, (gast.USub, gast.UAdd)) and _is_number(
            expr.operand, constants, imports, bindings)
    if isinstance(expr, gast.BinOp):
        return not isinstance(expr.op, gast.MatMult) and all(
            _is_number(e, constants, imports, bindings) for e in (expr.left, expr.right))
    if isinstance(expr, gast.Name) and expr.id in constants:  # and bound once: the value read
        return is_number_constant(constants, expr.id) and bindings[expr.id] == 1
    qualname = qualify(expr, imports, {}, set())
    if isinstance(expr, (gast.Attribute, gast.Name)):  # math.pi, or pi from math
        return qualname in NUMBER_CONSTANTS
    if isinstance(expr, gast.Call):
        called = qualify(expr.func, imports, {}, set())
        return (called is not None and (called in NUMBER_FUNCTIONS or (
                    called.startswith("math.") and called.count(".") == 1))
                and not expr.keywords and bool(expr.args)
                and all(_is_number(a, constants, imports, bindings) for a in expr.args))
    return False


# NumPy's constructors of arrays from numbers and shapes, and those of a literal
ARRAY_CONSTRUCTORS = {f"numpy.{n}" for n in "eye identity zeros ones full linspace arange".split()}
LITERAL_ARRAYS = {"numpy.array", "numpy.asarray"}


def is_number_constant(constants: dict[str, gast.stmt], name: str) -> bool:
    """Whether the module constant ``name`` is a number (not an array nor a logger)."""
    return name in constants and getattr(constants[name], "constant_kind", None) == "number"


def _is_array(expr: gast.expr, constants: dict[str, gast.stmt], imports: dict[str, str],
              bindings: Counter) -> bool:
    """Whether ``expr`` is surely a NumPy array of numbers, computed when the module is
    imported from literals, numbers and the constants above it (``W = np.array([[1.0, 2.0]])``,
    ``COUPLING = np.eye(3) * 0.5``)."""
    def number(e: gast.expr) -> bool:
        return _is_number(e, constants, imports, bindings)

    def array(e: gast.expr) -> bool:
        return _is_array(e, constants, imports, bindings)

    if isinstance(expr, gast.Name) and expr.id in constants:
        return getattr(constants[expr.id], "constant_kind", None) == "array" \
            and bindings[expr.id] == 1
    if isinstance(expr, gast.UnaryOp):
        return isinstance(expr.op, (gast.USub, gast.UAdd)) and array(expr.operand)
    if isinstance(expr, gast.BinOp):
        sides = (expr.left, expr.right)
        return any(array(e) for e in sides) and all(array(e) or number(e) for e in sides)
    if isinstance(expr, gast.Attribute) and expr.attr == "T":
        return array(expr.value)
    if not isinstance(expr, gast.Call) or not _float_dtype(expr.keywords, imports):
        return False
    called = qualify(expr.func, imports, {}, set())
    if called in LITERAL_ARRAYS:
        return len(expr.args) == 1 and _numbers_literal(expr.args[0], number)
    if called in ARRAY_CONSTRUCTORS:
        return bool(expr.args) and all(number(a) or _numbers_literal(a, number)
                                       for a in expr.args)
    return called in NUMBER_FUNCTIONS and bool(expr.args) and not expr.keywords and any(
        array(a) for a in expr.args) and all(array(a) or number(a) for a in expr.args)


def _numbers_literal(expr: gast.expr, number: Callable[[gast.expr], bool]) -> bool:
    """``[[1.0, 2.0], [3.0, 4.0]]``: nested lists or tuples of numbers, the same length at each
    depth (so that NumPy makes an array of numbers of them)."""
    if not isinstance(expr, (gast.List, gast.Tuple)):
        return number(expr)
    if not expr.elts:
        return False
    nested = [isinstance(e, (gast.List, gast.Tuple)) for e in expr.elts]
    if any(nested) and not all(nested):
        return False
    if all(nested) and len({len(e.elts) for e in expr.elts}) != 1:
        return False
    return all(_numbers_literal(e, number) for e in expr.elts)


def _float_dtype(keywords: list[gast.keyword], imports: dict[str, str]) -> bool:
    """No option, or ``dtype=float``: an array of floats (an int array's values would be
    rounded where a derivative steps them)."""
    for k in keywords:
        dtype = qualify(k.value, imports, {}, set()) if k.arg == "dtype" else None
        if dtype not in ("builtins.float", "numpy.float64"):
            return False
    return True


def _is_logger(expr: gast.expr) -> bool:
    """``logging.getLogger(...)``: a module's logger, which kept log calls need."""
    return (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Attribute)
            and expr.func.attr == "getLogger")


def _first_line(node: gast.FunctionDef) -> int:
    return min([node.lineno] + [d.lineno for d in node.decorator_list])


def _parsed(path: str, text: str, module: gast.Module, tree: gast.FunctionDef,
            module_name: str, live: object = None,
            made: dict[str, gast.FunctionDef] | None = None) -> ParsedFunction:
    """``made``: functions the passes added to the module (``records``, ``lifting``)."""
    imports, import_nodes = collect_imports(module, package_of(path, module_name))
    functions = {**(made or {}), **top_level_functions(module)}
    parsed = ParsedFunction(
        path=path,
        tree=tree,
        lines=text.splitlines(keepends=True),
        imports=imports,
        import_nodes=import_nodes,
        constants=collect_constants(module),
        functions=functions,
        local=local_names(tree),
        module_name=module_name,
        module=module,
        live=live,
    )
    for node in walk(tree):
        if isinstance(node, gast.Attribute) and parsed.qualify(node) in NUMBER_CONSTANTS:
            node.constant = parsed.qualify(node)  # np.pi: a number, not an operation
        if isinstance(node, gast.Call):
            node.qualname = parsed.qualify(node.func)
            if isinstance(node.func, gast.Name) and node.func.id in HELPERS \
                    and node.func.id in functions:  # generated code, differentiated again
                node.qualname = f"ad_transpile.runtime.{node.func.id}"
    refuse_hidden_flow(
        tree, module, {n: f for n, f in functions.items() if n not in HELPERS},
        lambda expr, local: qualify(expr, imports, functions, local, module_name),
        local_names, parsed.error)
    return parsed


def _live_callee(module: str, name: str) -> ParsedFunction | None:
    """A function of an already imported module of the user's project (not a library)."""
    target = getattr(sys.modules.get(module), name, None)
    if not inspect.isfunction(target):
        return None
    try:
        file = Path(inspect.getsourcefile(target) or "").resolve()
    except TypeError:
        return None
    libraries = {Path(p).resolve() for p in sysconfig.get_paths().values()}
    if not file.is_file() or any(lib in file.parents for lib in libraries):
        return None
    return function_from_object(target)


def _file_callee(folder: Path, module: str, name: str) -> ParsedFunction | None:
    """A function of another module of the user's project, found as a file and read as text."""
    relative = Path(*module.split("."))
    for base in [folder, *folder.parents][:4]:
        for candidate in (base / f"{relative}.py", base / relative / "__init__.py"):
            if candidate.is_file():
                text = candidate.read_text(encoding="utf-8")
                tree = parse_text(text, display_path(str(candidate)))
                functions = top_level_functions(tree)
                if name not in functions:
                    return None
                return _parsed(display_path(str(candidate)), text, tree, functions[name], module)
    return None
