"""Text normalisation shared by every check, so "the same text" means one thing everywhere.

NFKC folds compatibility forms (full-width letters, ligatures), casefold is Unicode-aware lowercasing,
and whitespace is collapsed. Words are never dropped: deepchecks drops stop words, which makes
"I am not happy" equal "I am happy".
"""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")
# Punctuation and symbols (Unicode categories P* and S*) become spaces for similarity, not for exact match.
_PUNCT = re.compile(r"[^\w\s]|_")
_WORD = re.compile(r"\w+", re.UNICODE)


def normalize(text: str) -> str:
    """Exact-duplicate key: NFKC, casefold, collapse whitespace, strip. Idempotent."""
    text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    # casefold can produce text that NFKC would change again (e.g. some ligatures); one more round fixes it.
    text = unicodedata.normalize("NFKC", text)
    return _WS.sub(" ", text).strip()


def normalize_loose(text: str) -> str:
    """Similarity key: `normalize` plus punctuation removed, so "Hi!!" and "hi" shingle alike."""
    return _WS.sub(" ", _PUNCT.sub(" ", normalize(text))).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))
