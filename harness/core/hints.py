"""The one "did you mean" for every error that names an unknown key, name or value (lm-eval's errors):
a close match when there is one, else the list of what is known."""

from __future__ import annotations

import difflib
from typing import Iterable


def closest(name: str, options: Iterable[object], cutoff: float = 0.6) -> str | None:
    """The known option nearest to a mistyped name, if any is near enough."""
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(name: str, options: Iterable[object], cutoff: float = 0.6) -> str:
    """'; did you mean 'x'?' or '; expected one of: a, b, c' — to append to an error message."""
    options = [str(o) for o in options]
    close = closest(name, options, cutoff)
    return f"; did you mean {close!r}?" if close else f"; expected one of: {', '.join(options)}"
