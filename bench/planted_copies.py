"""Recall and precision of near duplicates, conflicts and leaks on planted copies as users make them
(examples/make_banking.py: unlisted greetings and sign-offs, several typos a row, merged and short
typo'd words, look-alike letters, among sibling intents that differ in one deciding word), per seed and
per kind of copy. Issue 29's target: recall >= 0.95 at the real-data precision.

    python bench/planted_copies.py --seeds 0 1 2 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))


def main() -> None:
    import make_banking
    import score_planted

    import harness

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--policy", default=None)
    args = ap.parse_args()
    keys = ("near_duplicates.recall", "near_duplicates.row_recall", "near_duplicates.precision",
            "label_conflicts.recall", "label_conflicts.row_recall", "label_conflicts.precision", "leakage.recall",
            "leakage.precision", "outliers.recall", "outliers.precision")
    print("recall: the planted (original, copy) pair in one finding; row_recall: the copy in a finding with another row "
          "of its request")
    print("seed " + " ".join(f"{k.replace('near_duplicates', 'near').replace('label_conflicts', 'confl'):>16s}"
                             for k in keys))
    kinds: dict[str, list[float]] = {}
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            made = make_banking.make(seed=seed)
            make_banking.write(Path(tmp), made)
            result = harness.audit(str(Path(tmp) / "train.jsonl"), str(Path(tmp) / "eval.jsonl"), args.policy)
        got = score_planted.score(result, made["truth"])
        print(f"{seed:4d} " + " ".join(f"{got[k]:16.3f}" for k in keys))
        for k, v in got.items():
            if ".recall." in k:
                kinds.setdefault(k, []).append(v)
    print("\nmean recall by kind of copy:")
    for k, v in sorted(kinds.items()):
        print(f"  {k:42s} {sum(v) / len(v):.3f}")


if __name__ == "__main__":
    main()
