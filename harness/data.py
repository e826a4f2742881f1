"""Training and eval data as Examples that keep their origin (split, file, 1-based line).

Four shapes are recognised from their fields, and any field can be renamed through a mapping:
classification {text, label}; instruction {prompt, completion}; alpaca {instruction, input, output};
chat {messages: [{role, content}, ...]} (the OpenAI fine-tuning format). Every shape is reduced to the
same view: `input` (what the model reads), `output` (what it should write) and `label`, so each check
is written once and a chat copy of a classification set is audited the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import HarnessError, InputError, UsageError
from .formats import read_records
from .hints import did_you_mean
from .io import sha256_file

from .shapes import CHAT_ROLES, OPTIONAL_FIELDS, SHAPES  # noqa: F401  (re-exported: data.SHAPES)


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

    def card(self) -> dict[str, Any]:
        return {"path": self.source, "format": self.format, "shape": self.shape, "fields": self.fields,
                "rows": self.total_rows, "good_rows": len(self.examples), "bad_rows": len(self.bad_rows),
                "sha256": self.sha256}


def load_table(source: Any, split: str, shape: str | None = None, fields: Mapping[str, str] | None = None,
               labels: Iterable[str] | None = None, fmt: str | None = None,
               max_bad_share: float | None = None) -> Table:
    """Load a path, a `datasets.Dataset` or a list of dicts into a validated Table. With max_bad_share
    (an eval set read in the training data's shape), more bad rows than that share is an InputError."""
    fields = dict(fields or {})
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        records, lines, fmt = read_records(path, fmt)
        name, digest = str(path), sha256_file(path)
    else:
        records = _records_from_object(source)
        if not records:
            raise InputError(f"<{split}>", "no rows given")
        lines = list(range(1, len(records) + 1))
        name, fmt = f"<{type(source).__name__}>", "python"
        digest = hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
    shape = detect_shape(records, fields, shape, name)
    mapping = {c: fields.get(c, c) for c in SHAPES[shape]}
    from .schema import validate  # pandera import is slow; only pay for it when data is loaded

    good, bad = validate(records, lines, shape, mapping, labels)
    if max_bad_share is not None and records and len(bad) > max_bad_share * len(records):
        raise InputError(name, unreadable_eval(len(bad), len(records), shape, bad[0], _shape_of(records)))
    examples = [to_example(records[i], lines[i], split, shape, mapping) for i in good]
    return Table(split=split, source=name, format=fmt, shape=shape, fields=mapping, examples=examples,
                 bad_rows=bad, total_rows=len(records), sha256=digest)


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
        return source.to_list()
    if isinstance(source, list):
        return source
    raise UsageError(f"cannot read data from a {type(source).__name__}: give a path, a datasets.Dataset "
                     "or a list of dicts")


def detect_shape(records: list[Any], fields: Mapping[str, str], shape: str | None, name: str) -> str:
    if shape and shape != "auto":
        if shape not in SHAPES:
            raise UsageError(f"unknown shape {shape!r}{did_you_mean(shape, SHAPES)}")
        return shape
    seen: set[str] = set()
    counts = {}
    sample = [rec for rec in records[:1000] if isinstance(rec, dict)]
    for rec in sample:
        seen.update(rec)
    for candidate in ("chat", "alpaca", "instruction", "classification"):
        required = [fields.get(f, f) for f in SHAPES[candidate] if f not in OPTIONAL_FIELDS.get(candidate, ())]
        counts[candidate] = sum(all(f in rec for f in required) for rec in sample)
    best = max(counts, key=counts.get)  # the shape most rows fit; dict order breaks ties
    if counts[best] > 0:
        return best
    found = ", ".join(sorted(seen)) or "none"
    raise InputError(name, f"unknown shape: fields found are [{found}]; expected text+label, prompt+completion, "
                           "instruction+output or messages (map yours with --field text=COLUMN or --shape)", None)


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
    messages = get("messages")
    key = mapping["messages"]
    texts = {f"{key}[{i}].content": m["content"] for i, m in enumerate(messages)}
    # The system prompt is usually shared by every row: leaving it out of `input` keeps duplicate and
    # similarity checks about what differs between rows.
    prompt_turns = [m["content"] for m in messages[:-1] if m["role"] != "system"]
    turns = [{"role": m["role"], "content": m["content"]} for m in messages]
    return Example(split, line, "\n".join(prompt_turns), messages[-1]["content"], None, texts, turns)
