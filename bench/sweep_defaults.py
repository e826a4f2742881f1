"""The sweep behind the trainer's defaults (issue 17): `harness train` with only base, train and eval
given, except for the settings under test, on two small classification sets a user would start from,
300 training rows each, on the built-in model:

- tickets: the shipped ticket example with its planted defects removed (8 labels; eval: its eval rows
  that are not planted leaks);
- clinc10: 10 intents of CLINC150 drawn with a seed from ../shared/data/real/clinc150 (30 train rows
  each from train.jsonl, 10 eval rows each from test.jsonl).

    python bench/sweep_defaults.py                        # every config on both sets
    python bench/sweep_defaults.py --only lr1e-3_r16_all  # one config
    python bench/sweep_defaults.py --eval-rows 100        # eval rows per set

Each run is its own process (one at a time: two on 2 cores slow each other). Per-epoch eval accuracy
is read from the adapter's manifest, so a 3-epoch run also says where epochs 1 and 2 stood (under the
3-epoch schedule). Appends one JSON line per run to bench/sweep_defaults.jsonl and rewrites the table
in bench/RESULTS_defaults.md from every line there."""

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
sys.path.insert(0, str(ROOT))
REAL = Path(os.environ.get("HARNESS_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))
LOG = HERE / "sweep_defaults.jsonl"

ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
CONFIGS = {  # name -> train config overrides (everything else: the trainer's defaults at run time)
    "lr2e-4_r8_qv": {"lr": 2e-4, "lora_r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"]},
    "lr1e-3_r8_qv": {"lr": 1e-3, "lora_r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"]},
    "lr1e-3_r16_all": {"lr": 1e-3, "lora_r": 16, "lora_alpha": 32, "target_modules": ALL_LINEAR},
    "lr1e-3_r16_qkvo": {"lr": 1e-3, "lora_r": 16, "lora_alpha": 32,
                        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]},
    "lr5e-4_r16_all": {"lr": 5e-4, "lora_r": 16, "lora_alpha": 32, "target_modules": ALL_LINEAR},
    "defaults": {},
    "defaults_qkvo": {"target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]},
    "defaults_3ep": {"epochs": 3},
    "defaults_lr2e-3": {"lr": 2e-3},
    "defaults_lr2e-3_qkvo": {"lr": 2e-3, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]},
}


def tickets(n_train: int, n_eval: int) -> tuple[list[dict], list[dict]]:
    from acceptance_train import clean_rows

    truth = json.loads((ROOT / "examples" / "tickets" / "truth.json").read_text())
    leaked = {leak["eval_line"] for leak in truth["leaks"]}
    ev = [json.loads(line) for i, line in enumerate((ROOT / "examples" / "tickets" / "eval.jsonl").read_text().splitlines(), 1)
          if i not in leaked]
    return clean_rows(n_train), random.Random(0).sample(ev, min(n_eval, len(ev)))


def clinc10(n_train: int, n_eval: int, seed: int = 0) -> tuple[list[dict], list[dict]]:
    def read(name: str) -> list[dict]:
        return [json.loads(line) for line in (REAL / "clinc150" / name).read_text().splitlines() if line.strip()]

    train, test = read("train.jsonl"), read("test.jsonl")
    rnd = random.Random(seed)
    intents = rnd.sample(sorted({r["label"] for r in train} - {"oos"}), 10)
    per_train, per_eval = n_train // 10, n_eval // 10
    tr = [r for c in intents for r in rnd.sample([x for x in train if x["label"] == c], per_train)]
    ev = [r for c in intents for r in rnd.sample([x for x in test if x["label"] == c], per_eval)]
    rnd.shuffle(tr)
    return tr, ev


SETS = {"tickets": tickets, "clinc10": clinc10}


