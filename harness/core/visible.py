"""Data strings made safe to print: a label holding `ESC[2J ESC[32mALL PASS` must not clear the screen
and print a fake verdict, an OSC-8 sequence must not become a hyperlink, a bidi override must not
reorder what a reviewer reads. Control, format and bidi-override characters are shown as escapes
(`\\x1b`, `\\u202e`); tab and newline become spaces where one line is printed; nothing a CI runner
reads as a workflow command survives."""

from __future__ import annotations

from typing import Any

import regex

# C0/C1 controls (\t and \n included: printed rows are one line), and format characters (Cf: bidi
# overrides, zero-width joiners, the BOM).
_HIDDEN = regex.compile(r"[\p{Cc}\p{Cf}]")


def escaped_char(match: "regex.Match[str]") -> str:
    """One matched hidden character as its escape (`\\x1b`, `\\u202e`); tab and newlines as a space."""
    ch = match.group()
    if ch in "\t\n\r":
        return " "
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# GitHub's runner reads workflow commands from every line a step prints: `::cmd` at a line's start (after
# spaces) and `##[cmd]` anywhere. A label `##[stop-commands]x` would silence every later annotation, a
# text `::error file=...::` would make a fake one. In data, the first character of either is shown as an
# escape (`\x3a:error`, `\x23#[`): no wrapping or prefix can turn what is printed into a command.
_WORKFLOW = regex.compile(r"(?:(?<=^|\s)::)|##\[")


def _defuse(match: "regex.Match[str]") -> str:
    return "\\x3a:" if match.group() == "::" else "\\x23#["


def visible(text: object) -> str:
    """`text` as a string with every hidden character shown as an escape, and nothing a CI runner reads as
    a command."""
    s = str(text)
    s = _HIDDEN.sub(escaped_char, s) if _HIDDEN.search(s) else s
    return _WORKFLOW.sub(_defuse, s) if ("::" in s or "##[" in s) else s


def visible_tree(obj: Any) -> Any:
    """The same over every string (keys included) of a JSON-like value, for the terminal renderers."""
    if isinstance(obj, str):
        return visible(obj)
    if isinstance(obj, dict):
        return {visible_tree(k) if isinstance(k, str) else k: visible_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [visible_tree(v) for v in obj]
    return obj
