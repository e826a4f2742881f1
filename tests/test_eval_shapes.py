"""An eval set in another shape than the adapter's: mapped onto its task, never guessed."""

import pytest

from harness.data import load_table
from harness.errors import InputError
from harness.eval_shapes import frequent_outputs, map_examples


def test_labelled_rows_become_questions_with_their_label_as_the_reply():
    table = load_table([{"text": "where is my parcel", "label": "delivery"}], "eval")
    mapped, info = map_examples(table.examples, "classification", "chat", [])
    assert (mapped[0].input, mapped[0].output, mapped[0].label, mapped[0].line) == ("where is my parcel", "delivery", None, 1)
    assert info["own_shape"] == "classification" and info["mapped_to"] == "chat" and info["dropped"] == 0


def test_generative_rows_become_labelled_rows_when_the_answer_is_a_label():
    rows = [{"messages": [{"role": "user", "content": "charged twice"}, {"role": "assistant", "content": "Billing"}]},
            {"messages": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "Hi! How can I help?"}]}]
    table = load_table(rows, "eval")
    mapped, info = map_examples(table.examples, "chat", "classification", ["billing", "delivery"])
    assert [(e.input, e.label) for e in mapped] == [("charged twice", "billing")]
    assert info["dropped"] == 1 and info["dropped_examples"][0]["line"] == 2
    assert "none of the adapter's 2 labels" in info["dropped_examples"][0]["reason"]
    with pytest.raises(InputError, match="none of the 1 eval rows .*line 2"):
        map_examples(table.examples[1:], "chat", "classification", ["billing"], "eval.jsonl")


def test_same_shape_is_left_alone():
    table = load_table([{"prompt": "a", "completion": "b"}], "eval")
    assert map_examples(table.examples, "instruction", "instruction", []) == (table.examples, {})


def test_frequent_outputs_are_short_repeated_answers():
    rows = [{"prompt": f"q{i}", "completion": c} for i, c in
            enumerate(["Billing"] * 3 + ["billing."] + ["delivery"] * 2 + ["a long answer of many words indeed"] * 4)]
    assert frequent_outputs(load_table(rows, "train").examples) == ["billing"]


def test_the_audit_reads_eval_rows_of_another_shape_in_their_own(tmp_path):
    """Issue 29: half an eval set written as chat beside classification rows; the chat half copies
    training rows. Read in their own shape they are found as leaks, and the checklist says so."""
    import json

    import harness
    from reports.view import _leakage_answer

    train = [{"text": f"question {i} about my parcel number {i * 7} that never arrived at the depot",
              "label": ["delivery", "billing"][i % 2]} for i in range(60)]
    ev = [{"messages": [{"role": "user", "content": train[i]["text"]}, {"role": "assistant", "content": train[i]["label"]}]}
          for i in range(15)]
    ev += [{"text": f"completely new question {i} regarding an invoice for plan {i}", "label": "billing"} for i in range(15)]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ev))
    result = harness.audit(str(tmp_path / "train.jsonl"), str(tmp_path / "eval.jsonl"))
    assert result["inputs"]["eval"]["read_in_own_shape"] == {"chat": 15}
    leak = next(c for c in result["checks"] if c["check"] == "leakage")
    assert leak["summary"]["leaked_eval_rows"] == 15
    assert sorted(f["rows"][0]["line"] for f in leak["findings"] if f["kind"] == "exact") == list(range(1, 16))
    by = {c["check"]: c for c in result["checks"]}
    assert _leakage_answer(result, by)[0] == "no"
