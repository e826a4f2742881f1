"""Which similar pairs are the same request (harness/auditing/pairs.py), and clusters without chaining."""

import numpy as np
import pytest

from harness.auditing.clusters import cluster_rows, star_clusters
from harness.auditing.pairs import canonical_words, differing_words, rare_words, same_request
from harness.core.text import normalize_loose

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
    # 1 takes 0 and 2; 3 is no duplicate of 1, and its only duplicate (2) is taken: 3 leads a star of its
    # own with 2, so no text with a duplicate goes unreported.
    assert [(rep, sorted(m for m, _ in ms)) for rep, ms in stars] == [(1, [0, 1, 2]), (3, [2, 3])]


def test_star_clusters_pick_the_best_connected_representative():
    pairs = np.array([[0, 5], [1, 5], [2, 5], [3, 4]])
    stars = star_clusters(pairs, np.ones(4), np.arange(6))
    assert stars[0][0] == 5 and {m for m, _ in stars[0][1]} == {0, 1, 2, 5}


def test_cluster_rows_adds_identical_copies_and_the_representative_row():
    stars = [(2, [(2, 1.0), (7, 0.8)])]
    groups = cluster_rows(stars, {2: [4, 9], 7: [1], 3: [5, 6], 8: [0]})
    assert groups == [([1, 4, 9], 0.8, 0.8, 4), ([5, 6], 1.0, 1.0, 5)]


def test_a_negation_on_one_side_of_a_short_difference_is_found():
    from harness.auditing.pairs import negation_differs

    words = lambda s: canonical_words(normalize_loose(s))  # noqa: E731
    assert negation_differs(words("that is not false"), words("that is false"))
    assert negation_differs(words("I don't want the card"), words("I want the card"))
    assert not negation_differs(words("that is false"), words("that is wrong"))
    assert not negation_differs(words("no I do not"), words("no I do not"))
    # A "not" among many changed words says nothing about the pair.
    assert not negation_differs(words("the parcel did not arrive on time yesterday evening"),
                                words("the parcel arrived broken and the box was torn"))


# ---- issue 29: copies as users make them, decided from the data ------------------------------------

def _vocab_same(a: str, b: str, counts=None, shares=None) -> bool:
    from harness.auditing.pairs import Vocabulary, clause_starts
    from harness.core.text import normalize

    vocab = Vocabulary(counts if counts is not None else COMMON, 3, shares)
    return same_request(canonical_words(normalize_loose(a)), canonical_words(normalize_loose(b)), vocab, True,
                        vocab.neutral, (clause_starts(normalize(a)), clause_starts(normalize(b))))


@pytest.mark.parametrize("a, b", [
    ("Hello again, Hello, my PIN got blocked", "my PIN got blocked"),                 # unlisted greeting
    ("my card was charged. Kind regards. Sent from my phone.", "my card was charged"),  # unlisted sign-off
    ("Howdy partner, my refund is pending", "my refund is pending"),                  # rare words, set off
    ("I tihnk sofeone took my card", "I think someone took my card"),                 # two typos in a row
    ("i tried to top up butitfailed", "i tried to top up but it failed"),            # merged words
    ("why is th refund pending", "why is the refund pending"),                        # short typo'd word
    ("when wll my card arrive", "when will my card arrive"),                          # typo of a unified form
])
def test_copies_with_unlisted_openings_closings_and_typos_are_the_same_request(a, b):
    counts = {**COMMON, "the": 900, "th": 6, "think": 40, "someone": 30, "took": 30, "tried": 30, "but": 80,
              "it": 200, "is": 300, "my": 900, "will": 100, "arrive": 40, "blocked": 30, "got": 40, "charged": 30}
    assert _vocab_same(a, b, counts, {"th": 0.2})   # "th": six rows, spread over the labels


@pytest.mark.parametrize("a, b", [
    ("the parcel 👍", "the parcel 👎"),                                     # a symbol decides
    ("inform eric of my current location", "my current location"),        # a verb run into the request
    ("did i put bread on my shopping list", "put bread on my shopping list"),
    ("can you tell me the time", "can you tell me the date"),              # a changed closing word
    ("my card was stolen. Also I want a refund.", "my card was stolen"),   # an added clause that asks more
])
def test_added_or_changed_words_that_decide_make_a_different_request(a, b):
    # "refund" points to one label in this data; "time" and "date" spread over many
    shares = {"refund": 0.9, "time": 0.1, "date": 0.1}
    counts = {**COMMON, "refund": 60, "time": 50, "date": 50, "also": 20, "want": 80}
    assert not _vocab_same(a, b, counts, shares)


