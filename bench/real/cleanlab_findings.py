"""cleanlab's Datalab on the same real data, sampled for judging the same way as our findings.

    python bench/real/cleanlab_findings.py clinc150 --train ../shared/data/real/clinc150/train.jsonl

Follows cleanlab's own text tutorial: sentence embeddings (the same all-MiniLM-L6-v2 our audit uses)
as features, out-of-fold probabilities from logistic regression on them as pred_probs, then
Datalab.find_issues (label, near_duplicate, ...) and cleanlab.dataset.find_overlapping_classes. Writes
bench/real/<name>/cleanlab_<issue>.sample.jsonl (40 at random each) for judging, and the counts."""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name")
    ap.add_argument("--train", required=True)
    ap.add_argument("-n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import pandas as pd
    from cleanlab import Datalab
    from cleanlab.dataset import find_overlapping_classes
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from harness.auditing.embeddings import default_model_dir, embedder

    rows = [json.loads(line) for line in open(args.train, encoding="utf-8") if line.strip()]
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    classes = sorted(set(labels))
    y = np.array([classes.index(lab) for lab in labels])
    started = time.perf_counter()
    features = embedder(default_model_dir()).encode(texts)
    pred_probs = cross_val_predict(LogisticRegression(max_iter=1000), features, y,
                                   cv=StratifiedKFold(5, shuffle=True, random_state=0), method="predict_proba")
    lab = Datalab(data=pd.DataFrame({"text": texts, "label": labels}), label_name="label", verbosity=0)
    lab.find_issues(features=features, pred_probs=pred_probs, issue_types={"label": {}, "near_duplicate": {}})
    seconds = time.perf_counter() - started
    out = HERE / args.name
    out.mkdir(parents=True, exist_ok=True)

    def row(i: int) -> dict:
        return {"split": "train", "line": i + 1, "text": texts[i], "label": labels[i]}

    found: dict[str, list[dict]] = {}
    issues = lab.get_issues("label")
    found["cleanlab_label_issues"] = [
        {"given": labels[i], "suggested": classes[int(issues.loc[i, "predicted_label"])]
         if not isinstance(issues.loc[i, "predicted_label"], str) else issues.loc[i, "predicted_label"],
         "score": round(float(issues.loc[i, "label_score"]), 4), "rows": [row(i)], "key": f"train:{i + 1}|label"}
        for i in issues.index[issues["is_label_issue"]].tolist()]
    dup = lab.get_issues("near_duplicate")
    seen, groups = set(), []
    for i in dup.index[dup["is_near_duplicate_issue"]].tolist():
        members = sorted({i, *[int(j) for j in dup.loc[i, "near_duplicate_sets"]]})
        if tuple(members) in seen:
            continue
        seen.add(tuple(members))
        groups.append({"rows": [row(j) for j in members[:6]], "rows_total": len(members),
                       "key": ";".join(f"train:{j + 1}" for j in members[:6]) + "|"})
    found["cleanlab_near_duplicates"] = groups
    overlap = find_overlapping_classes(labels=y, pred_probs=pred_probs)
    top = overlap.head(50)
    found["cleanlab_class_overlap"] = []
    for _, r in top.iterrows():
        a, b = int(r["Class Index A"]), int(r["Class Index B"])
        ex = [i for i in range(len(y)) if (y[i] == a and pred_probs[i].argmax() == b) or (y[i] == b and pred_probs[i].argmax() == a)]
        found["cleanlab_class_overlap"].append({"kind": "class_overlap", "classes": [classes[a], classes[b]],
                                                "share": round(float(r["Joint Probability"]), 5),
                                                "rows": [row(i) for i in ex[:6]],
                                                "key": f"{classes[a]}|{classes[b]}"})
    counts = {k: len(v) for k, v in found.items()}
    for name, items in found.items():
        rng = random.Random(f"{args.seed}:{name}")
        picked = sorted(rng.sample(range(len(items)), min(args.n, len(items))))
        lines = [json.dumps({"id": f"{name}-{k:02d}", "check": name, **items[i]}, ensure_ascii=False)
                 for k, i in enumerate(picked)]
        (out / f"{name}.sample.jsonl").write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    (out / "cleanlab_counts.json").write_text(json.dumps({"seconds": round(seconds, 1), **counts}, indent=1))
    print(json.dumps({"seconds": round(seconds, 1), **counts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
