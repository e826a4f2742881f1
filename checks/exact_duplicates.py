"""Exact duplicates overweight their examples: the model sees them k times per epoch. Compared after
NFKC, case folding and whitespace collapsing; no word is ever dropped."""

from __future__ import annotations

from .base import Check, CheckResult, lower_is_better, register


@register
class ExactDuplicates(Check):
    name = "exact_duplicates"
    removes = "all_but_first"
    order = 20
    key_figures = ('duplicate_rows', 'groups')
    title = "Exact duplicates"
    why = "Each copy is one more gradient step on the same example: it overweights it and invites memorisation."
    metrics = lower_is_better("duplicate_rows", "duplicate_rate", "duplicate_pair_rows", "groups")

    def run(self, data, params):
        return self._result(data.exact_groups("train"), data.row_count("train"))

    @staticmethod
    def _result(groups: list[list[tuple[dict, object]]], n: int) -> CheckResult:
        """groups: each duplicate group's rows as (ref, output), in order of first occurrence."""
        findings, dup_rows, pair_rows = [], 0, 0
        for members in groups:
            by_output: dict = {}
            for ref, output in members:
                by_output.setdefault(output, []).append(ref)
            identical = len(by_output) == 1
            dup_rows += len(members) - 1
            pair_rows += sum(len(m) - 1 for m in by_output.values())
            findings.append({
                "rows": [ref for ref, _ in members],
                "kind": "pair" if identical else "input",
                "similarity": 1.0,
                "message": (f"{len(members)} rows with the same input and the same output" if identical else
                            f"{len(members)} rows with the same input but {len(by_output)} different outputs"),
            })
        return CheckResult(summary={"rows": n, "groups": len(findings), "duplicate_rows": dup_rows,
                                    "duplicate_rate": dup_rows / n if n else 0.0, "duplicate_pair_rows": pair_rows},
                           findings=findings,
                           info={"normalisation": "NFKC, casefold, whitespace collapsed; words kept"})
