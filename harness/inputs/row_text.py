"""The text of the rows an audit's findings point at, for the report to show beside file:line: a reviewer
sees the two rows of a duplicate or a conflict side by side without opening the file. Personal data is
masked as the pii check masks it, and each text is cut short. Read from the audited files again (the
audit itself keeps no row text); a file that moved or changed since gives no text, not a wrong one."""

from __future__ import annotations

import json
from typing import Any

from harness.inputs.data import read_as, to_example
from harness.core.errors import HarnessError
from harness.core.io import sha256_file
from harness.inputs.readers import read_records
from harness.core.redact import mask_text
from harness.inputs.shapes import is_shape

MAX_CHARS = 240


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def example_parts(ex: Any) -> dict[str, str]:
    """What a reviewer reads of one row: its input, its answer (label or completion) and, for a
    preference row, the rejected answer (reports/view.py lays them out)."""
    answer = ex.label if ex.label is not None else ex.output
    return {k: v for k, v in (("input", ex.input), ("answer", answer), ("rejected", ex.rejected)) if v}


def row_texts(audit: dict[str, Any], wanted: set[tuple[str, int]] | None = None,
              limit: int = MAX_CHARS) -> dict[str, dict[str, str]]:
    """{"split:line": {input, answer, rejected} or {raw}: masked, shortened texts} for the rows the
    findings name (or `wanted`). Only those rows are parsed again, read as the audit read them (its
    shape, field mapping and source format); a row the schema refused comes as written (`raw`)."""
    if (audit.get("engine") or {}).get("name", audit.get("engine")) == "spark":
        return {}  # data on a cluster: not read back into one process
    refs = wanted or {(r["split"], r["line"]) for c in audit.get("checks", []) for f in c.get("findings") or []
                      for r in f.get("rows") or []}
    out: dict[str, str] = {}
    for split in sorted({s for s, _ in refs}):
        card = (audit.get("inputs") or {}).get(split) or {}
        path, digest = card.get("path"), card.get("sha256")
        if not path or not digest or path.startswith("<") or not is_shape(card.get("shape")):
            continue  # rows given as objects: nothing to read back
        try:
            if sha256_file(path) != digest:
                continue
            records, lines, _ = read_records(path)
        except (HarnessError, OSError):
            continue
        at = {line: i for i, line in enumerate(lines)}
        mine = sorted(line for s, line in refs if s == split and line in at)
        reading = card.get("read_with") or {"shape": card["shape"], "fields": card.get("fields") or {}}
        converted, _, _, _ = read_as([records[at[line]] for line in mine], reading.get("fields") or {}, reading.get("shape"))
        for line, rec in zip(mine, converted):
            try:
                parts = example_parts(to_example(rec, line, split, card["shape"], card["fields"]))
            except Exception:  # noqa: BLE001 - a row the schema refused: shown as written
                parts = {"raw": json.dumps(records[at[line]], ensure_ascii=False, default=str)}
            out[f"{split}:{line}"] = {k: _cut(mask_text(str(v)), limit) for k, v in parts.items()}
    return out
