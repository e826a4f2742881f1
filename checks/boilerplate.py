"""Completions carrying text that is not the answer: refusals and "As an AI language model"
disclaimers copied from another model's outputs, an opening or a signature pasted on many answers, and
one identical completion given to different prompts. The model learns these as surely as the
answers: to refuse, to disclaim, to sign, to answer without reading the question."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import partial

from harness.inputs.output_kinds import parse_json
from harness.core.text import normalize_loose

from .base import CheckResult, GenerativeCheck, Params, lower_is_better, param, register, unlisted_rows

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
REFUSAL_PATTERNS = [
    r"as an ai(?: language)? model",
    r"as a (?:large )?language model",
    r"i(?:'m| am) (?:just )?an ai\b",
    r"i(?:'m| am) sorry,? (?:but )?i (?:can(?:not|'t)|am (?:not able|unable)|won't)",
    r"i (?:can(?:not|'t)|am unable to|won't) (?:help|assist|comply|provide|fulfil+)(?: you)?(?: with)? (?:that|this|your)",
    r"i don't have (?:access to|the ability to) (?:real-time|personal|browse)",
]


@register
class Boilerplate(GenerativeCheck):
    name = "boilerplate"
    removes = "all"
    order = 96
    key_figures = ("refusal_rows", "repeated_phrases", "identical_answer_groups")
    title = "Boilerplate and refusals in completions"
    why = "Refusals, AI disclaimers, pasted signatures and one answer for many prompts are learned like any answer."
    metrics = lower_is_better("refusal_rows", "repeated_phrases", "repeated_phrase_rows", "identical_answer_groups",
                              "identical_answer_rows", "flagged_rows", "flagged_rate")

    @dataclass(frozen=True)
    class Params(Params):
        min_rows: int = param(5, ">=2", "an opening or closing shared by this many answers (to different prompts)")
        min_words: int = param(3, ">=1", "with at least this many words is boilerplate")
        # A house sign-off is listed in the check's info, not flagged.
        house_style_share: float = param(0.5, "0..1", "unless this share of all answers has it: the set's own voice")
        min_answer_words: int = param(4, ">=1", "one answer given to different prompts counts from this many words")
        # Two customers asking about one product may rightly get one reply.
        grounded_share: float = param(0.25, "0..1", "unless it names a word all its prompts name and at most this share of answers do")
        max_findings: int = param(500, ">=0", "findings listed (all are counted)")
        refusal_patterns: list[str] = param(REFUSAL_PATTERNS, "", "refusals and AI disclaimers, case-insensitive regular expressions")

    def judge(self, answers, params: Boilerplate.Params, count=None) -> CheckResult:
        n = answers.n
        min_rows, min_words = params.min_rows, params.min_words
        # Openings and closings many answers share (not a shared format: they must carry words), and one
        # written answer given to several prompts; then how many different prompts each was given to.
        edges = {k: v for k, v in answers.count(_edges, min_rows, first=1).items() if _words(k[1]) >= min_words}
        same = answers.count(partial(_answer_key, params.min_answer_words), 2, first=1)
        prompts = answers.distinct(partial(_prompts, frozenset(edges), frozenset(same))) if edges or same else {}
        first_seen = lambda kv: (-kv[1][0], kv[1][1][0]["line"], kv[0][0] != "opening")  # noqa: E731
        repeated, house = [], []
        for key, (rows, _) in sorted(edges.items(), key=first_seen):
            if prompts.get(key, 0) < min_rows:
                continue
            if rows >= params.house_style_share * n:
                # Most answers carry it: the voice the set teaches (a house sign-off), not text pasted
                # onto some answers. Said in the info; a reviewer decides whether it is wanted.
                house.append({"where": key[0], "phrase": key[1], "rows": rows, "share": round(rows / n, 4)})
            else:
                repeated.append(key)
        # One written answer for different prompts (the same prompt twice is a duplicate, the duplicate
        # checks' finding). Not JSON: two messages may rightly yield the same fields (the same product,
        # nothing else given), and each value is judged by unsupported_values.
        groups = [key for key, _ in sorted(same.items(), key=first_seen) if prompts.get(key, 0) >= 2]
        hits = answers.scan(partial(_boilerplate, tuple(params.refusal_patterns), frozenset(repeated), frozenset(groups)))
        findings: list[dict] = []
        members: dict[tuple, list] = defaultdict(list)
        for ref, hit in hits:
            if "refusal" in hit:
                phrase, whole = hit["refusal"]
                findings.append({"rows": [ref], "kind": "refusal", "phrase": phrase,
                                 "message": f"{'a refusal' if whole else 'contains'}: \"{phrase}\""})
            for key in hit.get("edges", []):
                members[tuple(key)].append(ref)
            if "answer" in hit:
                members[tuple(hit["answer"])].append((ref, hit))
        flagged = {(f["rows"][0]["split"], f["rows"][0]["line"]) for f in findings}
        refusals = len(findings)
        repeated_rows = 0
        for where, phrase in repeated:
            rows = members[(where, phrase)]
            repeated_rows += len(rows)
            flagged.update((r["split"], r["line"]) for r in rows)
            findings.append({"rows": rows, "kind": f"repeated_{where}", "phrase": phrase,
                             "message": f"{len(rows)} answers ({len(rows) / n:.0%}) {'open' if where == 'opening' else 'close'} "
                                        f"with \"{phrase}\""})
        # The answer names something every one of its prompts names and few answers do (the same product,
        # in at most `grounded_share` of the answers): it read the questions, which deserve one reply.
        needed = frozenset(w for key in groups for w in members[key][0][1]["answer_words"])
        answer_words = answers.count(partial(_words_among, needed)) if needed else {}
        grouped = 0
        shown = 0
        for key in groups:
            rows = members[key]
            rare = {w for w in rows[0][1]["answer_words"] if answer_words.get(w, (0,))[0] <= params.grounded_share * n}
            if rare and all(rare & set(hit["prompt_words"]) for _, hit in rows):
                continue
            shown += 1
            grouped += len(rows)
            flagged.update((ref["split"], ref["line"]) for ref, _ in rows)
            findings.append({"rows": [ref for ref, _ in rows], "kind": "identical_answer",
                             "message": f"the same answer to {prompts[key]} different prompts: \"{rows[0][1]['short']}\""})
        limit = params.max_findings
        return CheckResult(
            summary={"outputs": n, "refusal_rows": refusals, "repeated_phrases": len(repeated),
                     "repeated_phrase_rows": repeated_rows, "identical_answer_groups": shown,
                     "identical_answer_rows": grouped, "flagged_rows": len(flagged), "flagged_rate": len(flagged) / n},
            findings=findings[:limit],
            info={"refusal_patterns": list(params.refusal_patterns), **unlisted_rows(findings, limit), "house_style": house,
                  "repeated": "an opening (first sentence) or closing (last line) shared by at least "
                              f"{min_rows} answers to different prompts, with at least {min_words} words"})


def _words(text: str) -> int:
    return len(re.findall(r"[^\W\d_]{2,}", text))


def _content_words(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]{3,}", text.casefold()))


def _edges(text: str, out: str) -> list[tuple[str, str]]:
    """The answer's opening (first sentence) and closing (last line), where they are not the whole
    answer; none for a structured answer, whose first and last lines are its format, not pasted text."""
    if parse_json(out) is not None:
        return []
    first, last, whole = _opening(out), _closing(out), normalize_loose(out)
    return ([("opening", first)] if first and first != whole else []) + \
           ([("closing", last)] if last and last != whole and last != first else [])


def _answer_key(min_words: int, text: str, out: str) -> list[tuple[str, str]]:
    key = normalize_loose(out)
    return [("answer", key)] if parse_json(out) is None and _words(key) >= min_words else []


def _prompts(edges: frozenset, same: frozenset, text: str, out: str) -> list[tuple]:
    """(an opening, closing or answer of interest, the prompt it answers) for counting distinct prompts."""
    prompt = normalize_loose(text)
    return [(key, prompt) for key in _edges(text, out) + _answer_key(0, text, out) if key in edges or key in same]


def _boilerplate(patterns: tuple[str, ...], repeated: frozenset, groups: frozenset, text: str, out: str) -> dict | None:
    """What one answer carries: a refusal, repeated openings or closings, an answer given to several prompts."""
    hit: dict = {}
    found = next((m for m in (re.search(p, out, re.I) for p in patterns) if m), None)
    if found:
        hit["refusal"] = [found.group(0), len(found.group(0)) >= 0.6 * len(out.strip())]
    edges = [list(key) for key in _edges(text, out) if key in repeated]
    if edges:
        hit["edges"] = edges
    key = next((k for k in _answer_key(0, text, out) if k in groups), None)
    if key is not None:
        hit.update(answer=list(key), prompt_words=sorted(_content_words(text)),
                   answer_words=sorted(_content_words(out)), short=_short(out))
    return hit or None


def _words_among(words: frozenset, text: str, out: str) -> list[str]:
    return sorted(_content_words(out) & words)


def _opening(text: str) -> str:
    first = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    return normalize_loose(SENTENCE_END.split(first.strip())[0])[:120]


def _closing(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return normalize_loose(lines[-1])[:120] if len(lines) >= 2 else ""


def _short(text: str) -> str:
    t = " ".join(text.split())
    return t if len(t) <= 60 else t[:57] + "..."
