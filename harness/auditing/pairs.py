"""Is a similar pair the same request? Character overlap says two rows look alike; it cannot tell a
filler word from the one word that decides the request ("refund" / "top up", "name" / "PIN"). So a
candidate pair from the MinHash index is a duplicate only when every word that differs, after
aligning the two rows word by word (Levenshtein over words), is superficial: a typo of its counterpart
(a rare word within a small edit distance, several in one row, split or merged words included), case,
punctuation and look-alike letters of other scripts (gone in the similarity key), spacing ("top up" /
"topup"), a contraction, a filler word, and — for classification inputs only — a slot value (a number,
a date word). Words added to one row at its very start or end (greetings, sign-offs, "Sent from my
phone") are superficial when none of them carries label information in this data set: each is
a listed greeting or sign-off word, a rare word, or (classification) a word whose rows spread over the
labels instead of pointing to one (`word_label_shares`), so the data, not a hand list, decides what an
opening or closing may hold. An opening or closing is set off from the request by punctuation, or
(closings) is one the data sets off after other requests ("... arrive? Talk soon." makes "Talk soon" a
closing of "my card has not arrived yet Talk soon": `closing_clauses`). Words changed there ("tell me the
time" / "... the date", "read me" / "order") decide like any other, and so do filler words that point to a
label here ("why thank you" / "why hello"); a row of such words only is a request of its own. Any other
differing word makes a different request, and the pair is not reported as a duplicate, a leak or a
conflict.

Works on similarity keys (harness.core.text.normalize_loose: casefolded, punctuation gone)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import regex
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

# Words whose presence or absence never changes what is asked. Kept short on purpose: question words,
# negation, prepositions and pronouns do change requests ("why" / "what", "to" / "from", "not").
FILLERS = frozenset("""a an the please pls plz kindly just really actually quickly quick um uh umm hmm
    ok okay so well also now there hi hello hey dear thanks thank thx ty you greetings""".split())
# Words that open a greeting (a segment added at the very start) or a sign-off (at the very end), so
# "hi team" and "thanks, Ana" are superficial there and nowhere else.
GREETINGS = frozenset("hi hiya hello hey dear greetings morning afternoon evening".split())
SIGN_OFFS = frozenset("thanks thank thx ty cheers regards sincerely br rgds appreciate appreciated".split())
# Interchangeable request forms ("can you" / "could you"). The modal verbs only before another word:
# a row's last word "will" or "may" is no request form ("MAY" in a list of names, "... in May").
_MODALS = {"could": "can", "would": "can", "will": "can", "may": "can", "might": "can"}
_EQUIVALENT = {**_MODALS, "wanna": "want", "gotta": "got", "u": "you", "ur": "your", "im": "i", "pls": "please",
               "plz": "please", "thx": "thanks", "ty": "thanks"}
# Contractions after punctuation is dropped: "what's" -> "what s", "don't" -> "don t".
_CONTRACTED = {"s": "is", "re": "are", "m": "am", "ll": "will", "ve": "have", "d": "would", "t": "not"}
_NEGATED = {"don": "do", "doesn": "does", "didn": "did", "can": "can", "won": "will", "isn": "is",
            "aren": "are", "wasn": "was", "weren": "were", "haven": "have", "hasn": "has", "couldn": "could",
            "wouldn": "would", "shouldn": "should"}
# Negated auxiliaries written without the apostrophe; "cant" and "wont" are words, but rare beside these.
_APOSTROPHE_LESS = frozenset(w + "t" for w in _NEGATED if w not in ("can",)) | {"cant"}
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
        if nxt == "t" and len(w) >= 3 and w.endswith("n") and w.isalpha():
            out.append(w[:-1])                  # "haasn't": a misspelt "hasn't" is "haas not", a typo of "has not"
            continue
        if w in _CONTRACTED and i > 0:
            out.append(_CONTRACTED[w])
            continue
        if w == "cannot":
            out += ["can", "not"]
            continue
        if w in _APOSTROPHE_LESS:               # "isnt" / "isn't"
            out += [_NEGATED[w[:-1]], "not"]
            continue
        if nxt or w not in _MODALS:
            w = _EQUIVALENT.get(w, w)
        if out and out[-1] == w and w.isalpha():
            continue                            # a word typed twice: "to to top up"
        out.append(w)
    return out


def is_typo(a: str, b: str, rare: Callable[[str], bool]) -> bool:
    """A misspelling of its counterpart: within edit distance 1 (2 from 8 letters on), and at least one
    of the two words rare in the data (a misspelling is rare; "name" / "game" both common is not a typo)
    or, with a `Vocabulary`, the one a far rarer variant of the other ("th" in 6 rows, "the" in 900),
    or the two differing only by a plural s. With a strict `Vocabulary` (`same_request`: the two words are
    all the two rows ask) only a variant far rarer than a frequent word ("balanse" / "balance") or a
    plural of a word where both forms are frequent ("pet" / "pets"): two rare words one letter apart are
    two names ("PAM" / "SAM", "CHUNG" / "CHONG"), and so are a rare one and its plural ("DANIEL" /
    "DANIELS")."""
    if a == b:
        return True
    if a.isdigit() or b.isdigit():
        return False
    strict = getattr(rare, "strict", False)
    short, long_ = sorted((a, b), key=len)
    if long_ in (short + "s", short + "es"):
        return not (strict and (rare.counted_rare(a) or rare.counted_rare(b)))
    if len(short) < 2 or not (a.isalpha() and b.isalpha()):
        return False                            # "👍" / "👎" and one-letter words are never typos
    if (a in NEGATIONS) != (b in NEGATIONS):
        return False                            # "not" / "lot": a negation turns the request round
    limit = 2 if len(short) >= 8 else 1
    if DamerauLevenshtein.distance(a, b, score_cutoff=limit) > limit or (strict and rare.both_rare(a, b)):
        return False
    return rare(a) or rare(b) or (isinstance(rare, Vocabulary) and rare.misspelt(a, b))


_HAS_DIGIT = regex.compile(r"\d").search


def is_slot(a: str, b: str) -> bool:
    """Both words are values of one slot: numbers (amounts, ids, times) or date words."""
    return (_HAS_DIGIT(a) is not None and _HAS_DIGIT(b) is not None) or (a in MONTHS_DAYS and b in MONTHS_DAYS)


_SPELLED = {}
for _w, _c in _EQUIVALENT.items():
    _SPELLED.setdefault(_c, []).append(_w)


def _deciding(words: list[str], rare: Callable[[str], bool]) -> list[str]:
    """The listed filler words among `words` that point to a label in this data: "hello" and "thank you"
    are fillers in banking requests, and the request itself in a greeting or thank-you intent."""
    return [w for w in words if w in FILLERS and isinstance(rare, Vocabulary) and rare.decides(w)]


def _fillers_swapped(a: list[str], b: list[str], rare: Callable[[str], bool]) -> bool:
    """Both sides hold filler words, and one that points to a label has no counterpart (the same word
    up to a typo) on the other side: "why thank you" / "why hello" is a thank-you and a greeting; "thank
    you" / "thanks" is one request, and so is "i do not really mind" / "i do not mind"."""
    fa, fb = [w for w in a if w in FILLERS], [w for w in b if w in FILLERS]
    if not (fa and fb):
        return False
    return (any(not any(x == y or is_typo(x, y, rare) for y in fb) for x in _deciding(fa, rare))
            or any(not any(x == y or is_typo(x, y, rare) for x in fa) for y in _deciding(fb, rare)))


