"""Answers cut off mid-way (an export that stopped at a length limit, a JSON object missing its closing
brace, a sentence ending in "and the") teach the model to stop mid-thought. Judged against the set's
own habits: a missing full stop is a finding only where nearly every answer has one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from harness.inputs.output_kinds import family, final_line, final_line_pattern, unfenced

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

    def judge(self, rows: list[tuple[dict, str, str]], params: Truncation.Params, count=None) -> CheckResult:
        n = len(rows)
        usual = params.usual_share
        outs = [out.strip() for _, _, out in rows]
        fams = [family(o) for o in outs]
        # The set's habit, per format family (prose, lists): answers end in punctuation, or in a final
        # line most of them share. A family too rare to have a habit (a few bullet lists among prose
        # replies) is output_format's finding, not a cut-off.
        min_family = params.min_family_rows
        by_family = {f: [i for i, g in enumerate(fams) if g == f] for f in ("prose", "list")}
        prose = {i for members in by_family.values() if len(members) >= min_family for i in members}
        patterns = {f: final_line_pattern([outs[i] for i in members], usual)[0] for f, members in by_family.items()}
        pattern = patterns["prose"] or patterns["list"]
        proper = {i for i in prose if _ends_well(outs[i]) or _has_line(outs[i], patterns[fams[i]])}
        ending_share = len(proper) / len(prose) if prose else 1.0
        findings, kinds = [], Counter()
        lengths = Counter()
        for i, o in enumerate(outs):
            reason = None
            if fams[i] == "broken json":
                depth = _open_brackets(unfenced(o))
                if depth:
                    reason = ("broken_json", f"JSON cut off: {depth} unclosed bracket{'s' * (len(depth) > 1)} ({''.join(depth)})")
            elif o.startswith("```") and o.count("```") % 2:
                reason = ("unclosed", "code block opened and never closed")
            elif i in prose and i not in proper and ending_share >= usual:
                tail = o[-30:].replace("\n", " ")
                habit = f"'{patterns[fams[i]]}' or final punctuation" if patterns[fams[i]] else "final punctuation"
                reason = ("no_ending", f"ends without {habit} ('...{tail}'), which {ending_share:.0%} of answers have")
            if reason:
                kinds[reason[0]] += 1
                tokens = count(o)
                lengths[tokens] += 1
                findings.append({"rows": [rows[i][0]], "kind": reason[0], "tokens": tokens, "message": reason[1]})
        # Several cut answers of exactly one length: an export or generation limit.
        limit, at = (lengths.most_common(1)[0] if lengths else (0, 0))
        if at >= params.min_rows_at_limit:
            for f in findings:
                if f["tokens"] == limit:
                    f["message"] += f"; {at} cut answers are exactly {limit} tokens long (a length limit?)"
        return CheckResult(
            summary={"outputs": n, "truncated_rows": len(findings), "truncated_rate": len(findings) / n,
                     "broken_json_rows": kinds["broken_json"], "unclosed_rows": kinds["unclosed"],
                     "no_ending_rows": kinds["no_ending"], "usual_ending_share": round(ending_share, 4)},
            findings=findings[:params.max_findings],
            info={"final_line": pattern, "prose_rows": len(prose), "length_limit": limit if at >= params.min_rows_at_limit else None,
                  **unlisted_rows(findings, params.max_findings)})


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
