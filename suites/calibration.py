"""calibration: can the tuned model's confidence be trusted? Fine-tuning often makes a model right more
often but overconfident when wrong, and downstream thresholds ("auto-route tickets above 0.9") break.

Label probabilities are the softmax over the labels' log-likelihoods on held-out rows (the same scores
as the task suite, read from the cache). ECE uses 15 equal-width bins (Guo et al. 2017); it is biased at
small n, so the gate tests the change, with a paired bootstrap interval; the Brier score sits beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.comparing import stats
from harness.core.params import Params, param

from .base import LOWER, Answer, Chart, Context, Suite, SuiteResult, metric, not_applicable, register
from .task import TaskSuite, classification_scores, softmax, task_rows


@dataclass(frozen=True)
class CalibrationParams(Params):
    bins: int = param(15, ">=2", "equal-width confidence bins of the expected calibration error")
    confident: float = param(0.8, "0..1", "a wrong answer at or above this confidence is listed")
    max_rows_listed: int = param(50, ">=0", "confidently wrong rows listed in the results")


@register
class CalibrationSuite(Suite):
    name = "calibration"
    order = 40
    charts = (Chart("reliability", "Reliability diagram", "info.reliability", alt="reliability diagram", order=20),)
    answers = (Answer("confident_wrong"),)  # read from info.confident_wrong and info.confident_threshold
    title = "Calibration"
    why = "Overconfident wrong answers break every threshold built on the model's confidence."
    version = 1
    metrics = {"ece": LOWER, "brier": LOWER}
    Params = CalibrationParams

    def run(self, ctx: Context, params: CalibrationParams) -> SuiteResult:
        if not ctx.form.labelled:
            return not_applicable("calibration needs label probabilities (classification rows)")
        rows = task_rows(ctx)  # the task suite's rows and cached scores, whether or not it ran first
        if not rows:
            return not_applicable("no held-out rows (give --eval)")
        s = classification_scores(ctx, rows, TaskSuite().key)
        truth = np.asarray(s["truth"])
        probs = {side: np.asarray([softmax(x) for x in s[side]]) for side in ("base", "tuned")}
        conf = {side: probs[side].max(axis=1) for side in probs}
        ok = {side: probs[side].argmax(axis=1) == truth for side in probs}
        bins = params.bins
        e = stats.paired_stat_delta(
            lambda idx: stats.ece(conf["tuned"][idx], ok["tuned"][idx], bins) - stats.ece(conf["base"][idx], ok["base"][idx], bins),
            len(truth), seed=ctx.seed, n_boot=1000, base=lambda idx: stats.ece(conf["base"][idx], ok["base"][idx], bins))
        b = stats.paired_mean_delta(stats.brier(probs["base"], truth), stats.brier(probs["tuned"], truth), seed=ctx.seed)
        threshold = params.confident
        wrong = [{"split": ex.split, "line": ex.line, "label": ex.label,
                  "predicted": ctx.labels[int(probs["tuned"][i].argmax())], "confidence": round(float(conf["tuned"][i]), 4)}
                 for i, ex in enumerate(s["examples"]) if not ok["tuned"][i] and conf["tuned"][i] >= threshold]
        wrong.sort(key=lambda r: -r["confidence"])
        return SuiteResult(
            metrics={"ece": metric(e.get("base"), e.get("tuned"), e["delta"], e["interval"], None, e["n"],
                                   interval_of="delta", higher_is_better=False, bins=bins),
                     "brier": metric(b["base"], b["tuned"], b["delta"], b["interval"], None, b["n"],
                                     interval_of="delta", higher_is_better=False)},
            info={"confident_threshold": threshold, "confident_wrong": len(wrong),
                  "reliability": {side: stats.reliability(conf[side], ok[side], bins) for side in conf},
                  "mean_confidence": {side: float(conf[side].mean()) for side in conf}},
            rows=wrong[: params.max_rows_listed])
