"""Parsing JSONL, JSON arrays, CSV and Parquet (the text formats also gzip- or zstd-compressed), and
Hugging Face datasets (a `save_to_disk` directory, or a dataset in the local cache by name:
`hf:NAME[#CONFIG][:SPLIT]`) into records that remember their 1-based line in the file (a dataset's row
index + 1). Which parser reads a file is the format registry's business (harness/inputs/readers.py).

Every finding points back at a file line, so the parsers keep line numbers themselves instead of
handing the file to pandas, which forgets them. Files are only ever opened for reading.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Any

from harness.core.errors import InputError

HF_PREFIX = "hf:"


COMPRESSED = (".gz", ".zst")
COMPRESSED_PARQUET = ("a compressed Parquet file is not read: Parquet compresses internally (by column); "
                       "decompress it (gunzip / zstd -d) and give the .parquet file")


# Expanded size a compressed input may reach: a 264 KB .zst can expand to 8 GiB (a decompression bomb);
# past this the file is refused before memory runs out. The audit policy's input.max_expanded_bytes
# (harness/auditing/default_policy.yaml, the same 2 GiB by default) sets it; this is the default for callers
# without a policy (train, compare). Parquet and uncompressed JSONL are not expanded in memory first.
MAX_EXPANDED_BYTES = 2 << 30
POLICY_KEY = "input.max_expanded_bytes"
_CHUNK = 1 << 20


def check_compressed(path: Path) -> None:
    """Read a .gz or .zst file through without keeping it: a cut-off or corrupt stream is an InputError
    with the in-process reader's reason (the Spark engine checks a local file before Spark reads it)."""
    kind = path.suffix.lower()
    if kind in COMPRESSED:
        decompress(path, kind, limit=-1, keep=False)


