"""Template families: rows that share a skeleton once slot values are masked (harness/auditing/templates.py).
Reported as families with counts ("12 skeletons cover 97% of the training rows") and, for an eval set
sharing the training skeletons, as one aggregate finding ("the eval set measures in-template
generalisation only"), not as thousands of duplicates or leaks: inside a family the near-duplicate
search does not run (harness/auditing/audit_data.py), exact copies are still reported."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .base import Check, CheckResult, Params, lower_is_better, not_applicable, param, register


@register
class TemplateFamilies(Check):
    name = "template_families"
    order = 35
    key_figures = ("families", "family_coverage", "eval_in_family_rate")
    title = "Template families"
    why = ("Rows filled in from a few templates teach the templates: the model learns their wording, and an "
           "eval set from the same templates measures only in-template generalisation.")
    metrics = {"families": None,  # how many: described, neither way is better
               **lower_is_better("family_rows", "family_coverage", "top10_coverage", "eval_in_family_rows",
                                 "eval_in_family_rate")}

    @dataclass(frozen=True)
    class Params(Params):
        max_findings: int = param(20, ">=0", "families listed, largest first (all are counted)")

    def run(self, data, params):
        if not data.rows("train"):
            return not_applicable("no training rows")
        fam = data.families
        counts: Counter = Counter()
        refs: dict[tuple[str, str], list] = {}
        for s in data.splits:
            for ex, tid in zip(data.rows(s), data.text_ids[s].tolist()):
                sk = fam.skeletons[tid]
                if sk in fam.family:
                    counts[(s, sk)] += 1
                    got = refs.setdefault((s, sk), [])
                    if len(got) < 5:
                        got.append(ex.ref)
        n = {s: len(data.rows(s)) for s in data.splits}
        distinct = len({fam.skeletons[t] for t in set(data.text_ids["train"].tolist())})
        return _result(dict(counts), n, lambda wanted: {w: refs.get(w, []) for w in wanted}, params,
                       {"min_family_rows": fam.min_rows, "slot_contexts": len(fam.slots), "skeletons": distinct})

    def run_spark(self, data, params):
        """From the Spark families (harness/auditing/spark/data.py): family rows counted by a group-by, a few
        example rows per family fetched."""
        from pyspark.sql import functions as F

        if not data.train.good_rows:
            return not_applicable("no training rows")
        fam = data.families
        rows = data.row_tids.join(fam.text_skeletons, "tid")
        in_fam = rows.join(fam.family_frame, "sk").cache()
        counts = {(r.split, r.sk): r["count"] for r in in_fam.groupBy("split", "sk").count().collect()}

        def examples(wanted):
            got = (in_fam.groupBy("split", "sk")
                   .agg(F.slice(F.sort_array(F.collect_list(F.struct("line", "idx"))), 1, 5).alias("first")).collect())
            return {(r.split, r.sk): [{"split": r.split, "line": m.line} for m in r.first] for r in got}

        n = {"train": data.train.good_rows, **({"eval": data.eval.good_rows} if data.eval is not None else {})}
        distinct = rows.where("split = 'train'").select("sk").distinct().count()
        result = _result(counts, n, examples, params,
                         {"min_family_rows": fam.min_rows, "slot_contexts": len(fam.slots), "skeletons": distinct})
        in_fam.unpersist()
        return result


def _result(counts: dict[tuple[str, str], int], n: dict[str, int], examples, params: TemplateFamilies.Params,
            info: dict) -> CheckResult:
    """counts: (split, family skeleton) -> rows; n: rows per split; examples([(split, skeleton)]) -> refs."""
    n_train, n_eval = n.get("train", 0), n.get("eval", 0)
    fams = sorted(((k, sk) for (s, sk), k in counts.items() if s == "train"), key=lambda t: (-t[0], t[1]))
    fam_rows = sum(k for k, _ in fams)
    eval_in = sum(k for (s, _), k in counts.items() if s == "eval")
    listed = fams[: params.max_findings]
    ex = examples([("train", sk) for _, sk in listed] + [("eval", sk) for _, sk in listed])
    findings = []
    if n_eval and eval_in:
        share = eval_in / n_eval
        findings.append({"kind": "eval_in_templates", "eval_rows": eval_in, "share": round(share, 4),
                         "rows": [r for _, sk in listed for r in ex.get(("eval", sk), [])][:20],
                         "message": f"{eval_in} of {n_eval} eval rows ({share:.0%}) are filled-in copies of training "
                                    "templates: the eval set measures in-template generalisation only"})
    for k, sk in listed:
        findings.append({"kind": "family", "skeleton": sk, "size": k, "share": round(k / n_train, 4),
                         "rows": ex.get(("train", sk), []),
                         "message": f"{k} training rows ({k / n_train:.0%}) share the skeleton {sk!r}"})
    if fams:
        top = sum(k for k, _ in fams[:10])
        info = {**info, "coverage": f"{len(fams)} skeletons cover {fam_rows / n_train:.0%} of the training rows"}
    else:
        top = 0
    return CheckResult(summary={"rows": n_train, "families": len(fams), "family_rows": fam_rows,
                                "family_coverage": fam_rows / n_train if n_train else 0.0,
                                "top10_coverage": top / n_train if n_train else 0.0,
                                "eval_in_family_rows": eval_in, "eval_in_family_rate": eval_in / n_eval if n_eval else 0.0},
                       findings=findings, info={**info, "note": "_ marks a slot value, # a number"})
