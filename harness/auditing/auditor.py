"""The audit stage: load data, run every enabled check (harness/auditing/check_runner.py, shared with the Spark
engine), let the policy decide each status, and return one plain, versioned dict. It writes nothing:
audit.json and the report are the application's (harness/app/artefacts.py)."""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

from harness.auditing.audit_data import AuditData
from harness.auditing.check_runner import run_checks
from harness.inputs.data import load_table
from harness.inputs.data_spec import DataSpec
from harness.auditing.policy import load_policy


def audit(train: Any, eval: Any = None, policy: str | Mapping[str, Any] | None = None, *,
          shape: str | None = None, fields: Mapping[str, str] | None = None,
          spec: DataSpec | None = None,
          probes: Sequence[Mapping[str, Any]] | None = None,
          on_check: Callable[[str, dict], None] | None = None) -> dict[str, Any]:
    """Audit training data (and an eval set) before fine-tuning.

    train/eval: a path (JSONL, JSON, CSV, Parquet), a `datasets.Dataset` or a list of dicts.
    policy: a YAML path or a dict merged over the default policy. probes: probe items ({probe, id, text})
    that the leakage check looks for in the training data when its `probes` param is on (the application
    passes the shipped probe sets, `harness.suites.probe_items()`). Returns the dict that the CLI writes
    as audit.json (schema harness.audit/2).
    spec: the data spec (harness/inputs/data_spec.py) the job's stages share; default: the policy's `data`.
    `shape` and `fields` go over it (the CLI's --shape and --field). audit.json records it as `data_spec`."""
    started = time.perf_counter()
    pol = load_policy(policy)
    spec = (spec or DataSpec.of_policy(pol)).override("audit", shape=shape or None)
    if fields:
        spec = spec.override("audit", fields={**spec.fields, **fields})
    pol["data"] = spec.to_dict()   # what every check reads (AuditData.spec) and audit.json records
    probes = list(probes or [])  # leakage reads them from the data when its `probes` param is on
    if pol.get("engine") == "spark":
        from harness.auditing.spark.audit import audit_spark

        return audit_spark(train, eval, pol, probes=probes, on_check=on_check)
    cap = pol["input"]["max_expanded_bytes"]   # a compressed file's expanded size (decompression bombs)
    tables = {"train": load_table(train, "train", shape=spec.shape, fields=spec.fields, labels=spec.labels,
                                  max_expanded_bytes=cap)}
    if eval is not None:
        # Eval is read in train's shape, so the two are compared like for like (rows that do not fit
        # are schema errors; an eval set that mostly does not fit is refused).
        tables["eval"] = load_table(eval, "eval", shape=tables["train"].shape, fields=spec.eval_mapping,
                                    labels=spec.labels, max_bad_share=spec.eval_max_bad_share,
                                    max_expanded_bytes=cap)
        # Rows written in another shape are read in their own for the audit (a chat copy of a training
        # row is a leak however it is written).
        from harness.inputs.eval_shapes import read_other_shapes

        train_labels = sorted({ex.label for ex in tables["train"].examples if ex.label is not None})
        read_other_shapes(eval, tables["eval"], tables["train"].shape, train_labels, cap)
    data = AuditData(tables["train"], tables.get("eval"), pol, probes)
    data.token_counter  # noqa: B018 - a bad tokenizer path is bad input (exit 2), not a crashed check
    return run_checks(data, pol, tables, started, {"name": "inprocess"}, on_check)
