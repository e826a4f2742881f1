"""Row validation with pandera: every bad row is collected with its line and reason, then the audit
goes on with the good rows (pandera's lazy mode, the way its SchemaErrors carries the whole table)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import pandas as pd
import pandera.pandas as pa

from harness.inputs.shapes import CHAT_ROLES, get_shape
from harness.core.text import normalize


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _blank(text: str) -> bool:
    """Nothing visible: whitespace, zero-width spaces and other invisible format characters only."""
    return normalize(text) == ""


def _not_blank(v: Any) -> bool:
    return not isinstance(v, str) or not _blank(v)


def _scalar_label(v: Any) -> bool:
    return isinstance(v, (str, int, bool)) and not (isinstance(v, str) and _blank(v))


def _calls_tool(m: dict) -> bool:
    """An assistant turn that calls tools (OpenAI): its content may be null or empty."""
    return m.get("role") == "assistant" and isinstance(m.get("tool_calls"), list) and len(m["tool_calls"]) > 0


def _messages_list(v: Any) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(
        isinstance(m, dict) and isinstance(m.get("role"), str)
        and (isinstance(m.get("content"), str) or (m.get("content") is None and _calls_tool(m))) for m in v)


def _tool_calls_well_formed(v: Any) -> bool:
    return not _messages_list(v) or all(
        isinstance(c, dict) and isinstance(c.get("function"), dict) and isinstance(c["function"].get("name"), str)
        for m in v if "tool_calls" in m for c in (m["tool_calls"] if isinstance(m["tool_calls"], list) else [None]))


def _weights_zero_or_one(v: Any) -> bool:
    return not _messages_list(v) or all(m.get("weight", 1) in (0, 1) and not isinstance(m.get("weight"), bool)
                                        for m in v)


def _some_turn_learned(v: Any) -> bool:
    turns = [m for m in v if m["role"] == "assistant"] if _messages_list(v) else []
    return not turns or any(m.get("weight", 1) != 0 for m in turns)


def _known_roles(v: Any) -> bool:
    return not _messages_list(v) or all(m["role"] in CHAT_ROLES for m in v)


def _no_empty_content(v: Any) -> bool:
    return not _messages_list(v) or all(_calls_tool(m) or not _blank(m["content"]) for m in v)


def _has_user(v: Any) -> bool:
    return not _messages_list(v) or any(m["role"] == "user" for m in v)


def _ends_with_assistant(v: Any) -> bool:
    return not _messages_list(v) or v[-1]["role"] == "assistant"


def _text_column(optional: bool = False) -> pa.Column:
    checks = [pa.Check(_is_str, element_wise=True, error="must be a string")]
    if not optional:
        checks.append(pa.Check(_not_blank, element_wise=True, error="is empty or whitespace-only"))
    return pa.Column(None, nullable=optional, required=not optional, checks=checks)


def build_schema(shape: str, mapping: Mapping[str, str], labels: Iterable[str] | None) -> pa.DataFrameSchema:
    """Each of the shape's fields checked by its kind (harness/inputs/shapes.py): a text, a label, chat turns."""
    described = get_shape(shape)
    columns: dict[str, pa.Column] = {}
    for canonical in described.fields:   # texts first: a label or turns column mapped onto the same name wins
        columns[mapping[canonical]] = _text_column(canonical in described.optional)
    for canonical in described.fields:
        kind = described.kind(canonical)
        if kind == "label":
            columns[mapping[canonical]] = _label_column(labels)
        elif kind == "turns":
            columns[mapping[canonical]] = _turns_column()
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def _label_column(labels: Iterable[str] | None) -> pa.Column:
    checks = [pa.Check(_scalar_label, element_wise=True, error="must be a non-empty string or integer")]
    if labels is not None:
        allowed = {str(x) for x in labels}
        checks.append(pa.Check(lambda v: not _scalar_label(v) or str(v) in allowed, element_wise=True,
                               error=f"is not one of the allowed labels ({', '.join(sorted(allowed))})"))
    return pa.Column(None, nullable=False, checks=checks)


def _turns_column() -> pa.Column:
    return pa.Column(None, nullable=False, checks=[
        pa.Check(_messages_list, element_wise=True, error="must be a non-empty list of {role, content} strings "
                                                          "(content may be null only in a turn with tool_calls)"),
        pa.Check(_tool_calls_well_formed, element_wise=True,
                 error="has a tool call without {function: {name, arguments}}"),
        pa.Check(_weights_zero_or_one, element_wise=True, error="has a turn whose weight is not 0 or 1"),
        pa.Check(_some_turn_learned, element_wise=True, error="has every assistant turn at weight 0 (nothing to learn)"),
        pa.Check(_known_roles, element_wise=True, error=f"has an unknown role (known: {', '.join(CHAT_ROLES)})"),
        pa.Check(_no_empty_content, element_wise=True, error="has a turn with empty content"),
        pa.Check(_has_user, element_wise=True, error="has no user turn"),
        pa.Check(_ends_with_assistant, element_wise=True, error="does not end with an assistant turn"),
    ])


def validate(records: list[Any], lines: list[int], shape: str, mapping: Mapping[str, str],
             labels: Iterable[str] | None) -> tuple[list[int], list[dict[str, Any]]]:
    """Return (indices of good records, bad rows as {line, reason}) in file order."""
    reasons: dict[int, list[str]] = {}
    wanted = list(dict.fromkeys(mapping.values()))
    rows = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            reasons.setdefault(i, []).append(f"row is a {type(rec).__name__}, expected an object")
            rows.append({c: None for c in wanted})
        else:
            rows.append({c: rec.get(c) for c in wanted})
    frame = pd.DataFrame(rows, columns=wanted, dtype=object)
    schema = build_schema(shape, mapping, labels)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        for case in err.failure_cases.itertuples(index=False):
            idx = case.index
            if idx is None or (isinstance(idx, float) and pd.isna(idx)):
                continue
            check = str(case.check)
            reason = "is missing" if check == "not_nullable" else check
            reasons.setdefault(int(idx), []).append(f"{case.column} {reason}")
    described = get_shape(shape)
    for canonical in (f for f in described.fields if described.kind(f) == "turns"):
        # name the role that is not known (pandera's messages are fixed strings)
        for i, r in reasons.items():
            turns = records[i].get(mapping[canonical]) if isinstance(records[i], dict) else None
            unknown = [m["role"] for m in turns or [] if isinstance(m, dict) and isinstance(m.get("role"), str)
                       and m["role"] not in CHAT_ROLES] if _messages_list(turns) else []
            if unknown:
                reasons[i] = [x.replace("has an unknown role", f"has an unknown role {unknown[0]!r}") for x in r]
    bad = [{"line": lines[i], "reason": "; ".join(dict.fromkeys(r))} for i, r in sorted(reasons.items())]
    good = [i for i in range(len(records)) if i not in reasons]
    return good, bad
