"""Row shapes and row formats as registered descriptions (harness/inputs/shapes.py, harness/inputs/row_formats.py; issue
31.8): each says its fields, how a row is told to be of it, its canonical view and its kind of task, and
loading, validation and detection ask it; a shape or a row format registered as another package would
register it is read like the built-in ones."""

import pytest

from harness.inputs import row_formats

from harness.inputs import shapes
from harness.inputs.data import detect_shape, load_table, shape_choices
from harness.core.errors import UsageError
from harness.inputs.shapes import get_shape


def test_the_built_in_shapes_describe_their_task():
    assert shapes.shape_names() == ["classification", "instruction", "alpaca", "chat", "preference", "text"]
    assert [s.name for s in shapes.detection_order()] == ["chat", "preference", "alpaca", "instruction",
                                                           "classification", "text"]
    assert shape_choices()[-2:] == ["sharegpt", "conversational"]
    kinds = {s.name: (s.labelled, s.generative, s.paired, s.turns, s.whole_text, s.trainable) for s in shapes.shapes()}
    assert kinds == {"classification": (True, False, False, False, False, True),
                     "instruction": (False, True, False, False, False, True),
                     "alpaca": (False, True, False, False, False, True),
                     "chat": (False, True, False, True, False, True),
                     "preference": (False, True, True, False, False, False),
                     "text": (False, False, False, False, True, True)}
    with pytest.raises(UsageError, match="unknown shape 'chatt'; did you mean 'chat'"):
        get_shape("chatt")


@pytest.mark.parametrize("rec,fields,shape", [
    ({"text": "t", "label": "l"}, {}, "classification"), ({"text": "t"}, {}, "text"),
    ({"body": "t", "label": "l"}, {"text": "body"}, "classification"),
    ({"instruction": "i", "output": "o"}, {}, "alpaca"), ({"prompt": "p", "completion": "c"}, {}, "instruction"),
    ({"prompt": "p", "chosen": "c", "rejected": "r"}, {}, "preference"),
    ({"messages": [{"role": "user", "content": "u"}]}, {}, "chat")])
def test_a_row_is_told_by_the_shape_it_fits(rec, fields, shape):
    assert detect_shape([rec], fields, None, "x") == shape
    assert get_shape(shape).fits(rec, fields)


def test_a_text_row_with_a_label_is_no_text_row():
    assert not get_shape("text").fits({"text": "t", "label": "l"}, {})


def test_each_shape_gives_the_canonical_view():
    alpaca = get_shape("alpaca").view({"instruction": "Translate", "input": "bonjour", "output": "hello"},
                                      {"instruction": "instruction", "input": "input", "output": "output"})
    assert alpaca["input"] == "Translate\n\nbonjour" and alpaca["output"] == "hello"
    chat = get_shape("chat").view({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                                                {"role": "assistant", "content": "a"}]}, {"messages": "messages"})
    assert (chat["input"], chat["output"], len(chat["messages"])) == ("u", "a", 3)
    label = get_shape("classification").view({"t": "x", "l": 3}, {"text": "t", "label": "l"})
    assert (label["input"], label["label"], label["texts"]) == ("x", "3", {"t": "x"})


@pytest.fixture
def qa_shape():
    """A question/answer shape and a row format that reads `pairs: [{q, a}]` as it, registered for one test."""

    @shapes.register
    class QuestionAnswer(shapes.Shape):
        name, fields, detect_order = "qa", ("question", "answer"), 35

        def view(self, rec, mapping):
            q, a = rec.get(mapping["question"]), rec.get(mapping["answer"])
            return {"input": q, "output": a, "texts": {mapping["question"]: q, mapping["answer"]: a}}

    @row_formats.register
    class Pairs(row_formats.RowFormat):
        name, option, reads_as = "pairs", "pairs", "qa"

        def fits(self, rec, fields):
            return isinstance(rec.get("pairs"), list)

        def convert(self, records, fields):
            return [{"question": r["pairs"][0]["q"], "answer": r["pairs"][0]["a"]} if self.fits(r, fields) else r
                    for r in records], dict(fields)

    yield QuestionAnswer
    shapes.REGISTRY._items.pop("qa")
    row_formats.REGISTRY._items.pop("pairs")


def test_a_registered_shape_and_row_format_are_detected_validated_and_read(qa_shape):
    rows = [{"question": f"what is {i}?", "answer": f"it is {i}"} for i in range(3)] + [{"question": "q", "answer": " "}]
    t = load_table(rows, "train")
    assert t.shape == "qa" and [e.output for e in t.examples] == ["it is 0", "it is 1", "it is 2"]
    assert t.bad_rows == [{"line": 4, "reason": "answer is empty or whitespace-only"}]
    assert "qa" in shape_choices() and "pairs" in shape_choices()
    t = load_table([{"pairs": [{"q": "why?", "a": "because"}]}] * 2, "train")
    assert (t.shape, t.written_as, t.read_with["shape"], t.examples[0].input) == ("qa", "pairs", "pairs", "why?")