def _pair_ok(x: str, y: str, rare: Callable[[str], bool], slots: bool) -> bool:
    """One word against its aligned counterpart; a misspelling is judged against the word as written
    ("wll" / "will", which canonical_words spells "can")."""
    return (x == y or is_typo(x, y, rare) or (slots and is_slot(x, y))
            or (x in FILLERS and y in FILLERS and not _fillers_swapped([x], [y], rare))
            or any(is_typo(o, y, rare) for o in _SPELLED.get(x, ())) or any(is_typo(x, o, rare) for o in _SPELLED.get(y, ())))


def _respelled(a: list[str], b: list[str], rare: Callable[[str], bool]) -> bool:
    """The same letters up to misspellings, with words split or merged: "but it failed" / "butitfailed",
    "thank you" / "toankyou", "to top" / "trtop". One edit is allowed per rare word (a misspelling is
    rare; two common words are never respelled into each other), at most one per four letters."""
    joined_a, joined_b = "".join(a), "".join(b)
    if abs(len(joined_a) - len(joined_b)) > 3 or not (joined_a.isalpha() and joined_b.isalpha()):
        return False
    if getattr(rare, "strict", False):
        # Only a split or merge ("sawit" / "saw it"; one word against one is `_strict_typo`'s), and only
        # one side's words rare: the other side's are the frequent words they misspell.
        if len(a) == len(b):
            return False
        in_a, in_b = sum(map(rare.counted_rare, a)), sum(map(rare.counted_rare, b))
        rare_words = in_a if not in_b else (in_b if not in_a else 0)
    else:
        rare_words = sum(map(rare, a + b))
    edits = min(rare_words, len(min(joined_a, joined_b, key=len)) // 4, 3)
    return edits > 0 and DamerauLevenshtein.distance(joined_a, joined_b, score_cutoff=edits) <= edits


def _superficial_segment(a: list[str], b: list[str], rare: Callable[[str], bool], slots: bool) -> bool:
    """Whether one differing stretch is superficial, remembered per Vocabulary: on templated data the
    same stretches (two amounts, two merchants) recur in hundreds of thousands of candidate pairs."""
    memo = getattr(rare, "segments", None)
    if memo is None:
        return _superficial_stretch(a, b, rare, slots)
    key = (tuple(a), tuple(b), slots)
    got = memo.get(key)
    if got is None:
        got = memo[key] = _superficial_stretch(a, b, rare, slots)
    return got


def _superficial_stretch(a: list[str], b: list[str], rare: Callable[[str], bool], slots: bool) -> bool:
    if len(a) == len(b) and all(_pair_ok(x, y, rare, slots) for x, y in zip(a, b)):
        return True                             # typos ("pease" / "please"), slot values, filler swaps
    if a and b and ("".join(a) == "".join(b) or _respelled(a, b, rare)):
        return True                             # spacing ("top up" / "topup"), merged misspellings
    if _fillers_swapped(a, b, rare):
        return False
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
    return _respelled(a, b, rare)               # a split or merged misspelling: "log in" / "loginn"


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


# Closed-class words (pronouns, determiners, prepositions, conjunctions, auxiliaries): in an added
# opening or closing they ask nothing ("Greetings from Porto", "Hi guys and gals"). A closed class, so a
# list; between two rows' content they can decide ("to" / "from") and are not used there.
FUNCTION_WORDS = frozenset("""i me my mine myself we us our ours you your yours he him his she her hers it its they them
    their this that these those a an the some any each every all both and or but so yet for of to from in on at by
    with about as into onto over under again once here there then am is are was were be been being have has had
    do does did will would can could shall should may might must let lets up out off""".split())
# An e-mail client's signature line: from "sent from my" to the end is no part of the request.
_SIGNATURES = (("sent", "from", "my"), ("sent", "from", "an"), ("get", "outlook", "for"), ("sent", "via"))
_EDGE_WORDS = GREETINGS | SIGN_OFFS | FILLERS | _ADDRESSEES | _CLOSING_FIRST | {"best", "regards", "wishes"}


_SIGNATURE_FIRST = frozenset(s[0] for s in _SIGNATURES)


def _cut_signature(seg: list[str]) -> list[str]:
    # Only where a signature's first word stands: every text passes here several times (a third of the
    # per-text time on 40k order messages when each position was compared with every signature).
    for p, w in enumerate(seg):
        if w in _SIGNATURE_FIRST and any(tuple(seg[p:p + len(s)]) == s for s in _SIGNATURES):
            return seg[:p]
    return seg


def _edge_filler(seg: list[str], neutral: Callable[[str], bool], slots: bool) -> bool:
    """An opening or closing that asks nothing: every word a listed greeting or sign-off word, or a word
    without label information here (`neutral`), and no negation; numbers only where slots count."""
    return all(w in _EDGE_WORDS or w in FUNCTION_WORDS
               or (w not in NEGATIONS and neutral(w) and (slots or not any(c.isdigit() for c in w))) for w in seg)


# Punctuation between two digits ends no clause: "£12.00", "3:30", "1,500".
_CLAUSE_END = regex.compile(r"(?<!\d)[,.!?;:\n]+|[,.!?;:\n]+(?!\d)|\s[-\u2013\u2014]+\s")


def clause_starts(normalized: str) -> frozenset[int]:
    """Where a new clause begins in the row's canonical words (after a comma, a full stop, a colon, a
    dash...): a greeting or a sign-off is set off by punctuation ("Hello again, hello, my PIN..."), a
    request's own words are not ("inform eric of my current location"). normalized: the row as
    harness.core.text.normalize gives it, punctuation kept. Empty when the clauses do not add up to the
    row's words (then no opening or closing is accepted beyond the listed words)."""
    from harness.core.text import normalize_loose

    starts, n, last = set(), 0, ""
    for clause in _CLAUSE_END.split(normalized):
        words = canonical_words(normalize_loose(clause))
        if words and words[0] == last and last.isalpha():
            words = words[1:]                   # typed twice across the stop, kept once: "thanks. thanks a lot"
        if words and n:
            starts.add(n)
        n += len(words)
        last = words[-1] if words else last
    return frozenset(starts) if n == len(canonical_words(normalize_loose(normalized))) else frozenset()


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


def _slide(a: list[str], b: list[str], i1: int, i2: int, j1: int, j2: int) -> tuple[int, int, int, int]:
    """A pure insertion moved to the end or the start of the rows when the words allow it: "please help"
    / "please help appreciate your help" aligns the added words as "help appreciate your" before the
    last "help"; slid to the end they are the closing "appreciate your help"."""
    if (i1 == i2) == (j1 == j2):
        return i1, i2, j1, j2
    flip = i1 != i2                             # the insertion is on a's side: work as if it were b's
    short, long_, at, lo, hi = (b, a, j1, i1, i2) if flip else (a, b, i1, j1, j2)
    w = hi - lo
    if short[at:] == long_[hi:] and long_[hi:] == long_[lo:len(long_) - w]:
        at, lo, hi = len(short), len(long_) - w, len(long_)
    elif short[:at] == long_[:lo] and long_[:lo] == long_[w:hi]:
        at, lo, hi = 0, 0, w
    return (lo, hi, at, at) if flip else (at, at, lo, hi)


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


def same_request(a: list[str], b: list[str], rare: Callable[[str], bool], slots: bool,
                 neutral: Callable[[str], bool] | None = None,
                 starts: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset()),
                 cuts: tuple[list, list] | None = None) -> bool:
    """True when every difference between the canonical word lists is superficial (module docstring).
    neutral(word): the word carries no label information in this data (default: `rare`); starts: each
    row's clause starts (`clause_starts`): an added opening must end, and an added closing begin, at one.
    A typo beside an added opening or closing falls in one differing stretch with it ("abroad" /
    "aoroad looking forward to your reply"), and an opening can share a word with the request ("hello
    there my friends, my cerd..." aligns the two "my"s): so the rows are also compared with their
    opening and closing clauses taken off, when those ask nothing (`edge_cuts`; `cuts`: both rows' edge
    cuts when already made)."""
    if a == b:
        return True
    if not (_asks(a) and _asks(b)):
        # A row of greeting, filler and function words only ("thank you", "are you well", "let us do it
        # again") is a request of its own, not a request with fillers around it: typos, spacing and added
        # listed words ("... again please") are superficial there, changed words are not.
        return all((len(a[i1:i2]) == len(b[j1:j2]) and all(x == y or is_typo(x, y, rare)
                                                          for x, y in zip(a[i1:i2], b[j1:j2])))
                   or (i1 < i2 and j1 < j2 and _respelled(a[i1:i2], b[j1:j2], rare))
                   or ((i1 == i2 or j1 == j2) and all(w in _EDGE_WORDS for w in a[i1:i2] + b[j1:j2]))
                   for i1, i2, j1, j2 in _segments(a, b))
    neutral = neutral or getattr(rare, "neutral", rare)
    same = _same_edges(a, b, rare, slots, neutral, starts, cuts)
    if same and isinstance(rare, Vocabulary) and not rare.strict and not _shared_content(a, b):
        # Nothing that asks is common to the rows: what differs is all they ask, and a typo needs the
        # data's word that it misspells ("balanse" / "balance"), not two rare words alike ("PAM" / "SAM").
        # Asked only of pairs that pass (the strict view passes fewer): most candidates fail first.
        same = _same_edges(a, b, rare.strict_view(), slots, neutral, starts, cuts)
    return same


