"""Text normalisation shared by every check, so "the same text" means one thing everywhere.

NFKC folds compatibility forms (full-width letters, ligatures), casefold is Unicode-aware lowercasing,
and whitespace is collapsed. Words are never dropped: deepchecks drops stop words, which makes
"I am not happy" equal "I am happy".
"""

from __future__ import annotations

import unicodedata

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


def normalize_loose(text: str) -> str:
    """Similarity key: `normalize` plus punctuation removed, so "Hi!!" and "hi" shingle alike."""
    return _WS.sub(" ", _PUNCT.sub(" ", normalize(text))).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))
