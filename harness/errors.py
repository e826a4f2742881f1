"""Errors the user can act on: one line naming file, line and reason, exit code 2, never a traceback."""

from __future__ import annotations


class HarnessError(Exception):
    """Base for errors shown to the user as one line."""

    exit_code = 2


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
