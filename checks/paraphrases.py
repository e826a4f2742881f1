"""Paraphrases: the same request reworded. In train they overweight one example less visibly than
duplicates; an eval row whose paraphrase is in train is contamination that n-gram decontamination
misses (Yang et al. 2023, "Rethinking Benchmark and Contamination for Language Models with Rephrased
Samples"). Found by sentence-embedding cosine (harness/auditing/embeddings.py) between texts that are neither
identical nor duplicates; reported apart from them, with a lower default severity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.auditing.embeddings import nearest, tokens_per_word
from harness.inputs.output_kinds import same_answer
from harness.auditing.pairs import canonical_words, differing_words, numbers_in

from .base import Answer, Check, CheckResult, Params, lower_is_better, not_applicable, param, register


@register
class Paraphrases(Check):
    name = "paraphrases"
    order = 65
    key_figures = ("paraphrase_pairs", "paraphrased_eval_rows")
    answers = (Answer("clean_eval", "summary.paraphrased_eval_rows",
                      "eval rows reworded from train rows (paraphrases)"),)
    title = "Paraphrases (same request, reworded)"
    why = "A reworded copy of an eval row in train measures memory, not skill, and n-gram matching misses it."
    metrics = lower_is_better("paraphrase_pairs", "paraphrase_rows", "paraphrased_eval_rows", "paraphrased_eval_rate")

    @dataclass(frozen=True)
    class Params(Params):
        min_cosine: float = param(0.9, "0..1", "sentence-embedding cosine for the same request, reworded")
        neighbours: int = param(5, ">=1", "nearest training texts looked at per training text")
        max_findings: int = param(200, ">=0", "training pairs listed (all are counted)")
        answer_similarity: float = param(0.8, "0..1", "generative data: a paraphrase needs the same answer (free text at this Jaccard)")
        # The embedding model judges meaning only in the language it was trained on: all-MiniLM-L6-v2 puts
        # unrelated Greek tweets at cosine 0.90 (X-Topic: 15 of 40 findings). Its own tokenizer says which
        # texts it reads: about one token a word in English, about 4 in Greek, 1.8 in Spanish or German.
        max_tokens_per_word: float = param(2.5, ">=1", "texts whose words take more of the embedding model's tokens than this on average are in a language it does not read: not compared")

    def run(self, data, params):
        vectors, why_not = data.embeddings
        if vectors is None:
            return not_applicable(why_not)
        by_split: dict = {}
        refs: dict = {}
        labels: dict = {}
        answers: dict | None = {} if data.label_source is None else None
        for s in data.splits:
            by_split[s], refs[s], labels[s] = {}, {}, {}
            if answers is not None:
                answers[s] = {}
            for tid, items in data.text_rows(s).items():
                for ref, label, output in items:
                    k = len(refs[s])    # a row's place in the split: any unique number serves
                    by_split[s].setdefault(tid, []).append(k)
                    refs[s][k], labels[s][k] = ref, label
                    if answers is not None:
                        answers[s][k] = output
        texts = data.distinct_texts
        return _result(texts, vectors, by_split, refs, labels, data.duplicate_pairs(),
                       {s: data.row_count(s) for s in data.splits}, params, data.label_source is not None,
                       {"model": data.embedder_name}, answers,
                       tokens_per_word(data.policy.get("embeddings", {}), texts))

def _result(texts, vectors, by_split, refs, labels, duplicate, counts, params: Paraphrases.Params, slots, how,
            answers=None, fluency=None) -> CheckResult:
    """texts: distinct similarity keys (text id = position) and their unit vectors; by_split: split ->
    text id -> row positions; refs / labels: split -> row position -> ref / label; duplicate: the
    (a, b) text-id pairs already reported as duplicates; slots: numbers are slot values (classification
    inputs), else two texts stating different numbers are different requests; answers (generative data):
    split -> row position -> normalised output. Two requests whose answers differ are no paraphrase, however
    alike they read: on ATIS, 23 of 40 "paraphrases" swapped the origin and the destination or changed
    the day, and their JSON answers said so (bench/real/RESULTS.md). fluency: the embedding model's tokens
    per word of each text; a text above params.max_tokens_per_word is in no pair."""
    threshold = float(params.min_cosine)
    agree = params.answer_similarity
    unread = (set(np.flatnonzero(fluency > params.max_tokens_per_word).tolist()) if fluency is not None
              else set())

    def other_numbers(a: int, b: int) -> bool:
        return not slots and numbers_in(texts[a]) != numbers_in(texts[b])

    def other_answers(sa: str, a: int, sb: str, b: int) -> bool:
        return answers is not None and not same_answer(answers[sa][by_split[sa][a][0]], answers[sb][by_split[sb][b][0]],
                                                       agree)

    train_ids = np.array(sorted(by_split["train"]), dtype=np.int64)
    pairs = []
    if len(train_ids) > 1:
        idx, sim = nearest(vectors[train_ids], vectors[train_ids], k=params.neighbours, exclude_self=True)
        seen = set()
        for q, (row_idx, row_sim) in enumerate(zip(idx.tolist(), sim.tolist())):
            for j, c in zip(row_idx, row_sim):
                a, b = sorted((int(train_ids[q]), int(train_ids[j])))
                if (c < threshold or (a, b) in seen or (a, b) in duplicate or a in unread or b in unread
                        or other_numbers(a, b) or other_answers("train", a, "train", b)):
                    continue
                seen.add((a, b))
                pairs.append((a, b, float(c)))
    leaks = []
    if "eval" in by_split and len(train_ids):
        eval_ids = np.array(sorted(set(by_split["eval"]) - set(by_split["train"])), dtype=np.int64)
        if len(eval_ids):
            idx, sim = nearest(vectors[eval_ids], vectors[train_ids], k=1)
            for q, (j, c) in enumerate(zip(idx[:, 0].tolist(), sim[:, 0].tolist())):
                a, b = int(eval_ids[q]), int(train_ids[j])
                if (c >= threshold and tuple(sorted((a, b))) not in duplicate and a not in unread
                        and b not in unread and not other_numbers(a, b) and not other_answers("eval", a, "train", b)):
                    leaks.append((a, b, float(c)))
    findings = []
    for a, b, c in sorted(leaks, key=lambda t: (-round(t[2], 4), t[0])):
        ev, tr = by_split["eval"][a], by_split["train"][b]
        findings.append(_finding("eval_paraphrase", [refs["eval"][i] for i in ev] + [refs["train"][tr[0]]],
                                 texts[a], texts[b], c, labels["eval"][ev[0]], labels["train"][tr[0]],
                                 f"eval row reworded in train (cosine {c:.2f})"))
    listed = sorted(pairs, key=lambda t: (-round(t[2], 4), t[0], t[1]))[: params.max_findings]
    for a, b, c in listed:
        ra, rb = by_split["train"][a][0], by_split["train"][b][0]
        findings.append(_finding("train_pair", [refs["train"][ra], refs["train"][rb]], texts[a], texts[b], c,
                                 labels["train"][ra], labels["train"][rb],
                                 f"two training rows ask the same thing in other words (cosine {c:.2f})"))
    in_pairs = {t for a, b, _ in pairs for t in (a, b)}
    n_eval = counts.get("eval", 0)
    leaked_rows = sum(len(by_split["eval"][a]) for a, _, _ in leaks)
    return CheckResult(summary={"paraphrase_pairs": len(pairs),
                                "paraphrase_rows": sum(len(by_split["train"][t]) for t in in_pairs),
                                "paraphrased_eval_rows": leaked_rows,
                                "paraphrased_eval_rate": leaked_rows / n_eval if n_eval else 0.0},
                       findings=findings,
                       info={**how, "min_cosine": threshold, "texts_embedded": int(len(vectors)),
                             "texts_in_a_language_the_model_does_not_read": len(unread),
                             "listed_train_pairs": len(listed)})


def _finding(kind, refs, text_a, text_b, cosine, label_a, label_b, message) -> dict:
    wa, wb = differing_words(canonical_words(text_a), canonical_words(text_b))
    f = {"kind": kind, "rows": refs, "cosine": round(cosine, 4), "differs": [" ".join(wa), " ".join(wb)],
         "message": message}
    if label_a is not None:
        f["labels"] = [label_a, label_b]
    return f
