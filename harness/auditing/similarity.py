"""Near-duplicate search: character shingles, MinHash signatures, LSH banding, then true Jaccard.

Written by hand because it must be fast: classic MinHash hashes every shingle once per permutation
(128 passes), which in numpy costs ~20 s for 200k rows. We use one-permutation hashing (Li, Owen and
Zhang 2012) with rotation densification (Shrivastava and Li 2014): every shingle is hashed once and
falls in one of K bins, the minimum per bin is kept, and an empty bin borrows from the next non-empty
bin, so that for two rows P(bin values equal) is still their Jaccard similarity.

Why character shingles: fine-tuning rows are short. One changed word in a 25-word row drops word
5-gram Jaccard to about 0.6, while character 5-grams over the punctuation-free text keep a typo or an
added greeting above 0.75 (see the policy's threshold notes and tests/test_planted.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_EMPTY = np.uint32(0xFFFFFFFF)
_PAD = "\x01"
# Candidates whose signature estimate is below threshold - this are dropped before true Jaccard (see
# similar_pairs); the Spark engine uses the same margin.
ESTIMATE_MARGIN = 0.15


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: turns a polynomial rolling hash into well-spread 64-bit values."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shingle_hashes(texts: list[str], ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Hash every character n-gram of every text. Returns (hashes, offsets): row i owns
    hashes[offsets[i]:offsets[i+1]]. A text shorter than n is one shingle (padded), never dropped."""
    padded = [t if len(t) >= ngram else t + _PAD * (ngram - len(t)) for t in texts]
    lengths = np.fromiter((len(t) for t in padded), dtype=np.int64, count=len(padded))
    counts = lengths - ngram + 1
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    if not texts:
        return np.zeros(0, dtype=np.uint64), offsets
    codes = np.frombuffer("\x00".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    m = len(codes) - ngram + 1
    with np.errstate(over="ignore"):
        h = codes[:m].copy()
        for k in range(1, ngram):
            h *= np.uint64(1000003)
            h += codes[k:k + m]
        h = mix64(h)
    # Drop windows that straddle the separator between two texts.
    sep = np.zeros(len(codes) + 1, dtype=np.int32)
    np.cumsum(codes == 0, out=sep[1:])
    valid = (sep[ngram:ngram + m] - sep[:m]) == 0
    return h[valid], offsets


def signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """One-permutation MinHash with optimal densification: (rows, num_perm) uint32."""
    if num_perm & (num_perm - 1):
        raise ValueError("num_perm must be a power of two")
    n = len(offsets) - 1
    bits = num_perm.bit_length() - 1
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
    with np.errstate(over="ignore"):
        salted = mix64(hashes ^ np.uint64(seed * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF))
    bins = (salted >> np.uint64(64 - bits)).astype(np.int64) if bits else np.zeros(len(salted), np.int64)
    values = ((salted & np.uint64(0xFFFFFFFF)) >> np.uint64(1)).astype(np.uint32)  # 31 bits: _EMPTY stays free
    sig = np.full(n * num_perm, _EMPTY, dtype=np.uint32)
    np.minimum.at(sig, rows * num_perm + bins, values)
    sig = sig.reshape(n, num_perm)
    _densify(sig, seed)
    return sig


def _densify(sig: np.ndarray, seed: int) -> None:
    """Fill empty bins in place by rotation (Shrivastava and Li 2014): an empty bin takes the value of
    the next non-empty bin to its right (circularly), hashed together with the distance, so two rows
    collide on it only when they share the source bin's minimum and the same run of empty bins."""
    empty = sig == _EMPTY
    rows = np.flatnonzero(empty.any(axis=1) & ~empty.all(axis=1))
    if len(rows) == 0:
        return
    k = sig.shape[1]
    block = sig[rows]
    full = ~empty[rows]
    pos = np.where(np.concatenate([full, full], axis=1), np.arange(2 * k, dtype=np.int16), np.int16(2 * k))
    nxt = np.minimum.accumulate(pos[:, ::-1], axis=1)[:, ::-1]   # next non-empty position >= j
    er, ec = np.nonzero(~full)
    src = nxt[er, ec].astype(np.int64)
    value = block[er, src % k].astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = mix64(value * np.uint64(k + 1) + (src - ec).astype(np.uint64) + np.uint64(seed))
    block[er, ec] = ((mixed & np.uint64(0xFFFFFFFF)) >> np.uint64(1)).astype(np.uint32)
    sig[rows] = block


def _band_pairs(sig: np.ndarray, bands: int, max_bucket_pairs: int):
    """Per band, the (i, j) rows that share its key: rows sorted by key, each paired with the next rows
    of the same key, at most `max_bucket_pairs` ahead. Yields (a, b) index arrays, a band and a
    distance at a time, so no run ever holds every band's candidates at once."""
    n, k = sig.shape
    r = k // bands
    with np.errstate(over="ignore"):
        for b in range(bands):
            key = np.zeros(n, dtype=np.uint64)
            # Strided bands (bins b, b+bands, ...): densified neighbours are correlated, far bins are not.
            for c in range(b, bands * r, bands):
                key = mix64(key * np.uint64(0x100000001B3) + sig[:, c].astype(np.uint64))
            order = np.argsort(key, kind="stable")
            skey = key[order]
            same = skey[1:] == skey[:-1]
            if not same.any():
                continue
            for d in range(1, max_bucket_pairs + 1):
                eq = skey[d:] == skey[:-d] if d > 1 else same
                idx = np.flatnonzero(eq)
                if len(idx) == 0:
                    break
                yield order[idx], order[idx + d]


def _unique_pairs(chunks: list[np.ndarray], n: int) -> np.ndarray:
    if not chunks:
        return np.zeros((0, 2), dtype=np.int64)
    code = np.concatenate(chunks)
    code.sort()  # sort-based unique: numpy 2's hash-based np.unique is ~7x slower on 10M int64
    code = code[np.concatenate(([True], code[1:] != code[:-1]))]
    return np.stack([code // n, code % n], axis=1)


def lsh_pairs(sig: np.ndarray, bands: int, max_bucket_pairs: int = 64) -> np.ndarray:
    """Candidate pairs (i < j) that agree on every value of at least one band.

    A bucket of m rows yields all m(m-1)/2 pairs up to `max_bucket_pairs` + 1 rows and a connected
    chain beyond it, so one huge bucket of boilerplate cannot blow up the run."""
    n = sig.shape[0]
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    return _unique_pairs([np.minimum(a, b) * n + np.maximum(a, b) for a, b in _band_pairs(sig, bands, max_bucket_pairs)], n)


def lsh_candidates(sig: np.ndarray, bands: int, min_estimate: float, max_bucket_pairs: int = 64,
                   chunk: int = 200_000) -> tuple[np.ndarray, int]:
    """The LSH candidates whose signature estimate is >= min_estimate, unique (i < j), and the number
    of (band, pair) candidates looked at. Filtering each band's pairs as they come keeps memory to the
    pairs that pass: at 1M bench rows 84.7M distinct candidates (over 150M band pairs) held as int64
    pairs peaked near 8 GB, while 1.3M pass the estimate."""
    n = sig.shape[0]
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64), 0
    kept, looked = [], 0
    for a, b in _band_pairs(sig, bands, max_bucket_pairs):
        looked += len(a)
        for s in range(0, len(a), chunk):
            pa, pb = a[s:s + chunk], b[s:s + chunk]
            ok = estimated_similarity(sig[pa], sig[pb]) >= min_estimate
            if ok.any():
                pa, pb = pa[ok], pb[ok]
                kept.append(np.minimum(pa, pb) * n + np.maximum(pa, pb))
    return _unique_pairs(kept, n), looked


def estimated_similarity(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """MinHash estimate of each row pair's Jaccard (share of equal bins), float32. Both engines filter
    candidates with this one function, so the same pairs pass the same margin."""
    return (sig_a == sig_b).mean(axis=1, dtype=np.float32)


def row_shingle_sets(texts: list[str], ngram: int, chunk: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """Each text's distinct shingles as a sorted run of 47-bit values: (values, offsets). 47 bits leave
    room for a 17-bit pair number in `jaccard_pairs`; two of a row's ~150 shingles then share a value
    with probability ~1e-10, against the ~6 KB a Python set of 64-bit ints costs per row."""
    vals, sizes = [], []
    for s in range(0, len(texts), chunk):
        h, off = shingle_hashes(texts[s:s + chunk], ngram)
        rows = np.repeat(np.arange(len(off) - 1, dtype=np.uint64), np.diff(off))
        packed = (rows << np.uint64(47)) | (h >> np.uint64(17))
        packed.sort()
        packed = packed[np.concatenate(([True], packed[1:] != packed[:-1]))]
        vals.append(packed & np.uint64((1 << 47) - 1))
        sizes.append(np.bincount((packed >> np.uint64(47)).astype(np.int64), minlength=len(off) - 1))
    values = np.concatenate(vals) if vals else np.zeros(0, np.uint64)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    if sizes:
        np.cumsum(np.concatenate(sizes), out=offsets[1:])
    return values, offsets


def _gather(values: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """values of the given rows, one after another (vectorised concatenation of row runs)."""
    lengths = offsets[rows + 1] - offsets[rows]
    ends = np.cumsum(lengths)
    idx = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - lengths - offsets[rows], lengths)
    return values[idx]


def jaccard_pairs(values: np.ndarray, offsets: np.ndarray, pairs: np.ndarray, chunk: int = 100_000) -> np.ndarray:
    """Jaccard of row pairs from `row_shingle_sets`, vectorised: in each chunk a pair's number goes in
    the top 17 bits of its rows' values, so both sides are sorted runs and one searchsorted counts
    the intersection. Written by hand: per-pair Python sets cost ~5 GB at 1M rows."""
    out = np.empty(len(pairs), dtype=np.float64)
    sizes = np.diff(offsets)
    for s in range(0, len(pairs), chunk):
        p = pairs[s:s + chunk]
        pid = np.arange(len(p), dtype=np.uint64) << np.uint64(47)
        la, lb = sizes[p[:, 0]], sizes[p[:, 1]]
        ka = _gather(values, offsets, p[:, 0]) | np.repeat(pid, la)
        kb = _gather(values, offsets, p[:, 1]) | np.repeat(pid, lb)
        pos = np.minimum(np.searchsorted(ka, kb), len(ka) - 1)
        hit = ka[pos] == kb
        inter = np.bincount(np.repeat(np.arange(len(p)), lb)[hit], minlength=len(p))
        out[s:s + chunk] = inter / (la + lb - inter)
    return out


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that a pair with this Jaccard similarity becomes an LSH candidate: 1-(1-s^r)^b."""
    return 1.0 - (1.0 - similarity ** rows) ** bands


def jaccard(a: str, b: str, ngram: int = 5) -> float:
    """True Jaccard similarity of two texts' character n-gram sets (same shingles, and the same 47-bit
    values, as the index's verification)."""
    values, offsets = row_shingle_sets([a, b], ngram)
    return float(jaccard_pairs(values, offsets, np.array([[0, 1]]))[0])


@dataclass
class SimilarPairs:
    """Verified pairs of text indices with true Jaccard >= threshold, plus how the search went."""

    pairs: np.ndarray        # (m, 2) int64, i < j
    similarity: np.ndarray   # (m,) float, true Jaccard
    stats: dict


def similar_pairs(texts: list[str], threshold: float, ngram: int = 5, num_perm: int = 128, bands: int = 32,
                  seed: int = 1, estimate_margin: float = ESTIMATE_MARGIN, chunk: int = 20_000,
                  owners: np.ndarray | None = None) -> SimilarPairs:
    """All pairs of `texts` whose character n-gram Jaccard is >= threshold (up to LSH's miss rate).

    Candidates are first filtered by their signature estimate (>= threshold - estimate_margin; the
    estimate's standard deviation is ~0.045 at J = 0.6 with 128 bins, so 0.15 is over 3 sigma: on the
    200k-row bench the margins 0.2, 0.15 and 0.12 verified the same pairs), then by true Jaccard.
    Pass distinct texts: exact duplicates are better grouped by hashing before this.
    owners: when several texts are keys of one item (nondecreasing item ids, one per text), the pairs are
    of items: a candidate between any of their keys makes the pair, and its similarity is the best over
    all their keys' pairs (the Spark engine verifies the same way)."""
    # Signatures chunk by chunk: per-shingle arrays (~8 bytes x 6 per character) never exist for all rows
    # at once, which keeps 200k rows under 1 GB.
    sig = np.empty((len(texts), num_perm), dtype=np.uint32)
    for start in range(0, len(texts), chunk):
        hashes, offsets = shingle_hashes(texts[start:start + chunk], ngram)
        sig[start:start + chunk] = signatures(hashes, offsets, num_perm, seed)
    keep, n_candidates = lsh_candidates(sig, bands, threshold - estimate_margin)
    if owners is not None:
        keep, flat = _owner_pairs(keep, np.asarray(owners, dtype=np.int64))
    else:
        flat = keep
    # True Jaccard for the pairs that survive the estimate; shingles only for the rows involved.
    involved = np.unique(flat)
    values, offsets = row_shingle_sets([texts[r] for r in involved.tolist()], ngram)
    sims = jaccard_pairs(values, offsets, np.searchsorted(involved, flat))
    if owners is not None:
        best = np.zeros(len(keep))
        if len(flat):
            np.maximum.at(best, flat_pair_index(flat, keep, owners), sims)
        sims = best
    ok = sims >= threshold
    rows = num_perm // bands
    stats = {"texts": len(texts), "shingle": f"char-{ngram}", "num_perm": num_perm, "bands": bands,
             "rows_per_band": rows, "band_candidates": n_candidates, "estimate_passed": int(len(keep)),
             "verified": int(ok.sum()),
             "candidate_probability_at_threshold": round(candidate_probability(threshold, bands, rows), 4)}
    return SimilarPairs(keep[ok], sims[ok], stats)


def _owner_pairs(flat_pairs: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs of keys -> (unique item pairs a < b, every key pair of those items)."""
    if len(flat_pairs) == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros((0, 2), dtype=np.int64)
    n = int(owners.max()) + 1
    a, b = owners[flat_pairs[:, 0]], owners[flat_pairs[:, 1]]
    differ = a != b
    codes = np.unique(np.minimum(a, b)[differ] * n + np.maximum(a, b)[differ])   # 1-d: far faster than axis=0
    items = np.stack([codes // n, codes % n], axis=1)
    first = np.searchsorted(owners, np.arange(n))
    count = np.bincount(owners, minlength=n)
    ka, kb = [], []
    for da in range(int(count.max())):
        for db in range(int(count.max())):
            ok = (count[items[:, 0]] > da) & (count[items[:, 1]] > db)
            ka.append(first[items[ok, 0]] + da)
            kb.append(first[items[ok, 1]] + db)
    return items, np.stack([np.concatenate(ka), np.concatenate(kb)], axis=1)


def flat_pair_index(flat: np.ndarray, items: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """For each key pair, the row of its item pair in `items` (sorted, unique)."""
    a, b = owners[flat[:, 0]], owners[flat[:, 1]]
    n = int(owners.max()) + 1
    code_items = items[:, 0] * n + items[:, 1]
    return np.searchsorted(code_items, np.minimum(a, b) * n + np.maximum(a, b))
