"""Draw a random sample of each check's findings on a real data set, with the rows' text, for judging.

    python bench/real/sample_findings.py clinc150 --train ../shared/data/real/clinc150/train.jsonl \
        --eval ../shared/data/real/clinc150/test.jsonl
    python bench/real/sample_findings.py gsm8k --train .../gsm8k/train.jsonl --eval .../gsm8k/test.jsonl \
        --field prompt=question --field completion=answer

Writes bench/real/<name>/<check>.sample.jsonl: one finding a line, with an `id`, a `key` (the finding's
rows, so a judgement can be matched to the finding it was made on), what the audit said and the text
and label of every row shown. Judgements go beside it as <check>.judged.jsonl ({"id", "key", "verdict":
TRUE | AMBIGUOUS | FALSE, "pair": DUPLICATE | PARAPHRASE | DIFFERENT (for pair findings), "reason"});
bench/real/precision.py prints the figures. Re-sampling after a change to a check gives new keys, and
precision.py counts only judgements whose key is in the current sample."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKS = ("near_duplicates", "leakage", "label_conflicts", "label_errors", "shortcuts", "paraphrases",
          "output_format", "truncation", "unsupported_values", "boilerplate", "annotation_consistency", "outliers")
# What to show of a finding besides its rows.
KEEP = ("kind", "message", "similarity", "max_similarity", "differs", "label", "suggested", "given", "labels",
        "token", "aliases", "count", "precision", "prior", "features", "accuracy", "lift", "cosine", "classes",
        "share", "eval_label", "train_labels", "representative", "neighbour_similarity", "p_given", "p_suggested",
        "family", "pattern", "missing", "extra", "field", "value", "phrase", "tokens", "majority_key",
        "majority_rows", "rows_as_this", "rows_holding", "isolation", "nearest_similarity", "own_label_share")


def read_rows(path: Path, fields: dict[str, str]) -> dict[int, dict]:
    rows = {}
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if line.strip():
                rec = json.loads(line)
                rows[line_no] = {k: rec.get(fields.get(k, k)) for k in ("text", "label", "prompt", "completion")
                                 if rec.get(fields.get(k, k)) is not None}
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name")
    ap.add_argument("--train", required=True)
    ap.add_argument("--eval")
    ap.add_argument("--field", action="append", default=[], help="canonical=column, as `harness audit --field`")
    ap.add_argument("-n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-rows-shown", type=int, default=6)
    ap.add_argument("--checks", help="comma-separated: re-sample only these (the other samples and counts are kept)")
    args = ap.parse_args(argv)

    import harness

    fields = dict(f.split("=", 1) for f in args.field)
    only = set(args.checks.split(",")) if args.checks else None
    policy: dict = {"fields": fields} if fields else {}
    if only:   # only these checks run: the others' samples, counts and the whole audit's time are kept
        from harness.auditing.policy import load_policy

        policy["checks"] = {name: {"enabled": False} for name in load_policy(None)["checks"] if name not in only}
    started = time.perf_counter()
    result = harness.audit(args.train, args.eval, policy=policy or None, probes=[])
    seconds = time.perf_counter() - started
    splits = {"train": read_rows(Path(args.train), fields)}
    if args.eval:
        splits["eval"] = read_rows(Path(args.eval), fields)
    out = HERE / args.name
    out.mkdir(parents=True, exist_ok=True)
    counts_file = out / "audit_counts.json"
    kept = json.loads(counts_file.read_text()) if only and counts_file.exists() else {}
    counts = kept.get("checks", {})
    seconds = kept.get("seconds", seconds)
    for c in result["checks"]:
        if c["check"] not in CHECKS or (only and c["check"] not in only):
            continue
        findings = c.get("findings", [])
        counts[c["check"]] = {"findings": len(findings), "status": c["status"], "seconds": c.get("seconds"),
                              "summary": {k: v for k, v in c.get("summary", {}).items() if isinstance(v, (int, float))}}
        rng = random.Random(f"{args.seed}:{c['check']}")
        picked = sorted(rng.sample(range(len(findings)), min(args.n, len(findings))))
        lines = []
        for k, i in enumerate(picked):
            f = findings[i]
            refs = f.get("rows", [])
            shown = [{"split": r["split"], "line": r["line"], **splits[r["split"]].get(r["line"], {})}
                     for r in refs[: args.max_rows_shown]]
            key = ";".join(f"{r['split']}:{r['line']}" for r in refs[: args.max_rows_shown]) + "|" + str(f.get("token", f.get("kind", "")))
            extra = {}
            for name in ("neighbour", "nearest"):   # label_errors' row of the suggested label; outliers' closest row
                if isinstance(f.get(name), dict):
                    r = f[name]
                    extra[name] = {"split": r["split"], "line": r["line"], **splits[r["split"]].get(r["line"], {})}
            lines.append(json.dumps({"id": f"{c['check']}-{k:02d}", "key": key, "check": c["check"],
                                     **{x: f[x] for x in KEEP if x in f},
                                     **({"annotation_key": f["key"]} if "key" in f else {}), **extra, "rows_total": len(refs), "rows": shown},
                                    ensure_ascii=False))
        (out / f"{c['check']}.sample.jsonl").write_text("".join(x + "\n" for x in lines), encoding="utf-8")
        if c["check"] == "shortcuts":
            (out / "shortcuts.info.json").write_text(json.dumps(c.get("info", {}), indent=1, ensure_ascii=False, default=str))
    (out / "audit_counts.json").write_text(json.dumps({"seconds": round(seconds, 1), "checks": counts}, indent=1))
    json.dump({"seconds": round(seconds, 1), **{k: v["findings"] for k, v in counts.items()}}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
