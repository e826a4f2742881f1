"""Template skeletons: synthetic fine-tuning sets are often one sentence template filled with slot
values ("Where is my order {id}? It was shipped to {city}."). Row by row such rows look like
near duplicates of each other and every eval row looks leaked; as families they are one fact: which
templates the data holds and how much of it each covers.

A word is a slot value when it has a digit, or when the context it sits in (the word before and the
word after) takes many different words with none dominating: "shipped to ___ ." with fifty cities.
Masking those gives the row's skeleton; rows with one skeleton are one family. Both steps are counts
over (before, word, after) triples, so the cost is linear in the words and the Spark engine computes
the same thing with two aggregations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

START, END, SLOT, NUMBER = "^", "$", "_", "#"


def triples(words: list[str]) -> Iterable[tuple[str, str, str]]:
    """(before, word, after) for each position, with START and END at the edges."""
    padded = [START, *words, END]
    for i in range(1, len(padded) - 1):
        yield padded[i - 1], padded[i], padded[i + 1]


def slot_contexts(context_fillers: dict[tuple[str, str], Counter], min_fillers: int, max_share: float) -> set:
    """Contexts (before, after) whose fillers are many and none dominant: slot positions."""
    out = set()
    for ctx, fillers in context_fillers.items():
        if len(fillers) >= min_fillers:
            total = sum(fillers.values())
            if max(fillers.values()) <= max_share * total:
                out.add(ctx)
    return out


def skeleton(words: list[str], slots: set) -> str:
    """The row with digit tokens as NUMBER and slot positions as SLOT, runs of masks collapsed."""
    out: list[str] = []
    for before, word, after in triples(words):
        mask = NUMBER if any(c.isdigit() for c in word) else SLOT if (before, after) in slots else None
        token = mask or word
        if mask and out and out[-1] in (SLOT, NUMBER):
            out[-1] = SLOT if out[-1] != token else token
            continue
        out.append(token)
    return " ".join(out)


def context_counts(texts: Iterable[tuple[str, int]]) -> dict[tuple[str, str], Counter]:
    """(before, after) -> Counter of the words seen there, over (text, rows) pairs."""
    ctx: dict[tuple[str, str], Counter] = {}
    for text, rows in texts:
        for before, word, after in triples(text.split()):
            if not any(c.isdigit() for c in word):
                ctx.setdefault((before, after), Counter())[word] += rows
    return ctx


def is_template(skel: str) -> bool:
    """A skeleton with a word of its own ("_" alone, one-word rows, is no template)."""
    return any(w not in (SLOT, NUMBER) for w in skel.split())


def family_floor(conf: dict, n_train: int) -> int:
    """Training rows a skeleton needs to be a family."""
    return max(int(conf["min_family_rows"]), int(float(conf["min_family_share"]) * n_train))


@dataclass
class Families:
    """Per distinct text (by id) its skeleton; the skeletons that are families; who is in one."""

    slots: set
    skeletons: list[str]
    family: set[str]
    in_family: np.ndarray
    min_rows: int


def families(texts: list[str], train_counts: Iterable[tuple[str, int]], train_rows_per_text: dict[int, int],
             conf: dict) -> Families:
    """texts: distinct similarity keys (id = position); train_counts: (key, rows) of the training split;
    train_rows_per_text: text id -> training rows; conf: the policy's `templates` section."""
    slots = slot_contexts(context_counts(train_counts), int(conf["min_fillers"]), float(conf["max_filler_share"]))
    skeletons = [skeleton(t.split(), slots) for t in texts]
    per: Counter = Counter()
    for tid, n in train_rows_per_text.items():
        per[skeletons[tid]] += n
    floor = family_floor(conf, sum(per.values()))
    family = {s for s, n in per.items() if n >= floor and is_template(s)}
    in_family = np.fromiter((s in family for s in skeletons), dtype=bool, count=len(skeletons))
    return Families(slots, skeletons, family, in_family, floor)
