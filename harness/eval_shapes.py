"""An eval set written in another shape than the adapter's training data, mapped onto the adapter's task.

Teams keep one held-out file per task, often in the classification shape (text, label), and train
adapters on chat or prompt/completion rows built from it; read in the adapter's shape, every such eval
row is a bad row and the compare measures nothing. Read in its own shape, a row carries the same
question and answer: a label becomes the expected reply of a generative adapter, and a generative row
whose answer is one of a classifier's labels becomes a labelled row. Rows that cannot be mapped (an
answer that is no label) are counted and named, not guessed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from .data import Example
from .errors import InputError
from .text import normalize_loose


def map_examples(examples: Sequence[Example], own: str, target: str, labels: Sequence[str],
                 source: str = "<eval>") -> tuple[list[Example], dict[str, Any]]:
    """(examples in the target shape, what was done). Same shape: unchanged, info empty."""
    if own == target:
        return list(examples), {}
    out: list[Example] = []
    dropped: list[dict[str, Any]] = []
    if target == "classification":
        lookup = {normalize_loose(lab): lab for lab in labels}
        for ex in examples:
            label = lookup.get(normalize_loose(ex.output or ""))
            if label is None:
                dropped.append({"line": ex.line, "reason": f"its answer {(ex.output or '')[:40]!r} is none of the "
                                                          f"adapter's {len(labels)} labels"})
            else:
                out.append(replace(ex, label=label, output=None, messages=None))
        if not out:
            raise InputError(source, f"none of the {len(examples)} eval rows ({own} rows) can be read as the "
                                     f"adapter's classification task: {dropped[0]['reason'] if dropped else 'no rows'}"
                             + (f" (line {dropped[0]['line']})" if dropped else ""))
    else:
        for ex in examples:
            answer = ex.output if own != "classification" else ex.label
            # A chat row keeps its own turns for a chat adapter; other shapes ask its question plainly.
            out.append(replace(ex, output=answer, label=None, messages=ex.messages if target == "chat" else None))
    return out, {"own_shape": own, "mapped_to": target, "rows": len(out), "dropped": len(dropped),
                 "dropped_examples": dropped[:5],
                 "how": ("each answer matched to one of the adapter's labels" if target == "classification" else
                         "each row's question as the user's turn, its label or answer as the expected reply")}


def frequent_outputs(examples: Sequence[Example], max_words: int = 5, min_count: int = 3, limit: int = 200) -> list[str]:
    """A generative task's own short, repeated answers (normalised), most frequent first: what an adapter
    that collapses onto its task says to every prompt. The manifest keeps them, so the drift suite can
    measure collapse without the training file."""
    counts: dict[str, int] = {}
    for ex in examples:
        key = normalize_loose(ex.output if ex.output is not None else (ex.label or ""))
        if key and len(key.split()) <= max_words:
            counts[key] = counts.get(key, 0) + 1
    return [k for k, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count][:limit]


def read_other_shapes(source: Any, table, target: str, labels: Sequence[str]) -> None:
    """Eval rows that do not fit the training shape, read again in each other shape and mapped onto the
    training task where they can be (a chat copy of a labelled row becomes that labelled row), added to
    `table` so the audit's leakage and balance checks see them; `table.other_shapes` counts them per
    shape. The rows stay listed as bad rows of the training shape (they are written another way)."""
    from .data import load_table

    missing = {b["line"] for b in table.bad_rows}
    if not missing or not isinstance(source, (str, bytes)) and not hasattr(source, "__fspath__"):
        return
    for shape in ("classification", "chat", "instruction"):
        if shape == target or not missing:
            continue
        try:
            other = load_table(source, "eval", shape=shape)
            mapped, _ = map_examples([ex for ex in other.examples if ex.line in missing], shape, target, labels)
        except InputError:
            continue
        if mapped:
            table.examples = sorted(table.examples + mapped, key=lambda ex: ex.line)
            table.other_shapes[shape] = len(mapped)
            missing -= {ex.line for ex in mapped}
