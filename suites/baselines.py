"""baselines: was fine-tuning worth it? The tuned adapter against the base model prompted well.

A team should fine-tune only when prompting cannot do the job. This suite scores, on exactly the task
suite's held-out rows and metric, the base model zero-shot, with k training rows as examples in the
prompt (stratified by label, fixed seed), and with the k training rows most similar to each row
(TF-IDF retrieval), and pairs each with the tuned adapter (zero-shot, as it is deployed). It also counts
what each way costs: prompt tokens per request, since fine-tuning can buy a shorter prompt.

Retrieval never hands the model its own answer: a training row that is the held-out row itself, an
exact or near duplicate of it (the audit's similarity: character 5-gram Jaccard), or contains it, is
never retrieved; the fixed few-shot examples avoid every scored row's duplicates the same way.
Baselines need the base only: the one loaded model, adapter switched off, no second load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.inputs.output_kinds import task_output_kind
from harness.model.render import prompt_messages, to_messages
from harness.model.scoring import pad_token_id, greedy_generate, option_tokens, score_items
from harness.core.text import normalize, normalize_loose
from harness.core.params import Params, param

from .base import HIGHER, Answer, Context, Suite, SuiteResult, not_applicable, register
from .task import (chat_prompt_ids, correctness, decoded, generation_prompt, headline_scores, max_new_tokens,
                   paired_figure, plain_score, task_params, task_rows)

METHODS = ("zero_shot", "few_shot", "retrieval")


def stratified_shots(train: list, k: int, seed: int, banned: set[int]) -> list[int]:
    """k training row indices, allotted to labels in proportion to their counts (largest remainder;
    every label before any gets a second when k >= labels), seeded; rows in `banned` never chosen."""
    rng = np.random.default_rng(seed)
    pool = [i for i in range(len(train)) if i not in banned]
    if k <= 0 or not pool:
        return []
    by_label: dict[Any, list[int]] = {}
    for i in pool:
        by_label.setdefault(train[i].label, []).append(i)
    labels = sorted(by_label, key=lambda x: (str(x)))
    if len(labels) == 1 or labels == [None]:
        return sorted(rng.choice(pool, size=min(k, len(pool)), replace=False).tolist())
    counts = np.asarray([len(by_label[lab]) for lab in labels], float)
    share = counts / counts.sum() * k
    take = np.floor(share).astype(int)
    if k >= len(labels):
        take = np.maximum(take, 1)
    order = sorted(range(len(labels)), key=lambda j: (-(share[j] - np.floor(share[j])), rng.random()))
    for j in order:
        if take.sum() >= k:
            break
        if take[j] == np.floor(share[j]):
            take[j] += 1
    while take.sum() > k:  # the floor of one per label can overshoot: trim the largest allotments
        take[int(np.argmax(take))] -= 1
    picked = []
    for j, lab in enumerate(labels):
        rows = by_label[lab]
        picked += rng.choice(rows, size=min(int(take[j]), len(rows)), replace=False).tolist()
    # Interleave labels (a seeded order): a prompt whose last examples all share a label biases the answer.
    rng.shuffle(picked)
    return [int(i) for i in picked]


def duplicates_of(queries: list[str], train: list[str], threshold: float) -> list[set[int]]:
    """For each query, the training rows that are it, its exact or near duplicates, or contain it."""
    from harness.auditing.similarity import similar_pairs

    q_keys = [normalize(t) for t in queries]
    t_keys = [normalize(t) for t in train]
    out = [{j for j, key in enumerate(t_keys) if key == qk or (len(qk) >= 20 and qk in key)} for qk in q_keys]
    texts = [normalize_loose(t) for t in queries] + [normalize_loose(t) for t in train]
    if texts:
        found = similar_pairs(texts, threshold)
        nq = len(queries)
        for i, j in found.pairs.tolist():
            if i < nq <= j:
                out[i].add(j - nq)
    return out


def retrieve(queries: list[str], train: list[str], k: int, banned: list[set[int]]) -> list[list[int]]:
    """The k training rows most similar to each query by TF-IDF cosine (word 1-2 grams, sublinear tf),
    most similar last (nearest the question), never a banned row. scikit-learn's vectoriser: BM25 was
    not better on short support messages and would be code of our own."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not train or k <= 0:
        return [[] for _ in queries]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1).fit(train + queries)
    sims = (vec.transform(queries) @ vec.transform(train).T).toarray()
    out = []
    for i, row in enumerate(sims):
        order = [int(j) for j in np.argsort(-row, kind="stable") if int(j) not in banned[i]][:k]
        out.append(order[::-1])
    return out


