"""Rows as the ecosystem writes them (ShareGPT, TRL conversational, preference, language modelling,
OpenAI tools and weights; compressed JSONL; Hugging Face datasets): read with their lines, a one-line
schema error per malformed row, the same view in every stage."""

import gzip
import json

import pytest

import harness
from conftest import check, write_jsonl
from harness.inputs.data import load_table
from harness.core.errors import InputError


def sharegpt(i, **extra):
    return {"conversations": [{"from": "human", "value": f"How do I reset router {i}?"},
                              {"from": "gpt", "value": f"Hold the reset button of router {i} for ten seconds."}], **extra}


def tool_row(i, weight=1):
    return {"messages": [
        {"role": "system", "content": "You can look up orders."},
        {"role": "user", "content": f"Where is order {1000 + i}? Mail me at jane.doe{i}@example.com"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": f"c{i}", "type": "function", "function": {
            "name": "lookup_order", "arguments": json.dumps({"order": 1000 + i, "email": f"jane.doe{i}@example.com"})}}]},
        {"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps({"status": "shipped"})},
        {"role": "assistant", "content": f"Order {1000 + i} has shipped.", "weight": weight}],
        "tools": [{"type": "function", "function": {"name": "lookup_order", "parameters": {
            "type": "object", "properties": {"order": {"type": "integer"}, "email": {"type": "string"}}}}}]}


def test_sharegpt_is_read_as_chat_with_its_lines_and_system_column(tmp_path):
    rows = [sharegpt(i) for i in range(3)] + [sharegpt(3, system="You are the router help desk.")]
    t = load_table(write_jsonl(tmp_path / "s.jsonl", rows), "train")
    assert t.shape == "chat" and t.written_as == "sharegpt" and [e.line for e in t.examples] == [1, 2, 3, 4]
    assert t.examples[0].messages[0] == {"role": "user", "content": "How do I reset router 0?"}
    assert t.examples[3].messages[0]["role"] == "system" and t.examples[0].output.startswith("Hold the reset")
    assert t.card()["read_with"] == {"shape": "sharegpt", "fields": {}}


def test_sharegpt_under_another_column_and_unknown_speakers(tmp_path):
    rows = [{"dialog": sharegpt(i)["conversations"]} for i in range(3)]
    rows[1]["dialog"][1]["from"] = "bot"
    t = load_table(write_jsonl(tmp_path / "s.jsonl", rows), "train", fields={"messages": "dialog"})
    assert t.written_as == "sharegpt" and len(t.examples) == 2
    [bad] = t.bad_rows
    assert bad["line"] == 2 and "unknown role 'bot'" in bad["reason"]
    # selectable by name too
    assert load_table(tmp_path / "s.jsonl", "train", shape="sharegpt", fields={"messages": "dialog"}).shape == "chat"


def test_trl_conversational_prompt_completion_is_chat(tmp_path):
    rows = [{"prompt": [{"role": "user", "content": f"What is {i} + 1?"}],
             "completion": [{"role": "assistant", "content": f"It is {i + 1}."}]} for i in range(3)]
    rows.append({"prompt": [{"role": "user", "content": "x"}], "completion": "not a list"})
    t = load_table(write_jsonl(tmp_path / "c.jsonl", rows), "train")
    assert t.shape == "chat" and t.written_as == "trl_conversational"
    assert t.examples[2].input == "What is 2 + 1?" and t.examples[2].output == "It is 3."
    assert [b["line"] for b in t.bad_rows] == [4]


def test_language_modelling_text_rows(tmp_path):
    t = load_table(write_jsonl(tmp_path / "t.jsonl", [{"text": f"Chapter {i}. It was a quiet night."} for i in range(3)]
                               + [{"text": "  "}]), "train")
    assert t.shape == "text" and t.examples[1].input == "Chapter 1. It was a quiet night." and t.examples[1].output is None
    assert t.bad_rows == [{"line": 4, "reason": "text is empty or whitespace-only"}]


