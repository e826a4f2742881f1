"""The audit stage: load data, run every enabled check (a crash becomes an `error` result and the rest
still run), let the policy decide each status, and return one plain, versioned dict."""

from __future__ import annotations

import time
import traceback
from typing import Any, Callable, Mapping

from . import __version__
from .audit_data import AuditData
from .data import load_table
from .policy import decide, load_policy, verdict

SCHEMA = "harness.audit/1"


def audit(train: Any, eval: Any = None, policy: str | Mapping[str, Any] | None = None, *,
          shape: str | None = None, fields: Mapping[str, str] | None = None,
          on_check: Callable[[str, dict], None] | None = None) -> dict[str, Any]:
    """Audit training data (and an eval set) before fine-tuning.

    train/eval: a path (JSONL, JSON, CSV, Parquet), a `datasets.Dataset` or a list of dicts.
    policy: a YAML path or a dict merged over the default policy. Returns the dict that the CLI writes
    as audit.json (schema harness.audit/1)."""
    import suites

    started = time.perf_counter()
    pol = load_policy(policy)
    if shape:
        pol["shape"] = shape
    if fields:
        pol["fields"] = {**pol.get("fields", {}), **fields}
    if pol.get("engine") == "spark":
        from .spark.audit import audit_spark

        return audit_spark(train, eval, pol, on_check=on_check)
    tables = {"train": load_table(train, "train", shape=pol["shape"], fields=pol["fields"], labels=pol["labels"])}
    if eval is not None:
        # Eval is read in train's shape, so the two are compared like for like (rows that do not fit
        # are schema errors).
        tables["eval"] = load_table(eval, "eval", shape=tables["train"].shape, fields=pol["fields"],
                                    labels=pol["labels"])
    probes = suites.probe_items() if pol["checks"]["leakage"]["params"]["probes"] else []
    data = AuditData(tables["train"], tables.get("eval"), pol, probes)
    data.token_counter  # noqa: B018 - a bad tokenizer path is bad input (exit 2), not a crashed check
    return run_checks(data, pol, tables, started, {"name": "inprocess"}, on_check)


def run_checks(data: Any, pol: dict[str, Any], tables: dict[str, Any], started: float, engine: dict[str, Any],
               on_check: Callable[[str, dict], None] | None = None) -> dict[str, Any]:
    """Every enabled check on `data` (an engine's `run_spark` when it has one and data is Spark's),
    each crash isolated, each status decided by the policy; the audit.json dict. Shared by both engines."""
    import checks as registry

    spark = engine["name"] == "spark"
    results = []
    for name in registry.all_checks():
        conf = pol["checks"].get(name, {})
        if not conf.get("enabled", True):
            continue
        t0 = time.perf_counter()
        check = registry.get_check(name)()
        try:
            runner = getattr(check, "run_spark", check.run) if spark else check.run
            res = runner(data, dict(conf.get("params") or {}))
            status, reasons = decide(conf, res.summary)
            entry = {"check": name, "status": status, "reasons": reasons, "summary": res.summary,
                     "findings": res.findings, "info": res.info}
        except Exception as exc:  # isolate: one broken check must not hide the others
            entry = {"check": name, "status": "error", "reasons": [f"{type(exc).__name__}: {exc}"],
                     "summary": {}, "findings": [], "info": {"traceback": traceback.format_exc(limit=5)}}
        entry["title"] = registry.REGISTRY[name].title
        entry["duration_s"] = round(time.perf_counter() - t0, 3)
        results.append(entry)
        if on_check:
            on_check(name, entry)
    return {
        "schema": SCHEMA,
        "harness_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "verdict": verdict([r["status"] for r in results], pol["on_error"]),
        "inputs": {split: t.card() for split, t in tables.items()},
        "label_source": data.label_source,
        "policy": pol,
        "engine": engine,
        "checks": results,
        "duration_s": round(time.perf_counter() - started, 3),
    }
