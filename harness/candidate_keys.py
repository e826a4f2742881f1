"""What the near-duplicate index hashes. Character shingles of the similarity key lose too much on short
rows: two typos and a greeting take "my pin is locked" below any usable Jaccard threshold, so copies
never become candidates and no later rule can find them. The candidate key is the similarity key with
misspellings put right from the data's own vocabulary (a rare word one edit from a frequent word is
that word: "tihnk" -> "think", "ym" -> "my") and with greeting, sign-off, filler and function words and
other rare words left out, and numbers masked: what is left is the request's content words. It only
chooses which pairs are looked at; whether a pair is the same request is still decided on the rows'
own words (harness/pairs.py)."""

from __future__ import annotations

from collections.abc import Callable

import regex

from .pairs import _EDGE_WORDS, FUNCTION_WORDS, _cut_signature, canonical_words, edge_cuts

_DIGITS = regex.compile(r"\d+")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def spelling_corrections(counts: dict[str, int], rare_rows: int, ratio: float = 10.0) -> dict[str, str]:
    """word -> the word it misspells: the one word one edit away that is frequent (in more than
    `rare_rows` texts) and `ratio` times as frequent as it ("caard" in 5 texts, "card" in 400); no
    correction when two such words compete ("pack": "pick" or "back"?). Merged words ("butitfailed")
    map to the frequent words they join. A symmetric-delete index (SymSpell's idea) over the frequent
    words: a word's one-letter deletions meet those of every word within one insertion, deletion,
    substitution or transposition, so each word costs a few dictionary look-ups, not a scan of the
    vocabulary. Written by hand: it is a few lines, and the candidates are checked with rapidfuzz."""
    from rapidfuzz.distance import DamerauLevenshtein

    frequent = {w: n for w, n in counts.items() if n > rare_rows and w.isalpha()}
    index: dict[str, list[str]] = {}
    for w in frequent:
        for d in _deletes(w) | {w}:
            index.setdefault(d, []).append(w)
    out: dict[str, str] = {}
    merged = []
    for w, n in counts.items():
        if len(w) < 2 or not w.isalpha():
            continue
        found = {f for d in _deletes(w) | {w} for f in index.get(d, ()) if frequent[f] >= ratio * n}
        found = [f for f in found if f != w and DamerauLevenshtein.distance(w, f, score_cutoff=1) <= 1]
        if len(found) == 1 or (found and all(f in FUNCTION_WORDS for f in found)):
            out[w] = found[0] if len(found) == 1 else "the"   # "fo": "of" or "for", a function word either way
        elif not found and n <= rare_rows and len(w) >= 5:
            merged.append(w)
    # Merged words: "butitfailed" -> "but it failed"; a part may be misspelt itself ("thewekend" -> "the
    # weekend", "accountfom" -> "account from") when it is a corrected word of three letters or more.
    known = dict(frequent, **{w: 0 for w, f in out.items() if len(w) >= 3 and " " not in f})
    for w in merged:
        parts = _split(w, known, 3)
        if parts:
            out[w] = " ".join(out.get(p, p) for p in parts)
    return out


def _split(word: str, frequent: dict[str, int], parts: int) -> list[str] | None:
    """`word` as up to `parts` frequent words written together, or None."""
    if word in frequent:
        return [word]
    if parts < 2:
        return None
    for i in range(len(word) - 1, 0, -1):
        head = word[:i]
        if head in frequent and (len(head) >= 2 or head in ("a", "i")):
            rest = _split(word[i:], frequent, parts - 1)
            if rest:
                return [head, *rest]
    return None


def candidate_key(loose: str, corrections: dict[str, str], counts: dict[str, int], rare_rows: int,
                  words: list[str] | None = None) -> str:
    """The similarity key as the index should see it (module docstring). A row left with fewer than three
    words keeps its similarity key, so short rows do not all collide on an empty key."""
    canonical = words if words is not None else canonical_words(loose)
    words = []
    for w in _cut_signature(" ".join(corrections.get(w, w) for w in canonical).split()):
        if w in _EDGE_WORDS or w in FUNCTION_WORDS or (counts.get(w, 0) <= rare_rows and w.isalpha()):
            continue
        words.append(_DIGITS.sub("0", w))   # numbers as one mark: whether they matter is decided later
    return " ".join(words) if len(words) >= 3 else loose


def candidate_keys(loose: str, corrections: dict[str, str], counts: dict[str, int], rare_rows: int,
                   words: list[str] | None = None, starts: frozenset[int] = frozenset(),
                   neutral: Callable[[str], bool] | None = None, slots: bool = True) -> list[str]:
    """The row's candidate key, and a second one without its opening and closing clauses when it has
    clauses that ask nothing (harness/pairs.py's `edge_cuts`: "Sorry to bother you, ...", "... Appreciate
    your help!"): the index looks up both, so a copy with a clause added is found, and a row whose first
    clause only looks neutral ("Someone stole my card, what do I do?") is still found by its whole key."""
    canonical = words if words is not None else canonical_words(loose)
    keys = [candidate_key(loose, corrections, counts, rare_rows, canonical)]
    if starts and neutral is not None:
        k, m = min(edge_cuts(canonical, starts, neutral, slots), key=lambda c: c[1] - c[0])
        if (k, m) != (0, len(canonical)):
            core = canonical[k:m]
            trimmed = candidate_key(" ".join(core), corrections, counts, rare_rows, core)
            if trimmed != keys[0]:
                keys.append(trimmed)
    return keys
