"""Word n-gram containment on Spark, as harness/auditing/ngrams.py in process: n-grams by a join (rare
ones pick the candidate rows), the longest contiguous run per candidate in each partition, in the
training requests and in the distinct texts beyond them."""

from __future__ import annotations

from harness.auditing.ngrams import beyond_request
from harness.core.text import normalize_loose


def beyond_index(frame, needed, n: int, max_rows: int):
    """As beyond_request_docs and an NgramIndex over them, for the training `frame` (idx, input, texts):
    (n-grams (h, row = document), the rare ones (h), document -> training row (doc, row))."""
    from pyspark.sql import functions as F

    def texts(batches):
        import json

        from harness.auditing.spark import pandas_frame, values

        for pdf in batches:
            out = [(i, normalize_loose(t))
                   for i, request, held in zip(pdf["idx"], values(pdf, "input"), values(pdf, "texts"))
                   for t in beyond_request(request or "", json.loads(held or "{}"))]
            yield pandas_frame(out, columns=["row", "loose"], strings=("loose",))

    pieces = frame.select("idx", "input", "texts").mapInPandas(texts, "row long, loose string")
    holders = pieces.withColumn("doc", F.xxhash64("loose")).select("doc", "row").distinct()
    docs = pieces.select("loose").distinct().select(F.xxhash64("loose").alias("row"), "loose")
    grams = ngrams(docs, n).join(needed, "h").select("h", "row").distinct().cache()
    rare = grams.groupBy("h").agg(F.count("*").alias("c")).where(F.col("c") <= max_rows).select("h")
    return grams, rare, holders


def ngrams(frame, n: int):
    """(key columns..., pos, h): every word n-gram of `loose` with its position, hashed (xxhash64 of the
    n-gram's text; equal n-grams, equal hashes, as the in-process index's ids)."""
    from pyspark.sql import functions as F

    words = frame.withColumn("w", F.split(F.col("loose"), " ")).where(F.size("w") >= n)
    grams = words.select(*[c for c in frame.columns if c != "loose"], F.posexplode(F.expr(
        f"transform(sequence(0, size(w) - {n}), k -> array_join(slice(w, k + 1, {n}), ' '))")).alias("pos", "g"))
    return grams.withColumn("h", F.xxhash64("g")).drop("g")


def longest_spans(queries, tgrams, rare, n: int):
    """Per query (q, loose): the training rows holding the longest contiguous run of its n-grams, among
    rows that share at least one rare n-gram with it: (q, cov, rows)."""
    from pyspark.sql import functions as F

    qgrams = ngrams(queries, n).cache()
    sizes = queries.select("q", F.size(F.split("loose", " ")).alias("words"))
    cands = qgrams.join(rare, "h").join(tgrams, "h").select("q", "row").distinct()
    hits = (qgrams.join(tgrams, "h").join(cands, ["q", "row"]).select("q", "row", "pos").distinct()
            .groupBy("q", "row").agg(F.sort_array(F.collect_list("pos")).alias("p")))

    def runs(batches):
        import pandas as pd

        for pdf in batches:
            best = []
            for p in pdf["p"]:
                longest = run = 0
                prev = None
                for x in p:
                    run = run + 1 if prev is not None and x == prev + 1 else 1
                    longest = max(longest, run)
                    prev = x
                best.append(longest + n - 1 if longest else 0)
            yield pd.DataFrame({"q": pdf["q"], "row": pdf["row"], "span": best})

    spans = hits.mapInPandas(runs, "q long, row long, span long")
    top = spans.groupBy("q").agg(F.max("span").alias("best"))
    return (spans.join(top, "q").where("span = best and best > 0").groupBy("q", "best")
            .agg(F.sort_array(F.collect_list("row")).alias("rows")).join(sizes, "q")
            .select("q", (F.col("best") / F.col("words")).alias("cov"), "rows"))