def test_preference_rows_plain_and_conversational(tmp_path):
    plain = [{"prompt": f"Summarise note {i}", "chosen": f"Note {i} asks for a refund.", "rejected": "No."} for i in range(3)]
    t = load_table(write_jsonl(tmp_path / "p.jsonl", plain), "train")
    assert t.shape == "preference" and t.examples[0].output == "Note 0 asks for a refund." and t.examples[0].rejected == "No."
    conv = [{"chosen": [{"role": "user", "content": f"Hi {i}"}, {"role": "assistant", "content": f"Hello {i}!"}],
             "rejected": [{"role": "user", "content": f"Hi {i}"}, {"role": "assistant", "content": "Go away."}]}
            for i in range(3)]
    t = load_table(write_jsonl(tmp_path / "pc.jsonl", conv), "train")
    assert t.shape == "preference" and t.written_as == "trl_preference"
    assert (t.examples[1].input, t.examples[1].output, t.examples[1].rejected) == ("Hi 1", "Hello 1!", "Go away.")


def test_malformed_preference_rows_are_schema_errors(tmp_path):
    rows = [{"prompt": f"q {i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(4)]
    rows[1]["rejected"] = ""
    del rows[2]["chosen"]
    t = load_table(write_jsonl(tmp_path / "p.jsonl", rows), "train")
    assert t.shape == "preference"
    assert [(b["line"], b["reason"]) for b in t.bad_rows] == [(2, "rejected is empty or whitespace-only"),
                                                             (3, "chosen is missing")]


def test_preference_audit_flags_identical_pairs_and_checks_both_answers(tmp_path):
    rows = [{"prompt": f"Explain topic {i}", "chosen": f"Topic {i} is about the {['sun', 'sea', 'moon'][i % 3]} and case {i}.",
             "rejected": f"Unsure {i}."} for i in range(30)]
    rows[3]["rejected"] = rows[3]["chosen"]
    rows[7]["rejected"] = rows[7]["chosen"].replace("about", "abuot")
    rows[9]["rejected"] = "Write to me at mary.major@example.com for topic 9."
    rows[12]["rejected"] = "word " * 400
    res = harness.audit(rows, policy={"max_seq_len": 200})
    pairs = check(res, "preference_pairs")
    assert [(f["kind"], f["rows"][0]["line"]) for f in pairs["findings"]] == [("identical", 4), ("near_identical", 8)]
    assert pairs["summary"]["chosen_longer_share"] == round(26 / 30, 4)  # not rows 4 (equal), 8 (equal), 10, 13
    assert 10 in {f["rows"][0]["line"] for f in check(res, "pii")["findings"]}  # the rejected answer is audited
    assert 13 in {f["rows"][0]["line"] for f in check(res, "length")["findings"]}  # and counted for length


def test_openai_tool_calls_and_weights(tmp_path):
    rows = [tool_row(i) for i in range(3)]
    t = load_table(write_jsonl(tmp_path / "tools.jsonl", rows), "train")
    assert t.bad_rows == [] and t.examples[0].tools[0]["function"]["name"] == "lookup_order"
    call = t.examples[0].messages[2]
    assert call["content"] == "" and call["tool_calls"][0]["function"]["name"] == "lookup_order"
    assert t.examples[0].messages[4]["weight"] == 1
    # the tool call's arguments are text the model learns to write: audited for personal data
    assert any("lookup_order" in v and "jane.doe0" in v for v in t.examples[0].texts.values())
    bad = [tool_row(0, weight=2), tool_row(1), tool_row(2)]
    bad[1]["messages"][2]["tool_calls"] = [{"id": "x"}]
    bad[2]["messages"][4]["weight"] = 0
    bad[2]["messages"][2]["content"] = None
    bad[2]["messages"][2].pop("tool_calls")
    reasons = {b["line"]: b["reason"] for b in load_table(write_jsonl(tmp_path / "b.jsonl", bad), "train").bad_rows}
    assert "weight is not 0 or 1" in reasons[1]
    assert "tool call without {function: {name, arguments}}" in reasons[2]
    assert "content may be null only in a turn with tool_calls" in reasons[3]


def test_every_assistant_turn_at_weight_zero_is_a_schema_error(tmp_path):
    row = tool_row(0, weight=0)
    row["messages"][2] = {"role": "assistant", "content": "Let me look.", "weight": 0}
    del row["messages"][3]
    [bad] = load_table(write_jsonl(tmp_path / "w.jsonl", [row, tool_row(1)]), "train").bad_rows
    assert bad["line"] == 1 and "nothing to learn" in bad["reason"]


def test_compressed_jsonl(tmp_path):
    import zstandard

    body = "".join(json.dumps(sharegpt(i)) + "\n" for i in range(3)).encode()
    (tmp_path / "d.jsonl.gz").write_bytes(gzip.compress(body))
    (tmp_path / "d.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(body))
    for name in ("d.jsonl.gz", "d.jsonl.zst"):
        t = load_table(tmp_path / name, "train")
        assert t.format == "jsonl" and t.shape == "chat" and [e.line for e in t.examples] == [1, 2, 3]
    (tmp_path / "broken.jsonl.gz").write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="cannot decompress"):
        load_table(tmp_path / "broken.jsonl.gz", "train")


def test_hugging_face_dataset_on_disk_keeps_class_label_names(tmp_path):
    import datasets

    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["negative", "positive"])})
    ds = datasets.Dataset.from_dict({"text": ["bad film", "great film", "fine film"], "label": [0, 1, 1]}, features=features)
    ds.save_to_disk(str(tmp_path / "saved"))
    t = load_table(tmp_path / "saved", "train")
    assert t.format == "hf-dataset" and [e.label for e in t.examples] == ["negative", "positive", "positive"]
    assert [e.line for e in t.examples] == [1, 2, 3]
    assert [e.label for e in load_table(ds, "train").examples] == ["negative", "positive", "positive"]  # the API too
    datasets.DatasetDict({"train": ds, "test": ds}).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(InputError, match="saved DatasetDict; give one split's directory \\(test, train\\)"):
        load_table(tmp_path / "dd", "train")
    assert len(load_table(tmp_path / "dd" / "train", "train").examples) == 3


