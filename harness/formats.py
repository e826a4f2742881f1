"""Reading JSONL, JSON arrays, CSV and Parquet into records that remember their 1-based line in the file.

Every finding points back at a file line, so the readers keep line numbers themselves instead of
handing the file to pandas, which forgets them. Files are only ever opened for reading.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from .errors import InputError

FORMATS = ("jsonl", "json", "csv", "parquet")
_EXT = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "csv",
        ".parquet": "parquet", ".pq": "parquet"}


def read_records(path: str | os.PathLike, fmt: str | None = None) -> tuple[list[Any], list[int], str]:
    """Return (records, 1-based lines, format). Raises InputError for anything unusable."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, expected a data file")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty")
    fmt = fmt or _EXT.get(path.suffix.lower())
    if fmt == "parquet" or (fmt is None and _is_parquet(path)):
        return (*_read_parquet(path), "parquet")
    text = _decode(path)
    if not text.strip():
        raise InputError(path, "file is empty (whitespace only)")
    if fmt is None or fmt == "json":
        first = text.lstrip()[:1]
        fmt = "json" if first == "[" else "jsonl" if first == "{" else "csv" if fmt is None else "json"
    if fmt == "jsonl":
        records, lines = _read_jsonl(path, text)
    elif fmt == "json":
        records, lines = _read_json_array(path, text)
    elif fmt == "csv":
        records, lines = _read_csv(path, text)
    else:
        raise InputError(path, f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not records:
        raise InputError(path, "file holds no rows")
    return records, lines, fmt


def _is_parquet(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", line) from None


def _read_jsonl(path: Path, text: str) -> tuple[list[Any], list[int]]:
    records, lines = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            records.append(json.loads(raw))
        except json.JSONDecodeError as exc:
            raise InputError(path, f"broken JSON line: {exc.msg} at column {exc.colno}", number) from None
        lines.append(number)
    return records, lines


def _read_json_array(path: Path, text: str) -> tuple[list[Any], list[int]]:
    """Parse a top-level array element by element so each record keeps the line it starts on."""
    decoder = json.JSONDecoder()
    records, lines = [], []
    n = len(text)

    def skip(i: int) -> int:
        while i < n and text[i] in " \t\r\n":
            i += 1
        return i

    def line_of(i: int) -> int:
        return text.count("\n", 0, i) + 1

    i = skip(0)
    if i >= n or text[i] != "[":
        raise InputError(path, "expected a JSON array of objects (or JSON Lines)", line_of(i))
    i = skip(i + 1)
    if i < n and text[i] == "]":
        return records, lines
    last_line, last_pos = 1, 0
    while True:
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"broken JSON: {exc.msg}", exc.lineno) from None
        last_line += text.count("\n", last_pos, i)
        last_pos = i
        records.append(obj)
        lines.append(last_line)
        i = skip(end)
        if i < n and text[i] == ",":
            i = skip(i + 1)
            continue
        if i < n and text[i] == "]":
            if skip(i + 1) != n:
                raise InputError(path, "unexpected data after the JSON array", line_of(skip(i + 1)))
            return records, lines
        raise InputError(path, "broken JSON: expected ',' or ']' between array elements", line_of(min(i, n - 1)))


def _read_csv(path: Path, text: str) -> tuple[list[Any], list[int]]:
    dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InputError(path, f"cannot read CSV header: {exc}", 1) from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header) or not all(header):
        raise InputError(path, "CSV header has empty or repeated column names", 1)
    records, lines = [], []
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(path, f"broken CSV: {exc}", reader.line_num) from None
        if row and any(cell.strip() for cell in row):
            if len(row) > len(header):
                raise InputError(path, f"row has {len(row)} cells but the header has {len(header)}", start)
            rec = dict(zip(header, row))
            for key, value in rec.items():
                # Chat data in CSV keeps its messages as a JSON cell.
                if value.lstrip().startswith("[{"):
                    try:
                        rec[key] = json.loads(value)
                    except json.JSONDecodeError:
                        pass
            records.append(rec)
            lines.append(start)
        start = reader.line_num + 1
    return records, lines


def _read_parquet(path: Path) -> tuple[list[Any], list[int]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(path, f"unreadable Parquet: {reason}") from None
    records = table.to_pylist()
    return records, list(range(1, len(records) + 1))