@pytest.mark.parametrize("a, b", [
    ("Why haasn't my transfer come through?", "Why hasn't my transfer come through?"),     # typo'd negation
    ("I lost my card. Thanks. Thanks a million!!", "I lost my card. Thanks."),          # "thanks" typed twice
    ("Hey hey, my PIN is blocked for my friend Tuanks. Thanks a million!!",            # a typo beside a cut
     "my PIN is blocked for my friend Thanks."),                                         #   closing
])
def test_typos_beside_openings_and_closings_are_the_same_request(a, b):
    counts = {**COMMON, "has": 100, "transfer": 60, "come": 40, "through": 40, "lost": 60, "my": 900,
              "thanks": 300, "blocked": 30, "for": 300, "friend": 40, "is": 300}
    assert _vocab_same(a, b, counts, {"thanks": 0.1, "friend": 0.1, "million": 0.1})


def test_a_sign_off_cut_from_one_row_does_not_excuse_the_other_rows_added_words():
    """"... declined from abroad" / "... declined. Thank you!": once the thank-you is cut, what is left
    ("from abroad") is the first row's, run into its request: it decides, however the thank-you is set off."""
    counts = {**COMMON, "declined": 60, "payment": 60, "from": 200, "abroad": 40, "thank": 200, "you": 300}
    shares = {"from": 0.1, "abroad": 0.1, "thank": 0.1, "you": 0.1}
    assert not _vocab_same("the card payment was declined from abroad", "the card payment was declined. Thank you!",
                           counts, shares)
    assert _vocab_same("the card payment was declined", "the card payment was declined. Thank you!", counts, shares)


def _with_closings(texts: list[str], counts: dict, shares: dict):
    """Each text's canonical words and clause starts, with the closings the texts set off (pairs.py)."""
    from harness.auditing.pairs import Vocabulary, clause_starts, closing_clauses, run_in_closings
    from harness.core.text import normalize

    vocab = Vocabulary(counts, 3, shares)
    rows = [(canonical_words(normalize_loose(t)), clause_starts(normalize(t))) for t in texts]
    closings = closing_clauses(rows, vocab.neutral, True)
    return vocab, closings, [(w, run_in_closings(w, s, closings)) for w, s in rows]


def test_a_closing_the_data_sets_off_elsewhere_ends_a_row_that_runs_it_in():
    """"Talk soon" set off after one request is a closing after another too, with no stop before it
    ("My card has not arrived yet Talk soon"); an ending the data never sets off ("... in London") and one
    that holds a word pointing to a label ("... with a cheque") stay part of the request."""
    counts = {**COMMON, "my": 900, "has": 100, "not": 200, "arrived": 60, "yet": 40, "talk": 6, "soon": 6,
              "is": 300, "blocked": 60, "in": 200, "london": 6, "with": 200, "a": 400, "cheque": 40}
    shares = {"talk": 0.1, "soon": 0.1, "london": 0.1, "cheque": 0.9, "with": 0.1}
    texts = ["my pin is blocked. Talk soon.", "top up failed, with a cheque",
             "my card has not arrived yet Talk soon", "my card has not arrived yet",
             "my pin is blocked in London", "my pin is blocked",
             "top up failed with a cheque", "top up failed"]
    vocab, closings, rows = _with_closings(texts, counts, shares)
    assert ("talk", "soon") in closings and ("with", "a", "cheque") not in closings

    def same_rows(i, j):
        return same_request(rows[i][0], rows[j][0], vocab, True, vocab.neutral, (rows[i][1], rows[j][1]))

    assert same_rows(2, 3)
    assert not same_rows(4, 5) and not same_rows(6, 7)


