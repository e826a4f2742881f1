"""Training and eval data as Examples that keep their origin (split, file, 1-based line).

Six shapes are recognised from their fields, and any field can be renamed through a mapping:
classification {text, label}; instruction {prompt, completion}; alpaca {instruction, input, output};
chat {messages: [{role, content}, ...]} (the OpenAI fine-tuning format, tool calls and per-turn weight
included); preference {prompt, chosen, rejected}; text {text} (language modelling). ShareGPT and TRL's
conversational rows are read as chat or preference rows (harness/row_formats.py). Every shape is
reduced to the same view: `input` (what the model reads), `output` (what it should write) and `label`,
so each check is written once and a chat copy of a classification set is audited the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import HarnessError, InputError, UsageError, quoted
from .formats import read_records
from .hints import did_you_mean
from .io import sha256_file

from .row_formats import convert, kept_turn, source_format, turn_text
from .shapes import CHAT_ROLES, DETECT_ORDER, OPTIONAL_FIELDS, SHAPES, check_field_names  # noqa: F401  (re-exported: data.SHAPES)

# `--shape` values that name a format the rows are written in, and the harness shape they are read as.
WRITTEN_AS = {"sharegpt": ("sharegpt", "chat"), "conversational": ("trl_conversational", "chat")}


@dataclass(slots=True)
class Example:
    split: str
    line: int
    input: str
    output: str | None = None
    label: str | None = None
    # Every free-text field by name (e.g. "text", "messages[2].content"), for checks that scan all text.
    texts: dict[str, str] = field(default_factory=dict)
    messages: list[dict[str, str]] | None = None  # chat rows: the turns as given, for the trainer
    # The row's other scalar fields (e.g. "channel", "language"), for slicing results by a field's value.
    meta: dict[str, Any] = field(default_factory=dict)
    rejected: str | None = None  # preference rows: the answer not to prefer
    tools: list[Any] | None = None  # chat rows with tools (OpenAI): the definitions, for the chat template

    @property
    def ref(self) -> dict[str, Any]:
        return {"split": self.split, "line": self.line}


@dataclass
class Table:
    """One loaded input (train or eval): its good Examples, its bad rows, and its data card."""

    split: str
    source: str
    format: str
    shape: str
    fields: dict[str, str]
    examples: list[Example]
    bad_rows: list[dict[str, Any]]
    total_rows: int
    sha256: str
    written_as: str | None = None  # the ecosystem format the rows came in (sharegpt, trl_conversational, ...)
    read_with: dict[str, Any] = field(default_factory=dict)  # {shape, fields}: how a later stage reads it again
    # eval rows in another shape than train's, read in their own and mapped onto train's (harness/eval_shapes.py)
    other_shapes: dict[str, int] = field(default_factory=dict)

    def card(self) -> dict[str, Any]:
        return {"path": self.source, "format": self.format, "shape": self.shape, "fields": self.fields,
                **({"written_as": self.written_as} if self.written_as else {}), "read_with": self.read_with,
                "rows": self.total_rows, "good_rows": len(self.examples), "bad_rows": len(self.bad_rows),
                **({"read_in_own_shape": self.other_shapes} if self.other_shapes else {}),
                "sha256": self.sha256}


def load_table(source: Any, split: str, shape: str | None = None, fields: Mapping[str, str] | None = None,
               labels: Iterable[str] | None = None, fmt: str | None = None,
               max_bad_share: float | None = None, max_expanded_bytes: int | None = None) -> Table:
    """Load a path, a `datasets.Dataset` or a list of dicts into a validated Table. With max_bad_share
    (an eval set read in the training data's shape), more bad rows than that share is an InputError.
    max_expanded_bytes: the audit policy's cap on a compressed file's expanded size (None: the default)."""
    check_field_names(fields)
    fields = dict(fields or {})
    given = dict(fields)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        records, lines, fmt = read_records(path, fmt, max_expanded_bytes)
        name = str(path)
        digest = sha256_file(path) if path.is_file() else _records_digest(records)  # a dataset directory or name
    else:
        records = _records_from_object(source)
        if not records:
            raise InputError(f"<{split}>", "no rows given")
        lines = list(range(1, len(records) + 1))
        name, fmt = f"<{type(source).__name__}>", "python"
        digest = _records_digest(records)
    records, fields, shape, written_as = read_as(records, fields, shape)
    shape = detect_shape(records, fields, shape, name)
    mapping = {c: fields.get(c, c) for c in SHAPES[shape]}
    from .schema import validate  # pandera import is slow; only pay for it when data is loaded

    good, bad = validate(records, lines, shape, mapping, labels)
    if max_bad_share is not None and records and len(bad) > max_bad_share * len(records):
        raise InputError(name, unreadable_eval(len(bad), len(records), shape, bad[0], _shape_of(records)))
    examples = [to_example(records[i], lines[i], split, shape, mapping) for i in good]
    return Table(split=split, source=name, format=fmt, shape=shape, fields=mapping, examples=examples,
                 bad_rows=bad, total_rows=len(records), sha256=digest, written_as=written_as,
                 read_with=read_with(shape, written_as, given))


def _records_digest(records: list[Any]) -> str:
    return hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()


def read_with(shape: str, written_as: str | None, fields: Mapping[str, str]) -> dict[str, Any]:
    """The `shape` and `fields` that read a file again as this table read it (train, then compare)."""
    named = {v[0]: k for k, v in WRITTEN_AS.items()}
    return {"shape": named.get(written_as or "", shape), "fields": dict(fields)}


def read_as(records: list[Any], fields: Mapping[str, str], shape: str | None) -> tuple[list[Any], dict[str, str], str | None, str | None]:
    """Records written in an ecosystem format (ShareGPT, TRL conversational) converted to a harness
    shape: (records, field mapping, shape, the format they were written in or None)."""
    if shape in WRITTEN_AS:
        written_as, shape = WRITTEN_AS[shape]
    elif shape in (None, "auto", "chat", "preference"):
        written_as = source_format(records, fields)
        if shape == "chat" and written_as == "trl_preference" or shape == "preference" and written_as != "trl_preference":
            written_as = None
    else:
        written_as = None
    converted, fields = convert(records, written_as, fields)
    return converted, fields, shape, written_as


def unreadable_eval(bad: int, total: int, shape: str, first: Mapping[str, Any], own_shape: str | None) -> str:
    """The one-line reason an eval set is refused (both engines)."""
    where = f"line {first.get('line')}: {first.get('reason')}" if first else ""
    looks = f"; its rows look like {own_shape} rows" if own_shape and own_shape != shape else ""
    return (f"{bad} of {total} eval rows cannot be read as {shape} rows like the training data ({where}){looks}; "
            "give an eval set of the training data's shape, or map its columns with --field")


def _shape_of(records: list[Any]) -> str | None:
    """The shape the records would be read as on their own, or None."""
    try:
        return detect_shape(records, {}, None, "")
    except HarnessError:
        return None


def _records_from_object(source: Any) -> list[Any]:
    if hasattr(source, "to_list") and hasattr(source, "column_names"):  # datasets.Dataset
        from .formats import hf_records

        return hf_records(source)
    if isinstance(source, list):
        return source
    raise UsageError(f"cannot read data from a {type(source).__name__}: give a path, a datasets.Dataset "
                     "or a list of dicts")


def detect_shape(records: list[Any], fields: Mapping[str, str], shape: str | None, name: str) -> str:
    if shape and shape != "auto":
        if shape not in SHAPES:
            raise UsageError(f"unknown shape {shape!r}{did_you_mean(shape, [*SHAPES, *WRITTEN_AS])}")
        return shape
    seen: set[str] = set()
    counts = {}
    sample = [rec for rec in records[:1000] if isinstance(rec, dict)]
    for rec in sample:
        seen.update(rec)
    for candidate in DETECT_ORDER:
        required = [fields.get(f, f) for f in SHAPES[candidate] if f not in OPTIONAL_FIELDS.get(candidate, ())]
        # A text row is one with a text and nothing else of a shape: a classification row missing its
        # label is a bad classification row, not a language-modelling one.
        counts[candidate] = sum(all(f in rec for f in required)
                                and not (candidate == "text" and fields.get("label", "label") in rec) for rec in sample)
    best = max(counts, key=counts.get)  # the shape most rows fit; dict order breaks ties
    if counts[best] > 0:
        return best
    names = sorted(map(str, seen))  # a CSV without a header row makes a row's cells its field names
    found = ", ".join(quoted(n, 60) for n in names[:20]) + (f" and {len(names) - 20:,} more" if len(names) > 20 else "")
    found = found or "none"
    raise InputError(name, f"unknown shape: fields found are [{found}]; expected text+label, prompt+completion, "
                           "instruction+output, messages, conversations (ShareGPT), prompt+chosen+rejected or text "
                           "(map yours with --field text=COLUMN or --shape)", None)


def to_example(rec: dict, line: int, split: str, shape: str, mapping: Mapping[str, str]) -> Example:
    ex = _to_example(rec, line, split, shape, mapping)
    used = set(mapping.values())
    ex.meta = {k: v for k, v in rec.items() if k not in used and isinstance(v, (str, int, float, bool))}
    return ex


def _to_example(rec: dict, line: int, split: str, shape: str, mapping: Mapping[str, str]) -> Example:
    get = lambda c: rec.get(mapping[c])  # noqa: E731
    if shape == "classification":
        text, label = get("text"), get("label")
        return Example(split, line, text, None, str(label), {mapping["text"]: text})
    if shape == "instruction":
        prompt, completion = get("prompt"), get("completion")
        return Example(split, line, prompt, completion, None,
                       {mapping["prompt"]: prompt, mapping["completion"]: completion})
    if shape == "alpaca":
        instruction, extra, output = get("instruction"), get("input") or "", get("output")
        texts = {mapping["instruction"]: instruction, mapping["output"]: output}
        if extra:
            texts[mapping["input"]] = extra
        return Example(split, line, instruction + ("\n\n" + extra if extra else ""), output, None, texts)
    if shape == "preference":
        prompt, chosen, rejected = get("prompt"), get("chosen"), get("rejected")
        texts = {mapping["prompt"]: prompt, mapping["chosen"]: chosen, mapping["rejected"]: rejected}
        return Example(split, line, prompt, chosen, None, texts, rejected=rejected)
    if shape == "text":
        text = get("text")
        return Example(split, line, text, None, None, {mapping["text"]: text})
    messages = get("messages")
    key = mapping["messages"]
    # A tool call's name and arguments are text the model learns to write: audited like any content.
    texts = {f"{key}[{i}].content": turn_text(m) for i, m in enumerate(messages) if turn_text(m)}
    # The system prompt is usually shared by every row: leaving it out of `input` keeps duplicate and
    # similarity checks about what differs between rows.
    prompt_turns = [turn_text(m) for m in messages[:-1] if m["role"] != "system"]
    turns = [kept_turn(m) for m in messages]
    tools = rec.get("tools") if isinstance(rec.get("tools"), list) else None
    return Example(split, line, "\n".join(prompt_turns), turn_text(messages[-1]), None, texts, turns, tools=tools)
