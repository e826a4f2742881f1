"""In extraction data every value of the answer should come from the input. A value the input does not
contain (an order number, an amount, a date that appears nowhere in the message) teaches the model to
invent one. Fields whose values come from a small closed set (an issue type, a status, a currency code)
are labels the annotator chose, not extracted text; which fields are which is learned from the data
and said in the result, and only fields that are mostly found in their inputs are judged."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

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

    def judge(self, answers, params: UnsupportedValues.Params, count=None) -> CheckResult:
        n = answers.n
        figures = answers.count(partial(_field_figures, params.min_text_similarity))
        objects = figures.get(("objects",), (0,))[0]
        if objects < max(params.min_rows, params.min_json_share * n):
            return not_applicable(f"{objects} of {n} outputs are JSON objects: not extraction data")
        distinct = answers.distinct(_field_values)
        got = lambda *key: figures.get(key, (0,))[0]  # noqa: E731
        max_labels, per_label = params.max_label_values, float(params.min_rows_per_value)
        label_fields, extracted, other = {}, {}, {}
        for path in sorted({key[1] for key in figures if key[0] == "values"}):
            items, found, booleans = got("values", path), got("found", path), got("booleans", path)
            closed = booleans == items or (distinct[path] <= max_labels and items >= per_label * distinct[path])
            rate = found / items
            entry = {"rows": items, "values": distinct[path], "found_in_input": round(rate, 4)}
            if rate >= params.min_field_support and items >= params.min_rows and booleans < items:
                extracted[path] = entry  # copied from the input (a closed catalogue of names included)
            elif closed:
                label_fields[path] = entry  # chosen from a small set, not copied: a label
            else:
                other[path] = entry  # mostly not in the input (written, computed): not judged
        hits = answers.scan(partial(_unsupported, {p: e["found_in_input"] for p, e in extracted.items()},
                                    params.min_text_similarity))
        findings = [{"rows": [ref], **found} for ref, row in hits for found in row]
        limit = params.max_findings
        return CheckResult(
            summary={"outputs": n, "json_objects": objects, "extracted_fields": len(extracted),
                     "label_fields": len(label_fields), "unsupported_values": len(findings),
                     "unsupported_rows": len(hits), "unsupported_rate": len(hits) / n},
            findings=findings[:limit],
            info={"extracted_fields": extracted, "label_fields": label_fields, "not_judged_fields": other,
                  "rule": f"a field is extracted (and judged) when at least {params.min_field_support:.0%} "
                          f"of its values are found in their input; otherwise a label when it has at most "
                          f"{max_labels} distinct values, each used {per_label:g} times on average (chosen from "
                          f"a closed set, not copied); otherwise not judged (written or computed text)",
                  **unlisted_rows(findings, limit)})


def _values(out: str) -> list[tuple[str, object]]:
    """(path, value) of every non-empty leaf of a JSON object answer; [] for any other answer."""
    obj = parse_json(out)
    if not isinstance(obj, dict):
        return []
    return [(path, v) for path, v in leaves(obj) if v is not None and not (isinstance(v, str) and not v.strip())]


def _field_figures(min_similarity: float, text: str, out: str) -> list[tuple]:
    """Per answer: ("objects",) for a JSON object, and per value its field's ("values", path), ("found",
    path) when the input contains it, ("booleans", path) for a true/false."""
    if not isinstance(parse_json(out), dict):
        return []
    got: list[tuple] = [("objects",)]
    for path, v in _values(out):
        got.append(("values", path))
        if supported(v, text, min_similarity):
            got.append(("found", path))
        if isinstance(v, bool):
            got.append(("booleans", path))
    return got


def _field_values(text: str, out: str) -> list[tuple[str, str]]:
    return [(path, _key(v)) for path, v in _values(out)]


def _unsupported(extracted: dict[str, float], min_similarity: float, text: str, out: str) -> list[dict] | None:
    """The answer's values of extracted fields that its input does not contain, as findings."""
    found = [{"kind": "unsupported", "field": path, "value": v,
              "message": f"{path} = {_short(v)} does not appear in the input ({extracted[path]:.0%} of {path} values do)"}
             for path, v in _values(out) if path in extracted and not supported(v, text, min_similarity)]
    return found or None


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
