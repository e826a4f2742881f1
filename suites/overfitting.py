"""overfitting: did the adapter learn the task or the training rows?

- Generalisation gap: the tuned model's loss and task accuracy on training rows vs held-out rows (the
  base's gap beside it, as the reference for rows that are simply easier).
  Generative tasks: the gap of the task's headline figure (field F1 for JSON, chrF for free text) on
  the extraction rows' answers.
- Extraction (Carlini et al.): prompt with a training row's prompt, decode greedily, and count exact
  reproductions of its completion, against the same on held-out rows (a classifier's completion is a
  label: reproduced when the model ranks it first).
- Membership inference with the base as a free reference model: per-row loss ratio tuned/base; the
  AUC of telling training rows from held-out rows by it (0.5 = no signal, 1.0 = every training row
  identifiable). Train and held-out rows are different rows, so these intervals are unpaired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.comparing import stats
from harness.inputs.output_kinds import task_output_kind
from harness.core.params import Params, param

from .base import Context, Suite, SuiteResult, lower_is_better, metric, not_applicable, register
from .task import (HEADLINE, TASK_KEY, classification_scores, decoded, generate_both, generation_prompt,
                   headline_scores, row_losses, sample, task_params)


@dataclass(frozen=True)
class OverfittingParams(Params):
    max_items: int = param(100, ">=1", "training rows and held-out rows compared (a seeded sample of each)")
    extraction_items: int = param(64, ">=0", "rows a side whose completions are generated to test verbatim reproduction")


@register
class OverfittingSuite(Suite):
    name = "overfitting"
    order = 50
    title = "Overfitting and memorisation"
    why = "An adapter that memorised its rows leaks them and scores well only on what it has seen."
    version = 1
    metrics = lower_is_better("loss_gap", "accuracy_gap", "score_gap", "extraction_gap", "membership_auc")
    Params = OverfittingParams

    def run(self, ctx: Context, params: OverfittingParams) -> SuiteResult:
        n = params.max_items
        train, held = sample(ctx.train, n, ctx.seed), sample(ctx.eval, n, ctx.seed)
        if not train or not held:
            return not_applicable("needs training rows and held-out rows")
        out: dict[str, Any] = {}
        if ctx.form.labelled:
            # The answer's loss is minus its label's log-likelihood: the option scores give both the
            # losses and the accuracies from one pass.
            # Scored under the task suite's key: held-out rows the task suite already scored come from
            # the cache (the same items, the same scorer), not a second pass.
            st, sh = classification_scores(ctx, train, TASK_KEY), classification_scores(ctx, held, TASK_KEY)
            lt, lh = ({"rows": s["examples"],
                       **{side: np.asarray([-x[t] / k for x, t, k in zip(s[side], s["truth"], s["answer_tokens"])])
                          for side in ("base", "tuned")}} for s in (st, sh))
        else:
            lt, lh = row_losses(ctx, self.key, train), row_losses(ctx, self.key, held)
        gap = {side: stats.unpaired_mean_difference(lh[side], lt[side], seed=ctx.seed) for side in ("base", "tuned")}
        out["loss_gap"] = metric(gap["base"]["delta"], gap["tuned"]["delta"],
                                 gap["tuned"]["delta"] - gap["base"]["delta"], gap["tuned"]["interval"], None,
                                 gap["tuned"]["n"], interval_of="tuned", higher_is_better=False,
                                 train_loss=float(lt["tuned"].mean()), heldout_loss=float(lh["tuned"].mean()))
        # Membership: how much lower the tuned loss is than the base's on a row; members should drop more.
        score_t = np.log(lt["base"] + 1e-9) - np.log(lt["tuned"] + 1e-9)
        score_h = np.log(lh["base"] + 1e-9) - np.log(lh["tuned"] + 1e-9)
        a = stats.auc(score_t, score_h)
        out["membership_auc"] = metric(0.5, a, None if a is None else a - 0.5,
                                       stats.auc_interval(score_t, score_h, seed=ctx.seed), None,
                                       [len(score_t), len(score_h)], interval_of="tuned", higher_is_better=False)
        if ctx.form.labelled:
            acc = {}
            for side in ("base", "tuned"):
                ok_t = [int(np.argmax(x)) == y for x, y in zip(st[side], st["truth"])]
                ok_h = [int(np.argmax(x)) == y for x, y in zip(sh[side], sh["truth"])]
                acc[side] = stats.unpaired_mean_difference(ok_t, ok_h, seed=ctx.seed)
            out["accuracy_gap"] = metric(acc["base"]["delta"], acc["tuned"]["delta"],
                                         acc["tuned"]["delta"] - acc["base"]["delta"], acc["tuned"]["interval"], None,
                                         acc["tuned"]["n"], interval_of="tuned", higher_is_better=False)
        m = params.extraction_items
        if ctx.form.whole_text:  # no completion to reproduce: the loss gap and membership above say it
            return SuiteResult(metrics=out, info={"train_rows": len(train), "heldout_rows": len(held),
                                                  "extraction": "not measured: language-modelling rows have no completion"},
                               rows=self._listed(score_t, lt))
        if ctx.form.labelled:
            # A classifier's completion is a label: it reproduces a row's completion when it ranks that
            # label first, read from the option scores above (greedy decoding would cost a generation
            # per row and side for the same answer).
            ext_t, ext_h = ({side: [int(int(np.argmax(x)) == y) for x, y in zip(s[side][:m], s["truth"][:m])]
                             for side in ("base", "tuned")} for s in (st, sh))
        else:
            (ext_t, score_tr), (ext_h, score_he) = self._extraction(ctx, train[:m]), self._extraction(ctx, held[:m])
            # A generative task's own figure (field F1 for JSON, chrF for free text) on the same answers:
            # how much better the tuned model does the task on rows it saw than on rows it did not.
            gap = {side: stats.unpaired_mean_difference(score_tr[side], score_he[side], seed=ctx.seed)
                   for side in ("base", "tuned")}
            out["score_gap"] = metric(gap["base"]["delta"], gap["tuned"]["delta"],
                                      None if gap["tuned"]["delta"] is None else gap["tuned"]["delta"] - gap["base"]["delta"],
                                      gap["tuned"]["interval"], None, gap["tuned"]["n"], interval_of="tuned",
                                      higher_is_better=False, score=score_tr["name"],
                                      train_score=float(np.mean(score_tr["tuned"])),
                                      heldout_score=float(np.mean(score_he["tuned"])))
        e = stats.unpaired_mean_difference(ext_t["tuned"], ext_h["tuned"], seed=ctx.seed)
        eb = stats.unpaired_mean_difference(ext_t["base"], ext_h["base"], seed=ctx.seed)
        out["extraction_gap"] = metric(eb["delta"], e["delta"], None if e["delta"] is None else e["delta"] - eb["delta"],
                                       e["interval"], None, e["n"], interval_of="tuned", higher_is_better=False,
                                       train_rate=float(np.mean(ext_t["tuned"])), heldout_rate=float(np.mean(ext_h["tuned"])))
        return SuiteResult(metrics=out, info={"train_rows": len(train), "heldout_rows": len(held),
                                              "extraction_rows": [len(ext_t["tuned"]), len(ext_h["tuned"])]},
                           rows=self._listed(score_t, lt))

    @staticmethod
    def _listed(score_t: np.ndarray, lt: dict[str, Any]) -> list[dict[str, Any]]:
        """The training rows the tuned model finds most familiar against the base: memorised first."""
        ratio_rows = sorted(zip(score_t.tolist(), lt["rows"]), key=lambda r: -r[0])
        return [{"split": ex.split, "line": ex.line, "log_loss_ratio": round(s, 4)} for s, ex in ratio_rows[:20]]

    def _extraction(self, ctx: Context, rows: list) -> tuple[dict[str, list[int]], dict[str, Any]]:
        """Per side, whether the greedy answer reproduces the row's completion verbatim (whitespace and
        case folded), and the task's headline score of the same answers against it."""
        tok = ctx.pair.tokenizer
        refs = [ex.output or "" for ex in rows]
        if not rows:
            return {"base": [], "tuned": []}, {"name": None, "base": [], "tuned": []}
        longest = max(len(tok(r, add_special_tokens=False)["input_ids"]) for r in refs)
        gen = generate_both(ctx, self.key, [generation_prompt(ctx, ex) for ex in rows], longest + 4)
        text = {side: decoded(tok, gen[side]) for side in gen}
        norm = lambda s: " ".join(s.split()).casefold()
        kind = task_output_kind(refs)
        scores = {side: headline_scores(kind, text[side], refs, task_params(ctx).final_answer_pattern).astype(float).tolist() for side in text}
        return ({side: [int(norm(t) == norm(r)) for t, r in zip(text[side], refs)] for side in text},
                {"name": HEADLINE[kind], **scores})
