"""What CI systems and reviewers read: JUnit for the audit and the gate (validated against the JUnit
schema's element order), GitHub step summaries and file:line annotations, the flagged rows as a table,
and `harness clean` as a command."""

import csv
import json
from pathlib import Path

import pytest

from conftest import write_jsonl
from harness.app.cli import main
from harness.reports.github import command, compare_annotations, escape_data
from harness.reports.junit import render_audit_junit, render_junit

XSD = Path(__file__).with_name("junit.xsd")


def validate_junit(text: str) -> None:
    import xmlschema

    xmlschema.XMLSchema(str(XSD)).validate(text)


def rows(n=30):
    out = [{"text": f"my parcel number {i} has not arrived yet, order {1000 + i}", "label": "delivery"} for i in range(n)]
    out += [{"text": f"I was charged twice for invoice {i}", "label": "billing"} for i in range(n)]
    out[3] = dict(out[2])                                              # an exact duplicate
    out[5] = {"text": out[10]["text"], "label": "billing"}             # a conflict with line 11
    out[7]["text"] = "call me on +1 415 555 0100 about my parcel 7"    # personal data
    return out


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ci")
    train = write_jsonl(tmp / "train.jsonl", rows())
    code = main(["audit", str(train), "--out", str(tmp / "a"), "--junit", str(tmp / "audit.xml"),
                 "--issues", str(tmp / "issues.csv"), "--quiet"])
    return tmp, train, code, json.loads((tmp / "a" / "audit.json").read_text())


def test_audit_junit_has_a_case_per_check_in_schema_order(audited):
    from xml.etree import ElementTree as ET

    tmp, _, code, audit = audited
    text = (tmp / "audit.xml").read_text()
    validate_junit(text)
    root = ET.fromstring(text)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {c["check"] for c in audit["checks"]}
    by_status = {c["check"]: c["status"] for c in audit["checks"]}
    for name, case in cases.items():
        kinds = [child.tag for child in case]
        assert ("failure" in kinds) == (by_status[name] == "fail"), name
        assert ("skipped" in kinds) == (by_status[name] == "skipped"), name
    dup = cases["exact_duplicates"].find("system-out").text
    assert "train.jsonl:3" in dup and "train.jsonl:4" in dup
    assert int(root.get("failures")) == sum(s == "fail" for s in by_status.values())
    assert code == (1 if audit["verdict"] == "fail" else 0)


def test_a_crashed_check_is_a_junit_error_and_compare_junit_keeps_the_order():
    audit = {"checks": [{"check": "pii", "status": "error", "error": "boom", "traceback": "Traceback...", "findings": []}],
             "inputs": {}}
    text = render_audit_junit(audit)
    validate_junit(text)
    assert "<error message=\"boom\">" in text
    results = {"suites": {"task": {"status": "fail", "seconds": 1.0, "metrics": {
        "accuracy": {"status": "fail", "gate": {"reason": "lower -0.1 not above 0"}, "base": 0.5, "tuned": 0.4,
                     "delta": -0.1, "interval": [-0.2, 0.0], "n": 50},
        "macro_f1": {"status": "warn", "gate": {"reason": "flagged"}, "base": 0.5, "tuned": 0.5, "delta": 0.0,
                     "interval": [-0.1, 0.1], "n": 50}}},
        "drift": {"status": "error", "error": "crashed", "traceback": "tb", "metrics": {}}}}
    text = render_junit(results)
    validate_junit(text)  # <failure> before <system-out>, as the schema orders them
    assert text.index("<failure") < text.index("<system-out>")


def test_issues_table_one_row_per_flagged_example(audited, tmp_path):
    from harness.auditing.issues import get_issues, write_issues

    tmp, _, _, audit = audited
    with open(tmp / "issues.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert {"split", "line", "check", "kind", "score", "message"} <= set(table[0])
    dup = [r for r in table if r["check"] == "exact_duplicates"]
    assert {r["line"] for r in dup} >= {"3", "4"} and all(r["with_rows"] for r in dup)
    frame = get_issues(audit)
    assert len(frame) == len(table)
    write_issues(audit, tmp_path / "i.parquet")
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "i.parquet").num_rows == len(table)
    assert main(["audit", str(tmp / "train.jsonl"), "--out", str(tmp_path / "o"), "--issues", str(tmp_path / "i.xlsx"),
                 "--quiet"]) == 2


def test_clean_command_writes_the_kept_rows_and_the_removed_list(audited, tmp_path, capsys):
    tmp, train, _, audit = audited
    before = train.read_bytes()
    assert main(["clean", str(tmp / "a" / "audit.json"), str(train), "--out", str(tmp_path / "c.jsonl"), "--dry-run"]) == 0
    assert "would remove" in capsys.readouterr().out and not (tmp_path / "c.jsonl").exists()
    assert main(["clean", str(tmp / "a" / "audit.json"), str(train), "--out", str(tmp_path / "c.jsonl")]) == 0
    removed = json.loads((tmp_path / "c.jsonl.removed.json").read_text())
    kept = (tmp_path / "c.jsonl").read_text().splitlines()
    assert removed["kept"] == len(kept) and removed["removed"] + len(kept) == len(rows())
    assert 4 in {r["line"] for r in removed["rows"]} and 3 not in {r["line"] for r in removed["rows"]}  # first copy stays
    assert train.read_bytes() == before  # the input is never modified
    # only the duplicates' rows go with --drop; a misspelt check is a one-line error
    assert main(["clean", str(tmp / "a" / "audit.json"), str(train), "--out", str(tmp_path / "d.jsonl"),
                 "--drop", "exact_duplicates"]) == 0
    only = json.loads((tmp_path / "d.jsonl.removed.json").read_text())
    assert only["by_check"] == {"exact_duplicates": 2} and {r["line"] for r in only["rows"]} == {4, 11}
    assert main(["clean", str(tmp / "a" / "audit.json"), str(train), "--out", str(tmp_path / "e.jsonl"),
                 "--keep", "exact_duplicate"]) == 2
    assert "did you mean 'exact_duplicates'" in capsys.readouterr().err
    other = write_jsonl(tmp_path / "other.jsonl", rows()[:5])
    assert main(["clean", str(tmp / "a" / "audit.json"), str(other), "--out", str(tmp_path / "f.jsonl")]) == 2
    assert "the audit was made for another file" in capsys.readouterr().err


