"""The trainer's acceptance run: `harness train` on a 300-row classification set with the built-in model,
timed on this machine, and the adapter's held-out accuracy against the base model's zero-shot accuracy
on the same rows.

    python bench/acceptance_train.py [--rows 300] [--eval-rows 200]

`harness train` is given base, train, eval and out only: the trainer's defaults are what is measured.

The rows are the shipped ticket example with its planted defects removed (truth.json says which),
so the run measures the trainer, not the data.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def clean_rows(n: int) -> list[dict]:
    ex = ROOT / "examples" / "tickets"
    truth = json.loads((ex / "truth.json").read_text())
    planted = set(truth["label_flips"]) | set(truth["long_rows"]) | set(truth["bad_rows"])
    planted |= {x for key in ("exact_duplicates", "near_duplicates", "conflicts") for p in truth[key] for x in p[1:]}
    planted |= {leak["train_line"] for leak in truth["leaks"]} | {p["line"] for p in truth["pii"]}
    rows = [json.loads(line) for line in (ex / "train.jsonl").read_text().splitlines()]
    return [r for i, r in enumerate(rows, start=1) if i not in planted][:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300)
    ap.add_argument("--eval-rows", type=int, default=200)
    args = ap.parse_args()
    from harness.inputs.data import load_table
    from harness.model.loading import load_base
    from harness.training.train_config import TrainConfig
    from harness.training.trainer import classification_accuracy

    work = Path(tempfile.mkdtemp(prefix="accept-"))
    train = clean_rows(args.rows)
    eval_ = [json.loads(line) for line in (ROOT / "examples" / "tickets" / "eval.jsonl").read_text().splitlines()]
    eval_ = eval_[: args.eval_rows]
    (work / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    (work / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in eval_))
    labels = sorted({r["label"] for r in train})
    base = load_base("smollm2-135m-instruct")
    t0 = time.perf_counter()
    zero = classification_accuracy(base.model, base.tokenizer, load_table(eval_, "eval").examples, "classification",
                                   TrainConfig(), labels)
    print(f"base zero-shot accuracy: {zero:.3f} on {len(eval_)} rows ({time.perf_counter() - t0:.0f} s); "
          f"chance {1 / len(labels):.3f}")
    del base
    cmd = [sys.executable, "-m", "harness", "train", "--base", "smollm2-135m-instruct", "--train",
           str(work / "train.jsonl"), "--eval", str(work / "eval.jsonl"), "--out", str(work / "adapter")]
    print("$", " ".join(cmd))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
        sys.exit(1)
    m = json.loads((work / "adapter" / "manifest.json").read_text())
    for e in m["evals"]:
        print(f"epoch {e['epoch']}: eval loss {e['eval_loss']}, eval accuracy {e['eval_accuracy']}")
    print(f"harness train: {wall:.0f} s wall ({m['train_seconds']:.0f} s training) for {len(train)} rows; "
          f"adapter accuracy {m['evals'][-1]['eval_accuracy']:.3f} vs base {zero:.3f}")


if __name__ == "__main__":
    main()
