"""What kind of output a completion is (a JSON object, a list, code, prose ending in a fixed final line
such as GSM8K's `#### 72`), and the kind of each JSON value (a number, an ISO date, a date written
03/14/2026, a number written as text). A model learns the format of its answers as surely as their
content, so the generative checks (output_format, truncation, unsupported_values, boilerplate) and the
task suite's choice of metric all start from this one reading of an output."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?```\s*$", re.S)
LIST_LINE = re.compile(r"^\s*(?:[-*\u2022]|\d{1,3}[.)])\s+")
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?.*)?$")
SLASH_DATE = re.compile(r"^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$")
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
TEXT_DATE = re.compile(rf"^(?:\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {MONTH}\.?,? ?(?:\d{{4}})?|{MONTH}\.? \d{{1,2}}(?:st|nd|rd|th)?,? ?(?:\d{{4}})?)$", re.I)


def unfenced(text: str) -> str:
    """The text inside a single Markdown code fence (```json ... ```), else the text stripped."""
    text = text.strip()
    m = FENCE.match(text)
    return m.group(1).strip() if m else text


def parse_json(text: str | None) -> Any:
    """The JSON value an output holds (fenced or bare), or None when it is not JSON (or is JSON null)."""
    if not text:
        return None
    body = unfenced(text)
    if not body or body[0] not in "{[":
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def family(text: str | None) -> str:
    """The output's format family: empty, json object, json array, broken json (starts like JSON, does
    not parse), code, list, prose."""
    if text is None or not text.strip():
        return "empty"
    value = parse_json(text)
    if isinstance(value, dict):
        return "json object"
    if isinstance(value, list):
        return "json array"
    body = unfenced(text)
    if _embedded_object(body):
        return "json object with text around it"
    if body[:1] in "{[":
        return "broken json"
    if text.strip().startswith("```"):
        return "code"
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) >= 2 and sum(bool(LIST_LINE.match(ln)) for ln in lines) >= 0.6 * len(lines):
        return "list"
    return "prose"


def _embedded_object(text: str) -> bool:
    """A whole JSON object inside other text ("Here it is: {...}", "{...} -- signed")."""
    start = text.find("{")
    if start < 0:
        return False
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict)


def final_line(text: str) -> str:
    """The last non-empty line as a pattern: numbers become <num>, spacing and case are folded
    ("#### 1,250" -> "#### <num>")."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    return " ".join(NUMBER.sub("<num>", lines[-1]).lower().split())[:80]


def final_line_pattern(texts: list[str], share: float) -> tuple[str | None, float]:
    """The final line most answers end with (GSM8K's "#### <num>"), with the share of answers that do;
    None when no short final line is shared by `share` of the multi-line answers. A one-line answer's
    last line is the answer itself, so only answers of two lines or more count."""
    multi = [t for t in texts if multi_line(t)]
    top = Counter(final_line(t) for t in multi).most_common(1)
    return pattern_of(len(texts), len(multi), *(top[0] if top else (None, 0)), share)


def multi_line(text: str) -> bool:
    return sum(1 for ln in text.strip().splitlines() if ln.strip()) >= 2


def pattern_of(texts: int, multi: int, line: str | None, count: int, share: float) -> tuple[str | None, float]:
    """final_line_pattern from counts: `texts` answers, `multi` of them multi-line, whose most common
    final line `line` ends `count` of those (None: no line is that common)."""
    if multi < max(2, share * texts):
        return None, 0.0
    if line is None or len(line.split()) > 8 or count / multi < share or ("<num>" not in line and count < 2):
        return None, count / multi
    return line, count / multi


def common_line_rows(multi: int, share: float) -> int:
    """The fewest answers a final line must end for pattern_of to take it (a count_keys min_rows)."""
    return max(1, int(share * multi) - 1)


def value_kind(value: Any) -> str:
    """The kind of one JSON value: null, bool, number, list, object, and for strings what they hold:
    an ISO date, a d/m/y date, a written date, a number as text, or text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    s = str(value).strip()
    if ISO_DATE.match(s):
        return "date YYYY-MM-DD"
    if SLASH_DATE.match(s):
        return "date with slashes"
    if TEXT_DATE.match(s):
        return "date in words"
    if NUMBER.fullmatch(s.lstrip("$€£")):
        return "number as text"
    return "text"


def leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """(key path, scalar) for every scalar in a JSON value; list items share their list's path."""
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += leaves(v, f"{path}.{k}" if path else str(k))
        return out
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item, f"{path}[]")]
    return [(path, value)]


