"""Reading every supported format with line numbers, and one-line errors for unusable input."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.data import load_table
from harness.errors import InputError

ROWS = [{"text": "hello there", "label": "a"}, {"text": "refund please", "label": "b"}]


def test_jsonl_keeps_file_lines_across_blank_lines(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps(ROWS[0]) + "\n\n" + json.dumps(ROWS[1]) + "\n")
    t = load_table(p, "train")
    assert [e.line for e in t.examples] == [1, 3]
    assert t.shape == "classification" and t.format == "jsonl"


def test_json_array_lines_are_where_each_object_starts(tmp_path):
    p = tmp_path / "d.json"
    p.write_text('[\n  {"text": "hello there",\n   "label": "a"},\n  {"text": "refund please", "label": "b"}\n]\n')
    assert [e.line for e in load_table(p, "train").examples] == [2, 4]


def test_csv_lines_count_the_header_and_multiline_cells(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text('text,label\n"two\nlines",a\nrefund please,b\n')
    t = load_table(p, "train")
    assert [e.line for e in t.examples] == [2, 4]
    assert t.examples[0].input == "two\nlines"


def test_csv_chat_messages_cell(tmp_path):
    p = tmp_path / "d.csv"
    msgs = json.dumps([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])
    p.write_text("messages\n" + '"' + msgs.replace('"', '""') + '"\n')
    t = load_table(p, "train")
    assert t.shape == "chat" and t.examples[0].output == "yo"


def test_parquet_rows_are_numbered_from_one(tmp_path):
    p = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), p)
    t = load_table(p, "train")
    assert [e.line for e in t.examples] == [1, 2] and t.format == "parquet"


def test_list_of_dicts_and_datasets(tmp_path):
    import datasets

    assert len(load_table(ROWS, "train").examples) == 2
    assert load_table(datasets.Dataset.from_list(ROWS), "train").examples[1].label == "b"


@pytest.mark.parametrize("content,name,expect", [
    (None, "missing.jsonl", "missing.jsonl: no such file"),
    (b"", "empty.jsonl", "empty.jsonl: file is empty"),
    (b'{"text": "a", "label": "x"}\n{"text": "caf\xe9", "label": "x"}\n', "latin1.jsonl", "latin1.jsonl:2: not UTF-8"),
    (b'{"text": "a", "label": "x"}\n{"text": "b", "label": \n', "broken.jsonl", "broken.jsonl:2: broken JSON line"),
    (b'[{"text": "a", "label": "x"},\n {"text": ]', "broken.json", "broken.json:2: broken JSON"),
    (b"PAR1 this is not really parquet", "trunc.parquet", "trunc.parquet: unreadable Parquet"),
    (b'{"question": "a", "answer": "b"}\n', "odd.jsonl", "odd.jsonl: unknown shape: fields found are [answer, question]"),
])
def test_unusable_input_names_file_line_and_reason(tmp_path, content, name, expect):
    p = tmp_path / name
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(InputError) as err:
        load_table(p, "train")
    assert str(err.value).startswith(str(tmp_path / expect) if "/" not in expect else expect)
    assert "\n" not in str(err.value)


def test_truncated_real_parquet(tmp_path):
    p = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS * 50), p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="unreadable Parquet"):
        load_table(p, "train")


def test_field_mapping_and_shape_override():
    rows = [{"body": "hello", "category": "a"}]
    t = load_table(rows, "train", fields={"text": "body", "label": "category"})
    assert t.shape == "classification" and t.examples[0].label == "a"
    t = load_table([{"prompt": "p", "completion": "c"}], "train", shape="instruction")
    assert t.examples[0].output == "c"


def test_alpaca_joins_instruction_and_input():
    t = load_table([{"instruction": "Translate", "input": "bonjour", "output": "hello"}], "train")
    assert t.shape == "alpaca" and t.examples[0].input == "Translate\n\nbonjour"


def packed(data: bytes, kind: str) -> bytes:
    import gzip

    if kind == ".gz":
        return gzip.compress(data)
    return pytest.importorskip("zstandard").ZstdCompressor().compress(data)


@pytest.mark.parametrize("kind", [".gz", ".zst"])
def test_a_cut_off_compressed_file_is_an_error_not_fewer_rows(tmp_path, kind, capsys):
    """Issue 30.5: a .zst cut at 75% was read as 1,500 of 4,000 rows without a word."""
    from harness.cli import main

    data = packed("".join(json.dumps({"text": f"row {i} about something {i * 7}", "label": "ab"[i % 2]}) + "\n"
                          for i in range(4000)).encode(), kind)
    path = tmp_path / f"train.jsonl{kind}"
    path.write_bytes(data[: int(len(data) * 0.75)])
    assert main(["audit", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "truncated" in err and str(path) in err and "Traceback" not in err


@pytest.mark.parametrize("kind", [".gz", ".zst"])
def test_a_decompression_bomb_is_refused_at_the_cap(tmp_path, kind, monkeypatch):
    """Issue 30.4: a small file of blank lines expanded to gigabytes; expansion stops at the cap with a
    one-line reason, and blank lines are never held as a list."""
    from harness import formats
    from harness.errors import InputError

    path = tmp_path / f"train.jsonl{kind}"
    path.write_bytes(packed(b"\n" * (8 << 20) + b'{"text": "a", "label": "b"}\n', kind))
    records, lines, _ = formats.read_records(path)          # under the cap: read, blank lines skipped
    assert lines == [(8 << 20) + 1]
    monkeypatch.setattr(formats, "MAX_EXPANDED_BYTES", 1 << 20)
    with pytest.raises(InputError, match="expands past 1 MiB"):
        formats.read_records(path)


@pytest.mark.parametrize("as_string", [False, True])
def test_values_nested_too_deep_are_refused_where_they_are_read(tmp_path, as_string):
    """Issue 30.11: 500 levels of tool-call arguments passed the audit and ended `train` in RecursionError;
    the reader refuses them (one line, file and line) for every stage, whether the arguments are an
    object or JSON written as a string."""
    deep = "[" * 500 + "]" * 500
    args = deep if as_string else json.loads(deep)
    call = {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "lookup", "arguments": args}}]}
    ok = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(ok) + "\n" + json.dumps({"messages": [{"role": "user", "content": "look it up"}, call]}) + "\n")
    with pytest.raises(InputError, match="nested more than 100 levels deep") as err:
        load_table(path, "train")
    assert err.value.line == 2
    fine = tmp_path / "fine.jsonl"
    fine.write_text(json.dumps({"text": "[" * 150 + " not JSON, only brackets in text", "label": "a"}) + "\n")
    assert load_table(fine, "train").examples[0].label == "a"
