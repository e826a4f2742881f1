"""Issue 30, low items 12, 18 and 22: the --issues CSV cannot carry a spreadsheet formula, every output
path is checked (against the inputs and against the other outputs) before any work, and an error quotes
at most a bounded piece of the data. The command-line cases are folders in tests/hostile/."""

import csv
import json
import os

import pytest

from harness.inputs.data import detect_shape
from harness.core.errors import MAX_MESSAGE, HarnessError, InputError, UsageError, clipped, quoted
from harness.auditing.issues import issues_format, spreadsheet_safe, write_issues
from harness.core.outputs import input_files, input_paths, refuse_inputs_as_outputs

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\tSUM(1)", "\r=1"]


def _audit(messages, score=-0.5):
    findings = [{"kind": m, "score": score, "message": m, "rows": [{"split": "train", "line": i + 1}]}
                for i, m in enumerate(messages)]
    return {"checks": [{"check": "unsupported_values", "status": "fail", "findings": findings}]}


def test_issues_csv_cells_that_start_like_a_formula_are_written_as_text(tmp_path):
    path = write_issues(_audit([*HOSTILE, "a plain message"]), tmp_path / "issues.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [r["message"] for r in table] == ["'" + m for m in HOSTILE] + ["a plain message"]
    assert [r["kind"] for r in table][:len(HOSTILE)] == ["'" + m for m in HOSTILE]
    for r in table:  # no cell a spreadsheet would run
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for k, v in r.items() if k != "score")
    # numbers stay numbers: a negative score is a number to a spreadsheet, not a formula
    assert {r["score"] for r in table} == {"-0.5"} and [r["line"] for r in table][:2] == ["1", "2"]


def test_issues_jsonl_and_parquet_keep_the_data_as_it_is(tmp_path):
    import pyarrow.parquet as pq

    audit = _audit(HOSTILE)
    lines = write_issues(audit, tmp_path / "i.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["message"] for x in lines] == HOSTILE
    assert pq.read_table(write_issues(audit, tmp_path / "i.parquet")).column("message").to_pylist() == HOSTILE


def test_spreadsheet_safe_touches_only_strings():
    assert spreadsheet_safe(-3) == -3 and spreadsheet_safe(-0.25) == -0.25 and spreadsheet_safe(None) is None
    assert spreadsheet_safe("-3") == "'-3" and spreadsheet_safe("") == "" and spreadsheet_safe("a=b") == "a=b"


def test_issues_suffix_is_checked_on_its_own():
    assert issues_format("x/Issues.CSV") == ".csv"
    with pytest.raises(UsageError, match="give a .csv, .parquet or .jsonl"):
        issues_format("issues.xlsx")


def test_two_outputs_on_one_file_are_refused_by_name(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(InputError, match="--junit and audit.json in --out name the same file"):
        refuse_inputs_as_outputs([("audit.json in --out", out / "audit.json"), ("--junit", out / "." / "audit.json")], [])
    refuse_inputs_as_outputs([("audit.json in --out", out / "audit.json"), ("--junit", tmp_path / "audit.xml")], [])


def test_a_hard_link_is_the_same_file(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    os.link(data, tmp_path / "alias.jsonl")
    with pytest.raises(InputError, match="--junit would overwrite an input"):
        refuse_inputs_as_outputs([("--junit", tmp_path / "alias.jsonl")], input_paths(str(data)))
    (tmp_path / "a.xml").write_text("")
    os.link(tmp_path / "a.xml", tmp_path / "b.xml")
    with pytest.raises(InputError, match="name the same file"):
        refuse_inputs_as_outputs([("--junit", tmp_path / "a.xml"), ("--issues", tmp_path / "b.xml")], [])


def test_files_inside_an_input_directory_are_inputs(tmp_path):
    ds = tmp_path / "dataset"
    ds.mkdir()
    (ds / "data-00000-of-00001.arrow").write_bytes(b"x")
    probe = tmp_path / "probe.jsonl"
    probe.write_text("{}\n")
    found = input_files(str(ds), [str(probe)], None)
    assert (ds / "data-00000-of-00001.arrow").resolve() in found and probe.resolve() in found
    with pytest.raises(InputError, match="overwrite an input"):
        refuse_inputs_as_outputs([("--junit", ds / "data-00000-of-00001.arrow")], found)
    assert input_paths([str(probe)], [{"text": "in memory"}]) == [probe.resolve()]  # --probes is a list


def test_quoted_values_are_cut_with_their_length():
    assert quoted("short") == "short"
    q = quoted("x" * 1_380_000)
    assert len(q) < 250 and q.endswith("... (1,380,000 characters)")


def test_every_error_line_is_bounded():
    exc = InputError("train.jsonl", "reason " + "y" * 1_000_000 + " (do this)", 3)
    text = str(exc)
    assert len(text) < MAX_MESSAGE + 100 and "\n" not in text
    assert text.startswith("train.jsonl:3: reason yyy") and text.endswith("(do this)") and "characters cut" in text
    assert str(HarnessError("short")) == "short" and clipped("a" * MAX_MESSAGE) == "a" * MAX_MESSAGE


def test_unknown_shape_quotes_a_bounded_list_of_field_names():
    huge = "x" * 1_380_000
    with pytest.raises(InputError) as err:
        detect_shape([{huge: 1, "spam": 2}], {}, None, "t.csv")
    assert len(str(err.value)) < 600 and "... (1,380,000 characters)" in str(err.value)
    with pytest.raises(InputError) as err:
        detect_shape([{f"column_{i}": i for i in range(5000)}], {}, None, "wide.csv")
    assert "and 4,980 more" in str(err.value) and len(str(err.value)) < MAX_MESSAGE
