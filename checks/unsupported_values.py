"""In extraction data every value of the answer should come from the input. A value the input does not
contain (an order number, an amount, a date that appears nowhere in the message) teaches the model to
invent one. Fields whose values come from a small closed set (an issue type, a status, a currency code)
are labels the annotator chose, not extracted text; which fields are which is learned from the data
and said in the result, and only fields that are mostly found in their inputs are judged."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz

from harness.inputs.output_kinds import dates_in, leaves, numbers_in, parse_json, value_kind

from .base import CheckResult, GenerativeCheck, Params, lower_is_better, not_applicable, param, register, unlisted_rows


@register
class UnsupportedValues(GenerativeCheck):
    name = "unsupported_values"
    removes = "all"
    order = 95
    key_figures = ("unsupported_values", "extracted_fields", "label_fields")
    title = "Output values not found in the input"
    why = "A value the input does not contain teaches the model to invent one (hallucination by example)."
    metrics = lower_is_better("unsupported_values", "unsupported_rows", "unsupported_rate")

    @dataclass(frozen=True)
    class Params(Params):
        min_json_share: float = param(0.5, "0..1", "applies when at least this share of outputs are JSON objects")
        min_rows: int = param(10, ">=1", "a field is judged only with at least this many values")
        min_field_support: float = param(0.8, "0..1", "a field is extracted when this share of its values is found in the input")
        max_label_values: int = param(20, ">=1", "a field not extracted is a label when it has at most this many distinct values")
        min_rows_per_value: float = param(3.0, ">0", "and each is used at least this many times on average")
        min_text_similarity: float = param(90.0, "0..100", "a text value is found despite a typo at this rapidfuzz partial ratio (0-100)")
        max_findings: int = param(500, ">=0", "unsupported values listed (all are counted)")

    def judge(self, rows: list[tuple[dict, str, str]], params: UnsupportedValues.Params, count=None) -> CheckResult:
        objects = {i: parse_json(out) for i, (_, _, out) in enumerate(rows)}
        objects = {i: v for i, v in objects.items() if isinstance(v, dict)}
        if len(objects) < max(params.min_rows, params.min_json_share * len(rows)):
            return not_applicable(f"{len(objects)} of {len(rows)} outputs are JSON objects: not extraction data")
        values: dict[str, list[tuple[int, object]]] = defaultdict(list)
        for i, obj in objects.items():
            for path, v in leaves(obj):
                if v is not None and not (isinstance(v, str) and not v.strip()):
                    values[path].append((i, v))
        max_labels, per_label = params.max_label_values, float(params.min_rows_per_value)
        label_fields, extracted, other = {}, {}, {}
        support: dict[str, list[tuple[int, object, bool]]] = {}
        for path, items in values.items():
            distinct = Counter(_key(v) for _, v in items)
            closed = all(isinstance(v, bool) for _, v in items) or (
                len(distinct) <= max_labels and len(items) >= per_label * len(distinct))
            judged = [(i, v, supported(v, rows[i][1], params.min_text_similarity)) for i, v in items]
            rate = sum(ok for _, _, ok in judged) / len(judged)
            entry = {"rows": len(items), "values": len(distinct), "found_in_input": round(rate, 4)}
            if rate >= params.min_field_support and len(items) >= params.min_rows \
                    and not all(isinstance(v, bool) for _, v in items):
                extracted[path] = entry  # copied from the input (a closed catalogue of names included)
                support[path] = judged
            elif closed:
                label_fields[path] = entry  # chosen from a small set, not copied: a label
            else:
                other[path] = entry  # mostly not in the input (written, computed): not judged
        findings, flagged_rows = [], set()
        for path, judged in support.items():
            for i, v, ok in judged:
                if ok:
                    continue
                flagged_rows.add(i)
                findings.append({"rows": [rows[i][0]], "kind": "unsupported", "field": path, "value": v,
                                 "message": f"{path} = {_short(v)} does not appear in the input "
                                            f"({extracted[path]['found_in_input']:.0%} of {path} values do)"})
        findings.sort(key=lambda f: f["rows"][0]["line"])
        limit = params.max_findings
        n = len(rows)
        return CheckResult(
            summary={"outputs": n, "json_objects": len(objects), "extracted_fields": len(extracted),
                     "label_fields": len(label_fields), "unsupported_values": len(findings),
                     "unsupported_rows": len(flagged_rows), "unsupported_rate": len(flagged_rows) / n},
            findings=findings[:limit],
            info={"extracted_fields": extracted, "label_fields": label_fields, "not_judged_fields": other,
                  "rule": f"a field is extracted (and judged) when at least {params.min_field_support:.0%} "
                          f"of its values are found in their input; otherwise a label when it has at most "
                          f"{max_labels} distinct values, each used {per_label:g} times on average (chosen from "
                          f"a closed set, not copied); otherwise not judged (written or computed text)",
                  **unlisted_rows(findings, limit)})


def supported(value: object, text: str, min_similarity: float) -> bool:
    """Whether the input `text` contains `value`: numbers by value (1,299.00 = 1299), dates by calendar
    day (2026-03-03 = "March 3" = 03/03/2026), other text ignoring case, spacing and punctuation,
    with a typo's tolerance (rapidfuzz partial ratio >= min_similarity, for values of 5 characters or more)."""
    kind = value_kind(value)
    if kind == "number" or kind == "number as text":
        number = float(str(value).lstrip("$€£").replace(",", ""))
        return any(abs(number - x) < 1e-9 for x in numbers_in(text))
    if kind.startswith("date"):
        readings = dates_in(str(value))  # 09/07/2026 reads two ways: either found in the input will do
        if readings:
            found = dates_in(text)
            return any(m == m2 and d == d2 and (y2 is None or y is None or y == y2)
                       for y, m, d in readings for y2, m2, d2 in found)
    s = _fold(str(value))
    t = _fold(text)
    if not s:
        return True
    if s in t or s.replace(" ", "") in t.replace(" ", ""):
        return True
    return len(s) >= 5 and fuzz.partial_ratio(s, t) >= min_similarity


def _fold(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def _key(value: object) -> str:
    return str(value).strip().lower()


def _short(value: object) -> str:
    s = repr(value)
    return s if len(s) <= 40 else s[:37] + "..."
