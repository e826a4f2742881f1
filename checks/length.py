"""Rows longer than the trainer's max_seq_len are silently truncated (often cutting off the very
completion being taught); empty outputs teach nothing. Those are findings. Rows far above the typical
length but under max_seq_len are trained whole: they are counted and listed as the long tail (info),
not warned on (on real intent data 574 such warnings held one row a reviewer would act on). A
preference row is as long as its prompt with the longer of its two answers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import LOWER, Chart, Check, CheckResult, Params, param, register


def longer(output: str | None, rejected: str | None) -> str | None:
    """The longer of a preference row's answers (the output alone for other rows)."""
    return output if rejected is None or (output is not None and len(output) >= len(rejected)) else rejected


@register
class Length(Check):
    name = "length"
    order = 90
    key_figures = ('truncated_rows', 'outlier_rows', 'empty_outputs', 'p95_tokens')
    charts = (Chart("histogram", "Length in tokens (train)", "info.splits.train.histogram", alt="length histogram",
                    order=20, marker="summary.max_seq_len"),)
    title = "Length and truncation"
    why = "Rows past max_seq_len lose their ending (often the answer); empty outputs teach nothing."
    metrics = {"truncated_rows": LOWER, "empty_outputs": LOWER, "outlier_rows": LOWER,
               "max_tokens": None, "p95_tokens": None}  # None: sizes, described (any bound may be put on them)

    @dataclass(frozen=True)
    class Params(Params):
        outlier_iqr: float = param(3.0, ">0", "long tail (info, not warned on): more than Q3 + k * IQR tokens, under max_seq_len")

    def run(self, data, params):
        count, how = data.token_counter
        per_split_tokens = {}
        rows_of = {}
        for split in data.splits:
            rows = data.rows(split)
            rows_of[split] = rows
            per_split_tokens[split] = np.array([row_tokens(count, ex.input, longer(ex.output, ex.rejected), ex.label)
                                                for ex in rows], dtype=np.int64)
        values = {s: np.unique(t, return_counts=True) for s, t in per_split_tokens.items()}
        limits = {s: _limit(v, c, params.outlier_iqr) for s, (v, c) in values.items() if len(v)}
        max_len = int(data.spec.max_seq_len)
        flagged = {}
        for split, tokens in per_split_tokens.items():
            flagged[split] = [(ex.ref, int(tokens[i]), ex.output is not None and _empty(ex.output))
                              for i, ex in enumerate(rows_of[split])
                              if tokens[i] > max_len or (split in limits and tokens[i] > limits[split])
                              or (ex.output is not None and _empty(ex.output))]
        return self._result(values, flagged, limits, max_len, how)

    def run_spark(self, data, params):
        """Token counts per row in each partition; the statistics come from the (small) table of distinct
        lengths and their counts, so they are exact, not approximate quantiles."""
        from pyspark.sql import functions as F

        count, how = data.token_counter

        def tokens(batches):
            import pandas as pd

            from harness.auditing.spark import values

            for pdf in batches:
                outputs, labels = values(pdf, "output"), values(pdf, "label")
                longest = [longer(o, r) for o, r in zip(outputs, values(pdf, "rejected"))]
                t = [row_tokens(count, i, o, lab) for i, o, lab in zip(values(pdf, "input"), longest, labels)]
                empty = [o is not None and _empty(o) for o in outputs]
                yield pd.DataFrame({"line": pdf["line"], "tokens": t, "empty": empty})

        max_len = int(data.spec.max_seq_len)
        values, limits, flagged = {}, {}, {}
        for split in data.splits:
            frame = (data.frame(split).select("line", "input", "output", "label", "rejected")
                     .mapInPandas(tokens, "line long, tokens long, empty boolean").cache())
            table = frame.groupBy("tokens").count().orderBy("tokens").collect()
            v = np.array([r.tokens for r in table], dtype=np.int64)
            c = np.array([r["count"] for r in table], dtype=np.int64)
            values[split] = (v, c)
            if len(v):
                limits[split] = _limit(v, c, params.outlier_iqr)
            cond = (F.col("tokens") > max_len) | F.col("empty")
            if split in limits:
                cond = cond | (F.col("tokens") > float(limits[split]))
            flagged[split] = [({"split": split, "line": r.line}, int(r.tokens), bool(r.empty))
                              for r in frame.where(cond).orderBy("line").collect()]
        return self._result(values, flagged, limits, max_len, how)

    @staticmethod
    def _result(values: dict, flagged: dict, limits: dict, max_len: int, how: str) -> CheckResult:
        """values: per split, (distinct token counts, how many rows each); flagged: per split, (ref, tokens,
        empty output) for rows over max_seq_len, over the outlier limit or with an empty output."""
        findings, per_split, long_tail = [], {}, []
        truncated = empty = outliers = 0
        for split, (v, c) in values.items():
            if len(v) == 0:
                continue
            limit = limits[split]
            per_split[split] = {"rows": int(c.sum()), "mean": round(float((v * c).sum() / c.sum()), 2),
                                "p50": int(_percentile(v, c, 50)), "p95": int(_percentile(v, c, 95)),
                                "max": int(v.max()), "outlier_above": round(float(limit), 1),
                                "histogram": _histogram(v, c)}
            for ref, t, is_empty in flagged.get(split, []):
                if t > max_len:
                    truncated += 1
                    findings.append({"rows": [ref], "kind": "truncated", "tokens": t,
                                     "message": f"{t} tokens > max_seq_len {max_len}: the end would be cut off"})
                elif t > limit:
                    outliers += 1      # a long tail under max_seq_len is trained whole: information only
                    long_tail.append({"row": ref, "tokens": t})
                if is_empty:
                    empty += 1
                    findings.append({"rows": [ref], "kind": "empty_output", "tokens": t,
                                     "message": "the output has no visible characters"})
        all_v = np.concatenate([v for v, _ in values.values()]) if values else np.zeros(0, np.int64)
        all_c = np.concatenate([c for _, c in values.values()]) if values else np.zeros(0, np.int64)
        return CheckResult(summary={"truncated_rows": truncated, "empty_outputs": empty, "outlier_rows": outliers,
                                    "max_tokens": int(all_v.max()) if len(all_v) else 0,
                                    "p95_tokens": int(_percentile(all_v, all_c, 95)) if len(all_v) else 0,
                                    "max_seq_len": max_len},
                           findings=findings,
                           info={"counted_with": how, "splits": per_split, "max_seq_len": max_len,
                                 "limit_for": "training truncates each row at max_seq_len tokens (the trainer's "
                                              "setting; `harness run` audits with the training one)",
                                 "long_tail": sorted(long_tail, key=lambda x: -x["tokens"])[:50]})


