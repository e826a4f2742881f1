"""Prompt files (JSONL, one {"prompt": ..., "id": ...} a line): the general prompt sets drift scores the
tuned model on, shipped in suites/prompts/ or given with `harness compare --prompts`. Read here, below
the suites and the compare stage that both need them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.core.errors import InputError


def read_prompts(path: Path) -> list[dict[str, Any]]:
    """Every non-blank line as {"id", "prompt", "file", "line"}; a line that is not a JSON object with a
    text `prompt` is an InputError naming the file and line."""
    path = Path(path)
    out = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"not UTF-8 text ({exc.reason})") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(str(path), f"not JSON ({exc.msg})", number) from None
        if not isinstance(rec, dict) or not isinstance(rec.get("prompt"), str):
            raise InputError(str(path), 'expected a JSON object with a text "prompt"', number)
        out.append({"id": rec.get("id", f"{path.stem}-{number}"), "prompt": rec["prompt"], "file": str(path),
                    "line": number})
    return out