def _same_edges(a: list[str], b: list[str], rare: Callable[[str], bool], slots: bool,
                neutral: Callable[[str], bool], starts: tuple[frozenset[int], frozenset[int]],
                cuts: tuple[list, list] | None) -> bool:
    """same_request for two rows that both ask something: their words as written, then with their
    opening and closing clauses cut where those ask nothing."""
    failed = _same_words(a, b, rare, slots, neutral, starts)
    if failed is None:
        return True
    if not (starts[0] or starts[1]):
        return False
    i1, i2, j1, j2 = failed
    cuts_a, cuts_b = cuts or (edge_cuts(a, starts[0], neutral, slots), edge_cuts(b, starts[1], neutral, slots))
    if len(cuts_a) == 1 and len(cuts_b) == 1:
        return False                            # neither row has a clause to cut
    for ka, ma in cuts_a:
        for kb, mb in cuts_b:
            # At each edge one row at most loses a clause: both rows cut to a common core could both
            # have lost what they ask ("Hello, I lost my card" / "Hello, where is my card?").
            if (ka, ma, kb, mb) == (0, len(a), 0, len(b)) or (ka and kb) or (ma < len(a) and mb < len(b)):
                continue
            if ((i1 > ka if ka else True) and (j1 > kb if kb else True) and (i2 < ma if ma < len(a) else True)
                    and (j2 < mb if mb < len(b) else True)):
                continue                        # the stretch that decided is inside both cores: it decides again
            core_a, core_b = a[ka:ma], b[kb:mb]
            if core_a and core_b and _same_words(core_a, core_b, rare, slots, neutral,
                                                 (_shifted(starts[0], ka, ma), _shifted(starts[1], kb, mb)),
                                                 (not (ka or kb), ma == len(a) and mb == len(b))) is None:
                return True
    return False


