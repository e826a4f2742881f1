"""GitHub Actions outputs: the Markdown summary appended to the job's step summary ($GITHUB_STEP_SUMMARY),
and findings as workflow commands (`::error file=...,line=...::message`), which GitHub shows as
annotations on the file and line in the pull request. GitHub keeps at most 10 error and 10 warning
annotations per step, so the most severe come first and the rest are counted, not printed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from harness.core.status import ERROR, FAIL, WARN, entry_status
from harness.core.visible import visible

MAX_ANNOTATIONS = 10  # per kind (error, warning): GitHub shows no more per step


def escape_data(text: str) -> str:
    """A command's message (GitHub's escaping: %, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value (file, title): also ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, file: str | None = None, line: int | None = None, title: str | None = None) -> str:
    """One workflow command; data in it is shown, never obeyed (harness/core/visible.py: no control characters,
    no `##[` or `::` a runner would read)."""
    props = [f"{k}={escape_property(visible(v))}" for k, v in (("file", file), ("line", line), ("title", title))
             if v is not None]
    return f"::{kind}{' ' + ','.join(props) if props else ''}::{escape_data(visible(message))}"


def _relative(path: str) -> str:
    """A data file's path as GitHub needs it: relative to the checked-out repository."""
    root = os.environ.get("GITHUB_WORKSPACE")
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve())) if root else path
    except ValueError:
        return path


def audit_annotations(audit: dict[str, Any], limit: int = MAX_ANNOTATIONS) -> list[str]:
    """Findings of failed checks as errors, of warned checks as warnings; each at its first row's file and
    line; up to `limit` of each kind, then one line saying how many more audit.json holds."""
    paths = {split: (audit.get("inputs", {}).get(split) or {}).get("path") for split in ("train", "eval")}
    kinds = {FAIL: "error", WARN: "warning"}
    out: list[str] = []
    for status, kind in kinds.items():
        found = [(c["check"], f) for c in audit["checks"] if entry_status(c) == status for f in c.get("findings") or []]
        for check, f in found[:limit]:
            ref = (f.get("rows") or [None])[0]
            path = paths.get(ref["split"]) if ref else None
            out.append(command(kind, f.get("message", ""), _relative(path) if path else None,
                               ref["line"] if ref and path else None, f"audit: {check}"))
        if len(found) > limit:
            out.append(command("notice", f"{len(found) - limit} more {kind}-level findings in audit.json",
                               title="audit"))
    for c in audit["checks"]:
        if entry_status(c) == ERROR:
            out.append(command("error", c.get("error") or "crashed", title=f"audit: {c['check']} crashed"))
    return out


def compare_annotations(results: dict[str, Any], limit: int = MAX_ANNOTATIONS) -> list[str]:
    """Broken gate rules (failures as errors, flagged rules as warnings); crashed suites as errors."""
    out: list[str] = []
    for status, kind in ((FAIL, "error"), (WARN, "warning")):
        broken = [(s, name, m) for s, suite in results["suites"].items() for name, m in (suite.get("metrics") or {}).items()
                  if m.get("status") == status]
        for s, name, m in broken[:limit]:
            out.append(command(kind, (m.get("gate") or {}).get("reason", status), title=f"gate: {s}.{name}"))
        if len(broken) > limit:
            out.append(command("notice", f"{len(broken) - limit} more in results.json", title="gate"))
    for reason in results.get("gate_reasons") or []:
        out.append(command("error", reason, title="gate"))
    for s, suite in results["suites"].items():
        if entry_status(suite) == ERROR:
            out.append(command("error", suite.get("error") or "crashed", title=f"compare: {s} crashed"))
    return out


def append_summary(markdown: str, path: str | None = None) -> Path | None:
    """Append to the job's step summary (GITHUB_STEP_SUMMARY, or `path`); None when neither is set."""
    target = path or os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as fh:  # GitHub's file for this step: append, as its docs say
        fh.write(markdown.rstrip() + "\n\n")
    return Path(target)


def emit(lines: Iterable[str], write=print) -> None:
    for ln in lines:
        write(ln)
