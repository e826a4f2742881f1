"""Near duplicates (a typo, a greeting or a signature away) overweight examples just like exact ones
and are what exact hashing misses. MinHash LSH over character shingles finds the candidates; a pair is
a duplicate only when what differs is superficial (harness/auditing/pairs.py); clusters are stars around a
representative, so every reported row is a duplicate of the first one (harness/auditing/clusters.py)."""

from __future__ import annotations

from .base import Chart, Check, CheckResult, lower_is_better, register


@register
class NearDuplicates(Check):
    name = "near_duplicates"
    removes = "all_but_first"
    order = 30
    key_figures = ('duplicate_rows', 'clusters', 'largest_cluster')
    charts = (Chart("bars", "Near-duplicate cluster sizes", "findings", alt="near-duplicate clusters", order=30,
                    sizes="rows"),)
    title = "Near duplicates"
    why = "Copies that differ by a typo or a greeting still overweight one example and hide from exact matching."
    metrics = lower_is_better("clusters", "duplicate_rows", "duplicate_rate", "largest_cluster")

    def run(self, data, params):
        return self._result(data.duplicate_clusters("train"), data.row_count("train"), data.policy["similarity"],
                            data.duplicate_info())

    @staticmethod
    def _result(groups: list, n: int, conf: dict, info: dict) -> CheckResult:
        """groups: (refs, exact keys, lowest and highest similarity to the representative, its ref)."""
        findings, repeats, largest = [], set(), 0
        for refs, keys, low, high, rep in groups:
            if len(keys) < 2:
                continue  # only exact copies: reported by exact_duplicates
            # A row can sit in two clusters (harness/auditing/clusters.py): count each once, as `clean` removes
            # them (all but each cluster's first row).
            repeats.update(sorted((r["split"], r["line"]) for r in refs)[1:])
            largest = max(largest, len(refs))
            ordered = [rep] + [r for r in refs if r != rep]
            findings.append({"rows": ordered, "representative": rep, "similarity": round(low, 4),
                             "max_similarity": round(high, 4), "size": len(refs),
                             "message": f"{len(refs)} rows that repeat the first with superficial differences "
                                        "(character Jaccard to it "
                                        + (f"{low:.2f})" if high - low < 0.005 else f"{low:.2f} to {high:.2f})")})
        dup_rows = len(repeats)
        return CheckResult(summary={"rows": n, "clusters": len(findings), "duplicate_rows": dup_rows,
                                    "duplicate_rate": dup_rows / n if n else 0.0, "largest_cluster": largest,
                                    "threshold": conf["threshold"]},
                           findings=findings, info=info)
