"""The whole audit in-process vs on Spark (local mode), side by side on the same rows.

    python bench/bench_spark.py                         # 1M rows
    python bench/bench_spark.py --sizes 1000000,5000000 --master 'local[2]'

Rows come from bench/bench_data.py (diverse ~25-word rows with planted near copies, leaks and label
flips; 5000 eval rows). Each engine runs in its own process; peak memory is the whole process tree's
resident memory, sampled every 0.5 s (the JVM and the Python workers included for Spark). An in-process
run that would not fit is stopped at --mem-limit-gb and reported as such. The two results are compared
check by check (status, summary, number of findings). Needs the spark extra and Java 17+.
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


def child(engine: str, data: Path, master: str, out: Path) -> None:
    import harness
    from harness.auditing.policy import load_policy

    pol = load_policy(None)
    pol["engine"] = engine
    events = data / "spark_events"
    if engine == "spark":  # Spark's event log, for the shuffle and spill totals the projection needs
        shutil.rmtree(events, ignore_errors=True)
        events.mkdir()
        pol["spark"].update(master=master, driver_memory="6g", shuffle_partitions=32,
                            conf={"spark.eventLog.enabled": "true", "spark.eventLog.dir": events.as_uri(),
                                  "spark.eventLog.compress": "false"})
    t0 = time.perf_counter()
    result = harness.audit(str(data / "train.jsonl"), str(data / "eval.jsonl"), pol)
    result["bench_wall_s"] = time.perf_counter() - t0
    if engine == "spark":
        from pyspark.sql import SparkSession

        SparkSession.builder.getOrCreate().stop()  # flushes the event log
        result["bench_spark_io"] = spark_io(events)
    out.write_text(json.dumps(result))


def spark_io(events: Path) -> dict:
    """Totals over every task in the event log: shuffle bytes written and read, bytes spilled to disk
    and memory, task time; plus the largest single stage's shuffle write."""
    tot = {"shuffle_write_gb": 0.0, "shuffle_read_gb": 0.0, "disk_spill_gb": 0.0, "memory_spill_gb": 0.0,
           "task_core_s": 0.0, "tasks": 0}
    per_stage: dict[int, float] = {}
    for f in (p for p in events.rglob("*") if p.is_file()):  # Spark 4 writes a rolling directory per app
        with open(f) as fh:
            for line in fh:
                if '"SparkListenerTaskEnd"' not in line:
                    continue
                ev = json.loads(line)
                m = ev.get("Task Metrics") or {}
                w = (m.get("Shuffle Write Metrics") or {}).get("Shuffle Bytes Written", 0)
                r = m.get("Shuffle Read Metrics") or {}
                tot["shuffle_write_gb"] += w / 2**30
                tot["shuffle_read_gb"] += (r.get("Remote Bytes Read", 0) + r.get("Local Bytes Read", 0)) / 2**30
                tot["disk_spill_gb"] += m.get("Disk Bytes Spilled", 0) / 2**30
                tot["memory_spill_gb"] += m.get("Memory Bytes Spilled", 0) / 2**30
                tot["task_core_s"] += m.get("Executor Run Time", 0) / 1000
                tot["tasks"] += 1
                per_stage[ev.get("Stage ID", -1)] = per_stage.get(ev.get("Stage ID", -1), 0.0) + w / 2**30
    tot["largest_stage_shuffle_write_gb"] = max(per_stage.values(), default=0.0)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in tot.items()}


def tree_rss(pid: int) -> int:
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p] + p.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measure(engine: str, data: Path, master: str, timeout: int, mem_limit_gb: float) -> dict:
    out = data / f"audit_{engine}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--child", engine, "--data", str(data), "--master", master, "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]
    killed = [None]

    def watch():
        while proc.poll() is None:
            rss = tree_rss(proc.pid)
            peak[0] = max(peak[0], rss)
            if rss > mem_limit_gb * 2**30 and killed[0] is None:
                killed[0] = f"stopped: the process tree passed {mem_limit_gb:g} GB"
                import psutil

                for q in psutil.Process(proc.pid).children(recursive=True) + [psutil.Process(proc.pid)]:
                    q.kill()
            if time.perf_counter() - t0 > timeout and killed[0] is None:
                killed[0] = f"stopped: over {timeout} s"
                proc.kill()
            time.sleep(0.5)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    _, err = proc.communicate()
    t.join()
    wall = time.perf_counter() - t0
    if killed[0] or proc.returncode != 0 or not out.exists():
        return {"error": killed[0] or (err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"),
                "wall_s": wall, "peak_gb": peak[0] / 2**30}
    result = json.loads(out.read_text())
    return {"wall_s": wall, "audit_s": result["bench_wall_s"], "peak_gb": peak[0] / 2**30, "result": result}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", choices=["inprocess", "spark"])
    ap.add_argument("--data", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--sizes", default="1000000")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--timeout", type=int, default=5400)
    ap.add_argument("--mem-limit-gb", type=float, default=20.0)
    ap.add_argument("--engines", default="inprocess,spark")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.data, args.master, args.out)
        return
    from bench_audit import ensure_data

    print(f"machine: {os.cpu_count()} cores; Spark master {args.master}")
    print(f"{'rows':>9s} {'engine':>10s} {'wall s':>8s} {'peak GB':>8s}  notes")
    for n in [int(x) for x in args.sizes.split(",")]:
        t0 = time.perf_counter()
        data = ensure_data(n, args.work)
        if time.perf_counter() - t0 > 1:
            print(f"{n:9d} (data generated in {time.perf_counter() - t0:.0f} s)")
        runs = {}
        for engine in args.engines.split(","):
            r = measure(engine, data, args.master, args.timeout, args.mem_limit_gb)
            runs[engine] = r
            if "error" in r:
                print(f"{n:9d} {engine:>10s} {r['wall_s']:8.1f} {r['peak_gb']:8.2f}  {r['error']}", flush=True)
                continue
            slow = sorted(((c["check"], c["seconds"]) for c in r["result"]["checks"]), key=lambda kv: -kv[1])[:3]
            print(f"{n:9d} {engine:>10s} {r['wall_s']:8.1f} {r['peak_gb']:8.2f}  "
                  + ", ".join(f"{k} {v:.0f}s" for k, v in slow), flush=True)
        if all("result" in r for r in runs.values()) and len(runs) == 2:
            a, b = runs["inprocess"]["result"], runs["spark"]["result"]
            same = [ca["check"] for ca, cb in zip(a["checks"], b["checks"])
                    if (ca["status"], ca["summary"], len(ca["findings"])) == (cb["status"], cb["summary"], len(cb["findings"]))]
            differ = [c["check"] for c in a["checks"] if c["check"] not in same]
            print(f"{'':9s} spark / in-process: wall {runs['spark']['wall_s'] / runs['inprocess']['wall_s']:.2f}x, "
                  f"peak memory {runs['spark']['peak_gb'] / runs['inprocess']['peak_gb']:.2f}x; same status, summary "
                  f"and finding count: {len(same)}/{len(a['checks'])} checks" + (f" (differ: {', '.join(differ)})"
                                                                                   if differ else ""), flush=True)


if __name__ == "__main__":
    main()
