"""Reading every supported format with line numbers, and one-line errors for unusable input."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.inputs.data import load_table
from harness.core.errors import InputError

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
    from harness.app.cli import main

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
    from harness.inputs import formats
    from harness.inputs import readers
    from harness.core.errors import InputError

    path = tmp_path / f"train.jsonl{kind}"
    path.write_bytes(packed(b"\n" * (8 << 20) + b'{"text": "a", "label": "b"}\n', kind))
    records, lines, _ = readers.read_records(path)          # under the cap: read, blank lines skipped
    assert lines == [(8 << 20) + 1]
    monkeypatch.setattr(formats, "MAX_EXPANDED_BYTES", 1 << 20)
    with pytest.raises(InputError, match="expands past the limit of 1,048,576 bytes"):
        readers.read_records(path)


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


# ---- issue 30, items 15, 19, 20 and 4 (the cap as a policy setting) ---------------------------------------

def cached_dataset(cache, name: str, rows, tmp_path):
    """A dataset in the Hugging Face datasets cache as `load_dataset(name)` leaves it after a download
    (NAME/CONFIG/VERSION/HASH/NAME-SPLIT.arrow), built offline from a JSONL file."""
    from datasets.packaged_modules.json.json import Json

    src = tmp_path / f"{name}-source.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    Json(cache_dir=str(cache), dataset_name=name, config_id="default", hash="0123abcd",
         data_files={"train": [str(src)]}).download_and_prepare()


def test_hf_name_reads_the_cache_and_never_a_local_folder_of_that_name(tmp_path, monkeypatch):
    """Issue 30.15: `hf:NAME` reads the cached dataset NAME; where a path of that name sits in the working
    directory (which datasets.load_dataset would read instead), it is refused, never read."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache))
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    cached_dataset(cache, "tickets", [{"text": f"where is parcel {i}", "label": "delivery"} for i in range(4)], tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    t = load_table("hf:tickets:train", "train")
    assert t.format == "hf-dataset" and [e.label for e in t.examples] == ["delivery"] * 4
    assert [e.line for e in t.examples] == [1, 2, 3, 4]
    (work / "tickets").mkdir()
    (work / "tickets" / "train.jsonl").write_text(json.dumps({"text": "LOCAL", "label": "local"}) + "\n")
    with pytest.raises(InputError, match="a local path named tickets exists in the working directory"):
        load_table("hf:tickets:train", "train")
    assert sorted(p.name for p in work.rglob("*")) == ["tickets", "train.jsonl"]  # nothing written beside it


@pytest.mark.parametrize("spec", ["hf:../../data", "hf:{abs}", "hf:{abs}:train", "hf:./data", "hf:data/../../x",
                                  "hf:~/data", "hf:a/b/c", "hf:json", "hf:csv#x:train", "hf:", "hf::train",
                                  "hf:..", "hf:data\\x"])
def test_hf_with_a_path_is_refused_in_one_line(tmp_path, monkeypatch, spec, capsys):
    """Issue 30.15: `hf:../../DIR` and `hf:/abs/dir` loaded any local directory (and wrote an Arrow cache for
    it); `hf:json` read every JSON file in the working directory. `hf:` names a cached dataset only."""
    from harness.app.cli import main

    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS * 3))
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    spec = spec.replace("{abs}", str(data))
    with pytest.raises(InputError, match="names a dataset in the local Hugging Face cache") as err:
        load_table(spec, "train")
    assert "\n" not in str(err.value) and "plain path" in str(err.value)
    assert main(["audit", spec, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("harness: error: ") and "\n" not in err and "plain path" in err
    assert sorted(p.name for p in data.iterdir()) == ["train.jsonl"] and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("kind", ["", ".gz", ".zst"])
def test_tsv_dialect_comes_from_the_suffix_before_the_compression_suffix(tmp_path, kind):
    """Issue 30.19: `.tsv.zst` was read as CSV (commas split cells, a leading quote swallowed rows)."""
    text = 'text\tlabel\nhello, world\ta\n"quoted at the start\tb\nrefund, please\ta\n'
    path = tmp_path / f"d.tsv{kind}"
    path.write_bytes(packed(text.encode(), kind) if kind else text.encode())
    t = load_table(path, "train")
    assert t.format == "csv" and not t.bad_rows
    assert [(e.input, e.label) for e in t.examples] == [("hello, world", "a"), ('"quoted at the start', "b"),
                                                         ("refund, please", "a")]
    assert [e.line for e in t.examples] == [2, 3, 4]


@pytest.mark.parametrize("name", ["d.parquet.gz", "d.pq.zst", "d.gz"])
def test_a_compressed_parquet_is_refused_clearly(tmp_path, name):
    """Issue 30.19: `.parquet.gz` got "unknown format 'parquet'; expected one of ..., parquet". Parquet
    compresses internally: a compressed Parquet file is refused with that reason."""
    import io

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(ROWS), buf)
    path = tmp_path / name
    path.write_bytes(packed(buf.getvalue(), ".zst" if name.endswith(".zst") else ".gz"))
    with pytest.raises(InputError, match="compressed Parquet") as err:
        load_table(path, "train")
    assert "compresses internally" in str(err.value) and "\n" not in str(err.value)
    assert "unknown format" not in str(err.value)


def test_class_label_minus_one_is_a_missing_label(tmp_path):
    """Issue 30.20: Hugging Face writes "no label" as ClassLabel -1; it became a class named "-1"."""
    import datasets

    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["negative", "positive"])})
    ds = datasets.Dataset.from_dict({"text": ["bad film", "unlabelled film", "great film"], "label": [0, -1, 1]},
                                    features=features)
    for source in (ds, tmp_path / "saved"):
        ds.save_to_disk(str(tmp_path / "saved"))
        t = load_table(source, "train")
        assert [e.label for e in t.examples] == ["negative", "positive"]
        assert t.bad_rows == [{"line": 2, "reason": "label is missing"}]


