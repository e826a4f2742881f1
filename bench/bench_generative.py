"""A generative fine-tune end to end with the built-in model (issue 19): structured extraction, and
replies in a house style.

The shipped extraction example (examples/orders/, chat form: a system prompt naming the keys, the
customer's message, the JSON answer) is audited; the audit's cleaning (harness/auditing/clean.py) drops the
rows it flagged; then `harness run` trains a LoRA adapter on N cleaned rows and compares it with the
base (task: JSON validity, schema match and field F1, paired, with intervals; the prompting baselines
beside it; forgetting, drift, overfitting) and gates it. A second adapter is trained on the first N
rows of the raw (uncleaned) file, the same way, and judged on the same held-out rows: does the
audit's cleaning show up in the task figures? Reported as measured, whichever way it goes.

    python bench/bench_generative.py              # both runs, 150 rows each (about 30 minutes on 2 cores)
    python bench/bench_generative.py --only clean --rows 200 --eval-rows 100
    python bench/bench_generative.py --example replies --only clean --rows 150   # examples/replies: free text

One process at a time (two torch processes on 2 cores slow each other several-fold). Every run appends
a JSON line to bench/bench_generative.jsonl; bench/RESULTS_generative.md is rewritten from the newest
line per run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "results" / "generative"
LOG = HERE / "bench_generative.jsonl"
EXAMPLES = {"orders": ROOT / "examples" / "orders", "replies": ROOT / "examples" / "replies"}
BASE = "smollm2-135m-instruct"


def _clean_dir(example: str) -> Path:
    return WORK / ("clean" if example == "orders" else f"{example}-clean")


def _audit_and_clean(example: str) -> dict:
    sys.path.insert(0, str(ROOT))
    import harness
    from harness.auditing.clean import clean

    where = EXAMPLES[example]
    audit = harness.audit(str(where / "train_chat.jsonl"), str(where / "eval_chat.jsonl"))
    summary = clean(where / "train_chat.jsonl", audit, _clean_dir(example))
    return {"raw_verdict": audit["verdict"], "kept": summary["kept"], "removed": summary["removed"],
            "by_check": summary["by_check"]}


def _first(path: Path, n: int, out: Path) -> Path:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()][:n]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")
    return out


def figures(results: dict) -> dict:
    """What a record keeps of a compare: the task and baseline figures, the per-row headline scores."""
    pick = lambda m: {k: m.get(k) for k in ("base", "tuned", "delta", "interval", "n", "status")}  # noqa: E731
    task = results["suites"]["task"]
    base_line = results["suites"].get("baselines", {})
    return {"output_kind": task.get("info", {}).get("output_kind"), "headline": task.get("info", {}).get("headline"),
            "row_scores": task.get("info", {}).get("row_scores"),
            "task": {k: pick(v) for k, v in task.get("metrics", {}).items()},
            "baselines": {k: pick(v) for k, v in base_line.get("metrics", {}).items()},
            "baselines_info": {k: base_line.get("info", {}).get(k) for k in ("prompt_tokens", "summary", "sampled")}}


def run(name: str, example: str, train: Path, rows: int, epochs: int, fast: bool, eval_rows: int | None,
        lr: float | None = None) -> dict:
    out = WORK / name
    config = {"base": BASE, "train": str(train), "eval": str(EXAMPLES[example] / "eval_chat.jsonl"), "out": str(out / "run"),
              "allow_failed_audit": True, "fast_compare": fast,
              "train_config": {"epochs": epochs, "max_seq_len": 256, **({"eval_max_rows": eval_rows} if eval_rows else {}),
                               **({"lr": lr} if lr else {})}}
    out.mkdir(parents=True, exist_ok=True)
    (out / "pipeline.yaml").write_text(json.dumps(config, indent=1), encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness", "run", str(out / "pipeline.yaml")],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        return {"run": name, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    pipe = json.loads((out / "run" / "pipeline.json").read_text())
    results = json.loads((out / "run" / "compare" / "results.json").read_text())
    return {"run": name, "example": example, "rows": rows, "lr": lr, "epochs": epochs, "fast": fast, "eval_max_rows": eval_rows, "wall_s": round(wall, 1),
            "stages": {k: v.get("seconds") for k, v in pipe["stages"].items()}, "verdict": pipe["verdict"],
            "reasons": pipe.get("reasons"), **figures(results),
            "suite_seconds": {s: v.get("seconds") for s, v in results["suites"].items()},
            "date": time.strftime("%Y-%m-%d %H:%M")}


def recompare(name: str) -> dict | None:
    """The newest record of `name` with its compare figures re-computed by the current code from the
    run's result cache (the adapter and the generations stay; the timings stay those of the run)."""
    import harness

    records = [json.loads(x) for x in LOG.read_text().splitlines() if x.strip()] if LOG.exists() else []
    old = next((r for r in reversed(records) if r.get("run") == name and "error" not in r), None)
    run_dir = WORK / name / "run"
    if old is None or not (run_dir / "adapter" / "manifest.json").is_file():
        return None
    results = harness.compare(BASE, run_dir / "adapter", WORK / name / "train.jsonl",
                              EXAMPLES[old.get("example", "orders")] / "eval_chat.jsonl",
                              cache=run_dir / "cache.sqlite", fast=old["fast"])
    return {**old, "verdict": results["verdict"], **figures(results),
            "recompared": time.strftime("%Y-%m-%d %H:%M")}


