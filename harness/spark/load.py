"""Reading a split on Spark: JSONL or Parquet from any path Spark can read (a file, a directory, s3a://,
hdfs://), validated row by row with the same pandera schema and turned into the same canonical fields
as the in-process loader, so both engines see the same good rows, bad rows and line numbers."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlparse

from ..data import SHAPES, Table, detect_shape, read_as, read_with, to_example
from ..formats import _COMPRESSED_PARQUET, check_compressed, parse_json
from ..shapes import check_field_names
from ..row_formats import convert
from ..errors import InputError
from ..text import normalize, normalize_loose

ROW_SCHEMA = ("idx long, line long, input string, output string, label string, norm string, loose string, "
              "norm_out string, texts string, rejected string, error string")


@dataclass
class SparkTable(Table):
    """A Table whose good rows live in a Spark DataFrame (`frame`), not in driver memory."""

    frame: Any = None
    good_rows: int = 0

    def card(self) -> dict[str, Any]:
        return {**super().card(), "good_rows": self.good_rows}


def _fmt(path: str, fmt: str | None) -> str:
    lower = path.lower().rstrip("/")
    if lower.endswith(".zst"):   # Hadoop's zstd codec needs native libraries that Spark's local mode lacks
        raise InputError(path, "the Spark engine does not read .zst: decompress it (zstd -d) or give it as .jsonl.gz, "
                               "or audit it with the in-process engine (--engine inprocess)")
    if lower.endswith((".parquet.gz", ".pq.gz")):
        raise InputError(path, _COMPRESSED_PARQUET)
    if fmt:
        return fmt
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    if lower.endswith((".jsonl", ".json", ".ndjson", ".jsonl.gz", ".ndjson.gz")):  # Spark reads gzip text itself
        return "jsonl"
    raise InputError(path, "the Spark engine reads .jsonl (also .jsonl.gz) and .parquet (a file or a directory of "
                           "them; name the format with a .jsonl or .parquet suffix)")


def check_input(path: str, fmt: str | None = None) -> str:
    """The format Spark reads `path` as, after the checks that need no JVM: a local .gz file (or the .gz
    files of a local directory) is read through once here, so that a cut-off or corrupt one is refused
    with the in-process reader's reason; Spark's Hadoop reader fails on it mid-job with a stack trace
    (exit 3). A remote path is left to Spark, whose read failure `_spark_reading` turns into the same."""
    fmt = _fmt(path, fmt)
    local = Path(path[len("file://"):] if path.startswith("file://") else path)
    if "://" in path and not path.startswith("file://") or not local.exists():
        return fmt
    files = [local] if local.is_file() else [f for f in sorted(local.iterdir())
                                             if f.is_file() and not f.name.startswith(("_", "."))]
    for f in files:
        if f.suffix.lower() == ".zst":
            _fmt(str(f), fmt)
        check_compressed(f)
    return fmt


_READ_FAILED = re.compile(r"Encountered error while reading file (\S+?)\.?\s")   # Spark's FAILED_READ_FILE
_CAUSE = re.compile(r"Caused by: ([\w.$]+): ([^\n]*)")


def read_failure(text: str) -> tuple[str, str] | None:
    """(file, reason) when a Spark job failed reading an input file (Spark's FAILED_READ_FILE), else None."""
    found = _READ_FAILED.search(text)
    if not found:
        return None
    file = found.group(1)
    file = urlparse(file).path if file.startswith("file:") else file   # file:///tmp/x (Spark 4), file:/tmp/x
    causes = _CAUSE.findall(text)
    kind, message = causes[-1] if causes else ("", "")
    if kind.endswith("EOFException"):   # Hadoop's gzip reader: "Unexpected end of input stream"
        return file, "truncated: the compressed stream ends before its end marker; the file was cut off"
    reason = f"{kind.rsplit('.', 1)[-1]}: {message.strip()}" if kind else "unknown error"
    return file, f"Spark cannot read it ({reason[:200]})"


@contextmanager
def _spark_reading(path: str):
    """A Spark job that fails reading an input file is bad input (exit 2, the file and the reason), not an
    internal error with a JVM stack trace."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:  # py4j.protocol.Py4JJavaError or a pyspark.errors exception, by Spark version
        failure = read_failure(str(exc))
        if failure is None:
            raise
        raise InputError(failure[0] or path, failure[1]) from None


def _records(spark, path: str, fmt: str):
    """(line, record-as-JSON) rows: JSONL keeps its 1-based line numbers (blank lines skipped), Parquet
    numbers its rows from 1 in file order."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    try:
        raw = spark.read.text(path) if fmt == "jsonl" else spark.read.parquet(path)
    except AnalysisException as exc:  # a missing or unreadable path is bad input: one line, exit 2
        if "PATH_NOT_FOUND" in str(exc):
            raise InputError(path, "no such file or directory") from None
        raise InputError(path, f"Spark cannot read it as {fmt}: {str(exc).splitlines()[0]}") from None
    if fmt == "jsonl":
        lines = raw.rdd.zipWithIndex().map(lambda t: (t[1] + 1, t[0][0]))
        return spark.createDataFrame(lines, "line long, record string").where(F.trim("record") != "")
    frame = raw
    rows = frame.rdd.zipWithIndex().map(lambda t: (t[1] + 1, json.dumps(t[0].asDict(recursive=True), default=str)))
    return spark.createDataFrame(rows, "line long, record string")


def _convert(batches: Iterable, split: str, shape: str, mapping: Mapping[str, str], labels: list[str] | None,
             written_as: str | None = None, fields: Mapping[str, str] | None = None):
    """Per partition: parse, read as the harness shape (ShareGPT, TRL conversational), validate (pandera,
    as in-process), canonicalise; bad rows carry their reason."""
    from . import pandas_frame
    from ..schema import validate

    for pdf in batches:
        out = []
        records, lines = [], []
        for line, text in zip(pdf["line"].tolist(), pdf["record"].tolist()):
            try:   # the in-process reader's parse: the same refusals (nested too deep, huge integers, ...)
                records.append(parse_json("", text, int(line)))
                lines.append(int(line))
            except InputError as exc:
                out.append({"idx": -1, "line": int(line), "error": exc.reason})
        records, _ = convert(records, written_as, fields or {})
        good, bad = validate(records, lines, shape, mapping, labels)
        for row in bad:
            out.append({"idx": -2, "line": row["line"], "error": row["reason"]})
        for i in good:
            ex = to_example(records[i], lines[i], split, shape, mapping)
            out.append({"idx": 0, "line": ex.line, "input": ex.input, "output": ex.output, "label": ex.label,
                        "norm": normalize(ex.input), "loose": normalize_loose(ex.input),
                        "norm_out": normalize(ex.output) if ex.output is not None else "",
                        "texts": json.dumps(ex.texts, ensure_ascii=False), "rejected": ex.rejected, "error": None})
        columns = [c.split()[0] for c in ROW_SCHEMA.split(", ")]
        yield pandas_frame(out, columns=columns, strings=tuple(c for c in columns if c not in ("idx", "line")))


def load_split(spark, path: str, split: str, shape: str | None, fields: Mapping[str, str],
               labels: list[str] | None, fmt: str | None = None) -> SparkTable:
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    check_field_names(fields)
    fmt = _fmt(path, fmt)   # audit_spark ran check_input before the JVM started
    records = _records(spark, path, fmt)
    with _spark_reading(path):
        sample = [json.loads(r.record) for r in records.orderBy("line").limit(1000).collect()
                  if r.record.strip().startswith("{")]
    if not sample:
        raise InputError(path, "no rows")
    given = dict(fields)
    sample, fields, shape, written_as = read_as(sample, given, shape)
    shape = detect_shape(sample, fields, shape, path)
    mapping = {c: fields.get(c, c) for c in SHAPES[shape]}
    rows = records.mapInPandas(lambda it: _convert(it, split, shape, mapping, labels, written_as, given),
                               ROW_SCHEMA).cache()
    with _spark_reading(path):   # the jobs that read the whole input (later ones read the cache)
        broken = rows.where("idx = -1").orderBy("line").limit(1).collect()
        if broken:
            raise InputError(path, broken[0].error, broken[0].line)
        bad = [{"line": r.line, "reason": r.error} for r in rows.where("idx = -2").orderBy("line").collect()]
        # idx: the row's position among the good rows in file order, as in the in-process Table.
        good = rows.where("idx >= 0").withColumn("idx", F.row_number().over(Window.orderBy("line")) - 1)
        good = good.drop("error").withColumn("split", F.lit(split)).cache()
        n_good = good.count()
    total = n_good + len(bad)
    return SparkTable(split=split, source=path, format=fmt, shape=shape, fields=mapping, examples=[], bad_rows=bad,
                      total_rows=total, sha256="", written_as=written_as, read_with=read_with(shape, written_as, given),
                      frame=good, good_rows=n_good)
