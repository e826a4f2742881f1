"""Is a similar pair the same request? Character overlap says two rows look alike; it cannot tell a
filler word from the one word that decides the request ("refund" / "top up", "name" / "PIN"). So a
candidate pair from the MinHash index is a duplicate only when every word that differs, after
aligning the two rows word by word (Levenshtein over words), is superficial: a typo of its counterpart (a rare word within a
small edit distance), case or punctuation (gone in the similarity key), spacing ("top up" / "topup"),
a contraction, a filler or politeness word, a greeting at the start or a sign-off at the end, and — for
classification inputs only — a slot value (a number, a date word). Any other differing word makes a
different request, and the pair is not reported as a duplicate, a leak or a conflict.

Works on similarity keys (harness.text.normalize_loose: casefolded, punctuation gone)."""

from __future__ import annotations

from collections.abc import Callable
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

# Words whose presence or absence never changes what is asked. Kept short on purpose: question words,
# negation, prepositions and pronouns do change requests ("why" / "what", "to" / "from", "not").
FILLERS = frozenset("""a an the please pls plz kindly just really actually quickly quick um uh umm hmm
    ok okay so well also now there hi hello hey dear thanks thank thx ty you greetings""".split())
# Words that open a greeting (a segment added at the very start) or a sign-off (at the very end), so
# "hi team" and "thanks, Ana" are superficial there and nowhere else.
GREETINGS = frozenset("hi hiya hello hey dear greetings morning afternoon evening".split())
SIGN_OFFS = frozenset("thanks thank thx ty cheers regards sincerely br rgds appreciate appreciated".split())
# Interchangeable request forms ("can you" / "could you").
_EQUIVALENT = {"could": "can", "would": "can", "will": "can", "may": "can", "might": "can",
               "wanna": "want", "gotta": "got", "u": "you", "ur": "your", "im": "i", "pls": "please",
               "plz": "please", "thx": "thanks", "ty": "thanks"}
# Contractions after punctuation is dropped: "what's" -> "what s", "don't" -> "don t".
_CONTRACTED = {"s": "is", "re": "are", "m": "am", "ll": "will", "ve": "have", "d": "would", "t": "not"}
_NEGATED = {"don": "do", "doesn": "does", "didn": "did", "can": "can", "won": "will", "isn": "is",
            "aren": "are", "wasn": "was", "weren": "were", "haven": "have", "hasn": "has", "couldn": "could",
            "wouldn": "would", "shouldn": "should"}
# Words that turn a request into its opposite ("that is not false" / "that is false"); sentence embeddings
# are known to score such pairs as near identical.
NEGATIONS = frozenset("not no never nothing none nobody neither nor without".split())
MONTHS_DAYS = frozenset("""january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday today tomorrow yesterday""".split())


def canonical_words(key: str) -> list[str]:
    """A similarity key as words, with contractions spelled out and interchangeable forms unified."""
    raw = key.split()
    out: list[str] = []
    for i, w in enumerate(raw):
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if w in _NEGATED and nxt == "t":
            out.append(_NEGATED[w])
            continue
        if w in _CONTRACTED and i > 0:
            out.append(_CONTRACTED[w])
            continue
        if w == "cannot":
            out += ["can", "not"]
            continue
        out.append(_EQUIVALENT.get(w, w))
    return out


def is_typo(a: str, b: str, rare: Callable[[str], bool]) -> bool:
    """A misspelling of its counterpart: within edit distance 1 (2 from 8 letters on), and at least one
    of the two words rare in the data (a misspelling is rare; "name" / "game" both common is not a typo),
    or the two differing only by a plural s."""
    if a == b:
        return True
    if a.isdigit() or b.isdigit():
        return False
    short, long_ = sorted((a, b), key=len)
    if long_ in (short + "s", short + "es"):
        return True
    if len(short) < 3:
        return False
    limit = 2 if len(short) >= 8 else 1
    return DamerauLevenshtein.distance(a, b, score_cutoff=limit) <= limit and (rare(a) or rare(b))


def is_slot(a: str, b: str) -> bool:
    """Both words are values of one slot: numbers (amounts, ids, times) or date words."""
    return (any(c.isdigit() for c in a) and any(c.isdigit() for c in b)) or (a in MONTHS_DAYS and b in MONTHS_DAYS)


def _pair_ok(x: str, y: str, rare: Callable[[str], bool], slots: bool) -> bool:
    return x == y or is_typo(x, y, rare) or (slots and is_slot(x, y)) or (x in FILLERS and y in FILLERS)


def _superficial_segment(a: list[str], b: list[str], rare: Callable[[str], bool], slots: bool) -> bool:
    if len(a) == len(b) and all(_pair_ok(x, y, rare, slots) for x, y in zip(a, b)):
        return True                             # typos ("pease" / "please"), slot values, filler swaps
    a = [w for w in a if w not in FILLERS]
    b = [w for w in b if w not in FILLERS]
    if not a and not b:
        return True
    if "".join(a) == "".join(b):               # spacing: "top up" / "topup"
        return True
    if len(a) == len(b) and all(_pair_ok(x, y, rare, slots) for x, y in zip(a, b)):
        return True
    if not a or not b:                          # a pure insertion of content words
        return slots and all(any(c.isdigit() for c in w) for w in (a or b))
    joined_a, joined_b = "".join(a), "".join(b)  # a split or merged misspelling: "log in" / "loginn"
    return DamerauLevenshtein.distance(joined_a, joined_b, score_cutoff=1) <= 1 and any(map(rare, a + b))


