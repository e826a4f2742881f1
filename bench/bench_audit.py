"""Audit benchmark: our near-duplicate engine, datasketch and rensa on the same rows; our confident
learning and cleanlab's on the same out-of-fold probabilities; the whole audit at several sizes.

    python bench/bench_audit.py                  # 200k rows + scaling at 50k, 100k, 200k
    python bench/bench_audit.py --sizes 50000,100000,200000,1000000

Each measurement runs in its own process, so its wall time and peak memory (ru_maxrss, including
the interpreter and the loaded rows) are its own. Peers get the same normalised texts, the same
threshold (Jaccard 0.6) and 128 permutations; they are run with word 5-gram shingles (text-dedup's
default) and with the character 5-grams we use. Needs the bench extra: pip install -e ".[bench]".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
THRESHOLD = 0.6


def load(data: Path):
    from harness.core.text import normalize_loose

    rows = [json.loads(line) for line in open(data / "train.jsonl", encoding="utf-8")]
    truth = json.loads((data / "truth.json").read_text())
    return [normalize_loose(r["text"]) for r in rows], rows, truth


def shingles(text: str, kind: str) -> list[str]:
    if kind == "word5":
        w = text.split()
        return [" ".join(w[i:i + 5]) for i in range(max(1, len(w) - 4))]
    return [text[i:i + 5] for i in range(max(1, len(text) - 4))]


def components(n: int, edges) -> list[int]:
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1].tolist()


def score_near(n: int, edges, truth) -> dict:
    comp = components(n, edges)
    pairs = truth["near_duplicates"]
    found = sum(1 for a, b in pairs if comp[a - 1] == comp[b - 1])
    planted = {x - 1 for key in ("near_duplicates", "exact_duplicates") for p in truth[key] for x in p}
    sizes: dict[int, int] = {}
    for c in comp:
        sizes[c] = sizes.get(c, 0) + 1
    flagged = {i for i, c in enumerate(comp) if sizes[c] > 1}
    return {"recall": found / len(pairs), "precision": len(flagged & planted) / len(flagged) if flagged else 1.0}


def verified_edges(lsh, hashes) -> list[tuple[int, int]]:
    """Query every row, keep candidates whose MinHash estimate passes the threshold (how both peers'
    docs verify LSH candidates)."""
    return [(i, j) for i, m in enumerate(hashes) for j in lsh.query(m) if j > i and m.jaccard(hashes[j]) >= THRESHOLD]


def stage_ours_near(data: Path) -> dict:
    from harness.auditing.similarity import similar_pairs

    texts, _rows, truth = load(data)
    t0 = time.perf_counter()
    distinct: dict[str, int] = {}
    ids = [distinct.setdefault(t, len(distinct)) for t in texts]
    res = similar_pairs(list(distinct), THRESHOLD)
    first: dict[int, int] = {}
    edges = [(first.setdefault(d, i), i) for i, d in enumerate(ids)]  # identical texts
    edges += [(first[a], first[b]) for a, b in res.pairs.tolist()]
    wall = time.perf_counter() - t0
    return {"wall_s": wall, **score_near(len(texts), edges, truth), "candidates": res.stats["band_candidates"]}


def stage_datasketch(data: Path, kind: str) -> dict:
    import numpy as np
    from datasketch import MinHash, MinHashLSH

    texts, _rows, truth = load(data)
    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=128)
    hashes = MinHash.bulk([[s.encode() for s in shingles(t, kind)] for t in texts], num_perm=128)
    with lsh.insertion_session() as session:
        for i, m in enumerate(hashes):
            session.insert(i, m)
    edges = verified_edges(lsh, hashes)
    wall = time.perf_counter() - t0
    del np
    return {"wall_s": wall, **score_near(len(texts), edges, truth)}


def stage_rensa(data: Path, kind: str) -> dict:
    from rensa import RMinHash, RMinHashLSH

    texts, _rows, truth = load(data)
    t0 = time.perf_counter()
    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=128, num_bands=32)
    hashes = []
    for i, t in enumerate(texts):
        m = RMinHash(num_perm=128, seed=42)
        m.update(shingles(t, kind))
        hashes.append(m)
        lsh.insert(i, m)
    edges = verified_edges(lsh, hashes)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, **score_near(len(texts), edges, truth)}


def stage_label_errors(data: Path) -> dict:
    import numpy as np
    from cleanlab.filter import find_label_issues

    from harness.checks.label_errors import confident_learning, out_of_fold_probabilities
    from harness.core.text import normalize

    _texts, rows, truth = load(data)
    labels = sorted({r["label"] for r in rows})
    y = np.array([labels.index(r["label"]) for r in rows])
    t0 = time.perf_counter()
    probs = out_of_fold_probabilities([normalize(r["text"]) for r in rows], y, 5, 0)
    t_probs = time.perf_counter() - t0
    flips = {x - 1 for x in truth["label_flips"]}
    out = {"probs_s": t_probs}
    t0 = time.perf_counter()
    ours = set(np.flatnonzero(confident_learning(probs, y)[0]).tolist())
    out["ours_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = set(np.flatnonzero(find_label_issues(y, probs)).tolist())
    out["cleanlab_s"] = time.perf_counter() - t0
    for name, got in (("ours", ours), ("cleanlab", theirs)):
        out[f"{name}_recall"] = len(got & flips) / len(flips)
        out[f"{name}_precision"] = len(got & flips) / len(got) if got else 1.0
    return out


def stage_audit(data: Path) -> dict:
    import harness

    t0 = time.perf_counter()
    result = harness.audit(str(data / "train.jsonl"), str(data / "eval.jsonl"))
    return {"wall_s": time.perf_counter() - t0, "verdict": result["verdict"],
            "checks": {c["check"]: c["seconds"] for c in result["checks"]}}


STAGES = {
    "ours_near": stage_ours_near,
    "datasketch_word5": lambda d: stage_datasketch(d, "word5"),
    "datasketch_char5": lambda d: stage_datasketch(d, "char5"),
    "rensa_word5": lambda d: stage_rensa(d, "word5"),
    "rensa_char5": lambda d: stage_rensa(d, "char5"),
    "label_errors": stage_label_errors,
    "audit": stage_audit,
}


def run_stage(name: str, data: Path, timeout: int) -> dict:
    try:
        proc = subprocess.run([sys.executable, __file__, "--stage", name, "--data", str(data)], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ensure_data(n: int, root: Path) -> Path:
    import bench_data

    out = root / f"rows_{n}"
    if not (out / "truth.json").exists():
        bench_data.write(out, bench_data.make(n, 5000))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stage", choices=list(STAGES))
    ap.add_argument("--data", type=Path)
    ap.add_argument("--rows", type=int, default=200_000, help="rows for the side-by-side comparison")
    ap.add_argument("--sizes", default="50000,100000,200000", help="rows for the scaling of the whole audit")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--timeout", type=int, default=1800)
    args = ap.parse_args()
    if args.stage:  # child process: one measurement, one JSON line
        out = STAGES[args.stage](args.data)
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    data = ensure_data(args.rows, args.work)
    print(f"\n== near duplicates, {args.rows} rows, Jaccard >= {THRESHOLD}, 128 permutations ==")
    print(f"{'tool':20s} {'wall s':>8s} {'peak MB':>8s} {'recall':>7s} {'precision':>9s} {'time vs ours':>12s}")
    ours = None
    for name in ("ours_near", "rensa_char5", "rensa_word5", "datasketch_char5", "datasketch_word5"):
        r = run_stage(name, data, args.timeout)
        if "error" in r:
            print(f"{name:20s} {r['error']}")
            continue
        ours = ours or r["wall_s"]
        print(f"{name:20s} {r['wall_s']:8.1f} {r['peak_rss_mb']:8.0f} {r['recall']:7.3f} {r['precision']:9.3f} "
              f"{r['wall_s'] / ours:11.1f}x")
    print(f"\n== label errors on the same out-of-fold probabilities, {args.rows} rows ==")
    r = run_stage("label_errors", data, args.timeout)
    if "error" in r:
        print("label_errors", r["error"])
    else:
        print(f"classifier (5-fold TF-IDF + LR): {r['probs_s']:.1f} s")
        print(f"ours     {r['ours_s']:7.2f} s  recall {r['ours_recall']:.3f}  precision {r['ours_precision']:.3f}")
        print(f"cleanlab {r['cleanlab_s']:7.2f} s  recall {r['cleanlab_recall']:.3f}  precision "
              f"{r['cleanlab_precision']:.3f}  ({r['cleanlab_s'] / max(r['ours_s'], 1e-9):.0f}x our time)")
    print("\n== whole audit (train + 5000 eval rows), scaling ==")
    print(f"{'rows':>9s} {'wall s':>8s} {'peak MB':>8s} {'us/row':>7s}  slowest checks")
    for n in [int(x) for x in args.sizes.split(",")]:
        r = run_stage("audit", ensure_data(n, args.work), args.timeout)
        if "error" in r:
            print(f"{n:9d} {r['error']}")
            continue
        slow = sorted(r["checks"].items(), key=lambda kv: -kv[1])[:3]
        print(f"{n:9d} {r['wall_s']:8.1f} {r['peak_rss_mb']:8.0f} {1e6 * r['wall_s'] / n:7.0f}  "
              + ", ".join(f"{k} {v:.1f}s" for k, v in slow))


if __name__ == "__main__":
    main()
