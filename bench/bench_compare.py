"""Scoring base and tuned on the forgetting probe sets: this harness against lm-evaluation-harness, side by
side in one run, on the built-in model.

    pip install -e ".[bench]"   # lm-eval among others
    python bench/bench_compare.py --adapter ADAPTER_DIR [--probes knowledge,arithmetic] [--limit N]

Ours: `harness.compare(..., suites=["forgetting"])` with an empty cache (one load, both sides through the
adapter toggle). lm-eval: the same items as local JSONL tasks (`dataset_path: json`, multiple_choice,
target delimiter " "), once for the base and once with `peft=ADAPTER`, each in its own process as a
user would run it. Each side runs in its own process; printed: wall time, items/s, peak RSS, and
per-item agreement of the chosen answer (acc) for base and tuned.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TASK_YAML = """task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {path}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{context}}}}"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: "{{{{answer}}}}"
target_delimiter: " "
metric_list:
  - metric: acc
  - metric: acc_norm
"""


def run_ours(args) -> dict:
    from harness.comparing.comparison import compare
    from harness.comparing.paired import Pair
    from harness.model.scoring import pad_token_id, continuation_tokens, score_items
    from harness.suites.forgetting import probe_sets, read_probe_set

    cache = Path(args.work) / "ours-cache.sqlite"
    cache.unlink(missing_ok=True)
    policy = {"suites": {"forgetting": {"params": {"probes": args.probes.split(","), "max_items": args.limit}}}}
    t0 = time.perf_counter()
    res = compare(args.base, args.adapter, policy=policy, suites=["forgetting"], cache=cache)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Per-item choices, read back from the cache the run filled (all hits: nothing is scored again).
    pair = Pair(args.base, args.adapter, cache=cache)
    picks = {}
    for name, path in probe_sets().items():
        if name not in args.probes.split(","):
            continue
        items = read_probe_set(path)[:args.limit]
        keyed = [list(continuation_tokens(pair.tokenizer, it["context"], [" " + c for c in it["choices"]])) for it in items]
        got = pair.both("forgetting:1", "mc_text", keyed, keyed,
                        lambda m, its: score_items(m, [(p, r, None) for p, r in its], pad_token_id(pair.tokenizer)))
        picks[name] = {side: [max(range(len(s)), key=s.__getitem__) for s in got[side]] for side in got}
    assert pair.cache.misses == 0, "the read-back should come from the cache"
    acc = {k: {m: v["tuned"] for m, v in res["suites"]["forgetting"]["metrics"].items() if m.startswith(k + ".")}
           for k in picks}
    return {"wall_s": wall, "peak_rss_mb": peak, "picks": picks, "acc": acc}


def run_lm_eval(args, which: str) -> dict:
    import lm_eval
    from lm_eval.tasks import TaskManager

    from harness.model.loading import ensure_builtin

    tasks_dir = Path(args.work) / "lm_eval_tasks"
    tasks_dir.mkdir(exist_ok=True)
    names = []
    for name in args.probes.split(","):
        src = ROOT / "suites" / "probes" / f"{name}.jsonl"
        rows = [json.loads(line) for line in src.read_text().splitlines() if line.strip()][:args.limit]
        data = tasks_dir / f"{name}.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
        (tasks_dir / f"harness_{name}.yaml").write_text(TASK_YAML.format(name=f"harness_{name}", path=data))
        names.append(f"harness_{name}")
    model_dir = ensure_builtin(args.base) if args.base == "smollm2-135m-instruct" else Path(args.base)
    model_args = f"pretrained={model_dir},dtype=float32" + (f",peft={args.adapter}" if which == "tuned" else "")
    t0 = time.perf_counter()
    out = lm_eval.simple_evaluate(model="hf", model_args=model_args, tasks=names, batch_size=args.batch_size,
                                  device="cpu", log_samples=True, task_manager=TaskManager(include_path=str(tasks_dir)))
    wall = time.perf_counter() - t0
    picks = {}
    for task in names:
        samples = sorted(out["samples"][task], key=lambda s: s["doc_id"])
        picks[task.removeprefix("harness_")] = [
            max(range(len(s["filtered_resps"])), key=lambda i: s["filtered_resps"][i][0]) for s in samples]
    return {"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "picks": picks,
            "acc": {t.removeprefix("harness_"): out["results"][t]["acc,none"] for t in names}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--which", choices=["ours", "lm_eval_base", "lm_eval_tuned"])
    ap.add_argument("--base", default="smollm2-135m-instruct")
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--probes", default="knowledge,arithmetic,commonsense,reading,instructions")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    args.work = args.work or tempfile.mkdtemp(prefix="bench-compare-")
    if args.which:
        res = run_ours(args) if args.which == "ours" else run_lm_eval(args, args.which.rsplit("_", 1)[1])
        print("RESULT " + json.dumps(res))
        return
    res = {}
    for which in ("ours", "lm_eval_base", "lm_eval_tuned"):
        cmd = [sys.executable, __file__, "--which", which, "--base", args.base, "--adapter", args.adapter, "--probes",
               args.probes, "--limit", str(args.limit), "--batch-size", str(args.batch_size), "--work", args.work]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**__import__("os").environ,
                                                                        "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"})
        line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode != 0 or not line:
            print(which, "failed:", (proc.stderr.strip().splitlines() or ["?"])[-1])
            return
        res[which] = json.loads(line[-1][7:])
    n = sum(len(v) for v in res["lm_eval_base"]["picks"].values())
    ours, lb, lt = res["ours"], res["lm_eval_base"], res["lm_eval_tuned"]
    lm_wall = lb["wall_s"] + lt["wall_s"]
    print(f"{n} probe items x 2 sides ({args.probes}), base {args.base}, adapter {args.adapter}")
    print(f"harness   wall {ours['wall_s']:7.1f} s  items/s {2 * n / ours['wall_s']:6.2f}  peak RSS {ours['peak_rss_mb']:6.0f} MB")
    print(f"lm-eval   wall {lm_wall:7.1f} s  items/s {2 * n / lm_wall:6.2f}  peak RSS "
          f"{max(lb['peak_rss_mb'], lt['peak_rss_mb']):6.0f} MB  (base {lb['wall_s']:.1f} s + peft {lt['wall_s']:.1f} s)")
    print(f"speed-up (lm-eval's two runs / harness): {lm_wall / ours['wall_s']:.2f}x")
    for side, theirs in (("base", lb), ("tuned", lt)):
        same = total = 0
        for probe, picks in theirs["picks"].items():
            mine = ours["picks"][probe][side]
            same += sum(a == b for a, b in zip(mine, picks))
            total += len(picks)
        print(f"per-item agreement ({side}): {same}/{total} = {same / total:.2%}")
    for probe in lb["acc"]:
        print(f"  {probe}: acc base lm-eval {lb['acc'][probe]:.3f}, tuned lm-eval {lt['acc'][probe]:.3f}, "
              f"tuned harness {ours['acc'][probe].get(probe + '.accuracy', float('nan')):.3f}")


if __name__ == "__main__":
    main()
