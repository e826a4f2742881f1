"""What the near-duplicate index hashes. Character shingles of the similarity key lose too much on short
rows: two typos and a greeting take "my pin is locked" below any usable Jaccard threshold, so copies
never become candidates and no later rule can find them. The candidate key is the similarity key with
misspellings put right from the data's own vocabulary (a rare word one edit from a frequent word is
that word: "tihnk" -> "think", "ym" -> "my") and with greeting, sign-off, filler and function words and
other rare words left out (a long one that misspells one of two frequent words is kept as written:
most of its shingles still match), and numbers masked: what is left is the request's content words. A
short request (under three content words) keeps its similarity key and is also looked up by its words
with misspellings put right, function words kept ("hi my cardwasstolen" and "my card was stolen" share
"my card was stolen"). It only chooses which pairs are looked at; whether a pair is the same
request is still decided on the rows' own words (harness/auditing/pairs.py)."""

from __future__ import annotations

from collections.abc import Callable

import regex

from harness.auditing.pairs import _EDGE_WORDS, _EQUIVALENT, FUNCTION_WORDS, _cut_signature, canonical_words, edge_cuts

_DIGITS = regex.compile(r"\d+")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class Corrections(dict):
    """word -> the word or words it misspells; `ambiguous`: the rare words one edit from two or more
    frequent words, left as written ("pack": "pick" or "back"?)."""

    ambiguous: frozenset[str] = frozenset()


def spelling_corrections(counts: dict[str, int], rare_rows: int, ratio: float = 10.0,
                         misspelt_parts: bool = False) -> Corrections:
    """word -> the word it misspells: the one word one edit away that is frequent (in more than
    `rare_rows` texts) and `ratio` times as frequent as it ("caard" in 5 texts, "card" in 400); no
    correction when two such words compete ("pack": "pick" or "back"?; a long one is listed in
    `ambiguous`). Merged words ("butitfailed") map to the frequent words they join; misspelt_parts: one
    part may also be misspelt ("virtualcrad" -> "virtual card"), which guesses more (a rare "forward" is
    "for card"), so only the candidate keys ask for it. A symmetric-delete index (SymSpell's idea) over the frequent
    words: a word's one-letter deletions meet those of every word within one insertion, deletion,
    substitution or transposition, so each word costs a few dictionary look-ups, not a scan of the
    vocabulary. Written by hand: it is a few lines, and the candidates are checked with rapidfuzz."""
    from rapidfuzz.distance import DamerauLevenshtein

    frequent = {w: n for w, n in counts.items() if n > rare_rows and w.isalpha()}
    index: dict[str, list[str]] = {}
    for w in frequent:
        for d in _deletes(w) | {w}:
            index.setdefault(d, []).append(w)

    def near(w: str, n: int) -> list[str]:
        found = {f for d in _deletes(w) | {w} for f in index.get(d, ()) if frequent[f] >= ratio * n}
        return [f for f in found if f != w and DamerauLevenshtein.distance(w, f, score_cutoff=1) <= 1]

    out, ambiguous = Corrections(), set()
    merged = []
    for w, n in counts.items():
        if len(w) < 2 or not w.isalpha():
            continue
        found = near(w, n)
        swapped = [f for f in found if sorted(f) == sorted(w)]
        if len(found) > 1 and len(swapped) == 1:
            found = swapped                     # "hwo": "how" (two letters swapped), not "two"
        if len(found) == 1 or (found and all(f in FUNCTION_WORDS for f in found)):
            out[w] = found[0] if len(found) == 1 else "the"   # "fo": "of" or "for", a function word either way
        elif found and n <= rare_rows and len(w) >= 6:
            ambiguous.add(w)                    # long enough that, kept, most of its shingles still match
        elif not found and n <= rare_rows and len(w) >= 5:
            merged.append((w, misspelt_parts and not near(w, 0)))
    out.ambiguous = frozenset(ambiguous)
    for w, f in out.items():
        out[w] = out.get(f, f)                  # "crads" -> "cards" -> "card": each step 10x more frequent

    def misspelt(part: str) -> str | None:
        """The one frequent word a part of four letters or more misspells by one edit, or a function word
        when all the words a part misspells are function words ("fom": "from" or "for")."""
        found = near(part, 0) if len(part) >= 3 else []
        if found and all(f in FUNCTION_WORDS for f in found):
            return found[0]
        return found[0] if len(found) == 1 and len(part) >= 4 else None

    # Merged words: "butitfailed" -> "but it failed"; a part may be misspelt itself ("thewekend" -> "the
    # weekend", "accountfom" -> "account from", "virtualcrad" -> "virtual card"): a corrected word of three
    # letters or more, or one part a word away from a single frequent word by one edit.
    known = dict(frequent, **{w: 0 for w, f in out.items() if len(w) >= 3 and " " not in f})
    for w, guess in merged:   # a word one edit from a frequent one ("agreed", "agree") is no guessed merge
        parts = _split(w, known, 3, misspelt if guess else None)
        if parts:
            out[w] = " ".join(out.get(p, p) for p in parts)
    return out