def test_hugging_face_dataset_by_name_reads_what_load_dataset_finds_offline(tmp_path, monkeypatch):
    """`hf:NAME:SPLIT` is what `datasets.load_dataset(NAME, split=SPLIT)` reads from the local cache with
    the hub switched off (a local folder is given as a plain path: issue 30.15, tests/test_formats.py)."""
    import datasets
    from datasets.packaged_modules.json.json import Json

    cache = tmp_path / "cache"
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    src = write_jsonl(tmp_path / "src.jsonl", [{"text": f"where is parcel {i}", "label": "delivery"} for i in range(4)])
    Json(cache_dir=str(cache), dataset_name="tickets", config_id="default", hash="0123abcd",
         data_files={"train": [str(src)]}).download_and_prepare()   # as a download leaves it in the cache
    t = load_table("hf:tickets:train", "train")
    assert t.format == "hf-dataset" and t.shape == "classification" and [e.line for e in t.examples] == [1, 2, 3, 4]
    with pytest.raises(InputError, match="not in the local Hugging Face datasets cache"):
        load_table("hf:tickets:validation", "train")  # no such split


def test_hugging_face_dataset_by_name_is_offline_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(InputError, match="not in the local Hugging Face datasets cache"):
        load_table("hf:nobody/no-such-set:train", "train")


def test_cli_reads_a_sharegpt_file_and_names_a_bad_row(tmp_path):
    from harness.app.cli import main

    rows = [sharegpt(i) for i in range(12)]
    rows[4]["conversations"][0]["from"] = "narrator"
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    assert main(["audit", str(path), "--out", str(tmp_path / "o"), "--quiet"]) in (0, 1)
    audit = json.loads((tmp_path / "o" / "audit.json").read_text())
    assert audit["inputs"]["train"]["written_as"] == "sharegpt"
    [f] = check(audit, "schema")["findings"]
    assert f["rows"] == [{"split": "train", "line": 5}] and "unknown role 'narrator'" in f["message"]
