"""Answers cut off mid-way (an export that stopped at a length limit, a JSON object missing its closing
brace, a sentence ending in "and the") teach the model to stop mid-thought. Judged against the set's
own habits: a missing full stop is a finding only where nearly every answer has one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import partial

from harness.inputs.output_kinds import common_line_rows, family, final_line, multi_line, pattern_of, unfenced

from .base import CheckResult, GenerativeCheck, Params, lower_is_better, param, register, unlisted_rows

ENDINGS = tuple(".!?;:)]}\"'`*>\u2026\u3002")


@register
class Truncation(GenerativeCheck):
    name = "truncation"
    removes = "all"
    order = 94
    key_figures = ("truncated_rows", "usual_ending_share")
    title = "Truncated completions"
    why = "An answer cut off mid-way teaches the model to stop mid-thought or to emit broken JSON."
    metrics = lower_is_better("truncated_rows", "truncated_rate", "broken_json_rows", "unclosed_rows", "no_ending_rows")

    @dataclass(frozen=True)
    class Params(Params):
        usual_share: float = param(0.9, "0..1", "a missing ending is a finding only where this share of answers has one")
        min_family_rows: int = param(20, ">=1", "among answers of one format family (prose, lists) with this many rows")
        min_rows_at_limit: int = param(3, ">=2", "this many cut answers of exactly one length: named as a length limit")
        max_findings: int = param(500, ">=0", "truncated rows listed (all are counted)")

    def judge(self, answers, params: Truncation.Params, count=None) -> CheckResult:
        usual = params.usual_share
        # The set's habit, per format family (prose, lists): answers end in punctuation, or in a final
        # line most of them share. A family too rare to have a habit (a few bullet lists among prose
        # replies) is output_format's finding, not a cut-off.
        profile = answers.count(_profile)
        n = answers.n
        rows = {f: profile.get(("family", f), (0,))[0] for f in TEXT}
        multi = {f: profile.get(("multi", f), (0,))[0] for f in TEXT}
        lines = {}
        if any(multi[f] >= max(2, usual * rows[f]) for f in TEXT):
            lines = answers.count(_final_lines, min(common_line_rows(multi[f], usual) for f in TEXT if multi[f]), first=1)
        patterns = {}
        for f in TEXT:
            best = min(((key[2], c, refs[0]["line"]) for key, (c, refs) in lines.items() if key[1] == f),
                       key=lambda t: (-t[1], t[2]), default=(None, 0, 0))
            patterns[f] = pattern_of(rows[f], multi[f], best[0], best[1], usual)[0]
        pattern = patterns["prose"] or patterns["list"]
        habits = [f for f in TEXT if rows[f] >= params.min_family_rows]
        prose = sum(rows[f] for f in habits)
        proper = answers.count(partial(_proper, habits, patterns)).get(("proper",), (0,))[0]
        ending_share = proper / prose if prose else 1.0
        hits = answers.scan(partial(_cut, habits, patterns, ending_share >= usual, ending_share, count))
        findings = [{"rows": [ref], **found} for ref, found in hits]
        kinds = Counter(f["kind"] for f in findings)
        # Several cut answers of exactly one length: an export or generation limit.
        lengths = Counter(f["tokens"] for f in findings)
        limit, at = (min(lengths.items(), key=lambda kv: (-kv[1], kv[0])) if lengths else (0, 0))
        if at >= params.min_rows_at_limit:
            for f in findings:
                if f["tokens"] == limit:
                    f["message"] += f"; {at} cut answers are exactly {limit} tokens long (a length limit?)"
        return CheckResult(
            summary={"outputs": n, "truncated_rows": len(findings), "truncated_rate": len(findings) / n,
                     "broken_json_rows": kinds["broken_json"], "unclosed_rows": kinds["unclosed"],
                     "no_ending_rows": kinds["no_ending"], "usual_ending_share": round(ending_share, 4)},
            findings=findings[:params.max_findings],
            info={"final_line": pattern, "prose_rows": prose, "length_limit": limit if at >= params.min_rows_at_limit else None,
                  **unlisted_rows(findings, params.max_findings)})


TEXT = ("prose", "list")


def _profile(text: str, out: str) -> list[tuple]:
    o = out.strip()
    fam = family(o)
    if fam not in TEXT:
        return []
    return [("family", fam)] + ([("multi", fam)] if multi_line(o) else [])


def _final_lines(text: str, out: str) -> list[tuple]:
    o = out.strip()
    fam = family(o)
    return [("final", fam, final_line(o))] if fam in TEXT and multi_line(o) else []


def _proper(habits: list[str], patterns: dict, text: str, out: str) -> list[tuple]:
    """("proper",) for an answer of a family with a habit that ends the usual way."""
    o = out.strip()
    fam = family(o)
    return [("proper",)] if fam in habits and (_ends_well(o) or _has_line(o, patterns[fam])) else []


def _cut(habits: list[str], patterns: dict, habit: bool, ending_share: float, count, text: str, out: str) -> dict | None:
    """The answer's finding when it is cut off: broken JSON, an unclosed code block, or (where the set
    has the habit) no usual ending."""
    o = out.strip()
    fam = family(o)
    reason = None
    if fam == "broken json":
        depth = _open_brackets(unfenced(o))
        if depth:
            reason = ("broken_json", f"JSON cut off: {' '.join(depth)} left unclosed")
    elif o.startswith("```") and o.count("```") % 2:
        reason = ("unclosed", "code block opened and never closed")
    elif habit and fam in habits and not (_ends_well(o) or _has_line(o, patterns[fam])):
        tail = o[-30:].replace("\n", " ")
        said = f"'{patterns[fam]}' or final punctuation" if patterns[fam] else "final punctuation"
        reason = ("no_ending", f"ends without {said} ('...{tail}'), which {ending_share:.0%} of answers have")
    if reason is None:
        return None
    return {"kind": reason[0], "tokens": count(o), "message": reason[1]}


def _has_line(text: str, line: str | None) -> bool:
    """`line` (a final-line pattern) is one of the text's lines: its last, or an earlier one with more
    pasted after it (a signature under the sign-off: not cut off)."""
    return line is not None and any(final_line(ln) == line for ln in text.splitlines() if ln.strip())


def _ends_well(text: str) -> bool:
    return text.rstrip().endswith(ENDINGS)


def _open_brackets(text: str) -> list[str]:
    """Brackets (and a string) still open at the end of a JSON text, innermost last."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack and {"}": "{", "]": "["}[ch] == stack[-1]:
            stack.pop()
    return stack + (['"'] if in_string else [])
