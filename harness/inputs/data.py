"""Training and eval data as Examples that keep their origin (split, file, 1-based line).

Six shapes are recognised from their fields, and any field can be renamed through a mapping:
classification {text, label}; instruction {prompt, completion}; alpaca {instruction, input, output};
chat {messages: [{role, content}, ...]} (the OpenAI fine-tuning format, tool calls and per-turn weight
included); preference {prompt, chosen, rejected}; text {text} (language modelling). ShareGPT and TRL's
conversational rows are read as chat or preference rows (harness/inputs/row_formats.py). Each shape is one
registered description (harness/inputs/shapes.py), and every one is reduced to the same view: `input` (what
the model reads), `output` (what it should write) and `label`, so each check is written once and a chat
copy of a classification set is audited the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.core.errors import HarnessError, InputError, UsageError, quoted
from harness.core.hints import did_you_mean
from harness.core.io import sha256_file
from harness.inputs.readers import read_records
from harness.inputs.row_formats import convert, options, row_format, row_formats, source_format
from harness.inputs.shapes import check_field_names, detection_order, get_shape, is_shape, shape_names


def shape_choices() -> list[str]:
    """Every `--shape` value: the harness shapes, then the row formats named by an option (sharegpt,
    conversational), read as the shape they convert to."""
    return [*shape_names(), *options()]


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
    # eval rows in another shape than train's, read in their own and mapped onto train's (harness/inputs/eval_shapes.py)
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
    mapping = field_mapping(shape, fields)
    from harness.inputs.schema import validate  # pandera import is slow; only pay for it when data is loaded

    good, bad = validate(records, lines, shape, mapping, labels)
    if max_bad_share is not None and records and len(bad) > max_bad_share * len(records):
        raise InputError(name, unreadable_eval(len(bad), len(records), shape, bad[0], _shape_of(records)))
    examples = [to_example(records[i], lines[i], split, shape, mapping) for i in good]
    return Table(split=split, source=name, format=fmt, shape=shape, fields=mapping, examples=examples,
                 bad_rows=bad, total_rows=len(records), sha256=digest, written_as=written_as,
                 read_with=read_with(shape, written_as, given))


def _records_digest(records: list[Any]) -> str:
    return hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()


def field_mapping(shape: str, fields: Mapping[str, str]) -> dict[str, str]:
    """The shape's canonical fields -> the columns that hold them."""
    return {c: fields.get(c, c) for c in get_shape(shape).fields}


def read_with(shape: str, written_as: str | None, fields: Mapping[str, str]) -> dict[str, Any]:
    """The `shape` and `fields` that read a file again as this table read it (train, then compare)."""
    option = row_format(written_as).option if written_as else None
    return {"shape": option or shape, "fields": dict(fields)}


def written_as_for(records: list[Any], fields: Mapping[str, str], shape: str | None) -> tuple[str | None, str | None]:
    """(the ecosystem format the records are read from or None, the harness shape asked for): a --shape
    naming a row format reads as that, a harness shape reads as itself, and auto or a shape some row
    format converts to looks at the rows (a chat shape never takes preference rows, and back)."""
    named = options().get(shape or "")
    if named is not None:
        return named.name, named.reads_as
    if shape in (None, "auto") or any(f.reads_as == shape for f in row_formats()):
        written_as = source_format(records, fields)
        if written_as and shape not in (None, "auto") and row_format(written_as).reads_as != shape:
            written_as = None
        return written_as, shape
    return None, shape


def read_as(records: list[Any], fields: Mapping[str, str], shape: str | None) -> tuple[list[Any], dict[str, str], str | None, str | None]:
    """Records written in an ecosystem format (ShareGPT, TRL conversational) converted to a harness
    shape: (records, field mapping, shape, the format they were written in or None)."""
    written_as, shape = written_as_for(records, fields, shape)
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
        from harness.inputs.formats import hf_records

        return hf_records(source)
    if isinstance(source, list):
        return source
    raise UsageError(f"cannot read data from a {type(source).__name__}: give a path, a datasets.Dataset "
                     "or a list of dicts")


def detect_shape(records: list[Any], fields: Mapping[str, str], shape: str | None, name: str) -> str:
    if shape and shape != "auto":
        if not is_shape(shape):
            raise UsageError(f"unknown shape {shape!r}{did_you_mean(shape, shape_choices())}")
        return shape
    seen: set[str] = set()
    sample = [rec for rec in records[:1000] if isinstance(rec, dict)]
    for rec in sample:
        seen.update(rec)
    counts = {candidate.name: sum(candidate.fits(rec, fields) for rec in sample) for candidate in detection_order()}
    best = max(counts, key=counts.get)  # the shape most rows fit; detection order breaks ties
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
    return Example(split, line, **get_shape(shape).view(rec, mapping))
