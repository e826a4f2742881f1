"""An eval set in another shape than the adapter's: mapped onto its task, never guessed."""

import pytest

from conftest import leaky_eval_rows
from harness.inputs.data import load_table
from harness.core.errors import InputError
from harness.inputs.eval_shapes import frequent_outputs, map_examples


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

    train, ev = leaky_eval_rows()
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ev))
    result = harness.audit(str(tmp_path / "train.jsonl"), str(tmp_path / "eval.jsonl"))
    assert result["inputs"]["eval"]["read_in_own_shape"] == {"chat": 15}
    leak = next(c for c in result["checks"] if c["check"] == "leakage")
    assert leak["summary"]["leaked_eval_rows"] == 15
    assert sorted(f["rows"][0]["line"] for f in leak["findings"] if f["kind"] == "exact") == list(range(1, 16))
    by = {c["check"]: c for c in result["checks"]}
    assert _leakage_answer(result, by)[0] == "no"


def _leaky_eval(tmp_path, pad_lines: int = 0):
    """Train: labelled rows; eval: 15 chat copies of training rows and 15 new labelled rows, gzip'd, after
    `pad_lines` blank lines (which only make the file expand further)."""
    import gzip
    import json

    train, ev = leaky_eval_rows()
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    path = tmp_path / "eval.jsonl.gz"
    path.write_bytes(gzip.compress(("\n" * pad_lines + "".join(json.dumps(r) + "\n" for r in ev)).encode()))
    return tmp_path / "train.jsonl", path


def test_eval_rows_of_another_shape_are_read_again_under_the_policy_cap(tmp_path, monkeypatch):
    """Issue 29: the second read (rows in their own shape) used the default decompression cap, not the
    policy's input.max_expanded_bytes: with a policy cap above the default, the eval set was read and its
    rows of another shape silently were not (their leaks unseen); below it, the cap holds for both reads."""
    import harness
    from harness.inputs import formats
    from harness.inputs.data import load_table
    from harness.inputs.eval_shapes import read_other_shapes

    train, ev = _leaky_eval(tmp_path, pad_lines=2 << 20)
    monkeypatch.setattr(formats, "MAX_EXPANDED_BYTES", 1 << 20)   # the default cap, below this file's size
    result = harness.audit(str(train), str(ev), {"input": {"max_expanded_bytes": 8 << 20}})
    assert result["inputs"]["eval"]["read_in_own_shape"] == {"chat": 15}
    assert next(c for c in result["checks"] if c["check"] == "leakage")["summary"]["leaked_eval_rows"] == 15
    table = load_table(ev, "eval", shape="classification", max_expanded_bytes=8 << 20)
    with pytest.raises(InputError, match="expands past the limit of 2,097,152 bytes"):
        read_other_shapes(ev, table, "classification", ["billing", "delivery"], max_expanded_bytes=2 << 20)
    assert table.other_shapes == {}
