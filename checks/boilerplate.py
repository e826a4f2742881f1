"""Completions carrying text that is not the answer: refusals and "As an AI language model"
disclaimers copied from another model's outputs, an opening or a signature pasted on many answers, and
one identical completion given to different prompts. The model learns these as surely as the
answers: to refuse, to disclaim, to sign, to answer without reading the question."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

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

    def judge(self, rows: list[tuple[dict, str, str]], params: Boilerplate.Params, count=None) -> CheckResult:
        n = len(rows)
        phrases = [re.compile(p, re.I) for p in params.refusal_patterns]
        min_rows, min_words = params.min_rows, params.min_words
        findings: list[dict] = []
        flagged: set[int] = set()
        refusals = 0
        for i, (ref, _, out) in enumerate(rows):
            hit = next((m for m in (p.search(out) for p in phrases) if m), None)
            if hit:
                refusals += 1
                flagged.add(i)
                whole = len(hit.group(0)) >= 0.6 * len(out.strip())
                findings.append({"rows": [ref], "kind": "refusal", "phrase": hit.group(0),
                                 "message": f"{'a refusal' if whole else 'contains'}: \"{hit.group(0)}\""})
        # Openings and closings many answers share (not a shared format: they must carry words).
        edges: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, (_, _, out) in enumerate(rows):
            if parse_json(out) is not None:
                continue   # a structured answer's first and last lines are its format, not pasted text
            first, last = _opening(out), _closing(out)
            if first and first != normalize_loose(out):
                edges[("opening", first)].append(i)
            if last and last != normalize_loose(out) and last != first:
                edges[("closing", last)].append(i)
        repeated = repeated_rows = 0
        house: list[dict] = []
        for (where, phrase), members in sorted(edges.items(), key=lambda kv: -len(kv[1])):
            prompts = {normalize_loose(rows[i][1]) for i in members}
            if len(members) < min_rows or len(prompts) < min_rows or len(re.findall(r"[^\W\d_]{2,}", phrase)) < min_words:
                continue
            if len(members) >= params.house_style_share * n:
                # Most answers carry it: the voice the set teaches (a house sign-off), not text pasted
                # onto some answers. Said in the info; a reviewer decides whether it is wanted.
                house.append({"where": where, "phrase": phrase, "rows": len(members), "share": round(len(members) / n, 4)})
                continue
            repeated += 1
            repeated_rows += len(members)
            flagged.update(members)
            findings.append({"rows": [rows[i][0] for i in members], "kind": f"repeated_{where}", "phrase": phrase,
                             "message": f"{len(members)} answers ({len(members) / n:.0%}) {'open' if where == 'opening' else 'close'} "
                                        f"with \"{phrase}\""})
        # One written answer for different prompts. Not JSON: two messages may rightly yield the same
        # fields (the same product, nothing else given), and each value is judged by unsupported_values.
        by_answer: dict[str, list[int]] = defaultdict(list)
        for i, (_, _, out) in enumerate(rows):
            key = normalize_loose(out)
            if parse_json(out) is None and len(re.findall(r"[^\W\d_]{2,}", key)) >= params.min_answer_words:
                by_answer[key].append(i)
        groups = grouped = 0
        words_of = lambda text: set(re.findall(r"[^\W\d_]{3,}", text.casefold()))  # noqa: E731
        answer_words = Counter(w for _, _, out in rows for w in words_of(out))
        for key, members in sorted(by_answer.items(), key=lambda kv: -len(kv[1])):
            prompts = Counter(normalize_loose(rows[i][1]) for i in members)
            if len(prompts) < 2:
                continue  # the same prompt twice: a duplicate, the duplicate checks' finding
            # The answer names something every one of its prompts names and few answers do (the same
            # product, in at most `grounded_share` of the answers): it read the questions, which deserve one reply.
            rare = {w for w in words_of(rows[members[0]][2]) if answer_words[w] <= params.grounded_share * n}
            if rare and all(rare & words_of(rows[i][1]) for i in members):
                continue
            groups += 1
            grouped += len(members)
            flagged.update(members)
            findings.append({"rows": [rows[i][0] for i in members], "kind": "identical_answer",
                             "message": f"the same answer to {len(prompts)} different prompts: \"{_short(rows[members[0]][2])}\""})
        limit = params.max_findings
        return CheckResult(
            summary={"outputs": n, "refusal_rows": refusals, "repeated_phrases": repeated,
                     "repeated_phrase_rows": repeated_rows, "identical_answer_groups": groups,
                     "identical_answer_rows": grouped, "flagged_rows": len(flagged), "flagged_rate": len(flagged) / n},
            findings=findings[:limit],
            info={"refusal_patterns": list(params.refusal_patterns), **unlisted_rows(findings, limit), "house_style": house,
                  "repeated": "an opening (first sentence) or closing (last line) shared by at least "
                              f"{min_rows} answers to different prompts, with at least {min_words} words"})


def _opening(text: str) -> str:
    first = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    return normalize_loose(SENTENCE_END.split(first.strip())[0])[:120]


def _closing(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return normalize_loose(lines[-1])[:120] if len(lines) >= 2 else ""


def _short(text: str) -> str:
    t = " ".join(text.split())
    return t if len(t) <= 60 else t[:57] + "..."
