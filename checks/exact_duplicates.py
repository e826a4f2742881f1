"""Exact duplicates overweight their examples: the model sees them k times per epoch. Compared after
NFKC, case folding and whitespace collapsing; no word is ever dropped."""

from __future__ import annotations

from .base import Check, CheckResult, register


@register
class ExactDuplicates(Check):
    name = "exact_duplicates"
    title = "Exact duplicates"
    why = "Each copy is one more gradient step on the same example: it overweights it and invites memorisation."
    metrics = ("duplicate_rows", "duplicate_rate", "duplicate_pair_rows", "groups")

    def run(self, data, params):
        rows = data.rows("train")
        keys = data.normalized["train"]
        outputs = data.labels["train"] if data.label_source == "label" else data.normalized_output["train"]
        groups: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            groups.setdefault(key, []).append(i)
        findings, dup_rows, pair_rows = [], 0, 0
        for members in groups.values():
            if len(members) < 2:
                continue
            by_output: dict = {}
            for i in members:
                by_output.setdefault(outputs[i], []).append(i)
            identical = len(by_output) == 1
            dup_rows += len(members) - 1
            pair_rows += sum(len(m) - 1 for m in by_output.values())
            findings.append({
                "rows": [rows[i].ref for i in members],
                "kind": "pair" if identical else "input",
                "similarity": 1.0,
                "message": (f"{len(members)} rows with the same input and the same output" if identical else
                            f"{len(members)} rows with the same input but {len(by_output)} different outputs"),
            })
        n = len(rows)
        return CheckResult(summary={"rows": n, "groups": len(findings), "duplicate_rows": dup_rows,
                                    "duplicate_rate": dup_rows / n if n else 0.0, "duplicate_pair_rows": pair_rows},
                           findings=findings,
                           info={"normalisation": "NFKC, casefold, whitespace collapsed; words kept"})