def _asks(words: list[str]) -> bool:
    """The row holds a word that is no greeting, sign-off, filler or function word."""
    return any(w not in FUNCTION_WORDS and w not in _EDGE_WORDS for w in words)


def _shared_content(a: list[str], b: list[str]) -> bool:
    """Some word that asks something (`_asks`) stands in both rows."""
    return any(w not in FUNCTION_WORDS and w not in _EDGE_WORDS for w in set(a).intersection(b))


def _shifted(starts: frozenset[int], k: int, m: int) -> frozenset[int]:
    """The starts inside words[k:m], counted from k (a closing-only start, written -m, stays one)."""
    return frozenset(s - k if s > 0 else s + k for s in starts if k < abs(s) < m)


# An opening or closing clause is short ("Sorry to bother you", "Looking forward to your reply"): a longer
# clause of neutral words is a request of its own ("I lost my card on Friday"), however its words spread
# over the labels one by one.
MAX_EDGE_WORDS = 6


def edge_cuts(words: list[str], starts: frozenset[int], neutral: Callable[[str], bool],
              slots: bool) -> list[tuple[int, int]]:
    """Where the request may begin and end: (k, m) with words[:k] an opening clause and words[m:] a
    closing clause (each ending or beginning at a clause start) of at most MAX_EDGE_WORDS words (an
    e-mail signature at the end is cut first) that ask nothing (`_edge_filler`), leaving a request longer
    than what was cut that holds a content word. (0, len(words)) comes first."""
    n = len(words)
    opens = [0] + sorted(k for k in starts if 0 < k <= MAX_EDGE_WORDS and k < n
                         and _edge_filler(words[:k], neutral, slots))
    closes = {n: 0}                             # where the closing starts -> its words, signature aside
    for m in sorted({abs(m) for m in starts if 0 < abs(m) < n}, reverse=True):
        closing = _cut_signature(words[m:])
        if len(closing) <= MAX_EDGE_WORDS and _edge_filler(closing, neutral, slots):
            closes[m] = len(closing)
    return [(k, m) for k in opens for m in closes
            if (k, m) == (0, n) or (m - k > k + closes[m] and m - k >= 3
                                    and any(w not in FUNCTION_WORDS and w not in _EDGE_WORDS for w in words[k:m]))]


