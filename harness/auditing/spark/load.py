"""Reading a split on Spark: JSONL or Parquet from any path Spark can read (a file, a directory, s3a://,
hdfs://), validated row by row with the same pandera schema and turned into the same canonical fields
as the in-process loader, so both engines see the same good rows, bad rows and line numbers. The
format comes from the same reader registry (harness/inputs/readers.py), which says what Spark reads it as;
eval rows written in another shape than the training rows are read in their own and mapped, as
in-process (harness/inputs/eval_shapes.py)."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlparse

from harness.inputs.data import Table, detect_shape, field_mapping, read_as, read_with, to_example, written_as_for
from harness.core.errors import InputError
from harness.inputs.eval_shapes import READ_AGAIN_AS, read_in_own_shapes
from harness.inputs.formats import check_compressed, parse_json
from harness.inputs.readers import Reader, for_file, reader
from harness.inputs.row_formats import convert
from harness.inputs.shapes import check_field_names
from harness.core.text import normalize, normalize_loose

# shape: the own shape of an eval row read in another shape than the split's (null for the others)
ROW_SCHEMA = ("idx long, line long, input string, output string, label string, norm string, loose string, "
              "norm_out string, texts string, rejected string, error string, shape string")
SPARK_READS = ("the Spark engine reads .jsonl (also .jsonl.gz) and .parquet (a file or a directory of them; "
               "name the format with a .jsonl or .parquet suffix)")


@dataclass
class SparkTable(Table):
    """A Table whose good rows live in a Spark DataFrame (`frame`), not in driver memory."""

    frame: Any = None
    good_rows: int = 0

    def card(self) -> dict[str, Any]:
        return {**super().card(), "good_rows": self.good_rows}


def spark_reader(path: str, fmt: str | None = None) -> Reader:
    """The reader Spark reads `path` with, from the format registry by name or suffix, or the reason it
    does not read it (exit 2, before a JVM starts)."""
    lower = path.lower().rstrip("/")
    if lower.endswith(".zst"):   # Hadoop's zstd codec needs native libraries that Spark's local mode lacks
        raise InputError(path, "the Spark engine does not read .zst: decompress it (zstd -d) or give it as .jsonl.gz, "
                               "or audit it with the in-process engine (--engine inprocess)")
    found, compressed, _ = for_file(lower, fmt)
    if compressed and found is not None and not found.compressible:
        raise InputError(path, found.compressed_refusal)
    if found is None or found.spark_as is None or compressed and compressed not in found.spark_compressed:
        raise InputError(path, SPARK_READS)
    return reader(found.spark_as)


def check_input(path: str, fmt: str | None = None) -> str:
    """The format Spark reads `path` as, after the checks that need no JVM: a local .gz file (or the .gz
    files of a local directory) is read through once here, so that a cut-off or corrupt one is refused
    with the in-process reader's reason; Spark's Hadoop reader fails on it mid-job with a stack trace
    (exit 3). A remote path is left to Spark, whose read failure `_spark_reading` turns into the same."""
    name = spark_reader(path, fmt).name
    local = Path(path[len("file://"):] if path.startswith("file://") else path)
    if "://" in path and not path.startswith("file://") or not local.exists():
        return name
    files = [local] if local.is_file() else [f for f in sorted(local.iterdir())
                                             if f.is_file() and not f.name.startswith(("_", "."))]
    for f in files:
        if f.suffix.lower() == ".zst":
            spark_reader(str(f), fmt)
        check_compressed(f)
    return name


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


def _records(spark, path: str, fmt: Reader):
    """(line, record-as-JSON) rows, as the reader reads them on Spark: JSONL keeps its 1-based line numbers
    (blank lines skipped), Parquet numbers its rows from 1 in file order."""
    from pyspark.errors import AnalysisException

    try:
        with _spark_reading(path):
            return fmt.read_spark(spark, path)
    except AnalysisException as exc:  # a missing or unreadable path is bad input: one line, exit 2
        if "PATH_NOT_FOUND" in str(exc):
            raise InputError(path, "no such file or directory") from None
        raise InputError(path, f"Spark cannot read it as {fmt.name}: {str(exc).splitlines()[0]}") from None


def _row(ex, shape: str | None = None) -> dict[str, Any]:
    return {"idx": 0, "line": ex.line, "input": ex.input, "output": ex.output, "label": ex.label,
            "norm": normalize(ex.input), "loose": normalize_loose(ex.input),
            "norm_out": normalize(ex.output) if ex.output is not None else "",
            "texts": json.dumps(ex.texts, ensure_ascii=False), "rejected": ex.rejected, "error": None, "shape": shape}


def _convert(batches: Iterable, split: str, shape: str, mapping: Mapping[str, str], labels: list[str] | None,
             written_as: str | None = None, fields: Mapping[str, str] | None = None,
             again: tuple[list[str], dict[str, str | None]] | None = None):
    """Per partition: parse, read as the harness shape (ShareGPT, TRL conversational), validate (pandera,
    as in-process), canonicalise; bad rows carry their reason. again (eval): (the training labels, the
    row format per shape): bad rows are read again in their own shape and mapped, as in-process."""
    from harness.auditing.spark import pandas_frame
    from harness.inputs.schema import validate

    for pdf in batches:
        out = []
        records, lines = [], []
        for line, text in zip(pdf["line"].tolist(), pdf["record"].tolist()):
            try:   # the in-process reader's parse: the same refusals (nested too deep, huge integers, ...)
                records.append(parse_json("", text, int(line)))
                lines.append(int(line))
            except InputError as exc:
                out.append({"idx": -1, "line": int(line), "error": exc.reason})
        raw = records
        records, _ = convert(records, written_as, fields or {})
        good, bad = validate(records, lines, shape, mapping, labels)
        for row in bad:
            out.append({"idx": -2, "line": row["line"], "error": row["reason"]})
        for i in good:
            out.append(_row(to_example(records[i], lines[i], split, shape, mapping)))
        if again is not None and bad:
            at = {line: i for i, line in enumerate(lines)}
            missing = [at[row["line"]] for row in bad]
            found = read_in_own_shapes([raw[i] for i in missing], [lines[i] for i in missing], split, shape,
                                       again[0], again[1])
            out.extend(_row(ex, own) for own, ex in found)
        columns = [c.split()[0] for c in ROW_SCHEMA.split(", ")]
        yield pandas_frame(out, columns=columns, strings=tuple(c for c in columns if c not in ("idx", "line")))


def load_split(spark, path: str, split: str, shape: str | None, fields: Mapping[str, str],
               labels: list[str] | None, fmt: str | None = None,
               train_labels: list[str] | None = None) -> SparkTable:
    """One split as a SparkTable. train_labels (an eval split: the training rows' labels, [] for none):
    rows that do not fit `shape` are read again in their own shape and mapped onto the training task
    (harness/inputs/eval_shapes.py), counted in `other_shapes`, as the in-process audit does."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    check_field_names(fields)
    fmt = spark_reader(path, fmt)   # audit_spark ran check_input before the JVM started
    records = _records(spark, path, fmt)
    with _spark_reading(path):
        sample = [json.loads(r.record) for r in records.orderBy("line").limit(1000).collect()
                  if r.record.strip().startswith("{")]
    if not sample:
        raise InputError(path, "no rows")
    given = dict(fields)
    again = None if train_labels is None else \
        (list(train_labels), {s: written_as_for(sample, {}, s)[0] for s in READ_AGAIN_AS})
    sample, fields, shape, written_as = read_as(sample, given, shape)
    shape = detect_shape(sample, fields, shape, path)
    mapping = field_mapping(shape, fields)
    rows = records.mapInPandas(lambda it: _convert(it, split, shape, mapping, labels, written_as, given, again),
                               ROW_SCHEMA).cache()
    with _spark_reading(path):   # the jobs that read the whole input (later ones read the cache)
        broken = rows.where("idx = -1").orderBy("line").limit(1).collect()
        if broken:
            raise InputError(path, broken[0].error, broken[0].line)
        bad = [{"line": r.line, "reason": r.error} for r in rows.where("idx = -2").orderBy("line").collect()]
        # idx: the row's position among the good rows in file order, as in the in-process Table.
        good = rows.where("idx >= 0").withColumn("idx", F.row_number().over(Window.orderBy("line")) - 1)
        counted = {r.shape: r["count"] for r in good.where("shape IS NOT NULL").groupBy("shape").count().collect()}
        good = good.drop("error", "shape").withColumn("split", F.lit(split)).cache()
        n_good = good.count()
    total = n_good - sum(counted.values()) + len(bad)   # a row read in its own shape is also a bad row
    return SparkTable(split=split, source=path, format=fmt.name, shape=shape, fields=mapping, examples=[], bad_rows=bad,
                      total_rows=total, sha256="", written_as=written_as, read_with=read_with(shape, written_as, given),
                      other_shapes={s: counted[s] for s in READ_AGAIN_AS if s in counted}, frame=good, good_rows=n_good)
