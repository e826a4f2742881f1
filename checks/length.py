"""Rows longer than the trainer's max_seq_len are silently truncated (often cutting off the very
completion being taught); empty outputs teach nothing; extreme outliers dominate padding and memory."""

from __future__ import annotations

import numpy as np

from .base import Check, CheckResult, register


@register
class Length(Check):
    name = "length"
    title = "Length and truncation"
    why = "Rows past max_seq_len lose their ending (often the answer); empty outputs teach nothing."
    metrics = ("truncated_rows", "empty_outputs", "outlier_rows", "max_tokens", "p95_tokens")

    def run(self, data, params):
        count, how = data.token_counter
        max_len = int(data.policy["max_seq_len"])
        k = float(params["outlier_iqr"])
        findings = []
        per_split = {}
        truncated = empty = outliers = 0
        all_tokens = []
        for split in data.splits:
            rows = data.rows(split)
            tokens = np.array([count(ex.input) + (count(ex.output) if ex.output is not None else
                                                  count(ex.label or "")) for ex in rows], dtype=np.int64)
            all_tokens.append(tokens)
            if len(tokens) == 0:
                continue
            q1, q3 = np.percentile(tokens, [25, 75])
            limit = q3 + k * max(q3 - q1, 1.0)
            per_split[split] = {"rows": len(rows), "mean": round(float(tokens.mean()), 2),
                                "p50": int(np.percentile(tokens, 50)), "p95": int(np.percentile(tokens, 95)),
                                "max": int(tokens.max()), "outlier_above": round(float(limit), 1),
                                "histogram": _histogram(tokens)}
            for i, ex in enumerate(rows):
                t = int(tokens[i])
                if t > max_len:
                    truncated += 1
                    findings.append({"rows": [ex.ref], "kind": "truncated", "tokens": t,
                                     "message": f"{t} tokens > max_seq_len {max_len}: the end would be cut off"})
                elif t > limit:
                    outliers += 1
                    findings.append({"rows": [ex.ref], "kind": "outlier", "tokens": t,
                                     "message": f"{t} tokens, far above this split's typical length (> {limit:.0f})"})
                if ex.output is not None and not ex.output.strip("\u200b\u200c\u200d\u2060\ufeff \t\r\n"):
                    empty += 1
                    findings.append({"rows": [ex.ref], "kind": "empty_output", "tokens": t,
                                     "message": "the output has no visible characters"})
        tokens = np.concatenate(all_tokens) if all_tokens else np.zeros(0)
        return CheckResult(summary={"truncated_rows": truncated, "empty_outputs": empty, "outlier_rows": outliers,
                                    "max_tokens": int(tokens.max()) if len(tokens) else 0,
                                    "p95_tokens": int(np.percentile(tokens, 95)) if len(tokens) else 0,
                                    "max_seq_len": max_len},
                           findings=findings, info={"counted_with": how, "splits": per_split})


def _histogram(tokens: np.ndarray, bins: int = 20) -> dict:
    counts, edges = np.histogram(tokens, bins=bins)
    return {"counts": counts.tolist(), "edges": [round(float(e), 1) for e in edges]}
