"""Soft unit tests: an input and the expected output, from a list, a test module or a data file.

A test module marks its tests with ``@soft_test``; each returns one ``(input, expected)`` pair or
an iterable of them. Data files hold one test per row: a CSV with a header (the input column(s),
then the expected output last), a ``.npy`` array laid out the same way, or a ``.npz`` with arrays
``x`` (inputs) and ``y`` (expected outputs).
"""

from __future__ import annotations

import csv
import inspect
import math
import numbers
import runpy
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

import numpy as np

from ad_transpile.fit.errors import FitError

MARK = "__soft_test__"


@dataclass(frozen=True)
class SoftTest:
    """One soft unit test: the program's inputs, the output expected of it, and a name to show."""

    inputs: tuple[Any, ...]
    expected: float
    name: str
    labels: tuple[str, ...] = ()

    def describe_input(self) -> str:
        values = [_short(v) for v in self.inputs]
        if len(self.labels) == len(values):
            return ", ".join(f"{k}={v}" for k, v in zip(self.labels, values))
        return ", ".join(values)


def soft_test(fn: Callable | None = None) -> Callable:
    """Mark a function of a test module as a soft unit test (``@soft_test`` or ``@soft_test()``).

    The function takes no arguments and returns ``(input, expected)`` or an iterable of pairs::

        @soft_test
        def two_plus_two():
            return (2.0, 2.0), 4.0
    """

    def mark(f: Callable) -> Callable:
        setattr(f, MARK, True)
        return f

    return mark if fn is None else mark(fn)


def load_tests(source: Any) -> list[SoftTest]:
    """Soft unit tests from pairs, a module of ``@soft_test`` functions, or a data file's path."""
    if isinstance(source, (str, Path)):
        tests = _from_path(Path(source), _shown(Path(source)))
    elif isinstance(source, ModuleType):
        tests = _from_functions(vars(source).values())
    elif isinstance(source, np.ndarray):
        tests = _from_table(source, "array", ())
    elif isinstance(source, Iterable):
        tests = _from_pairs(source, "tests[{}]")
    else:
        raise FitError(
            "tests must be (input, expected) pairs, a module of @soft_test functions, or the "
            f"path of a .csv, .npy or .npz file, not {type(source).__name__}"
        )
    if not tests:
        raise FitError("no soft unit tests were given", _where(source))
    return tests


def _where(source: Any) -> str | None:
    return _shown(Path(source)) if isinstance(source, (str, Path)) else None


def _shown(path: Path) -> str:
    """A path as a user reads it: relative to the working directory where it lies below it."""
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _from_pairs(pairs: Iterable[Any], name: str) -> list[SoftTest]:
    tests = []
    for i, pair in enumerate(pairs):
        if isinstance(pair, SoftTest):
            tests.append(pair)
            continue
        label = name.format(i)
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise FitError(f"a soft unit test is an (input, expected) pair, not {pair!r}", label)
        value, expected = pair
        inputs = tuple(value) if isinstance(value, tuple) else (value,)
        tests.append(SoftTest(inputs, _expected(expected, label), label))
    return tests


