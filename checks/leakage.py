"""Eval rows that also sit in train inflate every later score. Found three ways: exact match, near
duplicate (the shared MinHash graph), and long word n-gram overlap measured as the longest
contaminated span (ConTAM 2024), which catches an eval text pasted inside a longer training row.
Probe items of the regression suites are looked for in train the same way."""

from __future__ import annotations

import numpy as np

from harness.text import normalize_loose

from .base import Check, CheckResult, register


def _word_ids(texts: list[list[str]], vocab: dict[str, int]) -> list[np.ndarray]:
    return [np.fromiter((vocab.setdefault(w, len(vocab)) for w in t), dtype=np.int64, count=len(t)) for t in texts]


def _ngram_hashes(ids: np.ndarray, n: int) -> np.ndarray:
    if len(ids) < n:
        return np.zeros(0, dtype=np.uint64)
    m = len(ids) - n + 1
    h = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            h = h * np.uint64(1000003) + ids[k:k + m].astype(np.uint64) + np.uint64(1)
    return h


class NgramIndex:
    """Word n-grams of the training rows, with how many rows hold each (boilerplate shows up in many)."""

    def __init__(self, train_words: list[list[str]], n: int):
        self.n = n
        self.vocab: dict[str, int] = {}
        per_row = [np.unique(_ngram_hashes(ids, n)) for ids in _word_ids(train_words, self.vocab)]
        allh = np.concatenate(per_row) if per_row else np.zeros(0, np.uint64)
        self.hashes, self.row_counts = np.unique(allh, return_counts=True)
        self._per_row = per_row

    def coverage(self, words: list[str], max_rows: int) -> tuple[float, int]:
        """(longest contaminated span / row length, span length in words) for one text."""
        if len(words) < self.n or len(self.hashes) == 0:
            return 0.0, 0
        ids = np.fromiter((self.vocab.get(w, -1) for w in words), dtype=np.int64, count=len(words))
        h = _ngram_hashes(np.where(ids < 0, 2**40, ids), self.n)
        pos = np.searchsorted(self.hashes, h).clip(0, len(self.hashes) - 1)
        hit = (self.hashes[pos] == h) & (self.row_counts[pos] <= max_rows) & (ids[: len(h)] >= 0)
        covered = np.zeros(len(words), dtype=bool)
        for start in np.flatnonzero(hit):
            covered[start:start + self.n] = True
        best = run = 0
        for c in covered:
            run = run + 1 if c else 0
            best = max(best, run)
        return best / len(words), best

    def rows_with(self, words: list[str]) -> list[int]:
        ids = np.fromiter((self.vocab.get(w, -1) for w in words), dtype=np.int64, count=len(words))
        if (ids < 0).all():
            return []
        h = set(_ngram_hashes(np.where(ids < 0, 2**40, ids), self.n).tolist())
        return [r for r, row in enumerate(self._per_row) if h.intersection(row.tolist())][:20]


@register
class Leakage(Check):
    name = "leakage"
    title = "Train/eval leakage and contamination"
    why = "An eval row the model trained on measures memory, not skill: every later score is inflated."
    metrics = ("leaked_eval_rows", "leaked_rate", "exact", "near", "ngram", "leaked_probe_items")

    def run(self, data, params):
        train = data.rows("train")
        n = int(params.get("ngram", 8))
        min_cov = float(params.get("min_coverage", 0.5))
        max_rows = int(params.get("common_ngram_rows", 10))
        findings: list[dict] = []
        kinds = {"exact": 0, "near": 0, "ngram": 0}
        train_words = [normalize_loose(ex.input).split() for ex in train]
        index = NgramIndex(train_words, n)
        if data.eval is not None:
            ev = data.rows("eval")
            train_exact: dict[str, list[int]] = {}
            for i, key in enumerate(data.normalized["train"]):
                train_exact.setdefault(key, []).append(i)
            train_by_text = data.rows_by_text("train")
            near: dict[int, list[tuple[int, float]]] = {}
            for (a, b), s in zip(data.similar.pairs.tolist(), data.similar.similarity.tolist()):
                near.setdefault(a, []).append((b, s))
                near.setdefault(b, []).append((a, s))
            eval_ids = data.text_ids["eval"].tolist()
            for j, ex in enumerate(ev):
                key = data.normalized["eval"][j]
                tid = eval_ids[j]
                if key in train_exact:
                    kind, sim, matches = "exact", 1.0, train_exact[key]
                else:
                    cands = [(r, 1.0) for r in train_by_text.get(tid, [])]
                    cands += [(r, s) for t, s in near.get(tid, []) for r in train_by_text.get(t, [])]
                    if cands:
                        sim = max(s for _, s in cands)
                        kind, matches = "near", sorted({r for r, _ in cands})
                    else:
                        words = normalize_loose(ex.input).split()
                        cov, span = index.coverage(words, max_rows)
                        if cov < min_cov:
                            continue
                        kind, sim, matches = "ngram", cov, index.rows_with(words)
                kinds[kind] += 1
                finding = {"rows": [ex.ref] + [train[r].ref for r in matches[:20]], "kind": kind,
                           "similarity": round(float(sim), 4), "train_matches": len(matches),
                           "message": f"eval row found in train ({kind}"
                                      + (f", Jaccard {sim:.2f})" if kind == "near" else
                                         f", longest shared span covers {sim:.0%} of it)" if kind == "ngram" else ")")}
                labels_e, labels_t = data.labels["eval"][j], {data.labels["train"][r] for r in matches}
                if labels_e is not None:
                    finding["eval_label"] = labels_e
                    finding["train_labels"] = sorted(x for x in labels_t if x is not None)
                findings.append(finding)
        probe_hits = 0
        probes = data.probes if params.get("probes", True) else []
        if probes:
            train_loose = {normalize_loose(ex.input): i for i, ex in enumerate(train)}
            for item in probes:
                loose = normalize_loose(item["text"])
                words = loose.split()
                if loose in train_loose:
                    hit, cov, matches = "exact", 1.0, [train_loose[loose]]
                else:
                    cov, _ = index.coverage(words, max_rows)
                    if cov < min_cov:
                        continue
                    hit, matches = "ngram", index.rows_with(words)
                probe_hits += 1
                findings.append({"rows": [train[r].ref for r in matches[:20]], "kind": f"probe_{hit}",
                                 "probe": item.get("probe"), "probe_id": item.get("id"),
                                 "similarity": round(float(cov), 4),
                                 "message": f"probe item {item.get('probe')}:{item.get('id')} found in train ({hit})"})
        leaked = sum(kinds.values())
        n_eval = len(data.rows("eval"))
        return CheckResult(summary={"eval_rows": n_eval, "leaked_eval_rows": leaked,
                                    "leaked_rate": leaked / n_eval if n_eval else 0.0, **kinds,
                                    "probe_items_checked": len(probes), "leaked_probe_items": probe_hits,
                                    "applicable": bool(n_eval or probes)},
                           findings=findings,
                           info={"ngram": n, "min_coverage": min_cov, "near_threshold": data.policy["similarity"]["threshold"]})
