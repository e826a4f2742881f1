"""Drop the training rows an audit flagged, keeping the rest byte for byte: the step between "the audit
found problems" and "train on clean data". The input file is never modified; the cleaned copy and the
list of removed rows (file:line and why) are new files. `harness clean AUDIT TRAIN --out CLEAN.jsonl` is
this as a command."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from harness.core.errors import InputError
from harness.core.io import json_text, write_set_atomic

BOM = b"\xef\xbb\xbf"

REMOVES = ("all", "all_but_first")


def flagged_rows(audit: dict[str, Any], drop: list[str] | None = None, keep: list[str] | None = None) -> dict[int, str]:
    """Training-file line -> the first check that flagged it (only checks in `drop` when given; never
    those in `keep`). Each check's entry says whether its rows go (`removes`, from the check's class:
    checks/base.py), so a plug-in's rows are cleaned like the built-in ones. Only training rows go: a
    leaked eval row stays as the benchmark, its training copy goes."""
    entries = audit.get("checks") or []
    if entries and not any("removes" in c for c in entries):
        raise InputError("audit.json", "written by an older harness (no check says which rows it removes); "
                                       "run the audit again")
    out: dict[int, str] = {}
    for c in entries:
        name, how = c["check"], c.get("removes")
        if how not in REMOVES or (drop is not None and name not in drop) or (keep and name in keep):
            continue
        for f in c.get("findings", []):
            rows = [r for r in f.get("rows", []) if r.get("split") == "train"]
            if how == "all_but_first":
                rows = sorted(rows, key=lambda r: r["line"])[1:]
            for r in rows:
                out.setdefault(r["line"], name)
        if how == "all":
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
               keep: list[str] | None = None, dry_run: bool = False, removed_path: str | Path | None = None,
               audit_path: str | Path | None = None) -> dict[str, Any]:
    """`harness clean`: OUT without the rows the audit flagged (by every check that removes rows, or
    only `drop`, never `keep`), and OUT's removed-rows list beside it (OUT.removed.json). The audit must
    be of this very file (its sha256). `dry_run`: the summary only, nothing written. `audit_path`: where
    the audit was read from, which neither output may replace."""
    from harness.core.io import sha256_file

    train_path, out = Path(train_path), Path(out)
    if train_path.suffix.lower() != ".jsonl":
        raise InputError(train_path, "cleaning keeps rows verbatim and needs JSONL input")
    inputs = audit.get("inputs") if isinstance(audit.get("inputs"), dict) else {}
    audited = (inputs.get("train") if isinstance(inputs.get("train"), dict) else {}).get("sha256")
    if audited and audited != sha256_file(train_path):
        raise InputError(train_path, "the audit was made for another file (its sha256 differs); audit this file first")
    known = [c["check"] for c in audit["checks"]]
    for name in [*(drop or []), *(keep or [])]:
        if name not in known:
            from harness.core.hints import did_you_mean

            raise InputError(train_path, f"no check {name!r} in the audit{did_you_mean(name, known)}")
    removed_path = Path(removed_path or out.with_name(out.name + ".removed.json"))
    _refuse_overwriting_inputs([out, removed_path], train_path, audit, audit_path)
    flagged = flagged_rows(audit, drop, keep)
    raw = train_path.read_bytes()
    bom = BOM if raw.startswith(BOM) else b""
    # The kept lines are copied as bytes, line ends (CRLF or LF, none after the last) included, and a BOM
    # stays at the start of the file whichever rows go: the output is the input minus the removed lines.
    # The audit's line numbers count \n only (harness/inputs/formats.py: physical_lines), so does this split.
    lines = raw[len(bom):].split(b"\n")
    ends = [b"\n"] * (len(lines) - 1) + [b""]
    out_bytes = bom + b"".join(line + end for number, (line, end) in enumerate(zip(lines, ends), start=1)
                               if number not in flagged)
    kept = [line for number, line in enumerate(lines, start=1)
            if number not in flagged and line.decode("utf-8", "replace").strip()]
    removed = [{"line": n, "check": c, "where": f"{train_path}:{n}"} for n, c in sorted(flagged.items())]
    summary = {"source": str(train_path), "out": str(out), "kept": len(kept), "removed": len(removed),
               "by_check": {c: sum(1 for r in removed if r["check"] == c) for c in sorted({r["check"] for r in removed})},
               "dry_run": dry_run, "rows": removed}
    if not dry_run:
        # One atomic set: a reader never finds the new cleaned file beside an older removed-rows list.
        # Both are staged as temporary files, then renamed with Ctrl-C and SIGTERM held back, the list
        # first and the cleaned file last (the commit point). The list names the cleaned file's sha256,
        # so even a hard kill between the two renames (a new list beside an old file) shows as a mismatch.
        summary["out_sha256"] = hashlib.sha256(out_bytes).hexdigest()
        write_set_atomic({removed_path: json_text(summary).encode("utf-8"), out: out_bytes})
    return summary


def _refuse_overwriting_inputs(outputs: list[Path], train_path: Path, audit: dict[str, Any],
                               audit_path: str | Path | None) -> None:
    """Neither output (OUT, OUT.removed.json) may replace the training data, the audit, or the files the
    audit names: its eval set is the benchmark the cleaned data is judged on. A file counts as one of
    them when it is the same file (any name, link or hard link), or when it holds the audited eval bytes
    (the audit's relative paths are from wherever it was run). Not the training bytes: a cleaned copy with
    nothing removed holds them, and a second clean into it is fine."""
    import os

    from harness.core.io import sha256_file

    inputs = audit.get("inputs") if isinstance(audit.get("inputs"), dict) else {}
    named = [(train_path, "the training data"), (audit_path, "the audit")]
    digests: dict[str, str] = {}
    for split, what in (("eval", "the eval set the audit names"), ("train", "the training data the audit names")):
        entry = inputs.get(split) if isinstance(inputs.get(split), dict) else {}
        if isinstance(entry.get("path"), str):
            named.append((Path(entry["path"]), what))
        if split == "eval" and isinstance(entry.get("sha256"), str):
            digests[entry["sha256"]] = what
    for out in outputs:
        if not out.is_file():
            continue
        for path, what in named:
            try:
                same = path is not None and os.path.samefile(out, path)
            except OSError:
                same = False
            if same:
                raise InputError(out, f"the output would overwrite {what}; choose another --out")
        what = digests.get(sha256_file(out)) if digests else None
        if what:
            raise InputError(out, f"the output would overwrite {what} (the same bytes); choose another --out")