def decompress(path: Path, kind: str, limit: int | None = None, keep: bool = True) -> bytearray:
    """A compressed file's bytes (line numbers are those of the decompressed text), read in chunks so a
    bomb is stopped at `limit` (-1: no limit) and a cut-off stream is an error, never a silently shorter
    file. keep=False only checks the stream (nothing is held; an empty buffer is returned)."""
    limit = MAX_EXPANDED_BYTES if limit is None else limit
    out = bytearray()
    size = 0

    def grow(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if keep:
            out.extend(data)
        if 0 <= limit < size:
            raise InputError(path, f"expands past the limit of {limit:,} bytes when decompressed (a possible "
                                   f"decompression bomb); to read it, raise {POLICY_KEY} in the audit policy "
                                   f"(--policy), or give the set as Parquet or uncompressed JSONL")
    try:
        if kind == ".gz":
            import gzip

            with gzip.open(path, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    grow(chunk)
            return out   # not bytes(out): a copy would hold the text twice
        import zstandard

        dctx = zstandard.ZstdDecompressor()
        obj, fed = dctx.decompressobj(), False
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                while chunk:
                    fed = True
                    grow(obj.decompress(chunk))
                    chunk = b""
                    if obj.eof:   # one frame done; a file may hold several
                        chunk, obj, fed = obj.unused_data, dctx.decompressobj(), False
        if fed and not obj.eof:
            raise InputError(path, "truncated: the compressed stream ends before its end marker "
                                   f"({size:,} bytes read); the file was cut off")
        return out
    except ImportError:
        raise InputError(path, "reading .zst needs the zstandard package (pip install zstandard)") from None
    except InputError:
        raise
    except EOFError:
        raise InputError(path, "truncated: the compressed stream ends before its end marker; the file was "
                               "cut off") from None
    except Exception as exc:  # gzip.BadGzipFile (OSError), zstandard.ZstdError
        raise InputError(path, f"cannot decompress: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", line) from None


def physical_lines(text: str) -> list[str]:
    """Lines split at \n only (a trailing \r dropped). str.splitlines also splits at U+2028, U+2029,
    U+0085 and form feeds, which are valid unescaped inside a JSON string."""
    return list(_lines(text))


def parse_json(path: Path, raw: str, line: int | None, what: str = "broken JSON line") -> Any:
    """json.loads with every way a hostile value can fail turned into a one-line InputError."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"{what}: {exc.msg} at column {exc.colno}", line) from None
    except RecursionError:
        raise InputError(path, f"{what}: nested too deep", line) from None
    except ValueError as exc:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise InputError(path, f"{what}: {str(exc).split(';')[0]}", line) from None
    if raw.count("[") + raw.count("{") > MAX_DEPTH and nesting(value) > MAX_DEPTH:
        raise InputError(path, f"{what}: nested more than {MAX_DEPTH} levels deep", line)
    if "arguments" in raw and _deep_arguments(value):
        raise InputError(path, f"a tool call's arguments are nested more than {MAX_DEPTH} levels deep", line)
    if "\\u" in raw and _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(path, "invalid Unicode: an unpaired surrogate escape (\\ud800-\\udfff)", line) from None
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

# Deeper values are refused where they are read: every later stage (rendering, training) walks them
# recursively, and 500 levels of tool-call arguments passed the audit and ended `train` in RecursionError.
MAX_DEPTH = 100


def nesting(value: Any) -> int:
    """How deep lists and objects nest in a parsed JSON value (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (list, dict)):
            deepest = max(deepest, d + 1)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


def _text_nesting(text: str) -> int:
    """Bracket depth of JSON written as a string (a tool call's `arguments`), outside string literals."""
    depth = deepest = 0
    quoted = escaped = False
    for ch in text:
        if quoted:
            escaped, quoted = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            quoted = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _deep_arguments(value: Any) -> bool:
    """Whether any `arguments` string (JSON inside JSON, as OpenAI writes tool calls) nests too deep."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            args = v.get("arguments")
            if isinstance(args, str) and args.count("[") + args.count("{") > MAX_DEPTH and _text_nesting(args) > MAX_DEPTH:
                return True
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _lines(text: str):
    """physical_lines one at a time: 130 KB of gzip holds 130 MB of blank lines, 2.8 GB as a list."""
    start, n = 0, len(text)
    while start < n:
        end = text.find("\n", start)
        end = n if end < 0 else end
        yield text[start:end - 1] if end > start and text[end - 1] == "\r" else text[start:end]
        start = end + 1


def read_jsonl(path: Path, text: str) -> tuple[list[Any], list[int]]:
    records, lines = [], []
    for number, raw in enumerate(_lines(text), start=1):
        if not raw.strip():
            continue
        records.append(parse_json(path, raw, number))
        lines.append(number)
    return records, lines


def read_json_array(path: Path, text: str) -> tuple[list[Any], list[int]]:
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
        except RecursionError:
            raise InputError(path, "broken JSON: nested too deep", line_of(i)) from None
        except ValueError as exc:
            raise InputError(path, f"broken JSON: {str(exc).split(';')[0]}", line_of(i)) from None
        if _SURROGATE_ESCAPE.search(text, i, end):
            parse_json(path, text[i:end], line_of(i))
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


class _Tsv(csv.excel_tab):
    """TSV as spreadsheets and pandas write it for text: no quoting, so a quote that starts a text is a
    character, not the start of a cell that swallows the following rows."""
    quoting = csv.QUOTE_NONE
    quotechar = None


def read_csv(path: Path, text: str, tsv: bool = False) -> tuple[list[Any], list[int]]:
    dialect = _Tsv if tsv else csv.excel
    # The csv module refuses cells over 128 KiB by default; JSONL takes a 50 MB line, so CSV does too.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))
    reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=dialect is csv.excel)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InputError(path, f"cannot read CSV header: {exc}", 1) from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header) or not all(header):
        raise InputError(path, "CSV header has empty or repeated column names", 1)
    records, lines = [], []
    start = reader.line_num + 1
    physical_count = len(physical_lines(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if reader.line_num >= physical_count:   # read to the end: a quote opened at `start` never closed
                raise InputError(path, "broken CSV: a quoted cell starts on this line and never closes "
                                       "(a text beginning with a quote must be quoted and its quotes doubled)",
                                 start) from None
            raise InputError(path, f"broken CSV: {exc}", reader.line_num) from None
        if row and any(cell.strip() for cell in row):
            if len(row) > len(header):
                raise InputError(path, f"row has {len(row)} cells but the header has {len(header)}", start)
            rec = dict(zip(header, row))
            for key, value in rec.items():
                # Chat data in CSV keeps its messages as a JSON cell.
                if value.lstrip().startswith("[{"):
                    try:
                        parsed = json.loads(value)
                    except (ValueError, RecursionError):
                        continue
                    # Only a list of {role, content} turns is a chat cell; any other JSON-looking text stays text.
                    if isinstance(parsed, list) and parsed and all(isinstance(m, dict) and "role" in m and "content" in m
                                                                    for m in parsed):
                        rec[key] = parsed
            records.append(rec)
            lines.append(start)
        start = reader.line_num + 1
    return records, lines


def read_parquet(path: Path) -> tuple[list[Any], list[int]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(path, f"unreadable Parquet: {reason}") from None
    records = table.to_pylist()
    return records, list(range(1, len(records) + 1))


def hf_records(dataset: Any) -> list[dict[str, Any]]:
    """A `datasets.Dataset`'s rows as dicts, `ClassLabel` columns as their names (not 0/1), so labels
    read the way the data card shows them. ClassLabel's -1 is "no label" (test splits): a missing label
    (None, a schema error), never a class named "-1"."""
    rows = dataset.to_list()
    features = getattr(dataset, "features", None) or {}
    named = {col: f.names for col, f in features.items() if type(f).__name__ == "ClassLabel"}
    if named:
        for row in rows:
            for col, names in named.items():
                v = row.get(col)
                if isinstance(v, int) and 0 <= v < len(names):
                    row[col] = names[v]
                elif isinstance(v, int) and v == -1:
                    row[col] = None
    return rows


def read_hf_disk(path: Path) -> tuple[list[Any], list[int]]:
    """A `Dataset.save_to_disk` directory (a DatasetDict's directory: name the split's subdirectory)."""
    import datasets

    if (path / "dataset_dict.json").is_file():
        splits = sorted(p.name for p in path.iterdir() if p.is_dir())
        raise InputError(path, f"is a saved DatasetDict; give one split's directory ({', '.join(splits)}), "
                               f"e.g. {path / (splits[0] if splits else 'train')}")
    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as exc:  # datasets raises FileNotFoundError, ValueError and its own errors here
        raise InputError(path, f"unreadable Hugging Face dataset: {str(exc).splitlines()[0]}") from None
    rows = hf_records(ds)
    if not rows:
        raise InputError(path, "the dataset holds no rows")
    return rows, list(range(1, len(rows) + 1))


def read_hf_cache(spec: str) -> tuple[list[Any], list[int]]:
    """`NAME[#CONFIG][:SPLIT]` from the local Hugging Face datasets cache, offline (split: train)."""
    name, _, split = spec.partition(":")
    name, _, config = name.partition("#")
    split = split or "train"
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _check_hub_name(name, spec)
    import datasets

    datasets.config.HF_HUB_OFFLINE = True  # never reach for the hub, even when imported before the above
    try:
        ds = datasets.load_dataset(name, config or None, split=split)
    except Exception as exc:  # a missing dataset raises ConnectionError, FileNotFoundError or DatasetNotFoundError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(HF_PREFIX + spec, f"not in the local Hugging Face datasets cache (offline; "
                                           f"{datasets.config.HF_DATASETS_CACHE}): {first[:200]}") from None
    rows = hf_records(ds)
    return rows, list(range(1, len(rows) + 1))


def _check_hub_name(name: str, spec: str) -> None:
    """`hf:` names a dataset in the cache (NAME or OWNER/NAME, the hub's rules), never a path:
    `hf:../../DIR` and `hf:/abs/dir` loaded any directory, and `hf:json` (a builder) every JSON file in
    the working directory. Local data is given as a plain path, so a name that is also a local path
    (which load_dataset would read first) is refused rather than guessed at."""
    from datasets.packaged_modules import _PACKAGED_DATASETS_MODULES
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
        ok = name not in _PACKAGED_DATASETS_MODULES and "\\" not in name
    except HFValidationError:
        ok = False
    if not ok:
        raise InputError(HF_PREFIX + spec, "`hf:` names a dataset in the local Hugging Face cache "
                                           "(hf:NAME or hf:OWNER/NAME, then #CONFIG and :SPLIT); give a local "
                                           "file or directory as a plain path, without hf:")
    if os.path.lexists(name):   # datasets.load_dataset reads a local path of that name before the cache
        raise InputError(HF_PREFIX + spec, f"a local path named {name} exists in the working directory, and "
                                           "it would be read instead of the cached dataset: run from another "
                                           "directory, or give the local data as a plain path, without hf:")
