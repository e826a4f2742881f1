"""What the checks share on Spark, computed once: distinct similarity keys with stable ids, MinHash
signatures, LSH candidate pairs, verified near-duplicate pairs, connected components.

Every step mirrors harness/similarity.py and harness/audit_data.py so the findings are the same: text
ids follow first occurrence (train rows, then eval rows); signatures come from the same numpy functions
run inside each partition; LSH buckets pair each member with the next 64 members ordered by text id (a
connected chain beyond that, as `lsh_pairs` does); candidates pass the same signature estimate and true
Jaccard; components are found by min-label propagation over the verified edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..audit_data import SplitView
from .load import SparkTable

MAX_BUCKET_PAIRS = 64


@dataclass
class SparkAuditData(SplitView):
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

        if self.shape == "classification":
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
        return self.rows_all.join(self.texts, "loose").select("split", "idx", "line", "tid").cache()

    @cached_property
    def signatures(self):
        """(tid, sig: the uint32 MinHash row as bytes) from the in-process MinHash, partition by partition."""
        conf = self.policy["similarity"]
        ngram, num_perm = int(conf["ngram"]), int(conf["num_perm"])

        def sign(batches):
            import pandas as pd

            from ..similarity import shingle_hashes, signatures

            for pdf in batches:
                hashes, offsets = shingle_hashes(pdf["loose"].tolist(), ngram)
                sig = signatures(hashes, offsets, num_perm)
                yield pd.DataFrame({"tid": pdf["tid"].values, "sig": [row.tobytes() for row in sig]})

        return self.texts.mapInPandas(sign, "tid long, sig binary").cache()

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

            from ..similarity import mix64

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

            from ..similarity import ESTIMATE_MARGIN, estimated_similarity

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
                    keep = same[estimated_similarity(sig[same], sig[same + d]) >= threshold - ESTIMATE_MARGIN]
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
        with_text = (passed.join(self.texts.withColumnRenamed("tid", "a").withColumnRenamed("loose", "ta"), "a")
                     .join(self.texts.withColumnRenamed("tid", "b").withColumnRenamed("loose", "tb"), "b"))

        def verify(batches):
            import pandas as pd

            from ..similarity import jaccard_pairs, row_shingle_sets

            for pdf in batches:
                if len(pdf) == 0:
                    continue
                m = len(pdf)
                values, offsets = row_shingle_sets(pdf["ta"].tolist() + pdf["tb"].tolist(), ngram)
                sims = jaccard_pairs(values, offsets, np.stack([np.arange(m), np.arange(m, 2 * m)], axis=1))
                out = pd.DataFrame({"a": pdf["a"].values, "b": pdf["b"].values, "sim": sims})
                yield out[out["sim"] >= threshold]

        self.similar_stats = {"shingle": f"char-{ngram}", "num_perm": num_perm, "bands": bands, "rows_per_band": r,
                              "engine": "spark"}
        return with_text.mapInPandas(verify, "a long, b long, sim double").cache()

    def components(self, split: str) -> list[tuple[list[int], float, float]]:
        """As AuditData.components: groups of >= 2 rows of `split` linked by identical or near-duplicate
        text, with the lowest and highest similarity of their links; collected (groups are small)."""
        cache = self.__dict__.setdefault("_component_cache", {})
        if split not in cache:
            cache[split] = self._components(split)
        return cache[split]

    def _components(self, split: str):
        from pyspark.sql import functions as F

        rows = self.row_tids.where(F.col("split") == split)
        present = rows.select("tid").distinct()
        edges = (self.similar.join(present.withColumnRenamed("tid", "a"), "a")
                 .join(present.withColumnRenamed("tid", "b"), "b")).cache()
        comp = connected_components(edges.select("a", "b"), present)
        # Components holding >= 2 rows: several texts, or one text on several rows.
        sized = (rows.join(comp, "tid").groupBy("comp")
                 .agg(F.count("*").alias("n"), F.countDistinct("tid").alias("texts")).where("n >= 2"))
        members = (rows.join(comp, "tid").join(sized.select("comp", "texts"), "comp")
                   .groupBy("comp", "texts").agg(F.sort_array(F.collect_list("idx")).alias("rows")))
        bounds = (edges.join(comp.withColumnRenamed("tid", "a"), "a").groupBy("comp")
                  .agg(F.min("sim").alias("low"), F.max("sim").alias("high")))
        got = members.join(bounds, "comp", "left").collect()
        groups = []
        for g in got:
            exact_only = g.texts == 1
            low = 1.0 if exact_only or g.low is None else float(g.low)
            high = 1.0 if exact_only or g.high is None else float(g.high)
            groups.append((list(g.rows), low, high))
        groups.sort(key=lambda t: t[0][0])
        return groups

    def fetch(self, split: str, idx: list[int], columns: tuple[str, ...] = ("line",)) -> dict[int, Any]:
        """A few rows by index, to the driver: {idx: Row}."""
        if not idx:
            return {}
        wanted = self.spark.createDataFrame([(int(i),) for i in set(idx)], "idx long")
        frame = self.frame(split) if "lab" not in columns else self.with_labels(self.frame(split))
        return {r.idx: r for r in frame.join(wanted, "idx").select("idx", *columns).collect()}


def connected_components(edges, vertices, max_rounds: int = 100):
    """Min-label propagation: every vertex takes the smallest id reachable; rounds until nothing changes
    (as many as the longest shortest path inside a component; duplicate clusters are shallow)."""
    from pyspark.sql import functions as F

    labels = vertices.select("tid", F.col("tid").alias("comp"))
    both = edges.select("a", "b").unionByName(edges.select(F.col("b").alias("a"), F.col("a").alias("b"))).cache()
    for _ in range(max_rounds):
        moved = (both.join(labels.withColumnRenamed("tid", "a"), "a")
                 .groupBy(F.col("b").alias("tid")).agg(F.min("comp").alias("cand")))
        new = (labels.join(moved, "tid", "left")
               .select("tid", F.least("comp", F.coalesce("cand", "comp")).alias("comp"))).localCheckpoint()
        changed = new.join(labels.withColumnRenamed("comp", "old"), "tid").where("comp != old").limit(1).count()
        labels = new
        if not changed:
            break
    return labels