def row_tokens(count, text: str, output: str | None, label: str | None) -> int:
    return count(text) + (count(output) if output is not None else count(label or ""))


def _empty(output: str) -> bool:
    return not output.strip("\u200b\u200c\u200d\u2060\ufeff \t\r\n")


def _percentile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """numpy's default (linear) percentile of the multiset `values` x `counts`, without expanding it."""
    order = np.argsort(values, kind="stable")
    v, c = values[order].astype(float), counts[order]
    cum = np.cumsum(c)
    pos = q / 100 * (cum[-1] - 1)
    lo, hi = int(np.floor(pos)), int(np.ceil(pos))
    at = lambda k: v[int(np.searchsorted(cum, k, side="right"))]  # noqa: E731  (k-th smallest, 0-based)
    return at(lo) + (at(hi) - at(lo)) * (pos - lo)


def _limit(values: np.ndarray, counts: np.ndarray, k: float) -> float:
    q1, q3 = _percentile(values, counts, 25), _percentile(values, counts, 75)
    return q3 + k * max(q3 - q1, 1.0)


def _histogram(values: np.ndarray, weights: np.ndarray, bins: int = 20) -> dict:
    counts, edges = np.histogram(values, bins=bins, weights=weights)
    counts = counts.astype(np.int64)
    return {"counts": counts.tolist(), "edges": [round(float(e), 1) for e in edges]}
