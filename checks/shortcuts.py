"""Shortcuts: words or phrases that nearly always come with one label let a model score well without
learning the task (Gururangan et al. 2018; Gardner et al. 2021). Each token's p(label | token) is
tested against the label's prior with a one-sided z-test given its count, Bonferroni-corrected; and
rows whose input names their own label are counted."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np

from .base import Check, CheckResult, not_applicable, register


def _core(token: str) -> tuple[bool, int]:
    return (not re.search(r"\w", token), len(token))


@register
class Shortcuts(Check):
    name = "shortcuts"
    order = 70
    key_figures = ('shortcut_tokens', 'label_name_rows')
    title = "Shortcuts (tokens that give the label away)"
    why = "A token that almost always comes with one label lets the model skip the task and break on new data."
    metrics = ("shortcut_tokens", "label_name_rows", "label_name_rate")

    def run(self, data, params):
        if data.label_source is None:
            return not_applicable("no labels: the data is generative with free-form completions")
        from sklearn.feature_extraction.text import CountVectorizer

        rows = data.rows("train")
        labels = data.labels["train"]
        texts = data.normalized["train"]
        classes = sorted(set(labels))
        if len(classes) < 2:
            return not_applicable("only one label")
        min_count = int(params["min_count"])
        try:
            vec = CountVectorizer(**VECTORIZER, min_df=min_count)
            x = vec.fit_transform(texts)
            code = {c: j for j, c in enumerate(classes)}
            onehot = np.zeros((len(labels), len(classes)))
            onehot[np.arange(len(labels)), [code[lab] for lab in labels]] = 1
            vocab = [str(t) for t in vec.get_feature_names_out()]
            joint = np.asarray(x.T @ onehot)
            xc = x.tocsc()
            columns = lambda t: xc.indices[xc.indptr[t]:xc.indptr[t + 1]]  # noqa: E731

            def column(wanted: list[tuple[int, str]]) -> dict[tuple[int, str], tuple[Any, list[dict], int]]:
                out = {}
                for t, label in wanted:
                    col = columns(vec.vocabulary_[vocab[t]])
                    members = [i for i in col if labels[i] == label]
                    out[(t, label)] = (hash(col.tobytes()), [rows[i].ref for i in members[:20]], len(members))
                return out
        except ValueError:  # no token reaches min_count
            vocab, joint, column = [], np.zeros((0, len(classes))), None
        names = label_name_rows(texts, labels, classes)
        name_hits = {lab: ([rows[i].ref for i in members[:20]], len(members), present)
                     for lab, (members, present) in names.items()}
        return self._result(classes, Counter(labels), vocab, joint, column, name_hits, len(rows), params)

    def run_spark(self, data, params):
        """Token-label counts by a Spark group-by over each row's distinct tokens (the same analyzer);
        the test, the merging and the label-name scan are the in-process ones, on aggregates."""
        if data.label_source is None:
            return not_applicable("no labels: the data is generative with free-form completions")
        from pyspark.sql import functions as F
        from sklearn.feature_extraction.text import CountVectorizer

        frame = data.with_labels(data.frame("train")).select("idx", "line", "norm", "lab").cache()
        label_counts = Counter({r.lab: r["count"] for r in frame.groupBy("lab").count().collect()})
        classes = sorted(label_counts)
        if len(classes) < 2:
            return not_applicable("only one label")
        min_count = int(params["min_count"])
        analyze = CountVectorizer(**VECTORIZER).build_analyzer()

        def partial_counts(batches):
            """(token, label, rows) summed over the partition: the per-row token lists never leave the
            worker (a row per token and row was tens of millions of rows to shuffle at 1M)."""
            from harness.spark import pandas_frame, values

            acc: Counter = Counter()
            for pdf in batches:
                for lab, text in zip(values(pdf, "lab"), values(pdf, "norm")):
                    acc.update((tok, lab) for tok in set(analyze(text)))
                if len(acc) > 2_000_000:  # bounded worker memory on huge partitions
                    yield pandas_frame([(t, lab, k) for (t, lab), k in acc.items()], columns=["tok", "lab", "n"])
                    acc.clear()
            yield pandas_frame([(t, lab, k) for (t, lab), k in acc.items()], columns=["tok", "lab", "n"])

        per_label = (frame.mapInPandas(partial_counts, "tok string, lab string, n long")
                     .groupBy("tok", "lab").agg(F.sum("n").alias("n")))
        kept = per_label.groupBy("tok").agg(F.sum("n").alias("c")).where(F.col("c") >= min_count).select("tok")
        counts = per_label.join(kept, "tok").collect()
        vocab = sorted({r.tok for r in counts})
        at = {t: k for k, t in enumerate(vocab)}
        joint = np.zeros((len(vocab), len(classes)))
        for r in counts:
            joint[at[r.tok], classes.index(r.lab)] = r.n
        n = data.train.good_rows

        def column(wanted: list[tuple[int, str]]) -> dict[tuple[int, str], tuple[Any, list[dict], int]]:
            """For every flagged (token, label) at once: a key of the token's row set (count, sum and xor
            of row hashes) and the first 20 rows with that label. Rows are re-tokenised, keeping only
            the flagged tokens."""
            if not wanted:
                return {}
            flagged = {vocab[t] for t, _ in wanted}

            def rows_of(batches):
                from harness.spark import pandas_frame, values

                for pdf in batches:
                    out = [(i, lab, tok) for i, lab, text in zip(pdf["idx"], values(pdf, "lab"), values(pdf, "norm"))
                           for tok in set(analyze(text)) if tok in flagged]
                    yield pandas_frame(out, columns=["idx", "lab", "tok"])

            pairs = data.spark.createDataFrame([(vocab[t], lab) for t, lab in wanted], "tok string, want string")
            mine = frame.mapInPandas(rows_of, "idx long, lab string, tok string").cache()
            keys = {r.tok: (r.n, r.s, r.x) for r in mine.groupBy("tok").agg(
                F.count("*").alias("n"), F.sum(F.xxhash64("idx") % 1_000_000_007).alias("s"),
                F.bit_xor(F.xxhash64("idx")).alias("x")).collect()}
            firsts = (mine.join(pairs, "tok").where(F.col("lab") == F.col("want")).join(frame.select("idx", "line"), "idx")
                      .groupBy("tok", "lab").agg(F.count("*").alias("k"),
                                                 F.slice(F.sort_array(F.collect_list(F.struct("idx", "line"))), 1, 20)
                                                 .alias("first")).collect())
            mine.unpersist()
            got = {(r.tok, r.lab): ([{"split": "train", "line": m.line} for m in r.first], r.k) for r in firsts}
            return {(t, lab): (keys[vocab[t]], *got.get((vocab[t], lab), ([], 0))) for t, lab in wanted}

        def names(batches):
            from harness.spark import pandas_frame, values

            for pdf in batches:
                out = []
                for i, line, lab, text in zip(pdf["idx"], pdf["line"], values(pdf, "lab"), values(pdf, "norm")):
                    for c, own in label_names_in(text, lab, classes):
                        out.append((i, line, c, own))
                yield pandas_frame(out, columns=["idx", "line", "c", "own"])

        found = frame.mapInPandas(names, "idx long, line long, c string, own boolean").cache()
        name_hits = {}
        present = {r.c: r["count"] for r in found.groupBy("c").count().collect()}
        for lab in classes:
            own = found.where((F.col("c") == lab) & F.col("own"))
            k = own.count()
            if k:
                first = own.orderBy("idx").limit(20).collect()
                name_hits[lab] = ([{"split": "train", "line": r.line} for r in first], k, present[lab])
        result = self._result(classes, label_counts, vocab, joint, column if vocab else None, name_hits, n, params)
        found.unpersist()
        frame.unpersist()
        return result

    @staticmethod
    def _result(classes, label_counts, vocab, joint, column, name_hits, n_rows, params) -> CheckResult:
        """joint: tokens (sorted) x classes, rows holding both; column([(t, label)]) -> per pair (row-set
        key, first 20 refs of the token's rows with that label, how many); name_hits: label -> (refs,
        rows, present)."""
        from scipy.stats import norm

        min_count = int(params["min_count"])
        min_prec = float(params["min_precision"])
        alpha = float(params["alpha"])
        prior = np.array([label_counts[c] for c in classes], float) / n_rows
        findings = []
        tested = n_short = 0
        if len(vocab):
            count = joint.sum(axis=1)
            precision = joint / count[:, None]
            z = (precision - prior[None, :]) / np.sqrt(prior * (1 - prior) / count[:, None])
            tested = joint.size
            pvals = norm.sf(z)
            hit = (precision >= min_prec) & (pvals < alpha / max(tested, 1)) & (count[:, None] >= min_count)
            for t, j in zip(*np.nonzero(hit)):
                findings.append({"token": vocab[t], "label": classes[j], "count": int(count[t]),
                                 "precision": round(float(precision[t, j]), 4), "prior": round(float(prior[j]), 4),
                                 "z": round(float(z[t, j]), 2), "p_value": float(pvals[t, j]), "_t": int(t)})
            findings.sort(key=lambda f: (-f["z"], -len(f["token"])))
            # Tokens that occur in exactly the same rows ("[", "whatsapp", "[ whatsapp ]") are one finding.
            merged: dict[tuple, dict] = {}
            cols = column([(f["_t"], f["label"]) for f in findings])
            for f in findings:
                key_rows, refs, row_count = cols[(f.pop("_t"), f["label"])]
                key = (f["label"], key_rows)
                if key in merged:
                    keep = merged[key]
                    keep.setdefault("aliases", []).append(f["token"])
                    # Name the finding by its core word: the shortest alias that has a letter or digit.
                    if _core(f["token"]) < _core(keep["token"]):
                        keep["aliases"][-1], keep["token"] = keep["token"], f["token"]
                    continue
                f["rows"] = refs
                f["row_count"] = row_count
                merged[key] = f
            n_short = len(merged)  # all flagged tokens; only the strongest max_findings are listed
            findings = list(merged.values())[: int(params["max_findings"])]
            for f in findings:
                f["message"] = (f"{f['token']!r} comes with {f['label']!r} in {f['precision']:.0%} of its "
                                f"{f['count']} rows (prior {f['prior']:.0%})")
        n_name = 0
        for lab in classes:
            if lab not in name_hits:
                continue
            refs, k, present = name_hits[lab]
            n_name += k
            findings.append({"token": lab, "label": lab, "kind": "label_name", "count": present,
                             "precision": round(k / present, 4), "rows": refs, "row_count": k,
                             "message": f"the label name {lab!r} appears in {k} of its own rows "
                                        f"({k / present:.0%} of rows that mention it carry it)"})
        return CheckResult(summary={"rows": n_rows, "tokens_tested": tested, "shortcut_tokens": n_short,
                                    "label_name_rows": n_name, "label_name_rate": n_name / n_rows if n_rows else 0.0},
                           findings=findings,
                           info={"test": "one-sided z-test of p(label|token) vs prior, Bonferroni", "alpha": alpha,
                                 "min_count": min_count, "min_precision": min_prec,
                                 "bonferroni_alpha": alpha / max(tested, 1) if tested else None,
                                 "note": "a content word that truly defines a class also shows up; read the list"})


VECTORIZER = {"binary": True, "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b|[^\w\s]+"}


def _label_pattern(c: str):
    return re.compile(r"\b" + re.escape(c.replace("_", " ").replace("-", " ").casefold()) + r"\b")


def label_names_in(text: str, own: str, classes: list[str]) -> list[tuple[str, bool]]:
    """The labels whose name the text mentions, each with whether it is the row's own label."""
    flat = text.replace("_", " ").replace("-", " ")
    return [(c, c == own) for c in classes if _label_pattern(c).search(flat)]


def label_name_rows(texts: list[str], labels: list[str], classes: list[str]) -> dict[str, tuple[list[int], int]]:
    """label -> (rows labelled with it whose text names it, rows whose text names it)."""
    patterns = {c: _label_pattern(c) for c in classes}
    out: dict[str, tuple[list[int], int]] = {}
    for lab in classes:
        mentions = [i for i, t in enumerate(texts) if patterns[lab].search(t.replace("_", " ").replace("-", " "))]
        own = [i for i in mentions if labels[i] == lab]
        if own:
            out[lab] = (own, len(mentions))
    return out
