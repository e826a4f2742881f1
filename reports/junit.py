"""results.json and audit.json as JUnit XML, so any CI shows the gate and the audit next to its unit
tests. Compare: one testcase per gated metric (a failed rule is a <failure>, a suite that crashed an
<error>, one that did not apply a <skipped> case). Audit: one testcase per check (failed: <failure>;
warned: flagged in <system-err>, the build stays green; crashed: <error>; skipped: <skipped>). Inside a testcase the elements come in the
order the JUnit schema (junit-4.xsd, which Jenkins and GitLab read) requires: skipped, error, failure,
then system-out and system-err."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

from harness.core.visible import escaped_char

from harness.core.status import ERROR, FAIL, INFO, SKIPPED, WARN, entry_status, skip_reason

from .compare_format import line
from .view import where

# Findings listed per check in its <system-out>; audit.json has them all.
LISTED = 20


def _case(parent: ET.Element, classname: str, name: str, *, time: Any = None, skipped: str | None = None,
          error: tuple[str, str] | None = None, failure: tuple[str, str] | None = None, out: str | None = None,
          err: str | None = None) -> ET.Element:
    """A testcase with its children in the schema's order."""
    case = ET.SubElement(parent, "testcase", classname=classname, name=name, **({"time": str(time)} if time is not None else {}))
    if skipped is not None:
        ET.SubElement(case, "skipped", message=skipped)
    if error is not None:
        ET.SubElement(case, "error", message=error[0]).text = error[1]
    if failure is not None:
        ET.SubElement(case, "failure", message=failure[0]).text = failure[1]
    if out:
        ET.SubElement(case, "system-out").text = out
    if err:
        ET.SubElement(case, "system-err").text = err
    return case


# What XML 1.0 cannot hold (ESC, BEL, other C0 controls, lone surrogates, U+FFFE/U+FFFF): ElementTree
# writes them as they are and the file stops being XML, so a CI's JUnit reader drops the whole report.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub(escaped_char, text)


def _finish(root: ET.Element, counts: list[int]) -> str:
    for key, value in zip(("tests", "failures", "errors", "skipped"), counts):
        root.set(key, str(value))
    for el in root.iter():
        if el.text:
            el.text = _xml_safe(el.text)
        for key, value in el.attrib.items():
            el.set(key, _xml_safe(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(root: ET.Element, name: str, classname: str, cases: list[dict[str, Any]], time: Any = None) -> list[int]:
    """A testsuite of `cases` ({name, and _case's keyword arguments}); returns its counts (tests, failures,
    errors, skipped)."""
    counts = [len(cases), sum("failure" in c for c in cases), sum("error" in c for c in cases),
              sum("skipped" in c for c in cases)]
    el = ET.SubElement(root, "testsuite", name=name, tests=str(counts[0]), failures=str(counts[1]),
                       errors=str(counts[2]), skipped=str(counts[3]), **({"time": str(time)} if time is not None else {}))
    for c in cases:
        _case(el, classname, **c)
    return counts


def render_junit(results: dict[str, Any]) -> str:
    root = ET.Element("testsuites", name="harness compare")
    total = [0, 0, 0, 0]  # tests, failures, errors, skipped
    for suite_name, suite in results["suites"].items():
        cases: list[dict[str, Any]] = []
        if entry_status(suite) == ERROR:
            cases.append({"name": "suite", "error": (suite.get("error") or "", suite.get("traceback") or "")})
        elif entry_status(suite) == SKIPPED:
            cases.append({"name": "suite", "skipped": skip_reason(suite)})
        for name, m in suite.get("metrics", {}).items():
            status = m.get("status")
            if status in (None, INFO):
                continue
            case: dict[str, Any] = {"name": name, "out": line(suite_name, name, m)}
            if status == FAIL:
                case["failure"] = (m["gate"]["reason"], line(suite_name, name, m))
            elif status == WARN:  # flagged, not failed: visible in the case's output, the build stays green
                case["err"] = f"warning: {m['gate']['reason']}"
            elif status == SKIPPED:
                case["skipped"] = m["gate"]["reason"]
            cases.append(case)
        counts = _suite(root, suite_name, f"harness.{suite_name}", cases, suite.get("seconds", 0))
        total = [a + b for a, b in zip(total, counts)]
    reasons = results.get("gate_reasons") or []
    if reasons:  # required suites that measured nothing: the gate failed without a failing metric
        counts = _suite(root, "gate", "harness.comparing.gate",
                        [{"name": reason.split(":")[0], "failure": (reason, reason)} for reason in reasons])
        total = [a + b for a, b in zip(total, counts)]
    return _finish(root, total)


def render_audit_junit(audit: dict[str, Any]) -> str:
    """audit.json as JUnit: one testcase per check, its findings (file:line and message) in its output."""
    root = ET.Element("testsuites", name="harness audit")
    cases: list[dict[str, Any]] = []
    for check in audit["checks"]:
        status = entry_status(check)   # an audit of the first schema says it in its old words
        findings = check.get("findings") or []
        listed = [f"{', '.join(where(audit, r) for r in f.get('rows', [])[:4])}: {f.get('message', '')}"
                  for f in findings[:LISTED]]
        more = len(findings) - len(listed)
        out = "\n".join(listed + ([f"... and {more} more in audit.json"] if more > 0 else [])) or None
        reasons = "; ".join(check.get("reasons") or [])
        case: dict[str, Any] = {"name": check["check"], "time": check.get("seconds"), "out": out}
        if status == FAIL:
            case["failure"] = (reasons or "failed", out or reasons)
        elif status == WARN:
            case["err"] = f"warning: {reasons}"
        elif status == ERROR:
            case["error"] = (check.get("error") or "crashed", check.get("traceback") or "")
        elif status == SKIPPED:
            case["skipped"] = skip_reason(check)
        cases.append(case)
    return _finish(root, _suite(root, "audit", "harness.audit", cases, audit.get("seconds")))
