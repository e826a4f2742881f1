"""A class with few examples is learned poorly and a label mix that differs between train and eval
makes eval scores misleading."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .base import HIGHER, LOWER, Answer, Chart, Check, CheckResult, Params, not_applicable, param, register


@register
class ClassBalance(Check):
    name = "class_balance"
    order = 100
    key_figures = ('classes', 'imbalance_ratio', 'label_shift_tvd')
    charts = (Chart("bars", "Label distribution (train)", "info.train", alt="label distribution", order=10,
                    largest_first=True),)
    answers = (Answer("task_defined"), Answer("per_class"))  # read from the label counts in info.train
    title = "Class balance and label shift"
    why = "Rare classes are learned poorly; a train/eval label shift makes the eval score misleading."
    metrics = {"imbalance_ratio": LOWER, "rarest_share": HIGHER, "rare_classes": LOWER, "label_shift_tvd": LOWER,
               "eval_labels_unseen_in_train": LOWER}

    @dataclass(frozen=True)
    class Params(Params):
        min_class_rows: int = param(10, ">=1", "a label with fewer training rows is a rare class")

    def run(self, data, params):
        if data.label_source is None:
            return not_applicable("no labels: the data is generative with free-form completions")
        ev = data.label_counts("eval") if data.eval is not None and data.row_count("eval") else None
        return self._result(data.label_counts("train"), ev, params, data.label_source)

    @staticmethod
    def _result(train: Counter, ev: Counter | None, params: ClassBalance.Params, label_source: str) -> CheckResult:
        n = sum(train.values())
        if n == 0:
            return not_applicable("no valid training rows")
        min_rows = params.min_class_rows
        most, least = max(train.values()), min(train.values())
        rarest = min(train, key=lambda c: (train[c], c))
        findings = []
        rare = sorted(c for c, k in train.items() if k < min_rows)
        for c in rare:
            findings.append({"rows": [], "kind": "rare_class", "label": c, "count": train[c],
                             "message": f"label {c!r} has only {train[c]} training rows (< {min_rows})"})
        summary = {"classes": len(train), "rows": n, "imbalance_ratio": round(most / least, 4),
                   "rarest_label": rarest, "rarest_share": round(least / n, 4), "rare_classes": len(rare),
                   "label_shift_tvd": 0.0, "eval_labels_unseen_in_train": 0}
        info = {"train": dict(sorted(train.items())), "label_source": label_source}
        if ev is not None:
            from scipy.stats import chi2_contingency

            m = sum(ev.values())
            labels = sorted(set(train) | set(ev))
            tvd = 0.5 * sum(abs(train[c] / n - ev[c] / m) for c in labels)
            unseen = sorted(c for c in ev if c not in train)
            for c in unseen:
                findings.append({"rows": [], "kind": "unseen_label", "label": c, "count": ev[c],
                                 "message": f"eval label {c!r} never occurs in train ({ev[c]} eval rows)"})
            table = [[train[c] for c in labels], [ev[c] for c in labels]]
            try:
                p_value = float(chi2_contingency(table)[1]) if len(labels) > 1 else 1.0
            except ValueError:
                p_value = None
            summary.update({"label_shift_tvd": round(tvd, 4), "label_shift_p_value": p_value,
                            "eval_labels_unseen_in_train": len(unseen)})
            info["eval"] = dict(sorted(ev.items()))
        return CheckResult(summary=summary, findings=findings, info=info)
