"""The near-duplicate engine: shingles, signatures, LSH candidates and verification."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.auditing.similarity import (candidate_probability, jaccard, jaccard_pairs, lsh_candidates, lsh_pairs,
                                row_shingle_sets, shingle_hashes, signatures, similar_pairs)


def test_short_texts_are_one_shingle_not_dropped():
    h, off = shingle_hashes(["ok", "ok", "no"], 5)
    assert list(np.diff(off)) == [1, 1, 1]
    assert h[0] == h[1] != h[2]


def test_windows_never_cross_rows():
    h, off = shingle_hashes(["abcde", "fghij"], 5)
    assert len(h) == 2 and off[-1] == 2


def test_similar_pairs_finds_copies_and_not_strangers():
    texts = ["the parcel never arrived at my house", "the parcel never arived at my house",
             "please refund the double charge on my card", "completely unrelated words here friend"]
    res = similar_pairs(texts, threshold=0.6)
    assert res.pairs.tolist() == [[0, 1]]
    assert abs(res.similarity[0] - jaccard(texts[0], texts[1])) < 1e-9


def test_big_bucket_is_capped_but_stays_connected():
    sig = np.zeros((200, 8), dtype=np.uint32)  # 200 identical signatures in one bucket
    pairs = lsh_pairs(sig, bands=2, max_bucket_pairs=5)
    assert len(pairs) < 200 * 199 // 2
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(200, 200))
    assert connected_components(g, directed=False)[0] == 1


def test_candidate_probability_is_the_s_curve():
    assert candidate_probability(0.6, 32, 4) > 0.98
    assert candidate_probability(0.2, 32, 4) < 0.06


def test_signatures_are_deterministic():
    h, off = shingle_hashes(["some text here", "other text"], 5)
    assert (signatures(h, off, 64) == signatures(h, off, 64)).all()


def _set_jaccard(a: str, b: str) -> float:
    """Reference: Python sets of the 47-bit shingle values."""
    h, off = shingle_hashes([a, b], 5)
    x = {v >> 17 for v in h[off[0]:off[1]].tolist()}
    y = {v >> 17 for v in h[off[1]:off[2]].tolist()}
    return len(x & y) / len(x | y)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abcde ", min_size=0, max_size=40), min_size=2, max_size=12), st.data())
def test_vectorised_jaccard_equals_set_jaccard(texts, data):
    pairs = np.array(data.draw(st.lists(st.tuples(st.integers(0, len(texts) - 1), st.integers(0, len(texts) - 1)),
                                        min_size=1, max_size=30)))
    values, offsets = row_shingle_sets(texts, 5, chunk=3)  # row chunks smaller than the list
    got = jaccard_pairs(values, offsets, pairs, chunk=4)
    want = [_set_jaccard(texts[i], texts[j]) for i, j in pairs.tolist()]
    assert got.tolist() == want
    assert all(jaccard(texts[i], texts[j]) == w for (i, j), w in zip(pairs.tolist(), want))


def test_candidates_filtered_per_band_equal_filtering_all_candidates():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 50, size=(40, 64)).astype(np.uint32)
    sig = np.concatenate([base, np.where(rng.random((40, 64)) < 0.3, base + 1, base),
                          np.where(rng.random((40, 64)) < 0.6, base + 1, base), base[:5]])
    every = lsh_pairs(sig, bands=16)
    est = (sig[every[:, 0]] == sig[every[:, 1]]).mean(axis=1)
    kept, looked = lsh_candidates(sig, bands=16, min_estimate=0.5, chunk=7)
    assert kept.tolist() == every[est >= 0.5].tolist()
    assert looked >= len(every) and 0 < len(kept) < len(every)
