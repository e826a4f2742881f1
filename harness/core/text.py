"""Text normalisation shared by every check, so "the same text" means one thing everywhere.

NFKC folds compatibility forms (full-width letters, ligatures), casefold is Unicode-aware lowercasing,
and whitespace is collapsed. Words are never dropped: deepchecks drops stop words, which makes
"I am not happy" equal "I am happy".
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# `regex`, not `re`: Unicode categories. `re`'s \w leaves out combining marks, so Devanagari, Thai or
# Tamil vowel signs became spaces ("दाल" and "दिल" one key), and [^\w\s] dropped emoji ("👍" = "👎").
import regex

_WS = regex.compile(r"\s+")
# Invisible format and control characters (zero-width space, joiners, BOM, stray control bytes).
_INVISIBLE = regex.compile(r"[\p{Cf}\p{Cc}--\s]", flags=regex.V1)
# For similarity, punctuation and math/modifier symbols become spaces; letters, marks, digits and the
# other symbols (emoji, signs: category So) stay: "👍" and "👎" are different answers.
_PUNCT = regex.compile(r"[\p{P}\p{Sm}\p{Sk}\p{Sc}]")
_WORD = regex.compile(r"[\w\p{M}]+|\p{So}")


def normalize(text: str) -> str:
    """Exact-duplicate key: NFKC, casefold, invisible characters dropped, whitespace collapsed, strip.
    Idempotent."""
    text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    # casefold can produce text that NFKC would change again (e.g. some ligatures); one more round fixes it.
    text = unicodedata.normalize("NFKC", text)
    return _WS.sub(" ", _INVISIBLE.sub("", text)).strip()


_SYMBOL = regex.compile(r"(\p{So})")


@lru_cache(maxsize=1)
def _confusable_table() -> dict[int, str]:
    """Non-ASCII characters that Unicode's confusables data (UTS #39) lists as look-alikes of one ASCII
    letter -> that letter: Cyrillic "о", Greek "ο" -> "o". Only letters, and only towards ASCII, so
    ASCII text is untouched; text in another script folds the same way on both sides of a comparison.
    Data from confusable-homoglyphs (a packaged copy of confusables.txt) rather than a hand table."""
    import json
    from importlib.resources import files

    data = json.loads(files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8"))
    table: dict[int, str] = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii():
            continue
        letters = sorted({g["c"].lower() for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalpha()})
        if len(letters) == 1:
            table[ord(char)] = letters[0]
    return table


_LETTERS = regex.compile(r"\p{L}+")
_ASCII_LETTER = regex.compile(r"[a-zA-Z]")


def fold_confusables(text: str) -> str:
    """Look-alike letters from other scripts as the ASCII letter they imitate (the TR39 skeleton's
    idea, limited to letters): "hеllo" with a Cyrillic е is "hello". Text written in another script is
    left as it is, but for its words that mix in ASCII letters: folding a Greek tweet letter by letter
    ("σ" -> "o", "ν" -> "v") made its words unreadable in every finding that shows them (X-Topic). Latin
    text, or text whose letters all could imitate Latin ones (a row copied in look-alikes), folds whole."""
    if text.isascii():
        return text
    table = _confusable_table()
    letters = [c for c in text if c.isalpha()]
    latin_looking = sum(1 for c in letters if c.isascii() or ord(c) in table)
    if latin_looking >= 0.9 * len(letters):
        return text.translate(table)
    return _LETTERS.sub(lambda m: m.group().translate(table) if _ASCII_LETTER.search(m.group()) else m.group(),
                        text)


def normalize_loose(text: str) -> str:
    """Similarity key: `normalize` plus punctuation removed, so "Hi!!" and "hi" shingle alike; look-alike
    letters of other scripts folded (homoglyph copies are copies); symbols such as emoji kept as words
    of their own ("parcel👍" -> "parcel 👍"), since they can decide a label."""
    return _WS.sub(" ", _SYMBOL.sub(r" \1 ", _PUNCT.sub(" ", fold_confusables(normalize(text))))).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))