def closing_candidates(texts, neutral: Callable[[str], bool], slots: bool) -> set[tuple[str, ...]]:
    """The closing clauses that some text sets off and `edge_cuts` would cut ("... arrive? Warmly, Ana",
    "... abroad. Talk soon."), e-mail signatures aside. texts: (canonical words, clause starts) of each
    text."""
    out: set[tuple[str, ...]] = set()
    for words, starts in texts:
        if not starts:
            continue
        for m in {m for _, m in edge_cuts(words, starts, neutral, slots) if m < len(words)}:
            closing = tuple(_cut_signature(words[m:]))
            if closing:
                out.add(closing)
    return out


def _endings(words: list[str], closings) -> list[tuple[str, ...]]:
    body = _cut_signature(words)
    n = len(body)
    return [tuple(body[n - size:]) for size in range(1, min(MAX_EDGE_WORDS, n - 1) + 1)
            if tuple(body[n - size:]) in closings]


def closing_counts(texts, candidates) -> dict[tuple[str, ...], list[int]]:
    """For each candidate closing: [texts that end with it after other words, of those the texts that
    set it off with a stop]. texts: (canonical words, clause starts)."""
    out: dict[tuple[str, ...], list[int]] = {}
    for words, starts in texts:
        n = len(_cut_signature(words))
        for closing in _endings(words, candidates):
            got = out.setdefault(closing, [0, 0])
            got[0] += 1
            got[1] += (n - len(closing)) in starts
    return out


