"""results.json as JUnit XML: one testcase per gated metric (a failed rule is a <failure>, a suite
that crashed an <error>), so any CI shows the gate next to its unit tests."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from .compare_format import line


def render_junit(results: dict[str, Any]) -> str:
    root = ET.Element("testsuites", name="harness compare")
    total = failures = errors = skipped = 0
    for suite_name, suite in results["suites"].items():
        el = ET.SubElement(root, "testsuite", name=suite_name, time=str(suite.get("seconds", 0)))
        cases = fails = errs = skips = 0
        if suite["status"] == "error":
            case = ET.SubElement(el, "testcase", classname=f"harness.{suite_name}", name="suite")
            ET.SubElement(case, "error", message=suite.get("error", "")).text = suite.get("traceback", "")
            cases, errs = 1, 1
        for name, m in suite.get("metrics", {}).items():
            if m.get("status") in (None, "info"):
                continue
            cases += 1
            case = ET.SubElement(el, "testcase", classname=f"harness.{suite_name}", name=name)
            ET.SubElement(case, "system-out").text = line(suite_name, name, m)
            if m["status"] == "fail":
                fails += 1
                ET.SubElement(case, "failure", message=m["gate"]["reason"]).text = line(suite_name, name, m)
            elif m["status"] == "warn":  # flagged, not failed: visible in the case's output, the build stays green
                ET.SubElement(case, "system-err").text = f"warning: {m['gate']['reason']}"
            elif m["status"] == "skipped":
                skips += 1
                ET.SubElement(case, "skipped", message=m["gate"]["reason"])
        el.set("tests", str(cases))
        el.set("failures", str(fails))
        el.set("errors", str(errs))
        el.set("skipped", str(skips))
        total, failures, errors, skipped = total + cases, failures + fails, errors + errs, skipped + skips
    reasons = results.get("gate_reasons") or []
    if reasons:  # required suites that measured nothing: the gate failed without a failing metric
        el = ET.SubElement(root, "testsuite", name="gate", tests=str(len(reasons)), failures=str(len(reasons)),
                           errors="0", skipped="0")
        for reason in reasons:
            case = ET.SubElement(el, "testcase", classname="harness.gate", name=reason.split(":")[0])
            ET.SubElement(case, "failure", message=reason)
        total, failures = total + len(reasons), failures + len(reasons)
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    root.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
