"""The Spark engine past the driver (issue 31.6): the whole audit in Spark's `local-cluster` mode
(separate executor JVMs, as on a cluster) with the driver's heap capped, on a generated set much larger
than the driver could hold; then, on a sample that fits both engines, the in-process and Spark audits
compared finding by finding.

    python bench/bench_spark_cluster.py --rows 3000000 --sample-rows 200000

Rows come from bench/bench_data.py (diverse ~25-word rows with planted near copies, leaks and label
flips; 5000 eval rows). The sample is the first --sample-rows rows of the same file, with the same eval
rows. Memory is sampled every 0.5 s per process group: the driver's Python process, the driver JVM
(which in local-cluster mode also hosts the master and worker daemons) and the executor JVMs with their
Python workers. Writes bench/RESULTS_spark_cluster.md. Needs the spark extra and Java 17+.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def child(engine: str, data: Path, out: Path, master: str, driver_memory: str, executor_memory: str) -> None:
    import harness
    from harness.auditing.policy import load_policy

    pol = load_policy(None)
    pol["engine"] = engine
    events = data / f"spark_events_{out.stem}"
    if engine == "spark":
        shutil.rmtree(events, ignore_errors=True)
        events.mkdir()
        pol["spark"].update(master=master, driver_memory=driver_memory, shuffle_partitions=32,
                            conf={"spark.executor.memory": executor_memory,
                                  "spark.eventLog.enabled": "true", "spark.eventLog.dir": events.as_uri(),
                                  "spark.eventLog.compress": "false"})
    t0 = time.perf_counter()
    result = harness.audit(str(data / "train.jsonl"), str(data / "eval.jsonl"), pol)
    result["bench_wall_s"] = time.perf_counter() - t0
    if engine == "spark":
        from pyspark.sql import SparkSession

        from bench_spark import spark_io

        spark = SparkSession.builder.getOrCreate()
        sc = spark.sparkContext
        result["bench_driver_heap_gb"] = sc._jvm.java.lang.Runtime.getRuntime().maxMemory() / 2**30
        result["bench_executors"] = sc._jsc.sc().getExecutorMemoryStatus().size() - 1   # minus the driver
        result["bench_master"] = sc.master
        spark.stop()  # flushes the event log
        result["bench_spark_io"] = spark_io(events)
    out.write_text(json.dumps(result))


def groups(pid: int) -> dict[str, int]:
    """Resident memory of the process tree under `pid`, by role."""
    import psutil

    got = {"driver_python": 0, "driver_jvm": 0, "executors": 0, "other": 0}
    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return got
    executor_tree: set[int] = set()
    for p in procs:
        try:
            if "CoarseGrainedExecutorBackend" in " ".join(p.cmdline()):
                executor_tree |= {p.pid} | {c.pid for c in p.children(recursive=True)}
        except psutil.NoSuchProcess:
            pass
    for p in procs:
        try:
            rss = p.memory_info().rss
            cmd = " ".join(p.cmdline())
        except psutil.NoSuchProcess:
            continue
        if p.pid == pid:
            got["driver_python"] += rss
        elif p.pid in executor_tree:
            got["executors"] += rss
        elif "SparkSubmit" in cmd or "pyspark-shell" in cmd:
            got["driver_jvm"] += rss
        else:
            got["other"] += rss   # the driver's own Python helpers, if any
    return got


def measure(engine: str, data: Path, args) -> dict:
    out = data / f"audit_{engine}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--child", engine, "--data", str(data), "--out", str(out),
           "--master", args.master, "--driver-memory", args.driver_memory, "--executor-memory", args.executor_memory]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak: dict[str, int] = {}

    def watch():
        while proc.poll() is None:
            now = groups(proc.pid)
            now["total"] = sum(now.values())
            for k, v in now.items():
                peak[k] = max(peak.get(k, 0), v)
            time.sleep(0.5)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    _, err = proc.communicate()
    t.join()
    wall = time.perf_counter() - t0
    peak_gb = {k: round(v / 2**30, 2) for k, v in peak.items()}
    if proc.returncode != 0 or not out.exists():
        return {"error": err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}",
                "wall_s": wall, "peak_gb": peak_gb}
    return {"wall_s": wall, "peak_gb": peak_gb, "result": json.loads(out.read_text())}


def compare(a: dict, b: dict) -> list[tuple[str, bool, int, str]]:
    """(check, same, findings, what differs) for every check: status, summary and every finding."""
    rows = []
    for ca, cb in zip(a["checks"], b["checks"]):
        differs = [k for k in ("status", "summary", "findings") if ca[k] != cb[k]]
        rows.append((ca["check"], not differs, len(ca["findings"]), ", ".join(differs)))
    return rows


def ensure_orders(rows: int, work: Path) -> Path:
    """Generative rows: support messages -> order fields as JSON (examples/make_orders.py's generator), the
    shipped planted set (examples/orders: minority formats, cut-off JSON, unsupported values, boilerplate,
    label-like conflicts) first, then `rows` more from the generator; its eval rows."""
    import random

    sys.path.insert(0, str(ROOT / "examples"))
    import make_orders

    out = work / f"orders_{rows}"
    if (out / "eval.jsonl").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    shipped = ROOT / "examples" / "orders"
    rnd = random.Random(31)
    with open(out / "train.tmp", "w") as f:
        f.write((shipped / "train.jsonl").read_text())
        for _ in range(rows):
            text, answer = make_orders.natural_row(rnd)
            f.write(json.dumps({"prompt": text, "completion": make_orders.as_json(answer)}) + "\n")
    os.replace(out / "train.tmp", out / "train.jsonl")
    shutil.copy(shipped / "eval.jsonl", out / "eval.jsonl")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", choices=["inprocess", "spark"])
    ap.add_argument("--data", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--style", choices=["classification", "orders"], default="classification",
                    help="bench/bench_data.py's classification rows, or generative extraction rows (order fields as JSON)")
    ap.add_argument("--sample-rows", type=int, default=200_000)
    ap.add_argument("--master", default="local-cluster[2,1,4096]", help="local-cluster[executors, cores each, MB each]")
    ap.add_argument("--driver-memory", default="1g")
    ap.add_argument("--executor-memory", default="4g")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--skip-full", action="store_true",
                    help="only the sample comparison (the whole-set figures already in the results file are kept)")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.data, args.out, args.master, args.driver_memory, args.executor_memory)
        return
    from bench_audit import ensure_data

    big = ensure_data(args.rows, args.work) if args.style == "classification" else ensure_orders(args.rows, args.work)
    sample = args.work / f"{big.name}_sample_{args.sample_rows}"
    if args.style == "orders" and not (sample / "eval.jsonl").exists():
        # The first rows: the shipped planted set's rows come first in the file.
        sample.mkdir(parents=True, exist_ok=True)
        with open(big / "train.jsonl") as src, open(sample / "train.jsonl", "w") as dst:
            dst.writelines(line for i, line in zip(range(args.sample_rows), src))
        shutil.copy(big / "eval.jsonl", sample / "eval.jsonl")
    if not (sample / "eval.jsonl").exists():
        # The first rows, the planted near and exact copies of those rows (appended at the end of the
        # file by bench_data) and the planted leaks: a sample with every kind of finding in it.
        truth = json.loads((big / "truth.json").read_text())
        keep = set(range(1, args.sample_rows + 1))
        keep |= {b for kind in ("near_duplicates", "exact_duplicates") for a, b in truth[kind] if a <= args.sample_rows}
        keep |= {leak["train_line"] for leak in truth["leaks"]}
        sample.mkdir(parents=True, exist_ok=True)
        with open(big / "train.jsonl") as src, open(sample / "train.jsonl", "w") as dst:
            dst.writelines(line for i, line in enumerate(src, start=1) if i in keep)
        shutil.copy(big / "eval.jsonl", sample / "eval.jsonl")
    sample_rows = sum(1 for _ in open(sample / "train.jsonl"))
    size_gb = (big / "train.jsonl").stat().st_size / 2**30
    print(f"machine: {os.cpu_count()} cores; master {args.master}, driver heap {args.driver_memory}, "
          f"executors {args.executor_memory}; train file {size_gb:.2f} GB", flush=True)
    rows_from = ("Rows from bench/bench_data.py (~25-word rows, planted near copies, leaks and label flips) plus "
                 "5,000 eval rows." if args.style == "classification" else
                 "Generative rows: support messages -> order fields as JSON (examples/make_orders.py's generator), the "
                 "shipped planted set examples/orders first (minority formats, cut-off JSON, values not in the "
                 "message, boilerplate), its 150 eval rows.")
    lines = ["# The Spark engine past the driver: local-cluster mode, the driver capped", "",
             f"`python bench/bench_spark_cluster.py --rows {args.rows} --sample-rows {args.sample_rows}"
             f"{' --style orders' if args.style == 'orders' else ''}` on "
             f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}: master `{args.master}` (separate executor "
             f"JVMs), `spark.driver.memory={args.driver_memory}`, `spark.executor.memory={args.executor_memory}`, "
             f"default policy, every check on. {rows_from} Peak resident memory per role, sampled every 0.5 s.", ""]
    results = ROOT / "bench" / ("RESULTS_spark_cluster.md" if args.style == "classification" else "RESULTS_spark_cluster_orders.md")
    if args.skip_full and results.exists() and "## The whole audit" in results.read_text():
        # The whole-set run kept from the last time; only the comparison is measured again.
        kept = results.read_text().split("## Same findings")[0].rstrip("\n").splitlines()
        lines = kept + [""]
    elif not args.skip_full:
        r = measure("spark", big, args)
        print(json.dumps({k: v for k, v in r.items() if k != "result"}), flush=True)
        lines += [f"## The whole audit on {args.rows:,} rows ({size_gb:.2f} GB of JSONL)", ""]
        if "error" in r:
            lines += [f"Failed after {r['wall_s']:.0f} s: {r['error']} (peaks {r['peak_gb']})", ""]
        else:
            res = r["result"]
            io = res.get("bench_spark_io", {})
            lines += ["| wall s | driver heap cap (JVM max) | driver JVM peak RSS GB | driver Python peak GB | "
                      "executors peak GB (JVMs + Python workers) | executors | shuffle written GB | spilled GB |",
                      "|---:|---:|---:|---:|---:|---:|---:|---:|",
                      f"| {r['wall_s']:.0f} | {res['bench_driver_heap_gb']:.2f} GB | {r['peak_gb'].get('driver_jvm', 0)} | "
                      f"{r['peak_gb'].get('driver_python', 0)} | {r['peak_gb'].get('executors', 0)} | "
                      f"{res['bench_executors']} | {io.get('shuffle_write_gb')} | "
                      f"{round(io.get('disk_spill_gb', 0) + io.get('memory_spill_gb', 0), 2)} |", "",
                      "| check | status | seconds | findings | key figures |", "|---|---|---:|---:|---|"]
            lines += [f"| {c['check']} | {c['status']} | {c['seconds']:.0f} | {len(c['findings'])} | "
                      f"{ {k: c['summary'].get(k) for k in c.get('key_figures', [])} } |" for c in res["checks"]]
            lines.append("")
    runs = {e: measure(e, sample, args) for e in ("inprocess", "spark")}
    for e, r in runs.items():
        print(e, json.dumps({k: v for k, v in r.items() if k != "result"}), flush=True)
    lines += [f"## Same findings on a sample that fits both: {sample_rows:,} rows (the first {args.sample_rows:,}"
              + (", the planted copies of those and the planted leaks" if args.style == "classification" else
                 ", the planted set among them") + "), the same eval rows", ""]
    if all("result" in r for r in runs.values()):
        rows = compare(runs["inprocess"]["result"], runs["spark"]["result"])
        same = sum(1 for _, ok, _, _ in rows if ok)
        lines += [f"In-process {runs['inprocess']['wall_s']:.0f} s, peak {runs['inprocess']['peak_gb'].get('total')} GB; "
                  f"Spark local-cluster {runs['spark']['wall_s']:.0f} s. Status, summary and every finding equal "
                  f"in {same} of {len(rows)} checks.", "",
                  "| check | identical | findings | differs in |", "|---|---|---:|---|"]
        lines += [f"| {c} | {'yes' if ok else 'no'} | {n} | {d} |" for c, ok, n, d in rows]
    else:
        lines += [f"{e}: {r.get('error')}" for e, r in runs.items() if "error" in r]
    text = "\n".join(lines) + "\n"
    print(text)
    results.write_text(text)


if __name__ == "__main__":
    main()