def detachable(counts: dict[tuple[str, ...], list[int]]) -> frozenset[tuple[str, ...]]:
    """The closings the data sets off at least as often as it runs them into a request: a sign-off
    ("Talk soon", "Warmly, Ana") is written after a stop as often as not; a request's own last words
    ("the exchange rate was wrong"), set off once, are run in far more often."""
    return frozenset(c for c, (ends, set_off) in counts.items() if 2 * set_off >= ends)


def closing_clauses(texts, neutral: Callable[[str], bool], slots: bool) -> frozenset[tuple[str, ...]]:
    """The closings this data sets off (`closing_candidates`) at least as often as it runs them in
    (`detachable`). texts: (canonical words, clause starts) of each text, read twice."""
    texts = list(texts)
    return detachable(closing_counts(texts, closing_candidates(texts, neutral, slots)))


def run_in_closings(words: list[str], starts: frozenset[int], closings) -> frozenset[int]:
    """The row's clause starts, plus where it ends with a closing that the data sets off elsewhere
    (`closing_clauses`) but this row runs into its request without a stop ("... this time Warmly, Ana"
    beside "... arrive? Warmly, Ana"): the data, not punctuation, says that such an ending asks nothing.
    Such a start, written -m, begins a closing only (no opening ends there); whether the closing may
    be cut is still `edge_cuts`' decision."""
    if not closings:
        return starts
    n = len(_cut_signature(words))
    found = {-(n - len(c)) for c in _endings(words, closings) if (n - len(c)) not in starts}
    return starts | frozenset(found) if found else starts


