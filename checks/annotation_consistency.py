"""Extraction data is annotated by people, and people annotate the same thing differently: "Oregon" a
state in five rows and a city in one; "1 star" annotated as the rating in a thousand requests and left
out in thirty; "How" saved as an object name; a value carrying an encoding error. A model learns each
inconsistency as a rule. Every finding here is a minority against a majority the data itself shows
(with both counts), or a value no reviewer would accept (only question words, a
replacement character), so a reviewer can check it from the rows shown."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from harness.output_kinds import leaves, parse_json
from harness.pairs import FUNCTION_WORDS, NUMBER_WORDS
from harness.text import normalize_loose

from .base import CheckResult, GenerativeCheck, not_applicable, register

QUESTION_WORDS = frozenset("how what when where which who whom whose why".split())
# U+FFFD, and UTF-8 read as Latin-1 or cp1252 ("Ã©" for "é", "â€™" for "’").
DAMAGE = re.compile("\ufffd|Ã[\u0080-\u00bf\u0152-\u203a]|â€|Â[\u00a0-\u00bf]")


def _group_field(objects: dict[int, dict], max_values: int, min_rows: int) -> str | None:
    """The top-level string field that names the row's kind (an intent): on (nearly) every row, few
    distinct values, `min_rows` rows each on average. Rows of one kind are siblings whose annotations
    should agree."""
    best = None
    for key in sorted({k for obj in objects.values() for k in obj}):
        vals = [obj[key] for obj in objects.values() if isinstance(obj.get(key), str)]
        distinct = set(vals)
        if len(vals) >= 0.9 * len(objects) and 1 < len(distinct) <= max_values and len(vals) >= min_rows * len(distinct):
            if best is None or len(distinct) < best[1]:
                best = (key, len(distinct))
    return best[0] if best else None


def _slots(words: list[str], values: list[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """For each annotated value found in the request's words, the keys of the words right before and
    after it ("" where that word is not annotated or the request ends)."""
    tag = [""] * len(words)
    spans = {}
    for key, v in values:
        phrase = v.split()
        m = len(phrase)
        for k in range(len(words) - m + 1):
            if words[k:k + m] == phrase and all(not t for t in tag[k:k + m]):
                tag[k:k + m] = [key] * m
                spans.setdefault(v, (k, k + m))
                break
    return {v: (tag[a - 1] if a else "", tag[b] if b < len(words) else "") for v, (a, b) in spans.items()}


@register
class AnnotationConsistency(GenerativeCheck):
    name = "annotation_consistency"
    order = 95
    key_figures = ("flagged_rows", "phrase_typed_differently", "missing_annotation", "function_word_values",
                   "encoding_damage")
    title = "Annotation consistency (extraction)"
    why = "One phrase annotated two ways, or annotated in most requests and skipped in some, teaches both."
    metrics = ("flagged_rows", "flagged_rate", "phrase_typed_differently", "missing_annotation",
               "function_word_values", "encoding_damage")

    def judge(self, rows: list[tuple[dict, str, str]], params: dict, count=None) -> CheckResult:
        objects = {i: parse_json(out) for i, (_, _, out) in enumerate(rows)}
        objects = {i: v for i, v in objects.items() if isinstance(v, dict)}
        if len(objects) < max(int(params["min_rows"]), float(params["min_json_share"]) * len(rows)):
            return not_applicable(f"{len(objects)} of {len(rows)} outputs are JSON objects: not extraction data")
        support, share = int(params["min_support"]), float(params["majority_share"])
        group_key = _group_field(objects, int(params["max_group_values"]), support)
        group = {i: str(obj.get(group_key)) if group_key else "" for i, obj in objects.items()}
        inputs = {i: f" {normalize_loose(rows[i][1])} " for i in objects}
        # (row, key, value as a similarity key) for every string value but the group field
        annotated: dict[int, list[tuple[str, str, str]]] = {}
        for i, obj in objects.items():
            annotated[i] = [(path.split(".")[-1].rstrip("[]"), normalize_loose(v), v) for path, v in leaves(obj)
                            if isinstance(v, str) and path != group_key and normalize_loose(v)]
        findings: list[dict] = []
        flagged: Counter = Counter()

        def add(i: int, kind: str, message: str, **extra) -> None:
            flagged[kind] += 1
            findings.append({"rows": [rows[i][0]], "kind": kind, "message": message, **extra})

        # 1. One phrase, two keys among sibling rows annotated alike around it (the keys of the words right
        # before and after it, or none): "washington" right after a city is a state by rights, "first"
        # after "june" a day number and before an unannotated "flight" something else; "Oregon" after an
        # unannotated "in" typed two ways is an inconsistency. Numbers are left out ("2" is a party size
        # and a rating by rights).
        keys_of: dict[tuple[str, str], Counter] = defaultdict(Counter)
        alike: dict[tuple[str, str, tuple[str, str]], Counter] = defaultdict(Counter)
        around = {}
        for i, items in annotated.items():
            slots = _slots(inputs[i].split(), [(key, v) for key, v, _ in items])
            for key, v, _ in items:
                keys_of[(group[i], v)][key] += 1
                around[(i, v)] = slots.get(v, ("", ""))
                alike[(group[i], v, around[(i, v)])][key] += 1
        for i, items in annotated.items():
            for key, v, raw in items:
                if any(c.isdigit() for c in v) or v in NUMBER_WORDS:
                    continue
                # the majority among the rows annotated alike around it, or among all rows when some of
                # those are annotated alike around it too (the surroundings do not explain the other key)
                counts = alike[(group[i], v, around[(i, v)])]
                overall = keys_of[(group[i], v)]
                where = "annotated alike around it"
                if counts.most_common(1)[0][0] != key and counts[overall.most_common(1)[0][0]]:
                    counts, where = overall, f"of {group[i] or 'all'} requests"
                top, top_n = counts.most_common(1)[0]
                if key != top and top_n >= support and top_n >= share * sum(counts.values()) and counts[key] < top_n:
                    add(i, "phrase_typed_differently", f"\"{raw}\" is annotated as {key} here, as {top} in {top_n} rows "
                                                       f"{where}", phrase=raw, key=key,
                        majority_key=top, majority_rows=top_n, rows_as_this=counts[key])
        # 2. A phrase that sibling rows annotate whenever their request holds it, missing here.
        by_group: dict[str, list[int]] = defaultdict(list)
        for i in objects:
            by_group[group[i]].append(i)
        for (g, v), keys in keys_of.items():
            key, n = keys.most_common(1)[0]
            if n < support or v in FUNCTION_WORDS or v in QUESTION_WORDS or v in NUMBER_WORDS:
                continue                        # "one" is a time in "at one" and a pronoun in "this one"
            needle = f" {v} "
            holding = [i for i in by_group[g] if needle in inputs[i]]
            if len(holding) < support:
                continue
            missing = [i for i in holding if not any(x == v or needle in f" {x} " for _, x, _ in annotated[i])]
            if missing and (len(holding) - len(missing)) >= share * len(holding):
                for i in missing:
                    add(i, "missing_annotation",
                        f"the request holds \"{v}\", annotated as {key} in {len(holding) - len(missing)} of the "
                        f"{len(holding)} {g or 'other'} requests that hold it; not annotated here",
                        phrase=v, key=key, majority_rows=len(holding) - len(missing), rows_holding=len(holding))
        # 3. Values no reviewer accepts: only question words, in fewer than min_support rows, where the
        # key's values are otherwise content ("How" as an object name); encoding damage.
        def bare(v: str) -> bool:
            # question words only: determiners and prepositions are values by rights in some schemas
            # (ATIS: "this" afternoon as today_relative, "by" noon as time_relative)
            return all(w in QUESTION_WORDS for w in v.split())

        content_share = defaultdict(list)
        pair_rows: Counter = Counter()
        for items in annotated.values():
            for key, v, _ in items:
                content_share[key].append(not bare(v))
                pair_rows[(key, v)] += 1
        for i, items in annotated.items():
            for key, v, raw in items:
                # a convention many rows follow ("by" as time_relative in 15 rows, "us" as an airline code)
                # is no slip
                if bare(v) and pair_rows[(key, v)] < support and sum(content_share[key]) >= share * len(content_share[key]):
                    add(i, "function_word_value", f"{key} = \"{raw}\": only question words", key=key,
                        phrase=raw)
            damaged = [raw for _, _, raw in items if DAMAGE.search(raw)] or (
                [rows[i][1]] if DAMAGE.search(rows[i][1]) else [])
            if damaged:
                add(i, "encoding_damage", f"encoding damage (a replacement character or mis-decoded UTF-8) in "
                                          f"\"{damaged[0][:60]}\"", phrase=damaged[0][:60])
        rows_hit = {(f["rows"][0]["split"], f["rows"][0]["line"]) for f in findings}
        limit = int(params["max_findings"])
        return CheckResult(
            summary={"outputs": len(rows), "flagged_rows": len(rows_hit), "flagged_rate": len(rows_hit) / len(rows),
                     "phrase_typed_differently": flagged["phrase_typed_differently"],
                     "missing_annotation": flagged["missing_annotation"],
                     "function_word_values": flagged["function_word_values"],
                     "encoding_damage": flagged["encoding_damage"]},
            findings=findings[:limit],
            info={"group_field": group_key, "findings_total": len(findings),
                  "rule": f"a minority (another key, or no annotation) against a majority of at least {support} rows "
                          f"and {share:.0%} of the rows concerned"})