def shot_messages(ctx: Context, shots: list) -> list[dict[str, str]]:
    """Training rows as earlier turns of the conversation: the prompt the model saw in training, then
    the answer. System turns of the examples are dropped (the prompt keeps one, the task's own)."""
    msgs: list[dict[str, str]] = []
    for ex in shots:
        msgs += [m for m in to_messages(ex, ctx.shape, ctx.prompt_template, ctx.labels, None) if m["role"] != "system"]
    return msgs


def with_shots(ctx: Context, ex, shots: list) -> list[dict[str, str]]:
    query = prompt_messages(ex, ctx.shape, ctx.prompt_template, ctx.labels, ctx.system)
    head = [m for m in query if m["role"] == "system"]
    return head + shot_messages(ctx, shots) + [m for m in query if m["role"] != "system"]


def worth_it(table: list[dict[str, Any]], best: dict[str, Any] | None, metric_name: str) -> dict[str, Any]:
    """The answer in one sentence, and its parts for a gate or a reader."""
    if best is None or best.get("interval") is None:
        return {"beats_best_baseline": None, "sentence": "No prompting baseline could be scored."}
    lo, hi = best["interval"]
    tuned = next(r for r in table if r["method"] == "tuned")
    base = next(r for r in table if r["method"] == best["method"])
    cost = (f" Prompt tokens per request: {tuned['prompt_tokens']:.0f} tuned vs {base['prompt_tokens']:.0f} for "
            f"{best['method'].replace('_', '-')}.")
    fig = f"{best['delta']:+.3f} {metric_name} (95% interval {lo:+.3f} to {hi:+.3f}, n={best['n']})"
    if lo > 0:
        sentence = (f"The adapter beats the best prompting baseline ({best['method'].replace('_', '-')} base, "
                    f"{best['base']:.3f}) by {fig}: fine-tuning paid off on this task.")
        verdict = True
    elif hi < 0:
        sentence = (f"The adapter is worse than the best prompting baseline ({best['method'].replace('_', '-')} base, "
                    f"{best['base']:.3f}) by {fig}: fine-tuning was not needed for this task.")
        verdict = False
    else:
        sentence = (f"The adapter does not clearly beat the best prompting baseline ({best['method'].replace('_', '-')} "
                    f"base, {best['base']:.3f}): {fig}. Fine-tuning was not shown to be needed for this task.")
        verdict = False
    return {"beats_best_baseline": verdict, "best_baseline": best["method"], "delta": best["delta"],
            "interval": best["interval"], "sentence": sentence + cost}


@dataclass(frozen=True)
class BaselinesParams(Params):
    k: int = param(5, ">=0", "examples in the few-shot and the retrieval prompts")
    max_prompt_tokens: int = param(2048, ">=1", "a prompt longer than this drops examples (counted in the results)")
    exclude_similarity: float = param(0.6, "0..1", "a training row this similar to the query is never its example (no answer leaks in)")
    max_items: int | None = param(50, ">=1", "a label-stratified sample of the task rows (null: all of them); 50 resolve a gap to about +-0.12")
    max_rows_listed: int = param(50, ">=0", "rows listed where a baseline beats the adapter")


