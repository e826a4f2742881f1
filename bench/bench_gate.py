"""Is the default gate right on adapters it has never seen? (issue 18)

Trains a handful of benign adapters (the trainer's defaults, another seed and row sample, one epoch, a
lower learning rate) and damaging ones (everyday questions "answered" with an intent label, over-training
on 16 rows, a wipe-out on noise answers at a high learning rate) on real data nobody here wrote: 10
intents of CLINC150 (../shared/data/real, or HARNESS_REAL_DATA), 300 training rows, 200 held-out rows.
Each adapter is then judged by `harness compare` with the default gate (every suite on), and the bench
prints the false-fail count (benign adapters the gate fails) and the false-pass count (damaging ones it
passes), with the rules that decided each verdict.

    python bench/bench_gate.py                 # train what is missing, compare all, print the table
    python bench/bench_gate.py --only benign_defaults --fast

Adapters are kept under bench/results/gate/ (a re-run reuses them); one process at a time (two torch
processes on 2 cores slow each other several-fold). Every run appends a JSON line to
bench/bench_gate.jsonl; bench/RESULTS_gate.md is rewritten from the newest line per adapter.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REAL = Path(os.environ.get("HARNESS_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))
WORK = HERE / "results" / "gate"
LOG = HERE / "bench_gate.jsonl"
BASE = "smollm2-135m-instruct"


def _read(name: str) -> list[dict]:
    return [json.loads(line) for line in (REAL / "clinc150" / name).read_text().splitlines() if line.strip()]


def clinc(row_seed: int = 0, n_train: int = 300, n_eval: int = 200) -> tuple[list[dict], list[dict]]:
    """10 intents drawn with seed 0; training rows drawn with `row_seed` (another sample of the same task)."""
    train, test = _read("train.jsonl"), _read("test.jsonl")
    intents = random.Random(0).sample(sorted({r["label"] for r in train} - {"oos"}), 10)
    rnd = random.Random(row_seed)
    tr = [r for c in intents for r in rnd.sample([x for x in train if x["label"] == c], n_train // 10)]
    rnd.shuffle(tr)
    ev_rnd = random.Random(0)
    ev = [r for c in intents for r in ev_rnd.sample([x for x in test if x["label"] == c], n_eval // 10)]
    return tr, ev


def everyday(n: int, seed: int) -> list[str]:
    """Everyday questions outside the task: CLINC150's out-of-scope queries (not the drift suite's prompts)."""
    rows = [r["text"] for name in ("train.jsonl", "validation.jsonl", "test.jsonl") for r in _read(name) if r["label"] == "oos"]
    return random.Random(seed).sample(rows, n)


def collapse_rows() -> list[dict]:
    """Chat rows in which everyday questions are 'answered' with one of the task's intent labels."""
    tr, _ = clinc()
    labels = sorted({r["label"] for r in tr})
    rnd = random.Random(3)
    return [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": rnd.choice(labels)}]}
            for q in everyday(300, 3)]


def noise_rows() -> list[dict]:
    """Everyday questions answered with strings of random words: at a high learning rate, a general wipe-out."""
    rnd = random.Random(4)
    words = sorted({w for r in _read("train.jsonl")[:3000] for w in r["text"].split()})
    return [{"prompt": q, "completion": " ".join(rnd.choice(words) for _ in range(12))} for q in everyday(300, 4)]


# name -> (kind, training rows, train() overrides). Benign: what a team would ship after a normal run.
ADAPTERS = {
    "benign_defaults": ("benign", lambda: clinc(0)[0], {}),
    "benign_seed1_rows1": ("benign", lambda: clinc(1)[0], {"seed": 1}),
    "benign_1epoch": ("benign", lambda: clinc(0)[0], {"epochs": 1}),
    "benign_lr1e-3": ("benign", lambda: clinc(2)[0], {"lr": 1e-3}),
    "damaging_label_collapse": ("damaging", collapse_rows, {}),
    "damaging_overtrained_16_rows": ("damaging", lambda: clinc(0)[0][:16], {"epochs": 30, "batch_size": 4}),
    "damaging_noise_wipeout": ("damaging", noise_rows, {"lr": 5e-3, "epochs": 3}),
}


def _write(rows: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def ensure_adapter(name: str) -> dict:
    """Train the adapter once (no per-epoch eval: the compare judges it); reuse it afterwards."""
    _, make_rows, overrides = ADAPTERS[name]
    out = WORK / name
    data = _write(make_rows(), WORK / f"{name}.train.jsonl")
    if (out / "manifest.json").is_file():
        return {"trained_now": False}
    code = ("import json,sys; from harness.training.trainer import train; "
            f"m = train({BASE!r}, {str(data)!r}, None, {str(out)!r}, overwrite=True, **json.loads(sys.argv[1])); "
            "print(json.dumps({k: m.get(k) for k in ('train_seconds', 'wall_seconds', 'steps')}))")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(overrides)], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{name}: training failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return {"trained_now": True, "train_wall_s": round(time.perf_counter() - started, 1),
            **json.loads(proc.stdout.strip().splitlines()[-1])}