def _expected(value: Any, label: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise FitError(f"the expected output must be a number, not {value!r}", label)
    if not math.isfinite(value):
        raise FitError(f"the expected output {value!r} is not a finite number", label)
    return float(value)


def _from_functions(objects: Iterable[Any]) -> list[SoftTest]:
    marked = [f for f in objects if callable(f) and getattr(f, MARK, False)]
    marked.sort(key=lambda f: (inspect.getsourcefile(f) or "", f.__code__.co_firstlineno))
    tests = []
    for f in marked:
        result = f()
        if _is_one_pair(result):
            tests += _from_pairs([result], f.__name__)
        else:
            tests += _from_pairs(result, f"{f.__name__}[{{}}]")
    return tests


def _is_one_pair(result: Any) -> bool:
    return (
        isinstance(result, tuple) and len(result) == 2
        and isinstance(result[1], numbers.Real) and not isinstance(result[0], SoftTest)
    )


def _from_path(path: Path, shown: str) -> list[SoftTest]:
    if not path.is_file():
        raise FitError("no such file", shown)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _from_csv(path, shown)
    if suffix == ".py":
        return _from_functions(runpy.run_path(str(path)).values())
    if suffix in (".npy", ".npz"):
        try:
            data = np.load(path, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            raise FitError(f"cannot read this {suffix} file: {exc}", shown) from None
        if suffix == ".npy":
            return _from_table(data, shown, ())
        with data:
            return _from_npz(dict(data), shown)
    raise FitError(
        f"unknown kind of test file '{suffix}': use .csv (with a header), .npy, .npz or .py", shown
    )


def _from_csv(path: Path, shown: str) -> list[SoftTest]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FitError(f"not UTF-8 text ({exc.reason})", f"{shown}:1") from None
    rows = [
        (line, row) for line, row in enumerate(csv.reader(text.splitlines()), start=1)
        if row and not row[0].lstrip().startswith("#") and any(cell.strip() for cell in row)
    ]
    if not rows:
        raise FitError("the file is empty: expected a header, then one test per row", f"{shown}:1")
    header_line, header = rows[0]
    header = [cell.strip() for cell in header]
    if all(_is_number(cell) for cell in header):
        raise FitError(
            "the first row must be a header naming the columns "
            "(the input column(s), then the expected output last)", f"{shown}:{header_line}",
        )
    if len(header) < 2:
        raise FitError(
            "a test needs at least two columns: the input(s), then the expected output",
            f"{shown}:{header_line}",
        )
    tests = []
    for line, row in rows[1:]:
        where = f"{shown}:{line}"
        if len(row) != len(header):
            raise FitError(
                f"expected {len(header)} values ({', '.join(header)}), found {len(row)}", where
            )
        values = [_cell(cell, column, where) for cell, column in zip(row, header)]
        tests.append(SoftTest(tuple(values[:-1]), values[-1], where, tuple(header[:-1])))
    if not tests:
        raise FitError("no soft unit tests: the file has a header but no rows", f"{shown}:1")
    return tests


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _cell(cell: str, column: str, where: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise FitError(f"column '{column}': {cell.strip()!r} is not a number", where) from None
    if not math.isfinite(value):
        raise FitError(f"column '{column}': {cell.strip()} is not a finite number", where)
    return value


def _from_npz(arrays: dict[str, np.ndarray], shown: str) -> list[SoftTest]:
    for x_key, y_key in (("x", "y"), ("inputs", "expected")):
        if x_key in arrays and y_key in arrays:
            x, y = np.asarray(arrays[x_key]), np.asarray(arrays[y_key])
            x = x.reshape(-1, 1) if x.ndim == 1 else x
            if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
                raise FitError(
                    f"'{x_key}' must have shape (n,) or (n, k) and '{y_key}' shape (n,), "
                    f"not {x.shape} and {y.shape}", shown,
                )
            labels = (x_key,) if x.shape[1] == 1 else ()
            return _from_table(np.column_stack([x, y]), shown, labels)
    if len(arrays) == 1:
        return _from_table(next(iter(arrays.values())), shown, ())
    raise FitError(
        f"expected arrays 'x' and 'y' (or a single (n, k+1) array), found {sorted(arrays)}", shown
    )


def _from_table(table: np.ndarray, shown: str, labels: tuple[str, ...]) -> list[SoftTest]:
    if table.ndim != 2 or table.shape[1] < 2:
        raise FitError(
            f"expected a table of shape (n, k+1): k input columns, then the expected output; "
            f"found shape {table.shape}", shown,
        )
    if not np.issubdtype(table.dtype, np.number):
        raise FitError(f"expected numbers, found {table.dtype}", shown)
    bad = np.argwhere(~np.isfinite(table.astype(float)))
    if len(bad):
        row, column = bad[0]
        raise FitError(f"column {column}: {table[row, column]} is not a finite number",
                       f"{shown}:row {row}")
    return [
        SoftTest(tuple(float(v) for v in row[:-1]), float(row[-1]), f"{shown}:row {i}", labels)
        for i, row in enumerate(table)
    ]


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else repr(value)
