"""Rows that fail validation (missing fields, wrong types, empty text, unknown labels, broken chats) are
left out of every other check; this check is where they surface, each with its line and reason."""

from __future__ import annotations

from .base import Check, CheckResult, lower_is_better, register


@register
class Schema(Check):
    name = "schema"
    removes = "all"
    order = 10
    key_figures = ('bad_rows', 'rows')
    title = "Schema and row validation"
    why = "Rows the trainer cannot use, or would use wrongly, should be fixed before anything else."
    metrics = lower_is_better("bad_rows", "bad_rate")

    def run(self, data, params):
        findings, total, bad = [], 0, 0
        for split in data.splits:
            table = data.train if split == "train" else data.eval
            total += table.total_rows
            bad += len(table.bad_rows)
            findings += [{"rows": [{"split": split, "line": r["line"]}], "message": r["reason"]}
                         for r in table.bad_rows]
        return CheckResult(summary={"rows": total, "bad_rows": bad, "bad_rate": bad / total if total else 0.0,
                                    "shape": data.shape},
                           findings=findings)
