"""The audit's findings as a table with one row per flagged example (split, line, check, kind, score,
message): what a data team fixes in pandas or a spreadsheet (cleanlab's `get_issues()` habit). A
finding over several rows (a duplicate pair, a conflict) gives one row per member, each naming the
others it goes with."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from harness.core.errors import UsageError
from harness.core.io import write_bytes_atomic, write_text_atomic

COLUMNS = ("split", "line", "check", "status", "kind", "score", "message", "with_rows")
FORMATS = (".csv", ".parquet", ".jsonl")


def issue_rows(audit: dict[str, Any]) -> list[dict[str, Any]]:
    """Every flagged example of every check that warned or failed, in check then file order."""
    out = []
    for c in audit["checks"]:
        if c["status"] not in ("warn", "fail"):
            continue
        for f in c.get("findings") or []:
            rows = f.get("rows") or []
            score = f.get("score", f.get("similarity"))
            for r in rows:
                others = [f"{o['split']}:{o['line']}" for o in rows if o is not r][:10]
                out.append({"split": r["split"], "line": r["line"], "check": c["check"], "status": c["status"],
                            "kind": f.get("kind") or "", "score": None if score is None else float(score),
                            "message": f.get("message", ""), "with_rows": " ".join(others)})
    return out


def get_issues(audit: dict[str, Any]):
    """The issue rows as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(issue_rows(audit), columns=list(COLUMNS))


def issues_format(path: str | Path) -> str:
    """The table's format from its suffix; checked by the command before the audit runs, not after it."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"--issues {path}: give a .csv, .parquet or .jsonl file name")
    return suffix


# A spreadsheet runs a cell that starts with one of these as a formula (`=HYPERLINK(...)` in a label or a
# message quoting the data): OWASP's CSV-injection advice is a leading single quote, which shows the text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: strings starting like a formula get a leading `'`. Numbers
    (line, a negative score) stay numbers; JSONL and Parquet keep the data as it is."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def write_issues(audit: dict[str, Any], path: str | Path) -> Path:
    """The issue table at `path` (.csv, .parquet or .jsonl, by its suffix), written atomically."""
    path = Path(path)
    suffix = issues_format(path)
    rows = issue_rows(audit)
    if suffix == ".jsonl":
        return write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    if suffix == ".csv":
        buf = io.StringIO(newline="")
        writer = csv.DictWriter(buf, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in r.items()} for r in rows)
        return write_text_atomic(path, buf.getvalue())
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows, schema=pa.schema([("split", pa.string()), ("line", pa.int64()),
                                                         ("check", pa.string()), ("status", pa.string()),
                                                         ("kind", pa.string()), ("score", pa.float64()),
                                                         ("message", pa.string()), ("with_rows", pa.string())]))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return write_bytes_atomic(path, sink.getvalue().to_pybytes())
