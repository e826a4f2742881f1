"""Cleaning by the audit's findings: duplicates keep their first row; conflicts, label errors, leaked
copies and rows with personal data go; the kept rows are byte-identical and the input is untouched."""

import hashlib
import json

from harness.clean import clean, flagged_rows


def test_clean_drops_exactly_the_planted_rows_it_should(tickets, ticket_audit, tmp_path):
    (out, truth), (result, _) = tickets, ticket_audit
    train = out / "train.jsonl"
    before = hashlib.sha256(train.read_bytes()).hexdigest()
    summary = clean(train, result, tmp_path)
    assert hashlib.sha256(train.read_bytes()).hexdigest() == before
    removed = {r["line"] for r in summary["rows"]}
    # Every planted leak's training copy, every PII row and every second copy of an exact duplicate go.
    assert {leak["train_line"] for leak in truth["leaks"]} <= removed
    assert {p["line"] for p in truth["pii"]} <= removed
    assert all(max(p) in removed for p in truth["exact_duplicates"])  # the later copy goes
    kept = (tmp_path / "train.jsonl").read_text().splitlines()
    original = train.read_text().splitlines()
    assert len(kept) == summary["kept"] == sum(1 for n, line in enumerate(original, 1) if n not in removed and line.strip())
    assert set(kept) <= set(original)  # verbatim
    assert json.loads((tmp_path / "removed.json").read_text())["removed"] == len(removed)


def test_only_training_rows_are_removed():
    audit = {"checks": [{"check": "leakage", "findings": [{"rows": [{"split": "eval", "line": 3}, {"split": "train", "line": 9}]}]},
                        {"check": "shortcuts", "findings": [{"rows": [{"split": "train", "line": 4}]}]},
                        {"check": "near_duplicates", "findings": [{"rows": [{"split": "train", "line": 7}, {"split": "train", "line": 2}]}]}]}
    assert flagged_rows(audit) == {9: "leakage", 7: "near_duplicates"}


def test_clean_drops_the_planted_generative_defects_and_keeps_the_natural_rows(tmp_path):
    """The extraction example: answers in another format, with invented values, cut off, empty,
    refused or signed go, as do conflicting answers and leaked eval rows; natural rows stay."""
    import harness
    from conftest import ROOT

    shipped = ROOT / "examples" / "orders"
    truth = json.loads((shipped / "truth.json").read_text())
    audit = harness.audit(str(shipped / "train.jsonl"), str(shipped / "eval.jsonl"))
    summary = clean(shipped / "train.jsonl", audit, tmp_path)
    removed = {r["line"] for r in summary["rows"]}
    planted = ({d["line"] for d in truth["format_drift"] + truth["unsupported"] + truth["boilerplate"]}
               | set(truth["truncated"]) | set(truth["empty"]) | {b for _, b in truth["conflicts"]}
               | {leak["train_line"] for leak in truth["leaks"]})
    assert planted <= removed
    # Besides them only the first row of each conflicting pair goes (one of the two answers is wrong).
    assert removed - planted == {a for a, _ in truth["conflicts"]}


def test_clean_removes_flagged_rows_past_the_findings_cap(tmp_path):
    """Issue 30.10: the audit counted 700 refusals but listed 500, and `clean` removed 500 and said
    nothing of the rest. The rows of unlisted findings are kept in the check's info and removed too."""
    import harness

    rows = [{"prompt": f"question {i} about the weather in town {i % 50}",
             "completion": f"It will be sunny with {i % 30} degrees and light wind from the west."} for i in range(300)]
    refused = list(range(0, 300, 3))          # 100 refusals
    for i in refused:
        rows[i]["completion"] = "I'm sorry, but as an AI language model I cannot help with that request."
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    audit = harness.audit(str(train), None, {"checks": {"boilerplate": {"params": {"max_findings": 10}}}})
    check = next(c for c in audit["checks"] if c["check"] == "boilerplate")
    listed = {r["line"] for f in check["findings"] for r in f["rows"]}
    assert len(check["findings"]) == 10 and len(listed) < len(refused)
    removed = {r["line"] for r in clean(train, audit, tmp_path / "c")["rows"] if r["check"] == "boilerplate"}
    assert {i + 1 for i in refused} <= removed
