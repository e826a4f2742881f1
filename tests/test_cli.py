"""The `harness audit` command: artifacts, exit codes, one-line errors, inputs left untouched."""

import hashlib
import json
import subprocess
import sys

import pytest

import harness
from harness.app.cli import main

from conftest import write_jsonl

ROWS = [{"text": f"ticket {i} about {'a charge on my card' if i % 2 else 'a parcel that is late'} #{i}",
         "label": "billing" if i % 2 else "delivery"} for i in range(30)]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True)


def test_audit_writes_json_and_exits_by_verdict(tmp_path, capsys):
    train = write_jsonl(tmp_path / "train.jsonl", ROWS)
    before = hashlib.sha256(train.read_bytes()).hexdigest()
    out = tmp_path / "out"
    code = main(["audit", str(train), "--out", str(out)])
    result = json.loads((out / "audit.json").read_text())
    assert result["schema"] == "harness.audit/2"
    assert code == (1 if result["verdict"] == "fail" else 0)
    assert hashlib.sha256(train.read_bytes()).hexdigest() == before  # input never modified
    assert sorted(p.name for p in out.iterdir()) == ["audit.json", "report.html"]  # no temp files left behind
    text = capsys.readouterr().out
    assert "Verdict" in text and "exact_duplicates" in text


def test_fail_verdict_exits_1_and_names_rows(tmp_path, capsys):
    train = write_jsonl(tmp_path / "train.jsonl", ROWS)
    eval_ = write_jsonl(tmp_path / "eval.jsonl", ROWS[:2])
    code = main(["audit", str(train), "--eval", str(eval_), "--out", str(tmp_path / "o")])
    assert code == 1
    assert f"{eval_}:1" in capsys.readouterr().out.replace("\n", "")


def test_python_api_returns_what_the_cli_writes(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", ROWS)
    main(["audit", str(train), "--out", str(tmp_path / "o"), "--quiet"])
    written = json.loads((tmp_path / "o" / "audit.json").read_text())
    api = harness.audit(str(train))
    strip = lambda r: [{k: v for k, v in c.items() if k not in ("duration_s", "seconds")} for c in r["checks"]]  # noqa: E731
    assert strip(written) == json.loads(json.dumps(strip(api)))
    assert written["inputs"] == api["inputs"] and written["verdict"] == api["verdict"]


@pytest.mark.parametrize("setup,args,expect", [
    (None, ["audit", "{d}/nope.jsonl"], "nope.jsonl: no such file"),
    ("broken", ["audit", "{d}/broken.jsonl"], "broken.jsonl:2: broken JSON line"),
    ("ok", ["audit", "{d}/ok.jsonl", "--policy", "{d}/bad_policy.yaml"], "unknown policy key 'max_seq_lenght'; did you mean 'max_seq_len'?"),
    ("ok", ["audit", "{d}/ok.jsonl", "--policy", "{d}/bad_metric.yaml"], "unknown metric 'leaked_rows'; did you mean 'leaked_eval_rows'?"),
    ("ok", ["audit", "{d}/ok.jsonl", "--policy", "{d}/bad_check.yaml"], "unknown check 'near_dups' under checks; did you mean 'near_duplicates'?"),
    ("ok", ["audit", "{d}/ok.jsonl", "--tokenizer", "{d}/no_tok"], "no_tok: tokenizer directory not found"),
])
def test_bad_input_is_one_line_exit_2_no_traceback(tmp_path, setup, args, expect):
    (tmp_path / "broken.jsonl").write_text('{"text": "a", "label": "b"}\n{"text": \n')
    write_jsonl(tmp_path / "ok.jsonl", ROWS)
    (tmp_path / "bad_policy.yaml").write_text("max_seq_lenght: 12\n")
    (tmp_path / "bad_metric.yaml").write_text("checks:\n  leakage:\n    fail_if: {leaked_rows: 0}\n")
    (tmp_path / "bad_check.yaml").write_text("checks:\n  near_dups: {enabled: false}\n")
    proc = run_cli(*[a.format(d=tmp_path) for a in args], "--out", str(tmp_path / "o"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert expect in lines[0]
    assert not (tmp_path / "o" / "audit.json").exists()


def test_usage_error_exits_2():
    proc = run_cli("audit")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_field_mapping_from_the_cli(tmp_path):
    rows = [{"body": r["text"], "category": r["label"]} for r in ROWS]
    train = write_jsonl(tmp_path / "t.jsonl", rows)
    code = main(["audit", str(train), "--field", "text=body", "--field", "label=category", "--out", str(tmp_path / "o"),
                 "--quiet"])
    result = json.loads((tmp_path / "o" / "audit.json").read_text())
    assert code in (0, 1) and result["inputs"]["train"]["fields"] == {"text": "body", "label": "category"}


def test_readme_audit_command_on_the_shipped_example(tmp_path):
    """The command `make demo` runs, exactly as README shows it: planted defects give verdict FAIL (exit 1)."""
    from conftest import ROOT

    proc = subprocess.run([sys.executable, "-m", "harness", "audit", "examples/tickets/train.jsonl", "--eval",
                           "examples/tickets/eval.jsonl", "--policy", "examples/tickets/policy.yaml",
                           "--out", str(tmp_path / "audit")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    assert "Verdict: FAIL" in proc.stdout and "examples/tickets/eval.jsonl:" in proc.stdout
    scored = subprocess.run([sys.executable, "examples/score_planted.py", str(tmp_path / "audit" / "audit.json"),
                             "examples/tickets/truth.json"], capture_output=True, text=True, cwd=ROOT)
    assert scored.returncode == 0 and "leakage.recall                   1.000" in scored.stdout


def test_a_mistyped_field_mapping_is_a_usage_error(tmp_path, capsys):
    """Issue 30.9: `--field lable=category` (or the same under `fields:`) was ignored: the rows were read
    as plain text and the conflicts the right mapping finds disappeared, exit 0."""
    from harness.app.cli import main

    train = tmp_path / "train.jsonl"
    train.write_text('{"body": "a", "category": "x"}\n{"body": "b", "category": "y"}\n')
    assert main(["audit", str(train), "--field", "lable=category", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "unknown field 'lable'" in err and "did you mean 'label'" in err and "Traceback" not in err
    policy = tmp_path / "policy.yaml"
    policy.write_text("fields: {txt: body}\n")
    assert main(["audit", str(train), "--policy", str(policy), "--out", str(tmp_path / "p")]) == 2
    assert "did you mean 'text'" in capsys.readouterr().err
    assert not (tmp_path / "o" / "audit.json").exists()
