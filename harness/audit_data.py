"""What checks see: the loaded train/eval Tables and the computations several checks share, made once
(normalised text, exact-duplicate keys, the near-duplicate graph, labels)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .data import Example, Table
from .similarity import SimilarPairs, similar_pairs
from .text import normalize, normalize_loose


class SplitView:
    """What both engines' audit data say the same way (in-process AuditData, SparkAuditData): the
    splits present, the data's shape and the token counter."""

    train: Any
    eval: Any
    policy: dict[str, Any]

    @property
    def splits(self) -> list[str]:
        return ["train"] + (["eval"] if self.eval is not None else [])

    @property
    def shape(self) -> str:
        return self.train.shape

    @cached_property
    def token_counter(self):
        """(count function, description): the configured tokenizer, or the fast estimate (a plain
        function, so the Spark engine ships it to the executors)."""
        from .tokens import token_counter

        return token_counter(self.policy.get("tokenizer"))


@dataclass
class AuditData(SplitView):
    train: Table
    eval: Table | None
    policy: dict[str, Any]
    probes: list[dict[str, Any]] = field(default_factory=list)  # regression-suite items to look for in train

    # ---- rows -------------------------------------------------------------------------------------
    def rows(self, split: str) -> list[Example]:
        table = self.train if split == "train" else self.eval
        return table.examples if table is not None else []

    @cached_property
    def normalized(self) -> dict[str, list[str]]:
        return {s: [normalize(ex.input) for ex in self.rows(s)] for s in self.splits}

    @cached_property
    def loose(self) -> dict[str, list[str]]:
        """Similarity keys (normalise, punctuation dropped) per split; near-duplicate and n-gram checks share them."""
        return {s: [normalize_loose(ex.input) for ex in self.rows(s)] for s in self.splits}

    @cached_property
    def normalized_output(self) -> dict[str, list[str]]:
        return {s: [normalize(ex.output) if ex.output is not None else "" for ex in self.rows(s)]
                for s in self.splits}

    # ---- labels -----------------------------------------------------------------------------------
    @cached_property
    def label_source(self) -> str | None:
        """'label' for classification; 'completion' when a generative set's outputs are label-like
        (few distinct short answers, each repeated), so a chat copy of a classification set is judged
        the same way; None when there are no labels."""
        if self.shape == "classification":
            return "label"
        rule = self.policy["label_like"]
        outs = self.normalized_output["train"]
        distinct = set(outs)
        if outs and len(distinct) <= rule["max_labels"] and len(outs) >= rule["min_rows_per_label"] * len(distinct) \
                and all(len(o.split()) <= rule["max_words"] for o in distinct):
            return "completion"
        return None

    @cached_property
    def labels(self) -> dict[str, list[str | None]]:
        if self.label_source == "label":
            return {s: [ex.label for ex in self.rows(s)] for s in self.splits}
        if self.label_source == "completion":
            return {s: list(self.normalized_output[s]) for s in self.splits}
        return {s: [None] * len(self.rows(s)) for s in self.splits}

    # ---- near-duplicate graph over distinct texts of train + eval ---------------------------------
    @cached_property
    def text_ids(self) -> dict[str, np.ndarray]:
        """Per split, the id of each row's similarity key (loose-normalised input) in `distinct_texts`."""
        index: dict[str, int] = {}
        ids = {}
        for s in self.splits:
            ids[s] = np.fromiter((index.setdefault(key, len(index)) for key in self.loose[s]),
                                 dtype=np.int64, count=len(self.loose[s]))
        self._distinct = list(index)
        return ids

    @property
    def distinct_texts(self) -> list[str]:
        self.text_ids  # noqa: B018 - builds the index
        return self._distinct

    @cached_property
    def similar(self) -> SimilarPairs:
        conf = self.policy["similarity"]
        return similar_pairs(self.distinct_texts, threshold=float(conf["threshold"]), ngram=int(conf["ngram"]),
                             num_perm=int(conf["num_perm"]), bands=int(conf["bands"]))

    def rows_by_text(self, split: str) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for row, tid in enumerate(self.text_ids[split].tolist()):
            out.setdefault(tid, []).append(row)
        return out

    def components(self, split: str) -> list[tuple[list[int], float, float]]:
        """Groups of >= 2 rows of `split` linked by identical or near-duplicate text, each with the
        lowest and highest similarity of the links that joined it (1.0 for identical keys). Computed
        once per split: near_duplicates and label_conflicts both read it."""
        cache = self.__dict__.setdefault("_component_cache", {})
        if split not in cache:
            cache[split] = self._components(split)
        return cache[split]

    def _components(self, split: str) -> list[tuple[list[int], float, float]]:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        by_text = self.rows_by_text(split)
        pairs, sims = self.similar.pairs, self.similar.similarity
        present = np.zeros(len(self.distinct_texts), dtype=bool)
        present[list(by_text)] = True
        keep = present[pairs[:, 0]] & present[pairs[:, 1]] if len(pairs) else np.zeros(0, bool)
        p, sim = pairs[keep], sims[keep]
        n = len(self.distinct_texts)
        graph = coo_matrix((np.ones(len(p)), (p[:, 0], p[:, 1])), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        members: dict[int, list[int]] = {}
        for tid in by_text:
            members.setdefault(int(comp[tid]), []).append(tid)
        low: dict[int, float] = {}
        high: dict[int, float] = {}
        for (a, _b), s in zip(p.tolist(), sim.tolist()):
            c = int(comp[a])
            low[c] = min(low.get(c, 1.0), s)
            high[c] = max(high.get(c, 0.0), s)
        groups = []
        for c, tids in members.items():
            rows = sorted(r for t in tids for r in by_text[t])
            if len(rows) >= 2:
                exact_only = len(tids) == 1
                groups.append((rows, 1.0 if exact_only else low.get(c, 1.0), 1.0 if exact_only else high.get(c, 1.0)))
        groups.sort(key=lambda g: g[0][0])
        return groups
