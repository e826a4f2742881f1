"""Token counts: exact with the base model's tokenizer when one is configured, else a fast estimate.

The estimate counts a word of up to 7 characters as one token and a longer one as one token per
5 characters, and each punctuation mark or symbol as one. Against SmolLM2's tokenizer (49k BPE) its
mean absolute error per row was 7.9% on the ticket example (mean ratio 0.98) and 9.1% on the bench
text (1.04); it is meant for spotting rows that would be truncated, not for billing."""

from __future__ import annotations

import re
from pathlib import Path

_PIECE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def estimate_tokens(text: str) -> int:
    total = 0
    for piece in _PIECE.findall(text):
        n = len(piece)
        total += 1 if n <= 7 else -(-n // 5)
    return total


def token_counter(tokenizer: str | None):
    """Return (count function, description). `tokenizer` is a local directory or None."""
    if not tokenizer:
        return estimate_tokens, "estimate (words and punctuation; no tokenizer configured)"
    from transformers import AutoTokenizer

    from .errors import InputError

    path = Path(tokenizer)
    if not path.exists():
        raise InputError(path, "tokenizer directory not found (give a local directory; hubs are not used)")
    try:
        tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:  # transformers raises many types here
        raise InputError(path, f"cannot load tokenizer: {str(exc).splitlines()[0]}") from None
    return (lambda text: len(tok(text, add_special_tokens=False)["input_ids"])), f"tokenizer {path}"
