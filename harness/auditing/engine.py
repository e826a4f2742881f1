"""The audit's engine interface (issue 31.5): the computations several checks share, each declared once
here and implemented twice, in process (harness/auditing/audit_data.py) and on Spark
(harness/auditing/spark/data.py), as great_expectations does per metric. A check calls these and never
asks which engine it runs on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from functools import cached_property
from typing import Any, Callable

from harness.inputs.data_spec import DataSpec

Ref = dict[str, Any]   # {"split", "line"}


class AuditEngine(ABC):
    """What both engines' audit data give the checks the same way (in-process AuditData, SparkAuditData):
    the splits present, the data's shape and spec, the token counter, and the shared computations below.
    Each computation returns plain, bounded data (findings-sized: groups of two or more rows, rows with
    a match), so a check has one `run` whichever engine computed them."""

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
    def spec(self) -> DataSpec:
        """The data spec (harness/inputs/data_spec.py: shape, fields, max_seq_len, tokenizer, ...) the data was
        read with: the policy's `data` section, as the audit stage resolved it."""
        return DataSpec.of_policy(self.policy)

    @cached_property
    def token_counter(self):
        """(count function, description): the spec's tokenizer, or the fast estimate (a plain
        function, so the Spark engine ships it to the executors)."""
        from harness.model.tokens import token_counter

        return token_counter(self.spec.tokenizer)

    @cached_property
    def neutral(self):
        """neutral(word): the word carries no label information here (harness/auditing/pairs.py's
        Vocabulary), from the engine's word counts and label shares."""
        from harness.auditing.pairs import Vocabulary

        conf = self.policy["similarity"]
        return Vocabulary(self.word_counts, int(conf.get("rare_word_rows", 3)), self.word_label_shares,
                          float(conf.get("neutral_max_share", 0.5))).neutral

    # ---- shared computations: each engine implements them ------------------------------------------
    @abstractmethod
    def row_count(self, split: str) -> int:
        """Good (readable, valid) rows of the split."""

    @abstractmethod
    def label_counts(self, split: str) -> Counter:
        """Rows per label (AuditData.label_source: the label or a label-like completion)."""

    @abstractmethod
    def exact_groups(self, split: str) -> list[list[tuple[Ref, Any]]]:
        """Rows with the same exact-duplicate key, groups of two or more, in order of first occurrence:
        each row as (ref, its label, or its normalised output when the data has no labels)."""

    @abstractmethod
    def duplicate_clusters(self, split: str) -> list[tuple[list[Ref], set[str], float, float, Ref]]:
        """The near-duplicate stars of the split (harness/auditing/clusters.py): (member refs, their exact
        keys, lowest and highest similarity to the representative, the representative's ref)."""

    @abstractmethod
    def duplicate_info(self) -> dict:
        """How the duplicate pairs were found (candidates, verified, same request, ...), after
        duplicate_clusters."""

    @abstractmethod
    def conflict_inputs(self, split: str) -> tuple[list[tuple[int, int, float]], dict[int, list], dict[int, str]]:
        """What label_conflicts compares: (duplicate links between text ids, text id -> [(ref, label,
        normalised output)] for every text on two or more rows or in a link, text id -> similarity key)."""

    @abstractmethod
    def scan_rows(self, split: str, fn: Callable[[dict[str, str], Any, Any], Any]) -> list[tuple[Ref, Any]]:
        """fn(the row's text fields {field: text}, its label, its output) on every row, where the rows are
        (on Spark, in each partition: fn must be picklable, its result JSON-able); the rows where it
        returns something truthy, as (ref, result) in file order."""

    @abstractmethod
    def row_scores(self, split: str, fn: Callable[[str, Any, Any, Any], tuple[int, bool]]) -> "RowScores":
        """fn(input, output, rejected, label) -> (an integer score, a flag) for every row (on Spark, in
        each partition): a per-row figure whose distribution a check needs whole and whose rows it needs
        only past a limit it derives from that distribution (length: tokens, and an empty output)."""

    @abstractmethod
    def family_rows(self) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], list[Ref]], dict]:
        """The template families (harness/auditing/templates.py) by split: ((split, skeleton) -> rows in
        the family, (split, skeleton) -> its first five rows' refs, how the families were found)."""

    @abstractmethod
    def text_rows(self, split: str) -> dict[int, list[tuple[Ref, Any, Any]]]:
        """Every row of the split under its text id (the position of its similarity key in
        `distinct_texts`), as (ref, label, normalised output) in file order. Every row: what the meaning
        checks compare with sentence embeddings, which are made on the driver anyway."""

    @abstractmethod
    def duplicate_pairs(self) -> set[tuple[int, int]]:
        """The duplicate pairs (text ids a < b) of every split."""

    @abstractmethod
    def rows_by_label(self, split: str, quotas: dict[Any, int | None], seed: int) -> list[tuple[int, Any]]:
        """The rows of the labels in `quotas` (label_source), as (position, label) in file order: every
        row of a label whose quota is None, else the `quota` rows ranked first by sample_rank(seed,
        position) (the same rows on both engines, whatever the partitions)."""

    @abstractmethod
    def rows_at(self, split: str, idx: list[int]) -> list[tuple[Ref, str, int]]:
        """The rows at these positions (file order, 0-based), as (ref, normalised text, text id)."""

    @abstractmethod
    def answers_at(self, split: str, idx: list[int]) -> list[tuple[Ref, Any, Any]]:
        """The rows at these positions as (ref, label, answer): the answer tells items apart, the
        label (label_source), else the normalised output where the row has one, else None."""

    @abstractmethod
    def requests_at(self, split: str, idx: list[int]) -> list[tuple[Ref, str, Any]]:
        """The rows at these positions as (ref, request as written, label)."""

    @abstractmethod
    def eval_copies(self) -> dict[int, tuple[list[int], list[tuple[int, float]]]]:
        """Eval rows with a copy in train: eval position -> (train rows with the same exact key, train
        rows with the same similarity key (similarity 1.0) or a duplicate pair of it, with the pair's
        similarity)."""

    @abstractmethod
    def rows_with_key(self, split: str, keys: list[str]) -> dict[str, list[int]]:
        """Rows whose similarity key is one of `keys`: key -> their positions, in file order."""

    @abstractmethod
    def contained_spans(self, n: int, max_rows: int, min_coverage: float, skip: set[int],
                        texts: list[str]) -> tuple[dict[int, tuple[float, list[int], str | None]],
                                                   dict[int, tuple[float, list[int], str | None]]]:
        """The longest word span of each eval row (but those in `skip`) and of each text (similarity
        keys) that one training row holds (harness/auditing/ngrams.py: word n-grams of length n, a
        candidate shares one held by at most max_rows rows), looked for in the training requests and,
        where none covers min_coverage, in the text the rows carry beyond their requests. Only spans
        covering min_coverage: (eval position -> (coverage, train rows, where), text position -> the
        same); where is None, or ngrams.BEYOND."""

    @abstractmethod
    def token_label_counts(self, split: str, tokens: Callable[[str], Any],
                           min_rows: int) -> tuple[dict[tuple[str, Any], int], dict[str, Any]]:
        """For the tokens (tokens(the normalised request), picklable) on at least min_rows rows: (token,
        label) -> rows holding both, and token -> a digest of its row set (equal for equal sets). The
        per-row tokens never leave where the rows are."""

    @abstractmethod
    def keyed_rows(self, split: str, keys: Callable[[str, str, Any], Any], first: int = 20) -> dict[Any, tuple[int, list[Ref], Any]]:
        """keys(request as written, normalised request, label) -> the row's distinct keys (JSON-able,
        tuples kept), on every row (picklable);
        per key, (rows, the first `first` refs in file order, a digest equal for equal row sets)."""

    # ---- map and reduce over the rows' answers: what the generative checks are built from ----------
    @abstractmethod
    def count_keys(self, split: str, keys: Callable[[str, Any, Any], Any], min_rows: int = 1,
                   first: int = 0) -> dict[Any, tuple[int, list[Ref]]]:
        """keys(input, output, rejected) -> the keys a row gives (JSON-able, tuples kept; a key given
        twice counts twice), on every row (picklable; on Spark in each partition, summed there and then
        by a group-by); per key given at least min_rows times: (times, the refs of the first `first`
        rows that gave it, file order). The set-level figures of a check (its formats, its phrases)."""

    @abstractmethod
    def distinct_counts(self, split: str, pairs: Callable[[str, Any, Any], Any]) -> dict[Any, int]:
        """pairs(input, output, rejected) -> (group, value) pairs (JSON-able) on every row; per group,
        how many distinct values it was given (a phrase's distinct prompts, a field's distinct values)."""

    @abstractmethod
    def scan_answers(self, split: str, fn: Callable[[str, Any, Any], Any]) -> list[tuple[Ref, Any]]:
        """fn(input, output, rejected) on every row (picklable, its result JSON-able); the rows where it
        returns something truthy, as (ref, result) in file order: a check's per-row decision, made where
        the rows are once count_keys has given the set-level figures it decides against."""

    # Also on both engines: `distinct_texts` (the similarity keys, a text's id its position, in order of
    # first occurrence, train rows first), `embeddings` ((unit vectors of distinct_texts, "") or (None,
    # why not); `embedder_name` set), `word_counts`, `label_source`, `duplicate_links(split)`.


def sample_rank(seed: int, position: int) -> int:
    """A row's place in a seeded sample: a hash of (seed, position), 63 bits."""
    import hashlib

    digest = hashlib.blake2b(f"{seed}\x1f{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


class RowScores(ABC):
    """Per-row integer scores of one split, kept where they were computed."""

    @abstractmethod
    def distribution(self) -> tuple[Any, Any]:
        """(distinct scores ascending, how many rows have each) as int64 arrays: exact, not sampled."""

    @abstractmethod
    def rows_over(self, limit: float) -> list[tuple[Ref, int, bool]]:
        """(ref, score, flag) of the rows scoring above `limit` or flagged, in file order."""
