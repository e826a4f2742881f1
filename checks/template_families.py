"""Template families: rows that share a skeleton once slot values are masked (harness/auditing/templates.py).
Reported as families with counts ("12 skeletons cover 97% of the training rows") and, for an eval set
sharing the training skeletons, as one aggregate finding ("the eval set measures in-template
generalisation only"), not as thousands of duplicates or leaks: inside a family the near-duplicate
search does not run (harness/auditing/audit_data.py), exact copies are still reported."""

from __future__ import annotations

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
        if not data.row_count("train"):
            return not_applicable("no training rows")
        counts, refs, info = data.family_rows()
        n = {s: data.row_count(s) for s in data.splits}
        return _result(counts, n, lambda wanted: {w: refs.get(w, []) for w in wanted}, params, info)

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