def _like(word: str, vocabulary: frozenset[str], rare: Callable[[str], bool]) -> bool:
    """The word is in the vocabulary, or a rare misspelling of one of its words ("tianks")."""
    return word in vocabulary or (len(word) >= 4 and rare(word) and any(
        DamerauLevenshtein.distance(word, v, score_cutoff=1) <= 1 for v in vocabulary if len(v) >= 4))


_ADDRESSEES = frozenset("team there all everyone support guys folks sir madam".split())
_GREETING_PAIRS = frozenset({("good", "morning"), ("good", "afternoon"), ("good", "evening"), ("good", "day")})
_CLOSING = SIGN_OFFS | {"best"}
_CLOSING_FIRST = frozenset("kind warm many best".split())   # only before "regards", "thanks", "wishes"


def _cut_greeting(seg: list[str], rare: Callable[[str], bool]) -> list[str]:
    """The segment without a leading greeting ("hello support team", "hiya", "good morning") and the
    addressee or name right after it."""
    k = 0
    if seg and tuple(seg[:2]) in _GREETING_PAIRS:
        k = 2
    elif seg and _like(seg[0], GREETINGS, rare):
        k = 1
    if not k:
        return seg
    while k < len(seg) and (seg[k] in _ADDRESSEES or seg[k] in GREETINGS or seg[k] in FILLERS):
        k += 1
    return seg[k:]


def _cut_sign_off(seg: list[str], rare: Callable[[str], bool]) -> list[str]:
    """The segment without a trailing sign-off: from the first closing word ("thanks", "tianks",
    "best", "kind regards", "appreciate it") within its last six words to the end (a name may follow)."""
    for p in range(max(0, len(seg) - 6), len(seg)):
        if _like(seg[p], _CLOSING, rare) or (seg[p] in _CLOSING_FIRST and p + 1 < len(seg)
                                             and seg[p + 1] in ("regards", "thanks", "wishes")):
            return seg[:p]
    return seg


def _segments(a: list[str], b: list[str]) -> list[tuple[int, int, int, int]]:
    """The differing stretches of an alignment of two word lists, (i1, i2, j1, j2) each: runs of
    adjacent edits merged, so "top up" / "topup" is one stretch. rapidfuzz's Levenshtein alignment over
    word lists: 13x faster than difflib here, and the audit aligns every candidate pair (~350k on a
    200k-row templated set)."""
    out: list[list[int]] = []
    for tag, i1, i2, j1, j2 in Levenshtein.opcodes(a, b):
        if tag == "equal":
            continue
        if out and out[-1][1] == i1 and out[-1][3] == j1:
            out[-1][1], out[-1][3] = i2, j2
        else:
            out.append([i1, i2, j1, j2])
    return [tuple(x) for x in out]


def differing_words(a: list[str], b: list[str]) -> tuple[list[str], list[str]]:
    """The words of each side outside the aligned common runs."""
    segs = _segments(a, b)
    return [w for i1, i2, _, _ in segs for w in a[i1:i2]], [w for _, _, j1, j2 in segs for w in b[j1:j2]]


def negation_differs(a: list[str], b: list[str], max_words: int = 2) -> bool:
    """True when two texts that differ in at most `max_words` words a side differ by a negation on one
    side ("that is not false" / "that is false"). Longer differences are not judged: a "not" among many
    changed words says nothing about the pair."""
    only_a, only_b = differing_words(a, b)
    if len(only_a) > max_words or len(only_b) > max_words:
        return False
    return bool(NEGATIONS.intersection(only_a) ^ NEGATIONS.intersection(only_b))


def same_request(a: list[str], b: list[str], rare: Callable[[str], bool], slots: bool) -> bool:
    """True when every difference between the canonical word lists is superficial (module docstring)."""
    if a == b:
        return True
    for i1, i2, j1, j2 in _segments(a, b):
        seg_a, seg_b = a[i1:i2], b[j1:j2]
        if i2 == len(a) and j2 == len(b):       # at the end: a sign-off added or changed
            seg_a, seg_b = _cut_sign_off(seg_a, rare), _cut_sign_off(seg_b, rare)
        if i1 == 0 and j1 == 0:                 # at the start: a greeting
            seg_a, seg_b = _cut_greeting(seg_a, rare), _cut_greeting(seg_b, rare)
        if not _superficial_segment(seg_a, seg_b, rare, slots):
            return False
    return True


def rare_words(counts: dict[str, int] | None, max_rows: int) -> Callable[[str], bool]:
    """rare(word): the word occurs in at most `max_rows` distinct texts (unknown words are rare)."""
    counts = counts or {}
    return lambda w: counts.get(w, 0) <= max_rows


def same_request_mask(texts: list[str], pairs, counts: dict[str, int] | None, conf: dict, slots: bool):
    """For each candidate pair (i, j) of `texts` (similarity keys), whether it is the same request.
    conf: the policy's `similarity` section (its `rare_word_rows`)."""
    import numpy as np

    rare = rare_words(counts, int(conf.get("rare_word_rows", 3)))
    cache: dict[int, list[str]] = {}

    def words_of(i: int) -> list[str]:
        got = cache.get(i)
        if got is None:
            got = cache[i] = canonical_words(texts[i])
        return got

    return np.fromiter((same_request(words_of(a), words_of(b), rare, slots) for a, b in np.asarray(pairs).tolist()),
                       dtype=bool, count=len(pairs))


NUMBER_WORDS = frozenset("""zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred
    thousand million billion half halves twice thrice third thirds quarter quarters fourth fourths fifth
    fifths double triple dozen""".split())


def numbers_in(key: str) -> list[str]:
    """The numbers a text states, digits and number words, sorted: two maths problems or two
    extraction messages with different numbers are different requests, however alike their wording."""
    return sorted(w for w in key.split() if any(c.isdigit() for c in w) or w in NUMBER_WORDS)
