"""The data shapes the harness reads, each one registered description: its fields, how a row is told
to be of it, how it reads as the canonical view (input, output, label), and what kind of task it is.
Loading (data.py), row validation (schema.py), the engines, the trainer and the checks ask the shape
instead of comparing its name, so a shape is described once.

Another package may add one under the entry point group `finetune_harness.shapes` (a Shape subclass,
decorated with `register`); rows written in an ecosystem format that read as one of these shapes
(ShareGPT, TRL) are row formats, harness/inputs/row_formats.py.
"""

from __future__ import annotations

from typing import Any, Mapping

from harness.core.registry import Registry
from harness.inputs.row_formats import kept_turn, turn_text

REGISTRY = Registry("shape", None, "finetune_harness.shapes")
register = REGISTRY.register

CHAT_ROLES = ("system", "user", "assistant", "tool", "function", "developer")


class Shape:
    """One shape. Subclasses set the attributes and `view`."""

    name = ""
    fields: tuple[str, ...] = ()         # canonical field names (a mapping renames them: --field text=body)
    optional: frozenset[str] = frozenset()   # fields a row may leave out
    kinds: Mapping[str, str] = {}        # field -> how validation checks it: "label", "turns" (default "text")
    excludes: tuple[str, ...] = ()       # fields whose presence makes a row another shape's (text: a label)
    labelled = False        # the answer is one of a fixed set of labels (a classifier's task)
    generative = True       # the row has an answer to write beyond its request (`output`)
    paired = False          # the row has a rejected answer beside the chosen one
    turns = False           # the row keeps its chat turns (the trainer renders them as given)
    whole_text = False      # learned whole (language modelling), no prompt and answer
    trainable = True        # the trainer learns it (supervised fine-tuning)
    order = 1000            # where it is listed (--shape's choices, messages)
    detect_order = 1000     # where it is tried when a file does not say: a row may fit several shapes (every
                            # classification row is also a text row); the first of the shapes most rows fit wins

    def kind(self, field: str) -> str:
        return self.kinds.get(field, "text")

    def required(self, fields: Mapping[str, str]) -> list[str]:
        """The columns a row of this shape must have, through the field mapping."""
        return [fields.get(f, f) for f in self.fields if f not in self.optional]

    def fits(self, rec: Mapping[str, Any], fields: Mapping[str, str]) -> bool:
        """Whether a row (an object) has this shape's fields, for detection."""
        return all(c in rec for c in self.required(fields)) and not any(fields.get(x, x) in rec for x in self.excludes)

    def view(self, rec: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
        """A valid row as the canonical view: input, output, label, texts (every free text by field
        name), and where the shape has them messages, rejected and tools (harness.inputs.data.Example)."""
        raise NotImplementedError


@register
class Chat(Shape):
    """OpenAI's fine-tuning format, tool calls and per-turn weight included."""

    name, fields, kinds, turns, order, detect_order = "chat", ("messages",), {"messages": "turns"}, True, 40, 10

    def view(self, rec, mapping):
        messages = rec.get(mapping["messages"])
        key = mapping["messages"]
        # A tool call's name and arguments are text the model learns to write: audited like any content.
        texts = {f"{key}[{i}].content": turn_text(m) for i, m in enumerate(messages) if turn_text(m)}
        # The system prompt is usually shared by every row: leaving it out of `input` keeps duplicate and
        # similarity checks about what differs between rows.
        prompt_turns = [turn_text(m) for m in messages[:-1] if m["role"] != "system"]
        tools = rec.get("tools") if isinstance(rec.get("tools"), list) else None
        return {"input": "\n".join(prompt_turns), "output": turn_text(messages[-1]), "texts": texts,
                "messages": [kept_turn(m) for m in messages], "tools": tools}


@register
class Preference(Shape):
    """A prompt with a chosen and a rejected answer (TRL): audited (both answers), not trained."""

    name, fields, order, detect_order = "preference", ("prompt", "chosen", "rejected"), 50, 20
    paired, trainable = True, False

    def view(self, rec, mapping):
        prompt, chosen, rejected = (rec.get(mapping[f]) for f in self.fields)
        return {"input": prompt, "output": chosen, "rejected": rejected,
                "texts": {mapping["prompt"]: prompt, mapping["chosen"]: chosen, mapping["rejected"]: rejected}}


@register
class Alpaca(Shape):
    """Stanford Alpaca's rows: the optional input is joined to the instruction."""

    name, fields, optional = "alpaca", ("instruction", "input", "output"), frozenset({"input"})
    order, detect_order = 30, 30

    def view(self, rec, mapping):
        instruction, output = rec.get(mapping["instruction"]), rec.get(mapping["output"])
        extra = rec.get(mapping["input"]) or ""
        texts = {mapping["instruction"]: instruction, mapping["output"]: output}
        if extra:
            texts[mapping["input"]] = extra
        return {"input": instruction + ("\n\n" + extra if extra else ""), "output": output, "texts": texts}


@register
class Instruction(Shape):
    """Prompt and completion as plain texts."""

    name, fields, order, detect_order = "instruction", ("prompt", "completion"), 20, 40

    def view(self, rec, mapping):
        prompt, completion = rec.get(mapping["prompt"]), rec.get(mapping["completion"])
        return {"input": prompt, "output": completion,
                "texts": {mapping["prompt"]: prompt, mapping["completion"]: completion}}


@register
class Classification(Shape):
    """A text and its label."""

    name, fields, kinds, order, detect_order = "classification", ("text", "label"), {"label": "label"}, 10, 50
    labelled, generative = True, False

    def view(self, rec, mapping):
        text, label = rec.get(mapping["text"]), rec.get(mapping["label"])
        return {"input": text, "label": str(label), "texts": {mapping["text"]: text}}


@register
class Text(Shape):
    """Language modelling (TRL's {"text"}): trained on the whole text. A row with a label is a bad
    classification row, not a text row."""

    name, fields, excludes, order, detect_order = "text", ("text",), ("label",), 60, 60
    generative, whole_text = False, True

    def view(self, rec, mapping):
        text = rec.get(mapping["text"])
        return {"input": text, "texts": {mapping["text"]: text}}


# ---- lookup ----------------------------------------------------------------------------------------------

def get_shape(name: str) -> Shape:
    """The shape registered as `name` (unknown: a usage error with a did-you-mean)."""
    return REGISTRY.instance(name)


def shapes() -> list[Shape]:
    """Every shape, in listing order."""
    return REGISTRY.instances()


def detection_order() -> list[Shape]:
    """Every shape, in the order a file's shape is detected in."""
    return sorted(shapes(), key=lambda s: s.detect_order)


def shape_names() -> list[str]:
    return REGISTRY.names()


def is_shape(name: object) -> bool:
    return name in REGISTRY


def canonical_fields() -> tuple[str, ...]:
    """Every name a field mapping (--field NAME=COLUMN, `fields:`) may give a column for."""
    return tuple(dict.fromkeys(f for s in shapes() for f in s.fields))


def check_field_names(fields) -> None:
    """A mapping for a name no shape has (`lable=category`) would be ignored and the rows read another
    way without a word: it is a usage error, with the nearest name."""
    from harness.core.errors import UsageError
    from harness.core.hints import did_you_mean

    known = canonical_fields()
    for name in fields or {}:
        if name not in known:
            raise UsageError(f"unknown field {name!r} in the field mapping (--field, fields:)"
                             f"{did_you_mean(name, known)}")