def bomb(tmp_path, kind: str):
    path = tmp_path / f"train.jsonl{kind}"
    path.write_bytes(packed(b"\n" * (3 << 20) + b'{"text": "a", "label": "b"}\n', kind))
    return path


def test_the_decompression_cap_is_the_policy_setting_input_max_expanded_bytes():
    """Issue 30.4: the cap is a policy value (2 GiB by default), type- and range-checked."""
    from harness.inputs import formats
    from harness.core.errors import UsageError
    from harness.auditing.policy import default_policy, load_policy

    assert default_policy()["input"]["max_expanded_bytes"] == 2 << 30 == formats.MAX_EXPANDED_BYTES
    assert load_policy({"input": {"max_expanded_bytes": 1 << 20}})["input"]["max_expanded_bytes"] == 1 << 20
    for bad in (0, -1, "2G", 1.5):
        with pytest.raises(UsageError, match="input.max_expanded_bytes"):
            load_policy({"input": {"max_expanded_bytes": bad}})


@pytest.mark.parametrize("kind", [".gz", ".zst"])
def test_the_decompression_cap_is_read_from_the_policy_and_named_in_the_error(tmp_path, kind, capsys):
    """Issue 30.4: past the cap the audit stops in one line naming the file, the limit and the policy key
    that raises it; a policy with a higher cap reads the same file."""
    import yaml

    from harness.app.cli import main

    path = bomb(tmp_path, kind)
    low, high = tmp_path / "low.yaml", tmp_path / "high.yaml"
    low.write_text(yaml.safe_dump({"input": {"max_expanded_bytes": 1 << 20}}))
    high.write_text(yaml.safe_dump({"input": {"max_expanded_bytes": 8 << 20}}))
    with pytest.raises(InputError, match="input.max_expanded_bytes") as err:
        load_table(path, "train", max_expanded_bytes=1 << 20)
    assert "1,048,576 bytes" in str(err.value) and str(path) in str(err.value)
    assert main(["audit", str(path), "--policy", str(low), "--out", str(tmp_path / "o1"), "--quiet"]) == 2
    out = capsys.readouterr().err.strip()
    assert out.startswith(f"harness: error: {path}: ") and "\n" not in out
    assert "1,048,576 bytes" in out and "input.max_expanded_bytes" in out
    code = main(["audit", str(path), "--policy", str(high), "--out", str(tmp_path / "o2"), "--quiet"])
    assert code in (0, 1), capsys.readouterr().err
    assert json.loads((tmp_path / "o2" / "audit.json").read_text())["inputs"]["train"]["good_rows"] == 1
