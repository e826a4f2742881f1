"""The near-duplicate engine: shingles, signatures, LSH candidates and verification."""

import numpy as np

from harness.similarity import candidate_probability, jaccard, lsh_pairs, shingle_hashes, signatures, similar_pairs


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
