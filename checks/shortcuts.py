"""Shortcuts: words or phrases that nearly always come with one label let a model score well without
learning the task (Gururangan et al. 2018; Gardner et al. 2021). Each token's p(label | token) is
tested against the label's prior with a one-sided z-test given its count, Bonferroni-corrected; and
rows whose input names their own label are counted."""

from __future__ import annotations

import re

import numpy as np

from .base import Check, CheckResult, not_applicable, register


def _core(token: str) -> tuple[bool, int]:
    return (not re.search(r"\w", token), len(token))


@register
class Shortcuts(Check):
    name = "shortcuts"
    title = "Shortcuts (tokens that give the label away)"
    why = "A token that almost always comes with one label lets the model skip the task and break on new data."
    metrics = ("shortcut_tokens", "label_name_rows", "label_name_rate")

    def run(self, data, params):
        if data.label_source is None:
            return not_applicable("no labels: the data is generative with free-form completions")
        from scipy.stats import norm
        from sklearn.feature_extraction.text import CountVectorizer

        rows = data.rows("train")
        labels = data.labels["train"]
        texts = data.normalized["train"]
        classes = sorted(set(labels))
        if len(classes) < 2:
            return not_applicable("only one label")
        min_count = int(params["min_count"])
        min_prec = float(params["min_precision"])
        alpha = float(params["alpha"])
        code = {c: j for j, c in enumerate(classes)}
        y = np.array([code[lab] for lab in labels])
        onehot = np.zeros((len(y), len(classes)))
        onehot[np.arange(len(y)), y] = 1
        prior = onehot.mean(axis=0)
        findings = []
        tested = n_short = 0
        try:
            vec = CountVectorizer(binary=True, ngram_range=(1, 2), min_df=min_count, token_pattern=r"(?u)\b\w+\b|[^\w\s]+")
            x = vec.fit_transform(texts)
        except ValueError:  # no token reaches min_count
            x, vec = None, None
        if x is not None:
            vocab = vec.get_feature_names_out()
            joint = np.asarray((x.T @ onehot))               # tokens x labels: rows holding both
            count = joint.sum(axis=1)
            precision = joint / count[:, None]
            z = (precision - prior[None, :]) / np.sqrt(prior * (1 - prior) / count[:, None])
            tested = joint.size
            pvals = norm.sf(z)
            hit = (precision >= min_prec) & (pvals < alpha / max(tested, 1)) & (count[:, None] >= min_count)
            for t, j in zip(*np.nonzero(hit)):
                findings.append({"token": str(vocab[t]), "label": classes[j], "count": int(count[t]),
                                 "precision": round(float(precision[t, j]), 4), "prior": round(float(prior[j]), 4),
                                 "z": round(float(z[t, j]), 2), "p_value": float(pvals[t, j]),
                                 "message": f"{vocab[t]!r} comes with {classes[j]!r} in {precision[t, j]:.0%} of its "
                                            f"{int(count[t])} rows (prior {prior[j]:.0%})"})
            findings.sort(key=lambda f: (-f["z"], -len(f["token"])))
            xc = x.tocsc()  # column access for each flagged token
            # Tokens that occur in exactly the same rows ("[", "whatsapp", "[ whatsapp ]") are one finding.
            merged: dict[tuple, dict] = {}
            for f in findings:
                j = vec.vocabulary_[f["token"]]
                col = xc.indices[xc.indptr[j]:xc.indptr[j + 1]]
                key = (f["label"], hash(col.tobytes()))
                if key in merged:
                    keep = merged[key]
                    keep.setdefault("aliases", []).append(f["token"])
                    # Name the finding by its core word: the shortest alias that has a letter or digit.
                    if _core(f["token"]) < _core(keep["token"]):
                        keep["aliases"][-1], keep["token"] = keep["token"], f["token"]
                    continue
                members = [i for i in col if labels[i] == f["label"]]
                f["rows"] = [rows[i].ref for i in members[:20]]
                f["row_count"] = len(members)
                merged[key] = f
            n_short = len(merged)  # all flagged tokens; only the strongest max_findings are listed
            findings = list(merged.values())[: int(params["max_findings"])]
            for f in findings:
                f["message"] = (f"{f['token']!r} comes with {f['label']!r} in {f['precision']:.0%} of its "
                                f"{f['count']} rows (prior {f['prior']:.0%})")
        # A label's own name in the input ("... billing ..." labelled billing).
        name_rows: dict[str, list[int]] = {}
        patterns = {c: re.compile(r"\b" + re.escape(c.replace("_", " ").replace("-", " ").casefold()) + r"\b")
                    for c in classes}
        for i, (text, lab) in enumerate(zip(texts, labels)):
            if patterns[lab].search(text.replace("_", " ").replace("-", " ")):
                name_rows.setdefault(lab, []).append(i)
        for lab, members in name_rows.items():
            present = sum(1 for t in texts if patterns[lab].search(t.replace("_", " ").replace("-", " ")))
            findings.append({"token": lab, "label": lab, "kind": "label_name", "count": present,
                             "precision": round(len(members) / present, 4), "rows": [rows[i].ref for i in members[:20]],
                             "row_count": len(members),
                             "message": f"the label name {lab!r} appears in {len(members)} of its own rows "
                                        f"({len(members) / present:.0%} of rows that mention it carry it)"})
        n_name = sum(len(m) for m in name_rows.values())
        return CheckResult(summary={"rows": len(rows), "tokens_tested": tested, "shortcut_tokens": n_short,
                                    "label_name_rows": n_name, "label_name_rate": n_name / len(rows) if rows else 0.0},
                           findings=findings,
                           info={"test": "one-sided z-test of p(label|token) vs prior, Bonferroni", "alpha": alpha,
                                 "min_count": min_count, "min_precision": min_prec,
                                 "bonferroni_alpha": alpha / max(tested, 1) if tested else None,
                                 "note": "a content word that truly defines a class also shows up; read the list"})