def test_filler_words_that_decide_a_label_are_not_swapped_and_negations_are_no_typos():
    """"thank you" points to a thank-you intent in this data: "why thank you" is not "why hello"; "thank
    you" / "thanks" is still one request, and "really" added is still a filler. "not" one letter from a
    rarer "lot" is no typo of it."""
    from harness.auditing.pairs import Vocabulary

    counts = {**COMMON, "why": 80, "thank": 60, "thanks": 60, "you": 300, "hello": 60, "i": 900, "do": 300,
              "not": 300, "really": 40, "mind": 40, "lot": 8, "a": 500}
    vocab = Vocabulary(counts, 3, {"thank": 0.9, "thanks": 0.9, "hello": 0.4, "really": 0.8, "why": 0.2, "you": 0.2})

    def same_(a, b):
        return same_request(canonical_words(normalize_loose(a)), canonical_words(normalize_loose(b)), vocab, True)

    assert not same_("why thank you", "why hello")
    assert same_("oh thank you", "oh thanks")
    assert same_("i do not really mind", "i do not mind")
    assert not same_("not really", "thanks a lot")
    # Rows of filler, greeting and function words only are requests of their own (a thank-you, a greeting).
    assert not same_("you're the best!", "are you well")
    assert same_("thank you", "thnak you") and same_("let us do it again please", "let's do it again")


def test_a_request_s_own_last_words_are_no_closing_and_end_no_opening():
    """"the exchange rate was wrong" set off once ("I bought something, the exchange rate was wrong") but
    run into requests more often is no closing; and where a closing may begin is no place for an opening
    to end: "When I got cash the exchange rate was wrong" is not "The exchange rate was wrong?"."""
    from harness.auditing.pairs import closing_counts, detachable, edge_cuts, run_in_closings

    words = canonical_words(normalize_loose("When I got cash the exchange rate was wrong"))
    phrase = ("the", "exchange", "rate", "was", "wrong")
    texts = [(canonical_words(normalize_loose(t)), st) for t, st in (
        ("I bought something the exchange rate was wrong", frozenset({3})),
        ("When I got cash the exchange rate was wrong", frozenset()),
        ("after my trip the exchange rate was wrong", frozenset()))]
    assert closing_counts(texts, {phrase}) == {phrase: [3, 1]} and not detachable(closing_counts(texts, {phrase}))
    starts = run_in_closings(words, frozenset(), {phrase})
    assert starts == {-4}                                  # a closing may begin at "the", no opening ends there
    neutral = lambda w: True  # noqa: E731
    assert all(k == 0 for k, _ in edge_cuts(words, starts, neutral, True))
    vocab = rare_words({**COMMON, "exchange": 60, "rate": 60, "was": 300, "wrong": 60, "got": 60, "when": 60}, 3)
    assert not same_request(words, canonical_words(normalize_loose("The exchange rate was wrong?")), vocab, True,
                            neutral, (starts, frozenset()))


def test_misspelt_merged_words_and_ambiguous_long_words_in_candidate_keys():
    from harness.auditing.candidate_keys import candidate_key, candidate_keys, spelling_corrections

    counts = {"virtual": 40, "card": 400, "cards": 30, "crads": 1, "virtualcrad": 1, "exchange": 90, "change": 70,
              "echange": 1, "the": 900, "weekend": 30, "thewekend": 1, "hi": 300, "my": 900, "was": 300,
              "stolen": 50, "cardwasstolen": 1, "rate": 90, "what": 200, "is": 400}
    plain = spelling_corrections(counts, 3)
    fixes = spelling_corrections(counts, 3, misspelt_parts=True)
    assert "virtualcrad" not in plain                      # a misspelt part is a guess: only the keys ask for it
    assert fixes["virtualcrad"] == "virtual card" and fixes["thewekend"] == "the weekend"
    assert fixes["crads"] == "card"                        # "crads" -> "cards" -> "card"
    assert "echange" not in fixes and "echange" in fixes.ambiguous   # "exchange" or "change": kept as written
    assert candidate_key("what is the echange rate", fixes, counts, 3) == "what echange rate"
    # A short request is also looked up by its words, misspellings put right: "hi my cardwasstolen" is found.
    assert candidate_keys("hi my cardwasstolen", fixes, counts, 3) == ["hi my cardwasstolen",
                                                                      "my card was stolen"]
    assert "my card was stolen" in candidate_keys("hi my card was stolen", fixes, counts, 3)


def test_a_copy_that_adds_only_a_greeting_is_looked_up_without_it():
    """When the last clause looks like filler too ("..., what's wrong again? Thanks."), the shortest request
    left cuts it; the key without only the opening is looked up as well, so a copy with a greeting added
    ("Hello there my friends, top up failed, ...") meets its original (issue 29, planted seed 10)."""
    from harness.auditing.candidate_keys import candidate_keys
    from harness.auditing.pairs import canonical_words, clause_starts
    from harness.core.text import normalize

    counts = {w: 50 for w in "top up failed what is wrong again thanks hello there my friends".split()}
    text = "hello there my friends top up failed what s wrong again thanks"
    words = canonical_words(text)
    starts = clause_starts(normalize("HELLO THERE MY FRIENDS, TOP UP FAILED, WHAT'S WRONG AGAIN? THANKS."))
    keys = candidate_keys(text, {}, counts, 3, words, starts, lambda w: True, True)
    assert "top failed what wrong" in keys


