"""What the checks share on Spark, computed once: distinct similarity keys with stable ids, MinHash
signatures, LSH candidate pairs, verified near-duplicate pairs, the duplicate pairs among them, template
families.

Every step mirrors harness/auditing/similarity.py and harness/auditing/audit_data.py so the findings are the same: text
ids follow first occurrence (train rows, then eval rows); signatures come from the same numpy functions
run inside each partition; LSH buckets pair each member with the next 64 members ordered by text id (a
connected chain beyond that, as `lsh_pairs` does); candidates pass the same signature estimate and true
Jaccard; the same-request filter (harness/auditing/pairs.py) runs on the verified pairs; the duplicate pairs
of a split come to the driver, where the same star clusters are built (harness/auditing/clusters.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from harness.auditing.engine import AuditEngine, RowScores
from harness.inputs.shapes import get_shape
from harness.auditing.spark.load import SparkTable

MAX_BUCKET_PAIRS = 64


def _kept(frame):
    """The frame computed now and kept with its lineage cut (a local checkpoint). A cached frame still
    carries its whole plan into every query that uses it, and the shared graph frames are used by many:
    leakage's plan grew to 1.6 MB of text and ran a 2 GB driver out of heap while analysing it."""
    return frame.localCheckpoint(eager=True)


@dataclass
class SparkFamilies:
    """As harness.auditing.templates.Families, with the skeletons as a frame (tid, sk) and the family skeletons
    also as a frame (sk) to join with."""

    slots: set
    text_skeletons: Any
    family: set
    family_frame: Any
    min_rows: int


