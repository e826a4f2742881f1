"""Drop the training rows an audit flagged, keeping the rest byte for byte: the step between "the audit
found problems" and "train on clean data". The input file is never modified; the cleaned copy and the
list of removed rows (file:line and why) are new files. `harness clean AUDIT TRAIN --out CLEAN.jsonl` is
this as a command."""

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
DROP_ALL = ("label_conflicts", "label_errors", "outliers", "pii", "output_format", "truncation", "unsupported_values", "boilerplate",
            "preference_pairs")


def flagged_rows(audit: dict[str, Any], drop: list[str] | None = None, keep: list[str] | None = None) -> dict[int, str]:
    """Training-file line -> the first check that flagged it (only checks in `drop` when given; never
    those in `keep`)."""
    out: dict[int, str] = {}
    for c in audit["checks"]:
        name = c["check"]
        if (drop is not None and name not in drop) or (keep and name in keep):
            continue
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
        if name in DROP_ALL:
            # findings past the check's listing cap: their training rows are kept in info (checks/base.py)
            for lines in (c.get("info") or {}).get("unlisted_rows", []):
                for line in lines:
                    out.setdefault(int(line), name)
    return out


def clean(train_path: str | Path, audit: dict[str, Any], out_dir: str | Path) -> dict[str, Any]:
    """Write OUT/train.jsonl without the flagged rows (JSONL input only) and OUT/removed.json."""
    out_dir = Path(out_dir)
    return clean_file(train_path, audit, out_dir / "train.jsonl", removed_path=out_dir / "removed.json")


def clean_file(train_path: str | Path, audit: dict[str, Any], out: str | Path, *, drop: list[str] | None = None,
               keep: list[str] | None = None, dry_run: bool = False, removed_path: str | Path | None = None) -> dict[str, Any]:
    """`harness clean`: OUT without the rows the audit flagged (by every check that removes rows, or
    only `drop`, never `keep`), and OUT's removed-rows list beside it (OUT.removed.json). The audit must
    be of this very file (its sha256). `dry_run`: the summary only, nothing written."""
    from .io import sha256_file

    train_path, out = Path(train_path), Path(out)
    if train_path.suffix.lower() != ".jsonl":
        raise InputError(train_path, "cleaning keeps rows verbatim and needs JSONL input")
    audited = (audit.get("inputs", {}).get("train") or {}).get("sha256")
    if audited and audited != sha256_file(train_path):
        raise InputError(train_path, "the audit was made for another file (its sha256 differs); audit this file first")
    known = [c["check"] for c in audit["checks"]]
    for name in [*(drop or []), *(keep or [])]:
        if name not in known:
            from .hints import did_you_mean

            raise InputError(train_path, f"no check {name!r} in the audit{did_you_mean(name, known)}")
    flagged = flagged_rows(audit, drop, keep)
    # The audit's line numbers count \n only (harness/formats.py: physical_lines), so must this.
    lines = physical_lines(train_path.read_text(encoding="utf-8-sig"))
    kept = [line + "\n" for number, line in enumerate(lines, start=1) if number not in flagged and line.strip()]
    removed = [{"line": n, "check": c, "where": f"{train_path}:{n}"} for n, c in sorted(flagged.items())]
    summary = {"source": str(train_path), "out": str(out), "kept": len(kept), "removed": len(removed),
               "by_check": {c: sum(1 for r in removed if r["check"] == c) for c in sorted({r["check"] for r in removed})},
               "dry_run": dry_run, "rows": removed}
    if not dry_run:
        write_text_atomic(out, "".join(kept))
        write_json_atomic(removed_path or out.with_name(out.name + ".removed.json"), summary)
    return summary
