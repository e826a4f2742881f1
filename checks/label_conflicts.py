"""The same (or nearly the same) input taught two different answers: the model learns inconsistency,
and at least one of the rows is wrong."""

from __future__ import annotations

from collections import Counter

from harness.similarity import jaccard
from harness.text import normalize_loose

from .base import Check, CheckResult, not_applicable, register


@register
class LabelConflicts(Check):
    name = "label_conflicts"
    order = 40
    key_figures = ('conflicting_groups', 'conflicting_rows')
    title = "Conflicting labels"
    why = "One input with two answers teaches the model to be inconsistent; at least one row is wrong."
    metrics = ("conflicting_groups", "conflicting_rows", "conflicting_rate")

    def run(self, data, params):
        rows = data.rows("train")
        if not rows:
            return not_applicable("no training rows")
        labels = data.labels["train"]
        outputs = data.normalized_output["train"]
        groups = [([rows[i].ref for i in members], [labels[i] for i in members], [outputs[i] for i in members], low)
                  for members, low, _high in data.components("train")]
        return self._result(groups, len(rows), data.label_source, data.policy, params)

    def run_spark(self, data, params):
        if not data.train.good_rows:
            return not_applicable("no training rows")
        comps = data.components("train")
        got = data.fetch("train", [i for members, _, _ in comps for i in members], ("line", "lab", "norm_out"))
        groups = [([{"split": "train", "line": got[i].line} for i in members], [got[i].lab for i in members],
                   [got[i].norm_out for i in members], low) for members, low, _high in comps]
        return self._result(groups, data.train.good_rows, data.label_source, data.policy, params)

    @staticmethod
    def _result(groups: list, n: int, label_source: str | None, policy: dict, params: dict) -> CheckResult:
        """groups: (refs, labels, normalised outputs, lowest similarity) per component."""
        ngram = int(policy["similarity"]["ngram"])
        threshold = float(params["output_similarity"])
        findings, conflicting = [], 0
        for refs, labels, outputs, low in groups:
            answers = labels if label_source is not None else _answer_groups(outputs, threshold, ngram)
            counts = Counter(answers)
            if len(counts) < 2:
                continue
            conflicting += len(refs)
            majority, top = counts.most_common(1)[0]
            tie = sum(1 for c in counts.values() if c == top) > 1
            what = (", ".join(f"{lab} x{c}" for lab, c in counts.most_common()) if label_source
                    else f"{len(counts)} materially different completions")
            finding = {"rows": refs, "similarity": round(low, 4),
                       "message": f"{len(refs)} {'identical' if low >= 1.0 else 'near-identical'} inputs, "
                                  f"answered {what}"}
            if label_source is not None:
                finding["labels"] = dict(counts)
                finding["row_labels"] = list(answers)
                finding["majority"] = None if tie else majority
            findings.append(finding)
        return CheckResult(summary={"rows": n, "conflicting_groups": len(findings), "conflicting_rows": conflicting,
                                    "conflicting_rate": conflicting / n if n else 0.0},
                           findings=findings,
                           info={"compared": "labels" if label_source else
                                 f"completions (different when Jaccard < {threshold})"})


def _answer_groups(outputs: list[str], threshold: float, ngram: int) -> list[int]:
    """Greedy grouping of completions: each joins the first group whose first member it resembles."""
    reps: list[str] = []
    out = []
    for text in outputs:
        loose = normalize_loose(text)
        for g, rep in enumerate(reps):
            if loose == rep or jaccard(loose, rep, ngram) >= threshold:
                out.append(g)
                break
        else:
            reps.append(loose)
            out.append(len(reps) - 1)
    return out