def numbers_in(text: str) -> set[float]:
    """Every number written in a text (1,299.00 -> 1299.0)."""
    out = set()
    for m in NUMBER.finditer(text):
        try:
            out.add(float(m.group().replace(",", "")))
        except ValueError:
            pass
    return out


def dates_in(text: str) -> set[tuple[int | None, int, int]]:
    """Every calendar date a text writes: ISO, d/m/y and m/d/y (both readings), "March 3", "3rd of March",
    "Mar 3, 2026"; the year None when the text gives none."""
    s = text.lower()
    out: set[tuple[int | None, int, int]] = set()
    for y, m, d in re.findall(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)", s):
        out.add((int(y), int(m), int(d)))
    for a, b, y in re.findall(r"(?<![\d/.])(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})(?![\d/])", s):
        year = int(y) + (2000 if len(y) == 2 else 0)
        out |= {(year, int(a), int(b)), (year, int(b), int(a))}
    # Month names, abbreviated or with a typo ("Apirl 22", "the 3rd of Ocotber").
    for m in re.finditer(r"(?<![a-z])([a-z]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?(?!\d)(?:,? (\d{4}))?", s):
        month = _month(m.group(1))
        if month:
            out.add((int(m.group(3)) if m.group(3) else None, month, int(m.group(2))))
    for m in re.finditer(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?(?: of)? ([a-z]{3,9})\b\.?(?:,? (\d{4}))?", s):
        month = _month(m.group(2))
        if month:
            out.add((int(m.group(3)) if m.group(3) else None, month, int(m.group(1))))
    return {(y, m, d) for y, m, d in out if 1 <= m <= 12 and 1 <= d <= 31}


def _month(word: str) -> int | None:
    """The month a word names: a full name, an abbreviation (three letters or more), or a full name
    with one typo (a swapped, missing, extra or wrong letter)."""
    from rapidfuzz.distance import OSA

    word = word.strip(". ").lower()
    for i, name in enumerate(MONTHS):
        if word == name or (len(word) >= 3 and name.startswith(word)) or (word == "sept" and i == 8):
            return i + 1
    if len(word) >= 5:
        close = [i for i, name in enumerate(MONTHS) if len(name) >= 5 and OSA.distance(word, name) <= 1]
        if len(close) == 1:
            return close[0] + 1
    return None


OUTPUT_KINDS = ("label", "json", "final_answer", "free_text")
FINAL_LINE = re.compile(r"^####\s*\S", re.M)


def task_output_kind(references: list[str], share: float = 0.8) -> str:
    """What kind of answer a generative task asks for, from its references: `label` (a few short answers,
    each repeated), `json` (objects), `final_answer` (worked text ending in a `#### N` line) or
    `free_text` (replies, summaries: no two right answers need share a word order). The task suite
    measures, and the gate judges, by this kind."""
    refs = [r or "" for r in references]
    if not refs:
        return "free_text"
    distinct = {" ".join(r.lower().split()) for r in refs}
    if len(distinct) <= 50 and len(refs) >= 2 * len(distinct) and all(len(r.split()) <= 5 for r in distinct):
        return "label"
    if sum(isinstance(parse_json(r), dict) for r in refs) >= share * len(refs):
        return "json"
    if sum(bool(FINAL_LINE.search(r)) for r in refs) >= share * len(refs):
        return "final_answer"
    return "free_text"


def same_answer(a: str | None, b: str | None, min_similarity: float) -> bool:
    """Two answers to one request agree: equal, or (free text, not structured output, where one value
    decides) nearly the same characters."""
    if a is None or b is None or a == b:
        return True
    if a[:1] in "{[" or b[:1] in "{[":
        return False
    from harness.auditing.similarity import jaccard

    return len(a) > 40 and len(b) > 40 and jaccard(a, b) >= min_similarity
