"""The compare gate's acceptance run on the built-in model: three adapters trained here, each judged by
`harness compare` with the default gate policy.

    python bench/acceptance_compare.py [--work DIR]

- benign: the ticket classifier trained as a user would (clean rows, 1 epoch, lr 5e-4); should pass.
- overtrained: 48 rows, 12 epochs at lr 3e-3; should fail on overfitting / memorisation.
- collapsed: trained to answer every kind of prompt with a ticket label (instruction rows whose prompts
  are everyday requests written from templates here, not the drift prompts); should fail on drift and
  forgetting.
Prints each verdict with the failing metrics and the wall time of training and of compare.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from acceptance_train import clean_rows  # noqa: E402

TOPICS = ["the ocean", "volcanoes", "ancient Rome", "jazz music", "healthy eating", "space travel", "gardening",
          "the moon", "electric cars", "honey bees", "chess", "mountains", "rainforests", "photography", "trains",
          "the human heart", "bread baking", "winter sports", "coral reefs", "the printing press"]
ASKS = ["Tell me something interesting about {t}.", "Write two sentences about {t}.", "Why do people like {t}?",
        "Explain {t} to a child.", "What is the history of {t}?", "Give me a fun fact about {t}.",
        "What should a beginner know about {t}?", "Describe {t} in simple words."]


def clean_eval() -> list[dict]:
    ex = ROOT / "examples" / "tickets"
    truth = json.loads((ex / "truth.json").read_text())
    leaked = {leak["eval_line"] for leak in truth["leaks"]}
    rows = [json.loads(line) for line in (ex / "eval.jsonl").read_text().splitlines()]
    return [r for i, r in enumerate(rows, start=1) if i not in leaked]


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run(cmd: list[str]) -> tuple[int, float, str]:
    print("$", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc.returncode, time.perf_counter() - t0, proc.stdout + proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=None)
    ap.add_argument("--only", default="benign,overtrained,collapsed")
    ap.add_argument("--policy", default=None)
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="accept-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    train = clean_rows(300)
    labels = sorted({r["label"] for r in train})
    eval_rows = clean_eval()[:80]
    rng = random.Random(0)
    collapse = [{"prompt": a.format(t=t), "completion": rng.choice(labels)} for t in TOPICS for a in ASKS]
    rng.shuffle(collapse)
    data = {
        "benign": (write(work / "benign_train.jsonl", train), ["--epochs", "1", "--lr", "0.0005"]),
        "overtrained": (write(work / "over_train.jsonl", train[:48]), ["--epochs", "12", "--lr", "0.003"]),
        "collapsed": (write(work / "collapse_train.jsonl", collapse[:120]), ["--epochs", "3", "--lr", "0.003"]),
    }
    eval_path = write(work / "eval.jsonl", eval_rows)
    collapse_eval = write(work / "collapse_eval.jsonl", collapse[120:])
    py = sys.executable
    for name in args.only.split(","):
        train_path, flags = data[name]
        adapter = work / f"adapter_{name}"
        if not adapter.is_dir():
            rc, secs, out = run([py, "-m", "harness", "train", "--base", "smollm2-135m-instruct", "--train",
                                 str(train_path), "--out", str(adapter), "--batch-size", "8", "--max-seq-len", "192",
                                 *flags])
            if rc != 0:
                print(f"{name}: training failed: {out.strip().splitlines()[-1]}")
                continue
            print(f"{name}: trained in {secs:.0f} s")
        ev = collapse_eval if name == "collapsed" else eval_path
        cmd = [py, "-m", "harness", "compare", "--base", "smollm2-135m-instruct", "--adapter", str(adapter),
               "--train", str(train_path), "--eval", str(ev), "--out", str(work / f"compare_{name}"),
               "--cache", str(work / "cache.sqlite")]
        if args.policy:
            cmd += ["--policy", args.policy]
        rc, secs, out = run(cmd)
        res = json.loads((work / f"compare_{name}" / "results.json").read_text()) if rc in (0, 1) else None
        if res is None:
            print(f"{name}: compare exit {rc}: {out.strip().splitlines()[-1]}")
            continue
        failed = [f"{s}.{m}" for s, suite in res["suites"].items() for m, v in suite["metrics"].items()
                  if v.get("status") == "fail"]
        print(f"{name}: verdict {res['verdict']} (exit {rc}) in {secs:.0f} s; failing: {', '.join(failed) or 'none'}")
        for s, suite in res["suites"].items():
            for m, v in suite["metrics"].items():
                if v.get("status") in ("pass", "fail"):
                    print(f"    {s}.{m}: base {v['base']} tuned {v['tuned']} interval {v['interval']} -> {v['status']}")


if __name__ == "__main__":
    main()
