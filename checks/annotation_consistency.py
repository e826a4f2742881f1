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
from functools import partial

from harness.inputs.output_kinds import leaves, parse_json
from harness.auditing.pairs import FUNCTION_WORDS, NUMBER_WORDS
from harness.core.text import fold_confusables, normalize, normalize_loose

from .base import CheckResult, GenerativeCheck, Params, lower_is_better, not_applicable, param, register

QUESTION_WORDS = frozenset("how what when where which who whom whose why".split())
# U+FFFD, and UTF-8 read as Latin-1 or cp1252 ("Ã©" for "é", "â€™" for "’").
DAMAGE = re.compile("\ufffd|Ã[\u0080-\u00bf\u0152-\u203a]|â€|Â[\u00a0-\u00bf]")


def _spelled(text: str) -> str:
    """"&" read as the word it stands for: "& co" (and company) is not "co" (company), and "&
    associates" is "and associates"."""
    return text.replace("&", " and ")


def _loose(text: str) -> str:
    """The similarity key, "&" spelled out (`_spelled`)."""
    return normalize_loose(_spelled(text))


def _group_field(strings: dict[str, int], distinct: dict[str, int], objects: int, max_values: int,
                 min_rows: int) -> str | None:
    """The top-level string field that names the row's kind (an intent): on (nearly) every row, few
    distinct values, `min_rows` rows each on average. Rows of one kind are siblings whose annotations
    should agree. strings: rows with a string under each top-level key; distinct: its distinct values."""
    best = None
    for key in sorted(strings):
        vals, kinds = strings[key], distinct.get(key, 0)
        if vals >= 0.9 * objects and 1 < kinds <= max_values and vals >= min_rows * kinds:
            if best is None or kinds < best[1]:
                best = (key, kinds)
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
        joined = " ".join(_loose(v) for v in items)
        if len(items) > 1 and f" {joined} " in text:
            out.append((key, joined, " ".join(items)))
        else:
            out += [(key, _loose(v), v) for v in items]
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
    text = fold_confusables(normalize(_spelled(raw)))
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

    def judge(self, answers, params: AnnotationConsistency.Params, count=None) -> CheckResult:
        n = answers.n
        tops = answers.count(_top_fields)
        objects = tops.get(("objects",), (0,))[0]
        if objects < max(params.min_rows, params.min_json_share * n):
            return not_applicable(f"{objects} of {n} outputs are JSON objects: not extraction data")
        support, share = params.min_support, params.majority_share
        group_key = _group_field({k[1]: c for k, (c, _) in tops.items() if k[0] == "str"}, answers.distinct(_top_values),
                                 objects, params.max_group_values, support)
        # The set's figures, counted where the rows are: the phrases annotated in `support` rows or more
        # (only they can hold a majority), then for them how each is annotated, alone and where it stands.
        common = frozenset(k[1:] for k in answers.count(partial(_totals, group_key), support))
        figures = answers.count(partial(_annotations, group_key, common))
        tables: dict[str, dict] = {"k": defaultdict(dict), "a": defaultdict(dict), "s": defaultdict(dict),
                                   "o": defaultdict(dict), "c": defaultdict(dict), "p": {}}
        for key, (c, _) in figures.items():
            if key[0] == "p":
                tables["p"][key[1:]] = c
            else:
                tables[key[0]][key[1:-1]][key[-1]] = c
        # Each annotated side alone ("s": the keys given beside it) is the sum over what stands on the other
        # side ("o"), so only "o" is counted.
        for (g, v, side, word, key), others in tables["o"].items():
            tables["s"][(g, v, side, word)][key] = sum(others.values())
        # A phrase that sibling rows annotate whenever their request holds it: which rows hold it, which
        # annotate it, and what stands around it there.
        wanted: dict[str, list[str]] = defaultdict(list)
        for (g, v), keys in sorted(tables["k"].items()):
            if _top(keys)[1] >= support and v not in FUNCTION_WORDS and v not in QUESTION_WORDS and v not in NUMBER_WORDS:
                wanted[g].append(v)
        held = answers.count(partial(_holding, group_key, dict(wanted))) if wanted else {}
        sides: dict[tuple[str, str], list] = defaultdict(list)
        given: dict[tuple[str, str], dict] = defaultdict(dict)
        for key, (c, _) in held.items():
            if key[0] == "side":
                sides[key[1:3]].append((key[3], key[4], c))
            elif key[0] == "given":
                given[key[1:3]][key[3]] = c
        missing: dict[tuple[str, str], dict] = {}
        for key, (holding, _) in held.items():
            if key[0] != "hold" or holding < support:
                continue
            g, v = key[1:]
            done = held.get(("done", g, v), (0,))[0]
            if done == holding or done < share * holding:
                continue
            needs = [] if any(c.isdigit() for c in v) else [   # "6 pm" is a value wherever it stands
                [side, word] for side, word, c in sides[(g, v)] if word.startswith("=") and c >= share * done]
            # the key those rows give it, counted among them ("twitter": a company in 29 annotations, some
            # of them in rows that hold it twice or inside a handle; the message speaks of these rows)
            key, key_rows = _top(given[(g, v)])
            plain = [sum(c for s, word, c in sides[(g, v)] if s == side and _side_kind(word) == "w") for side in (0, 1)]
            missing[(g, v)] = {"key": key, "key_rows": key_rows, "done": done, "holding": holding,
                               "needs": sorted(needs), "plain": plain}
        model = {"group_key": group_key, "support": support, "share": share,
                 "k": {k: v for k, v in tables["k"].items() if k in common},
                 "a": dict(tables["a"]), "s": dict(tables["s"]), "o": dict(tables["o"]), "p": tables["p"],
                 "content": {key: (c.get(True, 0), c.get(True, 0) + c.get(False, 0)) for (key,), c in tables["c"].items()},
                 "missing": {g: {v: m for (g2, v), m in missing.items() if g2 == g} for g in {g for g, _ in missing}}}
        hits = answers.scan(partial(_inconsistent, model))
        findings = [{"rows": [ref], **found} for ref, row in hits for found in row]
        flagged = Counter(f["kind"] for f in findings)
        limit = params.max_findings
        return CheckResult(
            summary={"outputs": n, "flagged_rows": len(hits), "flagged_rate": len(hits) / n,
                     "phrase_typed_differently": flagged["phrase_typed_differently"],
                     "missing_annotation": flagged["missing_annotation"],
                     "function_word_values": flagged["function_word_value"],
                     "encoding_damage": flagged["encoding_damage"]},
            findings=findings[:limit],
            info={"group_field": group_key, "findings_total": len(findings),
                  "rule": f"a minority (another key, or no annotation) against a majority of at least {support} rows "
                          f"and {share:.0%} of the rows concerned"})


