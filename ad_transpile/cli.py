"""The ``ad-transpile`` command: write derivative files, and check in CI that they are current."""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from pathlib import Path

import click

from ad_transpile import errors
from ad_transpile.errors import TranspileError
from ad_transpile.header import Header, HeaderError, body_hash
from ad_transpile.kinds import parse_kind
from ad_transpile.parse import display_path, read_function
from ad_transpile.pipeline import MODES, transpile
from ad_transpile.rerun import grad_command
from ad_transpile.version import __version__

EXIT_CODES = """\b
Exit codes: 0 success, 1 a check failed, 2 bad input (missing file, syntax error,
unknown function, unsupported construct), reported as one 'path:line:col: message' line."""


@click.group(epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="ad-transpile")
def main() -> None:
    """Differentiate Python functions into readable Python source (f -> fpr).

    The input file is read as text: it is never imported or run.

    \b
    Examples:
      ad-transpile grad samples/seed.py::h              # the derivative of h, to stdout
      ad-transpile grad samples/sine_fit.py::loss --wrt omega -o loss_pr.py
      ad-transpile check tests/golden                   # fail if a source changed since
      ad-transpile fit samples/sine_program.py::wave --tests samples/data/sine_tests.csv \\
          --param omega=0.75 --restarts 12 --starts grid --range omega=0:3
    """


@main.command(epilog=EXIT_CODES)
@click.argument("target", metavar="PATH::FUNC")
@click.option("--wrt", multiple=True, metavar="NAME",
              help="Parameter to differentiate with respect to (repeatable; default: the first).")
@click.option("--mode", type=click.Choice(MODES), default="reverse", show_default=True,
              help="reverse (backpropagation, one sweep for any number of parameters) or forward.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (whole or not at all); stdout if omitted. An existing file "
                   "is replaced only if ad-transpile generated it.")
@click.option("--force", is_flag=True,
              help="Replace the -o file even if ad-transpile did not generate it (never the "
                   "source file itself).")
@click.option("--order", type=click.IntRange(1, 2), default=1, show_default=True,
              help="2 writes the second derivative (fprpr): fpr differentiated again in "
                   "forward mode.")
@click.option("--rules", "rules", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="A file of your own derivative rules (@partials), winning over source "
                   "(repeatable).")
@click.option("--arg", "args", multiple=True, metavar="NAME=KIND",
              help="The kind of a parameter without an annotation: float, int, bool, "
                   "list[KIND], tuple[KIND, ...], ndarray, ndarray[NDIM] or ndarray[n, 1, ...] "
                   "(each axis's length: 1, or a name for a length other than 1; one name, "
                   "one length), repeatable, "
                   "e.g. --arg xs=list[float]. With kinds known, code of numbers is written "
                   "as scalar code.")
@click.option("--explain", is_flag=True,
              help="For learning: above each derivative line, a comment naming the rule and "
                   "the chain-rule step that made it. The code is the same as without it.")
def grad(target: str, wrt: tuple[str, ...], mode: str, output: Path | None, force: bool,
         order: int, rules: tuple[Path, ...], args: tuple[str, ...], explain: bool) -> None:
    """Write the derivative module of FUNC, defined at the top level of the file PATH.

    \b
    Example:
      ad-transpile grad samples/seed.py::h -o hpr.py
      ad-transpile grad samples/two_vars.py::bump --wrt x --wrt y --mode forward
      ad-transpile grad loop.py::loss --arg xs=list[float] --arg ys=list[float]
      ad-transpile grad samples/seed.py::h --explain
    """
    path, _, name = target.rpartition("::")
    if not path or not name:
        raise click.BadParameter(
            "expected PATH::FUNC, e.g. samples/seed.py::h", param_hint="TARGET"
        )
    names = [int(w) if w.isdigit() else w for w in wrt]
    spec = tuple(names) if len(names) > 1 else (names[0] if names else 0)
    with _reported():
        if output is not None:
            _refuse_to_replace(output, [Path(path), *rules], force)
        parsed = read_function(path, name)
        parsed.path = display_path(path)
        parsed.arg_kinds = _given_kinds(parsed, args)
        text, _ = transpile(parsed, spec, mode, rules=rules, order=order, explain=explain)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_atomically(output, text)
    except OSError as exc:
        _fail(f"{output}:1:1: cannot write the derivative: {exc.strerror or exc}")
    click.echo(f"wrote {output}", err=True)