def _split(word: str, frequent: dict[str, int], parts: int,
           misspelt: Callable[[str], str | None] | None = None, whole: bool = False) -> list[str] | None:
    """`word` as up to `parts` frequent words written together, or None; with `misspelt`, one part may
    be the word it names (one misspelt part a word)."""
    if whole:
        if word in frequent:
            return [word]
        fixed = misspelt(word) if misspelt else None
        if fixed:
            return [fixed]
    if parts < 2:
        return None
    for i in range(len(word) - 1, 0, -1):
        head = word[:i]
        if head in frequent and (len(head) >= 2 or head in ("a", "i")):
            rest = _split(word[i:], frequent, parts - 1, misspelt if len(head) >= 2 else None, True)
        elif misspelt and (fixed := misspelt(head)):
            head, rest = fixed, _split(word[i:], frequent, parts - 1, None, True)
        else:
            continue
        if rest:
            return [head, *rest]
    return None


def candidate_key(loose: str, corrections: dict[str, str], counts: dict[str, int], rare_rows: int,
                  words: list[str] | None = None) -> str:
    """The similarity key as the index should see it (module docstring). A row left with fewer than three
    words keeps its similarity key, so short rows do not all collide on an empty key."""
    canonical = words if words is not None else canonical_words(loose)
    fixed = _cut_signature(" ".join(corrections.get(w, w) for w in canonical).split())
    ambiguous = getattr(corrections, "ambiguous", ())
    words = []
    for w in fixed:
        if w in _EDGE_WORDS or w in FUNCTION_WORDS or (counts.get(w, 0) <= rare_rows and w.isalpha()
                                                       and w not in ambiguous):
            continue
        words.append(_DIGITS.sub("0", w))   # numbers as one mark: whether they matter is decided later
    return " ".join(words) if len(words) >= 3 else loose


def short_key(canonical: list[str], corrections: dict[str, str]) -> str:
    """A short request's words with its function and rare words kept and misspellings put right ("hi my
    cardwasstolen" -> "my card was stolen"), its listed greeting, sign-off and filler words aside."""
    out = []
    for w in _cut_signature(canonical):
        if w not in _EDGE_WORDS:
            out += [_DIGITS.sub("0", _EQUIVALENT.get(p, p)) for p in corrections.get(w, w).split()]
    return " ".join(out)


def candidate_keys(loose: str, corrections: dict[str, str], counts: dict[str, int], rare_rows: int,
                   words: list[str] | None = None, starts: frozenset[int] = frozenset(),
                   neutral: Callable[[str], bool] | None = None, slots: bool = True) -> list[str]:
    """The row's candidate key, and a second one without its opening and closing clauses when it has
    clauses that ask nothing (harness/auditing/pairs.py's `edge_cuts`: "Sorry to bother you, ...", "... Appreciate
    your help!"): the index looks up both, so a copy with a clause added is found, and a row whose first
    clause only looks neutral ("Someone stole my card, what do I do?") is still found by its whole key."""
    canonical = words if words is not None else canonical_words(loose)
    keys = [candidate_key(loose, corrections, counts, rare_rows, canonical)]
    if keys[0] == loose:                        # a short request: also its words with misspellings put right
        short = short_key(canonical, corrections)
        if short and short != loose:
            keys.append(short)
    if starts and neutral is not None:
        n = len(canonical)
        cuts = edge_cuts(canonical, starts, neutral, slots)
        # The shortest request left, and the one with only the opening cut: when the closing looks like
        # filler too ("..., what's wrong again? Thanks."), a copy that only adds a greeting is found by
        # the second.
        wanted = [min(cuts, key=lambda c: c[1] - c[0]), max((c for c in cuts if c[1] == n), key=lambda c: c[0])]
        for k, m in wanted:
            if (k, m) != (0, n):
                core = canonical[k:m]
                trimmed = candidate_key(" ".join(core), corrections, counts, rare_rows, core)
                if trimmed not in keys:
                    keys.append(trimmed)
    return keys
