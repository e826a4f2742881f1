"""Input formats as registered readers: one object per file format, looked up by name or suffix, that
both engines read through (`read_records` in-process, harness/auditing/spark/load.py on Spark).

Before this, the format was decided by an if/elif chain here and a second one in the Spark loader,
and the two drifted. A reader says what it is (name, suffixes, the first bytes that name it), whether
.gz/.zst around it are read, how it reads in-process, and what Spark reads it as (or that Spark does
not). Another package adds a format with a Reader subclass under the entry point group below:

    [project.entry-points."finetune_harness.formats"]
    my_format = "my_package.my_reader"      # a module holding @register'd Reader classes, or the class

The parsing itself (line numbers, decompression limits, hostile JSON) stays in harness/inputs/formats.py.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from harness.core.errors import InputError
from harness.inputs.formats import (COMPRESSED, COMPRESSED_PARQUET, HF_PREFIX, decode, decompress, read_csv, read_hf_cache,
                      read_hf_disk, read_json_array, read_jsonl, read_parquet)
from harness.core.registry import Registry

REGISTRY = Registry("format", None, "finetune_harness.formats")
register = REGISTRY.register


class Reader:
    """One input format. Subclasses set the attributes and override what they read."""

    name = ""                      # Table.format, and the `fmt` that names it
    suffixes: tuple[str, ...] = ()  # lower-case file suffixes that name it (empty: not read from one file)
    magic = b""                    # the first bytes that name it without a suffix (binary formats)
    binary = False                 # read from the file itself, never decoded as text
    compressible = True            # .gz / .zst around it are read (in-process)
    compressed_refusal = ""        # why a compressed file of it is refused, where not compressible
    spark_as: str | None = None    # the reader Spark reads it with (None: the Spark engine does not read it)
    spark_compressed: tuple[str, ...] = ()   # compression suffixes Spark reads around it itself
    order = 1000                   # where a file without a known suffix is tried, by `looks_like`

    # ---- in-process --------------------------------------------------------------------------------
    def opens(self, source: Any) -> bool:
        """Whether this reader takes a source that is not one data file (a dataset name, a directory)."""
        return False

    def read_source(self, source: Any) -> tuple[list[Any], list[int]]:
        raise NotImplementedError

    def looks_like(self, text: str) -> bool:
        """Whether a text file without a known suffix is in this format."""
        return False

    def refine(self, text: str) -> "Reader":
        """The reader for this text when the suffix is only a hint (a .json file holding JSON Lines)."""
        return self

    def read_text(self, path: Path, text: str, suffix: str | None) -> tuple[list[Any], list[int]]:
        """(records, 1-based lines) from the decoded text; `suffix` is the one before any compression."""
        raise NotImplementedError

    def read_file(self, path: Path) -> tuple[list[Any], list[int]]:
        """(records, lines) of a binary format, from the file."""
        raise NotImplementedError

    # ---- Spark -------------------------------------------------------------------------------------
    def read_spark(self, spark: Any, path: str) -> Any:
        """A DataFrame of (line long, record string: the row as JSON) in file order."""
        raise NotImplementedError


@register
class JsonLines(Reader):
    """One JSON object per line (blank lines skipped, each record keeps its line)."""

    name, suffixes, order = "jsonl", (".jsonl", ".ndjson"), 10
    spark_as, spark_compressed = "jsonl", (".gz",)   # Hadoop's gzip codec; its zstd one needs native libraries

    def looks_like(self, text: str) -> bool:
        return text.lstrip()[:1] == "{"

    def read_text(self, path, text, suffix):
        return read_jsonl(path, text)

    def read_spark(self, spark, path):
        from pyspark.sql import functions as F

        raw = spark.read.text(path)
        lines = raw.rdd.zipWithIndex().map(lambda t: (t[1] + 1, t[0][0]))
        return spark.createDataFrame(lines, "line long, record string").where(F.trim("record") != "")


@register
class JsonArray(Reader):
    """A top-level JSON array of objects (each record keeps the line it starts on); a .json file that
    holds JSON Lines is read as JSON Lines."""

    name, suffixes, order = "json", (".json",), 20
    spark_as = "jsonl"   # Spark has no line-keeping array reader: a .json of JSON Lines reads, an array does not

    def looks_like(self, text: str) -> bool:
        return text.lstrip()[:1] == "["

    def refine(self, text: str) -> Reader:
        return reader("jsonl") if JsonLines().looks_like(text) else self

    def read_text(self, path, text, suffix):
        return read_json_array(path, text)


@register
class Csv(Reader):
    """CSV with a header row (each record keeps its first line); TSV by its suffix, before any
    compression suffix (.tsv.zst is TSV). The last guess for a text file without a known suffix."""

    name, suffixes, order = "csv", (".csv", ".tsv"), 30

    def looks_like(self, text: str) -> bool:
        return True

    def read_text(self, path, text, suffix):
        return read_csv(path, text, tsv=suffix == ".tsv")


@register
class Parquet(Reader):
    """Parquet, rows numbered from 1 in file order. Compressed internally (by column), so never wrapped."""

    name, suffixes, magic, binary, order = "parquet", (".parquet", ".pq"), b"PAR1", True, 40
    compressible, compressed_refusal = False, COMPRESSED_PARQUET
    spark_as = "parquet"

    def read_file(self, path):
        return read_parquet(path)

    def read_spark(self, spark, path):
        import json

        rows = spark.read.parquet(path).rdd.zipWithIndex().map(
            lambda t: (t[1] + 1, json.dumps(t[0].asDict(recursive=True), default=str)))
        return spark.createDataFrame(rows, "line long, record string")


HF_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")


@register
class HfDataset(Reader):
    """A Hugging Face dataset: a `save_to_disk` directory, or `hf:NAME[#CONFIG][:SPLIT]` from the local
    cache (the row index + 1 as the line)."""

    name, order = "hf-dataset", 50

    def opens(self, source):
        if str(source).startswith(HF_PREFIX):
            return True
        path = Path(source)
        return path.is_dir() and any((path / marker).is_file() for marker in HF_MARKERS)

    def read_source(self, source):
        if str(source).startswith(HF_PREFIX):
            return read_hf_cache(str(source)[len(HF_PREFIX):])
        return read_hf_disk(Path(source))


# ---- lookup ----------------------------------------------------------------------------------------------

def readers() -> list[Reader]:
    """Every registered reader, in `order`."""
    return REGISTRY.instances()


def reader(name: str) -> Reader:
    """The reader registered as `name` (an unknown name: a usage error with a did-you-mean)."""
    return REGISTRY.instance(name)


def file_formats() -> list[str]:
    """The names of the formats read from one data file, in order (for messages)."""
    return [r.name for r in readers() if r.suffixes]


def split_suffix(name: str) -> tuple[str | None, str | None]:
    """(compression suffix or None, the format suffix): `d.tsv.zst` -> (".zst", ".tsv"), `d.gz` ->
    (".gz", None), `d.jsonl` -> (None, ".jsonl")."""
    suffixes = [x.lower() for x in PurePosixPath(name).suffixes[-2:]]
    compressed = suffixes[-1] if suffixes and suffixes[-1] in COMPRESSED else None
    if compressed:
        return compressed, suffixes[0] if len(suffixes) == 2 else None
    return None, suffixes[-1] if suffixes else ""


def for_file(name: str, fmt: str | None = None) -> tuple[Reader | None, str | None, str | None]:
    """(the reader `fmt` or the file's suffix names, or None; its compression suffix; its format suffix).
    An unknown `fmt` is None too: the caller says which formats there are."""
    compressed, suffix = split_suffix(name)
    if fmt:
        return next((r for r in readers() if r.suffixes and r.name == fmt), None), compressed, suffix
    return next((r for r in readers() if suffix and suffix in r.suffixes), None), compressed, suffix


def read_records(path: str | os.PathLike, fmt: str | None = None,
                 max_expanded_bytes: int | None = None) -> tuple[list[Any], list[int], str]:
    """Return (records, 1-based lines, format). Raises InputError for anything unusable.
    max_expanded_bytes: the audit policy's input.max_expanded_bytes (None: its default)."""
    for r in readers():
        if r.opens(path):
            return (*r.read_source(path), r.name)
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, expected a data file (or a Hugging Face `save_to_disk` directory)")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty")
    found, compressed, suffix = for_file(path.name, fmt)
    if fmt and found is None:
        raise InputError(path, f"unknown format {fmt!r}; expected one of {', '.join(file_formats())}")
    if compressed and found is not None and not found.compressible:
        raise InputError(path, found.compressed_refusal)
    if not compressed and found is None:
        with open(path, "rb") as fh:
            head = fh.read(16)
        found = next((r for r in readers() if r.magic and head.startswith(r.magic)), None)
    if not compressed and found is not None and found.binary:
        return (*found.read_file(path), found.name)
    data = decompress(path, compressed, max_expanded_bytes) if compressed else path.read_bytes()
    if compressed:   # a binary format inside the wrapper (a .gz that holds Parquet)
        for r in readers():
            if r.magic and not r.compressible and data[:len(r.magic)] == r.magic:
                raise InputError(path, r.compressed_refusal)
    text = decode(path, data)
    del data
    if not text.strip():
        raise InputError(path, "file is empty (whitespace only)")
    found = found.refine(text) if found is not None else next(r for r in readers() if r.looks_like(text))
    records, lines = found.read_text(path, text, suffix)
    if not records:
        raise InputError(path, "file holds no rows")
    return records, lines, found.name