def test_look_alike_letters_fold_and_emoji_stay_words():
    assert normalize_loose("Hеllo, hоw dо I requеst a refund?") == "hello how do i request a refund"  # Cyrillic е, о
    assert normalize_loose("the parcel👍") == "the parcel 👍"
    assert normalize_loose("plain ascii stays") == "plain ascii stays"


def test_spelling_corrections_come_from_the_data():
    from harness.auditing.candidate_keys import spelling_corrections

    counts = {"card": 400, "caard": 5, "pick": 40, "back": 60, "pack": 1, "of": 500, "for": 400, "fo": 4,
              "but": 80, "it": 200, "failed": 50, "butitfailed": 1, "how": 240, "two": 30, "hwo": 3}
    fixes = spelling_corrections(counts, 3)
    assert fixes["caard"] == "card"                  # 80x rarer, one edit away
    assert "pack" not in fixes                       # "pick" or "back": no guess
    assert fixes["hwo"] == "how"                     # "how" or "two": the one with the same letters swapped
    assert fixes["butitfailed"] == "but it failed"   # merged words
    assert "card" not in fixes and "pick" not in fixes


def test_planted_banking_copies_are_found_without_false_findings(tmp_path):
    """examples/make_banking.py: unlisted greetings and sign-offs, several typos, short typo'd words,
    look-alike letters, among sibling intents that differ in one deciding word. Measured on seeds 0-7
    (bench/planted_copies.py): near-duplicate pair recall 0.983-1.00, conflicts 0.967-1.00, leakage
    1.00, precision 1.00 (issue 29's target, recall >= 0.95 on every seed, is met)."""
    import sys

    import harness

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[1] / "examples"))
    import make_banking
    import score_planted

    made = make_banking.make(seed=0)
    make_banking.write(tmp_path, made)
    result = harness.audit(str(tmp_path / "train.jsonl"), str(tmp_path / "eval.jsonl"))
    got = score_planted.score(result, made["truth"])
    assert got["near_duplicates.recall"] >= 0.95 and got["label_conflicts.recall"] >= 0.95
    assert got["near_duplicates.row_recall"] >= 0.95 and got["label_conflicts.row_recall"] >= 0.95
    assert got["leakage.recall"] >= 0.95
    for check in ("near_duplicates", "label_conflicts", "leakage"):
        assert got[f"{check}.precision"] >= 0.98, (check, got)
    assert got["near_duplicates.recall.homoglyph"] == 1.0 and got["leakage.recall.homoglyph"] == 1.0


def test_rows_that_share_no_content_word_are_one_request_only_up_to_a_misspelling_of_a_frequent_word():
    """Judged on person names: lone names one letter apart ("PAM" / "SAM", "CHUNG" / "CHONG", "DANIEL" /
    "DANIELS") are different names, and "WILL" / "MAY" are no interchangeable request forms without a
    verb after them. A rare variant of a frequent word is still a typo, and so is a plural of a frequent
    word, where nothing else is shared ("balanse" / "balance", "a pet" / "pets")."""
    from harness.auditing.pairs import Vocabulary, canonical_words, same_request

    vocab = Vocabulary({"pam": 1, "sam": 1, "chung": 2, "chong": 1, "daniel": 2, "daniels": 1, "balance": 50,
                        "think": 40, "someone": 30, "saw": 20, "it": 200, "i": 500, "pet": 12, "pets": 40,
                        "help": 80}, 3)

    def same(a, b):
        return same_request(canonical_words(a), canonical_words(b), vocab, slots=False)

    for a, b in [("pam", "sam"), ("chung", "chong"), ("daniel", "daniels"), ("will", "may")]:
        assert not same(a, b), (a, b)
    for a, b in [("balanse", "balance"), ("i tihnk sofeone sawit", "i think someone saw it"),
                 ("do you have a pet", "do you have pets"), ("could you help", "can you help"),
                 ("pam smith", "pam smiht")]:
        assert same(a, b), (a, b)
