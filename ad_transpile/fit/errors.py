"""The one error of the fitting driver: bad input, located where the user can fix it."""

from __future__ import annotations


class FitError(ValueError):
    """A fit cannot start or go on; the message starts with where the problem is.

    ``location`` is ``path:line:col`` for a program, ``file:line`` for a row of a data file, or
    ``file`` alone for a whole file.
    """

    def __init__(self, message: str, location: str | None = None) -> None:
        self.location = location
        self.reason = message
        super().__init__(f"{location}: {message}" if location else message)
