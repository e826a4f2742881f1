"""The audit stage: load data, run every enabled check (harness/check_runner.py, shared with the Spark
engine), let the policy decide each status, and return one plain, versioned dict. It writes nothing:
audit.json and the report are the application's (harness/artefacts.py)."""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

from .audit_data import AuditData
from .check_runner import run_checks
from .data import load_table
from .policy import load_policy


def audit(train: Any, eval: Any = None, policy: str | Mapping[str, Any] | None = None, *,
          shape: str | None = None, fields: Mapping[str, str] | None = None,
          probes: Sequence[Mapping[str, Any]] | None = None,
          on_check: Callable[[str, dict], None] | None = None) -> dict[str, Any]:
    """Audit training data (and an eval set) before fine-tuning.

    train/eval: a path (JSONL, JSON, CSV, Parquet), a `datasets.Dataset` or a list of dicts.
    policy: a YAML path or a dict merged over the default policy. probes: probe items ({probe, id, text})
    that the leakage check looks for in the training data when its `probes` param is on (the application
    passes the shipped probe sets, `harness.suites.probe_items()`). Returns the dict that the CLI writes
    as audit.json (schema harness.audit/2)."""
    started = time.perf_counter()
    pol = load_policy(policy)
    if shape:
        pol["shape"] = shape
    if fields:
        pol["fields"] = {**pol.get("fields", {}), **fields}
    probes = list(probes or []) if pol["checks"]["leakage"]["params"]["probes"] else []
    if pol.get("engine") == "spark":
        from .spark.audit import audit_spark

        return audit_spark(train, eval, pol, probes=probes, on_check=on_check)
    cap = pol["input"]["max_expanded_bytes"]   # a compressed file's expanded size (decompression bombs)
    tables = {"train": load_table(train, "train", shape=pol["shape"], fields=pol["fields"], labels=pol["labels"],
                                  max_expanded_bytes=cap)}
    if eval is not None:
        # Eval is read in train's shape, so the two are compared like for like (rows that do not fit
        # are schema errors; an eval set that mostly does not fit is refused).
        tables["eval"] = load_table(eval, "eval", shape=tables["train"].shape, fields=pol["fields"],
                                    labels=pol["labels"], max_bad_share=float(pol["eval_max_bad_share"]),
                                    max_expanded_bytes=cap)
        # Rows written in another shape are read in their own for the audit (a chat copy of a training
        # row is a leak however it is written).
        from .eval_shapes import read_other_shapes

        train_labels = sorted({ex.label for ex in tables["train"].examples if ex.label is not None})
        read_other_shapes(eval, tables["eval"], tables["train"].shape, train_labels, cap)
    data = AuditData(tables["train"], tables.get("eval"), pol, probes)
    data.token_counter  # noqa: B018 - a bad tokenizer path is bad input (exit 2), not a crashed check
    return run_checks(data, pol, tables, started, {"name": "inprocess"}, on_check)
