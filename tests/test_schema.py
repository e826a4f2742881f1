"""pandera validation: every bad row is collected with its line and reason; good rows go on."""

from harness.inputs.data import load_table


def reasons(table):
    return {b["line"]: b["reason"] for b in table.bad_rows}


def test_classification_bad_rows_are_all_collected():
    rows = [{"text": "fine", "label": "a"}, {"text": "  \t", "label": "a"}, {"text": 7, "label": "a"},
            {"text": "no label"}, {"text": "bad label", "label": "zzz"}, ["not", "an", "object"],
            {"text": "int label ok", "label": 3}]
    t = load_table(rows, "train", labels=["a", "3"])
    r = reasons(t)
    assert [e.line for e in t.examples] == [1, 7]
    assert r[2] == "text is empty or whitespace-only"
    assert r[3] == "text must be a string"
    assert r[4] == "label is missing"
    assert r[5].startswith("label is not one of the allowed labels")
    assert r[6].startswith("row is a list, expected an object")


def test_chat_structure_rules():
    ok = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]
    rows = [{"messages": ok},
            {"messages": [{"role": "user", "content": "u"}]},
            {"messages": [{"role": "assistant", "content": "a"}]},
            {"messages": [{"role": "wizard", "content": "u"}, {"role": "assistant", "content": "a"}]},
            {"messages": [{"role": "user", "content": " "}, {"role": "assistant", "content": "a"}]},
            {"messages": "hello"}]
    t = load_table(rows, "train")
    r = reasons(t)
    assert [e.line for e in t.examples] == [1]
    assert t.examples[0].input == "u" and t.examples[0].output == "a"  # the system prompt is not input
    assert r[2] == "messages does not end with an assistant turn"
    assert r[3] == "messages has no user turn"
    assert r[4].startswith("messages has an unknown role")
    assert r[5] == "messages has a turn with empty content"
    assert r[6].startswith("messages must be a non-empty list")


def test_instruction_empty_completion_is_a_bad_row():
    t = load_table([{"prompt": "p", "completion": ""}, {"prompt": "q", "completion": "c"}], "train")
    assert reasons(t) == {1: "completion is empty or whitespace-only"}