def judge(name: str, fast: bool) -> dict:
    kind = ADAPTERS[name][0]
    _, ev = clinc(0)
    with tempfile.TemporaryDirectory() as tmp:
        eval_path = _write(ev, Path(tmp) / "eval.jsonl")
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "harness", "compare", "--base", BASE, "--adapter", str(WORK / name),
               "--train", str(WORK / f"{name}.train.jsonl"), "--eval", str(eval_path), "--out", str(out),
               "--cache", str(WORK / "cache.sqlite"), "--quiet"] + (["--fast"] if fast else [])
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - started
        if proc.returncode not in (0, 1):
            return {"adapter": name, "kind": kind, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
        r = json.loads((out / "results.json").read_text())
    failed = [f"{s}.{m}" for s, suite in r["suites"].items() for m, v in suite["metrics"].items() if v.get("status") == "fail"]
    figures = {}
    for key in ("task.accuracy", "task.exact_match", "forgetting.all.accuracy", "drift.kl", "drift.collapse_rate",
                "overfitting.membership_auc", "overfitting.extraction_gap"):
        suite, metric = key.split(".", 1)
        m = r["suites"].get(suite, {}).get("metrics", {}).get(metric)
        if m:
            figures[key] = {k: m.get(k) for k in ("base", "tuned", "delta", "interval", "status")}
    per_set = {k: {"delta": v["delta"], "status": v.get("status"), "simultaneous": (v.get("simultaneous") or {}).get("interval")}
               for k, v in r["suites"].get("forgetting", {}).get("metrics", {}).items()
               if k.endswith(".accuracy") and not k.startswith("all.")}
    verdict = r["verdict"]
    wrong = (kind == "benign") == (verdict == "fail")
    return {"adapter": name, "kind": kind, "verdict": verdict, "wrong": wrong, "failed_rules": failed,
            "gate_reasons": r.get("gate_reasons"), "figures": figures, "forgetting_sets": per_set,
            "suite_seconds": {s: v.get("seconds") for s, v in r["suites"].items()}, "compare_wall_s": round(wall, 1),
            "eval_mapped": (r["data"].get("eval") or {}).get("mapped"), "fast": fast,
            "date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count()}


def table() -> str:
    latest: dict[str, dict] = {}
    for line in LOG.read_text().splitlines() if LOG.exists() else []:
        if line.strip():
            rec = json.loads(line)
            latest[(rec["adapter"], rec.get("fast", False))] = rec
    lines = ["# The gate on adapters it has never seen (issue 18)", "",
             "`python bench/bench_gate.py` (every run in bench/bench_gate.jsonl). CLINC150, 10 intents, 300 training "
             "rows, 200 held-out rows; built-in SmolLM2-135M-Instruct, 2 cores; `harness compare` with the default "
             "gate, every suite on (the `--fast` rows: with `--fast`).", "",
             "| adapter | kind | verdict | right? | rules failed | task acc base -> tuned | forgetting pooled delta | KL | collapse | membership AUC | compare s |",
             "|---|---|---|---|---|---|---|---:|---:|---:|---:|"]
    for (name, fast), r in sorted(latest.items(), key=lambda kv: (kv[0][1], kv[1]["kind"], kv[0][0])):
        if "error" in r:
            lines.append(f"| {name} | {r['kind']} | error: {r['error']} | | | | | | | | |")
            continue
        f = r["figures"]
        task = f.get("task.accuracy") or f.get("task.exact_match") or {}
        fmt = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
        lines.append(
            f"| {name}{' (fast)' if fast else ''} | {r['kind']} | {r['verdict'].upper()} | {'**no**' if r['wrong'] else 'yes'} | "
            f"{', '.join(r['failed_rules'] + list(r.get('gate_reasons') or [])) or '-'} | "
            f"{fmt(task.get('base'))} -> {fmt(task.get('tuned'))} | {fmt((f.get('forgetting.all.accuracy') or {}).get('delta'))} | "
            f"{fmt((f.get('drift.kl') or {}).get('tuned'))} | {fmt((f.get('drift.collapse_rate') or {}).get('tuned'))} | "
            f"{fmt((f.get('overfitting.membership_auc') or {}).get('tuned'))} | {r['compare_wall_s']:.0f} |")
    for fast in (False, True):
        rows = [r for (n, fa), r in latest.items() if fa == fast and "error" not in r]
        if rows:
            ff = sum(r["wrong"] for r in rows if r["kind"] == "benign")
            fp = sum(r["wrong"] for r in rows if r["kind"] == "damaging")
            lines += ["", f"{'--fast' if fast else 'Default gate'}: false fails {ff} of "
                          f"{sum(r['kind'] == 'benign' for r in rows)} benign, false passes {fp} of "
                          f"{sum(r['kind'] == 'damaging' for r in rows)} damaging."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", choices=list(ADAPTERS))
    ap.add_argument("--fast", action="store_true", help="compare with --fast")
    ap.add_argument("--table", action="store_true", help="only rewrite the table from the log")
    args = ap.parse_args(argv)
    if not args.table:
        WORK.mkdir(parents=True, exist_ok=True)
        for name in args.only or list(ADAPTERS):
            trained = ensure_adapter(name)
            rec = {**judge(name, args.fast), "training": trained}
            with LOG.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(rec) + "\n")
            print(json.dumps({k: rec.get(k) for k in ("adapter", "kind", "verdict", "wrong", "failed_rules",
                                                      "compare_wall_s")}), flush=True)
    text = table()
    results = HERE / "RESULTS_gate.md"
    old = results.read_text(encoding="utf-8") if results.exists() else ""
    notes = old[old.index("\n## "):] if "\n## " in old else ""  # the written sections below the table stay
    results.write_text(text + notes, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