def table() -> str:
    latest: dict[str, dict] = {}
    for line in LOG.read_text().splitlines() if LOG.exists() else []:
        if line.strip():
            rec = json.loads(line)
            latest[rec["run"]] = rec
    lines = ["# Generative fine-tunes end to end (issue 19)", "",
             "`python bench/bench_generative.py [--example replies]` (every run in bench/bench_generative.jsonl): "
             "examples/orders (extraction to JSON) or examples/replies (replies in a house style) in chat form, built-in SmolLM2-135M-Instruct, 2 cores, `harness run` (audit, train, compare with every suite, "
             "gate). Task figures on the held-out rows, base -> tuned, paired delta [95% interval], n.", ""]
    fmt = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
    for name, r in latest.items():
        if "error" in r:
            lines += [f"## {name}: error", "", r["error"], ""]
            continue
        lines += [f"## {name}: examples/{r.get('example', 'orders')} ({r['rows']} training rows, {r['epochs']} epochs, "
                  f"{'lr ' + format(r['lr'], 'g') + ', ' if r.get('lr') else ''}per-epoch eval on "
                  f"{r.get('eval_max_rows') or 'the default'} rows{', --fast compare' if r['fast'] else ''})", "",
                  *([f"(Figures re-computed from the run's cache on {r['recompared']}; times are the run's.)", ""]
                    if r.get("recompared") else []),
                  f"Verdict **{r['verdict'].upper()}**; wall {r['wall_s']:.0f} s (stages: "
                  + ", ".join(f"{k} {v:.0f} s" for k, v in r["stages"].items() if v is not None) + f"); output kind {r['output_kind']}.", "",
                  "| metric | base | tuned | delta | 95% interval | n | gate |", "|---|---:|---:|---:|---|---:|---|"]
        for k, m in r["task"].items():
            iv = m.get("interval") or [None, None]
            lines.append(f"| task.{k} | {fmt(m['base'])} | {fmt(m['tuned'])} | {fmt(m['delta'])} | "
                         f"[{fmt(iv[0])}, {fmt(iv[1])}] | {m['n']} | {m.get('status')} |")
        for k, m in r["baselines"].items():
            lines.append(f"| baselines.{k} | {fmt(m['base'])} | {fmt(m['tuned'])} | {fmt(m['delta'])} | "
                         f"[{fmt((m.get('interval') or [None])[0])}, {fmt((m.get('interval') or [None, None])[1])}] | {m['n']} | {m.get('status')} |")
        if r.get("reasons"):
            lines += ["", "Reasons: " + "; ".join(r["reasons"])]
        lines += ["", "Suite seconds: " + ", ".join(f"{k} {v}" for k, v in r["suite_seconds"].items()), ""]
    lines += cleaning_effect(latest)
    return "\n".join(lines) + "\n"