def _other_side_differs(others: dict, other: str, share: float) -> bool:
    """What this row has on the other side is rare among the majority's rows there (under 1 - `share`
    of them): "S. Davenport", nothing before "S.", against middle initials that all follow a given name
    or a nickname."""
    if not others:
        return False
    return others.get(_side_kind(other), 0) < (1 - share) * sum(others.values())


def _top(counts: dict) -> tuple:
    """The most common key and its count; ties to the first key in sort order (the same on every engine)."""
    return min(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))


def _bare(v: str) -> bool:
    """Question words only: determiners and prepositions are values by rights in some schemas (ATIS:
    "this" afternoon as today_relative, "by" noon as time_relative)."""
    return all(w in QUESTION_WORDS for w in v.split())


def _top_fields(text: str, out: str) -> list[tuple]:
    obj = parse_json(out)
    if not isinstance(obj, dict):
        return []
    return [("objects",)] + [("str", k) for k, v in obj.items() if isinstance(v, str)]


def _top_values(text: str, out: str) -> list[tuple[str, str]]:
    obj = parse_json(out)
    return [(k, v) for k, v in obj.items() if isinstance(v, str)] if isinstance(obj, dict) else []


def _read(group_key: str | None, text: str, out: str):
    """An answer as the rules see it: (its group, the request as a padded similarity key, its words, each
    word's annotated key, the annotated phrases (key, phrase, as written) each with what stands around
    it); None for an answer that is not a JSON object."""
    obj = parse_json(out)
    if not isinstance(obj, dict):
        return None
    g = str(obj.get(group_key)) if group_key else ""
    padded = f" {_loose(text)} "
    items = _phrases([(path, v) for path, v in leaves(obj)
                      if isinstance(v, str) and path != group_key and _loose(v)], padded)
    words = padded.split()
    tag, spans = _tags(words, [(key, v) for key, v, _ in items])
    around = [_around(words, tag, *spans[(key, v)]) if (key, v) in spans else ("", "") for key, v, _ in items]
    return g, padded, words, tag, list(zip(items, around))


def _totals(group_key: str | None, text: str, out: str) -> list[tuple]:
    read = _read(group_key, text, out)
    return [("t", read[0], v) for (_, v, _), _ in read[4]] if read else []


