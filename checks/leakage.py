"""Eval rows that also sit in train inflate every later score. Found three ways: exact match, near
duplicate (the shared MinHash graph), and long word n-gram overlap measured as the longest
contaminated span (ConTAM 2024), which catches an eval text pasted inside a longer training row.
Probe items of the regression suites are looked for in train the same way."""

from __future__ import annotations

import numpy as np

from harness.similarity import _mix64
from harness.text import normalize_loose

from .base import Check, CheckResult, register


class NgramIndex:
    """Word n-grams of the training rows, for finding the longest span of an eval text that one
    training row contains. A training row is a candidate only if it shares a rare n-gram (held by at
    most `max_rows` rows) with the eval text, so boilerplate alone ("please let me know if") is never
    evidence of contamination; once a row is a candidate, its common n-grams count towards the span."""

    def __init__(self, train_words: list[list[str]], n: int, max_rows: int):
        self.n, self.max_rows = n, max_rows
        self.vocab: dict[str, int] = {}
        lengths = np.fromiter((len(w) for w in train_words), dtype=np.int64, count=len(train_words))
        flat = np.fromiter((self.vocab.setdefault(w, len(self.vocab)) for ws in train_words for w in ws),
                           dtype=np.int64, count=int(lengths.sum()))
        # Rolling hash over all rows at once; windows that cross a row boundary are dropped.
        row_of = np.repeat(np.arange(len(train_words)), lengths)
        h = self._hash(flat)
        if len(h):
            ok = row_of[: len(h)] == row_of[n - 1:]
            h, rows = h[ok], row_of[: len(ok)][ok]
        else:
            rows = np.zeros(0, dtype=np.int64)
        order = np.lexsort((rows, h))
        h, rows = h[order], rows[order]
        first = np.ones(len(h), dtype=bool)
        first[1:] = (h[1:] != h[:-1]) | (rows[1:] != rows[:-1])
        self.hashes, self.rows = h[first], rows[first]          # (n-gram, row) pairs, sorted by n-gram
        self.pair_keys = np.sort(self._pair_key(self.hashes, self.rows))

    @staticmethod
    def _pair_key(hashes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return _mix64(hashes * np.uint64(0x100000001B3) + rows.astype(np.uint64))

    def _hash(self, ids: np.ndarray) -> np.ndarray:
        if len(ids) < self.n:
            return np.zeros(0, dtype=np.uint64)
        m = len(ids) - self.n + 1
        h = np.zeros(m, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(self.n):
                h = h * np.uint64(1000003) + ids[k:k + m].astype(np.uint64) + np.uint64(1)
        return h

    def longest_span(self, words: list[str]) -> tuple[float, int, list[int]]:
        """(coverage, span in words, train rows) for the training row that holds the longest contiguous
        span of `words`; coverage = span / len(words)."""
        if len(words) < self.n or len(self.hashes) == 0:
            return 0.0, 0, []
        ids = np.fromiter((self.vocab.get(w, -1) for w in words), dtype=np.int64, count=len(words))
        h = self._hash(np.where(ids < 0, 2**40 + np.arange(len(ids)), ids))
        lo = np.searchsorted(self.hashes, h, "left")
        hi = np.searchsorted(self.hashes, h, "right")
        rare = np.flatnonzero((hi > lo) & (hi - lo <= self.max_rows))
        if len(rare) == 0:
            return 0.0, 0, []
        cands = np.unique(np.concatenate([self.rows[lo[p]:hi[p]] for p in rare]))
        keys = self._pair_key(np.repeat(h, len(cands)), np.tile(cands, len(h)))
        pos = np.searchsorted(self.pair_keys, keys).clip(0, len(self.pair_keys) - 1)
        hit = (self.pair_keys[pos] == keys).reshape(len(h), len(cands))
        best, best_rows = 0, []
        for c in range(len(cands)):
            run = longest = 0
            for v in hit[:, c]:
                run = run + 1 if v else 0
                longest = max(longest, run)
            span = longest + self.n - 1 if longest else 0
            if span > best:
                best, best_rows = span, [int(cands[c])]
            elif span == best and span:
                best_rows.append(int(cands[c]))
        return best / len(words), best, best_rows


@register
class Leakage(Check):
    name = "leakage"
    title = "Train/eval leakage and contamination"
    why = "An eval row the model trained on measures memory, not skill: every later score is inflated."
    metrics = ("leaked_eval_rows", "leaked_rate", "exact", "near", "ngram", "leaked_probe_items")

    def run(self, data, params):
        train = data.rows("train")
        n = int(params["ngram"])
        min_cov = float(params["min_coverage"])
        max_rows = int(params["common_ngram_rows"])
        findings: list[dict] = []
        kinds = {"exact": 0, "near": 0, "ngram": 0}
        index = NgramIndex([key.split() for key in data.loose["train"]], n, max_rows)
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
                        cov, _span, matches = index.longest_span(data.loose["eval"][j].split())
                        if cov < min_cov:
                            continue
                        kind, sim = "ngram", cov
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
        probes = data.probes if params["probes"] else []
        if probes:
            train_loose = {key: i for i, key in enumerate(data.loose["train"])}
            for item in probes:
                loose = normalize_loose(item["text"])
                words = loose.split()
                if loose in train_loose:
                    hit, cov, matches = "exact", 1.0, [train_loose[loose]]
                else:
                    cov, _span, matches = index.longest_span(words)
                    if cov < min_cov:
                        continue
                    hit = "ngram"
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