def _given_kinds(parsed, args: tuple[str, ...]) -> dict:
    """``--arg NAME=KIND`` options as the kinds of the function's parameters."""
    params = [p.id for p in [*parsed.tree.args.posonlyargs, *parsed.tree.args.args,
                             *parsed.tree.args.kwonlyargs]]
    kinds = {}
    for arg in args:
        param, sep, text = arg.partition("=")
        param = param.strip()
        if not sep:
            raise click.BadParameter(f"{arg!r} is not NAME=KIND, e.g. xs=list[float]",
                                     param_hint="--arg")
        if param not in params:
            raise click.BadParameter(
                f"{parsed.name} has no parameter {param!r}: its parameters are "
                f"({', '.join(params)})", param_hint="--arg")
        try:
            kinds[param] = parse_kind(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--arg") from None
    return kinds


def _refuse_to_replace(output: Path, inputs: list[Path], force: bool) -> None:
    """An output file may replace a generated file, and any other file only with ``--force``;
    never an input (that would destroy the source the derivative is written from)."""
    if not output.exists():
        return
    for given in inputs:
        if given.exists() and output.samefile(given):
            raise errors.OutputIsInput(str(output), 1, 1, output=output, given=given)
    if output.is_dir():
        raise errors.OutputIsFolder(str(output), 1, 1)
    if not force and not _is_generated(output):
        raise errors.NotGenerated(str(output), 1, 1)


def _is_generated(file: Path) -> bool:
    try:
        return Header.read(file.read_text(encoding="utf-8")) is not None
    except (OSError, UnicodeDecodeError):
        return False
    except HeaderError:
        return True  # generated, with a damaged header


@main.command(epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def check(paths: tuple[Path, ...]) -> None:
    """Fail if a generated file is stale: its source function, or a function or module-level
    name it reads, changed since it was generated, or its body was edited by hand.

    PATHS are generated files or folders searched for them. Under each stale file it prints
    the grad command that writes it again; "ad-transpile regen" rewrites them all. For CI and
    pre-commit:

    \b
      ad-transpile check tests/golden
    """
    stale = current = 0
    bad = _BadInput()
    for file, header in _generated_files(paths, bad):
        problem = staleness(header, file)
        if problem is None:
            current += 1
            continue
        stale += 1
        click.echo(f"{file}: stale: {problem}")
        found = locate(header, file)
        if found is not None:
            click.echo(f"  regenerate it: {grad_command(header, file, found[0])}")
    if stale:
        click.echo(f"regenerate every stale file: ad-transpile regen {shlex.join(map(str, paths))}")
    click.echo(f"{current} current, {stale} stale", err=True)
    sys.exit(2 if bad.count else 1 if stale else 0)


@main.command(epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def regen(paths: tuple[Path, ...]) -> None:
    """Regenerate every stale generated file in place, from the command in its header.

    PATHS are generated files or folders searched for them; a file that ad-transpile did not
    generate is never touched. Each file is written whole or not at all.

    \b
      ad-transpile regen tests/golden
    """
    written = current = 0
    bad = _BadInput()
    for file, header in _generated_files(paths, bad):
        try:
            text = regenerated(header, file)
        except TranspileError as exc:
            bad(f"{file}: cannot regenerate: {exc}")
            continue
        if staleness(header, file, text) is None:
            current += 1
            continue
        try:
            write_atomically(file.resolve(), text)  # through a symlink: the link stays
        except OSError as exc:
            bad(f"{file}:1:1: cannot write: {exc.strerror or exc}")
            continue
        written += 1
        click.echo(f"regenerated {file}", err=True)
    click.echo(f"{written} regenerated, {current} current", err=True)
    sys.exit(2 if bad.count else 0)


def _generated_files(paths: tuple[Path, ...], bad: _BadInput):
    """Each generated file under ``paths`` with its header; every path that is missing, holds no
    generated file, or is a file with an unreadable header is reported (exit code 2)."""
    for given in paths:
        if not given.exists():
            bad(f"{given}:1:1: no such file or folder")
            continue
        files = sorted(given.rglob("*.py")) if given.is_dir() else [given]
        found = 0
        for file in files:
            try:
                header = Header.read(file.read_text(encoding="utf-8"))
            except UnicodeDecodeError as exc:
                bad(f"{file}:1:1: cannot read this file: not UTF-8 text ({exc.reason})")
                continue
            except OSError as exc:
                bad(f"{file}:1:1: cannot read this file: {exc.strerror or exc}")
                continue
            except HeaderError as exc:
                found += 1
                bad(f"{file}:{exc.line}:1: {exc}")
                continue
            if header is None:
                if not given.is_dir():
                    bad(f"{file}:1:1: not a file generated by ad-transpile")
                continue
            found += 1
            yield file, header
        if given.is_dir() and not found:
            bad(f"{given}:1:1: no file generated by ad-transpile in this folder "
                       "(is the path right?)")


class _BadInput:
    """Reports each bad input on stderr and goes on with the others; the command exits with 2."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, message: str) -> None:
        self.count += 1
        click.echo(message, err=True)


def locate(header: Header, file: Path) -> tuple[Path, Path] | None:
    """The folder the header's paths are relative to, and the source file, or None.

    The source was recorded as given on the command line, relative to the folder the command
    ran in: that is the generated file's folder or one above it (tried nearest first), so the
    answer does not depend on where ``check`` runs; last, the working directory.
    """
    recorded = Path(header.source)
    if recorded.is_absolute():
        return (recorded.parent, recorded) if recorded.is_file() else None
    here = file.resolve().parent
    for base in [here, *here.parents, Path.cwd()]:
        if (base / recorded).is_file():
            return base, base / recorded
    return None


def regenerated(header: Header, file: Path) -> str:
    """What ``ad-transpile grad`` with the header's options writes, run where it was run."""
    found = locate(header, file)
    if found is None:
        raise errors.MissingFile(str(file), 2, 1, what=header.source)
    base, source = found
    wrt = header.wrt[0] if len(header.wrt) == 1 else header.wrt
    order = 2 if header.mode.startswith("forward over ") else 1
    mode = header.mode.removeprefix("forward over ")
    parsed = read_function(str(source), header.function)
    parsed.path = header.source
    parsed.arg_kinds = {a.partition("=")[0].strip(): parse_kind(a.partition("=")[2])
                        for a in header.args}
    rules = tuple(r if Path(r).is_absolute() else base / r for r in map(Path, header.rules))
    text, _ = transpile(parsed, wrt, mode, rules=rules, order=order, explain=header.explain)
    if header.rules:  # recorded as given, not as found from here
        text = text.replace(f"# rules: {', '.join(map(str, rules))}\n",
                            f"# rules: {', '.join(header.rules)}\n", 1)
    return text


def staleness(header: Header, file: Path, fresh_text: str | None = None) -> str | None:
    """Why the generated ``file`` no longer matches its source, or None if it does;
    ``fresh_text`` is what :func:`regenerated` gives, if the caller has it already."""
    where = f"{header.source}::{header.function}"
    if locate(header, file) is None:
        return f"its source file {header.source} is missing"
    problems = []
    try:
        fresh = Header.read(fresh_text or regenerated(header, file))
    except TranspileError as exc:
        problems.append(f"{where} cannot be differentiated any more ({exc})")
    else:
        if fresh.source_hash != header.source_hash:
            problems.append(f"{where}, or a function or module-level name it reads, changed "
                            "since it was generated")
    if header.body_hash and body_hash(header.body_of(file.read_text(encoding="utf-8"))) \
            != header.body_hash:
        problems.append("its body was edited by hand since it was generated")
    if not problems:
        return None
    return "; ".join(problems)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a temporary file, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, _file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _file_mode(path: Path) -> int:
    """The mode the file would get from a plain ``open``: kept if it exists, else the umask's."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class _reported:
    """Turn a ``TranspileError`` into its one-line message on stderr and exit code 2."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> bool:
        if isinstance(error, TranspileError):
            _fail(str(error))
        return False


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(2)


from ad_transpile.fit.command import fit_command  # noqa: E402  (the fitting driver's command)

main.add_command(fit_command)
