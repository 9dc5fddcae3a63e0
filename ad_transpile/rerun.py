"""The ``ad-transpile grad`` command line a generated file's header describes.

``check`` prints it under a stale file, so that a person (or a CI log) sees the exact command
that writes the file again, byte for byte: the header's paths are relative to the folder the
command first ran in, so the command runs there (``cd FOLDER && ...`` when that is not here).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from ad_transpile.header import Header


def grad_command(header: Header, file: Path, base: Path | None) -> str:
    """The shell command that regenerates ``file``; ``base`` is the folder its header's
    relative paths start from (None: the working directory)."""
    words = ["ad-transpile", "grad", f"{header.source}::{header.function}"]
    for name in header.wrt:
        words += ["--wrt", name]
    mode = header.mode.removeprefix("forward over ")
    if mode != "reverse":
        words += ["--mode", mode]
    if header.mode.startswith("forward over "):
        words += ["--order", "2"]
    for arg in header.args:
        words += ["--arg", arg]
    for rules in header.rules:
        words += ["--rules", rules]
    if header.explain:
        words.append("--explain")
    here = Path.cwd().resolve()
    folder = None if base is None or base.resolve() == here else base.resolve()
    words += ["-o", _relative(file.resolve(), folder or here)]
    command = shlex.join(words)
    return command if folder is None else f"cd {shlex.quote(_relative(folder, here))} && {command}"


def _relative(path: Path, start: Path) -> str:
    """``path`` as short as it can be from ``start``: relative, or absolute if it is shorter."""
    relative = os.path.relpath(path, start)
    return relative if len(relative) <= len(str(path)) else str(path)
