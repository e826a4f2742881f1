"""Rows longer than the trainer's max_seq_len are silently truncated (often cutting off the very
completion being taught); empty outputs teach nothing. Those are findings. Rows far above the typical
length but under max_seq_len are trained whole: they are counted and listed as the long tail (info),
not warned on (on real intent data 574 such warnings held one row a reviewer would act on). A
preference row is as long as its prompt with the longer of its two answers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

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
        max_len = int(data.spec.max_seq_len)
        values, limits, flagged = {}, {}, {}
        for split in data.splits:
            scores = data.row_scores(split, partial(_row_length, count))
            values[split] = v, c = scores.distribution()
            if len(v):
                limits[split] = _limit(v, c, params.outlier_iqr)
            flagged[split] = scores.rows_over(min(max_len, limits.get(split, max_len)))
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


def _row_length(count, text: str, output: str | None, rejected: str | None, label: str | None) -> tuple[int, bool]:
    """A row's tokens (a preference row with its longer answer) and whether its output is empty."""
    return row_tokens(count, text, longer(output, rejected), label), output is not None and _empty(output)


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