@dataclass
class SparkAuditData(AuditEngine):
    train: SparkTable
    eval: SparkTable | None
    policy: dict[str, Any]
    spark: Any
    probes: list[dict[str, Any]] = field(default_factory=list)

    def frame(self, split: str):
        return (self.train if split == "train" else self.eval).frame

    @cached_property
    def rows_all(self):
        """Good rows of every split in one frame, with a global order (train first) for first occurrence."""
        from pyspark.sql import functions as F

        frames = [self.frame(s).withColumn("split_order", F.lit(i)) for i, s in enumerate(self.splits)]
        out = frames[0]
        for f in frames[1:]:
            out = out.unionByName(f)
        return out

    # ---- labels -----------------------------------------------------------------------------------
    @cached_property
    def label_source(self) -> str | None:
        """As AuditData.label_source, from aggregates: 'label', 'completion' (label-like outputs) or None."""
        from pyspark.sql import functions as F

        if get_shape(self.shape).labelled:
            return "label"
        rule = self.policy["label_like"]
        outs = self.frame("train").groupBy("norm_out").count()
        stats = outs.agg(F.count("*").alias("distinct"), F.sum("count").alias("rows"),
                         F.max(F.size(F.split(F.trim("norm_out"), r"\s+"))).alias("words")).first()
        distinct, rows = int(stats.distinct or 0), int(stats.rows or 0)
        max_words = outs.select(F.max(F.when(F.trim("norm_out") == "", 0)
                                      .otherwise(F.size(F.split(F.trim("norm_out"), r"\s+"))))).first()[0] or 0
        if rows and distinct <= rule["max_labels"] and rows >= rule["min_rows_per_label"] * distinct \
                and max_words <= rule["max_words"]:
            return "completion"
        return None

    def with_labels(self, frame):
        """The frame with a `lab` column: the label, the normalised completion, or null."""
        from pyspark.sql import functions as F

        if self.label_source == "label":
            return frame.withColumn("lab", F.col("label"))
        if self.label_source == "completion":
            return frame.withColumn("lab", F.col("norm_out"))
        return frame.withColumn("lab", F.lit(None).cast("string"))

    # ---- near-duplicate graph ---------------------------------------------------------------------
    @cached_property
    def texts(self):
        """Distinct similarity keys with ids in order of first occurrence: (tid, loose)."""
        from pyspark.sql import functions as F

        first = (self.rows_all.groupBy("loose")
                 .agg(F.min(F.struct("split_order", "idx")).alias("first"))
                 .select("loose", F.col("first.split_order").alias("so"), F.col("first.idx").alias("fi")))
        ranked = first.rdd.sortBy(lambda r: (r.so, r.fi)).zipWithIndex().map(lambda t: (t[1], t[0].loose))
        return self.spark.createDataFrame(ranked, "tid long, loose string").cache()

    @cached_property
    def row_tids(self):
        """Every good row with its text id: (split, idx, line, tid)."""
        return _kept(self.rows_all.join(self.texts, "loose").select("split", "idx", "line", "tid"))

    # ---- template families (harness/auditing/templates.py) ---------------------------------------------------
    @cached_property
    def families(self) -> SparkFamilies:
        """As AuditData.families: slot contexts from a count of (before, word, after) over the training
        rows, each distinct text's skeleton, and the skeletons with enough training rows to be families."""
        from pyspark.sql import functions as F

        from harness.auditing.templates import family_floor, is_template, skeleton, triples

        conf = self.policy["templates"]

        def trip(batches):
            import pandas as pd

            for pdf in batches:
                out = [(b, w, a) for t in pdf["loose"] for b, w, a in triples(t.split()) if not any(c.isdigit() for c in w)]
                yield pd.DataFrame(out, columns=["b", "w", "a"])

        fillers = (self.frame("train").select("loose").mapInPandas(trip, "b string, w string, a string")
                   .groupBy("b", "a", "w").count()
                   .groupBy("b", "a").agg(F.count("*").alias("n"), F.sum("count").alias("total"), F.max("count").alias("top")))
        slots = {(r.b, r.a) for r in fillers.where((F.col("n") >= int(conf["min_fillers"])) &
                                                   (F.col("top") <= float(conf["max_filler_share"]) * F.col("total"))).collect()}

        def skel(batches):
            import pandas as pd

            for pdf in batches:
                yield pd.DataFrame({"tid": pdf["tid"], "sk": [skeleton(t.split(), slots) for t in pdf["loose"]]})

        text_sk = self.texts.mapInPandas(skel, "tid long, sk string").cache()
        floor = family_floor(conf, self.train.good_rows)
        per = (self.row_tids.where("split = 'train'").join(text_sk, "tid").groupBy("sk").count()
               .where(F.col("count") >= floor).collect())
        family = {r.sk for r in per if is_template(r.sk)}
        family_frame = self.spark.createDataFrame([(x,) for x in sorted(family)] or [("\x00",)], "sk string")
        return SparkFamilies(slots, text_sk, family, family_frame, floor)

    @cached_property
    def search_texts(self):
        """The distinct texts outside template families: what the near-duplicate search looks at."""
        fam = self.families
        inside = fam.text_skeletons.join(fam.family_frame, "sk").select("tid")
        return self.texts.join(inside, "tid", "left_anti")

    @cached_property
    def text_keys(self):
        """(tid, keys): what the near-duplicate index hashes for each searched text, as AuditData.candidate_keys
        (harness/auditing/candidate_keys.py), made once where the texts are and kept: the signatures and the
        verification of every candidate pair read them (made again per pair, 93M pairs of 1M templated order
        messages took hours). The spelling corrections and the words' counts are collected (one entry per
        word)."""
        from harness.auditing.candidate_keys import spelling_corrections

        conf = self.policy["similarity"]
        rare_rows = int(conf.get("rare_word_rows", 3))
        counts = self.word_counts
        fixes = spelling_corrections(counts, rare_rows, misspelt_parts=True)
        neutral = self.neutral
        slots = self.label_source is not None

        def keyed(batches):
            import pandas as pd

            from harness.auditing.candidate_keys import candidate_keys

            for pdf in batches:
                yield pd.DataFrame({"tid": pdf["tid"], "keys": [
                    candidate_keys(t, fixes, counts, rare_rows, None, frozenset(int(v) for v in s.split(",") if v),
                                   neutral, slots) for t, s in zip(pdf["loose"], pdf["starts"])]})

        return _kept(self.search_texts.join(self.text_starts, "tid").mapInPandas(keyed, "tid long, keys array<string>"))

    @cached_property
    def text_starts(self):
        """(tid, starts): each distinct text's clause starts (harness/auditing/pairs.py), comma-joined, read from the
        first row that has it, plus where it ends with a closing that texts outside template families set
        off at least as often as it runs them in (collected: a few hundred phrases), as
        AuditData.clause_starts."""
        from pyspark.sql import functions as F

        from harness.auditing.pairs import detachable

        first = (self.rows_all.groupBy("loose").agg(F.min(F.struct("split_order", "idx", "norm")).alias("f"))
                 .select("loose", F.col("f.norm").alias("norm")).join(self.texts, "loose"))

        def starts(batches):
            import pandas as pd

            from harness.auditing.pairs import clause_starts

            for pdf in batches:
                yield pd.DataFrame({"tid": pdf["tid"], "starts": [",".join(map(str, sorted(clause_starts(t))))
                                                                  for t in pdf["norm"]]})

        raw = first.select("tid", "norm").mapInPandas(starts, "tid long, starts string").cache()
        neutral, slots = self.neutral, self.label_source is not None

        def parse(x):
            return frozenset(int(v) for v in x.split(",") if v)

        def candidates_of(batches):
            import pandas as pd

            from harness.auditing.pairs import canonical_words, closing_candidates

            for pdf in batches:
                found = closing_candidates(((canonical_words(t), parse(s)) for t, s in zip(pdf["loose"], pdf["starts"])),
                                           neutral, slots)
                yield pd.DataFrame({"c": [" ".join(c) for c in found]}, dtype=object)

        searched = self.search_texts.join(raw, "tid")
        candidates = {tuple(r.c.split(" ")) for r in searched.mapInPandas(candidates_of, "c string").distinct().collect()}

        def counts_of(batches):
            import pandas as pd

            from harness.auditing.pairs import canonical_words, closing_counts

            for pdf in batches:
                got = closing_counts(((canonical_words(t), parse(s)) for t, s in zip(pdf["loose"], pdf["starts"])),
                                     candidates)
                yield pd.DataFrame({"c": [" ".join(c) for c in got], "ends": [v[0] for v in got.values()],
                                    "set_off": [v[1] for v in got.values()]}).astype({"c": object})

        counted = (searched.mapInPandas(counts_of, "c string, ends long, set_off long").groupBy("c")
                   .agg(F.sum("ends").alias("ends"), F.sum("set_off").alias("set_off")).collect()) if candidates else []
        closings = detachable({tuple(r.c.split(" ")): [int(r.ends), int(r.set_off)] for r in counted})

        def with_closings(batches):
            import pandas as pd

            from harness.auditing.pairs import canonical_words, run_in_closings

            for pdf in batches:
                yield pd.DataFrame({"tid": pdf["tid"], "starts": [
                    ",".join(map(str, sorted(run_in_closings(canonical_words(t), parse(s), closings))))
                    for t, s in zip(pdf["loose"], pdf["starts"])]})

        return _kept(raw.join(self.texts, "tid").mapInPandas(with_closings, "tid long, starts string"))

    @cached_property
    def word_label_shares(self) -> dict[str, float] | None:
        """As AuditData.word_label_shares: per word, (word, label) counts over the distinct labelled
        training texts, aggregated in Spark; the words over `rare_word_rows` come back."""
        from pyspark.sql import functions as F

        if self.label_source is None:
            return None
        from harness.auditing.pairs import share_bound

        rare_rows = int(self.policy["similarity"].get("rare_word_rows", 3))
        labelled = (self.with_labels(self.frame("train")).where("lab IS NOT NULL").join(self.texts, "loose")
                    .select("tid", "loose", "lab").distinct())

        def words(batches):
            import pandas as pd

            from harness.auditing.pairs import canonical_words

            for pdf in batches:
                out = [(w, lab) for t, lab in zip(pdf["loose"], pdf["lab"]) for w in set(canonical_words(t))]
                yield pd.DataFrame(out, columns=["w", "lab"])

        per = (labelled.mapInPandas(words, "w string, lab string").groupBy("w", "lab").count()
               .groupBy("w").agg(F.sum("count").alias("total"), F.max("count").alias("top"))
               .where(F.col("total") > rare_rows).collect())
        return {r.w: share_bound(int(r.top), int(r.total)) for r in per}

    @cached_property
    def signatures(self):
        """(tid, sig: the uint32 MinHash row as bytes) from the in-process MinHash, partition by partition."""
        conf = self.policy["similarity"]
        ngram, num_perm = int(conf["ngram"]), int(conf["num_perm"])
        def sign(batches):
            import pandas as pd

            from harness.auditing.similarity import shingle_hashes, signatures

            for pdf in batches:
                variants = [list(v) for v in pdf["keys"]]
                tids = np.repeat(pdf["tid"].values, [len(v) for v in variants])
                hashes, offsets = shingle_hashes([k for v in variants for k in v], ngram)
                sig = signatures(hashes, offsets, num_perm)
                yield pd.DataFrame({"tid": tids, "sig": [row.tobytes() for row in sig]})

        # A text has one or two keys (harness/auditing/candidate_keys.py): one signature row each.
        return self.text_keys.mapInPandas(sign, "tid long, sig binary").cache()

    @cached_property
    def similar(self):
        """Verified pairs (a < b text ids) with true Jaccard >= threshold: (a, b, sim)."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        conf = self.policy["similarity"]
        threshold, ngram = float(conf["threshold"]), int(conf["ngram"])
        bands, num_perm = int(conf["bands"]), int(conf["num_perm"])
        r = num_perm // bands

        def band_keys(batches):
            import pandas as pd

            from harness.auditing.similarity import mix64

            for pdf in batches:
                sig = np.stack([np.frombuffer(b, dtype=np.uint32) for b in pdf["sig"]]).astype(np.uint64)
                tids = pdf["tid"].values
                out_b, out_k, out_t = [], [], []
                with np.errstate(over="ignore"):
                    for b in range(bands):
                        key = np.zeros(len(sig), dtype=np.uint64)
                        for c in range(b, bands * r, bands):
                            key = mix64(key * np.uint64(0x100000001B3) + sig[:, c])
                        out_b.append(np.full(len(sig), b))
                        out_k.append(key.view(np.int64))
                        out_t.append(tids)
                yield pd.DataFrame({"band": np.concatenate(out_b) if out_b else [],
                                    "key": np.concatenate(out_k) if out_k else [],
                                    "tid": np.concatenate(out_t) if out_t else []})

        keys = self.signatures.mapInPandas(band_keys, "band int, key long, tid long")
        bucket = Window.partitionBy("band", "key")
        members = keys.withColumn("size", F.count("*").over(bucket)).where("size > 1").select("band", "key", "tid")

        def pairs_in_buckets(batches):
            """Members sorted by (band, key, tid), many buckets a batch: each member is paired with the next
            MAX_BUCKET_PAIRS members of its bucket (all pairs up to that size, a chain beyond, as lsh_pairs),
            vectorised over the batch; the signature estimate filters the pairs here, where the
            signatures already are, so no pair travels with two signatures. A bucket cut by a batch
            boundary is carried over to the next batch."""
            import pandas as pd

            from harness.auditing.similarity import ESTIMATE_MARGIN, estimated_similarity

            def pairs(pdf):
                if len(pdf) < 2:
                    return
                band, key = pdf["band"].to_numpy(), pdf["key"].to_numpy()
                tids = pdf["tid"].to_numpy()
                sig = np.stack([np.frombuffer(b, dtype=np.uint32) for b in pdf["sig"]])
                out_a, out_b = [], []
                for d in range(1, MAX_BUCKET_PAIRS + 1):
                    same = np.flatnonzero((band[d:] == band[:-d]) & (key[d:] == key[:-d]))
                    if len(same) == 0:
                        break
                    keep = same[(estimated_similarity(sig[same], sig[same + d]) >= threshold - ESTIMATE_MARGIN)
                                & (tids[same] != tids[same + d])]   # two keys of one text
                    out_a.append(tids[keep])
                    out_b.append(tids[keep + d])
                if out_a:
                    a, b = np.concatenate(out_a), np.concatenate(out_b)
                    yield pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b)})

            carry = None
            for pdf in batches:
                if carry is not None:
                    pdf = pd.concat([carry, pdf], ignore_index=True)
                band, key = pdf["band"].to_numpy(), pdf["key"].to_numpy()
                tail = (band == band[-1]) & (key == key[-1])  # the last bucket may go on in the next batch
                carry = pdf[tail].reset_index(drop=True)
                yield from pairs(pdf[~tail].reset_index(drop=True))
            if carry is not None:
                yield from pairs(carry)

        passed = (members.join(self.signatures, "tid").repartition("band", "key")
                  .sortWithinPartitions("band", "key", "tid")
                  .mapInPandas(pairs_in_buckets, "a long, b long").distinct())
        keyed = self.text_keys
        with_text = (passed.join(keyed.withColumnRenamed("tid", "a").withColumnRenamed("keys", "ka"), "a")
                     .join(keyed.withColumnRenamed("tid", "b").withColumnRenamed("keys", "kb"), "b"))

        def verify(batches):
            """True Jaccard of each pair: the best over the two texts' keys, as similar_pairs in-process. A
            key met in several pairs of the batch is shingled once."""
            import pandas as pd

            from harness.auditing.similarity import jaccard_pairs, row_shingle_sets

            for pdf in batches:
                if len(pdf) == 0:
                    continue
                slot: dict[str, int] = {}
                owner, left, right = [], [], []
                for p, (ka, kb) in enumerate(zip(pdf["ka"], pdf["kb"])):
                    for x in ka:
                        for y in kb:
                            left.append(slot.setdefault(x, len(slot)))
                            right.append(slot.setdefault(y, len(slot)))
                            owner.append(p)
                values, offsets = row_shingle_sets(list(slot), ngram)
                sims = jaccard_pairs(values, offsets, np.stack([left, right], axis=1).astype(np.int64))
                best = np.zeros(len(pdf))
                np.maximum.at(best, np.array(owner, dtype=np.int64), sims)
                out = pd.DataFrame({"a": pdf["a"].values, "b": pdf["b"].values, "sim": best})
                yield out[out["sim"] >= threshold]

        self.similar_stats = {"shingle": f"char-{ngram}", "num_perm": num_perm, "bands": bands, "rows_per_band": r,
                              "engine": "spark"}
        return _kept(with_text.mapInPandas(verify, "a long, b long, sim double"))

    # ---- duplicates: similar pairs that are the same request (harness/auditing/pairs.py) -------------------
    @cached_property
    def word_counts(self) -> dict[str, int]:
        """As AuditData.word_counts: distinct texts holding each canonical word, collected."""
        from pyspark.sql import functions as F

        def words(batches):
            import pandas as pd

            from harness.auditing.pairs import canonical_words

            for pdf in batches:
                yield pd.DataFrame({"w": [w for t in pdf["loose"] for w in set(canonical_words(t))]})

        return {r.w: r["count"] for r in self.texts.mapInPandas(words, "w string").groupBy("w").count()
                .select("w", F.col("count")).collect()}

    @cached_property
    def duplicates(self):
        """The similar pairs that are the same request: (a, b, sim); as AuditData.duplicates."""
        conf = dict(self.policy["similarity"])
        counts = self.word_counts
        slots = self.label_source is not None
        shares = self.word_label_shares

        def keep(batches):
            from harness.auditing.pairs import same_request_mask

            def parse(x):
                return frozenset(int(v) for v in x.split(",") if v)

            for pdf in batches:
                if len(pdf) == 0:
                    continue
                m = len(pdf)
                mask = same_request_mask(pdf["ta"].tolist() + pdf["tb"].tolist(),
                                         np.stack([np.arange(m), np.arange(m, 2 * m)], axis=1), counts, conf, slots,
                                         label_shares=shares,
                                         starts=[parse(x) for x in pdf["sa"].tolist() + pdf["sb"].tolist()])
                yield pdf[["a", "b", "sim"]][mask]

        starts = self.text_starts
        with_text = (self.similar.join(self.texts.withColumnRenamed("tid", "a").withColumnRenamed("loose", "ta"), "a")
                     .join(self.texts.withColumnRenamed("tid", "b").withColumnRenamed("loose", "tb"), "b")
                     .join(starts.withColumnRenamed("tid", "a").withColumnRenamed("starts", "sa"), "a")
                     .join(starts.withColumnRenamed("tid", "b").withColumnRenamed("starts", "sb"), "b"))
        out = _kept(with_text.mapInPandas(keep, "a long, b long, sim double"))
        self.duplicate_stats = dict(self.similar_stats, same_request=out.count())
        return out

    def duplicate_links(self, split: str) -> list[tuple[int, int, float]]:
        """As AuditData.duplicate_links, collected (duplicate pairs are few)."""
        cache = self.__dict__.setdefault("_link_cache", {})
        if split not in cache:
            present = self.row_tids.where(f"split = '{split}'").select("tid").distinct()
            edges = (self.duplicates.join(present.withColumnRenamed("tid", "a"), "a")
                     .join(present.withColumnRenamed("tid", "b"), "b").select("a", "b", "sim"))
            cache[split] = sorted((int(r.a), int(r.b), float(r.sim)) for r in edges.collect())
        return cache[split]

    def components(self, split: str) -> list[tuple[list[int], float, float, int]]:
        """As AuditData.components: the same stars from the same pairs (harness/auditing/clusters.py), with the
        rows of the texts they hold (and of texts on several rows) collected."""
        from pyspark.sql import functions as F

        from harness.auditing.clusters import cluster_rows, star_clusters

        cache = self.__dict__.setdefault("_component_cache", {})
        if split not in cache:
            links = self.duplicate_links(split)
            pairs = np.array([(a, b) for a, b, _ in links], dtype=np.int64).reshape(-1, 2)
            sims = np.array([s for _, _, s in links], dtype=np.float64)
            stars = star_clusters(pairs, sims, np.unique(pairs))
            rows = self.row_tids.where(F.col("split") == split)
            multi = rows.groupBy("tid").count().where("count > 1").select("tid")
            starred = self.spark.createDataFrame([(int(t),) for _, m in stars for t, _ in m] or [(-1,)], "tid long")
            by_text: dict[int, list[int]] = {}
            for r in rows.join(multi.unionByName(starred).distinct(), "tid").select("tid", "idx").orderBy("idx").collect():
                by_text.setdefault(int(r.tid), []).append(int(r.idx))
            cache[split] = cluster_rows(stars, by_text)
        return cache[split]

    def fetch(self, split: str, idx: list[int], columns: tuple = ("line",)) -> dict[int, Any]:
        """A few rows by index, to the driver: {idx: Row}. Columns are names (`lab` included) or column
        expressions."""
        if not len(idx):
            return {}
        wanted = self.spark.createDataFrame([(int(i),) for i in set(idx)], "idx long")
        frame = self.with_labels(self.frame(split))
        return {int(r.idx): r for r in frame.join(wanted, "idx").select("idx", *columns).collect()}

    # ---- the engine interface (harness/auditing/engine.py) -----------------------------------------
    def row_count(self, split: str) -> int:
        table = self.train if split == "train" else self.eval
        return table.good_rows if table is not None else 0

    def label_counts(self, split: str):
        """Label counts by a Spark group-by."""
        from collections import Counter

        return Counter({r.lab: r["count"] for r in self.with_labels(self.frame(split)).groupBy("lab").count().collect()})

    def exact_groups(self, split: str) -> list[list[tuple[dict, Any]]]:
        """Groups by the exact key on Spark; only groups of two or more rows reach the driver."""
        from pyspark.sql import functions as F

        out = "lab" if self.label_source == "label" else "norm_out"
        got = (self.with_labels(self.frame(split)).groupBy("norm")
               .agg(F.count("*").alias("n"), F.sort_array(F.collect_list(
                   F.struct("idx", "line", F.col(out).alias("out")))).alias("m"))
               .where("n >= 2").select("m").collect())
        groups = sorted(([(m.idx, {"split": split, "line": m.line}, m.out) for m in g.m] for g in got),
                        key=lambda g: g[0][0])
        return [[(ref, o) for _, ref, o in g] for g in groups]

    def duplicate_clusters(self, split: str) -> list[tuple[list[dict], set[str], float, float, dict]]:
        """The stars from the Spark duplicate pairs; only their member rows are fetched."""
        comps = self.components(split)
        got = self.fetch(split, [i for members, _, _, _ in comps for i in members], ("line", "norm"))
        return [([{"split": split, "line": got[i].line} for i in members], {got[i].norm for i in members}, low,
                 high, {"split": split, "line": got[rep].line})
                for members, low, high, rep in comps]

    def duplicate_info(self) -> dict:
        self.duplicates  # noqa: B018 - computed (and its stats set) on first use
        return dict(self.duplicate_stats)

    def conflict_inputs(self, split: str) -> tuple[list[tuple[int, int, float]], dict[int, list], dict[int, str]]:
        """Only the rows of texts on two or more rows, or in a duplicate link, reach the driver."""
        links = self.duplicate_links(split)
        rows = self.with_labels(self.frame(split)).select("idx", "line", "lab", "norm_out").join(
            self.row_tids.where(f"split = '{split}'").select("idx", "tid"), "idx")
        multi = rows.groupBy("tid").count().where("count > 1").select("tid")
        linked = self.spark.createDataFrame([(int(t),) for t in {t for a, b, _ in links for t in (a, b)}] or [(-1,)],
                                            "tid long")
        got = (rows.join(multi.unionByName(linked).distinct(), "tid").join(self.texts, "tid")
               .select("tid", "idx", "line", "lab", "norm_out", "loose").orderBy("idx").collect())
        text_rows: dict[int, list] = {}
        texts = {}
        for r in got:
            text_rows.setdefault(r.tid, []).append(({"split": split, "line": r.line}, r.lab, r.norm_out))
            texts[r.tid] = r.loose
        return links, text_rows, texts

    def scan_rows(self, split: str, fn) -> list[tuple[dict, Any]]:
        """fn in every partition; only the rows where it finds something reach the driver."""
        import json

        def scan(batches):
            from harness.auditing.spark import pandas_frame

            for pdf in batches:
                out = [(line, json.dumps(found)) for line, texts, label, output
                       in zip(pdf["line"], pdf["texts"], pdf["label"], pdf["output"])
                       if (found := fn(json.loads(texts), label, output))]
                yield pandas_frame(out, columns=["line", "found"])

        if (self.train if split == "train" else self.eval) is None:
            return []
        got = (self.frame(split).select("line", "texts", "label", "output")
               .mapInPandas(scan, "line long, found string").orderBy("line").collect())
        return [({"split": split, "line": r.line}, json.loads(r.found)) for r in got]

    def family_rows(self) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], list[dict]], dict]:
        """Family rows counted by a group-by, the first five rows of each family collected."""
        from pyspark.sql import functions as F

        fam = self.families
        rows = self.row_tids.join(fam.text_skeletons, "tid")
        in_fam = rows.join(fam.family_frame, "sk")
        got = (in_fam.groupBy("split", "sk")
               .agg(F.count("*").alias("n"), F.slice(F.sort_array(F.collect_list(F.struct("line", "idx"))), 1, 5)
                    .alias("first")).collect())
        counts = {(r.split, r.sk): int(r.n) for r in got}
        refs = {(r.split, r.sk): [{"split": r.split, "line": m.line} for m in r.first] for r in got}
        distinct = rows.where("split = 'train'").select("sk").distinct().count()
        return counts, refs, {"min_family_rows": fam.min_rows, "slot_contexts": len(fam.slots), "skeletons": distinct}

    def text_rows(self, split: str) -> dict[int, list[tuple[dict, Any, Any]]]:
        """Every row of the split with its text id, to the driver."""
        if (self.train if split == "train" else self.eval) is None:
            return {}
        frame = self.with_labels(self.frame(split)).select("idx", "line", "lab", "norm_out").join(
            self.row_tids.where(f"split = '{split}'").select("idx", "tid"), "idx")
        out: dict[int, list] = {}
        for r in frame.orderBy("idx").collect():
            out.setdefault(int(r.tid), []).append(({"split": split, "line": r.line}, r.lab, r.norm_out))
        return out

    def rows_by_label(self, split: str, quotas: dict[Any, int | None], seed: int) -> list[tuple[int, Any]]:
        """Each row ranked within its label by a window over sample_rank; only the chosen rows' (idx,
        label) come to the driver."""
        import pandas as pd
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        from harness.auditing.engine import sample_rank

        if not quotas:
            return []
        wanted = self.spark.createDataFrame([(lab, -1 if q is None else int(q)) for lab, q in quotas.items()],
                                            "lab string, q long")

        def ranked(batches):
            for pdf in batches:
                yield pd.DataFrame({"idx": pdf["idx"], "lab": pdf["lab"], "q": pdf["q"],
                                    "r": [sample_rank(seed, int(i)) for i in pdf["idx"]]})

        frame = (self.with_labels(self.frame(split)).select("idx", "lab").join(wanted, "lab")
                 .mapInPandas(ranked, "idx long, lab string, q long, r long"))
        kept = (frame.withColumn("k", F.row_number().over(Window.partitionBy("lab").orderBy("r", "idx")))
                .where((F.col("q") < 0) | (F.col("k") <= F.col("q"))))
        return [(int(r.idx), r.lab) for r in kept.select("idx", "lab").orderBy("idx").collect()]

    def rows_at(self, split: str, idx: list[int]) -> list[tuple[dict, str, int]]:
        """Only the chosen rows' text comes to the driver."""
        if not len(idx):
            return []
        wanted = self.spark.createDataFrame([(int(i),) for i in idx], "idx long")
        got = (self.frame(split).join(wanted, "idx").join(self.row_tids.where(f"split = '{split}'")
                                                          .select("idx", "tid"), "idx")
               .select("idx", "line", "norm", "tid").collect())
        by_idx = {int(r.idx): ({"split": split, "line": r.line}, r.norm, int(r.tid)) for r in got}
        return [by_idx[int(i)] for i in idx]

    def duplicate_pairs(self) -> set[tuple[int, int]]:
        return {(int(r.a), int(r.b)) for r in self.duplicates.select("a", "b").collect()}

    @cached_property
    def distinct_texts(self) -> list[str]:
        """The similarity keys by text id, to the driver (for the meaning checks, which embed them there)."""
        return [r.loose for r in self.texts.orderBy("tid").collect()]

    @cached_property
    def embeddings(self) -> tuple[np.ndarray | None, str]:
        """As AuditData.embeddings: the same texts embedded on the driver with the same model, at most
        embeddings.max_texts of them (the texts are collected only when they will be embedded)."""
        from harness.auditing.embeddings import embed_texts

        vectors, why, self.embedder_name = embed_texts(self.policy.get("embeddings", {}), self.texts.count(),
                                                       lambda: self.distinct_texts)
        return vectors, why

    def answer_column(self):
        """The Spark column `ans`, as AuditEngine.answers_at: the label, else the normalised output."""
        from pyspark.sql import functions as F

        lab = F.col("label") if self.label_source == "label" else F.lit(None).cast("string")
        return F.coalesce(lab, F.when(F.col("output").isNotNull(), F.col("norm_out"))).alias("ans")

    def answers_at(self, split: str, idx: list[int]) -> list[tuple[dict, Any, Any]]:
        got = self.fetch(split, idx, ("line", "lab", self.answer_column()))
        return [({"split": split, "line": got[i].line}, got[i].lab, got[i].ans) for i in idx]

    def requests_at(self, split: str, idx: list[int]) -> list[tuple[dict, str, Any]]:
        got = self.fetch(split, idx, ("line", "input", "lab"))
        return [({"split": split, "line": got[i].line}, got[i].input, got[i].lab) for i in idx]

    def eval_copies(self) -> dict[int, tuple[list[int], list[tuple[int, float]]]]:
        """Exact copies by a join on the exact key, near ones through the duplicate pairs; only eval rows
        with a copy come back."""
        from pyspark.sql import functions as F

        if self.eval is None:
            return {}
        ev, train = self.frame("eval").select("idx", "norm"), self.frame("train").select("norm", F.col("idx").alias("row"))
        exact = ev.join(train, "norm").groupBy("idx").agg(F.sort_array(F.collect_list("row")).alias("rows"))
        tids = self.row_tids
        ev_t = tids.where("split = 'eval'").select("idx", "tid")
        tr_t = tids.where("split = 'train'").select(F.col("idx").alias("row"), F.col("tid").alias("t"))
        pairs = self.duplicates
        links = (ev_t.select("idx", F.col("tid").alias("t"), F.lit(1.0).alias("s"))
                 .unionByName(ev_t.join(pairs.withColumnRenamed("a", "tid").withColumnRenamed("b", "t"), "tid")
                              .select("idx", "t", F.col("sim").alias("s")))
                 .unionByName(ev_t.join(pairs.withColumnRenamed("b", "tid").withColumnRenamed("a", "t"), "tid")
                              .select("idx", "t", F.col("sim").alias("s"))))
        near = links.join(tr_t, "t").groupBy("idx").agg(F.collect_list(F.struct("row", "s")).alias("cands"))
        out = {}
        for r in exact.join(near, "idx", "full").collect():
            cands = sorted((int(c.row), float(c.s)) for c in r.cands or [])
            out[int(r.idx)] = ([int(x) for x in r.rows or []], cands)
        return out

    def rows_with_key(self, split: str, keys: list[str]) -> dict[str, list[int]]:
        from pyspark.sql import functions as F

        if not keys:
            return {}
        wanted = self.spark.createDataFrame([(k,) for k in set(keys)], "loose string")
        return {r.loose: [int(x) for x in r.rows] for r in self.frame(split).join(wanted, "loose").groupBy("loose")
                .agg(F.sort_array(F.collect_list("idx")).alias("rows")).collect()}

    def contained_spans(self, n: int, max_rows: int, min_coverage: float, skip: set[int], texts: list[str]):
        """As in process, by joins on word n-grams: only training n-grams that some eval row or text has
        are kept (with all their training rows, so the rare-or-common count is unchanged), which avoids
        shuffling every n-gram of the training set."""
        from pyspark.sql import functions as F

        from harness.auditing.ngrams import BEYOND
        from harness.auditing.spark.ngrams import beyond_index, longest_spans, ngrams

        spark = self.spark
        items = spark.createDataFrame(list(enumerate(texts)), "q long, loose string") if texts else None
        ev = self.frame("eval").select(F.col("idx").alias("q"), "loose") if self.eval is not None else None
        needed = None
        for qf in (ev, items):
            if qf is not None:
                h = ngrams(qf, n).select("h")
                needed = h if needed is None else needed.unionByName(h)
        if needed is None:
            return {}, {}
        needed = needed.distinct()
        train = self.frame("train").select(F.col("idx").alias("row"), "loose")
        tgrams = ngrams(train, n).join(needed, "h").select("h", "row").distinct().cache()
        rare = tgrams.groupBy("h").agg(F.count("*").alias("c")).where(F.col("c") <= max_rows).select("h")
        beyond = (beyond_index(self.frame("train"), needed, n, max_rows) if get_shape(self.shape).generative
                  else None)

        def spans(queries) -> dict[int, tuple[float, list[int], str | None]]:
            got = {int(r.q): (float(r.cov), [int(x) for x in r.rows], None)
                   for r in longest_spans(queries, tgrams, rare, n).where(F.col("cov") >= min_coverage).collect()}
            if beyond is not None:
                rest = queries.join(spark.createDataFrame([(q,) for q in got] or [(-1,)], "q long"), "q", "left_anti")
                bgrams, brare, holders = beyond
                hits = longest_spans(rest, bgrams, brare, n).where(F.col("cov") >= min_coverage)
                for r in (hits.select("q", "cov", F.explode("rows").alias("doc")).join(holders, "doc")
                          .groupBy("q", "cov").agg(F.sort_array(F.collect_set("row")).alias("rows")).collect()):
                    got[int(r.q)] = (float(r.cov), [int(x) for x in r.rows], BEYOND)
            return got

        found_eval = {}
        if ev is not None:
            rest = ev.join(spark.createDataFrame([(int(j),) for j in skip] or [(-1,)], "q long"), "q", "left_anti")
            found_eval = spans(rest)
        found_texts = spans(items) if items is not None else {}
        tgrams.unpersist()
        if beyond is not None:
            beyond[0].unpersist()
        return found_eval, found_texts

    def token_label_counts(self, split: str, tokens, min_rows: int) -> tuple[dict[tuple[str, Any], int], dict[str, Any]]:
        """Summed in each partition, then by a group-by: the per-row token lists never leave the worker
        (a row per token and row was tens of millions of rows to shuffle at 1M). A token's digest is the
        sum (mod a prime) and the xor of its rows' hashed positions, summed the same way."""
        from pyspark.sql import functions as F

        def partial_counts(batches):
            from harness.auditing.spark import pandas_frame, values

            acc: dict = {}
            mask = (1 << 63) - 1

            def flush():
                return pandas_frame([(t, lab, k, s, x) for (t, lab), (k, s, x) in acc.items()],
                                    columns=["tok", "lab", "n", "s", "x"])

            for pdf in batches:
                for i, lab, text in zip(pdf["idx"].tolist(), values(pdf, "lab"), values(pdf, "norm")):
                    h = (i * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & mask
                    for tok in set(tokens(text)):
                        got = acc.get((tok, lab))
                        acc[(tok, lab)] = (1, h % 1_000_000_007, h) if got is None else (
                            got[0] + 1, (got[1] + h) % 1_000_000_007, got[2] ^ h)
                if len(acc) > 2_000_000:  # bounded worker memory on huge partitions
                    yield flush()
                    acc.clear()
            yield flush()

        per_label = (self.with_labels(self.frame(split)).select("idx", "lab", "norm")
                     .mapInPandas(partial_counts, "tok string, lab string, n long, s long, x long")
                     .groupBy("tok", "lab").agg(F.sum("n").alias("n"), (F.sum("s") % 1_000_000_007).alias("s"),
                                                F.bit_xor("x").alias("x")))
        per_token = (per_label.groupBy("tok").agg(F.sum("n").alias("c"), (F.sum("s") % 1_000_000_007).alias("s"),
                                                  F.bit_xor("x").alias("x"))
                     .where(F.col("c") >= min_rows))
        digests = {r.tok: (int(r.c), int(r.s), int(r.x)) for r in per_token.collect()}
        counts = {(r.tok, r.lab): int(r.n) for r in per_label.join(per_token.select("tok"), "tok").collect()}
        return counts, digests

    def keyed_rows(self, split: str, keys, first: int = 20) -> dict[Any, tuple[int, list[dict], Any]]:
        """keys in every partition; per key a group-by counts the rows, keeps the first refs and a digest
        of the row set (count, sum and xor of row hashes)."""
        import json

        from pyspark.sql import functions as F

        def keyed(batches):
            from harness.auditing.spark import pandas_frame, values

            for pdf in batches:
                out = [(i, line, json.dumps(k)) for i, line, text, norm, lab
                       in zip(pdf["idx"], pdf["line"], values(pdf, "input"), values(pdf, "norm"), values(pdf, "lab"))
                       for k in keys(text or "", norm or "", lab)]
                yield pandas_frame(out, columns=["idx", "line", "key"])

        got = (self.with_labels(self.frame(split)).select("idx", "line", "input", "norm", "lab")
               .mapInPandas(keyed, "idx long, line long, key string").groupBy("key")
               .agg(F.count("*").alias("n"), F.sum(F.xxhash64("idx") % 1_000_000_007).alias("s"),
                    F.bit_xor(F.xxhash64("idx")).alias("x"),
                    F.slice(F.sort_array(F.collect_list(F.struct("idx", "line"))), 1, first).alias("first"))
               .collect())

        return {_tuples(json.loads(r.key)): (int(r.n), [{"split": split, "line": m.line} for m in r.first],
                                            (int(r.n), int(r.s), int(r.x))) for r in got}

    def _answers(self, split: str):
        """The columns the answer operations hand their function, or None for a split not given."""
        if (self.train if split == "train" else self.eval) is None:
            return None
        return self.frame(split).select("idx", "line", "input", "output", "rejected")

    def count_keys(self, split: str, keys, min_rows: int = 1, first: int = 0) -> dict[Any, tuple[int, list[dict]]]:
        """keys in every partition, counted there (with each key's first lines), then summed by a group-by
        that keeps only the keys given min_rows times: a set's figures, never its rows, reach the driver."""
        import json

        from pyspark.sql import functions as F

        def counted(batches):
            from harness.auditing.spark import pandas_frame, values

            acc: dict[str, list] = {}

            def flush():
                return pandas_frame([(k, n, lines) for k, (n, lines) in acc.items()], columns=["key", "n", "first"])

            for pdf in batches:
                for line, text, out, rejected in zip(pdf["line"].tolist(), values(pdf, "input"),
                                                     values(pdf, "output"), values(pdf, "rejected")):
                    for key in keys(text or "", out, rejected):
                        got = acc.setdefault(json.dumps(key), [0, []])
                        got[0] += 1
                        if len(got[1]) < first and (not got[1] or got[1][-1] != line):
                            got[1].append(line)
                if len(acc) > 1_000_000:  # bounded worker memory on huge partitions
                    yield flush()
                    acc.clear()
            yield flush()

        rows = self._answers(split)
        if rows is None:
            return {}
        got = (rows.mapInPandas(counted, "key string, n long, first array<long>").groupBy("key")
               .agg(F.sum("n").alias("n"), F.array_sort(F.flatten(F.collect_list("first"))).alias("first"))
               .where(F.col("n") >= min_rows).collect())
        return {_tuples(json.loads(r.key)): (int(r.n), [{"split": split, "line": ln} for ln in r.first[:first]])
                for r in got}

    def distinct_counts(self, split: str, pairs) -> dict[Any, int]:
        """pairs in every partition, made distinct there and by a group-by; one count per group comes back."""
        import json

        from pyspark.sql import functions as F

        def paired(batches):
            from harness.auditing.spark import pandas_frame, values

            for pdf in batches:
                seen = {(json.dumps(g), json.dumps(v)) for text, out, rejected in
                        zip(values(pdf, "input"), values(pdf, "output"), values(pdf, "rejected"))
                        for g, v in pairs(text or "", out, rejected)}
                yield pandas_frame(sorted(seen), columns=["g", "v"])

        rows = self._answers(split)
        if rows is None:
            return {}
        got = rows.mapInPandas(paired, "g string, v string").groupBy("g").agg(F.countDistinct("v").alias("n")).collect()
        return {_tuples(json.loads(r.g)): int(r.n) for r in got}

    def scan_answers(self, split: str, fn) -> list[tuple[dict, Any]]:
        """fn in every partition; only the rows where it finds something reach the driver."""
        import json

        def scan(batches):
            from harness.auditing.spark import pandas_frame, values

            for pdf in batches:
                out = [(line, json.dumps(found)) for line, text, output, rejected
                       in zip(pdf["line"].tolist(), values(pdf, "input"), values(pdf, "output"), values(pdf, "rejected"))
                       if (found := fn(text or "", output, rejected))]
                yield pandas_frame(out, columns=["line", "found"])

        rows = self._answers(split)
        if rows is None:
            return []
        got = rows.mapInPandas(scan, "line long, found string").orderBy("line").collect()
        return [({"split": split, "line": r.line}, json.loads(r.found)) for r in got]

    def row_scores(self, split: str, fn) -> "SparkRowScores":
        """fn in every partition; the scores stay in a cached frame."""
        import pandas as pd

        def score(batches):
            from harness.auditing.spark import values

            for pdf in batches:
                got = [fn(i, o, r, lab) for i, o, r, lab in zip(values(pdf, "input"), values(pdf, "output"),
                                                             values(pdf, "rejected"), values(pdf, "label"))]
                yield pd.DataFrame({"line": pdf["line"], "score": [int(t) for t, _ in got],
                                    "flag": [bool(f) for _, f in got]})

        frame = (self.frame(split).select("line", "input", "output", "label", "rejected")
                 .mapInPandas(score, "line long, score long, flag boolean").cache())
        return SparkRowScores(split, frame)


def _tuples(v):
    """A key back from JSON: its lists as the tuples it was given as."""
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


@dataclass
class SparkRowScores(RowScores):
    """RowScores on Spark: the distribution from a group-by over the distinct scores, the rows over a
    limit by a filter; only those come to the driver."""

    split: str
    frame: Any

    def distribution(self) -> tuple[np.ndarray, np.ndarray]:
        table = self.frame.groupBy("score").count().orderBy("score").collect()
        return (np.array([r.score for r in table], dtype=np.int64), np.array([r["count"] for r in table], dtype=np.int64))

    def rows_over(self, limit: float) -> list[tuple[dict, int, bool]]:
        from pyspark.sql import functions as F

        got = self.frame.where((F.col("score") > float(limit)) | F.col("flag")).orderBy("line").collect()
        return [({"split": self.split, "line": r.line}, int(r.score), bool(r.flag)) for r in got]
