"""task: did the fine-tune do what it was for? Held-out task metrics of base and tuned on the same rows.

Classification rows are scored the way the trainer taught them (the training prompt template and chat
template): each label's log-likelihood as the answer, argmax. Generative rows are decoded greedily and
compared with the reference (exact match; JSON validity and field-level F1 when the references are
JSON objects). Metrics are offline `evaluate` modules (suites/metrics/); users may add their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness import stats
from harness.render import prompt_messages
from harness.scoring import pad_token_id, greedy_generate, option_tokens, score_items

from . import metric_modules
from .base import Context, Suite, metric, not_applicable, register


def softmax(scores: list[float]) -> list[float]:
    x = np.asarray(scores, float)
    e = np.exp(x - x.max())
    return (e / e.sum()).tolist()


def classification_scores(ctx: Context, rows: list, suite_key: str) -> dict[str, Any]:
    """Label log-likelihoods of base and tuned on `rows` (through the cache), with the truth index."""
    tok = ctx.pair.tokenizer
    kept, items = [], []
    for ex in rows:
        if ex.label not in ctx.labels:
            continue
        prompt = prompt_messages(ex, ctx.shape, ctx.prompt_template, ctx.labels, ctx.system)
        items.append(option_tokens(tok, prompt, ctx.labels, ctx.max_seq_len * 4))
        kept.append(ex)
    pad = pad_token_id(tok)
    scores = ctx.pair.both(suite_key, "label_logprobs", items, items,
                           lambda model, its: score_items(model, its, pad))
    truth = [ctx.labels.index(ex.label) for ex in kept]
    return {"examples": kept, "truth": truth, "base": scores["base"], "tuned": scores["tuned"],
            "answer_tokens": [sum(items[i][2][t]) for i, t in enumerate(truth)]}


def chat_prompt_ids(ctx: Context, msgs: list[dict[str, str]], limit: int | None = None) -> list[int]:
    """Token ids of messages up to the assistant's turn, the start cut to `limit` (max_seq_len)."""
    text = ctx.pair.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    return ctx.pair.tokenizer(text, add_special_tokens=False)["input_ids"][-(limit or ctx.max_seq_len):]


def generation_prompt(ctx: Context, ex) -> list[int]:
    return chat_prompt_ids(ctx, prompt_messages(ex, ctx.shape, ctx.prompt_template, ctx.labels, ctx.system))


def generate_both(ctx: Context, suite_key: str, prompts: list[list[int]], max_new_tokens: int) -> dict[str, list]:
    tok = ctx.pair.tokenizer
    return ctx.pair.both(suite_key, "greedy", prompts, [[p, max_new_tokens] for p in prompts],
                         lambda model, ps: greedy_generate(model, tok, ps, max_new_tokens))


def sample(rows: list, n: int, seed: int) -> list:
    if len(rows) <= n:
        return list(rows)
    pick = sorted(np.random.default_rng(seed).choice(len(rows), size=n, replace=False).tolist())
    return [rows[i] for i in pick]


def task_rows(ctx: Context) -> list:
    """The held-out rows the task suite scores (the same seeded sample under the task suite's own
    parameters), so suites that extend it (baselines, slices) are paired with it row for row."""
    if "task_rows" not in ctx.shared:
        ctx.shared["task_rows"] = sample(ctx.eval, int(ctx.task_params.get("max_items", 500)), ctx.seed)
    return ctx.shared["task_rows"]


def max_new_tokens(ctx: Context, refs: list[str]) -> int:
    """Room for the longest reference and a little more, capped by the task's max_new_tokens."""
    longest = max(len(ctx.pair.tokenizer(r, add_special_tokens=False)["input_ids"]) for r in refs)
    return min(int(ctx.task_params.get("max_new_tokens", 128)), longest + 8)


def exact_match(tok, generated: list[list[int]], refs: list[str]) -> np.ndarray:
    em = metric_modules.module_file("exact_match")
    return np.asarray([em.normalize_answer(tok.decode(g, skip_special_tokens=True).strip()) == em.normalize_answer(r)
                       for g, r in zip(generated, refs)])


def correctness(ctx: Context, rows: list) -> dict[str, Any]:
    """Per row, whether base and tuned got the task right (the task suite's metric, from its cache):
    classification by label log-likelihood, generative by exact match of the greedy answer."""
    key = TASK_KEY
    if ctx.shape == "classification":
        s = classification_scores(ctx, rows, key)
        truth = np.asarray(s["truth"])
        ok = {side: np.asarray([int(np.argmax(x)) for x in s[side]]) == truth for side in ("base", "tuned")}
        return {"examples": s["examples"], "metric": "accuracy", **ok}
    refs = [ex.output or "" for ex in rows]
    gen = generate_both(ctx, key, [generation_prompt(ctx, ex) for ex in rows], max_new_tokens(ctx, refs))
    return {"examples": list(rows), "metric": "exact_match",
            **{side: exact_match(ctx.pair.tokenizer, gen[side], refs) for side in gen}}


def _paired_accuracy(base_ok: np.ndarray, tuned_ok: np.ndarray, seed: int) -> dict[str, Any]:
    m = stats.paired_mean_delta(base_ok, tuned_ok, seed=seed)
    r2w = int((base_ok & ~tuned_ok).sum())
    w2r = int((~base_ok & tuned_ok).sum())
    return metric(m["base"], m["tuned"], m["delta"], m["interval"], stats.mcnemar_exact(r2w, w2r), m["n"],
                  interval_of="delta", right_to_wrong=r2w, wrong_to_right=w2r, higher_is_better=True)


