"""Precision of each check's findings on real data, from the judgements kept beside the samples.

    python bench/real/precision.py

A finding is right when judged TRUE; AMBIGUOUS and FALSE are counted apart. Only judgements whose key
matches a finding of the current sample count: after a change to a check, re-sample and re-judge."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = {"near_duplicates": 0.9, "leakage": 0.9, "paraphrases": 0.9, "label_conflicts": 0.9,
           "label_errors": 0.8, "shortcuts": 0.9, "output_format": 0.9, "truncation": 0.9,
           "unsupported_values": 0.9, "boilerplate": 0.9, "annotation_consistency": 0.8, "outliers": 0.8}


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def table() -> list[dict]:
    out = []
    for sample in sorted(HERE.glob("*/*.sample.jsonl")):
        data, check = sample.parent.name, sample.name.split(".")[0]
        tool = "cleanlab" if check.startswith("cleanlab_") else "harness"
        findings = {f["key"]: f for f in _read(sample)}
        all_judged = _read(sample.with_name(f"{check}.judged.jsonl"))
        judged = [j for j in all_judged if j.get("key") in findings]
        stale = len(all_judged) - len(judged)
        # Class-overlap findings are a different claim from row findings: counted apart.
        kinds = sorted({findings[j["key"]].get("kind") == "class_overlap" for j in judged}) or [False]
        for overlap in kinds:
            part = [j for j in judged if (findings[j["key"]].get("kind") == "class_overlap") == overlap]
            name = f"{check} (class overlap)" if overlap and not check.endswith("class_overlap") else check
            n = len(part)
            count = {v: sum(1 for j in part if j["verdict"] == v) for v in ("TRUE", "AMBIGUOUS", "FALSE")}
            out.append({"data": data, "tool": tool, "check": name, "sampled": len(findings), "judged": n, **count,
                        "precision": round(count["TRUE"] / n, 3) if n else None,
                        "target": None if overlap else TARGETS.get(check.removeprefix("cleanlab_")), "stale": stale})
    return out


def main() -> int:
    rows = table()
    head = f"{'data':<10} {'tool':<9} {'check':<32} {'judged':>6} {'TRUE':>5} {'AMB':>4} {'FALSE':>5} {'precision':>9} {'target':>6}"
    print(head)
    print("-" * len(head))
    for r in rows:
        prec = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        tgt = "" if r["target"] is None else f"{r['target']:.2f}"
        note = f"  ({r['stale']} stale judgements ignored)" if r["stale"] else ""
        if r["sampled"] == 0:
            note = "  (no findings)"
        print(f"{r['data']:<10} {r['tool']:<9} {r['check']:<32} {r['judged']:>6} {r['TRUE']:>5} {r['AMBIGUOUS']:>4} "
              f"{r['FALSE']:>5} {prec:>9} {tgt:>6}{note}")
    print()
    print("pooled over the real sets (this tool's findings only; each set's sample counts as drawn):")
    print(f"{'check':<32} {'sets':>4} {'judged':>6} {'TRUE':>5} {'AMB':>4} {'FALSE':>5} {'precision':>9} {'target':>6}")
    pooled: dict[str, dict] = {}
    for r in rows:
        if r["tool"] != "harness" or not r["judged"]:
            continue
        got = pooled.setdefault(r["check"], {"sets": 0, "judged": 0, "TRUE": 0, "AMBIGUOUS": 0, "FALSE": 0,
                                             "target": r["target"]})
        got["sets"] += 1
        for k in ("judged", "TRUE", "AMBIGUOUS", "FALSE"):
            got[k] += r[k]
    for check, g in sorted(pooled.items()):
        tgt = "" if g["target"] is None else f"{g['target']:.2f}"
        print(f"{check:<32} {g['sets']:>4} {g['judged']:>6} {g['TRUE']:>5} {g['AMBIGUOUS']:>4} {g['FALSE']:>5} "
              f"{g['TRUE'] / g['judged']:>9.2f} {tgt:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
