"""Rows out of place: an agent's reply stored as a customer query, a question with nothing in it
("what is the word?", "WHAT IS THE REASON FOR THAT"), text from another task. Such a row teaches its
label on noise, and no other check sees it: it repeats nothing and a classifier merely disputes it.
Found as cleanlab Datalab's outlier issue finds them, from nearest-neighbour distances in sentence-
embedding space (harness/auditing/embeddings.py): a text's isolation is its mean cosine to its nearest training
texts; it is out of place when that is extreme against the whole set and against its own class (robust
z-scores, median and MAD: a catch-all class such as CLINC150's `oos` is isolated throughout, so nothing
in it stands out), and few of its nearest texts carry its label (a rare but ordinary request sits among
rows of its class). Typos alone push a short row far away ("why was i chargged"): a candidate is embedded again
with its misspellings corrected from the data's own vocabulary and kept only if still isolated."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.auditing.embeddings import embed_texts, nearest

from .base import Check, CheckResult, Params, lower_is_better, not_applicable, param, register, unlisted_rows


# Measured on ATIS (voice requests -> JSON): without classes, every short abbreviation query ("what is
# bur") stood out against the whole set; a rare class cannot be told from a row out of place.
_NO_LABELS = "needs labels: without classes a rare kind of request cannot be told from a row out of place"


@register
class Outliers(Check):
    name = "outliers"
    removes = "all"
    order = 55
    key_figures = ("outlier_rows",)
    title = "Rows out of place"
    why = "A row that is no example of the task (a reply stored as a query, a question with no content) teaches its label on noise."
    metrics = lower_is_better("outlier_rows", "outlier_rate")

    @dataclass(frozen=True)
    class Params(Params):
        neighbours: int = param(5, ">=1", "a text's isolation: its mean cosine to this many nearest training texts")
        min_z: float = param(5.0, ">=0", "out of place: isolation this many robust deviations (MAD) below the set's median")
        min_class_z: float = param(5.0, ">=0", "and below its own class's median (classes of min_class_rows texts or more)")
        min_class_rows: int = param(10, ">=2", "a class of fewer texts is judged against the whole set alone")
        vote_neighbours: int = param(10, ">=1", "and under max_own_label_share of this many nearest texts carry its label")
        max_own_label_share: float = param(0.5, "0..1", "see vote_neighbours")
        min_rows: int = param(50, ">=2", "fewer distinct training texts: not applicable")
        max_findings: int = param(100, ">=0", "outliers listed, most isolated first (all are counted)")

    def run(self, data, params):
        if data.label_source is None:
            return not_applicable(_NO_LABELS)
        vectors, why_not = data.embeddings
        if vectors is None:
            return not_applicable(why_not)
        items = data.text_rows("train")
        tids = sorted(items)
        return find_outliers([data.distinct_texts[t] for t in tids], vectors[tids], [items[t][0][1] for t in tids],
                             [[ref for ref, _, _ in items[t]] for t in tids], data.word_counts, data.policy,
                             params, data.embedder_name)

def robust_z(values: np.ndarray, floor: float = 1e-6) -> tuple[np.ndarray, float]:
    """How far below the median each value lies, in MADs scaled to a normal sigma (1.4826): (z, scale)."""
    med = float(np.median(values))
    scale = max(float(np.median(np.abs(values - med))) * 1.4826, floor)
    return (med - values) / scale, scale


def find_outliers(texts: list[str], vectors: np.ndarray, labels: list | None, refs: list[list[dict]],
                  word_counts: dict[str, int], policy: dict, params: Outliers.Params, model: str | None) -> CheckResult:
    """texts: the distinct training texts (similarity keys), their unit vectors, each one's label (None:
    no labels) and rows."""
    n = len(texts)
    k = params.neighbours
    if n < max(params.min_rows, k + 2):
        return not_applicable(f"{n} distinct training texts: too few to tell what is out of place")
    idx, sim = nearest(vectors, vectors, k=max(k, params.vote_neighbours), exclude_self=True)
    isolation = sim[:, :k].mean(axis=1)
    z, scale = robust_z(isolation)
    # Within each class of enough texts, against the class's own spread (floored at half the whole
    # set's: a tight class would otherwise make every ordinary variant an outlier).
    class_z = z.copy()
    votes = np.zeros(n)
    if labels is not None:
        by_class: dict = {}
        for i, lab in enumerate(labels):
            by_class.setdefault(lab, []).append(i)
        for members in by_class.values():
            if len(members) >= params.min_class_rows:
                m = np.array(members)
                class_z[m] = robust_z(isolation[m], scale / 2)[0]
        vote_k = params.vote_neighbours
        votes = np.array([sum(labels[j] == labels[i] for j in idx[i, :vote_k]) / vote_k for i in range(n)])
    min_z, min_class_z = params.min_z, params.min_class_z
    cand = np.flatnonzero((z >= min_z) & (class_z >= min_class_z) & (votes < params.max_own_label_share))
    kept, typos = _still_isolated(cand, texts, vectors, word_counts, policy, scale, float(np.median(isolation)),
                                  k, min_z)
    findings = []
    for i in sorted(kept, key=lambda i: -z[i]):
        near = int(idx[i, 0])
        f = {"rows": refs[i], "score": round(float(z[i]), 2), "class_z": round(float(class_z[i]), 2),
             "isolation": round(float(isolation[i]), 4), "nearest": refs[near][0],
             "nearest_similarity": round(float(sim[i, 0]), 4),
             "message": (f"out of place: its nearest training rows are at mean cosine {isolation[i]:.2f}, "
                         f"{z[i]:.1f} robust deviations below the set's median"
                         + (f" ({class_z[i]:.1f} within {labels[i]!r})" if labels is not None else "")
                         + f"; the closest row (line {refs[near][0]['line']}) is at {sim[i, 0]:.2f}")}
        if labels is not None:
            f["label"] = labels[i]
            f["own_label_share"] = round(float(votes[i]), 2)
        findings.append(f)
    flagged = sum(len(f["rows"]) for f in findings)
    total = sum(len(r) for r in refs)
    cap = params.max_findings
    return CheckResult(summary={"outlier_rows": flagged, "outlier_rate": flagged / total if total else 0.0,
                                "texts_scored": n},
                       findings=findings[:cap],
                       info={"model": model, "neighbours": k, "median_isolation": round(float(np.median(isolation)), 4),
                             "isolation_scale": round(scale, 4), "candidates": int(len(cand)),
                             "dropped_as_typos": typos, "listed": min(len(findings), cap),
                             **unlisted_rows(findings, cap)})


def _still_isolated(cand: np.ndarray, texts: list[str], vectors: np.ndarray, word_counts: dict[str, int],
                    policy: dict, scale: float, median: float, k: int, min_z: float) -> tuple[list[int], int]:
    """The candidates that stay isolated once their misspellings are put right; (kept, dropped)."""
    from harness.auditing.candidate_keys import spelling_corrections
    from harness.auditing.pairs import canonical_words

    if len(cand) == 0:
        return [], 0
    fixes = spelling_corrections(word_counts, int(policy["similarity"].get("rare_word_rows", 3)))
    fixed = {int(i): " ".join(fixes.get(w, w) for w in canonical_words(texts[i])) for i in cand}
    changed = [i for i, t in fixed.items() if t != " ".join(canonical_words(texts[i]))]
    if not changed:
        return [int(i) for i in cand], 0
    again, _, _ = embed_texts(policy.get("embeddings", {}), len(changed), lambda: [fixed[i] for i in changed])
    sims = again @ vectors.T
    sims[np.arange(len(changed)), changed] = -np.inf     # not its own (misspelt) self
    isolation = -np.sort(-sims, axis=1)[:, :k].mean(axis=1)
    dropped = {i for i, iso in zip(changed, isolation.tolist()) if (median - iso) / scale < min_z}
    return [int(i) for i in cand if int(i) not in dropped], len(dropped)
