"""The audit on Apache Spark (`harness audit --engine spark`): the same checks, policy, verdict and
audit.json as in-process, with the row-level and cross-row work done by Spark. A check reads the data
through the engine interface (harness/auditing/engine.py), which SparkAuditData implements on Spark, so
both engines report the same clusters and rows from one `run`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from harness.auditing.check_runner import run_checks
from harness.inputs.data import unreadable_eval
from harness.inputs.data_spec import DataSpec
from harness.core.errors import InputError, UsageError
from harness.core.io import sha256_file
from harness.auditing.spark.data import SparkAuditData
from harness.auditing.spark.load import check_input, load_split
from harness.auditing.spark.session import spark_session


def audit_spark(train: str, eval: str | None, pol: dict[str, Any], *, probes: list[dict] | None = None,
                master: str | None = None, on_check: Callable[[str, dict], None] | None = None,
                spark: Any = None) -> dict[str, Any]:
    for name, what in (("train", train), ("eval", eval)):
        if what is not None and not isinstance(what, (str, Path)):
            raise UsageError(f"the Spark engine reads paths (JSONL or Parquet), not a {type(what).__name__} for {name}")
        if what is not None and "://" not in str(what) and not Path(what).exists():
            raise InputError(str(what), "no such file or directory")  # before a JVM starts, not after
        if what is not None:
            check_input(str(what))   # .zst, compressed Parquet, a cut-off .gz: refused before the JVM starts too
    started = time.perf_counter()
    conf = pol.get("spark") or {}
    spark = spark or spark_session(master or conf.get("master", "local[*]"),
                                   {"shuffle_partitions": conf.get("shuffle_partitions", 8),
                                    "driver_memory": conf.get("driver_memory", "2g"), "spark": conf.get("conf") or {}})
    spec = DataSpec.of_policy(pol)
    pol = {**pol, "data": spec.to_dict()}   # what the checks read (SparkAuditData.spec) and audit.json records
    tables = {"train": load_split(spark, str(train), "train", spec.shape, spec.fields, spec.labels)}
    if eval is not None:
        # Eval is read in train's shape; its rows written in another shape are read in their own and
        # mapped onto train's task (a chat copy of a training row is a leak however it is written).
        train_labels = sorted(r.label for r in tables["train"].frame.select("label").where("label IS NOT NULL")
                              .distinct().collect())
        tables["eval"] = load_split(spark, str(eval), "eval", tables["train"].shape, spec.eval_mapping, spec.labels,
                                    train_labels=train_labels)
        ev = tables["eval"]
        if ev.total_rows and len(ev.bad_rows) > spec.eval_max_bad_share * ev.total_rows:
            raise InputError(ev.source, unreadable_eval(len(ev.bad_rows), ev.total_rows, ev.shape, ev.bad_rows[0], None))
    for t in tables.values():  # a local file gets its hash, as in-process; a remote path keeps none
        if Path(t.source).is_file():
            t.sha256 = sha256_file(t.source)
    data = SparkAuditData(tables["train"], tables.get("eval"), pol, spark, list(probes or []))
    data.token_counter  # noqa: B018 - a bad tokenizer path is bad input (exit 2), not a crashed check
    return run_checks(data, pol, tables, started, {"name": "spark", "master": spark.sparkContext.master,
                                                    "spark_version": spark.version}, on_check)