def test_github_summary_and_annotations(audited, tmp_path, monkeypatch, capsys):
    tmp, train, _, audit = audited
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp))
    main(["audit", str(train), "--out", str(tmp_path / "o"), "--quiet"])
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "## finetune-harness" in text  # appended, not replaced
    out = capsys.readouterr().out.splitlines()
    notes = [ln for ln in out if ln.startswith(("::error", "::warning", "::notice"))]
    assert notes and any(ln.startswith("::warning file=train.jsonl,line=") for ln in notes)
    assert len([n for n in notes if n.startswith("::warning")]) <= 10 and len([n for n in notes if n.startswith("::error")]) <= 10
    errors = [i for i, n in enumerate(notes) if n.startswith("::error")]
    warnings = [i for i, n in enumerate(notes) if n.startswith("::warning")]
    assert not errors or not warnings or max(errors) < min(warnings)  # the most severe first


def test_github_commands_escape_their_text():
    assert escape_data("50%\nnext") == "50%25%0Anext"
    assert command("warning", "a: b", file="data, v2.jsonl", line=3, title="x") == \
        "::warning file=data%2C v2.jsonl,line=3,title=x::a: b"
    results = {"suites": {"task": {"status": "fail", "metrics": {f"m{i}": {"status": "fail", "gate": {"reason": f"r{i}"}}
                                                               for i in range(12)}}}}
    notes = compare_annotations(results)
    assert len([n for n in notes if n.startswith("::error")]) == 10 and notes[10].startswith("::notice")


def test_report_shows_the_flagged_rows_text_masked_unless_told_not_to(audited, tmp_path):
    tmp, train, _, _ = audited
    page = (tmp / "a" / "report.html").read_text()
    assert "my parcel number 2 has not arrived yet, order 1002 → delivery" in page  # the duplicate's text
    assert "415 555 0100" not in page and "call me on" in page  # personal data masked as the pii check masks it
    assert main(["audit", str(train), "--out", str(tmp_path / "q"), "--quiet", "--no-row-text"]) in (0, 1)
    assert "my parcel number 2 has not" not in (tmp_path / "q" / "report.html").read_text()
    # a file changed since the audit gives no text rather than the wrong one
    changed = write_jsonl(tmp_path / "train.jsonl", rows())
    main(["audit", str(changed), "--out", str(tmp_path / "r"), "--quiet"])
    changed.write_text(changed.read_text().replace("parcel number 2 ", "parcel number 99 "))
    assert main(["report", str(tmp_path / "r" / "audit.json"), "--out", str(tmp_path / "r.html")]) == 0
    assert "parcel number 99" not in (tmp_path / "r.html").read_text()


@pytest.mark.parametrize("github", [True, False])
def test_data_never_forms_a_workflow_command(tmp_path, monkeypatch, capsys, github):
    """Issue 30.1: GitHub's runner reads `::cmd` at a line's start (after spaces) and `##[cmd]` anywhere
    in anything printed. A label `##[stop-commands]` swallowed every later annotation; text starting with
    `::error file=...` made fake ones. Nothing from data may form either, with or without --github; the
    audit's own annotations still come out."""
    import re

    data = rows()
    data += [{"text": data[4]["text"], "label": "##[stop-commands]tok"},      # a conflict and a rare class
             {"text": data[8]["text"], "label": "::error file=SECURITY.md,line=1::fake"}]
    data += [{"text": "::error file=SECURITY.md,line=1::leaked", "label": "delivery"}] * 2
    data += [{"text": "call \x1b[2J me ##[group]x on +1 415 555 0101", "label": "billing"}]
    train = write_jsonl(tmp_path / "train.jsonl", data)
    if github:
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
        monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    else:
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    main(["audit", str(train), "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    for text in (captured.out, captured.err):
        assert "##[" not in text and "\x1b" not in text
        commands = [ln for ln in text.splitlines() if re.match(r"\s*::", ln)]
        assert all(re.match(r"::(error|warning|notice) .*title=audit", ln) for ln in commands), commands
    if github:
        assert any(ln.startswith("::warning") or ln.startswith("::error") for ln in captured.out.splitlines())


def test_junit_stays_xml_with_control_characters_in_data_and_file_names(tmp_path):
    """Issue 30.8: a label with ESC/BEL (or a file name with \\x07) made junit.xml ill-formed; characters
    XML 1.0 cannot hold are written as escapes."""
    from xml.etree import ElementTree as ET

    data = rows()
    data += [{"text": data[4]["text"], "label": "bill\x1b[2Jing\x07"}]
    train = write_jsonl(tmp_path / "tr\x07ain.jsonl", data)
    main(["audit", str(train), "--out", str(tmp_path / "o"), "--junit", str(tmp_path / "audit.xml"), "--quiet"])
    text = (tmp_path / "audit.xml").read_text()
    ET.fromstring(text.encode())           # well-formed
    validate_junit(text)
    assert "\x1b" not in text and "\x07" not in text and "\\x1b" in text
