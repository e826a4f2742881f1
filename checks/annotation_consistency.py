"""Extraction data is annotated by people, and people annotate the same thing differently: "Oregon" a
state in five rows and a city in one; "1 star" annotated as the rating in a thousand requests and left
out in thirty; "How" saved as an object name; a value carrying an encoding error. A model learns each
inconsistency as a rule. Every finding here is a minority against a majority the data itself shows
(with both counts), or a value no reviewer would accept (only question words, a
replacement character), so a reviewer can check it from the rows shown."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from harness.inputs.output_kinds import leaves, parse_json
from harness.auditing.pairs import FUNCTION_WORDS, NUMBER_WORDS
from harness.core.text import fold_confusables, normalize, normalize_loose

from .base import CheckResult, GenerativeCheck, Params, lower_is_better, not_applicable, param, register

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


def _tags(words: list[str], values: list[tuple[str, str]]) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """Each word's key where an annotated value covers it ("" elsewhere), and where each value stands."""
    tag = [""] * len(words)
    spans = {}
    for key, v in values:
        phrase = v.split()
        m = len(phrase)
        k = _find(words, phrase, free=tag)
        if k is not None:
            tag[k:k + m] = [key] * m
            spans.setdefault((key, v), (k, k + m))
    return tag, spans


def _around(words: list[str], tag: list[str], a: int, b: int) -> tuple[str, str]:
    """What stands right before and after words[a:b]: the key of an annotated word ("=city"), else the
    word itself, "" where the request starts or ends."""
    def side(k: int) -> str:
        return "" if not 0 <= k < len(words) else f"={tag[k]}" if tag[k] else words[k]

    return side(a - 1), side(b)


def _phrases(values: list[tuple[str, str]], text: str) -> list[tuple[str, str, str]]:
    """(key, value as a similarity key, value) per annotated value; a list whose items stand side by side
    in the request is one phrase (ATIS writes "early morning" as ["early", "morning"]), so its first word
    is not compared with "early" annotated on its own."""
    by_path: dict[str, list[str]] = defaultdict(list)
    for path, v in values:
        by_path[path].append(v)
    out = []
    for path, items in by_path.items():
        key = path.split(".")[-1].rstrip("[]")
        joined = " ".join(normalize_loose(v) for v in items)
        if len(items) > 1 and f" {joined} " in text:
            out.append((key, joined, " ".join(items)))
        else:
            out += [(key, normalize_loose(v), v) for v in items]
    return out


def _find(words: list[str], phrase: list[str], free: list[str] | None = None) -> int | None:
    """Where the phrase first stands in the words (where no word is tagged yet, given `free` tags)."""
    m = len(phrase)
    return next((k for k in range(len(words) - m + 1)
                 if words[k:k + m] == phrase and (free is None or not any(free[k:k + m]))), None)


def _stands_alone(raw: str, phrase: str) -> bool:
    """The phrase stands in the request as words of its own, not as part of a user handle (@dc_fan), a
    hyphenated or underscored word ("non-Twitter"), a file or web address: only there could an annotator
    have marked it. A hashtag (#Vh1) is words of its own: data sets annotate them."""
    text = fold_confusables(normalize(raw))
    body = r"\W+".join(re.escape(w) for w in phrase.split())
    return re.search(r"(?<![\w@/.-])" + body + r"(?![\w@]|[-/.]\w)", text) is not None


def _where(sides) -> str:
    """'after "between", before "and"' / 'after a month_name' / 'at the start': the surroundings compared."""
    parts = []
    for side, word in sides:
        where = "after" if side == "l" else "before"
        parts.append(f"{where} a {word[1:]}" if word.startswith("=") else f'{where} "{word}"' if word else
                     ("at the start" if side == "l" else "at the end"))
    return ", ".join(parts)


