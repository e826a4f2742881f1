"""Word n-gram containment, for leakage: the longest span of a text that one training row holds (ConTAM
2024), in the rows' requests and in the text a row carries beyond its request (a chat row's system turns
and answer, a completion). Written by hand: a rolling hash over numpy word ids finds the spans of
thousands of eval rows in a million training rows in seconds; no library gives the longest contiguous
shared span with a rare-n-gram candidate filter."""

from __future__ import annotations

import numpy as np

from harness.auditing.similarity import mix64
from harness.core.text import normalize_loose

class NgramIndex:
    """Word n-grams of the training rows, for finding the longest span of an eval text that one
    training row contains. A training row is a candidate only if it shares a rare n-gram (held by at
    most `max_rows` rows) with the eval text, so boilerplate alone ("please let me know if") is never
    evidence of contamination; once a row is a candidate, its common n-grams count towards the span."""

    def __init__(self, train_texts: list[str], n: int, max_rows: int, queries: list[str] | None = None,
                 chunk: int = 100_000):
        """train_texts: similarity keys (words split on spaces). queries: when every text that will be
        looked up is known, only the n-grams they hold are indexed (with all their training rows, so the
        rare-or-common count is unchanged). Rows are split a chunk at a time: lists of word strings for
        every row cost ~1.2 GB per million rows."""
        self.n, self.max_rows = n, max_rows
        self.vocab: dict[str, int] = {}
        hs, rs = [], []
        for s in range(0, len(train_texts), chunk):
            words = [t.split() for t in train_texts[s:s + chunk]]
            lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
            flat = np.fromiter((self.vocab.setdefault(w, len(self.vocab)) for ws in words for w in ws),
                               dtype=np.int64, count=int(lengths.sum()))
            # Rolling hash over the chunk's rows at once; windows that cross a row boundary are dropped.
            row_of = np.repeat(np.arange(s, s + len(words)), lengths)
            h = self._hash(flat)
            if len(h):
                ok = row_of[: len(h)] == row_of[n - 1:]
                hs.append(h[ok])
                rs.append(row_of[: len(ok)][ok])
        h = np.concatenate(hs) if hs else np.zeros(0, dtype=np.uint64)
        rows = np.concatenate(rs) if rs else np.zeros(0, dtype=np.int64)
        if queries is not None:
            wanted = [self._query_hashes(q.split()) for q in queries]
            keep = np.isin(h, np.unique(np.concatenate(wanted)) if wanted else np.zeros(0, dtype=np.uint64))
            h, rows = h[keep], rows[keep]
        order = np.lexsort((rows, h))
        h, rows = h[order], rows[order]
        first = np.ones(len(h), dtype=bool)
        first[1:] = (h[1:] != h[:-1]) | (rows[1:] != rows[:-1])
        self.hashes, self.rows = h[first], rows[first]          # (n-gram, row) pairs, sorted by n-gram
        self.pair_keys = np.sort(self._pair_key(self.hashes, self.rows))

    def _query_hashes(self, words: list[str]) -> np.ndarray:
        """A looked-up text's n-gram hashes; a word never seen in train gets an id no train word has."""
        ids = np.fromiter((self.vocab.get(w, -1) for w in words), dtype=np.int64, count=len(words))
        return self._hash(np.where(ids < 0, 2**40 + np.arange(len(ids)), ids))

    @staticmethod
    def _pair_key(hashes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return mix64(hashes * np.uint64(0x100000001B3) + rows.astype(np.uint64))

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
        h = self._query_hashes(words)
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


# Where a span was found when not in a training request.
BEYOND = "beyond_request"


def beyond_request(request: str, texts: dict[str, str]) -> list[str]:
    """A row's texts that its request (`input`) does not already hold: a chat row's system turns and
    answer, an instruction row's completion; nothing for a classification row."""
    return [t for t in texts.values() if isinstance(t, str) and t.strip() and t not in request]


def beyond_request_docs(rows) -> tuple[list[str], list[list[int]]]:
    """The distinct similarity keys of those texts over the training rows, and the rows holding each: a
    system prompt every row shares is one document, so its n-grams stay rare."""
    at: dict[str, int] = {}
    holders: list[list[int]] = []
    for i, ex in enumerate(rows):
        for text in beyond_request(ex.input, ex.texts):
            d = at.setdefault(normalize_loose(text), len(holders))
            if d == len(holders):
                holders.append([])
            if not holders[d] or holders[d][-1] != i:
                holders[d].append(i)
    return list(at), holders