@register
class BaselinesSuite(Suite):
    name = "baselines"
    order = 20
    answers = (Answer("beats_prompting"),)  # read from info.worth_it
    feeds = ("worth_it",)
    title = "Was fine-tuning worth it?"
    why = ("Prompting the base with examples, or with retrieved similar examples, may do the job without a "
           "fine-tune; the adapter must be compared with the base used well, not only zero-shot.")
    version = 1
    metrics = dict.fromkeys(("accuracy", "exact_match", "field_f1", "final_answer", "chrf"), HIGHER)
    Params = BaselinesParams

    def run(self, ctx: Context, params: BaselinesParams) -> SuiteResult:
        if (ctx.form.whole_text or ctx.form.paired):
            return not_applicable(f"{ctx.shape} rows have no answer a prompted base could give instead")
        rows = task_rows(ctx)
        sampled = None
        if params.max_items and len(rows) > params.max_items:
            # A seeded, label-stratified subset of the task's rows (so still paired with the tuned side's
            # task scores): the few-shot and retrieval prompts are ~5x a zero-shot one, the costliest
            # scoring of a compare; 50 rows resolve a baseline's gap to the adapter to about +-0.12.
            n = params.max_items
            pick = sorted(stratified_shots(rows, n, ctx.seed, set()))
            sampled = {"rows": len(pick), "of": len(rows),
                       "how": f"a label-stratified sample of {len(pick)} of the {len(rows)} task rows (seed {ctx.seed})"}
            rows = [rows[i] for i in pick]
        if not rows:
            return not_applicable("no held-out rows (give --eval)")
        if not ctx.train:
            return not_applicable("no training rows to take examples from (give --train)")
        k, max_prompt, threshold = params.k, params.max_prompt_tokens, params.exclude_similarity
        queries = [ex.input for ex in rows]
        banned = duplicates_of(queries, [ex.input for ex in ctx.train], threshold)
        fixed = stratified_shots(ctx.train, k, ctx.seed, set().union(*banned) if banned else set())
        near = retrieve(queries, [ex.input for ex in ctx.train], k, banned)
        prompts = {
            "few_shot": [with_shots(ctx, ex, [ctx.train[j] for j in fixed]) for ex in rows],
            "retrieval": [with_shots(ctx, ex, [ctx.train[j] for j in near[i]]) for i, ex in enumerate(rows)],
        }
        info: dict[str, Any] = {"k": k, "rows": len(rows), "few_shot_lines": [ctx.train[j].line for j in fixed],
                                "excluded_duplicates": int(sum(len(b) for b in banned)),
                                "excluded_rows_with_duplicates": int(sum(1 for b in banned if b)),
                                **({"sampled": sampled} if sampled else {})}
        if ctx.form.labelled:
            ok, tokens, truncated, index = self._classification(ctx, rows, prompts, max_prompt)
            name = "accuracy"
        else:
            ok, tokens, truncated, index, name = self._generative(ctx, rows, prompts, max_prompt, params)
        out: dict[str, Any] = {}
        for method in METHODS:
            out[f"{method}.{name}"] = paired_figure(ok[method], ok["tuned"], ctx.seed,
                                                prompt_tokens_base=tokens[method], prompt_tokens_tuned=tokens["tuned"],
                                                method=method)
        best_method = max(METHODS, key=lambda m: (out[f"{m}.{name}"]["base"], -tokens[m]))
        out[f"best.{name}"] = {**out[f"{best_method}.{name}"], "method": best_method}
        table = [{"method": m, name: out[f"{m}.{name}"]["base"], "prompt_tokens": tokens[m],
                  "delta_tuned_minus_this": out[f"{m}.{name}"]["delta"], "interval": out[f"{m}.{name}"]["interval"],
                  "truncated_prompts": truncated.get(m, 0)} for m in METHODS]
        table.append({"method": "tuned", name: out[f"best.{name}"]["tuned"], "prompt_tokens": tokens["tuned"],
                      "delta_tuned_minus_this": 0.0, "interval": None, "truncated_prompts": 0})
        info.update(metric=name, table=table, worth_it=worth_it(table, out[f"best.{name}"], name),
                    retrieval="TF-IDF cosine (word 1-2 grams) over training inputs, k nearest, most similar last")
        flips = [{"split": rows[i].split, "line": rows[i].line, "retrieved_lines": [ctx.train[j].line for j in near[i]],
                  "retrieval_score": plain_score(ok["retrieval"][r]), "tuned_score": plain_score(ok["tuned"][r])}
                 for r, i in enumerate(index) if ok["retrieval"][r] != ok["tuned"][r]]
        return SuiteResult(metrics=out, info=info, rows=flips[: params.max_rows_listed])

    def _classification(self, ctx: Context, rows: list, prompts: dict[str, list], max_prompt: int):
        done = correctness(ctx, rows)  # zero-shot base and tuned: the task suite's cached scores
        keep = {id(ex) for ex in done["examples"]}
        index = [i for i, ex in enumerate(rows) if id(ex) in keep]
        truth = np.asarray([ctx.labels.index(ex.label) for ex in done["examples"]])
        ok = {"zero_shot": done["base"], "tuned": done["tuned"]}
        tok = ctx.pair.tokenizer
        zero = [option_tokens(tok, prompt_messages(ex, ctx.shape, ctx.prompt_template, ctx.labels, ctx.system),
                              ctx.labels, ctx.max_seq_len * 4)[0] for ex in done["examples"]]
        tokens = {"zero_shot": float(np.mean([len(p) for p in zero])), "tuned": float(np.mean([len(p) for p in zero]))}
        pad = pad_token_id(tok)
        truncated = {}
        for method in ("few_shot", "retrieval"):
            full = [option_tokens(tok, prompts[method][i], ctx.labels, 10**9) for i in index]
            # As option_tokens(..., max_prompt) would cut them (from the left), without encoding twice.
            items = [(p[-max(1, max_prompt - max(len(r) for r in rests)):], rests, sup) for p, rests, sup in full]
            truncated[method] = sum(len(a[0]) != len(b[0]) for a, b in zip(full, items))
            scores = ctx.pair.one("base", self.key, "label_logprobs", items, items,
                                  lambda model, its: score_items(model, its, pad))
            ok[method] = np.asarray([int(np.argmax(x)) for x in scores]) == truth
            tokens[method] = float(np.mean([len(it[0]) for it in items]))
        return ok, tokens, truncated, index

    def _generative(self, ctx: Context, rows: list, prompts: dict[str, list], max_prompt: int, params: dict[str, Any]):
        """Greedy answers of the prompted base, scored by the task's headline figure for its kind of
        output (field F1 for JSON, chrF for free text, the final answer, exact match for labels)."""
        tok = ctx.pair.tokenizer
        refs = [ex.output or "" for ex in rows]
        max_new = max_new_tokens(ctx, refs)
        zero = [generation_prompt(ctx, ex) for ex in rows]
        done = correctness(ctx, rows)  # zero-shot base and tuned: the task suite's cached scores
        ok = {"zero_shot": done["base"], "tuned": done["tuned"]}
        kind = task_output_kind(refs)
        tokens = {"zero_shot": float(np.mean([len(p) for p in zero])), "tuned": float(np.mean([len(p) for p in zero]))}
        truncated = {}
        for method in ("few_shot", "retrieval"):
            full = [chat_prompt_ids(ctx, msgs, limit=10**9) for msgs in prompts[method]]
            ids = [p[-max_prompt:] for p in full]
            truncated[method] = sum(len(a) > max_prompt for a in full)
            outs = ctx.pair.one("base", self.key, "greedy", ids, [[p, max_new] for p in ids],
                                lambda model, ps: greedy_generate(model, tok, ps, max_new))
            ok[method] = headline_scores(kind, decoded(tok, outs), refs, task_params(ctx).final_answer_pattern)
            tokens[method] = float(np.mean([len(p) for p in ids]))
        return ok, tokens, truncated, list(range(len(rows))), done["metric"]

