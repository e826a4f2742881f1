"""Cleaning by the audit's findings: duplicates keep their first row; conflicts, label errors, leaked
copies and rows with personal data go; the kept rows are byte-identical and the input is untouched."""

import hashlib
import json

import pytest

from harness.auditing.clean import clean, flagged_rows
from harness.core.errors import InputError


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
    audit = {"checks": [{"check": "leakage", "removes": "all",
                         "findings": [{"rows": [{"split": "eval", "line": 3}, {"split": "train", "line": 9}]}]},
                        {"check": "shortcuts", "removes": None, "findings": [{"rows": [{"split": "train", "line": 4}]}]},
                        {"check": "near_duplicates", "removes": "all_but_first",
                         "findings": [{"rows": [{"split": "train", "line": 7}, {"split": "train", "line": 2}]}]}]}
    assert flagged_rows(audit) == {9: "leakage", 7: "near_duplicates"}
    with pytest.raises(InputError, match="older harness"):  # an audit.json from before checks said so
        flagged_rows({"checks": [{k: v for k, v in c.items() if k != "removes"} for c in audit["checks"]]})


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


def _crlf_bom_train(tmp_path):
    """A JSONL file as Windows tools write it: a UTF-8 BOM, CRLF line ends, a blank line, and no line
    end after the last row. Row 3 copies row 1 (an exact duplicate, removed)."""
    texts = ["my parcel never arrived", "how do I reset my password", "the invoice shows the wrong amount",
             "cancel my subscription please", "the app crashes when I open settings", "can I change my delivery address",
             "I was charged twice this month", "where can I download my receipts", "the discount code does not work",
             "please delete my account", "the screen stays black after the update", "how long does a refund take"]
    lines = [json.dumps({"text": t, "label": "ab"[i % 2]}) for i, t in enumerate(texts)]
    lines[2] = lines[0]
    body = "\r\n".join(lines[:6]) + "\r\n\r\n" + "\r\n".join(lines[6:])
    train = tmp_path / "train.jsonl"
    train.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    return train, lines


def test_clean_keeps_crlf_line_ends_and_the_bom(tmp_path):
    """Issue 30.14: the cleaned copy lost the input's BOM and CRLF line ends (and its last line's
    missing line end): it is the input byte for byte, minus the removed rows' lines."""
    import harness

    train, lines = _crlf_bom_train(tmp_path)
    audit = harness.audit(str(train), None)
    summary = clean(train, audit, tmp_path / "c")
    assert [r["line"] for r in summary["rows"]] == [3]
    raw = train.read_bytes()
    physical = raw[3:].split(b"\n")
    expected = b"\xef\xbb\xbf" + b"\n".join(p for n, p in enumerate(physical, 1) if n != 3)
    assert (tmp_path / "c" / "train.jsonl").read_bytes() == expected
    assert summary["kept"] == 11
    # Removing the first row keeps the BOM at the start of the file, not with the row.
    audit["checks"].append({"check": "pii", "removes": "all", "findings": [{"rows": [{"split": "train", "line": 1}]}]})
    summary = clean(train, audit, tmp_path / "d")
    assert (tmp_path / "d" / "train.jsonl").read_bytes() == b"\xef\xbb\xbf" + b"\n".join(
        p for n, p in enumerate(physical, 1) if n not in (1, 3))


_INTERRUPT_BETWEEN_RENAMES = """
import os, signal, sys
real = os.replace
def replace(src, dst):
    # SIGTERM arrives the moment the first output of the run is in place (the worst moment).
    real(src, dst)
    os.kill(os.getpid(), signal.SIGTERM)
os.replace = replace
from harness.app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_clean_never_leaves_the_new_file_beside_an_old_removed_list(tmp_path):
    """Issue 30.13: SIGTERM between the two renames left the new cleaned file beside the removed-rows
    list of the previous run. Sent (from inside the run, so at exactly that moment) after the first
    rename, it ends the run with exit 130 and the pair on disk is still one run's: the list's
    out_sha256 is the cleaned file's, and its rows are the ones missing from it."""
    import subprocess
    import sys

    import harness

    train, _ = _crlf_bom_train(tmp_path)
    audit = harness.audit(str(train), None)
    audit["checks"].append({"check": "pii", "removes": "all", "findings": [{"rows": [{"split": "train", "line": 5}]}]})
    (tmp_path / "audit.json").write_text(json.dumps(audit))
    out = tmp_path / "c.jsonl"
    args = ["clean", str(tmp_path / "audit.json"), str(train), "--out", str(out)]
    first = subprocess.run([sys.executable, "-m", "harness", *args, "--drop", "exact_duplicates"],
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([sys.executable, "-c", _INTERRUPT_BETWEEN_RENAMES, *args], capture_output=True, text=True)
    assert second.returncode == 130 and "Traceback" not in second.stderr, second.stderr
    listed = json.loads((tmp_path / "c.jsonl.removed.json").read_text())
    data = out.read_bytes()
    physical = train.read_bytes()[3:].split(b"\n")
    kept = [p for n, p in enumerate(physical, 1) if n not in {r["line"] for r in listed["rows"]}]
    assert data == b"\xef\xbb\xbf" + b"\n".join(kept)
    assert listed["out_sha256"] == hashlib.sha256(data).hexdigest()
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_clean_refuses_an_out_over_the_audits_inputs_or_the_audit(tmp_path, capsys):
    """Issue 30.14: `clean --out` overwrote the eval set the audit names (by its path, or the same
    file under another name), and OUT.removed.json could land on the audit itself. Each is one line,
    exit 2, naming the path; nothing is written."""
    import os

    import harness
    from harness.app.cli import main

    train, _ = _crlf_bom_train(tmp_path)
    evalset = tmp_path / "eval.jsonl"
    evalset.write_text(json.dumps({"text": "where is my parcel", "label": "a"}) + "\n")
    audit = harness.audit(str(train), str(evalset))
    audit_path = tmp_path / "audit.json"
    audit_path.write_text(json.dumps(audit))
    link = tmp_path / "also-eval.jsonl"
    os.link(evalset, link)
    before = {p: p.read_bytes() for p in (train, evalset, audit_path)}
    own = tmp_path / "c.jsonl.removed.json"
    own.write_text(json.dumps(audit))
    for out, named in ((evalset, evalset), (link, link), (tmp_path / "c.jsonl", own)):
        assert main(["clean", str(own if named is own else audit_path), str(train), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith(f"harness: error: {named}: "), err
    assert {p: p.read_bytes() for p in before} == before and not (tmp_path / "c.jsonl").exists()
    assert own.read_text() == json.dumps(audit)