@register
class AnnotationConsistency(GenerativeCheck):
    name = "annotation_consistency"
    order = 95
    key_figures = ("flagged_rows", "phrase_typed_differently", "missing_annotation", "function_word_values",
                   "encoding_damage")
    title = "Annotation consistency (extraction)"
    why = "One phrase annotated two ways, or annotated in most requests and skipped in some, teaches both."
    metrics = lower_is_better("flagged_rows", "flagged_rate", "phrase_typed_differently", "missing_annotation",
                              "function_word_values", "encoding_damage")

    @dataclass(frozen=True)
    class Params(Params):
        min_json_share: float = param(0.5, "0..1", "applies when at least this share of outputs are JSON objects")
        min_rows: int = param(10, ">=1", "and at least this many")
        min_support: int = param(3, ">=1", "a majority counts from this many rows")
        majority_share: float = param(0.8, "0..1", "holding this share of the rows concerned; the rest are flagged")
        max_group_values: int = param(100, ">=2", "a top-level field with at most this many values names the row's kind (intent)")
        max_findings: int = param(500, ">=0", "findings listed (all are counted)")

    def judge(self, rows: list[tuple[dict, str, str]], params: AnnotationConsistency.Params, count=None) -> CheckResult:
        objects = {i: parse_json(out) for i, (_, _, out) in enumerate(rows)}
        objects = {i: v for i, v in objects.items() if isinstance(v, dict)}
        if len(objects) < max(params.min_rows, params.min_json_share * len(rows)):
            return not_applicable(f"{len(objects)} of {len(rows)} outputs are JSON objects: not extraction data")
        support, share = params.min_support, params.majority_share
        group_key = _group_field(objects, params.max_group_values, support)
        group = {i: str(obj.get(group_key)) if group_key else "" for i, obj in objects.items()}
        inputs = {i: f" {normalize_loose(rows[i][1])} " for i in objects}
        # (row, key, value as a similarity key) for every string value but the group field
        annotated: dict[int, list[tuple[str, str, str]]] = {}
        for i, obj in objects.items():
            annotated[i] = _phrases([(path, v) for path, v in leaves(obj)
                                     if isinstance(v, str) and path != group_key and normalize_loose(v)], inputs[i])
        findings: list[dict] = []
        flagged: Counter = Counter()

        def add(i: int, kind: str, message: str, **extra) -> None:
            flagged[kind] += 1
            findings.append({"rows": [rows[i][0]], "kind": kind, "message": message, **extra})

        # 1. One phrase, two keys among sibling rows where it stands alike: the same words or annotated
        # keys right before and after it. The surroundings decide the key by rights ("first" after "june"
        # is a day number, in "the first flight" a modifier; "noon" alone is a time, in "between noon and"
        # a range's start), so only rows that share them are the majority to compare with: both sides, or
        # one annotated side when too few share both ("october first" beside a dozen "<month> first").
        # "Oregon" after "in" typed two ways is an inconsistency. Numbers are left out ("2" is a party
        # size and a rating by rights).
        keys_of: dict[tuple[str, str], Counter] = defaultdict(Counter)
        alike: dict[tuple, Counter] = defaultdict(Counter)
        around = {}
        tagged = {}
        for i, items in annotated.items():
            words = inputs[i].split()
            tag, spans = _tags(words, [(key, v) for key, v, _ in items])
            tagged[i] = words, tag
            for key, v, _ in items:
                keys_of[(group[i], v)][key] += 1
                around[(i, v)] = left, right = _around(words, tag, *spans[(key, v)]) if (key, v) in spans else ("", "")
                alike[(group[i], v, left, right)][key] += 1
                for side, word in (("l", left), ("r", right)):
                    if word.startswith("="):
                        alike[(group[i], v, side, word)][key] += 1
        for i, items in annotated.items():
            twice = {v for v, n in Counter(v for _, v, _ in items).items() if n > 1}
            for key, v, raw in items:
                # a phrase the row annotates under two keys stands in two places ("the first flight ... on
                # march first"): which is which is not known here
                if any(c.isdigit() for c in v) or v in NUMBER_WORDS or v in twice:
                    continue
                left, right = around[(i, v)]
                counts, used = alike[(group[i], v, left, right)], (("l", left), ("r", right))
                overall = keys_of[(group[i], v)]
                top_all = overall.most_common(1)[0][0]
                if top_all != key and counts[top_all] >= max(support, counts[key]):
                    # rows standing alike give it the majority's key as well: the surroundings do not
                    # explain this one, all sibling rows are the measure
                    counts, used = overall, ()
                elif counts.most_common(1)[0][1] < support:
                    sides = [(alike[(group[i], v, side, word)], ((side, word),))
                             for side, word in (("l", left), ("r", right)) if word.startswith("=")]
                    # every annotated side must agree ("after" after a city and before an airline is not
                    # "after" after a city and before a time): a side whose rows mostly give the phrase
                    # this row's key explains it ("South" after an address-number suffix is a street name
                    # in 4 rows, but before a street name a direction in most); the narrower one is shown
                    if any(c.most_common(1)[0][0] == key for c, _ in sides):
                        continue
                    counts, used = min(sides, key=lambda c: sum(c[0].values()), default=(counts, used))
                where = (f"where it stands alike ({_where(used)})" if used else
                         f"of {group[i] or 'all'} requests, some standing alike")
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
            holding = [i for i in by_group[g] if needle in inputs[i] and _stands_alone(rows[i][1], v)]
            if len(holding) < support:
                continue
            # per row: what stands around the phrase's first place, and whether all its words are annotated
            # (under any keys: "early morning" as a period_mod and a period_of_day is annotated)
            phrase, sides, covered = v.split(), {}, {}
            for i in holding:
                words, tag = tagged[i]
                k = _find(words, phrase)
                sides[i] = _around(words, tag, k, k + len(phrase)) if k is not None else ("", "")
                covered[i] = k is not None and all(tag[k:k + len(phrase)])
            missing = [i for i in holding if not covered[i]
                       and not any(x == v or needle in f" {x} " for _, x, _ in annotated[i])]
            if not missing or (len(holding) - len(missing)) < share * len(holding):
                continue
            # Where it stands decides too: when the rows that annotate it nearly all have one annotated key
            # on one side ("after" before a time, "next" before a day name), that neighbour is part of what
            # makes it a value, and a row without it ("after a turboprop", "next summer") is no omission.
            gone = set(missing)
            done = [h for h in holding if h not in gone]
            needs = [] if any(c.isdigit() for c in v) else [   # "6 pm" is a value wherever it stands
                (s, w) for s in (0, 1) for w, c in Counter(sides[h][s] for h in done).items()
                if w.startswith("=") and c >= share * len(done)]
            for i in missing:
                if any(sides[i][s] != w for s, w in needs):
                    continue
                add(i, "missing_annotation",
                    f"the request holds \"{v}\", annotated as {key} in {len(done)} of the {len(holding)} "
                    f"{g or 'other'} requests that hold it; not annotated here",
                    phrase=v, key=key, majority_rows=len(done), rows_holding=len(holding))
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
        limit = params.max_findings
        return CheckResult(
            summary={"outputs": len(rows), "flagged_rows": len(rows_hit), "flagged_rate": len(rows_hit) / len(rows),
                     "phrase_typed_differently": flagged["phrase_typed_differently"],
                     "missing_annotation": flagged["missing_annotation"],
                     "function_word_values": flagged["function_word_value"],
                     "encoding_damage": flagged["encoding_damage"]},
            findings=findings[:limit],
            info={"group_field": group_key, "findings_total": len(findings),
                  "rule": f"a minority (another key, or no annotation) against a majority of at least {support} rows "
                          f"and {share:.0%} of the rows concerned"})