def _annotations(group_key: str | None, common: frozenset, text: str, out: str) -> list[tuple]:
    """How the answer annotates each common phrase: its key overall ("k"), where it stands ("a": the words
    or annotated keys right before and after; "o": each annotated side alone, with what kind of thing
    stands on the other side); and per key whether the value is content ("c") and the question-word
    values ("p")."""
    read = _read(group_key, text, out)
    if read is None:
        return []
    g, got = read[0], []
    for (key, v, _), (left, right) in read[4]:
        got.append(("c", key, not _bare(v)))
        if _bare(v):
            got.append(("p", key, v))
        if (g, v) in common:
            got += [("k", g, v, key), ("a", g, v, left, right, key)]
            for side, word, other in (("l", left, right), ("r", right, left)):
                if word.startswith("="):
                    got.append(("o", g, v, side, word, key, _side_kind(other)))
    return got


def _side_kind(word: str) -> str:
    """What stands on a side, as the one-sided comparison checks it: an annotated key ("=StreetName"),
    the request's edge (""), or some plain word ("w")."""
    return word if word.startswith("=") or not word else "w"


def _holding(group_key: str | None, wanted: dict[str, list[str]], text: str, out: str) -> list[tuple]:
    """For each phrase its siblings annotate that the request holds as words of its own: ("hold", g, v),
    and where the answer annotates it (all its words, under any keys, or a value holding it) ("done", g, v)
    with what stands around its first place ("side", g, v, 0|1, word)."""
    read = _read(group_key, text, out)
    if read is None or read[0] not in wanted:
        return []
    g, padded, words, tag, items = read
    got = []
    for v in wanted[g]:
        if f" {v} " not in padded or not _stands_alone(text, v):
            continue
        got.append(("hold", g, v))
        if _annotates(v, words, tag, items):
            k = _find(words, v.split())
            left, right = _around(words, tag, k, k + len(v.split())) if k is not None else ("", "")
            given = tag[k] if k is not None and tag[k] else next(
                (key for (key, x, _), _ in items if x == v or f" {v} " in f" {x} "), "")
            got += [("done", g, v), ("side", g, v, 0, left), ("side", g, v, 1, right), ("given", g, v, given)]
    return got


def _annotates(v: str, words: list[str], tag: list[str], items) -> bool:
    k = _find(words, v.split())
    covered = k is not None and all(tag[k:k + len(v.split())])
    return covered or any(x == v or f" {v} " in f" {x} " for (_, x, _), _ in items)


