"""Which similar pairs are the same request (harness/pairs.py), and clusters without chaining."""

import numpy as np
import pytest

from harness.clusters import cluster_rows, star_clusters
from harness.pairs import canonical_words, differing_words, rare_words, same_request
from harness.text import normalize_loose

COMMON = {w: 50 for w in "name game pin refund top up failed pending cash back why what address card change".split()}
RARE = rare_words(COMMON, 3)


def same(a: str, b: str, slots: bool = True) -> bool:
    return same_request(canonical_words(normalize_loose(a)), canonical_words(normalize_loose(b)), RARE, slots)


@pytest.mark.parametrize("a, b", [
    ("Hi, I want to change my PIN please", "I want to change my PIN"),             # greeting, filler
    ("I want to chnage my PIN", "I want to change my PIN"),                         # typo
    ("What's my balance?", "what is my balance"),                                    # contraction, case, punctuation
    ("my top up didn't work", "my topup did not work"),                              # spacing
    ("can you transfer $50 to my savings", "could you transfer $75 to my savings"),  # modal, amount
    ("I need to cancel my card. Thanks, Ana", "I need to cancel my card"),           # sign-off
    ("book a flight for march 3", "book a flight for april 5"),                      # date slot
])
def test_superficial_differences_are_the_same_request(a, b):
    assert same(a, b)


@pytest.mark.parametrize("a, b", [
    ("What is taking so long with my refund?", "What is taking so long with my top up?"),
    ("I want to change my name.", "I want to change my PIN."),
    ("How do I go about changing my address?", "How do I go about changing my PIN?"),
    ("why is my transfer failed", "why is my transfer pending"),
    ("why do I need to verify", "what do I need to verify"),
    ("I want cash", "I want cash back"),
    ("I want to change my name", "I want to change my game"),   # one letter apart, both common words: no typo
])
def test_one_deciding_word_makes_a_different_request(a, b):
    assert not same(a, b)


def test_slot_values_count_only_for_classification_inputs():
    a, b = "where is parcel 48213", "where is parcel 99120"
    assert same(a, b, slots=True) and not same(a, b, slots=False)


def test_differing_words_names_what_differs():
    wa, wb = differing_words("i want to change my name".split(), "i want to change my pin".split())
    assert (wa, wb) == (["name"], ["pin"])


def test_star_clusters_do_not_chain():
    # 0~1, 1~2, 2~3: a chain. Components would put all four together; stars keep every member a
    # duplicate of its representative.
    pairs = np.array([[0, 1], [1, 2], [2, 3]])
    stars = star_clusters(pairs, np.array([0.9, 0.8, 0.7]), np.arange(4))
    edges = {(0, 1), (1, 2), (2, 3)}
    for rep, members in stars:
        for m, _ in members:
            assert m == rep or (min(m, rep), max(m, rep)) in edges
    # 1 takes 0 and 2; 3's only duplicate is taken, and 3 is no duplicate of 1: it stays out.
    assert sorted(m for _, ms in stars for m, _ in ms) == [0, 1, 2]


def test_star_clusters_pick_the_best_connected_representative():
    pairs = np.array([[0, 5], [1, 5], [2, 5], [3, 4]])
    stars = star_clusters(pairs, np.ones(4), np.arange(6))
    assert stars[0][0] == 5 and {m for m, _ in stars[0][1]} == {0, 1, 2, 5}


def test_cluster_rows_adds_identical_copies_and_the_representative_row():
    stars = [(2, [(2, 1.0), (7, 0.8)])]
    groups = cluster_rows(stars, {2: [4, 9], 7: [1], 3: [5, 6], 8: [0]})
    assert groups == [([1, 4, 9], 0.8, 0.8, 4), ([5, 6], 1.0, 1.0, 5)]


def test_a_negation_on_one_side_of_a_short_difference_is_found():
    from harness.pairs import negation_differs

    words = lambda s: canonical_words(normalize_loose(s))  # noqa: E731
    assert negation_differs(words("that is not false"), words("that is false"))
    assert negation_differs(words("I don't want the card"), words("I want the card"))
    assert not negation_differs(words("that is false"), words("that is wrong"))
    assert not negation_differs(words("no I do not"), words("no I do not"))
    # A "not" among many changed words says nothing about the pair.
    assert not negation_differs(words("the parcel did not arrive on time yesterday evening"),
                                words("the parcel arrived broken and the box was torn"))
