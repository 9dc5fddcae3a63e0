"""Every diagnostic ad-transpile can give, one small class each, with its message template."""

from __future__ import annotations


class TranspileError(Exception):
    """A function cannot be differentiated; the message starts with ``path:line:col:``."""

    template = "{what}"

    def __init__(self, path: str, line: int, col: int, **fields: object) -> None:
        self.path, self.line, self.col = path, line, col
        self.fields = fields
        self.reason = self.template.format(**fields)
        super().__init__(f"{path}:{line}:{col}: {self.reason}")


class SyntaxProblem(TranspileError):
    template = "syntax error: {what}"


class MissingFile(TranspileError):
    template = "no such file: {what}"


class Unreadable(TranspileError):
    template = "cannot read this file: {why}"


class UnknownFunction(TranspileError):
    template = "no function named '{name}' at the top level of this file"


class NoSource(TranspileError):
    template = "cannot read the source of {name}: {why}"


class Unsupported(TranspileError):
    template = "{construct} is not supported: {why}"


class NoRule(TranspileError):
    template = (
        "no derivative rule for '{name}' and no source to differentiate; "
        "give its partial derivatives with @partials({name}) in your module or a rules file "
        "(--rules), or declare it nondifferentiable({name})"
    )


class BadWrt(TranspileError):
    template = "cannot differentiate with respect to {wrt!r}: {why}"


class BadRule(TranspileError):
    template = "bad derivative rule: {why}"


class NoBatchedTangent(TranspileError):
    template = (
        "{name} has no batched tangent rule (@batched_tangents): forward mode takes one "
        "tangent direction at a time here"
    )
