"""Eval rows that also sit in train inflate every later score. Found three ways: exact match, near
duplicate (the shared duplicate pairs: similar text whose differences are superficial, harness/auditing/pairs.py), and long word n-gram overlap measured as the longest
contaminated span (ConTAM 2024), which catches an eval text pasted inside a longer training row.
Probe items of the regression suites are looked for in train the same way.

A row's identity is its request (`input`: for chat rows the user turns, without the system prompt that
most rows share), so exact and near matches compare requests. The contained-span search also reads the
text a training row carries beyond its request (a chat row's system turns and answer, a completion):
an eval item pasted into a system prompt reaches the model as surely as one in a user turn. Those texts
are indexed once per distinct text, so a system prompt shared by every row is one document, not a
common n-gram."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.inputs.output_kinds import same_answer
from harness.inputs.shapes import get_shape
from harness.auditing.similarity import mix64
from harness.core.text import normalize_loose

from .base import Answer, Check, CheckResult, Params, lower_is_better, param, register


class NgramIndex:
    """Word n-grams of the training rows, for finding the longest span of an eval text that one
    training row contains. A training row is a candidate only if it shares a rare n-gram (held by at
    most `max_rows` rows) with the eval text, so boilerplate alone ("please let me know if") is never
    evidence of contamination; once a row is a candidate, its common n-grams count towards the span."""

    def __init__(self, train_texts: list[str], n: int, max_rows: int, queries: list[str] | None = None,
                 chunk: int = 100_000):
        """train_texts: similarity keys (words split on spaces). queries: when every text that will be
        looked up is known, only the n-grams they hold are indexed (with all their training rows, so the
        rare-or-common count is unchanged). Rows are split a chunk at a time: lists of word strings for
        every row cost ~1.2 GB per million rows."""
        self.n, self.max_rows = n, max_rows
        self.vocab: dict[str, int] = {}
        hs, rs = [], []
        for s in range(0, len(train_texts), chunk):
            words = [t.split() for t in train_texts[s:s + chunk]]
            lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
            flat = np.fromiter((self.vocab.setdefault(w, len(self.vocab)) for ws in words for w in ws),
                               dtype=np.int64, count=int(lengths.sum()))
            # Rolling hash over the chunk's rows at once; windows that cross a row boundary are dropped.
            row_of = np.repeat(np.arange(s, s + len(words)), lengths)
            h = self._hash(flat)
            if len(h):
                ok = row_of[: len(h)] == row_of[n - 1:]
                hs.append(h[ok])
                rs.append(row_of[: len(ok)][ok])
        h = np.concatenate(hs) if hs else np.zeros(0, dtype=np.uint64)
        rows = np.concatenate(rs) if rs else np.zeros(0, dtype=np.int64)
        if queries is not None:
            wanted = [self._query_hashes(q.split()) for q in queries]
            keep = np.isin(h, np.unique(np.concatenate(wanted)) if wanted else np.zeros(0, dtype=np.uint64))
            h, rows = h[keep], rows[keep]
        order = np.lexsort((rows, h))
        h, rows = h[order], rows[order]
        first = np.ones(len(h), dtype=bool)
        first[1:] = (h[1:] != h[:-1]) | (rows[1:] != rows[:-1])
        self.hashes, self.rows = h[first], rows[first]          # (n-gram, row) pairs, sorted by n-gram
        self.pair_keys = np.sort(self._pair_key(self.hashes, self.rows))

    def _query_hashes(self, words: list[str]) -> np.ndarray:
        """A looked-up text's n-gram hashes; a word never seen in train gets an id no train word has."""
        ids = np.fromiter((self.vocab.get(w, -1) for w in words), dtype=np.int64, count=len(words))
        return self._hash(np.where(ids < 0, 2**40 + np.arange(len(ids)), ids))

    @staticmethod
    def _pair_key(hashes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return mix64(hashes * np.uint64(0x100000001B3) + rows.astype(np.uint64))

    def _hash(self, ids: np.ndarray) -> np.ndarray:
        if len(ids) < self.n:
            return np.zeros(0, dtype=np.uint64)
        m = len(ids) - self.n + 1
        h = np.zeros(m, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(self.n):
                h = h * np.uint64(1000003) + ids[k:k + m].astype(np.uint64) + np.uint64(1)
        return h

    def longest_span(self, words: list[str]) -> tuple[float, int, list[int]]:
        """(coverage, span in words, train rows) for the training row that holds the longest contiguous
        span of `words`; coverage = span / len(words)."""
        if len(words) < self.n or len(self.hashes) == 0:
            return 0.0, 0, []
        h = self._query_hashes(words)
        lo = np.searchsorted(self.hashes, h, "left")
        hi = np.searchsorted(self.hashes, h, "right")
        rare = np.flatnonzero((hi > lo) & (hi - lo <= self.max_rows))
        if len(rare) == 0:
            return 0.0, 0, []
        cands = np.unique(np.concatenate([self.rows[lo[p]:hi[p]] for p in rare]))
        keys = self._pair_key(np.repeat(h, len(cands)), np.tile(cands, len(h)))
        pos = np.searchsorted(self.pair_keys, keys).clip(0, len(self.pair_keys) - 1)
        hit = (self.pair_keys[pos] == keys).reshape(len(h), len(cands))
        best, best_rows = 0, []
        for c in range(len(cands)):
            run = longest = 0
            for v in hit[:, c]:
                run = run + 1 if v else 0
                longest = max(longest, run)
            span = longest + self.n - 1 if longest else 0
            if span > best:
                best, best_rows = span, [int(cands[c])]
            elif span == best and span:
                best_rows.append(int(cands[c]))
        return best / len(words), best, best_rows


@register
class Leakage(Check):
    name = "leakage"
    removes = "all"
    order = 60
    key_figures = ('leaked_eval_rows', 'exact', 'near', 'ngram', 'leaked_probe_items')
    answers = (Answer("clean_eval", "summary.leaked_eval_rows", "eval rows found in train"),)
    title = "Train/eval leakage and contamination"
    why = "An eval row the model trained on measures memory, not skill: every later score is inflated."
    metrics = lower_is_better("leaked_eval_rows", "leaked_rate", "exact", "near", "ngram", "leaked_probe_items")

    @dataclass(frozen=True)
    class Params(Params):
        ngram: int = param(8, ">=1", "word n-gram length for contamination (GPT-3 used 13; rows here are short)")
        min_coverage: float = param(0.9, ">0 <=1", "flag when one train row holds a contiguous span covering this share of the eval row")
        common_ngram_rows: int = param(10, ">=1", "a train row is a candidate only if it shares an n-gram held by at most this many rows")
        answer_similarity: float = param(0.8, "0..1", "a leak needs the same answer: labels equal, free text at this character Jaccard")
        probes: bool = param(True, "", "also look for the regression suites' probe items in train")

    def run(self, data, params):
        train = data.rows("train")
        n = params.ngram
        min_cov = params.min_coverage
        probes = data.probes if params.probes else []
        queries = ((data.loose["eval"] if data.eval is not None else [])
                   + [normalize_loose(item["text"]) for item in probes])
        index = NgramIndex(data.loose["train"], n, params.common_ngram_rows, queries=queries)
        docs, holders = beyond_request_docs(train)
        beyond = NgramIndex(docs, n, params.common_ngram_rows, queries=queries) if docs else None

        def span(loose: str) -> tuple[float, list[int], str | None]:
            """(coverage, train rows, where): the longest span in a request, else in the text beyond one."""
            cov, _span, rows = index.longest_span(loose.split())
            if cov < min_cov and beyond is not None:
                more, _span, found = beyond.longest_span(loose.split())
                if more >= min_cov:
                    return more, sorted({r for d in found for r in holders[d]}), BEYOND
            return cov, rows, None

        leaks = []  # (eval ref, eval label, kind, similarity, train matches, eval answer, where)
        if data.eval is not None:
            ev = data.rows("eval")
            train_exact: dict[str, list[int]] = {}
            for i, key in enumerate(data.normalized["train"]):
                train_exact.setdefault(key, []).append(i)
            train_by_text = data.rows_by_text("train")
            near: dict[int, list[tuple[int, float]]] = {}
            for (a, b), s in zip(data.duplicates.pairs.tolist(), data.duplicates.similarity.tolist()):
                near.setdefault(a, []).append((b, s))
                near.setdefault(b, []).append((a, s))
            eval_ids = data.text_ids["eval"].tolist()
            answers = {sp: _answers(data, sp) for sp in ("train", "eval")}
            for j, ex in enumerate(ev):
                key = data.normalized["eval"][j]
                tid = eval_ids[j]
                cands = [(r, 1.0) for r in train_by_text.get(tid, [])]
                cands += [(r, s) for t, s in near.get(tid, []) for r in train_by_text.get(t, [])]
                where = None
                if key in train_exact:
                    # Near copies ride along with the exact ones: cleaning the leak removes them all.
                    kind, sim = "exact", 1.0
                    ride = sorted({r for r, _ in cands} - set(train_exact[key]))
                    if answers["eval"][j] is not None:
                        ride = [r for r in ride if same_answer(answers["eval"][j], answers["train"][r],
                                                               params.answer_similarity)]
                    matches = train_exact[key] + ride
                else:
                    if cands:
                        sim = max(s for _, s in cands)
                        kind, matches = "near", sorted({r for r, _ in cands})
                    else:
                        cov, matches, where = span(data.loose["eval"][j])
                        if cov < min_cov:
                            continue
                        kind, sim = "ngram", cov
                leaks.append((ex.ref, data.labels["eval"][j], kind, sim,
                              [(train[r].ref, data.labels["train"][r], answers["train"][r]) for r in matches],
                              answers["eval"][j], where))
        probe_hits = []  # (item, kind, coverage, train matches, where)
        if probes:
            train_loose = {key: i for i, key in enumerate(data.loose["train"])}
            for item in probes:
                loose = normalize_loose(item["text"])
                if loose in train_loose:
                    hit, cov, matches = "exact", 1.0, [train_loose[loose]]
                else:
                    cov, matches, where = span(loose)
                    if cov < min_cov:
                        continue
                    hit = "ngram"
                probe_hits.append((item, hit, cov, [train[r].ref for r in matches],
                                   where if hit == "ngram" else None))
        return self._result(leaks, probe_hits, len(data.rows("eval")), len(probes), data.policy, params)

    def run_spark(self, data, params):
        """Exact matches by a join on the exact key, near duplicates from the shared Spark graph, and the
        longest shared span by a join on word n-grams (rare ones pick the candidate rows, as in-process),
        in the training requests and then in the distinct texts beyond them."""
        from pyspark.sql import functions as F

        n = params.ngram
        min_cov = params.min_coverage
        max_rows = params.common_ngram_rows
        answer = _answer_column(data)
        train = data.with_labels(data.frame("train")).select("idx", "line", "norm", "loose", "lab", answer).cache()
        leaks = []
        n_eval = data.eval.good_rows if data.eval is not None else 0
        spark = data.spark
        probes = data.probes if params.probes else []
        items = (spark.createDataFrame([(k, normalize_loose(p["text"])) for k, p in enumerate(probes)], "q long, loose string")
                 if probes else None)
        ev = (data.with_labels(data.frame("eval")).select("idx", "line", "norm", "loose", "lab", answer)
              if data.eval is not None else None)
        # Only training n-grams that some eval row or probe item has can matter; keeping just those
        # (all their training rows, so the rare-or-common count is unchanged) avoids shuffling every
        # n-gram of the training set.
        queries = [f.select(F.col(k).alias("q"), "loose") for f, k in ((ev, "idx"), (items, "q")) if f is not None]
        needed = None
        for qf in queries:
            h = _ngrams(qf, n).select("h")
            needed = h if needed is None else needed.unionByName(h)
        needed = needed.distinct() if needed is not None else spark.createDataFrame([], "h long")
        tgrams = (_ngrams(train.select(F.col("idx").alias("row"), "loose"), n).join(needed, "h")
                  .select("h", "row").distinct().cache())
        rare = tgrams.groupBy("h").agg(F.count("*").alias("c")).where(F.col("c") <= max_rows).select("h")
        beyond = _beyond_index(data, needed, n, max_rows)

        def beyond_spans(queries):
            """(q, cov, rows) of queries whose longest span lies beyond a training row's request, the
            document hits turned into the training rows that hold them, as in-process."""
            bgrams, brare, holders = beyond
            hits = _longest_spans(queries, bgrams, brare, n).where(F.col("cov") >= min_cov)
            return (hits.select("q", "cov", F.explode("rows").alias("doc")).join(holders, "doc")
                    .groupBy("q", "cov").agg(F.sort_array(F.collect_set("row")).alias("rows")))

        if ev is not None:
            exact = (ev.join(train.select(F.col("norm"), F.col("idx").alias("row")), "norm")
                     .groupBy("idx").agg(F.sort_array(F.collect_list("row")).alias("rows"))
                     .select("idx", F.lit("exact").alias("kind"), F.lit(1.0).alias("sim"), "rows"))
            rest = ev.join(exact.select("idx"), "idx", "left_anti")
            tids = data.row_tids
            ev_t = ev.select("idx").join(tids.where("split = 'eval'").select("idx", "tid"), "idx")
            tr_t = tids.where("split = 'train'").select(F.col("idx").alias("row"), F.col("tid").alias("t"))
            pairs = data.duplicates
            links = (ev_t.select("idx", F.col("tid").alias("t"), F.lit(1.0).alias("s"))
                     .unionByName(ev_t.join(pairs.withColumnRenamed("a", "tid").withColumnRenamed("b", "t"), "tid")
                                  .select("idx", "t", F.col("sim").alias("s")))
                     .unionByName(ev_t.join(pairs.withColumnRenamed("b", "tid").withColumnRenamed("a", "t"), "tid")
                                  .select("idx", "t", F.col("sim").alias("s"))))
            near_all = (links.join(tr_t, "t").groupBy("idx")
                        .agg(F.max("s").alias("sim"), F.sort_array(F.collect_set("row")).alias("rows"))
                        .select("idx", F.lit("near").alias("kind"), "sim", "rows"))
            near = near_all.join(exact.select("idx"), "idx", "left_anti")
            rest = rest.join(near.select("idx"), "idx", "left_anti")
            spans = _longest_spans(rest.select(F.col("idx").alias("q"), "loose"), tgrams, rare, n)
            ngram = (spans.where(F.col("cov") >= min_cov)
                     .select(F.col("q").alias("idx"), F.lit("ngram").alias("kind"), F.col("cov").alias("sim"), "rows"))
            # Near copies of an exactly leaked eval row ride along with it (cleaning removes them all).
            ride = near_all.select("idx", F.col("rows").alias("ride"))
            found = (exact.unionByName(near).unionByName(ngram).join(ride, "idx", "left")
                     .join(ev.select("idx", "line", "lab", "ans"), "idx")
                     .withColumn("where", F.lit(None).cast("string")))
            found = found.orderBy("idx").collect()
            if beyond is not None:
                # The rows found so far come back as ids: reusing their frames would repeat their plans.
                seen = spark.createDataFrame([(int(f.idx),) for f in found] or [(-1,)], "idx long")
                rest = ev.join(seen, "idx", "left_anti").select(F.col("idx").alias("q"), "loose")
                found = sorted(found + beyond_spans(rest).select(
                    F.col("q").alias("idx"), F.lit("ngram").alias("kind"), F.col("cov").alias("sim"), "rows",
                    F.lit(None).cast("array<long>").alias("ride"), F.lit(BEYOND).alias("where"))
                    .join(ev.select("idx", "line", "lab", "ans"), "idx").collect(), key=lambda f: f.idx)
            wanted = sorted({r for f in found for r in list(f.rows) + list(f.ride or [])})
            info = {r.idx: r for r in train.join(spark.createDataFrame([(int(i),) for i in wanted] or [(-1,)], "idx long"),
                                                 "idx").select("idx", "line", "lab", "ans").collect()}
            sim_answer = params.answer_similarity

            def rows_of(f) -> list[int]:
                if f.kind != "exact" or not f.ride:
                    return list(f.rows)
                extra = sorted(set(f.ride) - set(f.rows))
                if f.ans is not None:
                    extra = [r for r in extra if same_answer(f.ans, info[r].ans, sim_answer)]
                return list(f.rows) + extra

            leaks = [({"split": "eval", "line": f.line}, f.lab, f.kind, float(f.sim),
                      [({"split": "train", "line": info[r].line}, info[r].lab, info[r].ans) for r in rows_of(f)], f.ans,
                      f["where"])
                     for f in found]
        probe_hits = []
        if probes:
            exact = (items.join(train.select("loose", F.col("idx").alias("row")), "loose").groupBy("q")
                     .agg(F.max("row").alias("row")))  # in-process keeps the last training row with that key
            got = {r.q: ("exact", 1.0, [r.row], None) for r in exact.collect()}
            rest = items.join(exact.select("q"), "q", "left_anti")
            for r in _longest_spans(rest, tgrams, rare, n).where(F.col("cov") >= min_cov).collect():
                got[r.q] = ("ngram", float(r.cov), list(r.rows), None)
            if beyond is not None and len(got) < len(probes):
                rest = spark.createDataFrame([(k, normalize_loose(p["text"])) for k, p in enumerate(probes)
                                              if k not in got], "q long, loose string")
                for r in beyond_spans(rest).collect():
                    got[r.q] = ("ngram", float(r.cov), list(r.rows), BEYOND)
            wanted = sorted({i for _, _, rows, _ in got.values() for i in rows})
            lines = {r.idx: r.line for r in train.join(spark.createDataFrame([(int(i),) for i in wanted] or [(-1,)],
                                                                             "idx long"), "idx").collect()}
            probe_hits = [(probes[q], hit, cov, [{"split": "train", "line": lines[i]} for i in rows], where)
                          for q, (hit, cov, rows, where) in sorted(got.items())]
        tgrams.unpersist()
        if beyond is not None:
            beyond[0].unpersist()
        train.unpersist()
        return self._result(leaks, probe_hits, n_eval, len(probes), data.policy, params)

    @staticmethod
    def _result(leaks: list, probe_hits: list, n_eval: int, n_probes: int, policy: dict,
                params: Leakage.Params) -> CheckResult:
        findings: list[dict] = []
        kinds = {"exact": 0, "near": 0, "ngram": 0}
        other_answer = 0
        for ref, eval_label, kind, sim, matches, eval_answer, where in leaks:
            # A leak is the same item: where answers exist, a training row that asks the same with another
            # answer ("top up with a card" / "with a cheque", one slot value apart) is a different item.
            # Text found beyond a training row's request (its system prompt, its answer) is not a request
            # that row answers: the eval item itself is in what the model reads or writes.
            if kind != "exact" and eval_answer is not None and where is None:
                matches = [m for m in matches if same_answer(eval_answer, m[2], params.answer_similarity)]
                if not matches:
                    other_answer += 1
                    continue
            matches = [(m[0], m[1]) for m in matches]
            kinds[kind] += 1
            finding = {"rows": [ref] + [m for m, _ in matches[:20]], "kind": kind,
                       "similarity": round(float(sim), 4), "train_matches": len(matches),
                       "message": f"eval row found in train ({kind}"
                                  + (f", Jaccard {sim:.2f})" if kind == "near" else
                                     f", longest shared span covers {sim:.0%} of it)" if kind == "ngram" else ")")
                                  + (f" {BEYOND_SAYS}" if where else "")}
            if where:
                finding["found_in"] = where
            if eval_label is not None:
                finding["eval_label"] = eval_label
                finding["train_labels"] = sorted({lab for _, lab in matches if lab is not None})
            findings.append(finding)
        for item, hit, cov, refs, where in probe_hits:
            findings.append({"rows": refs[:20], "kind": f"probe_{hit}", "probe": item.get("probe"),
                             "probe_id": item.get("id"), "similarity": round(float(cov), 4),
                             "message": f"probe item {item.get('probe')}:{item.get('id')} found in train ({hit})"
                                        + (f" {BEYOND_SAYS}" if where else ""),
                             **({"found_in": where} if where else {})})
        leaked = sum(kinds.values())
        return CheckResult(summary={"eval_rows": n_eval, "leaked_eval_rows": leaked,
                                    "leaked_rate": leaked / n_eval if n_eval else 0.0, **kinds,
                                    "same_input_other_answer": other_answer,
                                    "probe_items_checked": n_probes, "leaked_probe_items": len(probe_hits),
                                    "applicable": bool(n_eval or n_probes)},
                           skipped=None if n_eval or n_probes else "no eval rows and no probe items to look for in train",
                           findings=findings,
                           info={"ngram": params.ngram, "min_coverage": float(params.min_coverage),
                                 "near_threshold": policy["similarity"]["threshold"]})


BEYOND = "beyond_request"
BEYOND_SAYS = "in text the training row carries beyond its request (a system turn, an answer)"


def beyond_request(request: str, texts: dict[str, str]) -> list[str]:
    """A row's texts that its request (`input`) does not already hold: a chat row's system turns and
    answer, an instruction row's completion; nothing for a classification row."""
    return [t for t in texts.values() if isinstance(t, str) and t.strip() and t not in request]


def beyond_request_docs(rows) -> tuple[list[str], list[list[int]]]:
    """The distinct similarity keys of those texts over the training rows, and the rows holding each: a
    system prompt every row shares is one document, so its n-grams stay rare."""
    at: dict[str, int] = {}
    holders: list[list[int]] = []
    for i, ex in enumerate(rows):
        for text in beyond_request(ex.input, ex.texts):
            d = at.setdefault(normalize_loose(text), len(holders))
            if d == len(holders):
                holders.append([])
            if not holders[d] or holders[d][-1] != i:
                holders[d].append(i)
    return list(at), holders


def _beyond_index(data, needed, n: int, max_rows: int):
    """On Spark, as beyond_request_docs and an NgramIndex over them: (n-grams (h, row = document), the
    rare ones (h), document -> training row (doc, row)), or None where rows carry nothing beyond their
    request (classification and plain-text rows)."""
    from pyspark.sql import functions as F

    if not get_shape(data.shape).generative:
        return None

    def texts(batches):
        import json

        from harness.auditing.spark import pandas_frame, values

        for pdf in batches:
            out = [(i, normalize_loose(t))
                   for i, request, held in zip(pdf["idx"], values(pdf, "input"), values(pdf, "texts"))
                   for t in beyond_request(request or "", json.loads(held or "{}"))]
            yield pandas_frame(out, columns=["row", "loose"], strings=("loose",))

    pieces = data.frame("train").select("idx", "input", "texts").mapInPandas(texts, "row long, loose string")
    holders = pieces.withColumn("doc", F.xxhash64("loose")).select("doc", "row").distinct()
    docs = pieces.select("loose").distinct().select(F.xxhash64("loose").alias("row"), "loose")
    grams = _ngrams(docs, n).join(needed, "h").select("h", "row").distinct().cache()
    rare = grams.groupBy("h").agg(F.count("*").alias("c")).where(F.col("c") <= max_rows).select("h")
    return grams, rare, holders


def _answers(data, split: str) -> list[str | None]:
    """Each row's answer for telling items apart: its label, else its normalised output, else None."""
    labels = data.labels[split]
    outputs = data.normalized_output[split]
    rows = data.rows(split)
    return [lab if lab is not None else (outputs[i] if rows[i].output is not None else None)
            for i, lab in enumerate(labels)]


def _answer_column(data):
    """The Spark column `ans`, as `_answers`."""
    from pyspark.sql import functions as F

    lab = F.col("label") if data.label_source == "label" else F.lit(None).cast("string")
    return F.coalesce(lab, F.when(F.col("output").isNotNull(), F.col("norm_out"))).alias("ans")


def _ngrams(frame, n: int):
    """(key columns..., pos, h): every word n-gram of `loose` with its position, hashed (xxhash64 of the
    n-gram's text; equal n-grams, equal hashes, as the in-process index's ids)."""
    from pyspark.sql import functions as F

    words = frame.withColumn("w", F.split(F.col("loose"), " ")).where(F.size("w") >= n)
    grams = words.select(*[c for c in frame.columns if c != "loose"], F.posexplode(F.expr(
        f"transform(sequence(0, size(w) - {n}), k -> array_join(slice(w, k + 1, {n}), ' '))")).alias("pos", "g"))
    return grams.withColumn("h", F.xxhash64("g")).drop("g")


def _longest_spans(queries, tgrams, rare, n: int):
    """Per query (q, loose): the training rows holding the longest contiguous run of its n-grams, among
    rows that share at least one rare n-gram with it: (q, cov, rows)."""
    from pyspark.sql import functions as F

    qgrams = _ngrams(queries, n).cache()
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
