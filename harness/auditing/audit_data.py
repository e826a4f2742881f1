"""What checks see: the loaded train/eval Tables and the computations several checks share, made once
(normalised text, exact-duplicate keys, the near-duplicate graph, labels)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from harness.inputs.data import Example, Table
from harness.auditing.clusters import cluster_rows, star_clusters
from harness.auditing.engine import AuditEngine, RowScores, sample_rank
from harness.auditing.pairs import canonical_words, same_request_mask, word_label_shares
from harness.inputs.shapes import get_shape
from harness.auditing.similarity import SimilarPairs, similar_pairs
from harness.auditing.templates import Families, families
from harness.core.text import normalize, normalize_loose


@dataclass
class AuditData(AuditEngine):
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
        if get_shape(self.shape).labelled:
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
    def families(self) -> Families:
        """Template skeletons of the distinct texts and which are families (harness/auditing/templates.py)."""
        ids = self.text_ids
        counts = Counter(self.loose["train"])
        return families(self.distinct_texts, counts.items(), Counter(ids["train"].tolist()), self.policy["templates"])

    @cached_property
    def similar(self) -> SimilarPairs:
        """Similar pairs among the distinct texts outside template families: inside a family, rows differ
        by slot values by construction and are reported as the family (template_families), which also
        keeps the candidate search linear on templated data."""
        conf = self.policy["similarity"]
        outside = np.flatnonzero(~self.families.in_family)
        keys = self.candidate_keys
        flat = [(k, j) for j, i in enumerate(outside.tolist()) for k in keys[i]]
        found = similar_pairs([k for k, _ in flat], threshold=float(conf["threshold"]), ngram=int(conf["ngram"]),
                              num_perm=int(conf["num_perm"]), bands=int(conf["bands"]),
                              owners=np.array([j for _, j in flat], dtype=np.int64))
        stats = dict(found.stats, texts_in_template_families=int(self.families.in_family.sum()))
        return SimilarPairs(outside[found.pairs] if len(found.pairs) else found.pairs, found.similarity, stats)

    @cached_property
    def candidate_keys(self) -> list[list[str]]:
        """What the near-duplicate index hashes for each distinct text (harness/auditing/candidate_keys.py): one key,
        or two when the text has an opening or closing clause that asks nothing."""
        from harness.auditing.candidate_keys import candidate_keys, spelling_corrections

        conf = self.policy["similarity"]
        rare_rows = int(conf.get("rare_word_rows", 3))
        counts = self.word_counts
        fixes = spelling_corrections(counts, rare_rows, misspelt_parts=True)
        neutral = self.neutral
        slots, starts = self.label_source is not None, self.clause_starts
        words, inside = self.canonical, self.families.in_family
        # Texts inside template families are not searched: no key needed.
        return [[t] if inside[i] else candidate_keys(t, fixes, counts, rare_rows, words[i], starts[i], neutral, slots)
                for i, t in enumerate(self.distinct_texts)]

    @cached_property
    def canonical(self) -> list[list[str]]:
        """Each distinct text's canonical words (harness/auditing/pairs.py), made once for every use."""
        return [canonical_words(t) for t in self.distinct_texts]

    def rows_by_text(self, split: str) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for row, tid in enumerate(self.text_ids[split].tolist()):
            out.setdefault(tid, []).append(row)
        return out

    # ---- duplicates: similar pairs that are the same request (harness/auditing/pairs.py) -------------------
    @cached_property
    def word_counts(self) -> dict[str, int]:
        """In how many distinct texts (train and eval) each canonical word occurs: rare words are the
        typo candidates."""
        from collections import Counter

        counts: Counter[str] = Counter()
        for words in self.canonical:
            counts.update(set(words))
        return dict(counts)

    @cached_property
    def clause_starts(self) -> dict[int, frozenset[int]]:
        """Where the clauses of each distinct text outside template families start (harness/auditing/pairs.py),
        read from the first row that has it: the candidate keys and the same-request rule read them (on
        200k templated rows, all texts cost ~6 s; family members are never compared)."""
        from harness.auditing.pairs import clause_starts, closing_clauses, run_in_closings

        wanted = set(np.flatnonzero(~self.families.in_family).tolist())
        first: dict[int, str] = {}
        for s in self.splits:
            for tid, norm in zip(self.text_ids[s].tolist(), self.normalized[s]):
                if tid in wanted:
                    first.setdefault(tid, norm)
        found = {t: clause_starts(norm) for t, norm in first.items()}
        # Closings the data sets off elsewhere also end a row that runs them into its request.
        neutral, slots, words = self.neutral, self.label_source is not None, self.canonical
        closings = closing_clauses(((words[t], s) for t, s in found.items()), neutral, slots)
        return {t: run_in_closings(words[t], s, closings) for t, s in found.items()}

    @cached_property
    def word_label_shares(self) -> dict[str, float] | None:
        """Per word, the share of its labelled training texts in its commonest label (harness/auditing/pairs.py's
        word_label_shares); None without labels."""
        if self.label_source is None:
            return None
        ids, labels = self.text_ids["train"].tolist(), self.labels["train"]
        distinct = sorted({(t, lab) for t, lab in zip(ids, labels) if lab is not None}, key=lambda x: (x[0], str(x[1])))
        words = self.canonical
        return word_label_shares((set(words[t]) for t, _ in distinct), [lab for _, lab in distinct],
                                 int(self.policy["similarity"].get("rare_word_rows", 3)))

    @cached_property
    def duplicates(self) -> SimilarPairs:
        """The similar pairs whose differences are all superficial: what near_duplicates, leakage and
        label_conflicts report. Slot values (numbers, dates) are superficial for classification inputs."""
        texts = self.distinct_texts
        keep = same_request_mask(texts, self.similar.pairs, self.word_counts, self.policy["similarity"],
                                 slots=self.label_source is not None, label_shares=self.word_label_shares,
                                 starts=self.clause_starts, words=self.canonical)
        stats = dict(self.similar.stats, same_request=int(keep.sum()),
                     different_request=int(len(keep) - keep.sum()))
        return SimilarPairs(self.similar.pairs[keep], self.similar.similarity[keep], stats)

    def components(self, split: str) -> list[tuple[list[int], float, float, int]]:
        """Duplicate clusters of `split`: (rows, lowest and highest similarity to the representative,
        the representative's row), one per star of harness/auditing/clusters.py plus groups of identical texts;
        every member is a duplicate of the representative (no chaining). Computed once per split:
        near_duplicates and label_conflicts both read it."""
        cache = self.__dict__.setdefault("_component_cache", {})
        if split not in cache:
            by_text = self.rows_by_text(split)
            stars = star_clusters(self.duplicates.pairs, self.duplicates.similarity, np.fromiter(by_text, np.int64))
            cache[split] = cluster_rows(stars, by_text)
        return cache[split]

    def duplicate_links(self, split: str) -> list[tuple[int, int, float]]:
        """Duplicate pairs (text ids a < b, similarity) whose texts both occur in `split`."""
        present = self.rows_by_text(split)
        return [(a, b, s) for (a, b), s in zip(self.duplicates.pairs.tolist(), self.duplicates.similarity.tolist())
                if a in present and b in present]

    # ---- the engine interface (harness/auditing/engine.py) -----------------------------------------
    def row_count(self, split: str) -> int:
        return len(self.rows(split))

    def label_counts(self, split: str) -> Counter:
        return Counter(self.labels[split])

    def exact_groups(self, split: str) -> list[list[tuple[dict, Any]]]:
        rows = self.rows(split)
        outputs = self.labels[split] if self.label_source == "label" else self.normalized_output[split]
        groups: dict[str, list[int]] = {}
        for i, key in enumerate(self.normalized[split]):
            groups.setdefault(key, []).append(i)
        return [[(rows[i].ref, outputs[i]) for i in members] for members in groups.values() if len(members) >= 2]

    def duplicate_clusters(self, split: str) -> list[tuple[list[dict], set[str], float, float, dict]]:
        rows, keys = self.rows(split), self.normalized[split]
        return [([rows[i].ref for i in members], {keys[i] for i in members}, low, high, rows[rep].ref)
                for members, low, high, rep in self.components(split)]

    def duplicate_info(self) -> dict:
        return dict(self.duplicates.stats)

    def conflict_inputs(self, split: str) -> tuple[list[tuple[int, int, float]], dict[int, list], dict[int, str]]:
        rows, labels, outputs = self.rows(split), self.labels[split], self.normalized_output[split]
        links = self.duplicate_links(split)
        by_text = self.rows_by_text(split)
        wanted = {t for a, b, _ in links for t in (a, b)} | {t for t, r in by_text.items() if len(r) > 1}
        text_rows = {t: [(rows[i].ref, labels[i], outputs[i]) for i in by_text[t]] for t in wanted}
        return links, text_rows, {t: self.distinct_texts[t] for t in wanted}

    def scan_rows(self, split: str, fn) -> list[tuple[dict, Any]]:
        return [(ex.ref, found) for ex in self.rows(split) if (found := fn(ex.texts, ex.label, ex.output))]

    def family_rows(self) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], list[dict]], dict]:
        fam = self.families
        counts: Counter = Counter()
        refs: dict[tuple[str, str], list] = {}
        for s in self.splits:
            for ex, tid in zip(self.rows(s), self.text_ids[s].tolist()):
                sk = fam.skeletons[tid]
                if sk in fam.family:
                    counts[(s, sk)] += 1
                    got = refs.setdefault((s, sk), [])
                    if len(got) < 5:
                        got.append(ex.ref)
        distinct = len({fam.skeletons[t] for t in set(self.text_ids["train"].tolist())})
        return dict(counts), refs, {"min_family_rows": fam.min_rows, "slot_contexts": len(fam.slots),
                                    "skeletons": distinct}

    def text_rows(self, split: str) -> dict[int, list[tuple[dict, Any, Any]]]:
        rows, labels, outputs = self.rows(split), self.labels[split], self.normalized_output[split]
        return {t: [(rows[i].ref, labels[i], outputs[i]) for i in idx] for t, idx in self.rows_by_text(split).items()}

    def rows_by_label(self, split: str, quotas: dict[Any, int | None], seed: int) -> list[tuple[int, Any]]:
        by_label: dict[Any, list[int]] = {}
        for i, lab in enumerate(self.labels[split]):
            if lab in quotas:
                by_label.setdefault(lab, []).append(i)
        out = []
        for lab, rows in by_label.items():
            quota = quotas[lab]
            if quota is not None and quota < len(rows):
                rows = sorted(rows, key=lambda i: (sample_rank(seed, i), i))[:quota]
            out += [(i, lab) for i in rows]
        return sorted(out)

    def rows_at(self, split: str, idx: list[int]) -> list[tuple[dict, str, int]]:
        rows, norm, tids = self.rows(split), self.normalized[split], self.text_ids[split]
        return [(rows[i].ref, norm[i], int(tids[i])) for i in idx]

    def duplicate_pairs(self) -> set[tuple[int, int]]:
        return {(a, b) for a, b in self.duplicates.pairs.tolist()}

    def answers_at(self, split: str, idx: list[int]) -> list[tuple[dict, Any, Any]]:
        rows, labels, outputs = self.rows(split), self.labels[split], self.normalized_output[split]
        return [(rows[i].ref, labels[i], labels[i] if labels[i] is not None
                 else (outputs[i] if rows[i].output is not None else None)) for i in idx]

    def requests_at(self, split: str, idx: list[int]) -> list[tuple[dict, str, Any]]:
        rows, labels = self.rows(split), self.labels[split]
        return [(rows[i].ref, rows[i].input, labels[i]) for i in idx]

    def eval_copies(self) -> dict[int, tuple[list[int], list[tuple[int, float]]]]:
        if self.eval is None:
            return {}
        train_exact: dict[str, list[int]] = {}
        for i, key in enumerate(self.normalized["train"]):
            train_exact.setdefault(key, []).append(i)
        by_text = self.rows_by_text("train")
        near: dict[int, list[tuple[int, float]]] = {}
        for (a, b), s in zip(self.duplicates.pairs.tolist(), self.duplicates.similarity.tolist()):
            near.setdefault(a, []).append((b, s))
            near.setdefault(b, []).append((a, s))
        out = {}
        for j, (key, tid) in enumerate(zip(self.normalized["eval"], self.text_ids["eval"].tolist())):
            cands = [(r, 1.0) for r in by_text.get(tid, [])]
            cands += [(r, s) for t, s in near.get(tid, []) for r in by_text.get(t, [])]
            if cands or key in train_exact:
                out[j] = (train_exact.get(key, []), cands)
        return out

    def rows_with_key(self, split: str, keys: list[str]) -> dict[str, list[int]]:
        wanted = set(keys)
        out: dict[str, list[int]] = {}
        for i, key in enumerate(self.loose[split]):
            if key in wanted:
                out.setdefault(key, []).append(i)
        return out

    def contained_spans(self, n: int, max_rows: int, min_coverage: float, skip: set[int], texts: list[str]):
        from harness.auditing.ngrams import BEYOND, NgramIndex, beyond_request_docs

        looked = self.loose["eval"] if self.eval is not None else []
        queries = looked + list(texts)
        index = NgramIndex(self.loose["train"], n, max_rows, queries=queries)
        docs, holders = beyond_request_docs(self.rows("train"))
        beyond = NgramIndex(docs, n, max_rows, queries=queries) if docs else None

        def span(loose: str) -> tuple[float, list[int], str | None]:
            cov, _span, rows = index.longest_span(loose.split())
            if cov < min_coverage and beyond is not None:
                more, _span, found = beyond.longest_span(loose.split())
                if more >= min_coverage:
                    return more, sorted({r for d in found for r in holders[d]}), BEYOND
            return cov, rows, None

        def found(items):
            return {k: got for k, text in items if (got := span(text))[0] >= min_coverage}

        return (found((j, t) for j, t in enumerate(looked) if j not in skip), found(enumerate(texts)))

    def token_label_counts(self, split: str, tokens, min_rows: int) -> tuple[dict[tuple[str, Any], int], dict[str, Any]]:
        # sklearn's vectorizer with the caller's tokens: sparse row x token counts, pruned to min_rows.
        from sklearn.feature_extraction.text import CountVectorizer

        labels = self.labels[split]
        try:
            vec = CountVectorizer(analyzer=tokens, binary=True, min_df=min_rows, lowercase=False)
            rows = vec.fit_transform(self.normalized[split])
        except ValueError:   # no token on min_rows rows
            return {}, {}
        classes = sorted(set(labels), key=str)
        code = {c: j for j, c in enumerate(classes)}
        onehot = np.zeros((len(labels), len(classes)))
        onehot[np.arange(len(labels)), [code[lab] for lab in labels]] = 1
        joint = np.asarray(rows.T @ onehot)
        vocab = [str(t) for t in vec.get_feature_names_out()]
        cols = rows.tocsc()
        cols.sort_indices()
        digests = {t: hash(cols.indices[cols.indptr[k]:cols.indptr[k + 1]].tobytes()) for k, t in enumerate(vocab)}
        return {(vocab[t], classes[c]): int(joint[t, c]) for t, c in zip(*np.nonzero(joint))}, digests

    def keyed_rows(self, split: str, keys, first: int = 20) -> dict[Any, tuple[int, list[dict], Any]]:
        rows = self.rows(split)
        got: dict[Any, list[int]] = {}
        for i, (ex, norm, lab) in enumerate(zip(rows, self.normalized[split], self.labels[split])):
            for key in keys(ex.input, norm, lab):
                got.setdefault(key, []).append(i)
        return {k: (len(v), [rows[i].ref for i in v[:first]], hash(tuple(v))) for k, v in got.items()}

    def count_keys(self, split: str, keys, min_rows: int = 1, first: int = 0) -> dict[Any, tuple[int, list[dict]]]:
        counts: dict[Any, int] = {}
        refs: dict[Any, list[dict]] = {}
        for ex in self.rows(split):
            for key in keys(ex.input, ex.output, ex.rejected):
                counts[key] = counts.get(key, 0) + 1
                got = refs.setdefault(key, [])
                if len(got) < first and (not got or got[-1]["line"] != ex.line):
                    got.append(ex.ref)
        return {k: (n, refs[k]) for k, n in counts.items() if n >= min_rows}

    def distinct_counts(self, split: str, pairs) -> dict[Any, int]:
        seen: dict[Any, set] = {}
        for ex in self.rows(split):
            for group, value in pairs(ex.input, ex.output, ex.rejected):
                seen.setdefault(group, set()).add(value)
        return {g: len(v) for g, v in seen.items()}

    def scan_answers(self, split: str, fn) -> list[tuple[dict, Any]]:
        return [(ex.ref, found) for ex in self.rows(split) if (found := fn(ex.input, ex.output, ex.rejected))]

    def row_scores(self, split: str, fn) -> "ListRowScores":
        rows = self.rows(split)
        scored = [fn(ex.input, ex.output, ex.rejected, ex.label) for ex in rows]
        return ListRowScores([ex.ref for ex in rows], np.array([t for t, _ in scored], dtype=np.int64),
                             [bool(f) for _, f in scored])

    # ---- meaning: sentence embeddings of the distinct texts (harness/auditing/embeddings.py) ----------------
    @cached_property
    def embeddings(self) -> tuple[np.ndarray | None, str]:
        """(unit vectors of distinct_texts, "") or (None, why not): off by policy, the model package
        absent, or more distinct texts than embeddings.max_texts."""
        from harness.auditing.embeddings import embed_texts

        texts = self.distinct_texts
        vectors, why, self.embedder_name = embed_texts(self.policy.get("embeddings", {}), len(texts), lambda: texts)
        return vectors, why


@dataclass
class ListRowScores(RowScores):
    """RowScores in process: the scores as an array beside the rows' refs."""

    refs: list[dict]
    scores: np.ndarray
    flags: list[bool]

    def distribution(self) -> tuple[np.ndarray, np.ndarray]:
        return np.unique(self.scores, return_counts=True)

    def rows_over(self, limit: float) -> list[tuple[dict, int, bool]]:
        return [(ref, int(t), f) for ref, t, f in zip(self.refs, self.scores.tolist(), self.flags) if t > limit or f]
