"""Drop the training rows an audit flagged, keeping the rest byte for byte: the step between "the audit
found problems" and "train on clean data". The input file is never modified; the cleaned copy and the
list of removed rows (file:line and why) are new files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import InputError
from .formats import physical_lines
from .io import write_json_atomic, write_text_atomic

# Which findings remove which rows: duplicates keep their first row; conflicts, likely label errors,
# leaked copies of eval rows, rows with personal data and answers in a minority format, cut off,
# holding values their input does not, or carrying refusals and pasted boilerplate go.
KEEP_FIRST = ("exact_duplicates", "near_duplicates")
DROP_ALL = ("label_conflicts", "label_errors", "pii", "output_format", "truncation", "unsupported_values", "boilerplate")


def flagged_rows(audit: dict[str, Any]) -> dict[int, str]:
    """Training-file line -> the first check that flagged it."""
    out: dict[int, str] = {}
    for c in audit["checks"]:
        name = c["check"]
        for f in c.get("findings", []):
            rows = [r for r in f.get("rows", []) if r.get("split") == "train"]
            if name in KEEP_FIRST:
                rows = sorted(rows, key=lambda r: r["line"])[1:]
            elif name == "leakage":
                pass  # the training copies of eval rows go; the eval set stays as the benchmark
            elif name not in DROP_ALL and name != "schema":
                continue
            for r in rows:
                out.setdefault(r["line"], name)
    return out


def clean(train_path: str | Path, audit: dict[str, Any], out_dir: str | Path) -> dict[str, Any]:
    """Write OUT/train.jsonl without the flagged rows (JSONL input only) and OUT/removed.json."""
    train_path, out_dir = Path(train_path), Path(out_dir)
    if train_path.suffix.lower() != ".jsonl":
        raise InputError(train_path, "cleaning keeps rows verbatim and needs JSONL input")
    drop = flagged_rows(audit)
    # The audit's line numbers count \n only (harness/formats.py: physical_lines), so must this.
    lines = physical_lines(train_path.read_text(encoding="utf-8-sig"))
    kept = [line + "\n" for number, line in enumerate(lines, start=1) if number not in drop and line.strip()]
    write_text_atomic(out_dir / "train.jsonl", "".join(kept))
    removed = [{"line": n, "check": c, "where": f"{train_path}:{n}"} for n, c in sorted(drop.items())]
    summary = {"source": str(train_path), "kept": len(kept), "removed": len(removed),
               "by_check": {c: sum(1 for r in removed if r["check"] == c) for c in sorted({r["check"] for r in removed})},
               "rows": removed}
    write_json_atomic(out_dir / "removed.json", summary)
    return summary
