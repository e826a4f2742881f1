"""One results vocabulary for the audit and the comparison: what a check entry and a suite entry hold,
named the same way (`status`, `reasons`, `error`, `traceback`, `seconds`), and the one place where the
"why did it fail" lines are built. Stages write `reasons` once; every renderer reads them (and, for a
results file written before they were, builds them here, the same way). The status words are
harness/core/status.py's: pass, warn, fail, error, skipped.

audit.json is `harness.audit/2` and results.json `harness.compare/2`: version 2 says `skipped` where
version 1 said `not_applicable` (a suite) or `pass` with `summary.applicable: false` (a check), and a
suite's status is the gate's decision (pass/warn/fail) where version 1 said `ok` and kept the decision in
`verdict`. Readers take both (harness/core/status.py: entry_status). Within a version a field is only ever
added, so a check entry also keeps `duration_s` (= `seconds`), `info.traceback` and a skipped check's
`summary.applicable`/`reason` for readers of the first release."""

from __future__ import annotations

import math
import traceback as tb
from typing import Any, Literal, TypedDict

AUDIT_SCHEMA = "harness.audit/2"
COMPARE_SCHEMA = "harness.compare/2"
# Every version a reader takes (the first in the words of harness/core/status.py's OLD_WORDS).
AUDIT_SCHEMAS = (AUDIT_SCHEMA, "harness.audit/1")
COMPARE_SCHEMAS = (COMPARE_SCHEMA, "harness.compare/1")
ADAPTER_SCHEMA = "harness.adapter/1"
PIPELINE_SCHEMA = "harness.app.pipeline/1"


class Entry(TypedDict, total=False):
    """What a check entry and a suite entry share."""

    status: str                 # pass / warn / fail / error / skipped (harness/core/status.py)
    reasons: list[str]          # why this status (empty when it passed); a crash: [error]; skipped: [why]
    error: str | None           # "Type: message" when it crashed, else None
    traceback: str | None       # the last frames of a crash, else None
    seconds: float              # how long it ran
    title: str
    info: dict[str, Any]        # how it was computed
    key_figures: list[str]      # what a terminal table shows of it


class CheckEntry(Entry, total=False):
    check: str
    summary: dict[str, Any]     # flat figures the policy tests
    findings: list[dict[str, Any]]  # each with rows [{split, line}] and a message
    duration_s: float           # = seconds (harness.audit/1 readers)


class Metric(TypedDict, total=False):
    base: float | None
    tuned: float | None
    delta: float | None
    interval: list[float] | None
    p: float | None
    n: int | None
    status: str                 # pass / warn / fail / skipped (its rule's figure is missing), or info (no rule:
                                # reported, not judged), set by the gate
    gate: dict[str, Any]        # the rule, the value tested and the reason


class SuiteEntry(Entry, total=False):
    why: str
    version: int
    items: dict[str, int]       # items scored per side (base, tuned, joint) and how many the cache held
    metrics: dict[str, Metric]
    rows: list[dict[str, Any]]


class AuditResults(TypedDict, total=False):
    schema: Literal["harness.audit/2"]
    harness_version: str
    created: str
    verdict: str
    reasons: list[str]
    inputs: dict[str, Any]
    label_source: str | None
    policy: dict[str, Any]
    engine: dict[str, Any]
    checks: list[CheckEntry]
    seconds: float
    duration_s: float


class CompareResults(TypedDict, total=False):
    schema: Literal["harness.compare/2"]
    harness_version: str
    created: str
    verdict: str | None
    reasons: list[str]          # every reason the gate failed: broken rules, required suites, crashes
    gate_reasons: list[str]     # required suites that measured nothing (harness.compare/1 readers)
    warnings: list[str]
    multiplicity: dict[str, Any]  # per `*` rule: the metrics it judged and how (Bonferroni, or not adjusted)
    base: dict[str, Any]
    adapter: dict[str, Any]
    data: dict[str, Any]
    policy: dict[str, Any]
    fast: bool                  # the --fast preset's samples (harness/comparing/fast_gate.yaml) were used
    suites: dict[str, SuiteEntry]
    cache: dict[str, Any]
    seconds: float


def crashed(exc: BaseException, frames: int = 5) -> dict[str, Any]:
    """The fields of an entry whose plug-in raised: it is reported, and the others still run (deepchecks)."""
    error = f"{type(exc).__name__}: {exc}"
    return {"status": "error", "reasons": [error], "error": error, "traceback": tb.format_exc(limit=frames)}


def plain(obj: Any) -> Any:
    """JSON-able: numpy scalars to Python, NaN and infinities to None (a figure that does not exist)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "item") and type(obj).__module__ == "numpy":
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# ---- the "why" lines ---------------------------------------------------------------------------------------
def check_error(entry: dict[str, Any]) -> str:
    """A crashed check's error, also from a first-release entry (which kept it in reasons only)."""
    return entry.get("error") or "; ".join(entry.get("reasons") or []) or "crashed"


def audit_reasons(audit: dict[str, Any]) -> list[str]:
    """One line per failed or crashed check: 'check: reason'."""
    if "reasons" in audit:
        return list(audit["reasons"])
    lines = []
    for c in audit.get("checks", []):
        if c["status"] == "fail":
            lines += [f"{c['check']}: {r}" for r in c.get("reasons", [])]
        elif c["status"] == "error":
            lines.append(f"{c['check']}: crashed ({check_error(c)})")
    return lines


def compare_reasons(results: dict[str, Any]) -> list[str]:
    """One line per broken gate rule, required suite that measured nothing, and crashed suite."""
    if "reasons" in results:
        return list(results["reasons"])
    lines = [f"{s}.{n}: {m['gate']['reason']}" for s, suite in results.get("suites", {}).items()
             for n, m in suite.get("metrics", {}).items() if m.get("status") == "fail"]
    lines += list(results.get("gate_reasons", []))
    lines += [f"{s}: suite crashed ({suite.get('error') or 'no message'})" for s, suite in results.get("suites", {}).items()
              if suite["status"] == "error"]
    return lines
