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
from typing import Any, Mapping, Sequence

from harness.inputs.data import Example, field_mapping, to_example, written_as_for
from harness.core.errors import InputError
from harness.inputs.row_formats import convert
from harness.inputs.shapes import get_shape
from harness.core.text import normalize_loose

# The shapes an eval row that does not fit the training shape is read again in, in this order.
READ_AGAIN_AS = ("classification", "chat", "instruction")


def map_examples(examples: Sequence[Example], own: str, target: str, labels: Sequence[str],
                 source: str = "<eval>") -> tuple[list[Example], dict[str, Any]]:
    """(examples in the target shape, what was done). Same shape: unchanged, info empty."""
    if own == target:
        return list(examples), {}
    out: list[Example] = []
    dropped: list[dict[str, Any]] = []
    labelled, own_labelled = get_shape(target).labelled, get_shape(own).labelled
    if labelled:
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
            answer = ex.label if own_labelled else ex.output
            # A chat row keeps its own turns for a chat adapter; other shapes ask its question plainly.
            out.append(replace(ex, output=answer, label=None, messages=ex.messages if get_shape(target).turns else None))
    return out, {"own_shape": own, "mapped_to": target, "rows": len(out), "dropped": len(dropped),
                 "dropped_examples": dropped[:5],
                 "how": ("each answer matched to one of the adapter's labels" if labelled else
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


def read_in_own_shapes(records: Sequence[Any], lines: Sequence[int], split: str, target: str, labels: Sequence[str],
                       written_as: Mapping[str, str | None]) -> list[tuple[str, Example]]:
    """Rows that do not fit the `target` shape, read in each shape of READ_AGAIN_AS in turn and mapped onto
    the target task where they can be: (own shape, mapped Example) per row, shape by shape. Each row is
    read on its own, so both engines share this (in-process on the whole file, Spark per partition).
    written_as: per shape, the ecosystem format the file's rows are read from (data.written_as_for)."""
    from harness.inputs.schema import validate  # pandera import is slow; only pay for it when rows are read again

    left = list(range(len(records)))
    out: list[tuple[str, Example]] = []
    for shape in READ_AGAIN_AS:
        if shape == target or not left:
            continue
        converted, fields = convert([records[i] for i in left], written_as.get(shape), {})
        mapping = field_mapping(shape, fields)
        good, _ = validate(converted, [lines[i] for i in left], shape, mapping, None)
        examples = [to_example(converted[j], lines[left[j]], split, shape, mapping) for j in good]
        try:
            mapped, _ = map_examples(examples, shape, target, labels)
        except InputError:   # none maps (no answer is one of the labels): none read this way
            continue
        out += [(shape, ex) for ex in mapped]
        done = {ex.line for ex in mapped}
        left = [i for i in left if lines[i] not in done]
    return out


def read_other_shapes(source: Any, table, target: str, labels: Sequence[str],
                      max_expanded_bytes: int | None = None) -> None:
    """Eval rows that do not fit the training shape, read again in each other shape and mapped onto the
    training task where they can be (a chat copy of a labelled row becomes that labelled row), added to
    `table` so the audit's leakage and balance checks see them; `table.other_shapes` counts them per
    shape. The rows stay listed as bad rows of the training shape (they are written another way).
    max_expanded_bytes: the audit policy's cap on a compressed file's expanded size, as the first read."""
    from harness.inputs.readers import read_records

    missing = {b["line"] for b in table.bad_rows}
    if not missing or not isinstance(source, (str, bytes)) and not hasattr(source, "__fspath__"):
        return
    records, lines, _ = read_records(source, None, max_expanded_bytes)
    written_as = {shape: written_as_for(records, {}, shape)[0] for shape in READ_AGAIN_AS}
    keep = [i for i, line in enumerate(lines) if line in missing]
    found = read_in_own_shapes([records[i] for i in keep], [lines[i] for i in keep], "eval", target, labels, written_as)
    if found:
        table.examples = sorted(table.examples + [ex for _, ex in found], key=lambda ex: ex.line)
        for shape, _ in found:
            table.other_shapes[shape] = table.other_shapes.get(shape, 0) + 1