def _inconsistent(model: dict, text: str, out: str) -> list[dict] | None:
    """The answer's findings against the set's figures (model): a phrase typed differently from where it
    stands alike, a phrase its siblings annotate left out, a value of question words only, encoding damage."""
    read = _read(model["group_key"], text, out)
    if read is None:
        return None
    g, padded, words, tag, items = read
    support, share = model["support"], model["share"]
    found: list[dict] = []
    # 1. One phrase, two keys among sibling rows where it stands alike: the same words or annotated
    # keys right before and after it. The surroundings decide the key by rights ("first" after "june"
    # is a day number, in "the first flight" a modifier; "noon" alone is a time, in "between noon and"
    # a range's start), so only rows that share them are the majority to compare with: both sides, or
    # one annotated side when too few share both ("october first" beside a dozen "<month> first").
    # "Oregon" after "in" typed two ways is an inconsistency. Numbers are left out ("2" is a party
    # size and a rating by rights).
    twice = {v for v, c in Counter(v for (_, v, _), _ in items).items() if c > 1}
    for (key, v, raw), (left, right) in items:
        # a phrase the row annotates under two keys stands in two places ("the first flight ... on
        # march first"): which is which is not known here
        if any(c.isdigit() for c in v) or v in NUMBER_WORDS or v in twice or (g, v) not in model["k"]:
            continue
        counts, used = model["a"][(g, v, left, right)], (("l", left), ("r", right))
        overall = model["k"][(g, v)]
        top_all = _top(overall)[0]
        if top_all != key and counts.get(top_all, 0) >= max(support, counts.get(key, 0)):
            # rows standing alike give it the majority's key as well: the surroundings do not explain
            # this one. They are the measure where they hold a majority by themselves ("j." between a
            # given name and a surname: a middle initial in 13 rows there, a first initial at the start of 12),
            # else all sibling rows are
            alike_n = counts[top_all]
            if not (alike_n >= share * sum(counts.values()) and _top(counts)[0] == top_all):
                counts, used = overall, ()
        elif _top(counts)[1] < support:
            sides = [(model["s"][(g, v, side, word)], ((side, word),), other)
                     for side, word, other in (("l", left, right), ("r", right, left)) if word.startswith("=")]
            # every annotated side must agree ("after" after a city and before an airline is not
            # "after" after a city and before a time): a side whose rows mostly give the phrase
            # this row's key explains it ("South" after an address-number suffix is a street name
            # in 4 rows, but before a street name a direction in most); the narrower one is shown
            if any(_top(c)[0] == key for c, _, _ in sides):
                continue
            # ...and one side is a fair measure only where the other side is no different from the
            # majority's: "B" before a street name is a number suffix in 5 rows that all have an address
            # number before it; "B San Luis Street", with nothing before it, is the address number.
            if any(_other_side_differs(model["o"].get((g, v, *at[0], _top(c)[0]), {}), other, share)
                   for c, at, other in sides):
                continue
            counts, used = min(((c, at) for c, at, _ in sides), key=lambda c: sum(c[0].values()), default=(counts, used))
        where = (f"where it stands alike ({_where(used)})" if used else
                 f"of {g or 'all'} requests, some standing alike")
        top, top_n = _top(counts)
        mine = counts.get(key, 0)
        if key != top and top_n >= support and top_n >= share * sum(counts.values()) and mine < top_n:
            found.append({"kind": "phrase_typed_differently",
                          "message": f"\"{raw}\" is annotated as {key} here, as {top} in {top_n} rows {where}",
                          "phrase": raw, "key": key, "majority_key": top, "majority_rows": top_n, "rows_as_this": mine})
    # 2. A phrase that sibling rows annotate whenever their request holds it, missing here. Where it
    # stands decides too: when the rows that annotate it nearly all have one annotated key on one side
    # ("after" before a time, "next" before a day name), that neighbour is part of what makes it a
    # value, and a row without it ("after a turboprop", "next summer") is no omission.
    for v, m in sorted(model["missing"].get(g, {}).items()):
        if f" {v} " not in padded or not _stands_alone(text, v) or _annotates(v, words, tag, items):
            continue
        k = _find(words, v.split())
        sides = _around(words, tag, k, k + len(v.split())) if k is not None else ("", "")
        if any(sides[s] != w for s, w in m["needs"]):
            continue
        # a word left unannotated beside it, where the rows that annotate it seldom have one (under 1 -
        # share of them): the phrase is part of a stretch left out as a whole ("(east side)" after a
        # fully annotated address), not a value skipped on its own; a number is a value wherever it
        # stands ("this year 1991 i'd like")
        if not any(c.isdigit() for c in v) and any(
                _side_kind(sides[s]) == "w" and m["plain"][s] < (1 - share) * m["done"] for s in (0, 1)):
            continue
        # the rows annotating it may give it other keys where it stands elsewhere ("east": a direction
        # in 17 US addresses, part of a place name in 6): the message says how many took the commonest
        how = (f"as {m['key']}" if m["key_rows"] == m["done"] else f"({m['key_rows']} of them as {m['key']})")
        found.append({"kind": "missing_annotation",
                      "message": f"the request holds \"{v}\"; of the {m['holding']} {g + ' ' if g else ''}requests "
                                 f"that hold it (this one among them) {m['done']} annotate it {how}; this one does not",
                      "phrase": v, "key": m["key"], "majority_rows": m["done"], "rows_holding": m["holding"],
                      "key_rows": m["key_rows"]})
    # 3. Values no reviewer accepts: only question words, in fewer than min_support rows, where the
    # key's values are otherwise content ("How" as an object name); a convention many rows follow ("by"
    # as time_relative in 15 rows) is no slip. Encoding damage.
    for (key, v, raw), _ in items:
        content, total = model["content"].get(key, (0, 0))
        if _bare(v) and model["p"].get((key, v), 0) < support and content >= share * total:
            found.append({"kind": "function_word_value", "message": f"{key} = \"{raw}\": only question words",
                          "key": key, "phrase": raw})
    damaged = [raw for (_, _, raw), _ in items if DAMAGE.search(raw)] or ([text] if DAMAGE.search(text) else [])
    if damaged:
        found.append({"kind": "encoding_damage", "message": f"encoding damage (a replacement character or mis-decoded "
                                                            f"UTF-8) in \"{damaged[0][:60]}\"", "phrase": damaged[0][:60]})
    return found or None