def _same_words(a: list[str], b: list[str], rare: Callable[[str], bool], slots: bool,
                neutral: Callable[[str], bool], starts: tuple[frozenset[int], frozenset[int]],
                open_edges: tuple[bool, bool] = (True, True)) -> tuple[int, int, int, int] | None:
    """same_request on the rows as written, one alignment of their words. open_edges: whether an
    unlisted opening (start) or closing (end) added to one row may pass as filler; not where a clause
    was already cut at that edge of the other row. Returns None when every difference is superficial,
    else the first stretch (i1, i2, j1, j2) that is not."""
    for i1, i2, j1, j2 in _segments(a, b):
        i1, i2, j1, j2 = _slide(a, b, i1, i2, j1, j2)
        seg_a, seg_b = a[i1:i2], b[j1:j2]
        if _superficial_segment(seg_a, seg_b, rare, slots):
            continue
        if _fillers_swapped(seg_a, seg_b, rare):
            return i1, i2, j1, j2                   # "thank you" / "hello" where each decides a label
        edge = False
        # at the end (only closing words after it): a sign-off added or changed
        if all(w in _EDGE_WORDS for w in a[i2:]) and all(w in _EDGE_WORDS for w in b[j2:]):
            seg_a, seg_b = _cut_sign_off(_cut_signature(seg_a), rare), _cut_sign_off(_cut_signature(seg_b), rare)
            edge = True
        if all(w in _EDGE_WORDS for w in a[:i1]) and all(w in _EDGE_WORDS for w in b[:j1]):   # at the start: a greeting
            seg_a, seg_b = _cut_greeting(seg_a, rare), _cut_greeting(seg_b, rare)
            edge = True
        if not edge:
            return i1, i2, j1, j2
        if (len(seg_a), len(seg_b)) != (i2 - i1, j2 - j1) and _superficial_segment(seg_a, seg_b, rare, slots):
            continue
        # an opening or closing added to one row only, set off from the request by punctuation; a changed
        # one ("tell me" / "advise sam of") or one run into the request ("did i put ...") decides. The row
        # whose words are left once listed greetings and sign-offs are cut is the one that added them
        # ("from abroad" / "thank you": "from abroad" is what must be set off and ask nothing).
        side_b = bool(seg_b) if (seg_a or seg_b) else j2 > j1
        added, (lo, hi), row_starts = (b[j1:j2], (j1, j2), starts[1]) if side_b else (a[i1:i2], (i1, i2), starts[0])
        set_off = ((lo == 0 and hi in row_starts and open_edges[0])
                   or (hi == (len(b) if side_b else len(a)) and (lo in row_starts or -lo in row_starts)
                       and open_edges[1]))
        if not (edge and not (seg_a and seg_b) and set_off and _edge_filler(added, neutral, slots)):
            return i1, i2, j1, j2
    return None


class Vocabulary:
    """What the data says about its words. Called as rare(word): the word occurs in at most `max_rows`
    distinct texts (unknown words are rare)."""

    def __init__(self, counts: dict[str, int] | None, max_rows: int, label_shares: dict[str, float] | None = None,
                 neutral_max_share: float = 0.5, misspelt_ratio: float = 10.0):
        self.counts, self.max_rows = counts or {}, max_rows
        self.shares, self.limit, self.ratio = label_shares or {}, neutral_max_share, misspelt_ratio
        self.segments: dict = {}            # _superficial_segment's answers, which depend on these words only
        self.strict = False
        self._strict: Vocabulary | None = None

    def __call__(self, word: str) -> bool:
        return not self.strict and self.counted_rare(word)

    def counted_rare(self, word: str) -> bool:
        """rare(word) by the counts alone, strict or not."""
        return self.counts.get(word, 0) <= self.max_rows

    def both_rare(self, a: str, b: str) -> bool:
        """Both words rare (a misspelling needs a frequent word that it misspells)."""
        return self.counted_rare(a) and self.counted_rare(b)

    def strict_view(self) -> Vocabulary:
        """The same words where no word counts as rare: a typo only where `misspelt` says so (for rows
        that share no content word, `same_request`). Made once; its own memo of segment answers."""
        if self._strict is None:
            view = copy.copy(self)
            view.strict, view.segments, view._strict = True, {}, None
            self._strict = view
        return self._strict

    def neutral(self, word: str) -> bool:
        """The word says nothing about the label here: it is rare (too few rows to tell), or its labelled
        rows spread over the labels, none holding more than `neutral_max_share` of them ("hello",
        "again", "card" across fifteen card intents; not "refund" or "phone")."""
        return self.counted_rare(word) or self.shares.get(word, 1.0) <= self.limit

    def decides(self, word: str) -> bool:
        """The word points to a label here: in more than `max_rows` texts, its commonest label surely
        (`word_label_shares`) over `neutral_max_share` of them ("hello" in a greeting intent)."""
        return not self.counted_rare(word) and self.shares.get(word, 0.0) > self.limit

    def misspelt(self, a: str, b: str) -> bool:
        """One of two near-identical words is a variant far rarer than the other (`misspelt_ratio` times)
        and points to no label of its own: a misspelling many writers share ("th" / "the")."""
        na, nb = self.counts.get(a, 0), self.counts.get(b, 0)
        rarer = a if na < nb else b
        return min(na, nb) * self.ratio <= max(na, nb) and self.neutral(rarer)


