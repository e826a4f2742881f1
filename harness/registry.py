"""A name -> class registry with did-you-mean lookups, shared by checks and suites (cleanlab's
plug-ins registered by name; lm-eval's "did you mean" errors)."""

from __future__ import annotations

import difflib
from typing import TypeVar

T = TypeVar("T", bound=type)


class Registry(dict):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def register(self, cls: T) -> T:
        if cls.name in self and self[cls.name] is not cls:
            raise ValueError(f"{self.kind} {cls.name!r} registered twice")
        self[cls.name] = cls
        return cls

    def lookup(self, name: str):
        from .errors import UsageError

        try:
            return self[name]
        except KeyError:
            hint = difflib.get_close_matches(name, self, n=1)
            raise UsageError(f"unknown {self.kind} {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else
                             f"; known {self.kind}s: {', '.join(self)}")) from None