@register
class TaskSuite(Suite):
    name = "task"
    order = 10
    title = "Task gain"
    why = "An adapter is only worth deploying if it beats its base on the held-out task it was trained for."
    version = 1
    metrics = ("accuracy", "macro_f1", "exact_match", "json_validity", "field_f1")

    def run(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        ctx.task_params = {**ctx.task_params, **params}
        rows = task_rows(ctx)
        if not rows:
            return not_applicable("no held-out rows (give --eval)")
        if ctx.shape == "classification":
            return self._classification(ctx, rows, params)
        return self._generative(ctx, rows, params)

    def _classification(self, ctx: Context, rows: list, params: dict[str, Any]) -> dict[str, Any]:
        s = classification_scores(ctx, rows, self.key)
        truth = np.asarray(s["truth"])
        pred = {side: np.asarray([int(np.argmax(x)) for x in s[side]]) for side in ("base", "tuned")}
        ok = {side: pred[side] == truth for side in pred}
        out = {"accuracy": _paired_accuracy(ok["base"], ok["tuned"], ctx.seed)}
        k = len(ctx.labels)
        f1 = stats.paired_stat_delta(
            lambda idx: stats.macro_f1(pred["tuned"][idx], truth[idx], k) - stats.macro_f1(pred["base"][idx], truth[idx], k),
            len(truth), seed=ctx.seed, n_boot=1000, base=lambda idx: stats.macro_f1(pred["base"][idx], truth[idx], k))
        out["macro_f1"] = metric(f1.get("base"), f1.get("tuned"), f1["delta"], f1["interval"], None, f1["n"],
                                 interval_of="delta", higher_is_better=True)
        evaluated = self._evaluate_modules(params.get("metrics") or ["accuracy", "macro_f1"],
                                           {sd: pred[sd].tolist() for sd in pred}, truth.tolist())
        flips = [{"split": ex.split, "line": ex.line, "label": ex.label,
                  "base": ctx.labels[pred["base"][i]], "tuned": ctx.labels[pred["tuned"][i]]}
                 for i, ex in enumerate(s["examples"]) if ok["base"][i] != ok["tuned"][i]]
        return {"metrics": out, "info": {"shape": "classification", "labels": ctx.labels, "evaluate": evaluated,
                                         "chance": 1 / k},
                "rows": flips[: int(params.get("max_rows_listed", 50))]}

    def _generative(self, ctx: Context, rows: list, params: dict[str, Any]) -> dict[str, Any]:
        tok = ctx.pair.tokenizer
        refs = [ex.output or "" for ex in rows]
        max_new = max_new_tokens(ctx, refs)
        gen = generate_both(ctx, self.key, [generation_prompt(ctx, ex) for ex in rows], max_new)
        text = {side: [tok.decode(g, skip_special_tokens=True).strip() for g in gen[side]] for side in gen}
        ok = {side: exact_match(tok, gen[side], refs) for side in gen}
        out = {"exact_match": _paired_accuracy(ok["base"], ok["tuned"], ctx.seed)}
        names = list(params.get("metrics") or ["exact_match"])
        json_mod = metric_modules.module_file("json_validity")
        if sum(json_mod.parse_object(r) is not None for r in refs) >= 0.8 * len(refs):
            valid = {side: np.asarray([json_mod.parse_object(p) is not None for p in text[side]]) for side in text}
            out["json_validity"] = _paired_accuracy(valid["base"], valid["tuned"], ctx.seed)
            f1_mod = metric_modules.module_file("field_f1")
            per = {side: [f1_mod.row_f1(p, r) for p, r in zip(text[side], refs)] for side in text}
            keep = [i for i, v in enumerate(per["base"]) if v is not None]
            m = stats.paired_mean_delta([per["base"][i] for i in keep], [per["tuned"][i] for i in keep], seed=ctx.seed)
            out["field_f1"] = metric(m["base"], m["tuned"], m["delta"], m["interval"], None, m["n"],
                                     interval_of="delta", higher_is_better=True)
            names += [n for n in ("json_validity", "field_f1") if n not in names]
        evaluated = self._evaluate_modules(names, text, refs)
        changed = [{"split": ex.split, "line": ex.line, "reference": refs[i][:200], "base": text["base"][i][:200],
                    "tuned": text["tuned"][i][:200]} for i, ex in enumerate(rows) if ok["base"][i] != ok["tuned"][i]]
        return {"metrics": out, "info": {"shape": ctx.shape, "max_new_tokens": max_new, "evaluate": evaluated},
                "rows": changed[: int(params.get("max_rows_listed", 50))]}

    @staticmethod
    def _evaluate_modules(names: list[str], predictions: dict[str, list], references: list) -> dict[str, Any]:
        """Each named evaluate module on both sides (the headline figures a user's metric adds)."""
        return {name: {side: metric_modules.compute(name, predictions[side], references) for side in predictions}
                for name in names}


# The cache key of the task suite's scores: suites that reuse them (baselines, slices, calibration,
# overfitting) score under it, so the same item is never scored twice in one compare.
TASK_KEY = f"{TaskSuite.name}:{TaskSuite.version}"