def cleaning_effect(latest: dict[str, dict]) -> list[str]:
    """Clean vs raw adapters of the same size, paired on the same held-out rows (the tuned side's
    headline score per row): does the audit's cleaning show up in the task figures?"""
    sys.path.insert(0, str(ROOT))
    from harness.comparing import stats
    out = []
    for name, clean in latest.items():
        raw = latest.get(name.replace("clean-", "raw-"))
        if "clean-" not in name or raw is None or not clean.get("row_scores") or not raw.get("row_scores"):
            continue
        a, b = clean["row_scores"], raw["row_scores"]
        at = {row: v for row, v in zip(b["rows"], b["tuned"])}
        pairs = [(at[row], v) for row, v in zip(a["rows"], a["tuned"]) if row in at]
        m = stats.paired_mean_delta([float(x) for x, _ in pairs], [float(y) for _, y in pairs], seed=0)
        out += [f"## Does cleaning show up? {name} vs {name.replace('clean-', 'raw-')}", "",
                f"Tuned {clean.get('headline')} per held-out row, paired (clean minus raw): raw {m['base']:.3f}, "
                f"clean {m['tuned']:.3f}, delta {m['delta']:+.3f} [95% interval {m['interval'][0]:+.3f}, "
                f"{m['interval'][1]:+.3f}], n = {m['n']}; rows better with the clean adapter: "
                f"{sum(y > x for x, y in pairs)}, worse: {sum(y < x for x, y in pairs)}.", ""]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--example", choices=list(EXAMPLES), default="orders",
                    help="orders: extraction to JSON; replies: support replies in a house style (free text)")
    ap.add_argument("--only", action="append", choices=["clean", "raw"])
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, help="the learning rate (default: the trainer's rule for the base's size)")
    ap.add_argument("--eval-rows", type=int, default=40, help="the trainer's per-epoch eval on this many rows")
    ap.add_argument("--full", action="store_true", help="compare with the default gate's samples, not --fast")
    ap.add_argument("--recompare", action="append", default=[],
                    help="re-compute a finished run's figures with the current code, from its result cache")
    args = ap.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    if args.recompare:
        for name in args.recompare:
            rec = recompare(name)
            if rec is not None:
                with LOG.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rec) + "\n")
        args.only = []
    cleaning = _audit_and_clean(args.example) if args.only != [] else None
    print(json.dumps(cleaning), flush=True)
    sources = {"clean": _clean_dir(args.example) / "train.jsonl", "raw": EXAMPLES[args.example] / "train_chat.jsonl"}
    for source in ["clean", "raw"] if args.only is None else args.only:
        name = f"{source}-{args.rows}rows" if args.example == "orders" else f"{args.example}-{source}-{args.rows}rows"
        name += (f"-{args.epochs}ep" if args.epochs != 2 else "") + (f"-lr{args.lr:g}" if args.lr else "")
        train = _first(sources[source], args.rows, WORK / name / "train.jsonl")
        rec = {**run(name, args.example, train, args.rows, args.epochs, not args.full, args.eval_rows, args.lr),
               "cleaning": cleaning}
        with LOG.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")
        print(json.dumps({k: rec.get(k) for k in ("run", "verdict", "wall_s", "error")}), flush=True)
    text = table()
    results = HERE / "RESULTS_generative.md"
    old = results.read_text(encoding="utf-8") if results.exists() else ""
    notes = old[old.index("\n## Notes"):] if "\n## Notes" in old else ""
    results.write_text(text + notes, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