def rare_words(counts: dict[str, int] | None, max_rows: int) -> Callable[[str], bool]:
    """rare(word): the word occurs in at most `max_rows` distinct texts (unknown words are rare)."""
    return Vocabulary(counts, max_rows)


def word_label_shares(texts_words, labels, min_rows: int) -> dict[str, float]:
    """For each word in more than `min_rows` labelled texts, how much of those texts its commonest label
    surely holds: the Wilson lower bound (95%) of that share, so "much obliged" in 3 of 5 rows of one
    label (chance) is no evidence while "physical" in 43 of 43 is. texts_words: each distinct
    (text, label)'s set of canonical words."""
    from collections import Counter

    per: dict[str, Counter] = {}
    for words, label in zip(texts_words, labels):
        if label is None:
            continue
        for w in words:
            per.setdefault(w, Counter())[label] += 1
    out = {}
    for w, by_label in per.items():
        total = sum(by_label.values())
        if total > min_rows:
            out[w] = share_bound(max(by_label.values()), total)
    return out


def share_bound(top: int, total: int, z: float = 1.96) -> float:
    """Wilson lower bound of the share top / total (95%)."""
    p = top / total
    return (p + z * z / (2 * total) - z * ((p * (1 - p) + z * z / (4 * total)) / total) ** 0.5) / (1 + z * z / total)


def same_request_mask(texts: list[str], pairs, counts: dict[str, int] | None, conf: dict, slots: bool,
                      label_shares: dict[str, float] | None = None, starts=None, words=None):
    """For each candidate pair (i, j) of `texts` (similarity keys), whether it is the same request.
    conf: the policy's `similarity` section (`rare_word_rows`, `neutral_max_share`); label_shares: from
    `word_label_shares` (classification data), else words are neutral only when rare; starts: each
    text's `clause_starts` (a list or a dict by text index); words: each text's canonical words, when
    already made."""
    import numpy as np

    rare = Vocabulary(counts, int(conf.get("rare_word_rows", 3)), label_shares,
                      float(conf.get("neutral_max_share", 0.5)))
    neutral = rare.neutral
    cache: dict[int, list[str]] = {}

    def words_of(i: int) -> list[str]:
        if words is not None:
            return words[i]
        got = cache.get(i)
        if got is None:
            got = cache[i] = canonical_words(texts[i])
        return got

    none = frozenset()
    cut_cache: dict[int, list] = {}

    def cuts_of(i: int) -> list:
        got = cut_cache.get(i)
        if got is None:
            got = cut_cache[i] = edge_cuts(words_of(i), starts[i] if starts is not None else none, neutral, slots)
        return got

    def same(a: int, b: int) -> bool:
        wa, wb = words_of(a), words_of(b)
        sa, sb = (starts[a], starts[b]) if starts is not None else (none, none)
        if not (sa or sb):
            return same_request(wa, wb, rare, slots, neutral, (sa, sb))
        return same_request(wa, wb, rare, slots, neutral, (sa, sb), (cuts_of(a), cuts_of(b)))

    return np.fromiter((same(a, b) for a, b in np.asarray(pairs).tolist()), dtype=bool, count=len(pairs))


NUMBER_WORDS = frozenset("""zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred
    thousand million billion half halves twice thrice third thirds quarter quarters fourth fourths fifth
    fifths double triple dozen""".split())


def numbers_in(key: str) -> list[str]:
    """The numbers a text states, digits and number words, sorted: two maths problems or two
    extraction messages with different numbers are different requests, however alike their wording."""
    return sorted(w for w in key.split() if any(c.isdigit() for c in w) or w in NUMBER_WORDS)