def run_one(dataset: str, name: str, overrides: dict, n_train: int, n_eval: int, epochs: int | None) -> dict:
    train, ev = SETS[dataset](n_train, n_eval)
    with tempfile.TemporaryDirectory() as tmp:
        t, e = Path(tmp, "train.jsonl"), Path(tmp, "eval.jsonl")
        t.write_text("".join(json.dumps(r) + "\n" for r in train))
        e.write_text("".join(json.dumps(r) + "\n" for r in ev))
        args = {**overrides, **({"epochs": epochs} if epochs else {})}
        code = ("import json,sys; from harness.training.trainer import train; "
                f"m = train('smollm2-135m-instruct', {str(t)!r}, {str(e)!r}, {str(Path(tmp, 'adapter'))!r}, **json.loads(sys.argv[1])); "
                "print(json.dumps({k: m.get(k) for k in ('evals', 'train_seconds', 'wall_seconds', 'config', 'steps', 'chosen')}))")
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - started
    if proc.returncode != 0:
        return {"dataset": dataset, "config": name, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"dataset": dataset, "config": name, "overrides": overrides, "train_rows": len(train), "eval_rows": len(ev),
            "labels": len({r["label"] for r in train}), "process_wall_s": round(wall, 1),
            "train_s": m["train_seconds"], "eval_s": round(sum(x.get("eval_seconds", 0) for x in m["evals"]), 1),
            "accuracy_by_epoch": [x.get("eval_accuracy") for x in m["evals"]],
            "loss_by_epoch": [x.get("eval_loss") for x in m["evals"]], "steps": m["steps"],
            "resolved": {k: m["config"][k] for k in ("lr", "lora_r", "lora_alpha", "target_modules", "epochs")},
            "chosen": m.get("chosen"), "date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count()}


def table() -> str:
    runs = [json.loads(line) for line in LOG.read_text().splitlines() if line.strip()] if LOG.exists() else []
    lines = ["# Trainer defaults: the sweep (issue 17)", "",
             "`python bench/sweep_defaults.py` (bench/sweep_defaults.jsonl holds every run). Built-in model "
             "(SmolLM2-135M-Instruct, fp32), 2 cores, 300 train rows; accuracy = held-out label accuracy by "
             "option log-likelihood after each epoch (of a run of that many epochs in all); wall = the whole "
             "`train` process (model load, training, per-epoch eval, adapter save and check).", "",
             "| set | config | lr | r / alpha | targets | epochs | accuracy by epoch | train s | eval s | wall s |",
             "|---|---|---:|---|---|---:|---|---:|---:|---:|"]
    for r in runs:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['config']} | error: {r['error']} | | | | | | | |")
            continue
        c = r["resolved"]
        targets = "all linear" if c["target_modules"] and len(c["target_modules"]) == 7 else ",".join(
            t.replace("_proj", "") for t in (c["target_modules"] or ["(model default)"]))
        acc = " / ".join(f"{a:.2f}" if a is not None else "-" for a in r["accuracy_by_epoch"])
        lines.append(f"| {r['dataset']} ({r['train_rows']}/{r['eval_rows']}, {r['labels']} labels) | {r['config']} | "
                     f"{c['lr']:g} | {c['lora_r']} / {c['lora_alpha']} | {targets} | {c['epochs']} | {acc} | "
                     f"{r['train_s']:.0f} | {r['eval_s']:.0f} | {r['process_wall_s']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", choices=list(CONFIGS))
    ap.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    ap.add_argument("--train-rows", type=int, default=300)
    ap.add_argument("--eval-rows", type=int, default=200)
    ap.add_argument("--epochs", type=int, help="override the epochs of every config")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    for name in args.only or list(CONFIGS):
        for dataset in args.sets:
            out = run_one(dataset, name, CONFIGS[name], args.train_rows, args.eval_rows, args.epochs)
            print(json.dumps(out), flush=True)
            with open(LOG, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(out) + "\n")
            (HERE / "RESULTS_defaults.md").write_text(table())
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
