"""Near duplicates (a typo, a greeting or a signature away) overweight examples just like exact ones
and are what exact hashing misses. MinHash LSH over character shingles, verified by true Jaccard."""

from __future__ import annotations

from .base import Check, CheckResult, register


@register
class NearDuplicates(Check):
    name = "near_duplicates"
    title = "Near duplicates"
    why = "Copies that differ by a typo or a greeting still overweight one example and hide from exact matching."
    metrics = ("clusters", "duplicate_rows", "duplicate_rate", "largest_cluster")

    def run(self, data, params):
        rows = data.rows("train")
        keys = data.normalized["train"]
        findings, dup_rows, largest = [], 0, 0
        for members, low, high in data.components("train"):
            if len({keys[i] for i in members}) < 2:
                continue  # only exact copies: reported by exact_duplicates
            dup_rows += len(members) - 1
            largest = max(largest, len(members))
            findings.append({"rows": [rows[i].ref for i in members], "similarity": round(low, 4),
                             "max_similarity": round(high, 4), "size": len(members),
                             "message": f"{len(members)} near-duplicate rows (Jaccard "
                                        + (f"{low:.2f})" if high - low < 0.005 else f"{low:.2f} to {high:.2f})")})
        n = len(rows)
        conf = data.policy["similarity"]
        return CheckResult(summary={"rows": n, "clusters": len(findings), "duplicate_rows": dup_rows,
                                    "duplicate_rate": dup_rows / n if n else 0.0, "largest_cluster": largest,
                                    "threshold": conf["threshold"]},
                           findings=findings, info=dict(data.similar.stats))
