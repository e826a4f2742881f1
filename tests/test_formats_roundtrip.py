"""Each ecosystem format through train -> compare on the tiny model: the trainer renders tool turns
through the chat template and masks `weight: 0`, learns a text row whole, refuses preference rows;
compare reads the data as training did (the manifest's reading) and gates by the kind of task."""

import json

import pytest

from harness import compare, train
from harness.core.errors import UsageError
from harness.model.render import IGNORE, encode, encode_text
from test_compare import FAST, WORDS
from test_row_formats import sharegpt, tool_row
from tiny_model import CHATML, build_tiny_model

SUITES = ["task", "overfitting", "drift"]
POLICY = {"suites": {"drift": {"params": {"max_items": 3, "max_new_tokens": 4}},
                     "overfitting": {"params": {"max_items": 6, "extraction_items": 4}}}}


# ChatML that renders tool definitions and calls (the tiny model's own template, like SmolLM2's, drops them)
TOOL_CHATML = ("{% if tools %}{{ '<|im_start|>system\\n<tools>' + (tools | tojson) + '</tools><|im_end|>\\n' }}{% endif %}"
               "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + (message['content'] or '') }}"
               "{% for c in message.get('tool_calls') or [] %}{{ '<tool_call>' + (c['function'] | tojson) + '</tool_call>' }}"
               "{% endfor %}{{ '<|im_end|>' + '\\n' }}{% endfor %}"
               "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return str(build_tiny_model(tmp_path_factory.mktemp("fmt") / "tiny"))


@pytest.fixture(scope="module")
def tiny_with_tools(tiny, tmp_path_factory):
    import shutil

    from transformers import AutoTokenizer

    path = tmp_path_factory.mktemp("fmt") / "tiny-tools"
    shutil.copytree(tiny, path)
    tok = AutoTokenizer.from_pretrained(path)
    tok.chat_template = TOOL_CHATML
    tok.save_pretrained(path)
    return str(path)


def test_tool_calls_a_template_drops_are_refused_not_trained_as_empty_turns(tiny, tmp_path):
    """Issue 30.3: the built-in model's template ignores `tool_calls` and `tools`; training supervised an
    empty assistant turn and said nothing. The row's file and line and what was dropped, exit 2."""
    from harness.core.errors import InputError

    path = tmp_path / "tools.jsonl"
    path.write_text("".join(json.dumps(tool_row(i)) + "\n" for i in range(4)))
    with pytest.raises(InputError) as caught:
        train(tiny, str(path), out=tmp_path / "a", epochs=1, **FAST)
    assert f"{path}:1:" in str(caught.value) and "drops the tool call 'lookup_order'" in str(caught.value)
    assert not (tmp_path / "a").exists()


def test_weight_zero_turns_are_not_learned_and_tools_reach_the_template(tiny):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    tok.chat_template = ("{% if tools %}{{ 'TOOLS:' + tools[0]['function']['name'] + '\\n' }}{% endif %}" + CHATML
                         .replace("message['content']", "(message['content'] ~ (message['tool_calls'][0]['function']"
                                  "['arguments']['order'] | string if message.get('tool_calls') else ''))"))
    row = tool_row(0)
    msgs = [{k: v for k, v in m.items()} for m in row["messages"]]
    msgs[2]["content"] = ""
    learned = encode(msgs, tok, 10**6, tools=row["tools"])
    text = tok.decode(learned.input_ids)
    assert text.startswith("TOOLS:lookup_order") and "1000" in text  # tools and the call's arguments (as an object)
    msgs[4]["weight"] = 0
    masked = encode(msgs, tok, 10**6, tools=row["tools"])
    assert 0 < masked.supervised < learned.supervised  # the final answer is no longer learned; the call still is
    supervised = tok.decode([t for t, lab in zip(masked.input_ids, masked.labels) if lab != IGNORE])
    assert "has shipped" not in supervised


def test_text_rows_learn_every_token(tiny):
    from transformers import AutoTokenizer

    e = encode_text("where is my parcel", AutoTokenizer.from_pretrained(tiny), 64)
    assert e.labels == e.input_ids and e.input_ids[-1] == AutoTokenizer.from_pretrained(tiny).eos_token_id


@pytest.mark.parametrize("kind", ["sharegpt", "conversational", "tools", "text", "gz", "hf"])
def test_train_then_compare_reads_the_format_as_training_did(tiny, tiny_with_tools, tmp_path, kind):
    if kind == "sharegpt":
        rows = [{"dialog": sharegpt(i)["conversations"]} for i in range(16)]
        kwargs = {"fields": {"messages": "dialog"}}
    elif kind == "conversational":
        rows = [{"prompt": [{"role": "user", "content": f"where is my {w} {i}"}],
                 "completion": [{"role": "assistant", "content": f"your {w} ships today"}]}
                for i, w in enumerate(WORDS)]
        kwargs = {}
    elif kind == "tools":
        rows = [tool_row(i, weight=i % 2) for i in range(12)]
        kwargs = {}
        tiny = tiny_with_tools
    elif kind == "text":
        rows = [{"text": f"the {a} and the {b} arrived late"} for a in WORDS[:6] for b in WORDS[:3]]
        kwargs = {}
    else:
        rows = [{"prompt": f"where is my {w}", "completion": f"your {w} ships today"} for w in WORDS]
        kwargs = {}
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    if kind == "gz":
        import gzip

        path = tmp_path / "train.jsonl.gz"
        path.write_bytes(gzip.compress((tmp_path / "train.jsonl").read_bytes()))
    elif kind == "hf":
        import datasets

        datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "hf"))
        path = tmp_path / "hf"
    manifest = train(tiny, str(path), str(path), out=tmp_path / "a", epochs=1, lr=1e-3, **{**FAST, "max_seq_len": 128},
                     **kwargs)
    reading = manifest["data"]["train"]["read_with"]
    assert manifest["data"]["train"]["bad_rows"] == 0
    progress = []
    r = compare(tiny, tmp_path / "a", str(path), str(path), cache="", suites=SUITES, policy=POLICY,
                on_progress=lambda *call: progress.append(call))
    # (suite, side, done, total) as batches finish: each scoring call starts at 0 and ends at its total
    assert {p[0] for p in progress} >= {"task", "overfitting"} and {p[1] for p in progress} >= {"base", "tuned"}
    assert all(0 <= done <= total for _, _, done, total in progress)
    assert any(done == total > 0 for _, _, done, total in progress) and any(done == 0 for _, _, done, _ in progress)
    task = r["suites"]["task"]
    assert task["status"] in ("pass", "warn", "fail"), task.get("info")
    if kind == "text":
        assert reading["shape"] == "text" and r["task_rules"]["output_kind"] == "text"
        assert task["metrics"]["loss"]["n"] == len(rows) and "task.loss" in r["task_rules"]["rules"]
        assert r["suites"]["overfitting"]["metrics"]["loss_gap"]["n"] == [6, 6]
    elif kind in ("gz", "hf"):
        assert manifest["data"]["shape"] == "instruction" and task["metrics"]["exact_match"]["n"] == len(rows)
        assert manifest["data"]["train"]["format"] == ("jsonl" if kind == "gz" else "hf-dataset")
    else:
        assert manifest["data"]["shape"] == "chat" and task["metrics"]["exact_match"]["n"] == len(rows)
    if kind == "sharegpt":
        assert reading == {"shape": "sharegpt", "fields": {"messages": "dialog"}}


def test_preference_rows_are_refused_by_the_trainer_and_scored_by_compare(tiny, tmp_path):
    prefs = [{"prompt": f"where is my {w}", "chosen": f"your {w} ships today", "rejected": "no idea"} for w in WORDS]
    path = tmp_path / "pref.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in prefs))
    with pytest.raises(UsageError, match="preference data .* is audited, not trained"):
        train(tiny, str(path), None, out=tmp_path / "p", epochs=1, **FAST)
    # An adapter trained elsewhere (here: on the chosen answers), judged on preference rows.
    chosen = tmp_path / "chosen.jsonl"
    chosen.write_text("".join(json.dumps({"prompt": r["prompt"], "completion": r["chosen"]}) + "\n" for r in prefs))
    train(tiny, str(chosen), None, out=tmp_path / "a", epochs=2, lr=5e-3, **FAST)
    r = compare(tiny, tmp_path / "a", None, str(path), cache="", suites=["task"], shape="preference")
    m = r["suites"]["task"]["metrics"]["preference_accuracy"]
    assert m["n"] == len(prefs) and r["task_rules"]["output_kind"] == "preference"
    assert m["tuned"] >= m["base"]  # trained on the chosen answers, it prefers them at least as often
