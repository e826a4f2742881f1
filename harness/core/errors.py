"""Errors the user can act on: one line naming file, line and reason, exit code 2, never a traceback."""

from __future__ import annotations

# What an error may quote from the data, and the longest error line: a row of 1.38 MB matching no shape
# was once quoted whole, one line a terminal or CI log cannot show.
MAX_QUOTED = 200
MAX_MESSAGE = 1000


def quoted(value: object, limit: int = MAX_QUOTED) -> str:
    """`value` (a field name, a cell, a row) as an error quotes it: past `limit` characters it is cut, with
    an ellipsis and its whole length, so a huge value cannot become a huge message."""
    s = str(value)
    return s if len(s) <= limit else f"{s[:limit]}... ({len(s):,} characters)"


def clipped(message: str, limit: int = MAX_MESSAGE) -> str:
    """The backstop for every error line: past `limit` characters the middle is cut (the start names the
    file, the end usually says what to do), whatever a call site quoted."""
    if len(message) <= limit:
        return message
    head, tail = limit * 2 // 3, limit // 4
    return f"{message[:head]} ... [{len(message) - head - tail:,} of {len(message):,} characters cut] ... {message[-tail:]}"


class HarnessError(Exception):
    """Base for errors shown to the user as one line."""

    exit_code = 2

    def __str__(self) -> str:
        return clipped(super().__str__())


class InputError(HarnessError):
    """Input that cannot be used at all (missing, empty, undecodable, unparseable, unknown shape)."""

    def __init__(self, path: str, reason: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class UsageError(HarnessError):
    """A wrong option, policy key or argument."""
